//! The agent's own PIN page, `/pin/{id}` on 127.0.0.1. The portal opens it in a window; the PIN is
//! typed here and goes straight to the agent, never through the portal's page or server.
//!
//! The page loads nothing (CSP `default-src 'none'`), cannot be framed, and its form is accepted only
//! from its own origin with the operation's page token. After a post it redirects to itself (so a
//! reload never re-sends a PIN) and shows progress until the operation ends.
//!
//! Japanese first, English with the switch (D54) or when the portal asks for it with the request; it says which site asks and for what (a typed
//! [`Purpose`](super::Purpose)), the card's kind and holder, the tries left, and on every end state what
//! happened and what to do. Templates in `view`, words in `words`.

mod consent;
mod consent_words;
mod facts;
mod identify;
mod layout;
mod view;
mod words;

#[cfg(test)]
pub(super) mod tests;

use std::time::Duration;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use hcpki_html::Lang;
use maud::Markup;

use super::operations::{OpState, PinReply, pin_from_form};
use super::state::AppState;
use crate::driver::registry;
use words::M;

const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The cookie that keeps the language chosen with the page's switch (as the console's does).
const LANG_COOKIE: &str = "hcpki_agent_lang";

/// How long a request for the page waits while the card works before answering "working" (the page then
/// reloads at once and waits again): the page follows the operation without a script or a timed refresh.
const WORKING_WAIT: Duration = Duration::from_secs(10);

/// `?lang=` on the page's URL: the language switch, and the form's redirect.
#[derive(Debug, serde::Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    lang: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
) -> Response {
    let chosen = query.lang.as_deref().and_then(Lang::parse);
    let Some(op) = state.ops.get(&id) else {
        let lang = negotiate(query.lang.as_deref(), None, &headers);
        let markup = view::notice(lang, M::NoSuchOperation, Some(M::NoSuchOperationHelp), None);
        return page(StatusCode::NOT_FOUND, markup, chosen);
    };
    let lang = negotiate(query.lang.as_deref(), op.lang, &headers);
    let current = op.wait_while("running", WORKING_WAIT).await;
    let markup = match &current {
        OpState::PinRequired(question) => view::pin_form(lang, &op, question),
        OpState::Running => view::working(lang, &op),
        OpState::Done(_) => view::done(lang, &op),
        OpState::Failed(f) => view::failed(lang, &op, f, state.pin_timeout.as_secs()),
    };
    page(StatusCode::OK, markup, chosen)
}

#[derive(serde::Deserialize)]
pub struct PinForm {
    token: String,
    #[serde(default)]
    pin: Option<String>,
    #[serde(default)]
    action: Option<String>,
    /// The box ticked to spend the last try (the form shows it only then).
    #[serde(default)]
    confirm_last_try: Option<String>,
    /// The page's language, kept through the redirect.
    #[serde(default)]
    lang: Option<String>,
}

impl std::fmt::Debug for PinForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PinForm").field("action", &self.action).finish_non_exhaustive()
    }
}

pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<PinForm>,
) -> Response {
    let op = state.ops.get(&id);
    let lang = negotiate(form.lang.as_deref(), op.as_ref().and_then(|op| op.lang), &headers);
    let back = format!("/pin/{id}?lang={}", lang.code());
    let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()).unwrap_or_default();
    if !origin.eq_ignore_ascii_case(&state.own_origin) {
        tracing::warn!(%origin, "refused a PIN post from another origin");
        return page(StatusCode::FORBIDDEN, view::notice(lang, M::Refused, Some(M::RefusedHelp), None), None);
    }
    let Some(op) = op else {
        let markup = view::notice(lang, M::NoSuchOperation, Some(M::NoSuchOperationHelp), None);
        return page(StatusCode::NOT_FOUND, markup, None);
    };
    if !constant_time_eq(form.token.as_bytes(), op.page_token.as_bytes()) {
        let markup = view::notice(lang, M::OutOfDate, Some(M::OutOfDateHelp), Some(&back));
        return page(StatusCode::FORBIDDEN, markup, None);
    }
    let last_try = matches!(op.state(), OpState::PinRequired(q) if q.tries_left == Some(1));
    let reply = match (form.action.as_deref(), form.pin) {
        (Some("cancel"), _) => PinReply::Cancel,
        // A signing session's page asks for a click, never a PIN (D163): a PIN posted there is dropped, wiped.
        (Some("sign"), pin) if op.confirms() => {
            drop(pin.map(pin_from_form));
            PinReply::Confirm
        }
        // The last try goes to the card only with the box ticked (the browser also requires it): the PIN,
        // already in the form, is dropped (and wiped) here.
        (_, Some(pin)) if last_try && form.confirm_last_try.as_deref() != Some("yes") => {
            drop(pin_from_form(pin));
            let markup = view::notice(lang, M::LastTryNotConfirmed, Some(M::LastTryNotConfirmedHelp), Some(&back));
            return page(StatusCode::BAD_REQUEST, markup, None);
        }
        // A PIN the card would refuse for its format is not handed on (the card's driver would refuse it too,
        // ending the operation): the person is asked again, no try spent.
        (_, Some(pin)) if !pin.is_empty() && !registry::pin_labels(op.kind, op.role).admits(&pin) => {
            drop(pin_from_form(pin));
            return page(StatusCode::BAD_REQUEST, view::bad_format(lang, &op, &back), None);
        }
        (_, Some(pin)) if !pin.is_empty() => PinReply::Pin(pin_from_form(pin)),
        _ => return page(StatusCode::BAD_REQUEST, view::notice(lang, M::NoPin, None, Some(&back)), None),
    };
    if !op.deliver(reply) {
        return page(StatusCode::CONFLICT, view::notice(lang, M::NotAsked, Some(M::NotAskedHelp), None), None);
    }
    // Back to the page itself, in the language the form was in (the switch's, or the portal's).
    Redirect::to(&format!("/pin/{id}?lang={}", lang.code())).into_response()
}

/// The page language: the switch (`?lang=`, or the form's field), then the language the portal's page asked for
/// with the operation (its own language choice), then the switch's cookie, then `Accept-Language`. The portal's
/// choice goes before the cookie: the cookie may be an earlier patient's choice on this reception PC.
fn negotiate(chosen: Option<&str>, portal: Option<Lang>, headers: &HeaderMap) -> Lang {
    if let Some(lang) = chosen.and_then(Lang::parse).or(portal) {
        return lang;
    }
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(LANG_COOKIE)?.strip_prefix('='));
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    Lang::negotiate(chosen, cookie, accept)
}

/// The response: the page, its headers, and the language cookie when the switch chose one.
fn page(status: StatusCode, markup: Markup, chosen: Option<Lang>) -> Response {
    let mut response = (status, Html(markup.into_string())).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // `same-origin`, not `no-referrer`: under `no-referrer` browsers send `Origin: null` with the page's own
    // form post (Fetch, "serializing a request origin"), which `submit` must refuse; `same-origin` still
    // keeps the page's URL (the operation id) from any other site.
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if let Some(lang) = chosen {
        let cookie = format!("{LANG_COOKIE}={}; Path=/pin; Max-Age=31536000; SameSite=Strict; HttpOnly", lang.code());
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            h.insert(header::SET_COOKIE, v);
        }
    }
    response
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
