//! The agent's HTTPS client of the portal's `POST /presence`: hyper's HTTP/1.1 client connection over
//! tokio-rustls, under hcpki's TLS policy (`hcpki_tls_policy`: TLS 1.2/1.3, ECDHE P-256/P-384, AES-GCM only),
//! the server certificate verified against the CA certificates of `portal_ca_file` only (WebPKI path
//! validation and the origin's host name); no client certificate (the portal listener requests one from
//! facility PCs but does not require it). Every report is bounded by [`TIMEOUT`].

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hcpki_agent_protocol::presence::{self, Event, MAX_LEASE_SECS, MIN_LEASE_SECS};
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

use super::registry::{Outcome, Token};

/// Connect, handshake, request and answer together, at most.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// The portal's answers are a few dozen bytes; anything longer is not one.
const ANSWER_LIMIT: usize = 4096;

/// Why presence reporting cannot be set up; each says what to fix in `agent.toml`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The file cannot be read.
    #[error("portal_ca_file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    /// The file holds something else than PEM certificates.
    #[error("portal_ca_file {path} is not PEM certificates ({reason}): give the portal's CA certificate in PEM")]
    NotPem { path: String, reason: String },
    /// The file holds no certificate rustls accepts as a trust anchor.
    #[error("portal_ca_file {path} holds no usable CA certificate ({reason}): give the portal's CA certificate")]
    NoAnchor { path: String, reason: String },
    /// The TLS configuration could not be built.
    #[error("TLS configuration for presence reports: {0}")]
    Tls(#[from] rustls::Error),
}

/// Sends presence reports to portals.
#[derive(Clone, Debug)]
pub struct PortalClient {
    tls: Arc<rustls::ClientConfig>,
}

impl PortalClient {
    /// A client trusting the PEM CA certificates in `path` (the portal's CA; nothing else).
    pub fn from_ca_file(path: &Path) -> Result<Self, ClientError> {
        let shown = path.display().to_string();
        let pem = std::fs::read(path).map_err(|source| ClientError::Read { path: shown.clone(), source })?;
        let mut roots = RootCertStore::empty();
        let mut last = "no CERTIFICATE block".to_owned();
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| ClientError::NotPem { path: shown.clone(), reason: e.to_string() })?;
            if let Err(e) = roots.add(cert) {
                last = e.to_string();
            }
        }
        if roots.is_empty() {
            return Err(ClientError::NoAnchor { path: shown, reason: last });
        }
        Ok(PortalClient { tls: Arc::new(hcpki_tls_policy::client_config(roots)?) })
    }

    /// Report `event` for `card_id` with `token` to `origin` (`https://host[:port]`, checked at registration)
    /// at the fixed path, and classify the answer.
    pub async fn report(&self, origin: &str, token: &Token, card_id: &str, event: Event) -> Outcome {
        let body = presence::form(token.expose(), card_id, event);
        match tokio::time::timeout(TIMEOUT, self.post(origin, body)).await {
            Err(_) => Outcome::Transient(format!("no answer within {} s", TIMEOUT.as_secs())),
            Ok(Err(e)) => Outcome::Transient(e),
            Ok(Ok((status, answer))) => classify(status, &answer, event),
        }
    }

    async fn post(&self, origin: &str, body: String) -> Result<(u16, Vec<u8>), String> {
        if !origin.starts_with("https://") {
            return Err("presence is reported over https only".into());
        }
        let url = format!("{origin}{}", presence::PATH);
        crate::http_post::post(&url, "application/x-www-form-urlencoded", body.into_bytes(), &self.tls, ANSWER_LIMIT)
            .await
    }
}

/// The portal's answer as an [`Outcome`] (the contract in `hcpki_agent_protocol::presence`).
pub fn classify(status: u16, answer: &[u8], sent: Event) -> Outcome {
    match (status, sent) {
        (200..=299, Event::Removed) => Outcome::Ended,
        (200..=299, Event::Present) => match lease(answer) {
            Some(lease) => Outcome::Renewed { lease },
            None => Outcome::Transient(format!("HTTP {status} without {}", presence::LEASE_FIELD)),
        },
        (404, _) => Outcome::Gone,
        (400, _) => Outcome::Refused(String::from_utf8_lossy(answer).chars().take(200).collect()),
        (other, _) => Outcome::Transient(format!("HTTP {other}")),
    }
}

/// The lease of a `present` answer, within the bounds a portal grants.
fn lease(answer: &[u8]) -> Option<Duration> {
    let value: serde_json::Value = serde_json::from_slice(answer).ok()?;
    let secs = value.get(presence::LEASE_FIELD)?.as_u64()?;
    Some(Duration::from_secs(secs.clamp(MIN_LEASE_SECS, MAX_LEASE_SECS)))
}
