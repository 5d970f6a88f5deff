//! Patient-presence proofs (受診確認トークン, issue #49 item 1, D148): the proofs issued and their single use.

use crate::audit::AuditEvent;
use crate::error::StoreError;
use hcpki_model::UnixTime;

/// One patient-presence proof as kept (migration 0033): what it names and whether it was used. The patient is
/// only the service's pairwise reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresenceRecord {
    /// The proof's `jti`.
    pub jti: String,
    /// The relying service it is for (`aud`).
    pub service: String,
    /// The facility where the card was read.
    pub facility_id: String,
    /// The patient as the service's pairwise reference.
    pub patient_ref: String,
    /// When it was issued (Unix seconds).
    pub issued_at: i64,
    /// When it stops holding (Unix seconds).
    pub expires_at: i64,
    /// When it was used, once (Unix seconds).
    pub used_at: Option<i64>,
    /// The OIDC client that used it.
    pub used_by: Option<String>,
}

/// The patient-presence proofs, shared by every replica through the database.
#[async_trait::async_trait]
pub trait PatientPresences: Send + Sync {
    /// Record a proof issued, with its audit entry (`event`), in one transaction.
    async fn presence_issue(&self, record: &PresenceRecord, event: &AuditEvent, at: UnixTime)
    -> Result<(), StoreError>;

    /// The proof with this `jti`.
    async fn presence(&self, jti: &str) -> Result<Option<PresenceRecord>, StoreError>;

    /// Spend the proof `jti` for `client` at `at`, with its audit entry (`event`, written whatever the result):
    /// `true` when this call used it, `false` when it was used before, is unknown or has expired. One conditional
    /// update, so two replicas never both spend one proof.
    async fn presence_use(&self, jti: &str, client: &str, event: &AuditEvent, at: UnixTime)
    -> Result<bool, StoreError>;
}
