//! A returning patient identified with the My Number card's 4-digit PIN alone (issue #28 step 5: "later visits
//! identify the patient with the 4-digit PIN"): the card's user-authentication key (利用者証明用電子証明書, PIN
//! of 4 digits) signs a single-use challenge through the card agent, exactly as a card login's; the certificate
//! is checked as a login's (chain to a configured JPKI anchor, validity, revocation), and its SHA-256 looks up
//! the identity link staff confirmed at the first consent. The answer is compared with the patient ID staff
//! typed: the patient key is an HMAC and cannot be turned back into an ID, so the page answers "this is
//! patient X" or "not", never "this is patient Y". The signing certificate and its password (6–16 characters)
//! are not needed, nor is anything read from the card but the authentication certificate.
//!
//! The challenge is a card login's (`login::challenge`), bound to the portal session (not to a pre-login
//! cookie) under a prefix of its own, so a challenge issued here cannot finish a login, nor a login's here.
//! HTTP-free; the time is passed in.

use super::ConsentError;
use super::audit::{Actor, identity_event};
use super::desk::DeskError;
use super::evidence::Sha256Hex;
use super::record;
use crate::desk::page::deny;
use crate::login::{CardKind, CardLoginError, CardVerifier, challenge};
use crate::oidc::Context;
use crate::patient_key::{FacilityPatientId, PatientKey};
use crate::session::Session;
use hcpki_agent_protocol::AuthPurpose;
use hcpki_ca::audit::Outcome;
use hcpki_ca::person_key::PersonKey;
use hcpki_pkix::time::UnixTime;
use serde_json::json;

/// The audit action: `ok` when the card is the typed patient's, `denied` otherwise.
pub const ACTION: &str = "identity.checked";

/// What the card said of the typed patient.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Identified {
    /// The card is linked to the typed patient at this facility.
    ThisPatient,
    /// The card is linked to another patient at this facility.
    AnotherPatient,
    /// The card is linked to no patient at this facility (its link was never confirmed here, or the card was
    /// renewed since: a new card's link is made by a consent and staff's confirmation).
    NotLinked,
}

/// The challenge's binding to `session`: its id hash (a hash of the cookie's secret) under this use's prefix.
pub fn binding(session: &Session) -> String {
    format!("identify:{}", session.id_hash)
}

/// Who may identify patients: anyone signed in at a facility (reception staff included).
pub fn facility_of(session: &Session) -> Result<&hcpki_ca::FacilityId, DeskError> {
    session.facility_id.as_ref().ok_or(DeskError::NoFacility)
}

/// A challenge for the card of the patient at the desk, for `session` at `origin`, valid `ttl_secs` from `now`.
pub async fn challenge(
    ctx: Context<'_>,
    origin: &str,
    ttl_secs: u32,
    session: &Session,
    now: i64,
) -> Result<challenge::IssuedChallenge, DeskError> {
    facility_of(session)?;
    challenge::issue(&*ctx.provider.store, &binding(session), origin, ttl_secs, now).await.map_err(DeskError::Card)
}

/// The card's answer, decoded.
#[derive(Debug)]
pub struct CardAnswer<'a> {
    /// The challenge the page was given (base64url), taken here.
    pub challenge: &'a str,
    /// The card's signature over the login message.
    pub signature: &'a [u8],
    /// DER certificates, the card's authentication certificate first.
    pub chain: &'a [Vec<u8>],
}

/// Check `answer` for the session at `origin` and compare the card's patient with `patient_id`, at `now_ms`;
/// audited either way (`identity.checked`, the patient as the key only). With the outcome, the typed patient's
/// key (a patient-presence proof names the patient by it, D148).
pub async fn identify(
    ctx: Context<'_>,
    verifier: &CardVerifier,
    origin: &str,
    session: &Session,
    answer: &CardAnswer<'_>,
    patient_id: &str,
    now_ms: i64,
) -> Result<(Identified, PatientKey), DeskError> {
    let now = now_ms.div_euclid(1000);
    let facility = match facility_of(session) {
        Ok(f) => f.clone(),
        Err(e) => {
            deny(ctx, session, ACTION, "-", "no facility").await;
            return Err(e);
        }
    };
    // The challenge goes first whatever else is wrong: a refused answer cannot be posted again.
    let taken = challenge::take(&*ctx.provider.store, answer.challenge, &binding(session), origin, now).await;
    let patient = FacilityPatientId::parse(patient_id).map_err(ConsentError::from);
    // The card signed the identification's message (the agent's page said 受付での本人確認), not a login's.
    let checked =
        taken.and_then(|c| verifier.verify_as(AuthPurpose::Identification, &c, answer.signature, answer.chain, now));
    let (card, patient) = match (checked, patient) {
        (Ok(card), Ok(patient)) => (card, patient),
        (Err(e), _) => {
            deny(ctx, session, ACTION, "-", &format!("the card's answer was refused: {e}")).await;
            return Err(DeskError::Card(e));
        }
        (_, Err(e)) => {
            deny(ctx, session, ACTION, "-", "malformed patient ID").await;
            return Err(e.into());
        }
    };
    if card.kind != CardKind::Jpki {
        deny(ctx, session, ACTION, "-", "not a My Number card").await;
        return Err(DeskError::NotAMyNumberCard);
    }
    let leaf = answer
        .chain
        .first()
        .map(|c| Sha256Hex::of(c))
        .ok_or(DeskError::Card(CardLoginError::Malformed { what: "no certificate".into() }))?;
    let typed = ctx.secret.patient_keys().key(&facility, &patient);
    let found = match record::identify(&*ctx.provider.store, &facility, &leaf).await {
        Ok(found) => found,
        Err(e @ ConsentError::Ambiguous) => {
            deny(ctx, session, ACTION, typed.as_str(), "the card identifies more than one patient").await;
            return Err(e.into());
        }
        Err(e) => return Err(e.into()),
    };
    let outcome = match found {
        Some(key) if key == typed => Identified::ThisPatient,
        Some(_) => Identified::AnotherPatient,
        None => Identified::NotLinked,
    };
    let staff = PersonKey::parse(&session.person_key).map_err(|_| DeskError::NotYours)?;
    let mut event = identity_event(
        &Actor::Person(staff),
        ACTION,
        typed.as_str(),
        json!({
            "facility": facility.as_str(),
            "auth_sha256": leaf.as_str(),
            "result": match outcome {
                Identified::ThisPatient => "this_patient",
                Identified::AnotherPatient => "another_patient",
                Identified::NotLinked => "not_linked",
            },
        }),
    );
    if outcome != Identified::ThisPatient {
        event.outcome = Outcome::Denied;
    }
    ctx.provider.store.append_audit(&event, UnixTime::from_millis(now_ms)).await?;
    Ok((outcome, typed))
}
