//! The CRL a server hands out: signed once, then served from memory until the revocation record of its CA
//! (or, for a shard of the PC CA's partitioned CRL, of that shard) changes or it is half-way to its
//! nextUpdate, whichever comes first.
//!
//! Revocations can come from anywhere — this server (ACME), another replica, the CLI in another process —
//! so the cache does not rely on being told: at most every [`RECHECK_SECS`] a request reads the CA's
//! revocation marker (count and latest time, one indexed query) and re-signs when it moved. Concurrent
//! requests for the same CRL wait for one signer instead of each signing (single flight per CRL).

use super::shard::{CrlScope, Shard};
use crate::authority::{Authority, AuthorityError};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Mutex;

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
    /// thisUpdate (Unix seconds): the HTTP `Last-Modified`.
    pub this_update: i64,
    /// nextUpdate (Unix seconds).
    pub next_update: i64,
    /// The revocation marker it was made from.
    marker: (i64, i64, i64),
    /// When the marker was last compared (Unix seconds).
    checked_at: std::sync::atomic::AtomicI64,
}

impl Published {
    /// Seconds a cache may keep it: until this server would re-sign it at the latest, at least 1.
    pub fn max_age(&self, now: i64) -> i64 {
        (self.refresh_at() - now).clamp(1, 3600)
    }

    /// Half-way to nextUpdate: relying parties that cache until nextUpdate always find a fresh one.
    fn refresh_at(&self) -> i64 {
        self.this_update + (self.next_update - self.this_update) / 2
    }
}

/// One CRL's cache slot; the async mutex is held while signing, so concurrent requests wait for one signer.
type Slot = Arc<Mutex<Option<Arc<Published>>>>;

/// The cache: one slot per CA's complete CRL and per shard CRL asked for (at most 4096 shards).
#[derive(Debug, Default)]
pub struct CrlCache {
    slots: std::sync::Mutex<HashMap<CrlScope, Slot>>,
}

impl CrlCache {
    /// The current CRL of `scope`, re-signed if its revocations changed or it is half-way to nextUpdate.
    pub async fn current(&self, authority: &Authority, scope: CrlScope) -> Result<Arc<Published>, AuthorityError> {
        let slot = {
            let mut slots = self.slots.lock().map_err(|_| AuthorityError::Batch("CRL cache poisoned".into()))?;
            slots.entry(scope).or_default().clone()
        };
        let now = crate::time::now_unix();
        // Fast path without waiting for a signer: fresh and recently checked.
        if let Ok(guard) = slot.try_lock()
            && let Some(p) = guard.as_ref()
            && now < p.refresh_at()
            && now - p.checked_at.load(std::sync::atomic::Ordering::Relaxed) < RECHECK_SECS
        {
            return Ok(p.clone());
        }
        let mut guard = slot.lock().await;
        let shard = scope.shard_index().map(Shard::index);
        let marker = authority.store().revocation_marker(scope.ca().as_str(), shard, now).await?;
        if let Some(p) = guard.as_ref()
            && now < p.refresh_at()
            && p.marker == marker
        {
            p.checked_at.store(now, std::sync::atomic::Ordering::Relaxed);
            return Ok(p.clone());
        }
        let der = authority.crl_at(scope, now).await?;
        let published = Arc::new(Published {
            etag: hex::encode(Sha256::digest(&der).get(..16).unwrap_or_default()),
            this_update: now,
            next_update: now + crate::authority::revocation::CRL_VALIDITY_SECS,
            der,
            marker,
            checked_at: std::sync::atomic::AtomicI64::new(now),
        });
        *guard = Some(published.clone());
        Ok(published)
    }
}
