//! The portal's own consent requests (issue #28 step 2, "or the portal's own page"): the physician signed in
//! with the HPKI card (or reception, [`may_ask`]) at a facility PC asks, from the portal, for a consent the operator configured for the
//! portal (`[[consent.templates]]` with `client = "hcpki:portal"`), for the facility's patient ID typed on the
//! page. The request is then the same as a service's: the page `/consent/{id}` takes it on. HTTP-free.

use super::ConsentError;
use super::desk::DeskError;
use super::life::NewConsent;
use super::purpose::{PORTAL_CLIENT, Purpose, Requester};
use super::settings::ConsentSettings;
use super::template::Template;
use crate::desk::page::deny;
use crate::oidc::Context;
use crate::patient_key::FacilityPatientId;
use crate::session::Session;
use hcpki_ca::person_key::PersonKey;
use hcpki_ca::store::consent::ConsentRecord;

/// The audit action of a request, allowed (`consent.requested`, written with the request) or refused.
const ACTION: &str = "consent.request";

/// The consents the portal's page offers: the operator's templates for the portal, in file order.
pub fn portal_templates(settings: &ConsentSettings) -> Vec<&Template> {
    settings.templates.iter().filter(|t| t.client == PORTAL_CLIENT).collect()
}

/// Whether `session` may ask for a consent (from the portal, or a service acting for it): the facility's staff
/// signed in at a facility — a physician or other HPKI card holder, or reception with a password and its second
/// factor (issue #49 item 2: reception starts consents too). A My Number card sign-in is a patient's, not staff's.
/// The person asking is who the pending consent belongs to on its page, and is named on the document.
pub fn may_ask(session: &Session) -> Result<PersonKey, DeskError> {
    let key = PersonKey::parse(&session.person_key).map_err(|_| DeskError::NotAPhysician)?;
    let staff = matches!(key, PersonKey::Hpki { .. } | PersonKey::HpkiCertificate { .. } | PersonKey::Password { .. });
    match (staff, session.facility_id.is_some()) {
        (true, true) => Ok(key),
        (true, false) => Err(DeskError::NoFacility),
        (false, _) => Err(DeskError::NotAPhysician),
    }
}

/// Ask, at `now_ms`, for the consent of `purpose` of the facility's patient `patient_id`: the stored request, or
/// why not (audited `consent.request` denied; nothing stored).
pub async fn ask(
    ctx: Context<'_>,
    settings: &ConsentSettings,
    session: &Session,
    purpose: &str,
    patient_id: &str,
    now_ms: i64,
) -> Result<ConsentRecord, DeskError> {
    let refuse = |e: DeskError, why: &'static str| async move {
        deny(ctx, session, ACTION, &crate::refusals::named(Some(purpose)), why).await;
        Err(e)
    };
    let physician = match may_ask(session) {
        Ok(key) => key,
        Err(e) => return refuse(e, "not a staff sign-in at a facility").await,
    };
    let Some(facility) = session.facility_id.clone() else {
        return refuse(DeskError::NoFacility, "no facility").await;
    };
    let parsed = (Purpose::parse(purpose), FacilityPatientId::parse(patient_id).map_err(ConsentError::from));
    let (purpose, patient) = match parsed {
        (Ok(p), Ok(id)) => (p, id),
        (Err(e), _) | (_, Err(e)) => return refuse(e.into(), "malformed purpose or patient ID").await,
    };
    let patient = ctx.secret.patient_keys().key(&facility, &patient);
    let new = NewConsent { requester: Requester::Portal, purpose, facility, patient, physician };
    match super::request::open(ctx, settings, &new, session.subject.name(), now_ms).await {
        Ok(consent) => Ok(consent),
        Err(e @ ConsentError::NoTemplate { .. }) => refuse(e.into(), "no portal template for the purpose").await,
        Err(e @ ConsentError::AlreadyConsented(_)) => refuse(e.into(), "a live consent exists").await,
        Err(e @ ConsentError::Network(_)) => refuse(e.into(), "the facility is not in the template's network").await,
        Err(e) => Err(e.into()),
    }
}
