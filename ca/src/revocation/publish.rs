//! The CRL a server hands out: signed once, then served from memory until the revocation record of its CA
//! (or, for a shard of the PC CA's partitioned CRL, of that shard) changes or it is half-way to its
//! nextUpdate, whichever comes first.
//!
//! Revocations can come from anywhere — this server (ACME), another replica, the CLI in another process —
//! so the cache does not rely on being told: at most every [`RECHECK_SECS`] a request reads the marker of
//! all revocations (count, latest time, reason sum: one pass without a join), and only when that moved (or
//! every [`RELOAD_SECS`]) the CA's own marker, re-signing when that moved. Concurrent
//! requests for the same CRL wait for one signer instead of each signing (single flight per CRL).
//!
//! The root's CRL is the exception once an ARL was imported (`revocation::arl`, issue #9): it is the stored
//! one with the highest number, re-read at most every [`RECHECK_SECS`] in case a newer one was imported, and
//! never signed here, so the root key is never opened. Without an imported ARL the root's CRL is signed on
//! demand like any other (a single machine that keeps its root key).

use super::crl::SignedCrl;
use super::shard::CrlScope;
use super::status::RELOAD_SECS;
use crate::store::ImportedCrl;
use hcpki_model::{CaName, UnixTime};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Mutex;

/// What the cache needs of the authority, declared here so that the cache depends on no more than this (the
/// authority owns the cache and implements it): the revocation markers and imported CRLs of the store, and a
/// signer of a CRL at a given time.
#[async_trait::async_trait]
pub trait CrlSource: Sync {
    /// The source's error; a poisoned cache lock becomes one.
    type Error: From<CachePoisoned> + Send;

    /// The imported CRL (the offline root's ARL) of `ca` with the highest number, if any.
    async fn imported_crl(&self, ca: CaName) -> Result<Option<ImportedCrl>, Self::Error>;

    /// The marker of all revocations (count, latest time, reason sum).
    async fn revocations_marker(&self) -> Result<(i64, i64, i64), Self::Error>;

    /// The marker of the revocations `scope`'s CRL lists (a CA generation's, or one shard's), unexpired at `now`.
    async fn revocation_marker(&self, scope: CrlScope, now: UnixTime) -> Result<(i64, i64, i64), Self::Error>;

    /// Sign the CRL of `scope` at `now`.
    async fn sign_crl_at(&self, scope: CrlScope, now: UnixTime) -> Result<SignedCrl, Self::Error>;
}

/// The cache's lock was poisoned by a panic while it was held.
#[derive(Debug, thiserror::Error)]
#[error("CRL cache poisoned")]
pub struct CachePoisoned;

/// How often a served CRL checks whether its CA's revocations changed: once a second, like the OCSP
/// responder's revocation board, so both show a revocation within about a second.
pub const RECHECK_SECS: i64 = 1;

/// A signed CRL ready to serve.
#[derive(Debug)]
pub struct Published {
    /// The DER CRL.
    pub der: Vec<u8>,
    /// A strong entity tag: hex of the first 16 bytes of SHA-256 of the DER.
    pub etag: String,
    /// thisUpdate (Unix seconds, back-dated): the HTTP `Last-Modified`.
    pub this_update: i64,
    /// nextUpdate (Unix seconds).
    pub next_update: i64,
    /// When it was signed (Unix seconds): thisUpdate without the back-dating. For an imported CRL, when it
    /// was loaded from the store.
    signed_at: i64,
    /// The CRL number of an imported CRL (the offline root's ARL), which this server never re-signs.
    imported: Option<i64>,
    /// The revocation marker it was made from.
    marker: (i64, i64, i64),
    /// When the markers were last compared (Unix seconds).
    checked_at: std::sync::atomic::AtomicI64,
    /// The marker of all revocations when [`Published::marker`] was last confirmed, and when that was: while
    /// it stands, no revocation anywhere changed this CRL, and the per-CA marker (a join per revocation) is
    /// not read; it is read anyway every [`RELOAD_SECS`], for revoked certificates that expire.
    confirmed: std::sync::Mutex<((i64, i64, i64), i64)>,
}

