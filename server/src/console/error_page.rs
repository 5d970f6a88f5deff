//! The console's pages for a form too large (413) and a failure of ours (500), issue #45 item 6: themed, in the
//! viewer's language, with a way back. Apart from [`super::no_such_page`] because the viewer's own form reader
//! answers the 413, so these pages take the language and the person rather than the viewer.

use super::i18n::{Lang, M};
use super::{i18n, view};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use hcpki_ca::access::Principal;
use maud::html;

/// A form over `max` bytes (413): what happened and what to do, in the viewer's language, then the form's own
/// advice where it has one (another way to do it, such as splitting a large CSV). The caller audits.
pub fn too_large(lang: Lang, who: &Principal, max: usize, advice: Option<M>) -> Response {
    let help = match lang {
        Lang::Ja => format!(
            "このフォームで送れるのは {max} バイトまでです。何も変更していません。入力を短くして、もう一度送ってください。"
        ),
        Lang::En => {
            format!("This form takes at most {max} bytes. Nothing was changed: shorten the fields and send it again.")
        }
    };
    let body = html! {
        div class="error" role="alert" { p { (help) } @if let Some(a) = advice { p { (a.text(lang)) } } }
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
