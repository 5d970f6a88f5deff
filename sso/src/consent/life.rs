//! A consent's life as a state machine: which moves are allowed from where, judged on a record at a time
//! passed in. Each allowed move is a [`Step`], which [`super::record::apply`] consumes; a refused one is a
//! [`ConsentError`] saying what to do.
//!
//! ```text
//! requested ──show──▶ shown ──sign──▶ signed ──withdraw──▶ withdrawn
//!     │                 │
//!     └─────refuse──────┴──▶ refused        (requested or shown past the deadline: expired)
//! ```

use super::ConsentError;
use super::audit::{Actor, action, consent_event, evidence_detail};
use super::evidence::Evidence;
use super::purpose::{Purpose, Requester};
use super::settings::ConsentSettings;
use crate::patient_key::PatientKey;
use hcpki_ca::FacilityId;
use hcpki_ca::audit::AuditEvent;
use hcpki_ca::person_key::PersonKey;
use hcpki_ca::store::consent::{ConsentDocument, ConsentMove, ConsentRecord, ConsentState};
use hcpki_model::ConsentId;
use serde_json::json;

/// How long before the request a time stamp may be (seconds): the TSA's and the server's clocks differ a
/// little; a larger gap means a signature made for something else.
const CLOCK_SKEW: i64 = 60;

/// Where a consent stands at a time: the stored state, with requested or shown past the deadline read as
/// expired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Asked for, not yet shown.
    Requested,
    /// Shown to the patient.
    Shown,
    /// Signed and live.
    Signed,
    /// Refused.
    Refused,
    /// Not signed by the deadline.
    Expired,
    /// Withdrawn: history.
    Withdrawn,
}

impl Phase {
    /// The phase of `consent` at `now` (Unix seconds).
    pub fn of(consent: &ConsentRecord, now: i64) -> Self {
        let pending = now < consent.expires_at;
        match consent.state {
            ConsentState::Requested if pending => Self::Requested,
            ConsentState::Shown if pending => Self::Shown,
            ConsentState::Requested | ConsentState::Shown => Self::Expired,
            ConsentState::Signed => Self::Signed,
            ConsentState::Refused => Self::Refused,
            ConsentState::Withdrawn => Self::Withdrawn,
        }
    }

    /// The name shown in errors and answers.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Shown => "shown",
            Self::Signed => "signed",
            Self::Refused => "refused",
            Self::Expired => "expired",
            Self::Withdrawn => "withdrawn",
        }
    }
}

/// A consent request, typed at the edge.
#[derive(Clone, Debug)]
pub struct NewConsent {
    /// Who asks.
    pub requester: Requester,
    /// For what.
    pub purpose: Purpose,
    /// At which facility.
    pub facility: FacilityId,
    /// Which patient.
    pub patient: PatientKey,
    /// The signed-in physician.
    pub physician: PersonKey,
}

/// A new consent record and its `consent.requested` event, for [`super::record::open`]. `id` is random
/// (256 bits, base64url; `oidc::secret::random_token(32)` makes one).
pub fn request(
    id: ConsentId,
    new: &NewConsent,
    settings: &ConsentSettings,
    now: i64,
) -> Result<(ConsentRecord, AuditEvent), ConsentError> {
    let consent = ConsentRecord {
        id,
        client_id: new.requester.client_id().to_owned(),
        purpose: new.purpose.as_str().to_owned(),
        facility_id: new.facility.as_str().to_owned(),
        patient_key: new.patient.as_str().to_owned(),
        physician_key: new.physician.to_string(),
        state: ConsentState::Requested,
        created_at: now,
        expires_at: now.saturating_add(settings.deadline()?),
        shown_at: None,
        ended_at: None,
        refusal: None,
        signature: None,
        withdrawal: None,
        withdrawn_at: None,
        network: None,
    };
    let actor = match &new.requester {
        Requester::Service(client) => Actor::Service(client.clone()),
        Requester::Portal => Actor::Person(new.physician.clone()),
    };
    let event = consent_event(&actor, action::REQUESTED, &consent, json!({ "expires_at": consent.expires_at }));
    Ok((consent, event))
}

/// An allowed move of one consent, judged on the state it was read in: not `Clone`, so one judgement is
/// applied once.
#[derive(Debug)]
pub struct Step {
    pub(super) id: ConsentId,
    pub(super) from: ConsentState,
    pub(super) change: ConsentMove,
    pub(super) event: AuditEvent,
    pub(super) documents: Vec<ConsentDocument>,
}

