//! The portal's signing-request routes (issue #27 item 3): `GET /sign/{id}` (the request for the signed-in
//! physician), `GET /sign/{id}/document` (its document, for the page's script and the person), `POST /sign/{id}`
//! (the card's signature, or the refusal; CSRF token and origin checked). Decisions are
//! [`hcpki_sso::signing_requests`]'; this adapts them to pages.

use super::lang::PageLang;
use super::pages::{self, unavailable_in};
use super::path_id::PathId;
use super::respond::check_form_csrf;
use super::state::PortalState;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use hcpki_html::Lang;
use hcpki_model::SigningRequestId;
use hcpki_sso::session::Session;
use hcpki_sso::signing_requests;

/// `GET /sign/{id}`.
pub async fn show(
    State(state): State<PortalState>,
    PageLang(lang): PageLang,
    PathId(id): PathId<SigningRequestId>,
    headers: HeaderMap,
) -> Response {
    let (session, csrf) = match signed_in(&state, lang, &headers, &id).await {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    // The facility's own limit on signing sessions (D172), handed to the agent, which takes the lower of it and
    // its own: a page can only lower a session's reach.
    let limit = match session.facility_id.as_ref() {
        Some(facility) => match state.store.signing_limit(facility).await {
            Ok(limit) => limit.map(|l| l.limit),
            Err(e) => return unavailable_in(lang, e),
        },
        None => None,
    };
    match signing_requests::open(state.oidc_context(), &session, &id, state.clock.now_unix_ms()).await {
        Ok(Ok(view)) => {
            let agent = state.cards.as_ref().map(|c| c.agent.as_str());
            let binding = signing_requests::session_binding(&csrf);
            pages::signing::request(lang, &view, &csrf, agent, &binding, limit)
        }
        Ok(Err(why)) => pages::signing::page_refused(lang, why),
        Err(e) => unavailable_in(lang, e),
    }
}

/// `GET /sign/{id}/document`: the document of a pending request of the signed-in person.
pub async fn document(
    State(state): State<PortalState>,
    PageLang(lang): PageLang,
    PathId(id): PathId<SigningRequestId>,
    headers: HeaderMap,
) -> Response {
    let (session, _) = match signed_in(&state, lang, &headers, &id).await {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    match signing_requests::document(state.oidc_context(), &session, &id, state.clock.now_unix_ms()).await {
        Ok(Ok(r)) => (
            [
                (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
                (header::CACHE_CONTROL, "no-store".to_owned()),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"signing-request-{}.bin\"",
                        r.document_sha256.get(..12).unwrap_or_default()
                    ),
                ),
            ],
            r.document,
        )
            .into_response(),
        Ok(Err(why)) => pages::signing::page_refused(lang, why),
        Err(e) => unavailable_in(lang, e),
    }
}

/// The form of [`post`].
#[derive(Debug, serde::Deserialize)]
pub struct SignForm {
    csrf: Option<String>,
    action: Option<String>,
    /// The agent's `.p7s`, standard base64.
    signature: Option<String>,
    /// The agent's `signing` object (JSON): how the signature was authorised (D163).
    signing: Option<String>,
}

/// `POST /sign/{id}`: `action=sign` with the card's B-B `signature`, or `action=refuse`.
pub async fn post(
    State(state): State<PortalState>,
    PageLang(lang): PageLang,
    PathId(id): PathId<SigningRequestId>,
    headers: HeaderMap,
    Form(form): Form<SignForm>,
) -> Response {
    let (session, csrf) = match signed_in(&state, lang, &headers, &id).await {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    if let Err(refused) = check_form_csrf(lang, &state, &session, &csrf, form.csrf.as_deref()).await {
        return refused;
    }
    let now_ms = state.clock.now_unix_ms();
    let ctx = state.oidc_context();
    if form.action.as_deref() == Some("refuse") {
        return match signing_requests::refuse(ctx, &session, &id, now_ms).await {
            Ok(Ok(_)) => pages::signing::declined(lang),
            Ok(Err(why)) => pages::signing::page_refused(lang, why),
            Err(e) => unavailable_in(lang, e),
        };
    }
    // Not base64 is a signature that does not check: the core says so and audits it.
    let p7s = form
        .signature
        .as_deref()
        .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s.trim()).ok())
        .unwrap_or_default();
    let verifier = state.cards.as_ref().map(|c| &c.verifier);
    let posted = signing_requests::Posted { p7s: &p7s, mode: form.signing.as_deref() };
    match signing_requests::complete(ctx, verifier, state.time_stamps.as_ref(), &session, &id, posted, now_ms).await {
        Ok(done) => pages::signing::signed(lang, &done.request),
        Err(signing_requests::SignError::Store(e)) => unavailable_in(lang, e),
        Err(e) => pages::signing::sign_refused(lang, &e),
    }
}

/// The live session with its CSRF token; without one, the
/// login page that comes back here.
async fn signed_in(
    state: &PortalState,
    lang: Lang,
    headers: &HeaderMap,
    id: &SigningRequestId,
) -> Result<(Session, String), Response> {
    super::respond::signed_in_or_login(state, lang, headers, &format!("/sign/{id}"), false).await
}

/// `GET /static/sign-request.js`.
pub async fn script() -> Response {
    super::respond::script(include_str!("sign-request.js"))
}
