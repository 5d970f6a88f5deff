//! The OCSP responder (RFC 6960, with the RFC 5019 profile for caching): answers from pre-signed responses.
//!
//! ```text
//! request ─▶ request::parse ──malformed──▶ malformedRequest
//!               │ CertID issuer hashes ──no CA of ours──▶ unauthorized
//!               ▼
//!   one certificate, no nonce ──▶ cache hit ──▶ the stored DER (no signing, no I/O)
//!               │ miss, several certificates, or a nonce
//!               ▼
//!   status: revocation board (memory) → store (issued by this CA?) ──▶ sign with the delegated responder
//! ```
//!
//! Each served CA has a delegated responder certificate (`ocsp` profile, id-pkix-ocsp-nocheck) made and
//! rotated by the server; its key signs. Answers for one certificate without a nonce are cached per CertID
//! and served as stored bytes. [`Responder::maintain`] (once a second) reloads the revocation board and
//! re-signs exactly the answers whose status changed, and re-signs answers half-way through their validity;
//! [`Responder::prewarm`] signs answers for every live certificate at start. The hot path therefore signs
//! only for nonces, for certificates first asked about since start, and for unusual CertID forms.
//!
//! A request with a nonce gets a fresh answer with the nonce echoed (RFC 8954): clients that insist on
//! replay protection pay one signature; the rest get the cached one.

pub mod request;
pub mod response;
#[cfg(test)]
mod signature_tests;
mod signer;
#[cfg(test)]
mod tests;

use crate::authority::CaName;
use crate::revocation::status::RevocationBoard;
use crate::store::{CertStatus, Issuance, Revocations, StoreError};
use bytes::Bytes;
use der::asn1::{Null, ObjectIdentifier};
use der::{Any, Decode};
use hcpki_model::SerialHex;
use hcpki_pkix::asn1::ocsp::{CertId, OcspResponseStatus};
use hcpki_pkix::time::UnixTime;
use request::Query;
use response::{Answer, Status, Window};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};
pub use signer::{OcspError, OcspSigner};
use spki::AlgorithmIdentifierOwned;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use x509_cert::Certificate;

/// How answers are made and kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponderSettings {
    /// nextUpdate − thisUpdate of a `good`/`revoked` answer (seconds); answers are re-signed half-way.
    pub validity_secs: i64,
    /// nextUpdate − thisUpdate of an `unknown` answer: short, because a serial reserved a moment before
    /// its certificate is signed becomes `good` right after.
    pub unknown_validity_secs: i64,
    /// At most this many cached answers (about 1 KB each with the responder certificate).
    pub cache_entries: usize,
    /// thisUpdate lies this many seconds before producedAt (the signing time): the installation's
    /// [`crate::profile::ProfileSettings::backdate`], as for certificates and CRLs.
    pub backdate_secs: i64,
}

impl Default for ResponderSettings {
    fn default() -> Self {
        Self {
            validity_secs: 12 * 3600,
            unknown_validity_secs: 300,
            cache_entries: 1_000_000,
            backdate_secs: crate::profile::ProfileSettings::default().backdate(),
        }
    }
}

/// A CA generation the responder answers for: its certificate and its delegated responder. After a rollover's
/// switch a CA has two, each answering for the certificates it issued with a responder it certified (D151).
#[derive(Debug)]
pub struct Served {
    /// Which CA.
    pub ca: CaName,
    /// Which of its generations (1 until its first rollover).
    pub generation: u32,
    /// The CA certificate (DER): CertIDs name it by hashes of its subject and key.
    pub certificate: Vec<u8>,
    /// The delegated responder.
    pub signer: OcspSigner,
}

/// A stored answer for one CertID.
#[derive(Debug)]
pub struct Cached {
    cert_id: CertId,
    status: Status,
    /// The signed OCSPResponse, shared: handing it to a connection copies no bytes.
    pub der: Bytes,
    /// Its validity.
    pub window: Window,
}

impl Cached {
    /// When it is re-signed: half-way from signing to nextUpdate. HTTP caches may keep it until then.
    pub fn refresh_at(&self) -> i64 {
        self.window.refresh_at()
    }
}

/// What the responder answers.
#[derive(Debug)]
pub enum Reply {
    /// A pre-signed answer (cacheable by HTTP caches until [`Cached::refresh_at`]).
    Cached(Arc<Cached>),
    /// An answer signed for this request (nonce, several certificates): not to be cached.
    Fresh(Bytes),
    /// An unsigned error status, with the cause for the log.
    Refused(OcspResponseStatus, String),
}

