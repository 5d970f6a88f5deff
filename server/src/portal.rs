//! The SSO portal (issue #6, D24): its own HTTPS listener that requests (never requires) a facility PC
//! certificate, SSO sessions, the password + TOTP login, the home page of the services a person may open,
//! and the OpenID Connect provider's endpoints ([`crate::oidc`], adapted by `crate::http::oidc`). Its URLs
//! are declared with every other listener's in `crate::http::routes`.
//!
//! Card login (HPKI/JPKI, [`card_login`]) starts sessions through [`session::Sessions::create`] the same way
//! the password + TOTP login does.

pub mod accounts;
pub mod audit;
pub use audit::audit;
pub mod card_login;
pub mod catalog;
pub mod facility;
pub mod housekeeping;
pub mod listener;
pub mod login_form;
mod pages;
pub mod refusals;
pub mod request_body;
pub mod secret;
pub mod self_service;
pub mod session;
pub mod throttle;
pub mod totp;

use crate::oidc::{self, Provider};
use crate::policy;
use axum::extract::{Extension, Form, Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum_server::tls::TlsInfo;
use hcpki_ca::audit::{AuditEvent, Outcome};
use hcpki_ca::store::Store;
use secret::PortalSecret;
use serde_json::json;
use session::{CredentialDetails, NewSession, Session, Sessions};
use std::collections::HashMap;
use std::sync::Arc;

/// What every portal and OIDC handler may reach.
#[derive(Clone, Debug)]
pub struct PortalState {
    /// The database.
    pub store: Arc<dyn Store>,
    /// SSO sessions.
    pub sessions: Sessions,
    /// The portal secret (CSRF tokens, pairwise subjects, sealed TOTP secrets).
    pub secret: Arc<PortalSecret>,
    /// The services of the policy (database, seeded from the services file).
    pub services: Arc<catalog::Catalog>,
    /// The OIDC provider.
    pub oidc: Arc<Provider>,
    /// Card login, when `[login]` names trust anchors.
    pub cards: Option<Arc<card_login::CardLogin>>,
    /// The audit entries of refusals anyone can cause, group-committed.
    pub refusals: Arc<refusals::Refusals>,
}

impl PortalState {
    /// End every session of `person_key` that card `card_id` logged in (the card agent's card-removed event):
    /// their grants are revoked and their clients get back-channel logout tokens. Returns how many ended.
    pub async fn end_sessions_for_card(&self, person_key: &str, card_id: &str) -> Result<usize, session::SessionError> {
        let ended = self.sessions.end_sessions_for_card(person_key, card_id).await?;
        for s in &ended {
            self.after_session_end(s, "card-removed").await;
        }
        Ok(ended.len())
    }

    /// Back-channel logout for sessions another process ended (an account disabled, a facility suspended or
    /// retired: their grants are revoked already), claimed so that one replica sends each. How many.
    pub async fn notify_ended_sessions(&self, now: i64, limit: i64) -> Result<usize, hcpki_ca::store::StoreError> {
        let claimed = self.store.portal_claim_ended_sessions(now, limit).await?;
        for s in &claimed {
            self.notify_revoked(&s.id_hash).await?;
            let why = s.end_reason.as_deref().unwrap_or("ended");
            let detail = json!({ "reason": why, "session": oidc::sid(&s.id_hash) });
            audit(&self.store, "system", "portal.logout", &s.person_key, Outcome::Ok, detail).await;
        }
        Ok(claimed.len())
    }

    /// "Log out everywhere" (issue #8): end every live session of `person_key`, revoking their grants, in
    /// one audited transaction (`actor`: the person, or the operator whose help desk did it), then send each
    /// session's clients their back-channel logout. How many ended.
    pub async fn end_person_sessions(
        &self,
        person_key: &str,
        why: &str,
        actor: &hcpki_ca::store::Actor,
    ) -> Result<usize, hcpki_ca::store::StoreError> {
        let now = hcpki_ca::time::now_unix();
        let ended = self.store.portal_end_person_sessions(person_key, why, now, actor).await?;
        for s in &ended {
            self.notify_revoked(&s.id_hash).await?;
        }
        Ok(ended.len())
    }

    /// Back-channel logout to the clients of a session whose grants were revoked already.
    async fn notify_revoked(&self, session_hash: &str) -> Result<(), hcpki_ca::store::StoreError> {
        let grants = self.store.oidc_session_grants(session_hash).await?;
        oidc::backchannel::notify(&self.oidc, grants).await;
        Ok(())
    }

    /// What follows every session end: grants revoked, back-channel logout, audit.
    async fn after_session_end(&self, s: &Session, why: &str) {
        oidc::backchannel::session_ended(&self.oidc, &s.id_hash).await;
        audit(
            &self.store,
            &format!("portal:{}", s.person_key),
            "portal.logout",
            &s.person_key,
            Outcome::Ok,
            json!({ "reason": why, "session": oidc::sid(&s.id_hash) }),
        )
        .await;
    }
}

/// Cross-site request forgery guard of the browser endpoints: a POST whose `Sec-Fetch-Site` is not
/// `same-origin`/`none`, or whose `Origin` is not the issuer's, is refused (forms carry a per-session token
/// as well, checked by the handlers that act on a session).
pub async fn csrf_guard(State(state): State<PortalState>, request: Request, next: Next) -> Response {
    if request.method() == Method::POST {
        let headers = request.headers();
        let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
        let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
        let cross_site = site.is_some_and(|s| s != "same-origin" && s != "none");
        let foreign = origin.is_some_and(|o| o != state.oidc.issuer);
        if cross_site || foreign {
            // Header values anyone can set: bounded like every other value a refusal takes from a request.
            let detail = json!({
                "origin": origin.map(|o| refusals::named(Some(o))),
                "sec_fetch_site": site.map(|s| refusals::named(Some(s))),
                "path": refusals::named(Some(request.uri().path())),
            });
            state.refusals.record("portal:anonymous", "portal.csrf", "-", detail).await;
            return pages::refused(StatusCode::FORBIDDEN, "cross-site request refused: use the portal's own pages");
        }
    }
    next.run(request).await
}

/// Only local paths of the authorization endpoint (or `/`) are followed after login: no open redirect.
fn safe_return(return_to: Option<&str>) -> String {
    match return_to {
        Some(r) if r.starts_with("/authorize?") && !r.contains("//") => r.to_owned(),
        _ => "/".to_owned(),
    }
}

type Tls = Option<Extension<Arc<TlsInfo>>>;

async fn connection(state: &PortalState, tls: &Tls) -> Result<facility::Connection, Response> {
    facility::of_connection(state.store.as_ref(), tls.as_ref().map(|t| t.0.as_ref())).await.map_err(unavailable)
}

/// The facility side of a login: the facility, and its PC certificate's serial and notAfter.
#[derive(Debug, Default)]
struct LoginFacility {
    context: Option<policy::FacilityContext>,
    certificate: Option<String>,
    not_after: Option<i64>,
}

/// The facility a login comes from, or the refusal page for a connection whose certificate is revoked or
/// whose facility may not log in, audited as a denied `portal.login`.
async fn login_connection(
    state: &PortalState,
    tls: &Tls,
    actor: &str,
    target: &str,
    credential: &str,
) -> Result<LoginFacility, Response> {
    match connection(state, tls).await? {
        facility::Connection::Refused(reason) => {
            let detail = json!({ "credential": credential, "reason": reason });
            audit(&state.store, actor, "portal.login", target, Outcome::Denied, detail).await;
            Err(pages::refused(StatusCode::FORBIDDEN, &reason))
        }
        facility::Connection::Facility { context, serial, not_after } => {
            Ok(LoginFacility { context: Some(context), certificate: Some(serial), not_after: Some(not_after) })
        }
        facility::Connection::None => Ok(LoginFacility::default()),
    }
}

/// A session that could not be made: an expired certificate is the person's to fix, the rest is ours.
fn session_failed(e: session::SessionError) -> Response {
    match e {
        session::SessionError::CertificateExpired => pages::refused(StatusCode::FORBIDDEN, &e.to_string()),
        e => unavailable(e),
    }
}

fn unavailable(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "portal request failed");
    pages::refused(StatusCode::SERVICE_UNAVAILABLE, "the portal cannot answer now; try again shortly")
}

