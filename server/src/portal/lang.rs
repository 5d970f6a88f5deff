//! The language of a portal page: the console's rule ([`Lang::negotiate`]: `?lang=` from the page's switch,
//! then the cookie the switch set, then an English `Accept-Language`; Japanese otherwise), with the portal's
//! own cookie (D55: the portal and the console are different origins, usually different hosts).

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
pub use hcpki_html::Lang;
use hcpki_html::lang::query_lang;
use std::convert::Infallible;

/// The cookie that keeps the language chosen with the portal's switch.
pub const COOKIE: &str = "hcpki_portal_lang";

/// The page language of a portal request with this query string and these headers.
pub fn negotiate(query: Option<&str>, headers: &HeaderMap) -> Lang {
    let chosen = query.and_then(query_lang).map(Lang::code);
    let cookie = super::session::cookie_value(headers, COOKIE);
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    Lang::negotiate(chosen, cookie.as_deref(), accept)
}

/// The page language of the request, as a handler argument.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PageLang(pub Lang);

impl<S: Send + Sync> FromRequestParts<S> for PageLang {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(negotiate(parts.uri.query(), &parts.headers)))
    }
}

/// Keeps the language chosen with the switch (`?lang=`) in [`COOKIE`] for the portal's later pages.
/// `SameSite=Lax`, not `Strict`: a relying service sends the browser to the portal from its own site, and the
/// login page it lands on should still speak the chosen language.
pub async fn remember(request: Request, next: Next) -> Response {
    let chosen = request.uri().query().and_then(query_lang);
    let mut response = next.run(request).await;
    if let Some(lang) = chosen
        && let Ok(v) = HeaderValue::from_str(&format!("{COOKIE}={}; Path=/; Secure; SameSite=Lax", lang.code()))
    {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}
