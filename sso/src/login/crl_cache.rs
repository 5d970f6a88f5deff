//! Revocation for card logins from CRLs held in memory: fetched by a background task (at start, then before
//! they go stale: at 80 % of thisUpdate→nextUpdate, with backoff after failures), verified against the
//! configured CA certificates, and only *read* on the login path, which never waits for the network.
//!
//! Sources are the operator's `[login] crl_urls` (`http://…` or `file:…`), never URLs taken from posted
//! certificates: the server contacts only addresses the operator chose (no request forgery through a crafted
//! CDP), and closed networks can mirror the issuers' CRLs. A CRL is installed only if a configured CA's key
//! verifies it, it names no unsupported critical extension (delta or indirect CRLs), and it is not older than
//! the one held (no rollback by replaying an old CRL). What a missing or stale CRL means is the
//! [`RevocationPolicy`].

use super::trust::{ParsedCert, TrustAnchors};
use crate::outbound::HttpGet;
use der::{Decode, Encode};
use hcpki_ca::revocation::{CrlReason, Reason};
use hcpki_pkix::asn1::SignedRaw;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::CrlDistributionPoints;
use x509_cert::ext::pkix::crl::dp::IssuingDistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};

/// Largest CRL accepted: a million entries of a real CA are ~40 MB.
const MAX_CRL_BYTES: usize = 64 * 1024 * 1024;
/// Connect, send and read, each.
const FETCH_TIMEOUT: Duration = Duration::from_secs(30);
/// Never fetch one source more often than this (a CRL close to its nextUpdate).
const MIN_INTERVAL_SECS: i64 = 60;
/// First retry after a failed fetch; doubled per failure up to [`MAX_BACKOFF_SECS`].
const FIRST_BACKOFF_SECS: i64 = 30;
const MAX_BACKOFF_SECS: i64 = 900;
/// A CRL's thisUpdate may be this far in the future (clock skew between the CA and us).
const CLOCK_SKEW_SECS: i64 = 300;
/// Where to refresh at: this share of thisUpdate→nextUpdate.
const REFRESH_AT: f64 = 0.8;

/// What to do when the CRL of a CA on the path is missing or stale.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RevocationPolicy {
    /// Refuse the login ([`super::CardLoginError::RevocationUnknown`]). The default.
    #[default]
    FailClosed,
    /// Allow it, log a warning, and mark the result ([`super::RevocationChecked::Unknown`]) for the audit entry.
    FailOpen,
}

/// The revocation status of one certificate as the cache knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Revocation {
    /// A fresh CRL of its issuer covers it and does not list it.
    Good {
        /// thisUpdate of that CRL.
        crl_this_update: i64,
    },
    /// Listed.
    Revoked {
        /// RFC 5280 reason name.
        reason: &'static str,
        /// Revocation time, Unix seconds.
        at: i64,
    },
    /// No fresh CRL covers it: why.
    Unknown(String),
}

/// Why a CRL was not installed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CrlError {
    /// The source could not be read. The cache retries with backoff; check the URL and the network path.
    #[error("cannot fetch {url}: {reason}")]
    Fetch {
        /// The source.
        url: String,
        /// What failed.
        reason: String,
    },
    /// Not a DER or PEM CRL.
    #[error("{url} is not a CRL: {reason}")]
    Parse {
        /// The source.
        url: String,
        /// The decoder's reason.
        reason: String,
    },
    /// No configured CA certificate has the CRL's issuer name and a key that verifies it: configure the CA
    /// (as an anchor or intermediate) or fix the URL.
    #[error("the CRL from {url} (issuer {issuer}) is not signed by any configured CA")]
    UnknownIssuer {
        /// The source.
        url: String,
        /// The CRL's issuer.
        issuer: String,
    },
    /// A CRL hcpki does not evaluate (delta, indirect, partial by reason, unknown critical extension).
    #[error("the CRL from {url} is not supported: {reason}")]
    Unsupported {
        /// The source.
        url: String,
        /// What is unsupported.
        reason: String,
    },
    /// thisUpdate lies in the future beyond clock skew, or nextUpdate is missing or before thisUpdate.
    #[error("the CRL from {url} has unusable times: {reason}")]
    Times {
        /// The source.
        url: String,
        /// What is wrong.
        reason: String,
    },
}