pub async fn home(State(state): State<PortalState>, tls: Tls, headers: HeaderMap) -> Response {
    let (session, csrf) = match state.sessions.current(&headers).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            // No session: the login page, which also shows a refused facility's reason.
            return Redirect::to("/login").into_response();
        }
        Err(e) => return unavailable(e),
    };
    let tls_info = tls.as_ref().map(|t| t.0.as_ref());
    let facility = match facility::for_request(state.store.as_ref(), tls_info, session.facility_id.as_ref()).await {
        Ok(Ok(f)) => f,
        Ok(Err(reason)) => return pages::refused(StatusCode::FORBIDDEN, &reason),
        Err(e) => return unavailable(e),
    };
    let services = match state.services.current().await {
        Ok(s) => s,
        Err(e) => return unavailable(e),
    };
    let visible = policy::visible_services(&session.subject, facility.as_ref(), &services);
    let card = state.cards.as_ref().zip(session.credential.card_id.as_deref()).map(|(c, id)| (c.agent.as_str(), id));
    let presence = session.presence.then(|| session::presence_token(&csrf));
    pages::home(&session.subject, facility.as_ref(), &visible, &csrf, card, presence.as_deref())
}

/// The login page's query.
#[derive(Debug, serde::Deserialize)]
pub struct LoginQuery {
    /// Where to go after the login ([`safe_return`] decides whether it is followed).
    return_to: Option<String>,
}

