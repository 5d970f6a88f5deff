//! Outbound HTTP POSTs to endpoints other systems run (back-channel logout, the expiry webhook, time-stamping
//! authorities): one HTTP/1.1 request per connection (hyper's client connection), https verified under the
//! server's TLS policy against the public WebPKI roots plus an operator-given CA file, the URI's host checked.
//! Deliveries are retried with a doubling pause and their outcomes returned for the caller to audit;
//! [`exchange`] is one POST whose answer body the caller reads (RFC 3161).

use anyhow::{Context, Result};
use hcpki_ca::audit::Outcome;
use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Attempts per delivery, with a doubling pause from [`FIRST_PAUSE`].
const ATTEMPTS: u32 = 4;
const FIRST_PAUSE: Duration = Duration::from_millis(500);
/// Per attempt.
const TIMEOUT: Duration = Duration::from_secs(5);

/// A TLS client: the server's TLS policy, the public WebPKI roots and the PEM certificates of `ca_file`
/// (named `setting` in errors).
pub fn tls_client(ca_file: Option<&Path>, setting: &str) -> Result<Arc<rustls::ClientConfig>> {
    let mut roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    if let Some(path) = ca_file {
        let certs =
            CertificateDer::pem_file_iter(path).with_context(|| format!("cannot read {setting} {}", path.display()))?;
        for cert in certs {
            let cert = cert.with_context(|| format!("{} is not PEM certificates", path.display()))?;
            roots.add(cert).with_context(|| format!("a certificate in {} is not a usable CA", path.display()))?;
        }
    }
    // The server's TLS policy (TLS 1.2 and 1.3, ECDHE with AES-GCM), WebPKI path validation and host name checks.
    Ok(Arc::new(hcpki_tls_policy::client_config(roots).context("the TLS client configuration")?))
}

/// [`deliver`] with one TLS client, as the SSO core's POST client ([`hcpki_sso::outbound::HttpPost`]): back-channel
/// logout and the break-glass webhook.
#[derive(Debug)]
pub struct Poster {
    tls: Arc<rustls::ClientConfig>,
}

impl Poster {
    /// POSTs verified against `tls`'s roots (see [`tls_client`]).
    pub fn new(tls: Arc<rustls::ClientConfig>) -> Self {
        Self { tls }
    }
}

#[async_trait::async_trait]
impl hcpki_sso::outbound::HttpPost for Poster {
    async fn deliver(&self, uri: &str, content_type: &str, user_agent: &str, body: Vec<u8>) -> (Outcome, String) {
        deliver(uri, content_type, user_agent, body, &self.tls).await
    }
}

/// POST `body` until a 2xx answer or the attempts run out: the outcome and what the last attempt got.
pub async fn deliver(
    uri: &str,
    content_type: &str,
    user_agent: &str,
    body: Vec<u8>,
    tls: &Arc<rustls::ClientConfig>,
) -> (Outcome, String) {
    let mut pause = FIRST_PAUSE;
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        match tokio::time::timeout(TIMEOUT, post(uri, content_type, user_agent, body.clone(), tls)).await {
            Ok(Ok(status)) if (200..300).contains(&status) => return (Outcome::Ok, format!("HTTP {status}")),
            Ok(Ok(status)) => last = format!("HTTP {status}"),
            Ok(Err(e)) => last = e,
            Err(_) => last = "timed out".into(),
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(pause).await;
            pause *= 2;
        }
    }
    (Outcome::Failed, last)
}

/// One POST over TCP, or over TLS for https:// with the server certificate verified against `tls`'s roots
/// and the URI's host; the status.
async fn post(
    uri: &str,
    content_type: &str,
    user_agent: &str,
    body: Vec<u8>,
    tls: &Arc<rustls::ClientConfig>,
) -> Result<u16, String> {
    Ok(exchange(uri, content_type, user_agent, body, tls, 0).await?.0)
}

/// One POST as [`post`], no retry and no timeout of its own (the caller bounds it): the status and up to
/// `limit` octets of the answer's body (none read when `limit` is 0; a longer body is an error).
pub async fn exchange(
    uri: &str,
    content_type: &str,
    user_agent: &str,
    body: Vec<u8>,
    tls: &Arc<rustls::ClientConfig>,
    limit: usize,
) -> Result<(u16, Vec<u8>), String> {
    exchange_authorized(uri, content_type, user_agent, None, body, tls, limit).await
}

/// [`exchange`] with an `Authorization` header when `authorization` is given (a Shared Signals receiver's
/// push endpoint may ask for one, D162).
pub async fn exchange_authorized(
    uri: &str,
    content_type: &str,
    user_agent: &str,
    authorization: Option<&str>,
    body: Vec<u8>,
    tls: &Arc<rustls::ClientConfig>,
    limit: usize,
) -> Result<(u16, Vec<u8>), String> {
    let parsed: hyper::Uri = uri.parse().map_err(|e: hyper::http::uri::InvalidUri| e.to_string())?;
    let https = match parsed.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err("the URI must be https:// or http://".into()),
    };
    let host = parsed.host().ok_or("the URI has no host")?;
    let bare_host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
    let port = parsed.port_u16().unwrap_or(if https { 443 } else { 80 });
    let authority = parsed.authority().map_or(host, |a| a.as_str()).to_owned();
    let mut request = hyper::Request::post(parsed.path_and_query().map_or("/", |p| p.as_str()))
        .header(hyper::header::HOST, authority)
        .header(hyper::header::CONTENT_TYPE, content_type)
        .header(hyper::header::USER_AGENT, user_agent);
    if let Some(value) = authorization {
        request = request.header(hyper::header::AUTHORIZATION, value);
    }
    let request = request.body(http_body_util::Full::new(hyper::body::Bytes::from(body))).map_err(|e| e.to_string())?;
    let stream = tokio::net::TcpStream::connect((bare_host.as_str(), port)).await.map_err(|e| e.to_string())?;
    if https {
        let name = ServerName::try_from(bare_host).map_err(|e| e.to_string())?;
        let stream = tokio_rustls::TlsConnector::from(tls.clone())
            .connect(name, stream)
            .await
            .map_err(|e| format!("TLS: {e}"))?;
        send(stream, request, limit).await
    } else {
        send(stream, request, limit).await
    }
}

async fn send<S>(
    stream: S,
    request: hyper::Request<http_body_util::Full<hyper::body::Bytes>>,
    limit: usize,
) -> Result<(u16, Vec<u8>), String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
    // The connection future drives the socket; it ends when the response is in (and the sender dropped).
    let driver = tokio::spawn(connection);
    let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let body = if limit == 0 {
        Vec::new()
    } else {
        let limited = http_body_util::Limited::new(response.into_body(), limit);
        let collected = http_body_util::BodyExt::collect(limited).await;
        collected.map_err(|e| format!("reading the answer: {e}"))?.to_bytes().to_vec()
    };
    drop(sender);
    driver.abort();
    Ok((status, body))
}