/// One installed CRL.
#[derive(Debug)]
struct CachedCrl {
    issuer_subject: Vec<u8>,
    /// The verifying CA's SubjectPublicKeyInfo (DER): a re-keyed CA of the same name gets its own CRL.
    issuer_spki: Vec<u8>,
    this_update: i64,
    next_update: i64,
    revoked: HashMap<Vec<u8>, (i64, &'static str)>,
    /// The issuingDistributionPoint's URIs; empty means every certificate of the issuer.
    scope_urls: Vec<String>,
    only_user: bool,
    only_ca: bool,
    /// The CRL as installed: signing requests embed it in B-LT signatures (D82).
    der: Vec<u8>,
}

/// What the cache holds for one source (for `hcpki login crls`, logs and metrics).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CrlInfo {
    /// The source URL.
    pub url: String,
    /// The CRL issuer.
    pub issuer: String,
    /// thisUpdate, Unix seconds.
    pub this_update: i64,
    /// nextUpdate, Unix seconds.
    pub next_update: i64,
    /// Entries.
    pub entries: usize,
}

#[derive(Clone, Copy, Debug, Default)]
struct Schedule {
    next_fetch: i64,
    failures: u32,
}

/// The CRL cache.
#[derive(Debug)]
pub struct CrlCache {
    sources: Vec<String>,
    issuers: Vec<ParsedCert>,
    crls: RwLock<HashMap<String, Arc<CachedCrl>>>,
    schedule: std::sync::Mutex<HashMap<String, Schedule>>,
    /// The client `http://` sources are fetched with; without one only `file:` sources can be read.
    http: Option<Arc<dyn HttpGet>>,
}

impl CrlCache {
    /// A cache for `sources`, accepting CRLs signed by the CA certificates of `trust`. Empty until fetched.
    pub fn new(sources: Vec<String>, trust: &TrustAnchors) -> Self {
        Self {
            sources,
            issuers: trust.ca_certificates().cloned().collect(),
            crls: RwLock::new(HashMap::new()),
            schedule: std::sync::Mutex::new(HashMap::new()),
            http: None,
        }
    }

    /// The same cache fetching its `http://` sources with `http`.
    pub fn with_http(self, http: Arc<dyn HttpGet>) -> Self {
        Self { http: Some(http), ..self }
    }

    /// The status of `cert`, issued by `issuer`, at `now`. Reads memory only.
    pub fn status(&self, cert: &ParsedCert, issuer: &ParsedCert, now: i64) -> Revocation {
        let crl = match self.newest_covering(cert, issuer) {
            Ok(Some(crl)) => crl,
            Ok(None) => return Revocation::Unknown(format!("no CRL of {} is cached", issuer.subject())),
            Err(why) => return Revocation::Unknown(why),
        };
        if let Some((at, reason)) = crl.revoked.get(cert.cert.tbs_certificate().serial_number().as_bytes()) {
            // A listed certificate is revoked even if the CRL is stale: staleness only hides new revocations.
            return Revocation::Revoked { reason, at: *at };
        }
        if now >= crl.next_update {
            return Revocation::Unknown(format!(
                "the cached CRL of {} is stale since {}",
                issuer.subject(),
                hcpki_pkix::time::rfc3339(crl.next_update)
            ));
        }
        Revocation::Good { crl_this_update: crl.this_update }
    }