pub async fn login_page(
    State(state): State<PortalState>,
    tls: Tls,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    let (card, set_cookie) = match &state.cards {
        Some(cards) => match card_login::prelogin(&headers) {
            Ok((id, cookie)) => (
                Some(pages::CardSection { agent: cards.agent.clone(), csrf: card_login::prelogin_csrf(&state, &id) }),
                cookie,
            ),
            Err(e) => return unavailable(e),
        },
        None => (None, None),
    };
    let return_to = safe_return(q.return_to.as_deref());
    let mut response = match connection(&state, &tls).await {
        Ok(facility::Connection::Refused(reason)) => return pages::refused(StatusCode::FORBIDDEN, &reason),
        Ok(facility::Connection::Facility { context, .. }) => {
            pages::login(Some(&context), &return_to, None, card.as_ref())
        }
        Ok(facility::Connection::None) => pages::login(None, &return_to, None, card.as_ref()),
        Err(r) => return r,
    };
    if let Some(v) = set_cookie.and_then(|c| header::HeaderValue::from_str(&c).ok()) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// The password + TOTP login: always an explicit credential check, whatever session or connection exists.
/// The form is parsed before any I/O: a field no account could have is refused (400) and audited without its
/// value; an account past its free attempts waits (429) before argon2 runs (issue #24 items 5 and 8).
pub async fn login(
    State(state): State<PortalState>,
    tls: Tls,
    headers: HeaderMap,
    request_body::SignInForm(raw): request_body::SignInForm<login_form::RawPasswordLogin>,
) -> Response {
    let form = match raw.parse() {
        Ok(form) => form,
        Err(malformed) => {
            let detail = json!({ "credential": "password-totp", "reason": "malformed", "field": malformed.field() });
            state.refusals.record("portal:anonymous", "portal.login", "-", detail).await;
            return pages::refused_ja(StatusCode::BAD_REQUEST, &malformed.to_string());
        }
    };
    let username = form.username.as_str();
    let actor = format!("portal:pwd:{username}");
    let LoginFacility { context: facility, certificate: facility_certificate, not_after: facility_not_after } =
        match login_connection(&state, &tls, &actor, username, "password-totp").await {
            Ok(found) => found,
            Err(refused) => return refused,
        };
    let now = hcpki_ca::time::now_unix();
    let return_to = safe_return(form.return_to.as_deref());
    // Counted before the password is checked: parallel guesses cannot all pass a check made before any of
    // them was recorded.
    match throttle::attempt(state.store.as_ref(), username, now).await {
        Ok(Ok(())) => {}
        Ok(Err(wait)) => {
            let detail = json!({ "credential": "password-totp", "reason": "throttled", "retry_after": wait });
            state.refusals.record(&actor, "portal.login", username, detail).await;
            let message = format!("too many failed sign-ins for this account: wait {wait} s and try again");
            return pages::refused(StatusCode::TOO_MANY_REQUESTS, &message);
        }
        Err(e) => return unavailable(e),
    }
    let checked =
        accounts::check(state.store.as_ref(), &state.secret, &form.username, &form.password, &form.totp, now).await;
    let facility_id = facility.as_ref().map(|f| f.id.to_string());
    let (subject, person_key) = match checked {
        Ok(Ok(found)) => found,
        Ok(Err(reason)) => {
            let detail = json!({ "credential": "password-totp", "reason": reason, "facility": facility_id });
            state.refusals.record(&actor, "portal.login", username, detail).await;
            return pages::login(facility.as_ref(), &return_to, Some("wrong user name, password or code"), None);
        }
        Err(e) => return unavailable(e),
    };
    if let Err(e) = throttle::succeeded(state.store.as_ref(), username).await {
        return unavailable(e);
    }
    let new = NewSession {
        subject,
        person_key,
        facility,
        credential: CredentialDetails {
            method: "password-totp".into(),
            card_id: None,
            certificate: None,
            facility_certificate,
        },
        auth_time: now,
        card_not_after: None,
        facility_not_after,
    };
    let services = match state.services.current().await {
        Ok(s) => s,
        Err(e) => return unavailable(e),
    };
    // The home page's decisions for this login, recorded once here rather than on every page view.
    let listing = json!(policy::listing(&new.subject, new.facility.as_ref(), &services));
    // A login replaces the browser's previous session (no two live sessions behind one cookie jar; the old
    // one's clients are logged out as on sign-out).
    if let Ok(Some((old, _))) = state.sessions.current(&headers).await {
        end_session(&state, &old).await;
    }
    let entry = AuditEvent {
        actor,
        action: "portal.login".into(),
        target: username.to_owned(),
        outcome: Outcome::Ok,
        detail: json!({ "credential": "password-totp", "facility": facility_id, "services": listing }),
    };
    let created = match state.sessions.create(new, entry).await {
        Ok(c) => c,
        Err(e) => return session_failed(e),
    };
    let mut response = Redirect::to(&return_to).into_response();
    if let Ok(v) = header::HeaderValue::from_str(&created.set_cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

/// The sign-out form's POST (CSRF token checked) and RP-initiated logout confirmed by the user.
pub async fn logout(
    State(state): State<PortalState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (session, csrf) = match state.sessions.current(&headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return signed_out(None),
        Err(e) => return unavailable(e),
    };
    if let Err(refused) = check_form_csrf(&state, &session, &csrf, form.get("csrf").map(String::as_str)).await {
        return refused;
    }
    end_session(&state, &session).await;
    signed_out(None)
}

/// The per-session CSRF token of a session-acting form (D24), or the refusal, audited `portal.csrf`.
async fn check_form_csrf(
    state: &PortalState,
    session: &Session,
    expected: &str,
    sent: Option<&str>,
) -> Result<(), Response> {
    if sent == Some(expected) {
        return Ok(());
    }
    let detail = json!({ "reason": "missing or wrong CSRF token" });
    audit(&state.store, &format!("portal:{}", session.person_key), "portal.csrf", "-", Outcome::Denied, detail).await;
    Err(pages::refused(StatusCode::FORBIDDEN, "the form is stale: reload the page and try again"))
}

/// End a session and everything that hangs on it (sign-out).
pub async fn end_session(state: &PortalState, session: &Session) {
    end_session_because(state, session, "logout").await;
}

/// End a session and everything that hangs on it, audited with `why`.
async fn end_session_because(state: &PortalState, session: &Session, why: &str) {
    match state.sessions.end(&session.id_hash).await {
        Ok(Some(ended)) => state.after_session_end(&ended, why).await,
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, "cannot end the session"),
    }
}

/// The page after sign-out, with the cookie cleared; or a redirect to a registered post-logout URI.
pub fn signed_out(redirect: Option<&str>) -> Response {
    let mut response = match redirect {
        Some(uri) => Redirect::to(uri).into_response(),
        None => pages::signed_out(),
    };
    if let Ok(v) = header::HeaderValue::from_str(&session::clear_cookie()) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

/// The logout confirmation form (RP-initiated logout without a valid `id_token_hint`).
pub fn confirm_logout(csrf: &str) -> Response {
    pages::confirm_logout(csrf)
}

/// A page refusing the request.
pub fn refused_page(status: StatusCode, reason: &str) -> Response {
    pages::refused(status, reason)
}
