//! The server's outbound HTTP for the SSO core ([`hcpki_sso::outbound::HttpGet`]): the CRL cache's fetches of
//! `http://` sources (D23), over hyper's HTTP/1.1 client connection on tokio. The core keeps the rules (which
//! sources, how often, how large, how long); this only speaks HTTP.

pub mod post;
pub mod ssf_push;

use hcpki_sso::outbound::{GetError, HttpGet};
use std::time::Duration;

/// hyper's client, one connection per GET.
#[derive(Debug, Default)]
pub struct Hyper;

#[async_trait::async_trait]
impl HttpGet for Hyper {
    async fn get(&self, url: &str, max_bytes: usize, timeout: Duration) -> Result<Vec<u8>, GetError> {
        let uri: hyper::Uri = url.parse().map_err(|e: hyper::http::uri::InvalidUri| GetError::Url(e.to_string()))?;
        if uri.scheme_str() != Some("http") {
            return Err(GetError::Url("only http:// and file: CRL sources are supported".into()));
        }
        let host = uri.host().ok_or_else(|| GetError::Url("no host".into()))?.to_owned();
        let port = uri.port_u16().unwrap_or(80);
        let authority = uri.authority().map(|a| a.to_string()).unwrap_or_else(|| host.clone());
        let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
        let transport = |e: &dyn std::fmt::Display| GetError::Transport(e.to_string());
        let stream = tokio::time::timeout(timeout, tokio::net::TcpStream::connect((host.as_str(), port)))
            .await
            .map_err(|_| GetError::Timeout("connecting"))?
            .map_err(|e| transport(&e))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| transport(&e))?;
        let driver = tokio::spawn(connection);
        let request = hyper::Request::get(path)
            .header(hyper::header::HOST, authority)
            .header(hyper::header::USER_AGENT, "hcpki-crl-cache")
            .body(http_body_util::Empty::<hyper::body::Bytes>::new())
            .map_err(|e| transport(&e))?;
        let response = tokio::time::timeout(timeout, sender.send_request(request))
            .await
            .map_err(|_| GetError::Timeout("the request"))?
            .map_err(|e| transport(&e))?;
        if response.status() != hyper::StatusCode::OK {
            driver.abort();
            return Err(GetError::Status(response.status().to_string()));
        }
        let limited = http_body_util::Limited::new(response.into_body(), max_bytes);
        let body = tokio::time::timeout(timeout, http_body_util::BodyExt::collect(limited))
            .await
            .map_err(|_| GetError::Timeout("reading the body"))?
            .map_err(|e| transport(&e))?
            .to_bytes();
        driver.abort();
        Ok(body.to_vec())
    }
}
