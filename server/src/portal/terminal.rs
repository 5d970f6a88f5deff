//! A session never follows its person to another terminal (issue #48 item 2, D161): the portal's half of
//! [`hcpki_sso::session::terminal`]. The session guard (`lending_endpoints::guard`, which reads the session of
//! every portal request carrying a session cookie) asks [`elsewhere`] first: a cookie that comes from another PC
//! or browser than its session's ends that session ([`end`]: `other-terminal`, its services get the back-channel
//! logout, audited `portal.session` denied with the reason), since its cookie is out; the request goes on with no
//! session, and the login page it is sent to says why (`ended_other_terminal`), to it and to the session's person.

use super::cookie;
use super::respond;
use super::state::PortalState;
use axum::extract::Request;
use axum_server::tls::TlsInfo;
use hcpki_sso::oidc;
use hcpki_sso::refusals::named;
use hcpki_sso::session::terminal::{self, BROWSER_COOKIE, Seen};
use hcpki_sso::session::{OTHER_TERMINAL, Session};
use serde_json::json;
use std::sync::Arc;

/// A request from another terminal: why, and what its audit entry needs.
#[derive(Debug)]
pub(super) struct Elsewhere {
    why: terminal::Elsewhere,
    path: String,
}

/// Whether `request`, whose cookie names `session`, comes from another PC or browser than the session was made
/// on; `None` when it may go on (or the session predates the binding). Not async: a request is not shared
/// across threads, so the guard reads it here and awaits [`end`] after.
pub(super) fn elsewhere(session: &Session, request: &Request) -> Option<Elsewhere> {
    let bound = session.terminal.as_ref()?;
    let tls = request.extensions().get::<Arc<TlsInfo>>().map(Arc::as_ref);
    let browser_cookie = cookie::cookie_value(request.headers(), BROWSER_COOKIE);
    let seen =
        Seen { pc_certificate: super::facility::peer_certificate(tls), browser_cookie: browser_cookie.as_deref() };
    let why = terminal::check(bound, seen).err()?;
    Some(Elsewhere { why, path: named(Some(request.uri().path())) })
}

/// End the session whose cookie [`elsewhere`] found on another terminal (`other-terminal`: its services get
/// the back-channel logout), audited `portal.session` (denied, with the reason). The request then goes on
/// without a session: a page sends it to the login page, which says why (`ended_other_terminal`), and a login
/// from there is not held up by the cookie it carried.
pub(super) async fn end(state: &PortalState, session: &Session, found: Elsewhere) {
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
}
