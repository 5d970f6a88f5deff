//! Back-channel logout (OpenID Connect Back-Channel Logout 1.0): when a session ends, its grants are
//! revoked and every client with a registered `backchannel_logout_uri` gets a logout token, POSTed with
//! retries in the background; each delivery is audited. https endpoints are verified like any TLS server
//! (WebPKI roots plus `[oidc] backchannel_ca_file`, host name checked) under the server's TLS policy.

use super::{GrantData, Provider, random_token};
use anyhow::{Context, Result};
use hcpki_ca::audit::{AuditEvent, Outcome};
use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Attempts per client, with a doubling pause from [`FIRST_PAUSE`].
const ATTEMPTS: u32 = 4;
const FIRST_PAUSE: Duration = Duration::from_millis(500);
/// Per attempt.
const TIMEOUT: Duration = Duration::from_secs(5);
/// Logout tokens live this long (seconds); the retired signing key stays published at least as long.
pub const LOGOUT_TOKEN_SECS: i64 = 120;

/// Revoke the session's grants and notify their clients (in the background).
pub async fn session_ended(provider: &Provider, session_hash: &str) {
    let grants = match provider.store.oidc_revoke_session_grants(session_hash).await {
        Ok(g) => g,
        Err(e) => {
            tracing::error!(error = %e, "cannot revoke the ended session's grants");
            return;
        }
    };
    notify(provider, grants).await;
}

/// Send a logout token to every client with a registered `backchannel_logout_uri` among `grants`' clients
/// (grants of one ended session, already revoked).
pub async fn notify(provider: &Provider, grants: Vec<hcpki_ca::store::GrantRecord>) {
    // One logout token per client: (client, sub, sid) are the same for all its grants in this session.
    let mut per_client = BTreeMap::new();
    for g in grants {
        per_client.entry(g.client_id.clone()).or_insert(g);
    }
    for (client_id, grant) in per_client {
        let Ok(Some(c)) = provider.clients.load(&client_id).await else { continue };
        let Some(uri) = c.config.backchannel_logout_uri.clone() else { continue };
        let Ok(data) = GrantData::of(&grant) else { continue };
        let now = hcpki_ca::time::now_unix();
        let claims = json!({
            "iss": provider.issuer,
            "aud": client_id,
            "iat": now,
            "exp": now + LOGOUT_TOKEN_SECS,
            "jti": random_token(16).unwrap_or_default(),
            "sub": data.sub,
            "sid": data.sid,
            "events": { "http://schemas.openid.net/event/backchannel-logout": {} },
        });
        let token = match provider.sign(c.config.id_token_signed_response_alg, "logout+jwt", &claims) {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(error = %e.description, "cannot sign a logout token");
                continue;
            }
        };
        let store = provider.store.clone();
        let tls = provider.logout_tls.clone();
        tokio::spawn(async move {
            let (outcome, detail) = deliver(&uri, &token, &tls).await;
            let event = AuditEvent {
                actor: "system".into(),
                action: "oidc.backchannel_logout".into(),
                target: client_id,
                outcome,
                detail: json!({ "uri": uri, "result": detail }),
            };
            if let Err(e) = store.append_audit(&event).await {
                tracing::error!(error = %e, "cannot audit a back-channel logout");
            }
        });
    }
}

/// The TLS client of https logout endpoints: the server's TLS policy, the public WebPKI roots and the PEM
/// certificates of `[oidc] backchannel_ca_file` (the facility network's own CAs).
pub fn tls_client(ca_file: Option<&Path>) -> Result<Arc<rustls::ClientConfig>> {
    let mut roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    if let Some(path) = ca_file {
        let certs = CertificateDer::pem_file_iter(path)
            .with_context(|| format!("cannot read [oidc] backchannel_ca_file {}", path.display()))?;
        for cert in certs {
            let cert = cert.with_context(|| format!("{} is not PEM certificates", path.display()))?;
            roots.add(cert).with_context(|| format!("a certificate in {} is not a usable CA", path.display()))?;
        }
    }
    Ok(Arc::new(crate::http::tls::client_config(roots)?))
}

/// POST `logout_token=…` until a 2xx answer or the attempts run out.
async fn deliver(uri: &str, token: &str, tls: &Arc<rustls::ClientConfig>) -> (Outcome, String) {
    let mut pause = FIRST_PAUSE;
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        match tokio::time::timeout(TIMEOUT, post_form(uri, format!("logout_token={token}"), tls)).await {
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

/// One HTTP/1.1 POST (hyper's client connection) over TCP, or over TLS for https:// with the server
/// certificate verified against `tls`'s roots and the URI's host.
async fn post_form(uri: &str, body: String, tls: &Arc<rustls::ClientConfig>) -> Result<u16, String> {
    let parsed: hyper::Uri = uri.parse().map_err(|e: hyper::http::uri::InvalidUri| e.to_string())?;
    let https = match parsed.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err("the back-channel logout URI must be https:// or http://".into()),
    };
    let host = parsed.host().ok_or("the back-channel logout URI has no host")?;
    let bare_host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
    let port = parsed.port_u16().unwrap_or(if https { 443 } else { 80 });
    let authority = parsed.authority().map_or(host, |a| a.as_str()).to_owned();
    let request = hyper::Request::post(parsed.path_and_query().map_or("/", |p| p.as_str()))
        .header(hyper::header::HOST, authority)
        .header(hyper::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(hyper::header::USER_AGENT, "hcpki-backchannel-logout")
        .body(http_body_util::Full::new(hyper::body::Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let stream = tokio::net::TcpStream::connect((bare_host.as_str(), port)).await.map_err(|e| e.to_string())?;
    if https {
        let name = ServerName::try_from(bare_host).map_err(|e| e.to_string())?;
        let stream = tokio_rustls::TlsConnector::from(tls.clone())
            .connect(name, stream)
            .await
            .map_err(|e| format!("TLS: {e}"))?;
        send(stream, request).await
    } else {
        send(stream, request).await
    }
}

async fn send<S>(stream: S, request: hyper::Request<http_body_util::Full<hyper::body::Bytes>>) -> Result<u16, String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
    // The connection future drives the socket; it ends when the response is in (and the sender dropped).
    let driver = tokio::spawn(connection);
    let status = sender.send_request(request).await.map_err(|e| e.to_string())?.status().as_u16();
    drop(sender);
    driver.abort();
    Ok(status)
}
