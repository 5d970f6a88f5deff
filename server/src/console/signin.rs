//! Sign-in to the console with a card through hcpki's own SSO portal (issue #8, D42).
//!
//! The console is a relying party of the portal: "sign in with card" sends the browser to the portal's
//! authorization endpoint (code flow, PKCE S256) as the built-in client [`CONSOLE_CLIENT_ID`], so a person
//! signed in to the portal already gets in without touching the card again. The callback redeems the code
//! in-process through the token endpoint's own exchange (the same grant checks and single use, no HTTP call
//! to ourselves, any replica on the shared database), and the session cookie ([`ticket`]) names the grant.
//! On every request [`current`] reads the grant, the portal session behind it and the person's console grant
//! again, so a removed grant, a portal sign-out or a pulled card ends console access at the next request.

use super::i18n::{Lang, M};
use super::ticket::{self, LOGIN_COOKIE, Ticket, TicketError};
use super::{Viewer, view};
use crate::html::esc;
use crate::http::AppState;
use crate::http::api_error::ApiError;
use crate::oidc::client::CONSOLE_CLIENT_ID;
use crate::oidc::exchange::{Exchange, GrantRequest, Granted, Refusal as ExchangeRefusal};
use crate::policy::Credential;
use crate::portal::session::cookie_value;
use crate::portal::{self, PortalState, facility};
use axum::body::Body;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use axum_server::tls::TlsInfo;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hcpki_ca::FacilityId;
use hcpki_ca::access::{AdminBasis, AdminSignIn, Principal};
use hcpki_ca::audit::Outcome;
use hcpki_ca::console_grant::ConsoleRole;
use hcpki_ca::operator::OperatorRole;
use hcpki_ca::store::Actor;
use serde_json::json;
use std::sync::Arc;

/// Why a portal sign-in gives no console access (now). Each message says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The server runs without `[portal]`.
    #[error("sign-in by card needs the SSO portal ([portal] in hcpki.toml); use a certificate")]
    NoPortal,
    /// `[console] url` is unset: the portal has nowhere it may send the sign-in back to (issue #24 item 12).
    #[error(
        "sign-in by card is off: the operator sets [console] url in hcpki.toml to the console's external URL \
         (https://host[:port]); until then use a certificate"
    )]
    NoConsoleUrl,
    /// The cookie is forged, tampered with, too old or idle too long.
    #[error(transparent)]
    Cookie(#[from] TicketError),
    /// The sign-in's state does not match this browser's, or the portal answered with an error.
    #[error("{0}")]
    Flow(String),
    /// The sign-in was signed out, or its grant revoked (portal sign-out, "log out everywhere").
    #[error("the console sign-in has ended (signed out, or its portal session ended): sign in again")]
    SignInEnded,
    /// The portal session behind the sign-in ended (sign-out, card removed, expired).
    #[error("your portal session has ended (signed out, card removed or expired): sign in again")]
    PortalSessionEnded,
    /// The person has no console grant.
    #[error("you have no console access: an operator can grant it to person key {person_key}")]
    NoGrant {
        /// Who signed in.
        person_key: String,
    },
    /// An operator or auditor grant used with a password + TOTP login.
    #[error(
        "the {role} role needs a sign-in with your card and PIN, not a password: sign out of the portal and sign \
         in with your card"
    )]
    CardRequired {
        /// Who signed in.
        person_key: String,
        /// The grant's role.
        role: OperatorRole,
    },
    /// A facility-admin grant away from the facility's PCs.
    #[error(
        "your facility-admin access to {facility} works only at that facility's PCs: sign in to the portal and \
         open the console on a PC that holds the facility's certificate"
    )]
    WrongFacility {
        /// Who signed in.
        person_key: String,
        /// The grant's facility.
        facility: FacilityId,
    },
    /// The connection's client certificate may not be used (suspended facility, revoked certificate).
    #[error("{0}")]
    Connection(String),
    /// The database or the provider failed; logged.
    #[error("the console cannot check your sign-in now; try again shortly")]
    Unavailable,
}

