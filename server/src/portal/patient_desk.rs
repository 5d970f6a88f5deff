//! The facility's patient desk routes (issue #28): `GET|POST /consents/new` (the portal's own consent request,
//! then the consent page takes it on), `GET /patients/identify`, `POST /patients/identify/challenge` (JSON for
//! the page's script) and `POST /patients/identify` (the card's answer). CSRF token and origin checked on every
//! POST. Decisions are [`hcpki_sso::consent::ask`]'s and [`hcpki_sso::consent::identification`]'s.

use super::lang::PageLang;
use super::pages::patient_desk::{self as page, Checked, IDENTIFY_PATH, NEW_CONSENT_PATH};
use super::pages::{self, unavailable_in};
use super::respond::{check_form_csrf, signed_in_or_login};
use super::state::PortalState;
use axum::Json;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hcpki_html::Lang;
use hcpki_sso::consent::ask;
use hcpki_sso::consent::desk::DeskError;
use hcpki_sso::consent::history;
use hcpki_sso::consent::identification::{self, CardAnswer, Identified};
use hcpki_sso::presence;
use hcpki_sso::session::Session;
use pages::patient_consents::PATIENT_CONSENTS_PATH;
use serde_json::json;

/// `GET /consents/new`.
pub async fn new_consent(State(state): State<PortalState>, PageLang(lang): PageLang, headers: HeaderMap) -> Response {
    let (session, csrf) = match signed_in_or_login(&state, lang, &headers, NEW_CONSENT_PATH, false).await {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    let refusal = ask::may_ask(&session).err();
    page::new_consent(lang, &ask::portal_templates(&state.consent), &csrf, refusal.as_ref())
}

/// The form of [`ask`].
#[derive(Debug, serde::Deserialize)]
pub struct AskForm {
    csrf: Option<String>,
    purpose: Option<String>,
    patient_id: Option<String>,
}

/// `POST /consents/new`: 303 to the new consent's page.
pub async fn ask(
    State(state): State<PortalState>,
    PageLang(lang): PageLang,
    headers: HeaderMap,
    Form(form): Form<AskForm>,
) -> Response {
    let (session, csrf) = match signed_in_or_login(&state, lang, &headers, NEW_CONSENT_PATH, false).await {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    if let Err(refused) = check_form_csrf(lang, &state, &session, &csrf, form.csrf.as_deref()).await {
        return refused;
    }
    let (purpose, patient) =
        (form.purpose.as_deref().unwrap_or_default(), form.patient_id.as_deref().unwrap_or_default());
    match ask::ask(state.oidc_context(), &state.consent, &session, purpose, patient, state.clock.now_unix_ms()).await {
        Ok(consent) => {
            (StatusCode::SEE_OTHER, [(header::LOCATION, format!("/consent/{}", consent.id))]).into_response()
        }
        Err(e) => refused(lang, &e),
    }
}

/// `GET /patients/identify`.
pub async fn identify_page(State(state): State<PortalState>, PageLang(lang): PageLang, headers: HeaderMap) -> Response {
    let (session, csrf) = match signed_in(&state, lang, &headers).await {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    let refusal = identification::facility_of(&session).err();
    render(&state, lang, &session, &csrf, None, refusal.as_ref()).await
}

/// The form of [`challenge`].
#[derive(Debug, serde::Deserialize)]
pub struct ChallengeForm {
    csrf: Option<String>,
}

/// `POST /patients/identify/challenge`: `{challenge, expires_at}` for the page's script, or `{error}`.
pub async fn challenge(
    State(state): State<PortalState>,
    PageLang(lang): PageLang,
    headers: HeaderMap,
    Form(form): Form<ChallengeForm>,
) -> Response {
    let (session, _) = match posted(&state, lang, &headers, form.csrf.as_deref()).await {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    let Some(cards) = state.cards.as_ref() else { return json_error(lang, &DeskError::NoTrustAnchors) };
    let issued = identification::challenge(
        state.oidc_context(),
        &cards.origin,
        cards.ttl_secs,
        &session,
        state.clock.now_unix(),
    )
    .await;
    match issued {
        Ok(issued) => Json(issued).into_response(),
        Err(e) => json_error(lang, &e),
    }
}

/// The form of [`check`].
#[derive(Debug, serde::Deserialize)]
pub struct CheckForm {
    csrf: Option<String>,
    patient_id: Option<String>,
    challenge: Option<String>,
    signature: Option<String>,
    chain: Option<String>,
    /// The service a patient-presence proof is asked for (D148), or none.
    service: Option<String>,
}

/// `POST /patients/identify`: the page again, with the result above the form.
pub async fn check(
    State(state): State<PortalState>,
    PageLang(lang): PageLang,
    headers: HeaderMap,
    Form(form): Form<CheckForm>,
) -> Response {
    let (session, csrf) = match posted(&state, lang, &headers, form.csrf.as_deref()).await {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    let Some(cards) = state.cards.as_ref() else {
        return render(&state, lang, &session, &csrf, None, Some(&DeskError::NoTrustAnchors)).await;
    };
    let field = |f: &Option<String>| f.as_deref().unwrap_or_default().to_owned();
    let decoded = hcpki_sso::login::answer::decode(&field(&form.signature), &field(&form.chain));
    let decoded = match decoded {
        Ok(d) => d,
        Err(e) => return render(&state, lang, &session, &csrf, None, Some(&DeskError::Card(e))).await,
    };
    let challenge = field(&form.challenge);
    let answer = CardAnswer { challenge: &challenge, signature: &decoded.signature, chain: &decoded.chain };
    let patient_id = field(&form.patient_id);
    let now_ms = state.clock.now_unix_ms();
    let ctx = state.oidc_context();
    let (result, patient) =
        match identification::identify(ctx, &cards.verifier, &cards.origin, &session, &answer, &patient_id, now_ms)
            .await
        {
            Ok(found) => found,
            Err(e) if e.is_unavailable() => return unavailable_in(lang, e),
            Err(e) => return render(&state, lang, &session, &csrf, None, Some(&e)).await,
        };
    // A proof only for the patient the card is linked to, and only when staff chose a service.
    let service = form.service.as_deref().filter(|s| !s.is_empty());
    let issued = match (result, service, session.facility_id.as_ref()) {
        (Identified::ThisPatient, Some(service), Some(facility)) => {
            let minutes = state.consent.presence_minutes;
            Some(presence::issue(ctx, &session, facility, &patient, service, minutes, now_ms.div_euclid(1000)).await)
        }
        _ => None,
    };
    let why = match &issued {
        Some(Err(e)) => {
            tracing::warn!(error = %e, "patient-presence proof not issued");
            Some(page::presence_refusal(lang, e))
        }
        _ => None,
    };
    let presence = match (&issued, &why) {
        (Some(Ok(i)), _) => Some(Ok(i)),
        (_, Some(w)) => Some(Err(*w)),
        _ => None,
    };
    let checked = Checked { patient_id: &patient_id, result, presence };
    render(&state, lang, &session, &csrf, Some(checked), None).await
}

async fn render(
    state: &PortalState,
    lang: Lang,
    session: &Session,
    csrf: &str,
    checked: Option<Checked<'_>>,
    refusal: Option<&DeskError>,
) -> Response {
    let presence = session.presence.then(|| hcpki_sso::session::presence_token(csrf));
    let ctx = pages::consent::PageContext {
        agent: state.cards.as_ref().map(|c| c.agent.as_str()),
        card: session.credential.card_id.as_deref(),
        presence: presence.as_deref(),
        evidence: Default::default(),
    };
    // The services whose policy asks for a presence proof; the catalog unreadable leaves the choice out.
    let catalog = state.oidc_context().services.current().await.ok();
    let services: Vec<_> = catalog
        .iter()
        .flat_map(|all| all.iter())
        .filter(|s| s.require_patient_presence)
        .map(|s| (s.id.as_str(), s.name.as_str()))
        .collect();
    page::identify(lang, csrf, ctx, checked, refusal, &services)
}

/// The live session, lent or not (the identification lends the reader as a consent does, D91).
async fn signed_in(state: &PortalState, lang: Lang, headers: &HeaderMap) -> Result<(Session, String), Response> {
    signed_in_or_login(state, lang, headers, IDENTIFY_PATH, true).await
}

/// The session of a POST to the identification, its CSRF token checked.
async fn posted(
    state: &PortalState,
    lang: Lang,
    headers: &HeaderMap,
    sent: Option<&str>,
) -> Result<(Session, String), Response> {
    let (session, csrf) = signed_in(state, lang, headers).await?;
    check_form_csrf(lang, state, &session, &csrf, sent).await?;
    Ok((session, csrf))
}

/// `GET /patients/consents`: the form.
pub async fn consents_page(State(state): State<PortalState>, PageLang(lang): PageLang, headers: HeaderMap) -> Response {
    let (session, csrf) = match signed_in_or_login(&state, lang, &headers, PATIENT_CONSENTS_PATH, false).await {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    let refusal = identification::facility_of(&session).err();
    pages::patient_consents::patient_consents(lang, &csrf, "", None, refusal.as_ref())
}

/// The form of [`consents`].
#[derive(Debug, serde::Deserialize)]
pub struct ConsentsForm {
    csrf: Option<String>,
    patient_id: Option<String>,
}

/// `POST /patients/consents`: the patient's consents at the staff member's facility (issue #49 item 4).
pub async fn consents(
    State(state): State<PortalState>,
    PageLang(lang): PageLang,
    headers: HeaderMap,
    Form(form): Form<ConsentsForm>,
) -> Response {
    let (session, csrf) = match signed_in_or_login(&state, lang, &headers, PATIENT_CONSENTS_PATH, false).await {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    if let Err(refused) = check_form_csrf(lang, &state, &session, &csrf, form.csrf.as_deref()).await {
        return refused;
    }
    let patient_id = form.patient_id.as_deref().unwrap_or_default();
    let now_ms = state.clock.now_unix_ms();
    match history::of_patient(state.oidc_context(), &session, patient_id, now_ms).await {
        Ok(listed) => pages::patient_consents::patient_consents(lang, &csrf, patient_id, Some(&listed), None),
        Err(e) if e.is_unavailable() => unavailable_in(lang, e),
        Err(e) => pages::patient_consents::patient_consents(lang, &csrf, patient_id, None, Some(&e)),
    }
}

fn refused(lang: Lang, e: &DeskError) -> Response {
    if e.is_unavailable() {
        return unavailable_in(lang, e);
    }
    let (status, text) = page::refusal_words(lang, e);
    pages::refused(lang, status, &text)
}

fn json_error(lang: Lang, e: &DeskError) -> Response {
    if e.is_unavailable() {
        tracing::error!(error = %e, "identification challenge failed");
    }
    let (status, text) = page::refusal_words(lang, e);
    (status, Json(json!({ "error": text }))).into_response()
}