    /// The DER of the newest cached CRL of `issuer` that covers `cert` and counts for time `at` as the signature
    /// verifier counts it (D73): current at `at` (thisUpdate ≤ `at` ≤ nextUpdate) or issued after it. A signing
    /// request embeds it in a B-LT signature (D82); memory only, no fetch. Otherwise why not, in words that name
    /// the issuer and the time.
    pub fn crl_at(&self, cert: &ParsedCert, issuer: &ParsedCert, at: i64) -> Result<Vec<u8>, String> {
        let crl =
            self.newest_covering(cert, issuer)?.ok_or_else(|| format!("no CRL of {} is cached", issuer.subject()))?;
        if crl.next_update < at {
            return Err(format!(
                "the cached CRL of {} was current until {}, not at {}",
                issuer.subject(),
                hcpki_pkix::time::rfc3339(crl.next_update),
                hcpki_pkix::time::rfc3339(at)
            ));
        }
        Ok(crl.der.clone())
    }

    /// The newest installed CRL signed by `issuer`'s name and key whose scope covers `cert`.
    fn newest_covering(&self, cert: &ParsedCert, issuer: &ParsedCert) -> Result<Option<Arc<CachedCrl>>, String> {
        let spki = issuer
            .cert
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(|_| format!("the key of {} cannot be encoded", issuer.subject()))?;
        let is_ca = cert.basic_constraints().ok().flatten().is_some_and(|bc| bc.ca);
        let cdp = distribution_point_urls(cert);
        let crls = match self.crls.read() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        Ok(crls
            .values()
            .filter(|c| c.issuer_subject == issuer.subject_der() && c.issuer_spki == spki)
            .filter(|c| if is_ca { !c.only_user } else { !c.only_ca })
            .filter(|c| c.scope_urls.is_empty() || c.scope_urls.iter().any(|u| cdp.contains(u)))
            .max_by_key(|c| c.this_update)
            .cloned())
    }

