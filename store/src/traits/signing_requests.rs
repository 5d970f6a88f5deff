//! Signing requests from relying services (issue #27 item 3, D79–D80): created by a service, shown to and
//! signed by the physician, fetched by the service; every change audited in its own transaction.

use crate::audit::{AuditEntry, AuditEvent};
use crate::error::StoreError;
use crate::signing_request::{SigningEnd, SigningRequestRecord};
use hcpki_model::{SigningRequestId, UnixTime};

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
}
