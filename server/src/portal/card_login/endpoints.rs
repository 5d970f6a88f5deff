//! The card login's HTTP endpoints: the challenge, the answer, the card-removed report and the agent's presence
//! reports, and the pages' scripts. Each checks what HTTP brings (pre-login cookie, CSRF, connection) and hands
//! the login to [`super::complete`], the card's reports to [`super::presence`].

use super::presence::{
    self, CardRemoved, CardRemovedRefused, CardRemovedReport, CurrentSession, PresenceAnswer, PresenceRefused,
    PresenceReport,
};
use super::{CardAnswer, Incomplete, LoginSource, PRELOGIN_COOKIE, complete};
use crate::portal::cookie::{self, SessionCookies as _};
use crate::portal::lang::PageLang;
use crate::portal::login_form::RawCardLogin;
use crate::portal::pages::{self, unavailable_in};
use crate::portal::problem::ProblemBox as _;
use crate::portal::request_body::SignInForm;
use crate::portal::respond::{Tls, login_connection, safe_return, session_failed, signed_out};
use crate::portal::state::PortalState;
use crate::portal::words::M;
use crate::web::headers::with_header;
use axum::Json;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use hcpki_agent_protocol::presence as protocol;
use hcpki_sso::facility::LoginFacility;
use hcpki_sso::login::CardLoginError;
use hcpki_sso::problem::Problem;
use serde_json::json;

/// The home page: where a login started on the portal itself goes.
const HOME: &str = "/";

/// The CSRF token of the login page's POSTs, derived from the pre-login id.
pub fn prelogin_csrf(state: &PortalState, prelogin_id: &str) -> String {
    state.secret.csrf_token(&format!("pre-login\0{prelogin_id}"))
}

/// A JSON refusal of the login page's scripts (`{"error": {"code", "message"}}`).
pub(crate) fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "error": { "code": code, "message": message } }))).into_response()
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ChallengeForm {
    csrf: String,
}

/// `POST /login/card/challenge`: a fresh single-use challenge for this browser, as JSON.
pub async fn challenge(
    State(state): State<PortalState>,
    headers: HeaderMap,
    SignInForm(form): SignInForm<ChallengeForm>,
) -> Response {
    let Some(cards) = state.cards.clone() else {
        return json_error(StatusCode::NOT_FOUND, "card_login_off", "card login is not configured on this portal");
    };
    let Some(id) = cookie::cookie_value(&headers, PRELOGIN_COOKIE) else {
        return json_error(StatusCode::FORBIDDEN, "no_login_page", "open the login page again (it sets a cookie)");
    };
    if form.csrf != prelogin_csrf(&state, &id) {
        return json_error(StatusCode::FORBIDDEN, "csrf", "the login page is stale: reload it and try again");
    }
    match cards.challenge(state.store.as_ref(), &id, state.clock.now_unix()).await {
        Ok(issued) => Json(issued).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot issue a card login challenge");
            json_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the portal cannot answer now; try again")
        }
    }
}

/// `POST /login/card`: verify the card's answer and start the SSO session. The form is parsed before any I/O
/// (issue #24 item 5): a `kind` other than `hpki`/`jpki`, or a field the login page's script could not have
/// sent, is refused (400) and audited `login.card` without its value. It carries no card id: the session's is
/// derived from the verified certificate (item 4).
pub async fn submit(
    State(state): State<PortalState>,
    PageLang(lang): PageLang,
    tls: Tls,
    headers: HeaderMap,
    SignInForm(raw): SignInForm<RawCardLogin>,
) -> Response {
    let Some(cards) = state.cards.clone() else {
        return pages::refused(lang, StatusCode::NOT_FOUND, M::CardLoginOff.text(lang));
    };
    let form = match raw.parse() {
        Ok(form) => form,
        Err(malformed) => {
            let detail = json!({ "reason": "malformed", "field": malformed.field(), "origin": cards.origin });
            state.refusals.record("portal:anonymous", hcpki_sso::login::audit::ACTION, "card-login", detail).await;
            return pages::refused_ja(lang, StatusCode::BAD_REQUEST, &malformed.to_string());
        }
    };
    let return_to = safe_return(form.return_to.as_deref());
    let Some(id) = cookie::cookie_value(&headers, PRELOGIN_COOKIE) else {
        return pages::refused(lang, StatusCode::FORBIDDEN, M::NoLoginCookie.text(lang));
    };
    if form.csrf != prelogin_csrf(&state, &id) {
        return pages::refused(lang, StatusCode::FORBIDDEN, M::StaleForm.text(lang));
    }
    let now_ms = state.clock.now_unix_ms();
    let LoginFacility { context: facility, certificate: facility_certificate, not_after: facility_not_after } =
        match login_connection(lang, &state, &tls, now_ms, "portal:anonymous", "card-login", "card").await {
            Ok(found) => found,
            Err(refused) => return refused,
        };
    let answer = CardAnswer {
        challenge_id: &form.challenge_id,
        signature: &form.signature,
        chain: &form.chain,
        button: form.kind,
    };
    // Cloned: the refusal page below shows the facility too.
    let source = LoginSource {
        prelogin_id: &id,
        facility: facility.clone(),
        facility_certificate,
        facility_not_after,
        pc_certificate: crate::portal::facility::peer_certificate(tls.as_ref().map(|t| t.0.as_ref())),
    };
    let services = match state.services.current().await {
        Ok(s) => s,
        Err(e) => return unavailable_in(lang, e),
    };
    let created =
        match complete(state.store.as_ref(), &state.sessions, &cards, &services, &answer, source, now_ms).await {
            Ok(created) => created,
            Err(Incomplete::Card(CardLoginError::Store(e))) => return unavailable_in(lang, e),
            Err(Incomplete::Card(e)) => {
                // The page again, with the card buttons: the next attempt needs a new challenge anyway.
                let card = pages::CardSection { agent: cards.agent.clone(), csrf: form.csrf.clone() };
                let page = pages::LoginPage {
                    facility: facility.as_ref(),
                    return_to: &return_to,
                    card: Some(&card),
                    card_only: pages::card_only_services(&services),
                    kept: None,
                    passkey: None,
                };
                let notice = Problem::of_card_login(&e, form.kind).render(lang, true, Some(&e.to_string()));
                let target = crate::portal::respond::return_origin(&state, &return_to).await;
                return pages::with_form_target(pages::login(lang, &page, Some(notice)), target.as_deref());
            }
            Err(Incomplete::Session(e)) => return session_failed(lang, e),
        };
    // A session on a presence lease hands its token to the agent (D26) from the first portal page it shows. A
    // login going to the home page goes there at once: the home page registers the token itself, as its event
    // stream opens (D64). A login started by a relying service goes straight back to it and no other portal page
    // may ever be opened, so it first gets the "continuing" page that registers and then goes on.
    let next = if created.session.presence && return_to != HOME {
        let token = hcpki_sso::session::presence_token(&created.csrf);
        let card_id = created.session.credential.card_id.as_deref().unwrap_or_default();
        pages::continuing(lang, &return_to, &cards.agent, card_id, &created.csrf, &token)
    } else {
        Redirect::to(&return_to).into_response()
    };
    let response = with_header(next, header::SET_COOKIE, &created.set_cookie);
    let response = with_header(response, header::SET_COOKIE, &created.set_browser_cookie);
    // The pre-login id has done its work: a new login starts from a new one.
    let cleared = format!("{PRELOGIN_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0");
    with_header(response, header::SET_COOKIE, &cleared)
}