    /// Verify `bytes` (DER or PEM) as the CRL of `url` and hold it, unless it is older than the one held.
    pub fn install(&self, url: &str, bytes: &[u8], now: i64) -> Result<CrlInfo, CrlError> {
        let der = pem_or_der(bytes);
        let parse = |e: der::Error| CrlError::Parse { url: url.to_owned(), reason: e.to_string() };
        let list = CertificateList::<x509_cert::certificate::Rfc5280>::from_der(&der).map_err(parse)?;
        let signed = SignedRaw::from_der(&der).map_err(parse)?;
        let tbs = &list.tbs_cert_list;
        let issuer_subject = tbs.issuer.to_der().map_err(parse)?;
        let issuer = self
            .issuers
            .iter()
            .find(|ca| {
                ca.subject_der() == issuer_subject.as_slice()
                    && ca.key_usage().ok().flatten().is_none_or(|ku| ku.crl_sign())
                    && ca.key_verifies(&signed)
            })
            .ok_or_else(|| CrlError::UnknownIssuer { url: url.to_owned(), issuer: tbs.issuer.to_string() })?;
        let times = |reason: String| CrlError::Times { url: url.to_owned(), reason };
        let this_update = hcpki_pkix::time::unix(&tbs.this_update);
        let next_update =
            tbs.next_update.as_ref().map(hcpki_pkix::time::unix).ok_or_else(|| times("no nextUpdate".into()))?;
        if this_update > now + CLOCK_SKEW_SECS {
            return Err(times(format!("thisUpdate {} is in the future", hcpki_pkix::time::rfc3339(this_update))));
        }
        if next_update <= this_update {
            return Err(times("nextUpdate is not after thisUpdate".into()));
        }
        let unsupported = |reason: String| CrlError::Unsupported { url: url.to_owned(), reason };
        let (mut scope_urls, mut only_user, mut only_ca) = (Vec::new(), false, false);
        for ext in tbs.crl_extensions.iter().flatten() {
            match ext.extn_id.to_string().as_str() {
                // authorityKeyIdentifier, cRLNumber
                "2.5.29.35" | "2.5.29.20" => {}
                "2.5.29.28" => {
                    let idp = IssuingDistributionPoint::from_der(ext.extn_value.as_bytes()).map_err(parse)?;
                    if idp.indirect_crl || idp.only_some_reasons.is_some() || idp.only_contains_attribute_certs {
                        return Err(unsupported("indirect or partial (by reason) CRL".into()));
                    }
                    only_user = idp.only_contains_user_certs;
                    only_ca = idp.only_contains_ca_certs;
                    if let Some(DistributionPointName::FullName(names)) = &idp.distribution_point {
                        scope_urls = uris(names);
                    }
                }
                "2.5.29.27" => return Err(unsupported("delta CRL".into())),
                oid if ext.critical => return Err(unsupported(format!("critical extension {oid}"))),
                _ => {}
            }
        }
        let mut revoked = HashMap::new();
        for entry in tbs.revoked_certificates.iter().flatten() {
            let mut reason = Reason(CrlReason::Unspecified).name();
            for ext in entry.crl_entry_extensions.iter().flatten() {
                match ext.extn_id.to_string().as_str() {
                    "2.5.29.21" => {
                        let code = CrlReason::from_der(ext.extn_value.as_bytes()).map_err(parse)?;
                        reason = Reason(code).name();
                    }
                    "2.5.29.29" => return Err(unsupported("entries of another issuer (indirect CRL)".into())),
                    oid if ext.critical => return Err(unsupported(format!("critical entry extension {oid}"))),
                    _ => {}
                }
            }
            revoked.insert(
                entry.serial_number.as_bytes().to_vec(),
                (hcpki_pkix::time::unix(&entry.revocation_date), reason),
            );
        }
        let issuer_spki = issuer.cert.tbs_certificate().subject_public_key_info().to_der().map_err(parse)?;
        let info = CrlInfo {
            url: url.to_owned(),
            issuer: tbs.issuer.to_string(),
            this_update,
            next_update,
            entries: revoked.len(),
        };
        let crl = CachedCrl {
            issuer_subject,
            issuer_spki,
            this_update,
            next_update,
            revoked,
            scope_urls,
            only_user,
            only_ca,
            der,
        };
        let mut crls = match self.crls.write() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        match crls.get(url) {
            Some(held) if held.this_update > crl.this_update => {
                tracing::warn!(url, "fetched CRL is older than the one held; kept the newer one");
            }
            _ => {
                crls.insert(url.to_owned(), Arc::new(crl));
            }
        }
        Ok(info)
    }

    /// What is held, per source.
    pub fn summary(&self) -> Vec<CrlInfo> {
        let crls = match self.crls.read() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut out: Vec<CrlInfo> = crls
            .iter()
            .map(|(url, c)| CrlInfo {
                url: url.clone(),
                issuer: self
                    .issuers
                    .iter()
                    .find(|i| i.subject_der() == c.issuer_subject.as_slice())
                    .map(ParsedCert::subject)
                    .unwrap_or_default(),
                this_update: c.this_update,
                next_update: c.next_update,
                entries: c.revoked.len(),
            })
            .collect();
        out.sort_by(|a, b| a.url.cmp(&b.url));
        out
    }

