//! The relying service's side of consents (issue #28 steps 2, 6 and 7): ask for one, follow it, check the live
//! one, learn of withdrawals. Each call is authenticated as a registered confidential OIDC client exactly as
//! `/introspect` authenticates one (the signing requests' way; never a public client: [`API`]), sees only that
//! client's consents, and is audited, reads included (`consent.read`, with the patient as the pseudonymous key
//! only).
//!
//! ```text
//! POST /api/v1/consents (client auth + the physician's access token; patient, purpose)
//!        ──▶ 201 {id, consent_url, status_url, expires_at}   the PDF rendered from the service's template
//! GET  /api/v1/consents/{id}                          ──▶ its state, evidence, and once signed the signed PDF
//! GET  /api/v1/consents?facility=&patient=&purpose=   ──▶ the live consent (200) or none (404)
//! GET  /api/v1/consent-events?since=                  ──▶ the service's consents withdrawn since then
//! ```

use super::ConsentError;
use super::audit::Actor;
use super::life::{NewConsent, Phase};
use super::purpose::{Purpose, Requester};
use super::settings::ConsentSettings;
use crate::audit::audit;
use crate::desk::service::{Created, authenticate, forbidden, not_found, physician_session, refused};
use crate::oidc::client::Endpoint;
use crate::oidc::{Context, ErrorStatus, OAuthError};
use crate::patient_key::FacilityPatientId;
use crate::policy::ClientRule;
use base64::Engine as _;
use hcpki_ca::FacilityId;
use hcpki_ca::audit::Outcome;
use hcpki_ca::store::consent::{ConsentRecord, DocumentKind, EvidenceLevel, SignatureEvidence};
use hcpki_model::ConsentId;
use hcpki_pkix::time::UnixTime;
use serde_json::{Value, json};
use std::collections::HashMap;

/// The API's path.
pub const API_PATH: &str = "/api/v1/consents";
/// The withdrawals' feed.
pub const EVENTS_PATH: &str = "/api/v1/consent-events";
/// The physician's page: `/consent/{id}`.
pub const PAGE_PATH: &str = "/consent";
/// The API: confidential clients only (issue #42 item 1). The service reads consents and the signed PDFs, which
/// carry the patient's JPKI signature certificate (name, date of birth, address), on its own authority; a public
/// client's `client_id` is no credential.
pub const API: Endpoint = Endpoint { path: API_PATH, callers: ClientRule::Confidential };
/// The withdrawals' feed: as [`API`].
pub const EVENTS: Endpoint = Endpoint { path: EVENTS_PATH, callers: ClientRule::Confidential };
/// Most withdrawals one poll returns.
pub const EVENTS_LIMIT: i64 = 100;

