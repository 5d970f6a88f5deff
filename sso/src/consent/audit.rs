//! The audit events of consents and identity links: `consent.requested / shown / signed / refused /
//! withdrawn`, `identity.linked / corrected`. The patient appears as the pseudonymous key only; the detail
//! holds hashes, names of purposes and levels, never the four items or anything read from the card but hashes.

use super::evidence::{Evidence, Signer};
use hcpki_ca::audit::{AuditEvent, Outcome};
use hcpki_ca::person_key::PersonKey;
use hcpki_ca::store::consent::ConsentRecord;
use serde_json::{Value, json};

/// Who acted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// A relying service (its client id).
    Service(String),
    /// A person signed in at the portal: the physician (for the patient at the agent, too) or staff.
    Person(PersonKey),
}

impl Actor {
    /// The audit actor text, as the signing requests write it.
    pub fn as_text(&self) -> String {
        match self {
            Self::Service(client) => format!("oidc:{client}"),
            Self::Person(key) => format!("portal:{key}"),
        }
    }
}

/// The action names.
pub mod action {
    /// A consent was asked for.
    pub const REQUESTED: &str = "consent.requested";
    /// Shown to the patient.
    pub const SHOWN: &str = "consent.shown";
    /// Signed.
    pub const SIGNED: &str = "consent.signed";
    /// Refused.
    pub const REFUSED: &str = "consent.refused";
    /// Withdrawn (撤回).
    pub const WITHDRAWN: &str = "consent.withdrawn";
    pub const WITHDRAWAL_PREPARED: &str = "consent.withdrawal_prepared";
    pub const ATTESTATION_PREPARED: &str = "consent.attestation_prepared";
    /// A patient key was first linked to a card.
    pub const LINKED: &str = "identity.linked";
    /// A link was corrected (a new card, say after an address change).
    pub const CORRECTED: &str = "identity.corrected";
}

/// The event of `action` on `consent` by `actor`, with `extra` fields merged into the common detail.
pub fn consent_event(actor: &Actor, action: &str, consent: &ConsentRecord, extra: Value) -> AuditEvent {
    let mut detail = json!({
        "patient": consent.patient_key,
        "client": consent.client_id,
        "purpose": consent.purpose,
        "facility": consent.facility_id,
    });
    if let (Some(map), Value::Object(extra)) = (detail.as_object_mut(), extra) {
        map.extend(extra);
    }
    AuditEvent {
        actor: actor.as_text(),
        action: action.to_owned(),
        target: consent.id.to_string(),
        outcome: Outcome::Ok,
        detail,
    }
}

/// The detail fields of a signature's evidence: the weaker level (and why) is in every entry that has one.
pub fn evidence_detail(evidence: &Evidence) -> Value {
    let mut detail = json!({
        "evidence_level": evidence.signer.level().as_str(),
        "document_sha256": evidence.document.as_str(),
        "format": evidence.format,
        "level": evidence.level,
        "signer_sha256": evidence.signer_certificate.as_str(),
        "time_stamp_at": evidence.time_stamp_at,
    });
    if let (Signer::PhysicianAttesting(reason), Some(map)) = (evidence.signer, detail.as_object_mut()) {
        map.insert("attestation_reason".into(), reason.as_str().into());
    }
    detail
}

/// An identity link event: the target is the patient key.
pub fn identity_event(actor: &Actor, action: &str, patient_key: &str, detail: Value) -> AuditEvent {
    AuditEvent {
        actor: actor.as_text(),
        action: action.to_owned(),
        target: patient_key.to_owned(),
        outcome: Outcome::Ok,
        detail,
    }
}
