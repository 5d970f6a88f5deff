//! What the portal's handlers share: the connection's facility, where to go after a login, the per-session CSRF
//! check, ending a session and the signed-out page.

use super::cookie::SessionCookies as _;
use super::facility;
use super::lang::Lang;
use super::pages;
use super::state::PortalState;
use super::words::M;
use crate::web::headers::with_header;
use axum::extract::{Extension, Query};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_server::tls::TlsInfo;
use hcpki_ca::audit::Outcome;
use hcpki_sso::audit::audit;
use hcpki_sso::facility::{Connection, LoginFacility, Refusal};
use hcpki_sso::problem::Problem;
use hcpki_sso::session::{self, Session};
use serde_json::json;
use std::sync::Arc;

/// Only local paths of the authorization endpoint or of a signing request's page (or `/`) are followed after login:
/// no open redirect.
pub(super) fn safe_return(return_to: Option<&str>) -> String {
    match return_to {
        Some(r) if r.starts_with("/authorize?") && !r.contains("//") => r.to_owned(),
        // The patient desk's pages (issue #28), exactly.
        Some(r @ ("/consents/new" | "/patients/identify")) => r.to_owned(),
        // A signing request's page (issue #27 item 3): its id is base64url, nothing else follows.
        // And a consent's page (issue #28), whose id is base64url too.
        Some(r)
            if ["/sign/", "/consent/"].iter().any(|prefix| {
                r.strip_prefix(prefix).is_some_and(|id| {
                    !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                })
            }) =>
        {
            r.to_owned()
        }
        _ => "/".to_owned(),
    }
}

pub(super) type Tls = Option<Extension<Arc<TlsInfo>>>;

pub(super) async fn connection(lang: Lang, state: &PortalState, tls: &Tls, now: i64) -> Result<Connection, Response> {
    facility::of_connection(state.store.as_ref(), tls.as_ref().map(|t| t.0.as_ref()), now)
        .await
        .map_err(|e| pages::unavailable_in(lang, e))
}

/// The facility a login at `now_ms` (Unix milliseconds) comes from, or the refusal page for a connection whose
/// certificate is revoked or expired or whose facility may not log in, audited as a denied `portal.login`.
pub(super) async fn login_connection(
    lang: Lang,
    state: &PortalState,
    tls: &Tls,
    now_ms: i64,
    actor: &str,
    target: &str,
    credential: &str,
) -> Result<LoginFacility, Response> {
    match connection(lang, state, tls, now_ms.div_euclid(1000)).await? {
        Connection::Refused(refusal) => {
            let detail = json!({ "credential": credential, "reason": refusal.reason });
            audit(state.store.as_ref(), now_ms, actor, "portal.login", target, Outcome::Denied, detail).await;
            Err(refused_connection(lang, &refusal))
        }
        Connection::Facility { context, serial, not_after } => {
            Ok(LoginFacility { context: Some(context), certificate: Some(serial), not_after: Some(not_after) })
        }
        Connection::None => Ok(LoginFacility::default()),
    }
}

/// The page of a connection whose PC certificate or facility is refused: its problem, with the reason in full.
pub(super) fn refused_connection(lang: Lang, refusal: &Refusal) -> Response {
    pages::problem(lang, StatusCode::FORBIDDEN, &refusal.problem, Some(&refusal.reason))
}

/// A session that could not be made: an expired certificate is the person's to fix, the rest is ours.
pub(super) fn session_failed(lang: Lang, e: session::SessionError) -> Response {
    match e {
        session::SessionError::CertificateExpired => {
            pages::refused(lang, StatusCode::FORBIDDEN, super::words::M::CertificateExpiredLogin.text(lang))
        }
        e => pages::unavailable_in(lang, e),
    }
}

/// The per-session CSRF token of a session-acting form (D24), or the refusal, audited `portal.csrf`.
pub(super) async fn check_form_csrf(
    lang: Lang,
    state: &PortalState,
    session: &Session,
    expected: &str,
    sent: Option<&str>,
) -> Result<(), Response> {
    if sent == Some(expected) {
        return Ok(());
    }
    let (actor, detail) =
        (format!("portal:{}", session.person_key), json!({ "reason": "missing or wrong CSRF token" }));
    audit(state.store.as_ref(), state.clock.now_unix_ms(), &actor, "portal.csrf", "-", Outcome::Denied, detail).await;
    Err(pages::refused(lang, StatusCode::FORBIDDEN, M::StaleForm.text(lang)))
}

/// The live session of a page's request with its CSRF token — a lent one too when `lent_ok` (the consent flow,
/// D91); without one, the login page that comes back to `back`.
pub(super) async fn signed_in_or_login(
    state: &PortalState,
    lang: Lang,
    headers: &axum::http::HeaderMap,
    back: &str,
    lent_ok: bool,
) -> Result<(Session, String), Response> {
    let now = state.clock.now_unix();
    let found = if lent_ok {
        state.sessions.current_lent_ok(headers, now).await
    } else {
        state.sessions.current(headers, now).await
    };
    match found {
        Ok(Some(s)) => Ok(s),
        Ok(None) => {
            let query = serde_urlencoded::to_string([("return_to", back)]).unwrap_or_default();
            Err(Redirect::to(&format!("/login?{query}")).into_response())
        }
        Err(e) => Err(pages::unavailable_in(lang, e)),
    }
}

