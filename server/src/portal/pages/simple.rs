//! The portal's small pages: the "continuing" page after a card login, signed-out, the logout confirmation,
//! refusals and our own failures.

use super::layout::{BodyData, Chrome, Scripts, page, page_with, sign_out_form};
use crate::portal::problem::ProblemBox as _;
use crate::portal::words::M;
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_html::Lang;
use hcpki_sso::problem::Problem;
use maud::html;

/// The answer to a card login whose session lives on a presence lease (D26): its `card-watch.js` hands the
/// agent the presence token (`presence`), then goes on to `return_to` (already a safe local path); the link
/// does the same without scripts. The session's CSRF token and card complete what the script reads.
pub fn continuing(lang: Lang, return_to: &str, agent: &str, card_id: &str, csrf: &str, presence: &str) -> Response {
    let t = |m: M| m.text(lang);
    let body = html! { p { (t(M::SignedIn)) " " a id="continue" href=(return_to) { (t(M::Continue)) } } };
    let data = BodyData {
        agent: Some(agent),
        card: Some(card_id),
        csrf: Some(csrf),
        presence: Some(presence),
        continue_to: Some(return_to),
        lent: None,
    };
    let scripts = Scripts { src: "/static/card-watch.js", agent, data };
    page_with(&Chrome::new(lang), StatusCode::OK, t(M::SignedIn), body, Some(scripts))
}

/// The page after sign-out.
pub fn signed_out(lang: Lang) -> Response {
    let t = |m: M| m.text(lang);
    let body = html! {
        p { (t(M::SignedOut)) }
        p { a class="button" href="/login" { (t(M::SignInAgain)) } }
    };
    page(lang, StatusCode::OK, t(M::SignedOutTitle), body)
}

/// The logout confirmation form (RP-initiated logout without a valid `id_token_hint`).
pub fn confirm_logout(lang: Lang, csrf: &str) -> Response {
    let t = |m: M| m.text(lang);
    let body = html! {
        p { (t(M::ConfirmSignOutHelp)) }
        (sign_out_form(csrf, t(M::SignOutEverywhere)))
    };
    page(lang, StatusCode::OK, t(M::ConfirmSignOut), body)
}

/// A problem's own page (issue #26): what happened and what to do (the [`Problem`]'s box under the refusal
/// page's title), and the refusal in full as `detail`.
pub fn problem(lang: Lang, status: StatusCode, problem: &Problem, detail: Option<&str>) -> Response {
    page(lang, status, M::Refused.text(lang), problem.render(lang, false, detail))
}

/// The portal's 404 and 405 pages (issue #45 item 6): in the page's language, what happened, what to do and the
/// way back home, with every page's headers (CSP, framing, no-store).
pub fn no_such_page(lang: Lang, status: StatusCode) -> Response {
    let t = |m: M| m.text(lang);
    let (title, help) = if status == StatusCode::METHOD_NOT_ALLOWED {
        (M::MethodNotAllowed, M::MethodNotAllowedHelp)
    } else {
        (M::NotFound, M::NotFoundHelp)
    };
    let body = html! {
        p { (t(help)) }
        p { a href="/" { (t(M::ToHome)) } }
    };
    page(lang, status, t(title), body)
}

/// The page of a panic (500): what happened, what to do, the way home; nothing of the fault.
pub fn internal_error(lang: Lang) -> Response {
    let t = |m: M| m.text(lang);
    let body = html! {
        div class="error" role="alert" { p { (t(M::InternalErrorHelp)) } }
        p { a href="/" { (t(M::ToHome)) } }
    };
    page(lang, StatusCode::INTERNAL_SERVER_ERROR, t(M::InternalError), body)
}

/// The admission gate's refusal (503, D138): the portal is busy, nothing was done, and when to try again (the
/// same seconds as the `Retry-After` header the caller sets), with the way back to the sign-in page.
pub fn busy(lang: Lang, retry_after: u64) -> Response {
    let t = |m: M| m.text(lang);
    let body = html! {
        div class="error" role="alert" { p { (t(M::BusyHelp)) " " strong data-retry-after=(retry_after) { (retry_after) } } }
        p { a href="/login" { (t(M::ToSignIn)) } }
    };
    page(lang, StatusCode::SERVICE_UNAVAILABLE, t(M::Busy), body)
}

/// A refusal with its reason (the reason's own words: the module that refused wrote what to do).
pub fn refused(lang: Lang, status: StatusCode, reason: &str) -> Response {
    let t = |m: M| m.text(lang);
    let body = html! {
        div class="error" role="alert" { p { (reason) } }
        p { a href="/login" { (t(M::ToSignIn)) } }
    };
    page(lang, status, t(M::Refused), body)
}

/// A refusal whose `message` is written Japanese first, then English (`日本語 / English`), with the way back
/// to the sign-in page.
pub fn refused_ja(lang: Lang, status: StatusCode, message: &str) -> Response {
    refused(lang, status, message)
}

/// The page of a failure of ours (the database, mostly), in `lang`: logged, and the person asked to retry.
pub fn unavailable_in(lang: Lang, e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "portal request failed");
    refused(lang, StatusCode::SERVICE_UNAVAILABLE, M::Unavailable.text(lang))
}
