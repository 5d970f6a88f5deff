//! Which database this is and what it does for the whole process: health checks, snapshots and the backups
//! taken from them, caches.

use crate::error::StoreError;
use crate::records::{Actor, BackupRecord};
use hcpki_model::UnixTime;

/// Which database a store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite (the default).
    Sqlite,
    /// PostgreSQL (for several server replicas).
    Postgres,
}

/// Which database this is and what it does for the whole process: health checks, snapshots, caches.
#[async_trait::async_trait]
pub trait Maintenance: Send + Sync {
    /// Which database this is.
    fn backend(&self) -> Backend;

    /// Write a consistent copy of the whole database to `path` (a file that must not exist yet) while the
    /// database stays in use: SQLite's `VACUUM INTO`, one read transaction. PostgreSQL answers
    /// [`StoreError::SnapshotUnsupported`]: its own tools do this better (point-in-time recovery).
    async fn snapshot_into(&self, path: &std::path::Path) -> Result<(), StoreError>;

    /// Give back what the database layer caches inside this process, for an idle server: SQLite's page caches
    /// of the connections nobody is using (`PRAGMA shrink_memory`; a busy connection is left alone). Nothing for
    /// PostgreSQL, whose caches live in the database server. Returns how many connections gave theirs back.
    async fn release_memory(&self) -> Result<usize, StoreError>;

    /// One cheap round trip, for health checks: `Ok` when the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Record a backup just written (its manifest synced), audited as `backup.taken` by `actor` in the same
    /// transaction. The record is written after the copy, so the copy never holds its own record.
    async fn record_backup(&self, backup: &BackupRecord, actor: &Actor, at: UnixTime) -> Result<(), StoreError>;

    /// The newest backup recorded, if any.
    async fn last_backup(&self) -> Result<Option<BackupRecord>, StoreError>;
}
