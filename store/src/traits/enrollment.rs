//! Enrollment credentials (EST, SCEP, ACME external account binding) and SCEP requests held for an operator.

use crate::error::StoreError;
use crate::facility::FacilityId;
use crate::records::{Actor, CredentialRecord, HeldRequest, HeldState};
use hcpki_model::ProfileKind;
use hcpki_model::UnixTime;

/// Enrollment credentials (EST, SCEP, ACME external account binding) and SCEP requests held for an operator.
#[async_trait::async_trait]
pub trait Enrollment: Send + Sync {
    /// Store a new enrollment credential, audited as `enroll.credential.create`. The facility must exist
    /// and may enroll (read inside the transaction): [`StoreError::UnknownFacility`] or
    /// [`StoreError::FacilityState`] otherwise.
    async fn create_credential(&self, record: &CredentialRecord, actor: &Actor, at: UnixTime)
    -> Result<(), StoreError>;

    /// One enrollment credential.
    async fn credential(&self, id: &str) -> Result<Option<CredentialRecord>, StoreError>;

    /// Enrollment credentials, newest first, of one facility or all.
    async fn list_credentials(&self, facility: Option<&FacilityId>) -> Result<Vec<CredentialRecord>, StoreError>;

    /// Revoke an unrevoked credential, audited as `enroll.credential.revoke` (revoking twice changes nothing).
    async fn revoke_credential(&self, id: &str, actor: &Actor, at: UnixTime) -> Result<CredentialRecord, StoreError>;

    /// Mark a credential used, atomically: only if it is unused, unrevoked and unexpired at this moment, so
    /// of two concurrent uses exactly one wins ([`StoreError::CredentialSpent`] for the other). Audited as
    /// `enroll.credential.use` / ok with the profile, in the same transaction.
    async fn redeem_credential(
        &self,
        id: &str,
        profile: ProfileKind,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<(), StoreError>;

    /// Give a redeemed credential back because the enrollment it was redeemed for was refused, audited as
    /// `enroll.credential.release` with the reason.
    async fn release_credential(&self, id: &str, reason: &str, actor: &Actor, at: UnixTime) -> Result<(), StoreError>;

    /// Hold a SCEP request for an operator (audited `scep.request.hold`); refused unless its facility exists
    /// and may enroll.
    async fn hold_scep_request(&self, request: &HeldRequest, actor: &Actor, at: UnixTime) -> Result<(), StoreError>;

    /// A held SCEP request by its ID.
    async fn scep_request(&self, id: &str) -> Result<Option<HeldRequest>, StoreError>;

    /// A held SCEP request by the client's transaction ID on one profile's endpoint.
    async fn scep_request_by_transaction(
        &self,
        profile: ProfileKind,
        transaction_id: &str,
    ) -> Result<Option<HeldRequest>, StoreError>;

    /// Held SCEP requests, newest first, optionally only those in `state` (`pending`, `issued`, `rejected`).
    async fn list_scep_requests(&self, state: Option<&str>) -> Result<Vec<HeldRequest>, StoreError>;

    /// Record an operator's decision on a pending request (audited `scep.request.approve|reject`); refused
    /// unless it is still pending.
    async fn decide_scep_request(
        &self,
        id: &str,
        decision: &HeldState,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<HeldRequest, StoreError>;
}
