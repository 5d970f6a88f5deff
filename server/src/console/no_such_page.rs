//! The console's pages for addresses it does not have, methods its routes do not take, a form too large and a
//! failure of ours (issue #45 item 6): themed, in the viewer's language, behind the console's guard so its
//! headers apply, with the header of whoever is signed in (anonymous when that cannot be told) and a way back.

use super::Viewer;
use super::i18n::{self, Lang, M};
use super::view;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::middleware::Next;
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

/// A form over `max` bytes (413): what happened and what to do, in the viewer's language, then the form's own
/// advice (`hint`, English: another way to do it, such as the CLI for a large CSV). The caller audits.
pub fn too_large(lang: Lang, who: &Principal, max: usize, hint: &str) -> Response {
    let help = match lang {
        Lang::Ja => format!(
            "このフォームで送れるのは {max} バイトまでです。何も変更していません。入力を短くして、もう一度送ってください。"
        ),
        Lang::En => {
            format!("This form takes at most {max} bytes. Nothing was changed: shorten the fields and send it again.")
        }
    };
    let body = html! {
        div class="error" role="alert" { p { (help) } p lang="en" { (hint) } }
        p { a href="/console/" { (M::ToConsoleHome.text(lang)) } }
    };
    view::page(lang, who, StatusCode::PAYLOAD_TOO_LARGE, M::TooLarge.text(lang), body)
}

/// Middleware inside the console's guard: a handler's panic becomes the themed 500 page (nothing of the panic
/// shown; it is logged by [`crate::panics::run`]).
pub async fn catch_panic(request: Request, next: Next) -> Response {
    let lang = i18n::negotiate(request.uri().query(), request.headers());
    match crate::panics::run(request, next).await {
        Some(response) => response,
        None => {
            let body = html! {
                div class="error" role="alert" { p { (M::InternalErrorHelp.text(lang)) } }
                p { a href="/console/" { (M::ToConsoleHome.text(lang)) } }
            };
            view::page(
                lang,
                &Principal::Anonymous,
                StatusCode::INTERNAL_SERVER_ERROR,
                M::InternalError.text(lang),
                body,
            )
        }
    }
}
