//! B-T for documents the agent signs: `[[signing.tsa]]` in `agent.toml`, the same list and rules as hcpki's own
//! (D70), asked in order through `hcpki_docsig::timestamp::client` over the agent's HTTP client. The first TSA whose
//! token passes every check wins; when none does, the error names each TSA's failure and nothing is written. The
//! local clock is never a time stamp.
//!
//! ```toml
//! [[signing.tsa]]
//! url = "http://tsa.example.jp/rfc3161"
//! roots = ["tsa-root.pem"]              # PEM or DER, relative to agent.toml's directory
//! policy = "1.2.392.200000.1.1"         # optional
//! ```
//!
//! `[signing] ca_certificates` (files of CA certificates a signature carries, `super::issuers`) is read here too.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use der::Decode as _;
use hcpki_docsig::timestamp::client::{self, Transport, TsaEndpoint, TsaTrust};
use hcpki_pkix::time::SystemClock;
use x509_cert::Certificate;

use super::{Format, SignedDocument};
use crate::service::AgentError;

/// A time-stamp answer is a few kilobytes; anything far larger is no answer.
const MAX_REPLY: usize = 64 * 1024;
/// Per TSA: connect, send, answer. The next TSA is tried after it.
const TIMEOUT: Duration = Duration::from_secs(10);

/// `[signing]` of `agent.toml`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SigningConfig {
    /// The TSAs, tried in this order.
    pub tsa: Vec<TsaEntry>,
    /// Files (PEM or DER) of the CA certificates signatures carry beside the card's own (`super::issuers`).
    pub ca_certificates: Vec<PathBuf>,
}

/// `[[signing.tsa]]`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TsaEntry {
    pub url: String,
    pub roots: Vec<PathBuf>,
    #[serde(default)]
    pub policy: Option<String>,
}

/// Why `[[signing.tsa]]` cannot be used; names the entry and what to change.
#[derive(Debug, thiserror::Error)]
#[error("[[signing.tsa]] entry {entry} ({url}): {reason}")]
pub struct TsaConfigError {
    entry: usize,
    url: String,
    reason: String,
}

impl SigningConfig {
    /// The TSAs as the client takes them, roots files read relative to `dir` (agent.toml's directory).
    pub fn endpoints(&self, dir: &Path) -> Result<Vec<TsaEndpoint>, TsaConfigError> {
        self.tsa
            .iter()
            .enumerate()
            .map(|(i, e)| e.endpoint(dir).map_err(|reason| TsaConfigError { entry: i + 1, url: e.url.clone(), reason }))
            .collect()
    }
}

impl SigningConfig {
    /// The certificates of `ca_certificates`, files read relative to `dir`.
    pub fn ca_certificates(&self, dir: &Path) -> Result<Vec<Vec<u8>>, CaFileError> {
        let mut out = Vec::new();
        for path in &self.ca_certificates {
            out.extend(read_certificates(&dir.join(path)).map_err(CaFileError)?);
        }
        Ok(out)
    }
}

/// Why `[signing] ca_certificates` cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("[signing] ca_certificates: {0}: give files of the CA certificates (PEM or DER)")]
pub struct CaFileError(String);

impl TsaEntry {
    fn endpoint(&self, dir: &Path) -> Result<TsaEndpoint, String> {
        let uri: hyper::Uri = self.url.parse().map_err(|_| format!("url {:?} is not a URL", self.url))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none_or(str::is_empty) {
            return Err("write the TSA's http:// or https:// URL".into());
        }
        let policy = match self.policy.as_deref() {
            Some(p) => Some(p.trim().parse().map_err(|_| format!("policy {p:?} is not an OID"))?),
            None => None,
        };
        if self.roots.is_empty() {
            return Err("roots is empty: give the file(s) of the certificates you trust for this TSA".into());
        }
        let mut certificates = Vec::new();
        for path in &self.roots {
            certificates.extend(read_certificates(&dir.join(path))?);
        }
        let trust = TsaTrust::new(&certificates).map_err(|e| e.to_string())?;
        Ok(TsaEndpoint { url: self.url.clone(), trust, policy })
    }
}

/// The certificates of a PEM file (one or more) or of a DER file (one).
fn read_certificates(path: &Path) -> Result<Vec<Vec<u8>>, String> {
    // One reader for TSA roots and CA certificates: the same file formats.
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let bad = || format!("{} holds no PEM or DER certificate", path.display());
    if bytes.starts_with(b"-----") {
        let certs = Certificate::load_pem_chain(&bytes).map_err(|_| bad())?;
        let ders: Result<Vec<_>, _> = certs.iter().map(der::Encode::to_der).collect();
        return ders.ok().filter(|d| !d.is_empty()).ok_or_else(bad);
    }
    Certificate::from_der(&bytes).map_err(|_| bad())?;
    Ok(vec![bytes])
}

/// The configured TSAs and the way to them.
#[derive(Debug)]
pub struct TimeStamps {
    endpoints: Vec<TsaEndpoint>,
    transport: Http,
}

impl TimeStamps {
    /// The TSAs, https ones verified against the public WebPKI roots.
    pub fn new(endpoints: Vec<TsaEndpoint>) -> Result<Self, AgentError> {
        let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        let tls = hcpki_tls_policy::client_config(roots)
            .map_err(|e| AgentError::Other(format!("TLS configuration for the TSAs: {e}")))?;
        Ok(TimeStamps { endpoints, transport: Http { tls: Arc::new(tls) } })
    }

    /// Adds a signature time stamp to `signed` (level B-B → B-T), or says why every TSA failed; on failure the
    /// caller writes nothing.
    pub async fn add_to(&self, format: Format, signed: &mut SignedDocument) -> Result<(), AgentError> {
        let digest = super::format::time_stamp_digest(format, &signed.output)?;
        let stamped = client::stamp(&self.endpoints, &digest, &self.transport, &SystemClock)
            .await
            .map_err(|e| AgentError::NoTimeStamp(e.to_string()))?;
        signed.output = super::format::with_time_stamp(format, &signed.output, &stamped.stamp.token)?;
        signed.level = super::Level::BaselineT;
        signed.time_stamped_at = Some(stamped.stamp.gen_time);
        tracing::info!(tsa = %stamped.url, gen_time = stamped.stamp.gen_time, "signature time stamp added");
        Ok(())
    }
}

/// RFC 3161 §3.4 over HTTP: POST `application/timestamp-query`, the body of an HTTP 200 back.
#[derive(Debug)]
struct Http {
    tls: Arc<rustls::ClientConfig>,
}

#[async_trait::async_trait]
impl Transport for Http {
    async fn post(&self, url: &str, request: &[u8]) -> Result<Vec<u8>, String> {
        let post = crate::http_post::post(url, "application/timestamp-query", request.to_vec(), &self.tls, MAX_REPLY);
        match tokio::time::timeout(TIMEOUT, post).await {
            Err(_) => Err(format!("no answer within {} s", TIMEOUT.as_secs())),
            Ok(Err(e)) => Err(e),
            Ok(Ok((200, body))) => Ok(body),
            Ok(Ok((status, _))) => Err(format!("HTTP status {status}")),
        }
    }
}
