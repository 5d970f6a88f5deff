//! Sign-in to the console with a card through hcpki's own SSO portal (issue #8, D42).
//!
//! The console is a relying party of the portal: "sign in with card" sends the browser to the portal's
//! authorization endpoint (code flow, PKCE S256) as the built-in client [`CONSOLE_CLIENT_ID`], so a person
//! signed in to the portal already gets in without touching the card again. The callback redeems the code
//! in-process through the token endpoint's own exchange (the same grant checks and single use, no HTTP call
//! to ourselves, any replica on the shared database), and the session cookie ([`ticket`]) names the grant.
//! Every later request checks that sign-in again ([`super::session`]).

use super::i18n::{Lang, M};
use super::problem::Problem;
use super::session::{
    Refusal, audit_refusal, refused_or_held, refused_page, resolve, unavailable, with_cleared_cookies,
};
use super::view::{self, csrf_field};
use super::{Viewer, see_other};
use crate::app::AppState;
use crate::app::ticket::{self, LOGIN_COOKIE, Ticket};
use crate::portal::PortalState;
use crate::portal::cookie::cookie_value;
use axum::body::Body;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use axum_server::tls::TlsInfo;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hcpki_ca::access::Principal;
use hcpki_ca::audit::Outcome;
use hcpki_model::UnixTime;
use hcpki_sso::oidc::client::CONSOLE_CLIENT_ID;
use hcpki_sso::oidc::exchange::{Exchange, GrantRequest, Granted, Refusal as ExchangeRefusal};
use maud::html;
use serde_json::json;
use std::sync::Arc;

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
        Self { verifier, state: B64.encode(hcpki_sso::oidc::jws::sha256(&tagged)) }
    }
}

/// The console's one redirect URI (`[console] url` + the callback path), the only one the portal accepts
/// for [`CONSOLE_CLIENT_ID`]: never derived from the request's `Host`.
fn callback_uri(portal: &PortalState) -> Result<&str, Refusal> {
    portal.oidc.console_callback.as_deref().ok_or(Refusal::NoConsoleUrl)
}

/// `GET /console/login`: off to the portal's authorization endpoint, with the sign-in's state in a cookie.
pub async fn start(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let lang = super::i18n::negotiate(uri.query(), &headers);
    let Some(portal) = &state.portal else {
        return refused_page(lang, &Refusal::NoPortal);
    };
    let callback = match callback_uri(portal) {
        Ok(c) => c,
        Err(r) => return refused_page(lang, &r),
    };
    let seed = match hcpki_pkix::keys::random_secret(32) {
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
        ("code_challenge", &hcpki_sso::oidc::jws::sha256_b64(flow.verifier.as_bytes())),
        ("code_challenge_method", "S256"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let location = format!("{}/authorize?{}", portal.oidc.issuer, hcpki_sso::oidc::authorize::encode(&params));
    let mut response = see_other(&location);
    let cookie = state.console_tickets.set_login(&seed, state.clock.now());
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
    let lang = super::i18n::negotiate(None, &headers);
    match sign_in(&state, tls.as_ref().map(|t| t.0.as_ref()), &headers, answer).await {
        Ok(done) => done,
        Err(r) => {
            let r = audit_refusal(&state, "console.signin", r).await;
            refused_or_held(&state, lang, tls.as_ref().map(|t| t.0.as_ref()), &r).await
        }
    }
}

async fn sign_in(
    state: &AppState,
    tls: Option<&TlsInfo>,
    headers: &HeaderMap,
    answer: Answer,
) -> Result<Response, Refusal> {
    let portal = state.portal.as_ref().ok_or(Refusal::NoPortal)?;
    let at = state.clock.now();
    let now = at.as_secs();
    let cookie = cookie_value(headers, LOGIN_COOKIE).ok_or_else(|| {
        Refusal::Flow("this browser did not start the sign-in (or blocks cookies): start again".into())
    })?;
    let seed = state.console_tickets.read_login(&cookie, at).map_err(|_| {
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
            hcpki_sso::audit::audit(
                state.store.as_ref(),
                state.clock.now_unix_ms(),
                actor.as_str(),
                "console.signin",
                "-",
                Outcome::Ok,
                detail,
            )
            .await;
            let t = Ticket { grant: signed_in.grant, issued_at: at, seen_at: at };
            Ok(signed_in_page(state, super::i18n::negotiate(None, headers), &signed_in.principal, &t, at))
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
    let refresh = hcpki_sso::oidc::token::successor(code).map_err(|e| unavailable(e.description))?;
    let request = GrantRequest::Code {
        code: code.to_owned(),
        redirect_uri: Some(redirect_uri.to_owned()),
        verifier: Some(verifier.to_owned()),
        refresh,
    };
    let exchange = Exchange { client_id: CONSOLE_CLIENT_ID.to_owned(), once: None, request: Some(request), dpop: None };
    match portal.oidc.exchanges.exchange(exchange).await {
        Ok(Some(granted)) => Ok(granted),
        Ok(None) => Err(Refusal::Flow("the portal's answer has no code: start again".into())),
        Err(ExchangeRefusal::Replayed { what, .. }) => Err(Refusal::Flow(format!("{what}: start again"))),
        Err(ExchangeRefusal::Refused(e)) => Err(Refusal::Flow(format!("{}: start again", e.description))),
        // Neither is sent here: the console's exchange carries no assertion and no proof.
        Err(ExchangeRefusal::AssertionReplayed | ExchangeRefusal::DpopReplayed) => Err(Refusal::Unavailable),
    }
}

/// The answer to a successful sign-in: the session cookie and a console page that moves on to the console
/// itself. A page rather than a redirect: the request came from the portal's redirect (another origin), and a
/// `SameSite=Strict` cookie set now is sent on the next navigation only when that navigation starts here.
fn signed_in_page(state: &AppState, lang: Lang, who: &Principal, t: &Ticket, now: UnixTime) -> Response {
    let body = html! {
        meta http-equiv="refresh" content="0;url=/console/";
        p { a href="/console/" { (M::ContinueToConsole.text(lang)) } }
    };
    let mut response = view::page(lang, who, StatusCode::OK, M::SignedIn.text(lang), body);
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
    let body = html! {
        p { (t(M::SignOutHelp)) }
        form method="post" action="/console/logout" {
            (csrf_field(&viewer.csrf()))
            button type="submit" { (t(M::SignOut)) }
        }
    };
    view::page(viewer.lang, viewer.principal(), StatusCode::OK, t(M::SignOut), body)
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
            tracing::error!(error = %e, "console sign-out: the grant could not be revoked");
            return viewer.refusal(Problem::Unavailable);
        }
        let detail = json!({ "grant": gid });
        hcpki_sso::audit::audit(
            state.store.as_ref(),
            state.clock.now_unix_ms(),
            viewer.caller.actor().as_str(),
            "console.signout",
            "-",
            Outcome::Ok,
            detail,
        )
        .await;
    }
    let body = html! {
        p { (M::SignedOut.text(viewer.lang)) }
        p { a href="/console/" { (M::Back.text(viewer.lang)) } }
    };
    let page = view::page(viewer.lang, &Principal::Anonymous, StatusCode::OK, M::SignOut.text(viewer.lang), body);
    with_cleared_cookies(page)
}
