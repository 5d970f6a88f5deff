//! What the server reads from request headers, as pure functions over the header map: the bearer token
//! (`/userinfo`), HTTP Basic credentials (the admin API), and this server's own origin as the request names it
//! (the admin API's and the console's cross-site checks, the console's callback URLs). The `http_headers` fuzz
//! target drives them with the language negotiation and the console's cross-site check.
//!
//! And the one way the portal's and the OIDC adapters add a header of their own to a response
//! ([`with_header`]). This file imports nothing of the crate, so any handler may use it without a loop.

use axum::http::{HeaderMap, HeaderName, HeaderValue, Uri, header};
use axum::response::Response;

/// The access token of `Authorization: Bearer <token>` (RFC 6750 §2.1), as sent. The scheme name is
/// case-insensitive (RFC 9110 §11.1), so `bearer` and `BEARER` introduce a token as `Bearer` does.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim_start_matches(' ');
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// `response` with the header `name: value` added (appended: a `Set-Cookie` joins any the response carries).
/// A value no header can carry (a control character) is left out rather than fail the response: the values are
/// the server's own (cookies, challenges), never a request's.
pub fn with_header(mut response: Response, name: HeaderName, value: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(value) {
        response.headers_mut().append(name, v);
    }
    response
}

/// HTTP Basic credentials (the admin API's), read as EST reads its own.
pub use hcpki_ca::enroll::est::basic_credentials;

/// This server's own origin as the request names it: `https://` + the authority it was sent to (HTTP/2
/// `:authority`, or the `Host` header).
pub fn own_origin(uri: &Uri, headers: &HeaderMap) -> Option<String> {
    let host = uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| headers.get(header::HOST).and_then(|h| h.to_str().ok()).map(str::to_owned));
    host.map(|h| format!("https://{h}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn bearer_and_origin() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer_token(&headers), None);
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer abc.def"));
        headers.insert(header::HOST, HeaderValue::from_static("portal.example.jp:8443"));
        assert_eq!(bearer_token(&headers), Some("abc.def"));
        for (sent, token) in
            [("bearer abc", Some("abc")), ("BEARER  abc", Some("abc")), ("Bearer ", None), ("Basic abc", None)]
        {
            headers.insert(header::AUTHORIZATION, HeaderValue::from_static(sent));
            assert_eq!(bearer_token(&headers), token, "{sent}");
        }
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer abc.def"));
        let path: Uri = "/authorize?x=1".parse().unwrap();
        assert_eq!(own_origin(&path, &headers).as_deref(), Some("https://portal.example.jp:8443"));
        let absolute: Uri = "https://other.example/x".parse().unwrap();
        assert_eq!(own_origin(&absolute, &headers).as_deref(), Some("https://other.example"), "the authority wins");
    }
}