impl Refusal {
    fn status(&self) -> StatusCode {
        match self {
            Self::NoPortal | Self::NoConsoleUrl => StatusCode::NOT_FOUND,
            Self::Cookie(_) | Self::Flow(_) | Self::SignInEnded | Self::PortalSessionEnded => StatusCode::UNAUTHORIZED,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::FORBIDDEN,
        }
    }

    /// The audit actor: the person when known.
    fn actor(&self) -> Actor {
        match self {
            Self::NoGrant { person_key }
            | Self::CardRequired { person_key, .. }
            | Self::WrongFacility { person_key, .. } => Actor(format!("person:{person_key}")),
            _ => Actor("console:anonymous".into()),
        }
    }

    fn error(&self) -> ApiError {
        let title = match self.status() {
            StatusCode::UNAUTHORIZED => "sign in again",
            StatusCode::SERVICE_UNAVAILABLE => "unavailable",
            _ => "no console access",
        };
        ApiError::new(self.status(), title, self.to_string())
    }
}

fn unavailable(e: impl std::fmt::Display) -> Refusal {
    tracing::error!(error = %e, "console sign-in check failed");
    Refusal::Unavailable
}

/// A console sign-in that holds now.
#[derive(Debug)]
pub struct SignedIn {
    /// Who, as the decision table sees them.
    pub principal: Principal,
    /// The OIDC grant the cookie names.
    pub grant: String,
}

/// The principal of a console session cookie, checked against the database now (every request). A refusal is
/// audited as `console.session`.
pub async fn current(state: &AppState, cookie: &str, tls: Option<&TlsInfo>) -> Result<SignedIn, Refusal> {
    let now = hcpki_ca::time::now_unix();
    let checked = match state.console_tickets.read_session(cookie, now) {
        Ok(t) => resolve(state, &t.grant, tls, now).await,
        Err(e) => Err(Refusal::Cookie(e)),
    };
    match checked {
        Ok(s) => Ok(s),
        Err(r) => Err(audit_refusal(state, "console.session", r).await),
    }
}

/// Who the person behind the console's OIDC grant `gid` is now: the grant live and the console's, the portal
/// session behind it live, the person's console grant, and the login strong enough for it.
async fn resolve(state: &AppState, gid: &str, tls: Option<&TlsInfo>, now: i64) -> Result<SignedIn, Refusal> {
    let portal = state.portal.as_ref().ok_or(Refusal::NoPortal)?;
    let grant = state.store.oidc_grant(gid).await.map_err(unavailable)?;
    let grant = grant
        .filter(|g| g.client_id == CONSOLE_CLIENT_ID && g.state == "active" && g.expires_at > now)
        .ok_or(Refusal::SignInEnded)?;
    let session = portal.sessions.live(&grant.session_hash).await.map_err(unavailable)?;
    let session = session.ok_or(Refusal::PortalSessionEnded)?;
    let person_key = session.person_key.clone();
    let Some(console_grant) = state.store.console_grant(&person_key).await.map_err(unavailable)? else {
        return Err(Refusal::NoGrant { person_key });
    };
    let principal = match console_grant.role {
        ConsoleRole::Staff(role) => {
            // The operating body's roles rest on a person's card and PIN (HPKI or JPKI), never a password.
            if session.subject.credential() == Credential::PasswordTotp {
                return Err(Refusal::CardRequired { person_key, role });
            }
            Principal::Person { person_key, name: session.subject.name().to_owned(), role }
        }
        ConsoleRole::FacilityAdmin(facility) => {
            // As the portal counts a session's facility (D24): only while this connection presents one of the
            // facility's PC certificates, and the login was made at one of them.
            let here = facility::pc_for_request(state.store.as_ref(), tls, session.facility_id.as_ref())
                .await
                .map_err(unavailable)?
                .map_err(Refusal::Connection)?;
            let pc = match here {
                Some((context, serial)) if context.id == facility => serial,
                _ => return Err(Refusal::WrongFacility { person_key, facility }),
            };
            // Changes rest on a card unless the operating body accepts password + TOTP at this facility
            // (issue #24 item 7); a password sign-in elsewhere still reads.
            let sign_in = if session.subject.credential() != Credential::PasswordTotp {
                AdminSignIn::Card
            } else if state.store.facility_admin_password_totp(facility.as_str()).await.map_err(unavailable)? {
                AdminSignIn::PasswordTotp
            } else {
                AdminSignIn::PasswordTotpNotAllowed
            };
            Principal::FacilityAdmin { facility, basis: AdminBasis::Person { person_key, pc, sign_in } }
        }
    };
    Ok(SignedIn { principal, grant: grant.id })
}

