//! `[atna]`: the IHE audit record repository the audit log is forwarded to (docs/operator-guide.md "Audit
//! repository (ATNA)", D97, D98). Off when absent.
//!
//! ```toml
//! [atna]
//! address = "audit.example.jp:6514"     # the repository's RFC 5425 syslog-over-TLS port
//! ca_file = "atna/repository-ca.pem"     # the CA its server certificate must chain to (only these)
//! certificate = "atna/client.pem"        # hcpki's client certificate (then intermediates), PEM
//! key = "file:keys/atna.p8"              # its key: encrypted PKCS#8 (the keys passphrase) or pkcs11:…
//! # server_name = "audit.example.jp"     # the name its certificate must carry (default: address's host)
//! # source_id = "hcpki.example.jp"       # AuditSourceID (default: this host's name)
//! # site_id = "1310000001"               # AuditEnterpriseSiteID (absent: not sent)
//! # batch = 200                          # entries per connection
//! # poll_secs = 2                        # how often to look for new entries when idle
//! # retry_max_secs = 60                  # longest pause between failed attempts
//! ```

use crate::atna::forwarder::Forwarder;
use crate::atna::message::AuditSource;
use crate::atna::transport::Repository;
use anyhow::{Context, Result, bail};
use der::{Decode, Encode};
use hcpki_pkix::keys::{KeyContext, KeyUri};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// `[atna]`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AtnaConfig {
    /// `HOST:PORT` of the repository's syslog-over-TLS listener (RFC 5425's port is 6514).
    pub address: String,
    /// The name the repository's certificate must carry (DNS name or IP address); default: the host of
    /// `address`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    /// PEM file of the CA certificates the repository's certificate must chain to (relative to the hcpki
    /// directory). Only these: not the public WebPKI roots.
    pub ca_file: PathBuf,
    /// PEM file of hcpki's client certificate, then any intermediates (relative to the hcpki directory).
    pub certificate: PathBuf,
    /// The client certificate's key, by URI: `file:…` (encrypted PKCS#8 under the `[keys]` passphrase) or
    /// `pkcs11:token=…;object=…`. P-256 or P-384.
    pub key: String,
    /// AuditSourceID (default: this host's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    /// AuditEnterpriseSiteID, e.g. the 医療機関コード or the network's site code (absent: not sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<String>,
    /// Entries per batch, one connection each (1–10000, default 200).
    #[serde(default = "default_batch")]
    pub batch: u32,
    /// How often to look for new entries when there is nothing to send (1–3600 s, default 2).
    #[serde(default = "default_poll")]
    pub poll_secs: u32,
    /// The longest pause between failed attempts (1–3600 s, default 60); pauses double from 1 s up to it.
    #[serde(default = "default_retry_max")]
    pub retry_max_secs: u32,
}

fn default_batch() -> u32 {
    200
}
fn default_poll() -> u32 {
    2
}
fn default_retry_max() -> u32 {
    60
}

impl AtnaConfig {
    /// What can be checked without reading files: the address, the key URI, the ranges.
    pub fn check(&self) -> Result<()> {
        self.host()?;
        self.key
            .parse::<KeyUri>()
            .with_context(|| format!("[atna] key {:?} is not a key URI (file:… or pkcs11:…)", self.key))?;
        if !(1..=10_000).contains(&self.batch) {
            bail!("[atna] batch must be 1 to 10000 (it is {})", self.batch);
        }
        for (name, value) in [("poll_secs", self.poll_secs), ("retry_max_secs", self.retry_max_secs)] {
            if !(1..=3600).contains(&value) {
                bail!("[atna] {name} must be 1 to 3600 (it is {value})");
            }
        }
        Ok(())
    }

    /// The host of `address` (without brackets for an IPv6 literal).
    fn host(&self) -> Result<&str> {
        let (host, port) = self.address.rsplit_once(':').with_context(|| {
            format!("[atna] address {:?} is not HOST:PORT (the repository's TLS syslog port, often 6514)", self.address)
        })?;
        if host.is_empty() || port.parse::<u16>().map_or(true, |p| p == 0) {
            bail!("[atna] address {:?} is not HOST:PORT (the repository's TLS syslog port, often 6514)", self.address);
        }
        Ok(host.trim_start_matches('[').trim_end_matches(']'))
    }