impl Published {
    /// Seconds a cache may keep it: until this server would re-sign it at the latest (an imported one: until
    /// its nextUpdate), at least 1, at most an hour (a newly imported ARL reaches caches within it).
    pub fn max_age(&self, now: UnixTime) -> i64 {
        let until = if self.imported.is_some() { self.next_update } else { self.refresh_at() };
        (until - now.as_secs()).clamp(1, 3600)
    }

    /// The CRL number of an imported CRL; `None` for one this server signed.
    pub fn imported_number(&self) -> Option<i64> {
        self.imported
    }

    /// Half-way from signing to nextUpdate: relying parties that cache until nextUpdate always find a fresh
    /// one. From the signing time, not thisUpdate, so the back-dating does not bring re-signing forward. An
    /// imported CRL is never re-signed: it stands until a newer one is imported (checked every
    /// [`RECHECK_SECS`]), even past its nextUpdate, when a warning says so.
    fn refresh_at(&self) -> i64 {
        match self.imported {
            Some(_) => i64::MAX,
            None => self.signed_at + (self.next_update - self.signed_at) / 2,
        }
    }

    fn from_imported(crl: ImportedCrl, at: UnixTime) -> Self {
        let now = at.as_secs();
        Self {
            etag: etag(&crl.der),
            this_update: crl.this_update,
            next_update: crl.next_update,
            signed_at: now,
            imported: Some(crl.number),
            der: crl.der,
            marker: (0, 0, 0),
            checked_at: std::sync::atomic::AtomicI64::new(now),
            confirmed: std::sync::Mutex::new(((0, 0, 0), now)),
        }
    }
}

/// Hex of the first 16 bytes of SHA-256 of the DER.
fn etag(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der).get(..16).unwrap_or_default())
}

/// One CRL's cache slot; the async mutex is held while signing, so concurrent requests wait for one signer.
type Slot = Arc<Mutex<Option<Arc<Published>>>>;

/// The cache: one slot per CA's complete CRL and per shard CRL asked for (at most 4096 shards).
#[derive(Debug, Default)]
pub struct CrlCache {
    slots: std::sync::Mutex<HashMap<CrlScope, Slot>>,
}

