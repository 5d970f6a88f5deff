//! The revocation state a server answers from without asking the database: every CA's revoked, unexpired
//! certificates in memory, reloaded when the CA's revocation marker moves.
//!
//! The OCSP responder and the mutual-TLS check both read it (`lookup`, no I/O, no await), so a revocation
//! written anywhere — this process, another replica, the CLI — reaches both after one [`RevocationBoard::refresh`].
//! `hcpki serve` refreshes every CA once a second. Each round first reads the marker of all revocations (one
//! pass over `certificate_revocations`, no join); only when that moved does it read the CA's own marker (a
//! join with `certificates` per revocation: ~0.16 s for 30,000 revocations on SQLite at 100,000 facilities,
//! too much to run for three CAs every second at 600,000), and the full set is loaded only when the CA's marker
//! moved (or every [`RELOAD_SECS`], which also catches what the markers cannot see: a revoked certificate
//! expiring, a hold released and another placed in the same second).
//!
//! Each reload returns the serials whose status changed, so caches built on top (pre-signed OCSP answers)
//! drop exactly those, and bumps the CA's *generation*, so a cache can tell that a status it read before the
//! reload may be stale.

use super::Reason;
use crate::authority::CaName;
use crate::store::{Revocations, StoreError};
use hcpki_model::SerialHex;
use hcpki_pkix::time::UnixTime;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// A full reload at least this often, whatever the marker says.
pub const RELOAD_SECS: i64 = 60;

/// A certificate's revocation: when and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Revocation {
    /// revocationDate (Unix seconds).
    pub at: i64,
    /// The reason.
    pub reason: Reason,
}

/// One CA's revoked certificates as last loaded.
#[derive(Debug, Default)]
struct RevokedSet {
    /// By serial (lowercase hex of the INTEGER content octets, as stored).
    entries: HashMap<SerialHex, Revocation>,
    /// The store's revocation marker of this CA when loaded.
    marker: (i64, i64, i64),
    /// The marker of all revocations when this CA's marker was last read.
    all: std::sync::Mutex<(i64, i64, i64)>,
    /// When it was loaded (Unix seconds); 0 = never.
    loaded_at: i64,
    /// Bumped on every reload that changed something.
    generation: u64,
}

/// The revocation state of the CAs a server answers for.
#[derive(Debug)]
pub struct RevocationBoard {
    sets: HashMap<CaName, RwLock<Arc<RevokedSet>>>,
}

impl RevocationBoard {
    /// An empty board for `cas`; [`RevocationBoard::refresh`] fills it.
    pub fn new(cas: &[CaName]) -> Self {
        Self { sets: cas.iter().map(|ca| (*ca, RwLock::new(Arc::default()))).collect() }
    }

    /// The CAs it holds.
    pub fn cas(&self) -> impl Iterator<Item = CaName> + '_ {
        self.sets.keys().copied()
    }

    /// Whether `ca` was loaded at least once (a server must not answer `good` before that).
    pub fn loaded(&self, ca: CaName) -> bool {
        self.set(ca).is_some_and(|s| s.loaded_at > 0)
    }

    /// The revocation of `serial` (stored hex form) issued by `ca`, if it is revoked.
    pub fn lookup(&self, ca: CaName, serial: &str) -> Option<Revocation> {
        self.set(ca)?.entries.get(serial).copied()
    }

    /// The revocation of `serial` under any CA on the board (serials are unique across an hcpki hierarchy).
    pub fn lookup_any(&self, serial: &str) -> Option<Revocation> {
        self.sets.keys().find_map(|ca| self.lookup(*ca, serial))
    }

    /// The CA's generation: it changes whenever a reload changed the CA's revoked set.
    pub fn generation(&self, ca: CaName) -> u64 {
        self.set(ca).map_or(0, |s| s.generation)
    }

    /// Reload `ca`'s set if its marker moved, the set is older than [`RELOAD_SECS`], or `force`; returns the
    /// serials whose revocation appeared, disappeared (a hold released) or changed.
    pub async fn refresh(
        &self,
        store: &dyn Revocations,
        ca: CaName,
        now: UnixTime,
        force: bool,
    ) -> Result<Vec<SerialHex>, StoreError> {
        let Some(current) = self.set(ca) else { return Ok(Vec::new()) };
        let fresh = !force && now.as_secs() - current.loaded_at < RELOAD_SECS;
        let all = store.revocations_marker().await?;
        let seen = || current.all.lock().unwrap_or_else(|e| e.into_inner());
        if fresh && *seen() == all {
            return Ok(Vec::new());
        }
        let marker = store.revocation_marker(ca, None, None, now).await?;
        if fresh && marker == current.marker {
            // Another CA's revocations moved: remember it, so the next rounds are cheap again.
            *seen() = all;
            return Ok(Vec::new());
        }
        let entries: HashMap<SerialHex, Revocation> = store
            .revoked_of_ca(ca, None, None, now)
            .await?
            .into_iter()
            .map(|(serial, at, code)| (serial, Revocation { at, reason: Reason::from_code_or_unspecified(code) }))
            .collect();
        let changed = diff(&current.entries, &entries);
        let generation = current.generation + u64::from(!changed.is_empty());
        let next = Arc::new(RevokedSet {
            entries,
            marker,
            all: std::sync::Mutex::new(all),
            loaded_at: now.as_secs(),
            generation,
        });
        if let Some(slot) = self.sets.get(&ca)
            && let Ok(mut guard) = slot.write()
        {
            *guard = next;
        }
        Ok(changed)
    }

    fn set(&self, ca: CaName) -> Option<Arc<RevokedSet>> {
        // A poisoned lock only means a writer panicked between two whole-Arc assignments: the value is intact.
        self.sets.get(&ca).map(|slot| slot.read().unwrap_or_else(|e| e.into_inner()).clone())
    }
}

/// Serials in exactly one of the two sets, or in both with a different revocation.
fn diff(old: &HashMap<SerialHex, Revocation>, new: &HashMap<SerialHex, Revocation>) -> Vec<SerialHex> {
    let mut changed: Vec<SerialHex> =
        new.iter().filter(|(serial, r)| old.get(*serial) != Some(*r)).map(|(s, _)| s.clone()).collect();
    changed.extend(old.keys().filter(|serial| !new.contains_key(*serial)).cloned());
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::revocation::CrlReason;

    fn set(items: &[(&str, i64, CrlReason)]) -> HashMap<SerialHex, Revocation> {
        items.iter().map(|(s, at, r)| (s.parse().unwrap(), Revocation { at: *at, reason: Reason(*r) })).collect()
    }

    #[test]
    fn diff_finds_added_removed_and_changed_serials() {
        let old = set(&[("01", 10, CrlReason::CertificateHold), ("02", 11, CrlReason::KeyCompromise)]);
        let new = set(&[("01", 10, CrlReason::CessationOfOperation), ("03", 12, CrlReason::Superseded)]);
        let mut changed = diff(&old, &new);
        changed.sort();
        assert_eq!(changed, ["01", "02", "03"]);
        assert!(diff(&new, &new).is_empty());
    }
}