/// Audit a refusal (denied, with the reason) and hand it back.
async fn audit_refusal(state: &AppState, action: &str, r: Refusal) -> Refusal {
    if matches!(r, Refusal::Unavailable) {
        return r;
    }
    crate::http::auth::refuse(state, &r.actor(), action, "-", r.error()).await;
    r
}

/// The page for a refused console session: the reason, a way to sign in again, and both cookies cleared.
pub fn refused_page(lang: Lang, r: &Refusal) -> Response {
    let mut body = format!(
        "<div class=\"error\" role=\"alert\"><p>{}</p></div><p><a href=\"/console/login\">{}</a></p>",
        esc(&r.to_string()),
        M::SignInWithCard.text(lang)
    );
    if let Refusal::NoPortal = r {
        body = format!("<p>{}</p>", M::CardSignInUnavailable.text(lang));
    }
    if let Refusal::NoGrant { person_key } = r {
        body = format!(
            "<p>{}</p><p><code>{}</code></p><p><a href=\"/console/\">{}</a></p>",
            M::NoGrantHelp.text(lang),
            esc(person_key),
            M::Back.text(lang)
        );
    }
    let title = if r.status() == StatusCode::UNAUTHORIZED { M::SessionEnded } else { M::NoConsoleAccess };
    with_cleared_cookies(view::page(lang, &Principal::Anonymous, r.status(), title.text(lang), &body))
}