impl CrlCache {
    /// The current CRL of `scope` at `now`, re-signed if its revocations changed or it is half-way to
    /// nextUpdate. The caller passes the time (the authority reads its clock; tests move it).
    pub(crate) async fn current_at<S: CrlSource>(
        &self,
        source: &S,
        scope: CrlScope,
        at: UnixTime,
    ) -> Result<Arc<Published>, S::Error> {
        // A CRL's times and this cache's are whole seconds, as X.509 carries them.
        let now = at.as_secs();
        let slot = {
            let mut slots = self.slots.lock().map_err(|_| CachePoisoned)?;
            slots.entry(scope).or_default().clone()
        };
        // Fast path without waiting for a signer: fresh and recently checked.
        if let Ok(guard) = slot.try_lock()
            && let Some(p) = guard.as_ref()
            && now < p.refresh_at()
            && now - p.checked_at.load(std::sync::atomic::Ordering::Relaxed) < RECHECK_SECS
        {
            return Ok(p.clone());
        }
        let mut guard = slot.lock().await;
        if scope == CrlScope::complete(CaName::Root)
            && let Some(crl) = source.imported_crl(CaName::Root).await?
        {
            let kept = guard.as_ref().filter(|p| p.imported == Some(crl.number)).cloned();
            let loaded = kept.is_none();
            let published = kept.unwrap_or_else(|| Arc::new(Published::from_imported(crl, at)));
            if loaded && published.next_update <= now {
                tracing::warn!(
                    crl_number = published.imported,
                    next_update = %hcpki_pkix::time::rfc3339(published.next_update),
                    "the imported root CRL (ARL) has lapsed: every chain through the root now fails at relying \
                     parties that check it; sign a new ARL at the ceremony and import it (hcpki ca import-arl)"
                );
            }
            published.checked_at.store(now, std::sync::atomic::Ordering::Relaxed);
            *guard = Some(published.clone());
            return Ok(published);
        }
        let all = source.revocations_marker().await?;
        let confirmed = |p: &Published| *p.confirmed.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = guard.as_ref()
            && now < p.refresh_at()
            && let (seen, at) = confirmed(p)
            && seen == all
            && now - at < RELOAD_SECS
        {
            p.checked_at.store(now, std::sync::atomic::Ordering::Relaxed);
            return Ok(p.clone());
        }
        let marker = source.revocation_marker(scope, at).await?;
        if let Some(p) = guard.as_ref()
            && now < p.refresh_at()
            && p.marker == marker
        {
            *p.confirmed.lock().unwrap_or_else(|e| e.into_inner()) = (all, now);
            p.checked_at.store(now, std::sync::atomic::Ordering::Relaxed);
            return Ok(p.clone());
        }
        let signed = source.sign_crl_at(scope, at).await?;
        let published = Arc::new(Published {
            etag: etag(&signed.der),
            this_update: signed.this_update,
            next_update: signed.next_update,
            signed_at: now,
            imported: None,
            der: signed.der,
            marker,
            checked_at: std::sync::atomic::AtomicI64::new(now),
            confirmed: std::sync::Mutex::new((all, now)),
        });
        *guard = Some(published.clone());
        Ok(published)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authority::CaName;
    use crate::revoker::CRL_VALIDITY_SECS;
    use der::Decode;

    fn times(der: &[u8]) -> (i64, i64) {
        let crl: x509_cert::crl::CertificateList = x509_cert::crl::CertificateList::from_der(der).unwrap();
        let next = crl.tbs_cert_list.next_update.unwrap();
        (hcpki_pkix::time::unix(&crl.tbs_cert_list.this_update), hcpki_pkix::time::unix(&next))
    }

    /// thisUpdate is the signing time back-dated by the setting (a relying party a few minutes behind
    /// accepts it), nextUpdate a full validity after signing, and the CRL is re-signed half-way from signing
    /// to nextUpdate: never handed out near its nextUpdate.
    #[tokio::test]
    async fn served_crls_are_back_dated_and_re_signed_half_way_to_next_update() {
        let dir = tempfile::tempdir().unwrap();
        let authority = crate::authority::tests::authority(dir.path()).await;
        let backdate = authority.settings().backdate();
        assert_eq!(backdate, 300, "the default: five minutes, as certificates' notBefore");
        let cache = CrlCache::default();
        let scope = CrlScope::from(CaName::Router);
        let at = authority.clock().now();
        let now = at.as_secs();

        let first = cache.current_at(authority.revoker(), scope, at).await.unwrap();
        assert_eq!((first.this_update, first.next_update), (now - backdate, now + CRL_VALIDITY_SECS));
        assert_eq!(times(&first.der), (first.this_update, first.next_update), "the DER carries the same times");

        let half_way = now + CRL_VALIDITY_SECS / 2;
        let second = |s| UnixTime::from_secs(s);
        let before = cache.current_at(authority.revoker(), scope, second(half_way - 1)).await.unwrap();
        assert!(Arc::ptr_eq(&first, &before), "kept until half-way");
        assert!(first.max_age(second(half_way - 1)) >= 1);
        let after = cache.current_at(authority.revoker(), scope, second(half_way)).await.unwrap();
        assert!(!Arc::ptr_eq(&first, &after), "re-signed half-way");
        assert_eq!(after.this_update, half_way - backdate);
        assert_eq!(after.next_update, half_way + CRL_VALIDITY_SECS);
    }
}