    /// Fetch every source that is due at `now` (all of them the first time) and schedule the next fetch of
    /// each; returns how long until the next one is due.
    pub async fn refresh_due(&self, now: i64) -> Duration {
        for url in &self.sources {
            let due = self.schedule_of(url).next_fetch <= now;
            if !due {
                continue;
            }
            let result = match fetch(url, self.http.as_deref()).await {
                Ok(bytes) => self.install(url, &bytes, now),
                Err(e) => Err(e),
            };
            let mut schedule = self.schedule_of(url);
            match result {
                Ok(info) => {
                    tracing::info!(url, issuer = %info.issuer, entries = info.entries, next_update = %hcpki_pkix::time::rfc3339(info.next_update), "CRL cached");
                    schedule.failures = 0;
                    let at = info.this_update + ((info.next_update - info.this_update) as f64 * REFRESH_AT) as i64;
                    schedule.next_fetch = at.max(now + MIN_INTERVAL_SECS);
                }
                Err(e) => {
                    schedule.failures = schedule.failures.saturating_add(1);
                    let backoff =
                        (FIRST_BACKOFF_SECS << schedule.failures.min(10).saturating_sub(1)).min(MAX_BACKOFF_SECS);
                    schedule.next_fetch = now + backoff;
                    tracing::warn!(url, error = %e, retry_in_secs = backoff, "CRL not refreshed");
                }
            }
            if let Ok(mut all) = self.schedule.lock() {
                all.insert(url.clone(), schedule);
            }
        }
        let next = self.sources.iter().map(|u| self.schedule_of(u).next_fetch).min().unwrap_or(now + MAX_BACKOFF_SECS);
        Duration::from_secs((next - now).max(1) as u64)
    }

    /// Run [`CrlCache::refresh_due`] forever on `clock`'s wall-clock time: the background task `hcpki serve`
    /// starts after the first (awaited) prefetch.
    pub fn spawn_refresher(self: Arc<Self>, clock: Arc<dyn hcpki_pkix::time::Clock>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                let wait = self.refresh_due(clock.now_unix()).await;
                // Wake at least every 15 minutes: the schedule is on wall-clock time, which may jump.
                tokio::time::sleep(wait.min(Duration::from_secs(MAX_BACKOFF_SECS as u64))).await;
            }
        })
    }

    fn schedule_of(&self, url: &str) -> Schedule {
        self.schedule.lock().ok().and_then(|s| s.get(url).copied()).unwrap_or_default()
    }
}

/// The URIs among `names`.
fn uris(names: &[GeneralName]) -> Vec<String> {
    names
        .iter()
        .filter_map(|n| match n {
            GeneralName::UniformResourceIdentifier(u) => Some(u.to_string()),
            _ => None,
        })
        .collect()
}

/// The URIs of a certificate's CRL distribution points (to match partitioned CRLs' scope).
fn distribution_point_urls(cert: &ParsedCert) -> Vec<String> {
    let Ok(Some((_, points))) = cert.cert.tbs_certificate().get_extension::<CrlDistributionPoints>() else {
        return Vec::new();
    };
    points
        .0
        .iter()
        .filter_map(|p| match &p.distribution_point {
            Some(DistributionPointName::FullName(names)) => Some(uris(names)),
            _ => None,
        })
        .flatten()
        .collect()
}

/// PEM `X509 CRL` decoded, anything else as is.
fn pem_or_der(bytes: &[u8]) -> Vec<u8> {
    match der::pem::decode_vec(bytes) {
        Ok(("X509 CRL", der)) => der,
        _ => bytes.to_vec(),
    }
}

/// Read a source: `file:PATH`, or `http://HOST[:PORT]/PATH` through `http` (HTTP/1.1, no redirects), bounded in
/// size and time. CRLs are signed, so plain HTTP is what RFC 5280 §4.2.1.13 expects.
pub async fn fetch(url: &str, http: Option<&dyn HttpGet>) -> Result<Vec<u8>, CrlError> {
    let fail = |reason: String| CrlError::Fetch { url: url.to_owned(), reason };
    if let Some(path) = url.strip_prefix("file:") {
        let bytes = tokio::fs::read(path).await.map_err(|e| fail(e.to_string()))?;
        if bytes.len() > MAX_CRL_BYTES {
            return Err(fail(format!("larger than {MAX_CRL_BYTES} bytes")));
        }
        return Ok(bytes);
    }
    let http = http.ok_or_else(|| fail("no HTTP client: only file: CRL sources can be read here".into()))?;
    http.get(url, MAX_CRL_BYTES, FETCH_TIMEOUT).await.map_err(|e| fail(e.to_string()))
}