/// `POST /api/v1/consents` at `now_ms`: the client authenticated, the physician's `bearer` access token
/// active and issued to it, its sign-in an HPKI card session at a facility; `fields`: `patient` (the facility's
/// patient ID) and `purpose` (one the operator configured a template for). The consent PDF is rendered from
/// the template and stored with the request (`consent.requested`); refusals audited.
pub async fn create(
    ctx: Context<'_>,
    settings: &ConsentSettings,
    credentials: &crate::oidc::client::ClientCredentials,
    certificate: Option<&[u8]>,
    bearer: Option<&str>,
    fields: &HashMap<String, String>,
    now_ms: i64,
) -> Result<Created, OAuthError> {
    let now = now_ms.div_euclid(1000);
    let client = authenticate(ctx, API, credentials, certificate, now).await?;
    let deny = |e: OAuthError, more: Value| refused(ctx, &client.id, "consent.request", e, more);
    let (_, record) = match physician_session(ctx, &client.id, bearer, certificate, now).await? {
        Ok(found) => found,
        Err((e, more)) => return Err(deny(e, more).await),
    };
    let sid = crate::oidc::sid(&record.id_hash);
    let session = crate::session::decode(record)
        .map_err(|e| OAuthError::server(format!("the physician's session does not decode: {e}")))?;
    // Who may ask is the portal page's rule (reception included, issue #49 item 2): one rule for both.
    let physician = match super::ask::may_ask(&session) {
        Ok(key) => key,
        Err(super::desk::DeskError::NoFacility) => {
            let e = forbidden(
                "the staff member is not signed in at a facility (no facility certificate on the PC): a consent \
                 belongs to the facility where it is given",
            );
            return Err(deny(e, json!({ "reason": "no facility", "session": sid })).await);
        }
        Err(_) => {
            let e = forbidden(
                "the sign-in is not the facility's staff: a consent is asked for by a physician signed in with the \
                 HPKI card or by reception signed in with a password and second factor, so ask them to sign in",
            );
            return Err(deny(e, json!({ "reason": "not a staff sign-in", "session": sid })).await);
        }
    };
    let Some(facility) = session.facility_id.clone() else {
        let e = forbidden(
            "the physician is not signed in at a facility (no facility certificate on the PC): a consent belongs \
             to the facility where it is given",
        );
        return Err(deny(e, json!({ "reason": "no facility", "session": sid })).await);
    };
    let field = |name: &str| fields.get(name).map(String::as_str).unwrap_or_default();
    let parsed = (
        Requester::service(&client.id),
        Purpose::parse(field("purpose")),
        FacilityPatientId::parse(field("patient")).map_err(ConsentError::from),
    );
    let (requester, purpose, patient) = match parsed {
        (Ok(r), Ok(p), Ok(id)) => (r, p, id),
        (Err(e), ..) | (_, Err(e), _) | (.., Err(e)) => return Err(deny(bad_request(&e), json!({})).await),
    };
    let patient = ctx.secret.patient_keys().key(&facility, &patient);
    let new = NewConsent { requester, purpose, facility, patient, physician };
    let consent = match super::request::open(ctx, settings, &new, session.subject.name(), now_ms).await {
        Ok(consent) => consent,
        Err(e @ ConsentError::NoTemplate { .. }) => {
            return Err(deny(bad_request(&e), json!({ "purpose": new.purpose.as_str() })).await);
        }
        Err(e @ ConsentError::Network(_)) => {
            // The template's network is not declared, or this facility is not one of its members (D169).
            let more = json!({ "reason": e.to_string(), "purpose": new.purpose.as_str() });
            return Err(deny(forbidden(&e.to_string()), more).await);
        }
        Err(ConsentError::AlreadyConsented(live)) => {
            let e = OAuthError {
                status: ErrorStatus::Conflict,
                error: "already_consented",
                description: ConsentError::AlreadyConsented(live.clone()).to_string(),
            };
            let more = json!({ "reason": "a live consent exists", "live": live, "patient": new.patient.as_str() });
            return Err(deny(e, more).await);
        }
        Err(e) => return Err(store_failure(e)),
    };
    Ok(Created::new(ctx, PAGE_PATH, API_PATH, consent.id.to_string(), consent.expires_at))
}

/// `GET /api/v1/consents/{id}`: the consent, to the client that asked for it only (404 otherwise, as for an
/// unknown id); an answer carrying the signed document is audited `consent.read`.
pub async fn status(
    ctx: Context<'_>,
    credentials: &crate::oidc::client::ClientCredentials,
    certificate: Option<&[u8]>,
    id: &ConsentId,
    now_ms: i64,
) -> Result<Value, OAuthError> {
    let now = now_ms.div_euclid(1000);
    let client = authenticate(ctx, API, credentials, certificate, now).await?;
    let consent = match ctx.provider.store.consent(id).await? {
        Some(c) if c.client_id == client.id => c,
        _ => {
            let e =
                not_found("no consent of yours has this id (an unsigned one is removed 30 days after its deadline)");
            let more = json!({ "consent": crate::refusals::named(Some(id.as_str())) });
            return Err(refused(ctx, &client.id, "consent.read", e, more).await);
        }
    };
    answer(ctx, &client.id, &consent, now_ms).await
}