impl Reply {
    /// The DER OCSPResponse (a reference-counted handle for stored answers, not a copy).
    pub fn der(&self) -> Bytes {
        match self {
            Self::Cached(c) => c.der.clone(),
            Self::Fresh(der) => der.clone(),
            Self::Refused(status, _) => Bytes::from(response::refusal(*status)),
        }
    }
}

/// What a maintenance round did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Maintenance {
    /// Certificates whose revocation status changed since the last round.
    pub changed: usize,
    /// Answers signed again (status changed or half-way to nextUpdate).
    pub resigned: usize,
}

/// The responder for a set of CAs.
pub struct Responder {
    /// Certificates by serial (their status) and the live serials to pre-sign.
    certificates: Arc<dyn Issuance>,
    /// Revocation details (time, reason) and the markers the board reloads by.
    revocations: Arc<dyn Revocations>,
    board: Arc<RevocationBoard>,
    issuers: Vec<Issuer>,
    settings: ResponderSettings,
    cached: AtomicUsize,
    last_sweep: std::sync::atomic::AtomicI64,
    /// Where answers read the time: the authority's clock, so a server has one.
    clock: Arc<dyn hcpki_pkix::time::Clock>,
}

impl std::fmt::Debug for Responder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Responder")
            .field("issuers", &self.issuers)
            .field("settings", &self.settings)
            .field("cached", &self.cached)
            .finish_non_exhaustive()
    }
}

/// A served CA generation: how CertIDs name it, who signs for it, and its answers by serial.
#[derive(Debug)]
struct Issuer {
    ca: CaName,
    generation: u32,
    /// (hash algorithm, issuerNameHash, issuerKeyHash) for each hash a client may use.
    ids: Vec<(ObjectIdentifier, Vec<u8>, Vec<u8>)>,
    signer: RwLock<Arc<OcspSigner>>,
    /// Answers by serial (INTEGER content octets); one per CertID form asked (hash algorithm, parameters).
    cache: RwLock<HashMap<Vec<u8>, Vec<Arc<Cached>>>>,
}

/// How often answers are checked for being half-way to nextUpdate.
const SWEEP_SECS: i64 = 60;
/// Serials per page when pre-signing.
const PREWARM_PAGE: i64 = 1000;

impl Responder {
    /// A responder for `served`, answering from `board` (which the caller keeps loaded through
    /// [`Responder::maintain`]), `certificates` and `revocations` (one store's two areas).
    pub fn new(
        certificates: Arc<dyn Issuance>,
        revocations: Arc<dyn Revocations>,
        board: Arc<RevocationBoard>,
        served: Vec<Served>,
        settings: ResponderSettings,
        clock: Arc<dyn hcpki_pkix::time::Clock>,
    ) -> Result<Self, OcspError> {
        let issuers = served
            .into_iter()
            .map(|s| {
                let ca = Certificate::from_der(&s.certificate)?;
                let name = der::Encode::to_der(ca.tbs_certificate().subject())?;
                let key = ca.tbs_certificate().subject_public_key_info().subject_public_key.raw_bytes();
                let ids = HASHES.iter().map(|(oid, hash)| (*oid, hash(&name), hash(key))).collect();
                Ok(Issuer {
                    ca: s.ca,
                    generation: s.generation,
                    ids,
                    signer: RwLock::new(Arc::new(s.signer)),
                    cache: RwLock::new(HashMap::new()),
                })
            })
            .collect::<Result<Vec<_>, OcspError>>()?;
        Ok(Self {
            certificates,
            revocations,
            board,
            issuers,
            settings,
            cached: AtomicUsize::new(0),
            last_sweep: Default::default(),
            clock,
        })
    }

    /// Answer a DER request.
    pub async fn respond(&self, der: &[u8]) -> Reply {
        let query = match request::parse(der) {
            Ok(q) => q,
            Err(e) => return Reply::Refused(OcspResponseStatus::MalformedRequest, e.to_string()),
        };
        let Some(issuer) = self.issuer_of(&query) else {
            return Reply::Refused(
                OcspResponseStatus::Unauthorized,
                "the request names a CA this responder does not serve (or several CAs)".into(),
            );
        };
        if !self.board.loaded(issuer.ca) {
            return Reply::Refused(OcspResponseStatus::TryLater, "revocation state not loaded yet".into());
        }
        let now = self.clock.now();
        let result = match (&query.cert_ids[..], &query.nonce) {
            ([one], None) => self.cached_answer(issuer, one, now).await.map(Reply::Cached),
            _ => self.fresh_answer(issuer, &query, now).await.map(Reply::Fresh),
        };
        result.unwrap_or_else(|e| {
            tracing::error!(error = %e, ca = %issuer.ca, "OCSP answer failed");
            Reply::Refused(OcspResponseStatus::TryLater, e.to_string())
        })
    }

