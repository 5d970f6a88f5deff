//! Applying the core's judgements to the store: one transaction each with its audit entry, written only from
//! the state judged on; when another writer got there first, the answer says what happened instead.

use super::ConsentError;
use super::evidence::Sha256Hex;
use super::identity::{self, Confirmation, LinkSave};
use super::life::{Phase, Step};
use super::settings::ConsentSettings;
use crate::patient_key::PatientKey;
use hcpki_ca::audit::AuditEvent;
use hcpki_ca::store::Consents;
use hcpki_ca::store::consent::{ConsentDocument, ConsentMove, ConsentRecord, IdentityLinkRecord};
use hcpki_model::ConsentId;
use hcpki_pkix::time::UnixTime;

/// Store a new consent request ([`super::life::request`]) with its `documents` (the rendered PDF), unless the
/// patient already has a live consent for the service and purpose.
pub async fn open(
    store: &dyn Consents,
    consent: &ConsentRecord,
    documents: &[ConsentDocument],
    event: &AuditEvent,
    at_ms: i64,
) -> Result<(), ConsentError> {
    if let Some(live) = store.consent_live(&consent.client_id, &consent.patient_key, &consent.purpose).await? {
        return Err(ConsentError::AlreadyConsented(live.id));
    }
    store.consent_create(consent, documents, event, UnixTime::from_millis(at_ms)).await?;
    Ok(())
}

/// A consent by id.
pub async fn read(store: &dyn Consents, id: &ConsentId) -> Result<ConsentRecord, ConsentError> {
    store.consent(id).await?.ok_or_else(|| ConsentError::Unknown(id.clone()))
}

/// Apply `step` at `at_ms`; the consent as it is now. When it was moved meanwhile, the error says how: a
/// racing signature of another consent (`AlreadyConsented`), a deadline that passed (`Expired`), or another
/// writer's move (`Raced`, naming the state it is in now).
pub async fn apply(store: &dyn Consents, step: Step, at_ms: i64) -> Result<ConsentRecord, ConsentError> {
    if let Some(moved) = store
        .consent_move(&step.id, step.from, &step.change, &step.documents, &step.event, UnixTime::from_millis(at_ms))
        .await?
    {
        return Ok(moved);
    }
    let now = at_ms.div_euclid(1000);
    let current = read(store, &step.id).await?;
    if current.state == step.from {
        if Phase::of(&current, now) == Phase::Expired {
            return Err(ConsentError::Expired { id: current.id, expired_at: current.expires_at });
        }
        if matches!(step.change, ConsentMove::Sign(_))
            && let Some(live) = store.consent_live(&current.client_id, &current.patient_key, &current.purpose).await?
        {
            return Err(ConsentError::AlreadyConsented(live.id));
        }
    }
    Err(ConsentError::Raced(format!("consent {}", current.id), Phase::of(&current, now).as_str()))
}

/// Link or correct the patient's card after staff confirmed it; the link as stored, or `None` when it already
/// said this (nothing written).
pub async fn save_link(
    store: &dyn Consents,
    confirmation: &Confirmation,
    at_ms: i64,
) -> Result<Option<IdentityLinkRecord>, ConsentError> {
    let patient = confirmation.patient.as_str();
    let current = store.identity_link(patient).await?;
    let of_card =
        store.identity_links_of_certificate(&confirmation.facility, confirmation.card.signing.as_str()).await?;
    let Some(LinkSave { link, previous_generation, event }) =
        identity::link(current.as_ref(), &of_card, confirmation, at_ms.div_euclid(1000))?
    else {
        return Ok(None);
    };
    if store.identity_link_save(&link, previous_generation, &event, UnixTime::from_millis(at_ms)).await? {
        Ok(Some(link))
    } else {
        Err(ConsentError::Raced(format!("the identity link of {patient}"), "changed"))
    }
}

/// The patient a later visit's user-authentication certificate identifies at `facility`.
pub async fn identify(
    store: &dyn Consents,
    facility: &hcpki_ca::FacilityId,
    authentication: &Sha256Hex,
) -> Result<Option<PatientKey>, ConsentError> {
    let links = store.identity_links_of_certificate(facility, authentication.as_str()).await?;
    identity::identified(&links, authentication)
}

/// Delete what the retention lets go at `now` (Unix seconds), `limit` rows at a time; the number deleted.
pub async fn sweep(
    store: &dyn Consents,
    settings: &ConsentSettings,
    now: i64,
    limit: i64,
) -> Result<u64, ConsentError> {
    let (unsigned_before, ended_before) = settings.sweep_limits(now);
    Ok(store.consent_sweep(UnixTime::from_secs(unsigned_before), UnixTime::from_secs(ended_before), limit).await?)
}
