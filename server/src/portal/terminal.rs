//! A session never follows its person to another terminal (issue #48 item 2, D161): the portal's half of
//! [`hcpki_sso::session::terminal`]. The session guard (`lending_endpoints::guard`, which reads the session of
//! every portal request carrying a session cookie) asks [`elsewhere`] first, then [`refuse`]s: a cookie that comes from another PC
//! or browser than its session's is refused with the `ended_other_terminal` page, audited `portal.session`
//! (denied, with the reason), and the session is ended (`other-terminal`: its services get the back-channel
//! logout), since its cookie is out. Its person's next visit is told why.

use super::cookie;
use super::pages;
use super::respond;
use super::state::PortalState;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::response::Response;
use axum_server::tls::TlsInfo;
use hcpki_html::Lang;
use hcpki_sso::oidc;
use hcpki_sso::problem::Problem;
use hcpki_sso::refusals::named;
use hcpki_sso::session::terminal::{self, BROWSER_COOKIE, Seen};
use hcpki_sso::session::{OTHER_TERMINAL, Session, clear_cookie};
use serde_json::json;
use std::sync::Arc;

/// A request refused for coming from another terminal: why, and what its page and audit entry need.
#[derive(Debug)]
pub(super) struct Elsewhere {
    why: terminal::Elsewhere,
    path: String,
    lang: Lang,
}

/// Whether `request`, whose cookie names `session`, comes from another PC or browser than the session was made
/// on; `None` when it may go on (or the session predates the binding). Not async: a request is not shared
/// across threads, so the guard reads it here and awaits [`refuse`] after.
pub(super) fn elsewhere(session: &Session, request: &Request) -> Option<Elsewhere> {
    let bound = session.terminal.as_ref()?;
    let tls = request.extensions().get::<Arc<TlsInfo>>().map(Arc::as_ref);
    let browser_cookie = cookie::cookie_value(request.headers(), BROWSER_COOKIE);
    let seen =
        Seen { pc_certificate: super::facility::peer_certificate(tls), browser_cookie: browser_cookie.as_deref() };
    let why = terminal::check(bound, seen).err()?;
    let lang = super::lang::negotiate(request.uri().query(), request.headers());
    Some(Elsewhere { why, path: named(Some(request.uri().path())), lang })
}

/// Refuse the request [`elsewhere`] found, audited `portal.session`, and end its session (`other-terminal`).
pub(super) async fn refuse(state: &PortalState, session: &Session, found: Elsewhere) -> Response {
    let detail = json!({
        "reason": found.why.code(),
        "message": found.why.to_string(),
        "path": found.path,
        "session": oidc::sid(&session.id_hash),
    });
    state
        .refusals
        .record(&format!("portal:{}", session.person_key), "portal.session", &session.person_key, detail)
        .await;
    respond::end_session_because(state, session, OTHER_TERMINAL).await;
    let page = pages::problem(found.lang, StatusCode::FORBIDDEN, &Problem::EndedOtherTerminal, None);
    crate::web::headers::with_header(page, header::SET_COOKIE, &clear_cookie())
}
