//! The portal's own pages: the home page, the login page, the password + TOTP login, sign-out, and the
//! cross-site request guard in front of them all.

use super::cookie::SessionCookies as _;
use super::lang::{self, PageLang};
use super::pages::{self, unavailable_in};
use super::request_body;
use super::respond::{
    self, Tls, check_form_csrf, connection, end_session, login_connection, refused_connection, safe_return, signed_out,
};
use super::state::PortalState;
use super::{card_login, facility, login_form, password_login};
use crate::portal::problem::ProblemBox as _;
use crate::web::headers::with_header;
use axum::extract::{Form, Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use hcpki_sso::policy;
use hcpki_sso::problem::Problem;
use hcpki_sso::refusals;
use hcpki_sso::session;
use serde_json::json;
use std::collections::HashMap;

/// Cross-site request forgery guard of the browser endpoints: a POST whose `Sec-Fetch-Site` is not
/// `same-origin`/`none`, or whose `Origin` is not the issuer's, is refused (forms carry a per-session token
/// as well, checked by the handlers that act on a session).
pub async fn csrf_guard(State(state): State<PortalState>, request: Request, next: Next) -> Response {
    if request.method() == Method::POST {
        let lang = lang::negotiate(request.uri().query(), request.headers());
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
            return pages::refused(lang, StatusCode::FORBIDDEN, super::words::M::CrossSite.text(lang));
        }
    }
    next.run(request).await
}

pub async fn home(
    State(state): State<PortalState>,
    PageLang(lang): PageLang,
    tls: Tls,
    headers: HeaderMap,
) -> Response {
    let now = state.clock.now_unix();
    let (session, csrf) = match state.sessions.current(&headers, now).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            // No session: the login page, which also shows a refused facility's reason; a session that ended
            // without the person's doing is named there (D59), once: the cookie that named it goes (D68).
            return match state.sessions.ended(&headers, now).await {
                Ok(Some(problem)) => with_header(
                    Redirect::to(&format!("/login?problem={}", problem.code())).into_response(),
                    header::SET_COOKIE,
                    &session::clear_cookie(),
                ),
                Ok(None) => Redirect::to("/login").into_response(),
                Err(e) => unavailable_in(lang, e),
            };
        }
        Err(e) => return unavailable_in(lang, e),
    };
    let tls_info = tls.as_ref().map(|t| t.0.as_ref());
    let facility = match facility::for_request(state.store.as_ref(), tls_info, session.facility_id.as_ref(), now).await
    {
        Ok(Ok(f)) => f,
        Ok(Err(refusal)) => return refused_connection(lang, &refusal),
        Err(e) => return unavailable_in(lang, e),
    };
    let services = match state.services.current().await {
        Ok(s) => s,
        Err(e) => return unavailable_in(lang, e),
    };
    let listing = policy::listing(&session.subject, facility.as_ref(), &services);
    let card = state.cards.as_ref().zip(session.credential.card_id.as_deref()).map(|(c, id)| (c.agent.as_str(), id));
    let presence = session.presence.then(|| session::presence_token(&csrf));
    let page = pages::HomePage {
        subject: &session.subject,
        facility: facility.as_ref(),
        listing: &listing,
        csrf: &csrf,
        card,
        presence: presence.as_deref(),
        expires_at: session.expires_at,
        issuer: &state.oidc.issuer,
    };
    pages::home(lang, &page)
}

/// The login page's query.
#[derive(Debug, serde::Deserialize)]
pub struct LoginQuery {
    /// Where to go after the login ([`safe_return`] decides whether it is followed).
    return_to: Option<String>,
    /// A problem the page's scripts met ([`Problem::from_query`] decides whether it is shown).
    problem: Option<String>,
    /// The PIN tries left, with `problem=wrong_pin`.
    tries_left: Option<String>,
    /// The kind of card asked, with the card problems.
    kind: Option<String>,
}

