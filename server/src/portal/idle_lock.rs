//! The idle lock over HTTP (issue #48 item 2, D161): the decisions are [`hcpki_sso::session::idle`]'s. The
//! session guard (`lending_endpoints::guard`) hands every request of a live, unlent session here: one whose
//! session was last used longer ago than `[portal] idle_minutes` ends that session (`idle`, audited as its
//! `portal.logout`, its services get the back-channel logout) and goes on with no session, so a page sends the
//! person to the login page, which says why (`ended_idle`), and a relying service's authorization asks for a
//! login again; every other answer carries the renewed activity stamp, and the first of each few minutes notes
//! the session's use in the database so the housekeeping can end sessions nobody comes back to (D175).

use super::cookie;
use super::respond;
use super::state::PortalState;
use crate::web::headers::with_header;
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use hcpki_pkix::time::UnixTime;
use hcpki_sso::session::idle::{self, SEEN_COOKIE};
use hcpki_sso::session::{IDLE, Session};

/// Serve `request` in `session` at `now` unless the session has been idle too long.
pub(super) async fn guarded(
    state: &PortalState,
    session: &Session,
    request: Request,
    next: Next,
    now: i64,
) -> Response {
    let limit = state.sessions.idle_limit();
    if limit.secs().is_none() {
        return next.run(request).await;
    }
    let activity =
        idle::Activity { id_hash: &session.id_hash, auth_time: session.auth_time, expires_at: session.expires_at };
    let stamp = cookie::cookie_value(request.headers(), SEEN_COOKIE);
    let last_used = idle::last_used(&state.secret, activity, stamp.as_deref(), now);
    if idle::locked(limit, last_used, now) {
        respond::end_session_because(state, session, IDLE).await;
        return next.run(request).await;
    }
    if idle::seen_due(limit, last_used, now) {
        // For the housekeeping's idle sweep (D175); a failure only lets the sweep see the session idle sooner.
        if let Err(e) = state.store.portal_session_seen(&session.id_hash, UnixTime::from_secs(now)).await {
            tracing::warn!(error = %e, "cannot note a session in use");
        }
    }
    let response = next.run(request).await;
    with_header(response, header::SET_COOKIE, &idle::stamp(&state.secret, activity, now))
}
