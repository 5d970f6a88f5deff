//! The language of a portal page: the console's rule ([`Lang::negotiate`]: `?lang=` from the page's switch,
//! then the cookie the switch set, then an English `Accept-Language`; Japanese otherwise), with the portal's
//! own cookie (D55: the portal and the console are different origins, usually different hosts); and the
//! switch's link: the same request with only `lang` changed ([`switch_link`], D62).

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
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
    let cookie = super::cookie::cookie_value(headers, COOKIE);
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

/// The link of the language switch on the page at `address` (a path and query, or a query alone, as the
/// request named it): the same address with `lang` set to `lang`, every other parameter kept as it was, in
/// its order and its percent-encoding (a `lang` already there is replaced in place, any repeat dropped). So a
/// login page keeps its problem box (`?problem=…&tries_left=…`) and a refusal answered at `/authorize?…` keeps
/// the authorization request.
pub fn switch_link(address: &str, lang: Lang) -> String {
    let (path, query) = address.split_once('?').unwrap_or((address, ""));
    let ours = format!("lang={}", lang.code());
    let mut pairs: Vec<&str> = Vec::new();
    let mut placed = false;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        if pair.split_once('=').map_or(pair, |(k, _)| k) != "lang" {
            pairs.push(pair);
        } else if !placed {
            pairs.push(&ours);
            placed = true;
        }
    }
    if !placed {
        pairs.push(&ours);
    }
    format!("{path}?{}", pairs.join("&"))
}

tokio::task_local! {
    /// The path and query of the GET (or HEAD) request being answered, for the layout's switch.
    static ADDRESS: Option<String>;
}

/// The path and query of the page being answered, when the request was a GET or HEAD (a page answering a
/// POST is not at its request's address); `None` outside a request [`address`] wraps.
pub fn current_address() -> Option<String> {
    ADDRESS.try_with(Clone::clone).ok().flatten()
}

/// Makes the request's address known to the layout while the request is answered ([`current_address`]), so
/// every portal page's switch links to the same request ([`switch_link`]) without each handler passing it.
pub async fn address(request: Request, next: Next) -> Response {
    let here = (request.method() == Method::GET || request.method() == Method::HEAD)
        .then(|| request.uri().path_and_query().map(|pq| pq.as_str().to_owned()))
        .flatten();
    ADDRESS.scope(here, next.run(request)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_switch_keeps_the_path_and_every_other_parameter() {
        let en = Lang::En;
        assert_eq!(
            switch_link("/login?problem=wrong_pin&tries_left=2", en),
            "/login?problem=wrong_pin&tries_left=2&lang=en"
        );
        // Percent-encoding kept as sent (a `+`, `%26` inside a value, `%3D`), nothing decoded.
        let authorize = "/authorize?client_id=emr&redirect_uri=http%3A%2F%2Fh%2Fcb%3Fa%3D1%26b%3D2&state=a+b%20c";
        assert_eq!(switch_link(authorize, en), format!("{authorize}&lang=en"));
        assert_eq!(switch_link("/", Lang::Ja), "/?lang=ja");
        assert_eq!(switch_link("/sessions?", en), "/sessions?lang=en");
        assert_eq!(switch_link("?lang=ja", en), "?lang=en");
    }

    #[test]
    fn the_switch_replaces_lang_in_place_once() {
        assert_eq!(switch_link("/login?lang=ja&problem=no_card", Lang::En), "/login?lang=en&problem=no_card");
        assert_eq!(switch_link("/login?a=1&lang=ja&b=&lang=xx&lang", Lang::En), "/login?a=1&lang=en&b=");
        // A parameter whose name only starts with `lang` is another parameter.
        assert_eq!(switch_link("/x?language=de&langx", Lang::Ja), "/x?language=de&langx&lang=ja");
        // Empty pairs (`&&`) are dropped.
        assert_eq!(switch_link("/x?&a=1&&b=2&", Lang::Ja), "/x?a=1&b=2&lang=ja");
    }
}
