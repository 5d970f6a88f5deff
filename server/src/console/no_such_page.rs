//! The console's pages for addresses it does not have and methods its routes do not take (issue #45 item 6):
//! themed, in the viewer's language, behind the console's guard so its headers apply, with the header of whoever
//! is signed in (anonymous when that cannot be told) and a way back. A form too large and a failure of ours are
//! [`super::error_page`]'s (the viewer's own code reaches those, so they cannot need the viewer).

use super::Viewer;
use super::i18n::{self, Lang, M};
use super::view;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use hcpki_ca::access::Principal;
use maud::html;

/// Any console address without a page: the themed 404 (issue #45 item 6), with the console's headers (its guard)
/// and the header of whoever is signed in (anonymous when that cannot be told).
pub async fn not_found(viewer: Result<Viewer, Response>, headers: HeaderMap, uri: Uri) -> Response {
    themed(viewer.ok(), i18n::negotiate(uri.query(), &headers), StatusCode::NOT_FOUND)
}

/// A method a console route does not take: the themed 405.
pub async fn method_not_allowed(viewer: Result<Viewer, Response>, headers: HeaderMap, uri: Uri) -> Response {
    themed(viewer.ok(), i18n::negotiate(uri.query(), &headers), StatusCode::METHOD_NOT_ALLOWED)
}

fn themed(viewer: Option<Viewer>, lang: Lang, status: StatusCode) -> Response {
    let (title, help) = if status == StatusCode::METHOD_NOT_ALLOWED {
        (M::MethodNotAllowed, M::MethodNotAllowedHelp)
    } else {
        (M::NotFound, M::NotFoundHelp)
    };
    let body = html! {
        p { (help.text(lang)) }
        p { a href="/console/" { (M::ToConsoleHome.text(lang)) } }
    };
    let who = viewer.as_ref().map_or(&Principal::Anonymous, |v| v.principal());
    view::page(lang, who, status, title.text(lang), body)
}
