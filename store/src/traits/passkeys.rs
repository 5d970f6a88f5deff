//! Passkeys (WebAuthn credentials, issue #48 item 1, D147): the credentials people registered, their counters
//! and backup flags, their names and revocation.

use crate::audit::AuditEvent;
use crate::error::StoreError;
use crate::records::Actor;
use hcpki_model::passkey_attestation::AttestationPolicy;
use hcpki_model::{FacilityId, UnixTime};

/// A facility's rule on passkeys (D170) as set, with who set it and when (Unix seconds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FacilityPasskeyRule {
    /// Which authenticators the facility admits.
    pub rule: AttestationPolicy,
    /// Who set it.
    pub set_by: String,
    /// When.
    pub set_at: i64,
}

/// One passkey as kept (migration 0034). Binary values are base64url text, flags 0/1, times Unix seconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasskeyRecord {
    /// The credential id (base64url): the key the browser names at sign-in.
    pub credential_id: String,
    /// The person it signs in (the session's `person_key` at registration).
    pub person_key: String,
    /// The WebAuthn user handle given at registration (base64url).
    pub user_handle: String,
    /// The person's display name at registration (the passkey session's subject name).
    pub subject_name: String,
    /// The role the account record held at registration (password accounts only; a card's hcRole is never
    /// carried over to a passkey, D147).
    pub subject_role: Option<String>,
    /// The public key as COSE_Key bytes (base64url).
    pub public_key: String,
    /// The COSE algorithm (-7, -8, -257).
    pub algorithm: i64,
    /// The signature counter after the last accepted use.
    pub sign_count: i64,
    /// BE: the credential may be synced; fixed at registration.
    pub backup_eligible: bool,
    /// BS: it was backed up at its last use.
    pub backup_state: bool,
    /// The transports the browser reported (`internal,hybrid`, …).
    pub transports: String,
    /// The authenticator model (hex; zeros when unknown).
    pub aaguid: String,
    /// How the model was attested: `none`, `self`, `basic`.
    pub attestation: String,
    /// The person's name for it.
    pub name: String,
    /// When it was registered.
    pub created_at: i64,
    /// When it last signed in.
    pub last_used_at: Option<i64>,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
}

/// The passkeys, shared by every replica through the database.
#[async_trait::async_trait]
pub trait Passkeys: Send + Sync {
    /// Register `record` with its audit entry (`event`) in one transaction: `false` (and nothing written but
    /// the entry, marked denied) when the credential id is already registered.
    async fn passkey_add(&self, record: &PasskeyRecord, event: &AuditEvent, at: UnixTime) -> Result<bool, StoreError>;

    /// The passkey with this credential id, revoked or not.
    async fn passkey(&self, credential_id: &str) -> Result<Option<PasskeyRecord>, StoreError>;

    /// The passkeys of `person_key`, revoked ones too, oldest first.
    async fn passkeys_of(&self, person_key: &str) -> Result<Vec<PasskeyRecord>, StoreError>;

    /// Record a sign-in with `credential_id` whose counter is now `sign_count`, with its audit entry (`event`,
    /// marked denied when refused): `true` when this call recorded it; `false` when the passkey is revoked or
    /// unknown, or the counter did not increase (unless both it and the stored one are 0, an authenticator
    /// that keeps no counter). One conditional update, so two replicas never accept the same counter twice.
    async fn passkey_use(
        &self,
        credential_id: &str,
        sign_count: i64,
        backup_state: bool,
        event: &AuditEvent,
        at: UnixTime,
    ) -> Result<bool, StoreError>;

    /// Rename `person_key`'s live passkey `credential_id`, with its audit entry: whether it was found.
    async fn passkey_rename(
        &self,
        person_key: &str,
        credential_id: &str,
        name: &str,
        event: &AuditEvent,
        at: UnixTime,
    ) -> Result<bool, StoreError>;

    /// Revoke `person_key`'s live passkey `credential_id` at `at`, with its audit entry, and in the same
    /// transaction end every live session it opened (`card_id` `passkey:<credential id>`, end reason
    /// `passkey-revoked`) and revoke their grants; their back-channel logout is left to a server replica
    /// ([`Sessions::portal_claim_ended_sessions`](crate::traits::Sessions::portal_claim_ended_sessions)). The
    /// passkey as revoked and how many sessions ended, if it was live.
    async fn passkey_revoke(
        &self,
        person_key: &str,
        credential_id: &str,
        event: &AuditEvent,
        at: UnixTime,
    ) -> Result<Option<(PasskeyRecord, usize)>, StoreError>;

    /// Set `facility`'s rule on passkeys, replacing any before, audited as `facility.passkey_rule` (with the rule
    /// it replaces) in the same transaction. [`StoreError::UnknownFacility`] when there is no such facility.
    async fn set_passkey_rule(
        &self,
        facility: &FacilityId,
        rule: &AttestationPolicy,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<(), StoreError>;

    /// `facility`'s rule on passkeys, if one was set (without one, any passkey is admitted).
    async fn passkey_rule(&self, facility: &FacilityId) -> Result<Option<FacilityPasskeyRule>, StoreError>;
}