    /// The forwarder these settings describe: files read relative to `dir`, the key opened through `keys`.
    /// Errors name the setting and what to change.
    pub fn forwarder(&self, dir: &Path, keys: &KeyContext) -> Result<Forwarder> {
        self.check()?;
        let anchors = read_pem_certificates(&dir.join(&self.ca_file)).context("[atna] ca_file")?;
        let chain = read_pem_certificates(&dir.join(&self.certificate)).context("[atna] certificate")?;
        let uri: KeyUri = self.key.parse().with_context(|| format!("[atna] key {:?}", self.key))?;
        let key: Arc<dyn hcpki_pkix::keys::KeySource> =
            Arc::from(hcpki_pkix::keys::open(&uri, keys).with_context(|| {
                format!(
                    "[atna] key {}: cannot open it (is the [keys] passphrase the one it was encrypted with?)",
                    self.key
                )
            })?);
        let Some(leaf) = chain.first() else { bail!("[atna] certificate holds no certificate") };
        let cert = x509_cert::Certificate::from_der(leaf).context("[atna] certificate is not an X.509 certificate")?;
        let cert_spki = cert.tbs_certificate().subject_public_key_info().to_der().context("[atna] certificate")?;
        let key_spki = key.public_key().to_der().context("[atna] key")?;
        if cert_spki != key_spki {
            bail!(
                "[atna] certificate {} is not the certificate of [atna] key {}: give the pair",
                self.certificate.display(),
                self.key
            );
        }
        let server_name = match &self.server_name {
            Some(name) => name.clone(),
            None => self.host()?.to_owned(),
        };
        let repository = Repository::new(&self.address, &server_name, &anchors, chain, key)?;
        let hostname = crate::syslog::local_hostname();
        Ok(Forwarder {
            repository,
            source: AuditSource {
                source_id: self.source_id.clone().unwrap_or_else(|| hostname.clone()),
                site_id: self.site_id.clone(),
                hostname,
            },
            batch: i64::from(self.batch),
            poll: Duration::from_secs(self.poll_secs.into()),
            retry_max: Duration::from_secs(self.retry_max_secs.into()),
        })
    }
}

/// The certificates of a PEM file, at least one.
fn read_pem_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("{} is not PEM certificates", path.display()))?;
    if certs.is_empty() {
        bail!("{} holds no PEM certificate", path.display());
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<AtnaConfig> {
        Ok(toml::from_str::<AtnaConfig>(text)?)
    }

    const BASE: &str = "address = \"audit.example.jp:6514\"\nca_file = \"ca.pem\"\ncertificate = \"c.pem\"\nkey = \"file:keys/atna.p8\"\n";

    #[test]
    fn defaults_and_checks() {
        let c = parse(BASE).unwrap();
        assert_eq!((c.batch, c.poll_secs, c.retry_max_secs), (200, 2, 60));
        c.check().unwrap();
        assert_eq!(c.host().unwrap(), "audit.example.jp");
        assert!(parse(&format!("{BASE}unknown = 1")).is_err(), "unknown keys are errors");
        for (extra, says) in
            [("batch = 0", "batch"), ("poll_secs = 0", "poll_secs"), ("retry_max_secs = 4000", "retry_max_secs")]
        {
            let err = parse(&format!("{BASE}{extra}")).unwrap().check().unwrap_err();
            assert!(format!("{err:#}").contains(says), "{err:#}");
        }
        for address in ["audit.example.jp", "audit.example.jp:0", ":6514", "audit:port"] {
            let c = parse(&BASE.replace("audit.example.jp:6514", address)).unwrap();
            assert!(format!("{:#}", c.check().unwrap_err()).contains("HOST:PORT"), "{address}");
        }
        let c = parse(&BASE.replace("file:keys/atna.p8", "keys/atna.p8")).unwrap();
        assert!(format!("{:#}", c.check().unwrap_err()).contains("key URI"));
        let v6 = parse(&BASE.replace("audit.example.jp:6514", "[::1]:6514")).unwrap();
        assert_eq!(v6.host().unwrap(), "::1");
    }
}
