//! The hash-chained audit log (see [`crate::audit`]): appending events that go with no other row, reading,
//! pruning after archiving.

use crate::audit::{AuditEntry, AuditEvent, AuditHead};
use crate::error::StoreError;
use hcpki_model::UnixTime;

/// The hash-chained audit log (see [`crate::audit`]): appending events that go with no other row, reading, pruning after archiving.
#[async_trait::async_trait]
pub trait AuditLog: Send + Sync {
    /// Append an event that has no other row to go with (refusals, verifications).
    async fn append_audit(&self, event: &AuditEvent, at: UnixTime) -> Result<AuditEntry, StoreError>;

    /// [`Self::append_audit`] for many events in one transaction (one commit for all: refusals are
    /// group-committed, D28 addendum), each its own chain entry, in the order given: all or none.
    async fn append_audits(&self, events: &[AuditEvent], at: UnixTime) -> Result<Vec<AuditEntry>, StoreError>;

    /// Audit entries with `seq > after`, in order, at most `limit`.
    async fn audit_entries(&self, after: i64, limit: i64) -> Result<Vec<AuditEntry>, StoreError>;

    /// The head of the audit chain.
    async fn audit_head(&self) -> Result<AuditHead, StoreError>;

    /// The last pruned entry (sequence number and hash) the remaining chain links to; `None` when nothing was
    /// ever pruned (the chain starts at the genesis hash).
    async fn audit_anchor(&self) -> Result<Option<AuditHead>, StoreError>;

    /// Delete the entries after the anchor up to `through`, at most `batch` of them, and move the anchor to the
    /// last one deleted, in one transaction (audit retention: the caller archived them first). The new anchor,
    /// or `None` when there was nothing left to prune up to `through`.
    async fn audit_prune(&self, through: i64, batch: i64) -> Result<Option<AuditHead>, StoreError>;

    /// The sequence number of the last entry `destination` (an audit repository, `atna`) acknowledged, or
    /// `None` when nothing was ever forwarded to it.
    async fn audit_forwarded(&self, destination: &str) -> Result<Option<i64>, StoreError>;

    /// Record that `destination` acknowledged every entry up to `seq`, at `now` (Unix seconds). The mark only
    /// moves forward: a smaller `seq` (a replica that fell behind) changes nothing. Not audited (see migration
    /// 0028): the forwarded entries are the record.
    async fn set_audit_forwarded(&self, destination: &str, seq: i64, now: UnixTime) -> Result<(), StoreError>;
}
