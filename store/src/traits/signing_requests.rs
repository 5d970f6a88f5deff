//! Signing requests from relying services (issue #27 item 3, D79–D80): created by a service, shown to and
//! signed by the physician, fetched by the service; every change audited in its own transaction.

use crate::audit::{AuditEntry, AuditEvent};
use crate::error::StoreError;
use crate::records::Actor;
use crate::signing_request::{SigningEnd, SigningRequestRecord};
use hcpki_model::signing_limit::SigningSessionLimit;
use hcpki_model::{FacilityId, SigningRequestId, UnixTime};

/// A facility's limit on signing sessions (D172) as set, with who set it and when (Unix seconds).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FacilitySigningLimit {
    /// The limit.
    #[serde(flatten)]
    pub limit: SigningSessionLimit,
    /// Who set it.
    pub set_by: String,
    /// When.
    pub set_at: i64,
}

/// Signing requests from relying services (issue #27 item 3, D79–D80).
#[async_trait::async_trait]
pub trait SigningRequests: Send + Sync {
    /// Store a new request and the audit entry `created` of its creation in one transaction (`at`: the
    /// entry's time).
    async fn signing_request_create(
        &self,
        request: &SigningRequestRecord,
        created: &AuditEvent,
        at: UnixTime,
    ) -> Result<AuditEntry, StoreError>;

    /// A request, whatever its state, until the housekeeping deletes it.
    async fn signing_request(&self, id: &SigningRequestId) -> Result<Option<SigningRequestRecord>, StoreError>;

    /// End a request that is pending and unexpired at `at` as `end`, with the audit entry `event`, in one
    /// transaction; the request as it is now, or `None` (nothing written) when it was not pending any more
    /// or its time ran out: exactly one of two concurrent finishers wins.
    async fn signing_request_finish(
        &self,
        id: &SigningRequestId,
        end: &SigningEnd,
        event: &AuditEvent,
        at: UnixTime,
    ) -> Result<Option<SigningRequestRecord>, StoreError>;

    /// Record why an attempt on a pending request failed (no time stamp could be had, say), with the audit
    /// entry `event`; the request stays pending so the physician may try again. `false` when it was not pending.
    async fn signing_request_note_error(
        &self,
        id: &SigningRequestId,
        error: &str,
        event: &AuditEvent,
        at: UnixTime,
    ) -> Result<bool, StoreError>;

    /// Set `facility`'s limit on signing sessions, replacing any before, audited as
    /// `facility.signing_limit` (with the limit it replaces) in the same transaction.
    /// [`StoreError::UnknownFacility`] when there is no such facility.
    async fn set_signing_limit(
        &self,
        facility: &FacilityId,
        limit: SigningSessionLimit,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<(), StoreError>;

    /// `facility`'s limit on signing sessions, if one was set (without one, the card agent's own apply).
    async fn signing_limit(&self, facility: &FacilityId) -> Result<Option<FacilitySigningLimit>, StoreError>;

    /// How many facilities set their own limit (the compliance report's installation view).
    async fn signing_limits_set(&self) -> Result<u64, StoreError>;
}