/// `POST /logout/card-removed`: the card this session logged in with left its reader. The decision is
/// [`presence::card_removed`]'s; this adapter finds the browser's session and writes the page. A lent session
/// (D91) is found too: the removal is noted and the answer is the paused page (423), which card-watch.js shows.
pub async fn card_removed(
    State(state): State<PortalState>,
    PageLang(lang): PageLang,
    headers: HeaderMap,
    Form(report): Form<CardRemovedReport>,
) -> Response {
    let now_ms = state.clock.now_unix_ms();
    let current = match state.sessions.current_lent_ok(&headers, now_ms.div_euclid(1000)).await {
        Ok(current) => current,
        Err(e) => return unavailable_in(lang, e),
    };
    let current = current.as_ref().map(|(session, csrf)| CurrentSession { session, csrf });
    match presence::card_removed(&state, current, &report, now_ms).await {
        Ok(CardRemoved::NoSession | CardRemoved::Ended(_)) => signed_out(lang, None),
        Ok(CardRemoved::Lent) => match current {
            Some(CurrentSession { session, csrf }) => {
                crate::portal::lending_endpoints::paused_page(lang, &state, session, csrf)
            }
            None => signed_out(lang, None),
        },
        Err(CardRemovedRefused::StalePage) => pages::refused(lang, StatusCode::FORBIDDEN, M::StaleForm.text(lang)),
        Err(CardRemovedRefused::OtherCard) => {
            pages::refused(lang, StatusCode::CONFLICT, M::OtherCardSession.text(lang))
        }
        Err(e) => unavailable_in(lang, e),
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct PresenceForm {
    /// The session's presence token (from the home page's `data-presence`).
    token: String,
    /// The card the agent sees.
    card_id: String,
    /// `present` (renew the lease) or `removed` (end the session).
    event: String,
}

/// `POST /presence`: the card agent reports the login card present, renewing the session's presence lease,
/// or removed, ending the session (back-channel logout, audited `card-removed`), without any portal page
/// open (D26). The contract is `hcpki_agent_protocol::presence`: `present` is answered 200 with the lease
/// (`{"lease_secs": N}`) so the agent knows how often to renew; `removed` 204; 404 when no live session has
/// this token and card (the agent stops reporting); 400 for a malformed report. The decision is
/// [`presence::presence`]'s.
pub async fn presence(State(state): State<PortalState>, Form(form): Form<PresenceForm>) -> Response {
    let answer = match PresenceReport::parse(&form.token, &form.card_id, &form.event) {
        Ok(report) => presence::presence(&state, report, state.clock.now_unix()).await,
        Err(refused) => Err(refused),
    };
    match answer {
        Ok(PresenceAnswer::Renewed { lease_secs }) => {
            Json(json!({ protocol::LEASE_FIELD: lease_secs })).into_response()
        }
        Ok(PresenceAnswer::Ended) => StatusCode::NO_CONTENT.into_response(),
        Err(e @ PresenceRefused::Event) => json_error(StatusCode::BAD_REQUEST, "event", &e.to_string()),
        Err(e @ PresenceRefused::Malformed) => json_error(StatusCode::BAD_REQUEST, "malformed", &e.to_string()),
        Err(e @ PresenceRefused::NoSession) => json_error(StatusCode::NOT_FOUND, "no_session", &e.to_string()),
        Err(e) => {
            // The agent's report, not a page: JSON, and the agent reports again at its next lease.
            tracing::error!(error = %e, "card presence report failed");
            json_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the portal cannot take the report now; report again",
            )
        }
    }
}

/// `GET /static/card-login.js` and `/static/card-watch.js`: the login page's and the home page's scripts.
pub async fn script_login() -> Response {
    script(include_str!("../card-login.js"))
}

/// See [`script_login`].
pub async fn script_watch() -> Response {
    script(include_str!("../card-watch.js"))
}

fn script(body: &'static str) -> Response {
    crate::portal::respond::script(body)
}
