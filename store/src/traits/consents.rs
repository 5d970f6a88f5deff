//! Patients' consents and identity links (issue #28, D88): every change audited in its own transaction, moved
//! only from the state the caller read.

use crate::audit::{AuditEntry, AuditEvent};
use crate::consent::{ConsentDocument, ConsentMove, ConsentRecord, ConsentState, DocumentKind, IdentityLinkRecord};
use crate::error::StoreError;
use crate::facility::FacilityId;
use hcpki_model::{ConsentId, UnixTime};

/// Patients' consents and identity links (issue #28, D88).
#[async_trait::async_trait]
pub trait Consents: Send + Sync {
    /// Store a new consent request, its `documents` (the rendered PDF) and its audit entry `event` in one
    /// transaction (`at`: the entry's time).
    async fn consent_create(
        &self,
        consent: &ConsentRecord,
        documents: &[ConsentDocument],
        event: &AuditEvent,
        at: UnixTime,
    ) -> Result<AuditEntry, StoreError>;

    /// A consent, whatever its state.
    async fn consent(&self, id: &ConsentId) -> Result<Option<ConsentRecord>, StoreError>;

    /// Move a consent that is still in `from` as `change` says, with the audit entry `event`, in one
    /// transaction; the consent as it is now, or `None` (nothing written) when it is not in `from` any more,
    /// its time ran out (showing, signing, refusing), or another consent of the same service, patient and
    /// purpose is live already (signing): exactly one of two racing writers wins. The store does not judge
    /// whether `from` → `change` is allowed: that is the caller's state machine.
    async fn consent_move(
        &self,
        id: &ConsentId,
        from: ConsentState,
        change: &ConsentMove,
        documents: &[ConsentDocument],
        event: &AuditEvent,
        at: UnixTime,
    ) -> Result<Option<ConsentRecord>, StoreError>;

    /// The live (signed, not withdrawn) consent of `patient_key` for `client_id` and `purpose`, if any.
    async fn consent_live(
        &self,
        client_id: &str,
        patient_key: &str,
        purpose: &str,
    ) -> Result<Option<ConsentRecord>, StoreError>;

    /// Every consent of `patient_key` kept, oldest first (withdrawn and refused ones included).
    async fn consent_history(&self, patient_key: &str) -> Result<Vec<ConsentRecord>, StoreError>;

    /// Delete, at most `limit` at a time, consents that were never signed and whose deadline passed before
    /// `unsigned_before`, and refused or withdrawn ones that ended before `ended_before` (Unix seconds): the
    /// retention (D88). A live consent is never deleted; a deleted consent's documents go with it. The number
    /// deleted.
    async fn consent_sweep(
        &self,
        unsigned_before: UnixTime,
        ended_before: UnixTime,
        limit: i64,
    ) -> Result<u64, StoreError>;

    /// Document `kind` of consent `consent_id`.
    async fn consent_document(
        &self,
        consent_id: &ConsentId,
        kind: DocumentKind,
    ) -> Result<Option<ConsentDocument>, StoreError>;

    /// Store (or replace) `document` of an existing consent with its audit entry `event` in one transaction: a
    /// withdrawal or attestation rendered after the request.
    async fn consent_document_put(
        &self,
        document: &ConsentDocument,
        event: &AuditEvent,
        at: UnixTime,
    ) -> Result<AuditEntry, StoreError>;

    /// Consents of `client_id` withdrawn at or after `since` (Unix seconds), oldest first, at most `limit`: what
    /// a service polls to learn of withdrawals.
    async fn consents_withdrawn_since(
        &self,
        client_id: &str,
        since: UnixTime,
        limit: i64,
    ) -> Result<Vec<ConsentRecord>, StoreError>;

    /// The identity link of `patient_key`, if any.
    async fn identity_link(&self, patient_key: &str) -> Result<Option<IdentityLinkRecord>, StoreError>;

    /// The identity links of a facility whose signing or user-authentication certificate has the SHA-256
    /// `certificate_sha256` (a later visit's card, or a check that a card is linked to one patient only).
    async fn identity_links_of_certificate(
        &self,
        facility_id: &FacilityId,
        certificate_sha256: &str,
    ) -> Result<Vec<IdentityLinkRecord>, StoreError>;

    /// Write `link` with the audit entry `event` in one transaction: a new link when `previous_generation` is
    /// `None` (nothing written, `false`, when the patient key is linked already), or an update of the link
    /// whose generation is `previous_generation` (`false` when it changed meanwhile). `link.generation` must be
    /// one more than `previous_generation` (1 for a new link).
    async fn identity_link_save(
        &self,
        link: &IdentityLinkRecord,
        previous_generation: Option<i64>,
        event: &AuditEvent,
        at: UnixTime,
    ) -> Result<bool, StoreError>;
}