    /// Replace the delegated responder of `ca`'s generation `generation` (rotation). Stored answers stay valid:
    /// they end before the old responder certificate does, and are re-signed by the new one as they age.
    pub fn set_signer(&self, ca: CaName, generation: u32, signer: OcspSigner) {
        if let Some(issuer) = self.issuer(ca, generation) {
            *issuer.signer.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(signer);
        }
    }

    /// The delegated responder's notAfter for `ca`'s generation `generation`.
    pub fn signer_not_after(&self, ca: CaName, generation: u32) -> Option<i64> {
        self.issuer(ca, generation).map(|i| read(&i.signer).not_after)
    }

    fn issuer(&self, ca: CaName, generation: u32) -> Option<&Issuer> {
        self.issuers.iter().find(|i| i.ca == ca && i.generation == generation)
    }

    /// One maintenance round: reload each CA's revocation state, re-sign the answers of certificates whose
    /// status changed, and (every [`SWEEP_SECS`]) the answers half-way to their nextUpdate.
    pub async fn maintain(&self, now: UnixTime) -> Result<Maintenance, OcspError> {
        let mut report = Maintenance::default();
        // The board holds a CA's revocations whatever the generation: reloaded once per CA, and a changed
        // serial's answers found under each of its generations (a CertID may name either).
        let mut cas: Vec<CaName> = self.issuers.iter().map(|i| i.ca).collect();
        cas.sort();
        cas.dedup();
        for ca in cas {
            let changed = self.board.refresh(self.revocations.as_ref(), ca, now, false).await?;
            report.changed += changed.len();
            for serial in changed {
                let Some(bytes) = serial.to_bytes() else { continue };
                for issuer in self.issuers.iter().filter(|i| i.ca == ca) {
                    let stale = write(&issuer.cache).remove(&bytes).unwrap_or_default();
                    self.cached.fetch_sub(stale.len(), Ordering::Relaxed);
                    for old in stale {
                        self.store_answer(issuer, &old.cert_id, now).await?;
                        report.resigned += 1;
                    }
                }
            }
        }
        if now.as_secs() - self.last_sweep.load(Ordering::Relaxed) >= SWEEP_SECS {
            self.last_sweep.store(now.as_secs(), Ordering::Relaxed);
            report.resigned += self.sweep(now).await?;
        }
        Ok(report)
    }

    /// Sign answers for every live certificate of every served CA (SHA-1 CertIDs, the form OpenSSL,
    /// browsers and routers send), until the cache is full. Returns how many were signed.
    pub async fn prewarm(&self) -> Result<usize, OcspError> {
        let mut signed = 0;
        for issuer in &self.issuers {
            let mut after: Option<SerialHex> = None;
            loop {
                let now = self.clock.now();
                let page = self
                    .certificates
                    .live_serials(issuer.ca, issuer.generation, now, after.as_ref(), PREWARM_PAGE)
                    .await?;
                for serial in &page {
                    if self.cached.load(Ordering::Relaxed) >= self.settings.cache_entries {
                        return Ok(signed);
                    }
                    let Some(cert_id) = sha1_cert_id(issuer, serial) else { continue };
                    if self.lookup(issuer, &cert_id, now).is_none() {
                        self.store_answer(issuer, &cert_id, now).await?;
                        signed += 1;
                    }
                }
                match page.last() {
                    Some(last) if page.len() as i64 == PREWARM_PAGE => after = Some(last.clone()),
                    _ => break,
                }
            }
        }
        Ok(signed)
    }

    /// How many answers are cached.
    pub fn cached(&self) -> usize {
        self.cached.load(Ordering::Relaxed)
    }

