//! Physicians' delegations to staff accounts (issue #29 item 4, D95): every change audited in its own
//! transaction.

use crate::audit::{AuditEntry, AuditEvent};
use crate::delegation::DelegationRecord;
use crate::error::StoreError;
use hcpki_model::{DelegationId, UnixTime};

/// Physicians' delegations to staff accounts (issue #29 item 4, D95).
#[async_trait::async_trait]
pub trait Delegations: Send + Sync {
    /// Store a new delegation with its audit entry `event` (at `at`) in one transaction.
    async fn delegation_create(
        &self,
        delegation: &DelegationRecord,
        event: &AuditEvent,
        at: UnixTime,
    ) -> Result<AuditEntry, StoreError>;

    /// A delegation, whatever its state.
    async fn delegation(&self, id: &DelegationId) -> Result<Option<DelegationRecord>, StoreError>;

    /// The delegations `physician_key` made that are live at `now` (not ended, not run out), newest first.
    async fn delegations_by(&self, physician_key: &str, now: UnixTime) -> Result<Vec<DelegationRecord>, StoreError>;

    /// The delegations to staff account `username` live at `now`, newest first.
    async fn delegations_to(&self, username: &str, now: UnixTime) -> Result<Vec<DelegationRecord>, StoreError>;

    /// End delegation `id` of `physician_key` that has not ended yet, with the audit entry `event`, in one
    /// transaction that also revokes every OIDC grant of the sessions that acted under it (their refresh tokens
    /// stop working; introspection answers inactive for their access tokens). The delegation as ended and how
    /// many grants were revoked, or `None` (nothing written) when it is not this physician's or ended already.
    async fn delegation_end(
        &self,
        id: &DelegationId,
        physician_key: &str,
        event: &AuditEvent,
        at: UnixTime,
    ) -> Result<Option<(DelegationRecord, u64)>, StoreError>;

    /// Make session `session_hash` act under delegation `id` (`Some`) or as itself again (`None`), with the
    /// audit entry `event`, in one transaction: the session's previous choice is stopped either way. The
    /// caller has checked that the delegation is the session's person's and live.
    async fn delegation_choose(
        &self,
        session_hash: &str,
        id: Option<&DelegationId>,
        event: &AuditEvent,
        at: UnixTime,
    ) -> Result<AuditEntry, StoreError>;

    /// The delegation session `session_hash` chose to act under and has not stopped, whatever its state (an
    /// ended or run-out one is refused by the caller with its reason).
    async fn delegation_acting(&self, session_hash: &str) -> Result<Option<DelegationRecord>, StoreError>;
}