/// A page script the portal serves: JavaScript, revalidated on every load, never sniffed.
pub(super) fn script(body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

/// Start the session of a good sign-in (its `portal.login` entry written with it) in place of the browser's
/// previous one (no two live sessions behind one cookie jar; the old one's clients are logged out as on
/// sign-out), and answer with the redirect to `return_to` setting its cookie; or the page of the failure.
#[allow(clippy::too_many_arguments)] // the login, where it came from and where it goes: a struct would only rename them
pub(super) async fn start_session(
    state: &PortalState,
    lang: Lang,
    headers: &axum::http::HeaderMap,
    tls: &Tls,
    login: session::NewSession,
    entry: hcpki_ca::audit::AuditEvent,
    now_ms: i64,
    return_to: &str,
) -> Response {
    if let Ok(Some((old, _))) = state.sessions.current(headers, now_ms.div_euclid(1000)).await {
        end_session(state, &old).await;
    }
    let pc_certificate = facility::peer_certificate(tls.as_ref().map(|t| t.0.as_ref()));
    match state.sessions.create(login, pc_certificate, entry, now_ms).await {
        Ok(created) => {
            let response =
                with_header(Redirect::to(return_to).into_response(), header::SET_COOKIE, &created.set_cookie);
            with_header(response, header::SET_COOKIE, &created.set_browser_cookie)
        }
        Err(e) => session_failed(lang, e),
    }
}

/// End a session and everything that hangs on it (sign-out).
pub async fn end_session(state: &PortalState, session: &Session) {
    end_session_because(state, session, "logout").await;
}

/// End a session and everything that hangs on it, audited with `why`.
pub(super) async fn end_session_because(state: &PortalState, session: &Session, why: &str) {
    match state.sessions.end_because(&session.id_hash, why, state.clock.now_unix()).await {
        Ok(Some(ended)) => state.after_session_end(&ended, why).await,
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, "cannot end the session"),
    }
}

/// The page after sign-out, with the cookie cleared; or a redirect to a registered post-logout URI.
pub fn signed_out(lang: Lang, redirect: Option<&str>) -> Response {
    let response = match redirect {
        Some(uri) => Redirect::to(uri).into_response(),
        None => pages::signed_out(lang),
    };
    with_header(response, header::SET_COOKIE, &session::clear_cookie())
}

/// The logout confirmation form (RP-initiated logout without a valid `id_token_hint`).
pub fn confirm_logout(lang: Lang, csrf: &str) -> Response {
    pages::confirm_logout(lang, csrf)
}

/// A problem's own page (403) in `lang`: what happened, what to do, `detail` in full.
pub fn problem_page(lang: Lang, problem: &Problem, detail: Option<&str>) -> Response {
    pages::problem(lang, StatusCode::FORBIDDEN, problem, detail)
}

/// A page refusing the request.
pub fn refused_page(lang: Lang, status: StatusCode, reason: &str) -> Response {
    pages::refused(lang, status, reason)
}

/// The origin of the relying service a login goes back to, when `return_to` (already a safe local path) is an
/// authorization request naming a client and one of its registered redirect URIs: the login page's CSP must
/// allow it in `form-action`, because Chromium checks `form-action` along the redirect chain of the login
/// form's POST (`/login` → `/authorize` → the service). The client and its redirect URI are judged exactly as
/// `/authorize` judges them (the console's built-in client included, whose one redirect URI is `[console] url`'s
/// callback — issue #45 item 5): a redirect URI `/authorize` would refuse adds no origin. Anything else (the
/// home page, a pushed request) needs nothing beyond `'self'`.
pub(super) async fn return_origin(state: &PortalState, return_to: &str) -> Option<String> {
    let uri: axum::http::Uri = return_to.parse().ok()?;
    let Query(q) = Query::<std::collections::HashMap<String, String>>::try_from_uri(&uri).ok()?;
    let (client_id, redirect) = (q.get("client_id")?, q.get("redirect_uri")?);
    let client_id = hcpki_model::OidcClientId::parse(client_id).ok()?;
    let client = state.oidc.authorizing_client(&client_id).await.ok()??;
    if !client.accepts_redirect(redirect, state.oidc.console_callback.as_deref()) {
        return None;
    }
    origin_of(redirect)
}

/// `scheme://authority` of an absolute `http(s)` URL, when it is plain enough to write into a CSP.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let plain = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    (matches!(scheme, "https" | "http") && !authority.is_empty() && plain(authority))
        .then(|| format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    use super::{origin_of, safe_return};

    #[test]
    fn after_login_only_the_authorization_endpoint_or_a_signing_request_page_is_followed() {
        assert_eq!(safe_return(Some("/authorize?client_id=emr")), "/authorize?client_id=emr");
        assert_eq!(safe_return(Some("/sign/AbC-_09")), "/sign/AbC-_09");
        for bad in [
            "/sign/",
            "/sign/a/b",
            "/sign/a?x=1",
            "/sign//evil.example",
            "https://evil.example/sign/a",
            "/other",
            "/consent/",
            "/consent/a/../../x",
        ] {
            assert_eq!(safe_return(Some(bad)), "/", "{bad}");
        }
    }

    #[test]
    fn only_a_plain_origin_reaches_the_policy() {
        assert_eq!(origin_of("https://emr.example.jp/cb?x=1").as_deref(), Some("https://emr.example.jp"));
        assert_eq!(origin_of("http://127.0.0.1:9/cb").as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(origin_of("http://[::1]:8080").as_deref(), Some("http://[::1]:8080"));
        assert_eq!(origin_of("https://a.jp;script-src *"), None);
        assert_eq!(origin_of("https://user@a.jp/"), None);
        assert_eq!(origin_of("javascript://a.jp"), None);
        assert_eq!(origin_of("/local"), None);
    }
}
