//! One HTTP/1.1 POST from the agent (hyper's client connection, over tokio-rustls for `https`): card presence
//! reports to the portal (`presence::client`) and time-stamp requests to TSAs (`document::time_stamps`). The
//! caller bounds the time; the answer body is bounded here.

use std::sync::Arc;

use http_body_util::BodyExt as _;
use rustls::pki_types::ServerName;

/// POST `body` to `url` (`http://` or `https://`, the server verified with `tls`), answering the status and at
/// most `limit` bytes of body (more is an error).
pub async fn post(
    url: &str,
    content_type: &str,
    body: Vec<u8>,
    tls: &Arc<rustls::ClientConfig>,
    limit: usize,
) -> Result<(u16, Vec<u8>), String> {
    let uri: hyper::Uri = url.parse().map_err(|e: hyper::http::uri::InvalidUri| e.to_string())?;
    let secure = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err(format!("{url} is not an http:// or https:// URL")),
    };
    let host = uri.host().ok_or("the URL has no host")?;
    let bare = host.trim_start_matches('[').trim_end_matches(']').to_owned();
    let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
    let authority = uri.authority().map_or(host, |a| a.as_str()).to_owned();
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let request = hyper::Request::post(path)
        .header(hyper::header::HOST, authority)
        .header(hyper::header::CONTENT_TYPE, content_type)
        .header(hyper::header::USER_AGENT, "hcpki-agent")
        .body(http_body_util::Full::new(hyper::body::Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let tcp = tokio::net::TcpStream::connect((bare.as_str(), port)).await.map_err(|e| e.to_string())?;
    if secure {
        let name = ServerName::try_from(bare.clone()).map_err(|e| e.to_string())?;
        let stream =
            tokio_rustls::TlsConnector::from(tls.clone()).connect(name, tcp).await.map_err(|e| format!("TLS: {e}"))?;
        exchange(hyper_util::rt::TokioIo::new(stream), request, limit).await
    } else {
        exchange(hyper_util::rt::TokioIo::new(tcp), request, limit).await
    }
}

async fn exchange<S>(
    io: S,
    request: hyper::Request<http_body_util::Full<hyper::body::Bytes>>,
    limit: usize,
) -> Result<(u16, Vec<u8>), String>
where
    S: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await.map_err(|e| e.to_string())?;
    // The connection future drives the socket until the answer is in.
    let driver = tokio::spawn(connection);
    let result = async {
        let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let answer = http_body_util::Limited::new(response.into_body(), limit)
            .collect()
            .await
            .map_err(|e| format!("the answer: {e}"))?
            .to_bytes();
        Ok((status, answer.to_vec()))
    }
    .await;
    driver.abort();
    result
}