pub async fn login_page(
    State(state): State<PortalState>,
    PageLang(lang): PageLang,
    tls: Tls,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    // The pre-login cookie binds the card's and the passkey's challenges to this browser (D157: passkeys need
    // it without a card too).
    let passkeys = super::passkeys::relying_party(&state).is_some();
    let (prelogin_csrf, set_cookie) = if state.cards.is_some() || passkeys {
        match card_login::prelogin(&headers) {
            Ok((id, cookie)) => (Some(card_login::endpoints::prelogin_csrf(&state, &id)), cookie),
            Err(e) => return unavailable_in(lang, e),
        }
    } else {
        (None, None)
    };
    let card = state
        .cards
        .as_ref()
        .zip(prelogin_csrf.as_ref())
        .map(|(cards, csrf)| pages::CardSection { agent: cards.agent.clone(), csrf: csrf.clone() });
    let return_to = safe_return(q.return_to.as_deref());
    let card_only = match state.services.current().await {
        Ok(services) => pages::card_only_services(&services),
        Err(e) => return unavailable_in(lang, e),
    };
    let facility = match connection(lang, &state, &tls, state.clock.now_unix()).await {
        Ok(hcpki_sso::facility::Connection::Refused(refusal)) => return refused_connection(lang, &refusal),
        Ok(hcpki_sso::facility::Connection::Facility { context, .. }) => Some(context),
        Ok(hcpki_sso::facility::Connection::None) => None,
        Err(r) => return r,
    };
    let page = pages::LoginPage {
        facility: facility.as_ref(),
        return_to: &return_to,
        card: card.as_ref(),
        card_only,
        kept: None,
        passkey: prelogin_csrf.as_deref().filter(|_| passkeys),
    };
    let notice = q
        .problem
        .as_deref()
        .and_then(|code| Problem::from_query(code, q.tries_left.as_deref(), q.kind.as_deref()))
        .map(|p| p.render(lang, true, None));
    let target = respond::return_origin(&state, &return_to).await;
    let response = pages::with_form_target(pages::login(lang, &page, notice), target.as_deref());
    match set_cookie {
        Some(cookie) => with_header(response, header::SET_COOKIE, &cookie),
        None => response,
    }
}