/// `GET /api/v1/consents?facility=&patient=&purpose=`: the client's live consent for the facility's patient
/// and purpose (404 `no_consent` when there is none: the service must not rely on one). Audited `consent.read`
/// either way.
pub async fn check(
    ctx: Context<'_>,
    credentials: &crate::oidc::client::ClientCredentials,
    certificate: Option<&[u8]>,
    fields: &HashMap<String, String>,
    now_ms: i64,
) -> Result<Value, OAuthError> {
    let now = now_ms.div_euclid(1000);
    let client = authenticate(ctx, API, credentials, certificate, now).await?;
    let field = |name: &str| fields.get(name).map(String::as_str).unwrap_or_default();
    let facility: Result<FacilityId, _> = field("facility").parse();
    let parsed = (
        facility,
        FacilityPatientId::parse(field("patient")).map_err(ConsentError::from),
        Purpose::parse(field("purpose")),
    );
    let (facility, patient, purpose) = match parsed {
        (Ok(f), Ok(p), Ok(u)) => (f, p, u),
        (Err(_), ..) => {
            let e = OAuthError {
                status: ErrorStatus::BadRequest,
                error: "invalid_request",
                description: "facility must be the facility ID (HF…) where the consent was given".into(),
            };
            return Err(refused(ctx, &client.id, "consent.read", e, json!({})).await);
        }
        (_, Err(e), _) | (.., Err(e)) => {
            return Err(refused(ctx, &client.id, "consent.read", bad_request(&e), json!({})).await);
        }
    };
    let patient = ctx.secret.patient_keys().key(&facility, &patient);
    match ctx.provider.store.consent_live(&client.id, patient.as_str(), purpose.as_str()).await? {
        Some(consent) => answer(ctx, &client.id, &consent, now_ms).await,
        None => {
            let e = OAuthError {
                status: ErrorStatus::NotFound,
                error: "no_consent",
                description: "the patient has no live consent for this purpose with you (never given, refused, \
                              expired or withdrawn): do not rely on one; ask for it"
                    .into(),
            };
            let more =
                json!({ "patient": patient.as_str(), "purpose": purpose.as_str(), "facility": facility.as_str() });
            Err(refused(ctx, &client.id, "consent.read", e, more).await)
        }
    }
}

/// `GET /api/v1/consent-events?since=`: the client's consents withdrawn at or after `since` (Unix seconds),
/// oldest first, at most [`EVENTS_LIMIT`]; poll again from the last `withdrawn_at`. Audited `consent.events`.
pub async fn events(
    ctx: Context<'_>,
    credentials: &crate::oidc::client::ClientCredentials,
    certificate: Option<&[u8]>,
    fields: &HashMap<String, String>,
    now_ms: i64,
) -> Result<Value, OAuthError> {
    let now = now_ms.div_euclid(1000);
    let client = authenticate(ctx, EVENTS, credentials, certificate, now).await?;
    let since = match since(fields) {
        Ok(since) => since,
        Err(e) => return Err(refused(ctx, &client.id, "consent.events", e, json!({})).await),
    };
    let withdrawn =
        ctx.provider.store.consents_withdrawn_since(&client.id, UnixTime::from_secs(since), EVENTS_LIMIT).await?;
    let list: Vec<Value> = withdrawn
        .iter()
        .map(|c| {
            json!({ "type": "withdrawn", "id": c.id, "purpose": c.purpose, "facility": c.facility_id,
                "patient": c.patient_key, "withdrawn_at": c.withdrawn_at,
                "withdrawal": c.withdrawal.as_ref().map(evidence_json) })
        })
        .collect();
    let detail = json!({ "since": since, "count": list.len() });
    let actor = format!("oidc:{}", client.id);
    audit(ctx.provider.store.as_ref(), now_ms, &actor, "consent.events", &client.id, Outcome::Ok, detail).await;
    Ok(json!({ "events": list, "more": list.len() as i64 == EVENTS_LIMIT }))
}

