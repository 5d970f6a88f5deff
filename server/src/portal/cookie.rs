//! The cookies of an HTTP request, and the SSO session the session cookie names: the session store and its
//! rules are `hcpki_sso::session` (D24, D125); this adapter only reads the `Cookie` headers.

use axum::http::HeaderMap;
use axum::http::header;
use hcpki_sso::problem::Problem;
use hcpki_sso::session::{COOKIE, Session, SessionError, Sessions};

/// The session store read through a request's headers.
pub(crate) trait SessionCookies {
    /// The session the request's cookie names, if it is live at `now` and not lent, with its CSRF token
    /// ([`Sessions::of_cookie`]).
    async fn current(&self, headers: &HeaderMap, now: i64) -> Result<Option<(Session, String)>, SessionError>;

    /// The session the request's cookie names, if it is live at `now`, lent or not
    /// ([`Sessions::of_cookie_lent_ok`]: only the pages a lent session must keep serving use it).
    async fn current_lent_ok(&self, headers: &HeaderMap, now: i64) -> Result<Option<(Session, String)>, SessionError>;

    /// How the session the request's cookie names ended, if not by the person's own doing
    /// ([`Sessions::ended_of_cookie`]).
    async fn ended(&self, headers: &HeaderMap, now: i64) -> Result<Option<Problem>, SessionError>;
}

impl SessionCookies for Sessions {
    async fn current(&self, headers: &HeaderMap, now: i64) -> Result<Option<(Session, String)>, SessionError> {
        self.of_cookie(session_cookie(headers).as_deref(), now).await
    }

    async fn current_lent_ok(&self, headers: &HeaderMap, now: i64) -> Result<Option<(Session, String)>, SessionError> {
        self.of_cookie_lent_ok(session_cookie(headers).as_deref(), now).await
    }

    async fn ended(&self, headers: &HeaderMap, now: i64) -> Result<Option<Problem>, SessionError> {
        self.ended_of_cookie(session_cookie(headers).as_deref(), now).await
    }
}

/// The session cookie's value among the request's `Cookie` headers.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, COOKIE)
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}
