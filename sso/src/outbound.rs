//! The core's outbound HTTP, behind traits: the CRL cache (`login::crl_cache`) fetches the operator's
//! `http://` CRL sources through [`HttpGet`], and the OIDC core POSTs logout tokens and break-glass reports
//! through [`HttpPost`]; the server implements both with hyper's client (and its TLS policy). The core decides
//! what to send or fetch, when, and how much to accept; the implementation only speaks HTTP/1.1.

use hcpki_ca::audit::Outcome;
use std::time::Duration;

/// A plain HTTP GET client.
#[async_trait::async_trait]
pub trait HttpGet: Send + Sync + std::fmt::Debug {
    /// The body of `url`'s `200 OK` answer, at most `max_bytes` long, connecting, sending and reading each within
    /// `timeout`; no redirects. Otherwise what failed.
    async fn get(&self, url: &str, max_bytes: usize, timeout: Duration) -> Result<Vec<u8>, GetError>;
}

/// An HTTP POST client for notifications (back-channel logout tokens, the break-glass webhook), with its TLS
/// roots chosen by whoever made it.
#[async_trait::async_trait]
pub trait HttpPost: Send + Sync + std::fmt::Debug {
    /// POST `body` to `uri` (`https://`, or `http://`) until a 2xx answer or the attempts run out: the outcome and
    /// what the last attempt got (`HTTP 200`, a status, the error), for the delivery's audit entry.
    async fn deliver(&self, uri: &str, content_type: &str, user_agent: &str, body: Vec<u8>) -> (Outcome, String);
}

/// Why a GET gave no body. The caller names the source and retries.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GetError {
    /// The URL is not one the client fetches (not `http://`, no host): fix the configured source.
    #[error("{0}")]
    Url(String),
    /// A step took longer than the timeout: check the network path to the host.
    #[error("{0} timed out")]
    Timeout(&'static str),
    /// The server answered with another status than `200 OK`: check the URL on the server.
    #[error("HTTP status {0}")]
    Status(String),
    /// The connection or the exchange failed (refused, reset, a body larger than allowed).
    #[error("{0}")]
    Transport(String),
}