impl Step {
    /// The same step storing `documents` (the signed PDF, the card's authentication certificate) in its
    /// transaction.
    pub fn with_documents(self, documents: Vec<ConsentDocument>) -> Self {
        Self { documents, ..self }
    }

    /// The audit event this step writes.
    pub fn event(&self) -> &AuditEvent {
        &self.event
    }

    /// The move.
    pub fn change(&self) -> &ConsentMove {
        &self.change
    }
}

/// Show a requested consent to the patient.
pub fn show(consent: &ConsentRecord, actor: &Actor, now: i64) -> Result<Step, ConsentError> {
    match Phase::of(consent, now) {
        Phase::Requested => {
            Ok(step(consent, ConsentMove::Show, consent_event(actor, action::SHOWN, consent, json!({}))))
        }
        Phase::Shown => Err(ConsentError::AlreadyShown(consent.id.clone())),
        other => Err(not_pending(consent, other)),
    }
}

/// Record the signature of a shown consent. The time stamp must fall within the request's life: a signature
/// stamped before the request was made is not a signature of it.
pub fn sign(consent: &ConsentRecord, evidence: &Evidence, actor: &Actor, now: i64) -> Result<Step, ConsentError> {
    match Phase::of(consent, now) {
        Phase::Shown => {}
        Phase::Requested => return Err(ConsentError::NotShown(consent.id.clone())),
        other => return Err(not_pending(consent, other)),
    }
    within(evidence, consent.created_at.saturating_sub(CLOCK_SKEW), now.saturating_add(CLOCK_SKEW))?;
    let event = consent_event(actor, action::SIGNED, consent, evidence_detail(evidence));
    Ok(step(consent, ConsentMove::Sign(evidence.to_record()), event))
}

/// Record that the patient declined (requested or shown). `reason` is a short text the physician chose (no
/// personal data: the portal offers fixed reasons).
pub fn refuse(consent: &ConsentRecord, reason: &str, actor: &Actor, now: i64) -> Result<Step, ConsentError> {
    match Phase::of(consent, now) {
        Phase::Requested | Phase::Shown => {}
        other => return Err(not_pending(consent, other)),
    }
    let reason: String = reason.chars().filter(|c| !c.is_control()).take(200).collect();
    let event = consent_event(actor, action::REFUSED, consent, json!({ "reason": reason }));
    Ok(step(consent, ConsentMove::Refuse(reason), event))
}

/// Withdraw (撤回) a signed consent with a signed withdrawal: it ends at once, whenever it comes, and the
/// consent stays as history with both signatures' evidence.
pub fn withdraw(consent: &ConsentRecord, evidence: &Evidence, actor: &Actor, now: i64) -> Result<Step, ConsentError> {
    match Phase::of(consent, now) {
        Phase::Signed => {}
        Phase::Requested | Phase::Shown | Phase::Expired | Phase::Refused => {
            return Err(ConsentError::NotSigned(consent.id.clone()));
        }
        Phase::Withdrawn => return Err(ended(consent, Phase::Withdrawn)),
    }
    let signed_at = consent.signature.as_ref().map_or(consent.created_at, |s| s.time_stamp_at);
    within(evidence, signed_at.saturating_sub(CLOCK_SKEW), now.saturating_add(CLOCK_SKEW))?;
    let event = consent_event(actor, action::WITHDRAWN, consent, evidence_detail(evidence));
    Ok(step(consent, ConsentMove::Withdraw(evidence.to_record()), event))
}

fn step(consent: &ConsentRecord, change: ConsentMove, event: AuditEvent) -> Step {
    Step { id: consent.id.clone(), from: consent.state, change, event, documents: Vec::new() }
}

fn within(evidence: &Evidence, from: i64, to: i64) -> Result<(), ConsentError> {
    let stamped = evidence.time_stamp_at;
    if (from..=to).contains(&stamped) { Ok(()) } else { Err(ConsentError::StampOutsideWindow { stamped, from, to }) }
}

/// The error for a consent that is no longer pending.
fn not_pending(consent: &ConsentRecord, phase: Phase) -> ConsentError {
    match phase {
        Phase::Expired => ConsentError::Expired { id: consent.id.clone(), expired_at: consent.expires_at },
        other => ended(consent, other),
    }
}

fn ended(consent: &ConsentRecord, phase: Phase) -> ConsentError {
    ConsentError::Ended { id: consent.id.clone(), state: phase.as_str() }
}