fn with_cleared_cookies(mut response: Response) -> Response {
    for c in ticket::clear_cookies() {
        if let Ok(v) = HeaderValue::from_str(&c) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

/// What a sign-in in progress derives from its seed (the seed lives only in the browser's HttpOnly cookie):
/// the PKCE verifier, and the `state` that ties the portal's answer to this browser.
struct Flow {
    verifier: String,
    state: String,
}

impl Flow {
    fn of(seed: &[u8]) -> Self {
        let verifier = B64.encode(seed);
        let mut tagged = b"hcpki console state\0".to_vec();
        tagged.extend_from_slice(seed);
        Self { verifier, state: B64.encode(crate::oidc::jws::sha256(&tagged)) }
    }
}

/// The console's one redirect URI (`[console] url` + the callback path), the only one the portal accepts
/// for [`CONSOLE_CLIENT_ID`]: never derived from the request's `Host`.
fn callback_uri(portal: &PortalState) -> Result<&str, Refusal> {
    portal.oidc.console_callback.as_deref().ok_or(Refusal::NoConsoleUrl)
}

/// `GET /console/login`: off to the portal's authorization endpoint, with the sign-in's state in a cookie.
pub async fn start(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let lang = Lang::negotiate(uri.query(), &headers);
    let Some(portal) = &state.portal else {
        return refused_page(lang, &Refusal::NoPortal);
    };
    let callback = match callback_uri(portal) {
        Ok(c) => c,
        Err(r) => return refused_page(lang, &r),
    };
    let seed = match hcpki_ca::keys::random_secret(32) {
        Ok(s) => s,
        Err(e) => return refused_page(lang, &unavailable(e)),
    };
    let flow = Flow::of(&seed);
    let params: Vec<(String, String)> = [
        ("response_type", "code"),
        ("client_id", CONSOLE_CLIENT_ID),
        ("redirect_uri", callback),
        ("scope", "openid"),
        ("state", &flow.state),
        ("code_challenge", &crate::oidc::jws::sha256_b64(flow.verifier.as_bytes())),
        ("code_challenge_method", "S256"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let location = format!("{}/authorize?{}", portal.oidc.issuer, crate::oidc::authorize::encode(&params));
    let mut response = super::see_other(&location);
    let cookie = state.console_tickets.set_login(&seed, hcpki_ca::time::now_unix());
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// The portal's answer (RFC 6749 §4.1.2, RFC 9207 `iss`).
#[derive(Debug, serde::Deserialize)]
pub struct Answer {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /console/login/callback`: redeem the code, decide, and start the console session (audited
/// `console.signin`, refusals too).
pub async fn callback(
    State(state): State<AppState>,
    tls: Option<Extension<Arc<TlsInfo>>>,
    headers: HeaderMap,
    Query(answer): Query<Answer>,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    match sign_in(&state, tls.as_ref().map(|t| t.0.as_ref()), &headers, answer).await {
        Ok(done) => done,
        Err(r) => refused_page(lang, &audit_refusal(&state, "console.signin", r).await),
    }
}

async fn sign_in(
    state: &AppState,
    tls: Option<&TlsInfo>,
    headers: &HeaderMap,
    answer: Answer,
) -> Result<Response, Refusal> {
    let portal = state.portal.as_ref().ok_or(Refusal::NoPortal)?;
    let now = hcpki_ca::time::now_unix();
    let cookie = cookie_value(headers, LOGIN_COOKIE).ok_or_else(|| {
        Refusal::Flow("this browser did not start the sign-in (or blocks cookies): start again".into())
    })?;
    let seed = state.console_tickets.read_login(&cookie, now).map_err(|_| {
        Refusal::Flow("the sign-in took longer than 10 minutes or was not started by this browser: start again".into())
    })?;
    let flow = Flow::of(&seed);
    if answer.state.as_deref() != Some(flow.state.as_str()) {
        return Err(Refusal::Flow("the sign-in answer is not for this browser's sign-in: start again".into()));
    }
    if answer.iss.as_deref().is_some_and(|iss| iss != portal.oidc.issuer) {
        return Err(Refusal::Flow("the sign-in answer comes from another issuer: start again".into()));
    }
    if let Some(error) = answer.error {
        let why = answer.error_description.unwrap_or_default();
        return Err(Refusal::Flow(format!("the portal refused the sign-in ({error}: {why})")));
    }
    let code = answer.code.ok_or_else(|| Refusal::Flow("the portal's answer has no code: start again".into()))?;
    let Granted { grant, data } = redeem(portal, &code, callback_uri(portal)?, &flow.verifier).await?;
    match resolve(state, &grant.id, tls, now).await {
        Ok(signed_in) => {
            let detail = json!({ "grant": signed_in.grant, "acr": data.acr });
            let actor = signed_in.principal.actor();
            portal::audit(&state.store, actor.as_str(), "console.signin", "-", Outcome::Ok, detail).await;
            let t = Ticket { grant: signed_in.grant, issued_at: now, seen_at: now };
            Ok(signed_in_page(state, Lang::negotiate(None, headers), &signed_in.principal, &t, now))
        }
        Err(r) => {
            // Nothing will use this grant: revoke it, so it does not sit among the person's portal grants.
            if let Err(e) = state.store.oidc_revoke_grant(&grant.id).await {
                tracing::error!(error = %e, "cannot revoke the refused console grant");
            }
            Err(r)
        }
    }
}

/// The code through the token endpoint's own exchange: PKCE, redirect URI, single use, expiry.
async fn redeem(portal: &PortalState, code: &str, redirect_uri: &str, verifier: &str) -> Result<Granted, Refusal> {
    let refresh = crate::oidc::token::successor(code).map_err(|e| unavailable(e.description))?;
    let request = GrantRequest::Code {
        code: code.to_owned(),
        redirect_uri: Some(redirect_uri.to_owned()),
        verifier: Some(verifier.to_owned()),
        refresh,
    };
    let exchange = Exchange { client_id: CONSOLE_CLIENT_ID.to_owned(), once: None, request: Some(request) };
    match portal.oidc.exchanges.exchange(exchange).await {
        Ok(Some(granted)) => Ok(granted),
        Ok(None) => Err(Refusal::Flow("the portal's answer has no code: start again".into())),
        Err(ExchangeRefusal::Replayed { what, .. }) => Err(Refusal::Flow(format!("{what}: start again"))),
        Err(ExchangeRefusal::Refused(e)) => Err(Refusal::Flow(format!("{}: start again", e.description))),
        Err(ExchangeRefusal::AssertionReplayed) => Err(Refusal::Unavailable),
    }
}

/// The answer to a successful sign-in: the session cookie and a console page that moves on to the console
/// itself. A page rather than a redirect: the request came from the portal's redirect (another origin), and a
/// `SameSite=Strict` cookie set now is sent on the next navigation only when that navigation starts here.
fn signed_in_page(state: &AppState, lang: Lang, who: &Principal, t: &Ticket, now: i64) -> Response {
    let body = format!(
        "<meta http-equiv=\"refresh\" content=\"0;url=/console/\"><p><a href=\"/console/\">{}</a></p>",
        M::ContinueToConsole.text(lang)
    );
    let mut response = view::page(lang, who, StatusCode::OK, M::SignedIn.text(lang), &body);
    let [_, clear_login] = ticket::clear_cookies();
    for c in [state.console_tickets.set_session(t, now), clear_login] {
        if let Ok(v) = HeaderValue::from_str(&c) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

/// `GET /console/logout`: the sign-out form (a POST with the CSRF token, so no other site can sign one out).
pub async fn signout_form(viewer: Viewer) -> Response {
    let t = |m: M| m.text(viewer.lang);
    let body = format!(
        "<p>{}</p><form method=\"post\" action=\"/console/logout\"><input type=\"hidden\" name=\"csrf\" \
         value=\"{}\"><button type=\"submit\">{}</button></form>",
        t(M::SignOutHelp),
        esc(&viewer.csrf()),
        t(M::SignOut)
    );
    view::page(viewer.lang, viewer.principal(), StatusCode::OK, t(M::SignOut), &body)
}

/// `POST /console/logout`: end the console session (its grant revoked, on every replica at once); the portal
/// session stays, as when signing out of any one service.
pub async fn signout(State(state): State<AppState>, viewer: Viewer, body: Body) -> Response {
    let _: std::collections::HashMap<String, String> = match viewer.form("console.signout", "-", body).await {
        Ok(f) => f,
        Err(page) => return page,
    };
    if let Some(gid) = &viewer.session_grant {
        if let Err(e) = state.store.oidc_revoke_grant(gid).await {
            return viewer.refusal(&ApiError::unavailable(e));
        }
        let detail = json!({ "grant": gid });
        portal::audit(&state.store, viewer.caller.actor().as_str(), "console.signout", "-", Outcome::Ok, detail).await;
    }
    let body = format!(
        "<p>{}</p><p><a href=\"/console/\">{}</a></p>",
        M::SignedOut.text(viewer.lang),
        M::Back.text(viewer.lang)
    );
    let page = view::page(viewer.lang, &Principal::Anonymous, StatusCode::OK, M::SignOut.text(viewer.lang), &body);
    with_cleared_cookies(page)
}

/// Renew the session cookie's idle deadline on an answer to a request that carried a valid one (signature
/// and lifetimes only; the request's handler checked the rest), unless the answer sets or clears it itself.
pub fn renew(state: &AppState, request_headers: &HeaderMap, response: &mut Response) {
    let sets_it = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.as_bytes().starts_with(ticket::SESSION_COOKIE.as_bytes()));
    if sets_it {
        return;
    }
    let Some(value) = cookie_value(request_headers, ticket::SESSION_COOKIE) else { return };
    let now = hcpki_ca::time::now_unix();
    if let Ok(t) = state.console_tickets.read_session(&value, now)
        && let Ok(v) = HeaderValue::from_str(&state.console_tickets.set_session(&t, now))
    {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}
