//! A consent's or signing request's id taken from the page's URL path (`/consent/{id}`, `/sign/{id}`), parsed
//! once before the handler runs (issue #43 item 3, D140): a text that is no id is refused here with the portal's
//! refusal page, 400, in the page's language, and is never looked up or put in a sign-in return address.

use super::lang::PageLang;
use super::pages;
use axum::extract::{FromRequestParts, Path};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use hcpki_html::Lang;
use hcpki_model::{ConsentId, InvalidSsoId, SigningRequestId};
use std::str::FromStr;

/// The id in the path, typed.
#[derive(Debug)]
pub struct PathId<T>(pub T);

/// The ids a page path can carry, with their names on the refusal page.
pub trait PagePathId: FromStr<Err = InvalidSsoId> + Send {
    /// What the id names, in Japanese.
    const WHAT_JA: &'static str;
}

impl PagePathId for ConsentId {
    const WHAT_JA: &'static str = "同意";
}

impl PagePathId for SigningRequestId {
    const WHAT_JA: &'static str = "署名依頼";
}

impl<S: Send + Sync, T: PagePathId> FromRequestParts<S> for PathId<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let lang = PageLang::from_request_parts(parts, state).await.map_or(Lang::Ja, |PageLang(lang)| lang);
        let Path(text) = Path::<String>::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        text.parse().map(Self).map_err(|e| pages::refused(lang, StatusCode::BAD_REQUEST, &reason::<T>(lang, &e)))
    }
}

/// The refusal's words: what is wrong and what to do.
fn reason<T: PagePathId>(lang: Lang, e: &InvalidSsoId) -> String {
    match lang {
        Lang::Ja => format!(
            "このアドレスの{}の ID が正しくありません。サービスや通知が示したリンクを、変えずにそのまま開いてください。",
            T::WHAT_JA
        ),
        Lang::En => format!("{e}: open the link the service or the notice gave, unchanged"),
    }
}
