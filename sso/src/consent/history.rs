//! A patient's consents at the staff member's facility (issue #49 item 4): staff type the facility's patient ID
//! and see every consent recorded for that patient here, live or history. Scoped twice: the patient key is made
//! with the staff member's own facility (so another facility's staff, typing the same ID, reach another key),
//! and only records of that facility are listed. Each listing is audited (`consent.listed`, the patient as the
//! key). HTTP-free; the time is passed in.

use super::ConsentError;
use super::audit::{Actor, identity_event};
use super::desk::DeskError;
use super::identification::facility_of;
use super::life::Phase;
use crate::oidc::Context;
use crate::patient_key::FacilityPatientId;
use crate::session::Session;
use hcpki_ca::person_key::PersonKey;
use hcpki_ca::store::consent::ConsentRecord;
use hcpki_pkix::time::UnixTime;
use serde_json::json;

/// The audit action.
pub const ACTION: &str = "consent.listed";

/// One consent as the list shows it: the record and where it stands at the time of the listing.
#[derive(Clone, Debug)]
pub struct Listed {
    /// The record.
    pub consent: ConsentRecord,
    /// Its phase at the listing's time.
    pub phase: Phase,
}

/// The consents of the patient whom `session`'s facility knows as `patient_id`, newest first, at `now_ms`.
pub async fn of_patient(
    ctx: Context<'_>,
    session: &Session,
    patient_id: &str,
    now_ms: i64,
) -> Result<Vec<Listed>, DeskError> {
    let facility = facility_of(session)?.clone();
    let patient = FacilityPatientId::parse(patient_id).map_err(ConsentError::from)?;
    let staff = PersonKey::parse(&session.person_key).map_err(|_| DeskError::NotYours)?;
    let key = ctx.secret.patient_keys().key(&facility, &patient);
    let mut listed: Vec<Listed> = ctx
        .provider
        .store
        .consent_history(key.as_str())
        .await?
        .into_iter()
        .filter(|c| c.facility_id == facility.as_str())
        .map(|consent| Listed { phase: Phase::of(&consent, now_ms.div_euclid(1000)), consent })
        .collect();
    listed.sort_by_key(|l| std::cmp::Reverse(l.consent.created_at));
    let detail = json!({ "facility": facility.as_str(), "count": listed.len() });
    let event = identity_event(&Actor::Person(staff), ACTION, key.as_str(), detail);
    ctx.provider.store.append_audit(&event, UnixTime::from_millis(now_ms)).await?;
    Ok(listed)
}