    /// The served CA all of the query's CertIDs name.
    fn issuer_of(&self, query: &Query) -> Option<&Issuer> {
        let mut found: Option<&Issuer> = None;
        for id in &query.cert_ids {
            let issuer = self.issuers.iter().find(|i| {
                i.ids.iter().any(|(oid, name, key)| {
                    *oid == id.hash_algorithm.oid
                        && name == id.issuer_name_hash.as_bytes()
                        && key == id.issuer_key_hash.as_bytes()
                })
            })?;
            if found.is_some_and(|f| (f.ca, f.generation) != (issuer.ca, issuer.generation)) {
                return None;
            }
            found = Some(issuer);
        }
        found
    }

    /// The stored answer for `cert_id`, signing and storing one if there is none fresh.
    async fn cached_answer(&self, issuer: &Issuer, cert_id: &CertId, now: UnixTime) -> Result<Arc<Cached>, OcspError> {
        match self.lookup(issuer, cert_id, now) {
            Some(hit) => Ok(hit),
            None => self.store_answer(issuer, cert_id, now).await,
        }
    }

    fn lookup(&self, issuer: &Issuer, cert_id: &CertId, now: UnixTime) -> Option<Arc<Cached>> {
        let cache = read(&issuer.cache);
        let hit = cache.get(cert_id.serial_number.as_bytes())?.iter().find(|c| c.cert_id == *cert_id)?;
        (now.as_secs() < hit.window.next_update).then(|| hit.clone())
    }

    /// Resolve, sign and store the answer for `cert_id`, unless the revocation state changed meanwhile (a
    /// status read before a reload must not outlive it in the cache).
    async fn store_answer(&self, issuer: &Issuer, cert_id: &CertId, now: UnixTime) -> Result<Arc<Cached>, OcspError> {
        let generation = self.board.generation(issuer.ca);
        let status = self.status(issuer, cert_id).await?;
        let signer = read(&issuer.signer).clone();
        let window = self.window(&signer, status, now);
        let der = sign_off_worker(signer, vec![(cert_id.clone(), status)], None, window).await?;
        let answer = Arc::new(Cached { cert_id: cert_id.clone(), status, der, window });
        let mut cache = write(&issuer.cache);
        if self.board.generation(issuer.ca) != generation {
            return Ok(answer);
        }
        let serial = cert_id.serial_number.as_bytes();
        if let Some(old) = cache.get_mut(serial).and_then(|v| v.iter_mut().find(|c| c.cert_id == *cert_id)) {
            *old = answer.clone();
        } else if self.cached.load(Ordering::Relaxed) < self.settings.cache_entries {
            cache.entry(serial.to_vec()).or_default().push(answer.clone());
            self.cached.fetch_add(1, Ordering::Relaxed);
        }
        Ok(answer)
    }

    /// An answer signed for this request: several certificates, or a nonce to echo.
    async fn fresh_answer(&self, issuer: &Issuer, query: &Query, now: UnixTime) -> Result<Bytes, OcspError> {
        let mut answers = Vec::with_capacity(query.cert_ids.len());
        for cert_id in &query.cert_ids {
            let status = match self.lookup(issuer, cert_id, now) {
                Some(hit) => hit.status,
                None => self.status(issuer, cert_id).await?,
            };
            answers.push((cert_id.clone(), status));
        }
        let signer = read(&issuer.signer).clone();
        // The shortest validity of the statuses given, so an `unknown` is not stretched by a `good` beside it.
        let window = answers.iter().map(|(_, s)| self.window(&signer, *s, now)).min_by_key(|w| w.next_update);
        let window = window.unwrap_or_else(|| self.window(&signer, Status::Unknown, now));
        sign_off_worker(signer, answers, query.nonce.clone(), window).await
    }

    /// The status of the certificate `cert_id` names, issued by `issuer`'s CA generation.
    async fn status(&self, issuer: &Issuer, cert_id: &CertId) -> Result<Status, StoreError> {
        let ca = issuer.ca;
        // No content octets name no certificate (the store found none for the empty text).
        let Some(serial) = SerialHex::from_octets(cert_id.serial_number.as_bytes()) else { return Ok(Status::Unknown) };
        if let Some(revocation) = self.board.lookup(ca, serial.as_str()) {
            return Ok(Status::Revoked(revocation));
        }
        let Some(record) = self.certificates.certificate(&serial).await? else { return Ok(Status::Unknown) };
        // Another generation's certificate: this issuer (named by its key hash) did not certify it.
        if record.ca != ca || record.generation != issuer.generation {
            return Ok(Status::Unknown);
        }
        Ok(match record.status {
            CertStatus::Issued => Status::Good,
            // Revoked since the board's last reload, or expired (the board holds unexpired ones only).
            CertStatus::Revoked => match self.revocations.revocation(&serial).await? {
                Some((at, code)) => Status::Revoked(crate::revocation::status::Revocation {
                    at,
                    reason: crate::revocation::Reason::from_code_or_unspecified(code),
                }),
                None => Status::Unknown,
            },
            CertStatus::Reserved | CertStatus::Failed => Status::Unknown,
        })
    }