/// A withdrawal feed's cursor: `since` in Unix seconds (the last `withdrawn_at` seen), 0 when left out.
pub(super) fn since(fields: &HashMap<String, String>) -> Result<i64, OAuthError> {
    match fields.get("since").map(|s| s.parse::<i64>()) {
        None => Ok(0),
        Some(Ok(s)) if s >= 0 => Ok(s),
        Some(_) => Err(bad_request_text("since must be Unix seconds (the last withdrawn_at you saw), or left out")),
    }
}

pub(super) fn bad_request_text(description: &str) -> OAuthError {
    OAuthError { status: ErrorStatus::BadRequest, error: "invalid_request", description: description.into() }
}

/// The JSON of `consent` for its service, with the signed document once signed (audited `consent.read`).
async fn answer(ctx: Context<'_>, client_id: &str, consent: &ConsentRecord, now_ms: i64) -> Result<Value, OAuthError> {
    let now = now_ms.div_euclid(1000);
    let phase = Phase::of(consent, now);
    let mut body = json!({
        "id": consent.id, "state": phase.as_str(), "purpose": consent.purpose, "facility": consent.facility_id,
        "patient": consent.patient_key, "created_at": consent.created_at, "expires_at": consent.expires_at,
        "shown_at": consent.shown_at, "ended_at": consent.ended_at, "refusal": consent.refusal,
        "withdrawn_at": consent.withdrawn_at,
        "evidence": consent.signature.as_ref().map(evidence_json),
        "withdrawal": consent.withdrawal.as_ref().map(evidence_json),
    });
    let agreed = consent.signature.as_ref().is_some_and(|s| s.level == EvidenceLevel::PatientAuthentication);
    if agreed {
        // No signed PDF (D130 item 3): the PDF agreed to and the card's time-stamped answer over it.
        let store = &ctx.provider.store;
        let (pdf, proof) = (
            store.consent_document(&consent.id, DocumentKind::Consent).await?,
            store.consent_document(&consent.id, DocumentKind::AgreementProof).await?,
        );
        if let (Some(pdf), Some(proof), Some(map)) = (pdf, proof, body.as_object_mut()) {
            map.insert("document".into(), json!(base64::engine::general_purpose::STANDARD.encode(&pdf.bytes)));
            map.insert("document_sha256".into(), json!(pdf.sha256));
            let proof: Value = serde_json::from_slice(&proof.bytes).unwrap_or(Value::Null);
            map.insert("agreement_proof".into(), proof);
        }
    } else if consent.signature.is_some() {
        let signed = ctx.provider.store.consent_document(&consent.id, DocumentKind::SignedConsent).await?;
        if let (Some(doc), Some(map)) = (signed, body.as_object_mut()) {
            map.insert("signed_document".into(), json!(base64::engine::general_purpose::STANDARD.encode(&doc.bytes)));
            map.insert("signed_document_sha256".into(), json!(doc.sha256));
        }
    }
    let detail = json!({ "patient": consent.patient_key, "client": client_id, "purpose": consent.purpose,
        "facility": consent.facility_id, "state": phase.as_str() });
    let actor = Actor::Service(client_id.to_owned()).as_text();
    audit(ctx.provider.store.as_ref(), now_ms, &actor, "consent.read", consent.id.as_str(), Outcome::Ok, detail).await;
    Ok(body)
}

/// A signature's evidence as every API answer gives it: the level first, so no service mistakes a physician's
/// attestation for the patient's signature.
pub fn evidence_json(e: &SignatureEvidence) -> Value {
    json!({ "evidence_level": e.level.as_str(), "document_sha256": e.document_sha256, "format": e.format,
        "signature_level": e.signature_level, "signer_certificate_sha256": e.signer_sha256,
        "time_stamp_at": e.time_stamp_at })
}

fn bad_request(e: &ConsentError) -> OAuthError {
    bad_request_text(&e.to_string())
}

fn store_failure(e: ConsentError) -> OAuthError {
    match e {
        ConsentError::Store(e) => e.into(),
        other => OAuthError::server(other.to_string()),
    }
}