/// The password + TOTP login: always an explicit credential check, whatever session or connection exists.
/// The form is parsed before any I/O: a field no account could have is refused (400) and audited without its
/// value; an account past its free attempts waits (429) before argon2 runs (issue #24 items 5 and 8). The
/// decision is [`password_login::sign_in`]'s; this adapter reads the request and writes the page. A refusal
/// the form can cure is the login page again with its problem box, the user name kept and the focus on the
/// field to fix (issue #45 item 4).
pub async fn login(
    State(state): State<PortalState>,
    PageLang(lang): PageLang,
    tls: Tls,
    headers: HeaderMap,
    request_body::SignInForm(raw): request_body::SignInForm<login_form::RawPasswordLogin>,
) -> Response {
    let typed_user = raw.user_name_as_read();
    let raw_return = raw.return_to().map(str::to_owned);
    let form = match raw.parse() {
        Ok(form) => form,
        Err(malformed) => {
            let detail = json!({ "credential": "password-totp", "reason": "malformed", "field": malformed.field() });
            state.refusals.record("portal:anonymous", "portal.login", "-", detail).await;
            let field = match malformed {
                login_form::Malformed::Username => Some(pages::PasswordField::User),
                login_form::Malformed::Password => Some(pages::PasswordField::Password),
                login_form::Malformed::Code => Some(pages::PasswordField::Code),
                _ => None,
            };
            // The form's own `return_to` only when it is one the page would have written.
            let return_to = match malformed {
                login_form::Malformed::ReturnTo => "/".to_owned(),
                _ => safe_return(raw_return.as_deref()),
            };
            let facility = match connection(lang, &state, &tls, state.clock.now_unix()).await {
                Ok(hcpki_sso::facility::Connection::Facility { context, .. }) => Some(context),
                Ok(_) => None,
                Err(r) => return r,
            };
            let again = PasswordAgain { user: &typed_user, return_to: &return_to, facility: facility.as_ref() };
            let mut page = password_again(&state, lang, again, pages::PasswordProblem::Malformed(field)).await;
            *page.status_mut() = StatusCode::BAD_REQUEST;
            return page;
        }
    };
    let (facility, now_ms) = match password_connection(lang, &state, &tls, form.username.as_str()).await {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    let now = now_ms.div_euclid(1000);
    // Kept for the page that asks again: it shows the facility too.
    let context = facility.context.clone();
    let return_to = safe_return(form.return_to.as_deref());
    let ctx = state.password_login();
    let signed_in = match password_login::sign_in(ctx, &form, facility, now).await {
        Ok(signed_in) => signed_in,
        Err(password_login::Refused::Throttled { wait }) => {
            return pages::refused(lang, StatusCode::TOO_MANY_REQUESTS, &super::words::throttled(lang, wait));
        }
        Err(refused @ (password_login::Refused::Credentials | password_login::Refused::CodeUsed)) => {
            let problem = if matches!(refused, password_login::Refused::CodeUsed) {
                pages::PasswordProblem::CodeUsed
            } else {
                pages::PasswordProblem::Credentials
            };
            // The name as the person typed it (read as the sign-in reads it), whether or not an account has it.
            let again =
                PasswordAgain { user: form.username.as_str(), return_to: &return_to, facility: context.as_ref() };
            return password_again(&state, lang, again, problem).await;
        }
        Err(refused) => return enrolment_answer(&state, lang, refused, &return_to, context.as_ref()),
    };
    respond::start_session(&state, lang, &headers, &tls, signed_in.session, signed_in.entry, now_ms, &return_to).await
}

/// The set-up page's confirmation (D161): its first code with the sealed offer. Parsed before any I/O like the
/// sign-in; the decision is [`password_login::enrol`]'s; a good one signs the person in.
pub async fn enrol(
    State(state): State<PortalState>,
    PageLang(lang): PageLang,
    tls: Tls,
    headers: HeaderMap,
    request_body::SignInForm(raw): request_body::SignInForm<login_form::RawEnrolment>,
) -> Response {
    let form = match raw.parse() {
        Ok(form) => form,
        Err(malformed) => {
            let detail = json!({ "credential": "password-totp", "reason": "malformed", "field": malformed.field() });
            state.refusals.record("portal:anonymous", "portal.enrol", "-", detail).await;
            return pages::refused(lang, StatusCode::BAD_REQUEST, &malformed.to_string());
        }
    };
    let (facility, now_ms) = match password_connection(lang, &state, &tls, form.username.as_str()).await {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    let now = now_ms.div_euclid(1000);
    let context = facility.context.clone();
    let return_to = safe_return(form.return_to.as_deref());
    let ctx = state.password_login();
    match password_login::enrol(ctx, &form, facility, now).await {
        Ok(signed_in) => {
            let (session, entry) = (signed_in.session, signed_in.entry);
            respond::start_session(&state, lang, &headers, &tls, session, entry, now_ms, &return_to).await
        }
        Err(refused) => enrolment_answer(&state, lang, refused, &return_to, context.as_ref()),
    }
}

/// The facility of a password sign-in's (or set-up's) connection for account `username`, and the time (Unix
/// ms) it was read at; a refused connection's page (a revoked or held PC certificate) otherwise.
async fn password_connection(
    lang: lang::Lang,
    state: &PortalState,
    tls: &Tls,
    username: &str,
) -> Result<(hcpki_sso::facility::LoginFacility, i64), Response> {
    let actor = format!("portal:pwd:{username}");
    let now_ms = state.clock.now_unix_ms();
    let facility = login_connection(lang, state, tls, now_ms, &actor, username, "password-totp").await?;
    Ok((facility, now_ms))
}

/// The page for a sign-in or set-up that made no session for a reason of the second factor's (D161) — the
/// set-up page, or what to do instead — or for our own failure.
fn enrolment_answer(
    state: &PortalState,
    lang: lang::Lang,
    refused: password_login::Refused,
    return_to: &str,
    facility: Option<&policy::FacilityContext>,
) -> Response {
    use super::words::M;
    use password_login::Refused;
    let (offer, window, wrong_code) = match refused {
        Refused::MustEnrol { offer, window } => (offer, window, false),
        Refused::EnrolCode { offer, window } => (offer, window, true),
        Refused::Throttled { wait } => {
            return pages::refused(lang, StatusCode::TOO_MANY_REQUESTS, &super::words::throttled(lang, wait));
        }
        Refused::EnrolmentClosed { .. } => {
            return pages::refused(lang, StatusCode::FORBIDDEN, M::EnrolClosed.text(lang));
        }
        Refused::EnrolAtFacilityPc => return pages::refused(lang, StatusCode::FORBIDDEN, M::EnrolAtPc.text(lang)),
        Refused::EnrolAtOwnFacility => {
            return pages::refused(lang, StatusCode::FORBIDDEN, M::EnrolAtOwnPc.text(lang));
        }
        Refused::Offer(_) => return pages::refused(lang, StatusCode::BAD_REQUEST, M::EnrolLapsed.text(lang)),
        Refused::Enrolled => return pages::refused(lang, StatusCode::CONFLICT, M::EnrolDone.text(lang)),
        e @ (Refused::Credentials | Refused::CodeUsed | Refused::Unavailable(_)) => return unavailable_in(lang, e),
    };
    let sealed = match offer.seal(&state.secret) {
        Ok(sealed) => sealed,
        Err(e) => return unavailable_in(lang, e),
    };
    let page = pages::EnrolPage {
        offer: &offer,
        sealed: &sealed,
        window,
        issuer: &state.oidc.issuer,
        return_to,
        facility,
        wrong_code,
    };
    pages::enrol(lang, &page)
}

/// Any address the portal has no page for: the themed 404 (issue #45 item 6).
pub async fn not_found(PageLang(lang): PageLang) -> Response {
    pages::no_such_page(lang, StatusCode::NOT_FOUND)
}

/// Middleware over every portal route: a handler's panic becomes the themed 500 page (issue #45 item 6), nothing
/// of the panic shown (it is logged by [`crate::panics::run`]).
pub async fn catch_panic(request: Request, next: Next) -> Response {
    let lang = lang::negotiate(request.uri().query(), request.headers());
    match crate::panics::run(request, next).await {
        Some(response) => response,
        None => pages::internal_error(lang),
    }
}

/// A method a page does not take (a GET of a form's POST address, say): the themed 405.
pub async fn method_not_allowed(PageLang(lang): PageLang) -> Response {
    pages::no_such_page(lang, StatusCode::METHOD_NOT_ALLOWED)
}

/// What the login page asking again keeps of a refused password sign-in.
struct PasswordAgain<'a> {
    user: &'a str,
    return_to: &'a str,
    facility: Option<&'a policy::FacilityContext>,
}

/// The login page again after a refused password sign-in: `problem`'s box, the user name kept, the focus on the
/// field to fix, the form still allowed to go back to the service (D57). 401.
async fn password_again(
    state: &PortalState,
    lang: lang::Lang,
    again: PasswordAgain<'_>,
    problem: pages::PasswordProblem,
) -> Response {
    let card_only = state.services.current().await.map(|s| pages::card_only_services(&s)).unwrap_or_default();
    let kept = problem.field().map(|field| (again.user, field));
    let page = pages::LoginPage {
        facility: again.facility,
        return_to: again.return_to,
        card: None,
        card_only,
        kept,
        passkey: None,
    };
    let target = respond::return_origin(state, again.return_to).await;
    pages::with_form_target(pages::login(lang, &page, Some(problem.render(lang))), target.as_deref())
}

/// The sign-out form's POST (CSRF token checked) and RP-initiated logout confirmed by the user.
pub async fn logout(
    State(state): State<PortalState>,
    PageLang(lang): PageLang,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (session, csrf) = match state.sessions.current(&headers, state.clock.now_unix()).await {
        Ok(Some(s)) => s,
        Ok(None) => return signed_out(lang, None),
        Err(e) => return unavailable_in(lang, e),
    };
    if let Err(refused) = check_form_csrf(lang, &state, &session, &csrf, form.get("csrf").map(String::as_str)).await {
        return refused;
    }
    end_session(&state, &session).await;
    signed_out(lang, None)
}