    /// The answer's times, in the whole seconds an OCSP response carries.
    fn window(&self, signer: &OcspSigner, status: Status, now: UnixTime) -> Window {
        let now = now.as_secs();
        let validity = match status {
            Status::Unknown => self.settings.unknown_validity_secs,
            Status::Good | Status::Revoked(_) => self.settings.validity_secs,
        };
        Window {
            produced_at: now,
            this_update: now - self.settings.backdate_secs.max(0),
            next_update: (now + validity).min(signer.not_after).max(now),
        }
    }

    /// Re-sign stored answers half-way to nextUpdate; `unknown` answers are dropped instead (asked again,
    /// they are looked up again).
    async fn sweep(&self, now: UnixTime) -> Result<usize, OcspError> {
        let mut resigned = 0;
        for issuer in &self.issuers {
            let due: Vec<Arc<Cached>> = {
                let mut cache = write(&issuer.cache);
                let mut dropped = 0;
                for variants in cache.values_mut() {
                    let before = variants.len();
                    variants.retain(|c| !(c.status == Status::Unknown && now.as_secs() >= c.refresh_at()));
                    dropped += before - variants.len();
                }
                cache.retain(|_, v| !v.is_empty());
                self.cached.fetch_sub(dropped, Ordering::Relaxed);
                cache.values().flatten().filter(|c| now.as_secs() >= c.refresh_at()).cloned().collect()
            };
            for old in due {
                self.store_answer(issuer, &old.cert_id, now).await?;
                resigned += 1;
            }
        }
        Ok(resigned)
    }
}

/// Sign on the blocking pool, not on an async worker: an RSA-2048 signature takes about a millisecond, and a
/// worker busy signing would hold back every pre-signed answer queued on it (seen as falling throughput for
/// all clients when a few ask with nonces).
async fn sign_off_worker(
    signer: Arc<OcspSigner>,
    answers: Vec<(CertId, Status)>,
    nonce: Option<x509_cert::ext::Extension>,
    window: Window,
) -> Result<Bytes, OcspError> {
    let task = tokio::task::spawn_blocking(move || {
        let answers: Vec<Answer<'_>> =
            answers.iter().map(|(cert_id, status)| Answer { cert_id, status: *status }).collect();
        response::sign(&signer, &answers, nonce.as_ref(), window)
    });
    let der = task.await.map_err(|e| OcspError::SigningTask(e.to_string()))??;
    Ok(Bytes::from(der))
}

/// The hash algorithms accepted in CertIDs, and how to compute them.
type HashFn = fn(&[u8]) -> Vec<u8>;
const HASHES: [(ObjectIdentifier, HashFn); 4] = [
    (const_oid::db::rfc5912::ID_SHA_1, |b| Sha1::digest(b).to_vec()),
    (const_oid::db::rfc5912::ID_SHA_256, |b| Sha256::digest(b).to_vec()),
    (const_oid::db::rfc5912::ID_SHA_384, |b| Sha384::digest(b).to_vec()),
    (const_oid::db::rfc5912::ID_SHA_512, |b| Sha512::digest(b).to_vec()),
];

/// The CertID most clients send for `serial` (hex): SHA-1 with NULL parameters.
fn sha1_cert_id(issuer: &Issuer, serial: &SerialHex) -> Option<CertId> {
    let (oid, name, key) = issuer.ids.iter().find(|(oid, _, _)| *oid == const_oid::db::rfc5912::ID_SHA_1)?;
    Some(CertId {
        hash_algorithm: AlgorithmIdentifierOwned { oid: *oid, parameters: Some(Any::from(Null)) },
        issuer_name_hash: der::asn1::OctetString::new(name.clone()).ok()?,
        issuer_key_hash: der::asn1::OctetString::new(key.clone()).ok()?,
        serial_number: der::asn1::Int::new(&serial.to_bytes()?).ok()?,
    })
}

// A poisoned lock means a panic between whole-value assignments or map operations that leave the map
// consistent; the responder keeps serving rather than failing every request after it.
fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}
