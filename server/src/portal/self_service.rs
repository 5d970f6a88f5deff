//! Physician self-service (issue #8): the signed-in person's own SSO sessions (when and how each signed in,
//! from which facility and PC, which services hold grants from it) and ending one of them or all of them
//! ("log out everywhere").
//!
//! Rows and forms name a session by an opaque handle ([`PortalSecret::session_handle`]), never by its cookie,
//! its id hash or the `sid` relying parties see. A handle is resolved only among the caller's own live
//! sessions (same `person_key`), so a handle of another person's session ends nothing: it is refused like
//! an unknown one, and audited.
//!
//! [`PortalSecret::session_handle`]: hcpki_sso::secret::PortalSecret::session_handle

mod row;

pub use row::{Row, SignIn};

use super::cookie::SessionCookies as _;
use super::lang::{Lang, PageLang};
use super::pages::{self, unavailable_in};
use super::respond::{check_form_csrf, end_session_because, signed_out};
use super::state::PortalState;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use hcpki_ca::audit::Outcome;
use hcpki_ca::store::StoreError;
use hcpki_sso::audit::audit;
use hcpki_sso::session::Session;
use serde_json::json;
use std::collections::BTreeSet;

/// The audited reason of a session the person ended from this page.
const ENDED_BY_USER: &str = "ended-by-user";

/// `GET /sessions`: the person's live sessions, newest first.
pub async fn list(State(state): State<PortalState>, PageLang(lang): PageLang, headers: HeaderMap) -> Response {
    let now = state.clock.now_unix();
    let (current, csrf) = match state.sessions.current(&headers, now).await {
        Ok(Some(s)) => s,
        Ok(None) => return Redirect::to("/login").into_response(),
        Err(e) => return unavailable_in(lang, e),
    };
    let sessions = match state.sessions.of_person(&current.person_key, now).await {
        Ok(s) => s,
        Err(e) => return unavailable_in(lang, e),
    };
    let mut rows = Vec::with_capacity(sessions.len());
    for s in &sessions {
        match row(&state, s, &current, now).await {
            Ok(r) => rows.push(r),
            Err(e) => return unavailable_in(lang, e),
        }
    }
    pages::sessions(lang, current.subject.name(), &rows, &csrf)
}

/// The form of [`end_one`].
#[derive(Debug, serde::Deserialize)]
pub struct EndForm {
    csrf: Option<String>,
    session: String,
}

/// `POST /sessions/end`: end one of the person's own sessions (grants revoked, back-channel logout, audited
/// `portal.logout` with reason `ended-by-user`). Ending the current one signs this browser out.
pub async fn end_one(
    State(state): State<PortalState>,
    PageLang(lang): PageLang,
    headers: HeaderMap,
    Form(form): Form<EndForm>,
) -> Response {
    let now = state.clock.now_unix();
    let current = match form_session(lang, &state, &headers, form.csrf.as_deref(), now).await {
        Ok(s) => s,
        Err(refused) => return refused,
    };
    let own = match state.sessions.of_person(&current.person_key, now).await {
        Ok(s) => s,
        Err(e) => return unavailable_in(lang, e),
    };
    let Some(target) = own.into_iter().find(|s| state.secret.session_handle(&s.id_hash) == form.session) else {
        // Unknown, already ended, or another person's: the same answer for each, so a handle reveals nothing.
        let detail = json!({ "reason": "no live session of this person has that handle" });
        let actor = format!("portal:{}", current.person_key);
        audit(
            state.store.as_ref(),
            state.clock.now_unix_ms(),
            &actor,
            "portal.logout",
            &current.person_key,
            Outcome::Denied,
            detail,
        )
        .await;
        return pages::refused(lang, StatusCode::NOT_FOUND, super::words::M::NoSuchOwnSession.text(lang));
    };
    end_session_because(&state, &target, ENDED_BY_USER).await;
    if target.id_hash == current.id_hash {
        return signed_out(lang, Some("/login"));
    }
    Redirect::to("/sessions").into_response()
}

/// The form of [`end_all`].
#[derive(Debug, serde::Deserialize)]
pub struct EndAllForm {
    csrf: Option<String>,
}

/// `POST /sessions/end-all`: "log out everywhere", this session included, then the login page.
pub async fn end_all(
    State(state): State<PortalState>,
    PageLang(lang): PageLang,
    headers: HeaderMap,
    Form(form): Form<EndAllForm>,
) -> Response {
    let current = match form_session(lang, &state, &headers, form.csrf.as_deref(), state.clock.now_unix()).await {
        Ok(s) => s,
        Err(refused) => return refused,
    };
    let actor = hcpki_ca::store::Actor(format!("portal:{}", current.person_key));
    match state.end_person_sessions(&current.person_key, ENDED_BY_USER, &actor).await {
        Ok(_) => signed_out(lang, Some("/login")),
        Err(e) => unavailable_in(lang, e),
    }
}

/// The session a form acts from, its CSRF token checked; or the answer: the login page without a session,
/// a refusal for a stale or forged form.
async fn form_session(
    lang: Lang,
    state: &PortalState,
    headers: &HeaderMap,
    sent_csrf: Option<&str>,
    now: i64,
) -> Result<Session, Response> {
    let (current, csrf) = match state.sessions.current(headers, now).await {
        Ok(Some(s)) => s,
        Ok(None) => return Err(Redirect::to("/login").into_response()),
        Err(e) => return Err(unavailable_in(lang, e)),
    };
    check_form_csrf(lang, state, &current, &csrf, sent_csrf).await?;
    Ok(current)
}

/// What the page shows of session `s`, looked up in the registry and among its grants live at `now`.
async fn row(state: &PortalState, s: &Session, current: &Session, now: i64) -> Result<Row, StoreError> {
    let facility = match &s.facility_id {
        Some(id) => {
            let name = state.store.facility(id).await?.map(|f| f.name);
            Some((id.to_string(), name))
        }
        None => None,
    };
    let device = match &s.credential.facility_certificate {
        Some(serial) => {
            state.store.certificate_by_text(serial).await?.map(|c| format!("{} (serial {})", c.subject, c.serial))
        }
        None => None,
    };
    Ok(Row {
        handle: state.secret.session_handle(&s.id_hash),
        started: s.auth_time,
        expires: s.expires_at,
        sign_in: SignIn::of(s),
        facility,
        device,
        services: services(state, &s.id_hash, now).await?,
        current: s.id_hash == current.id_hash,
    })
}

/// The services whose clients hold unrevoked grants of the session live at `now`: "service name (client id)".
async fn services(state: &PortalState, session_hash: &str, now: i64) -> Result<Vec<String>, StoreError> {
    let clients: BTreeSet<String> = state
        .store
        .oidc_session_grants(session_hash)
        .await?
        .into_iter()
        .filter(|g| g.state != "revoked" && g.expires_at > now)
        .map(|g| g.client_id)
        .collect();
    // The catalog is only for display names: unreadable, the client IDs alone still say enough.
    let catalog = state.services.current().await.ok();
    let mut shown = Vec::with_capacity(clients.len());
    for client in clients {
        let service = match state.oidc.clients.load_recorded(&client).await {
            Ok(Some(c)) => Some(c.config.service.clone()),
            _ => None,
        };
        let name = service.and_then(|id| catalog.as_ref().and_then(|all| all.get(&id)).map(|s| s.name.clone()));
        shown.push(match name {
            Some(name) => format!("{name} ({client})"),
            None => client,
        });
    }
    Ok(shown)
}
