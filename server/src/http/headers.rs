//! What the server reads from request headers, as pure functions over the header map: the bearer token
//! (`/userinfo`), HTTP Basic credentials (the admin API), and this server's own origin as the request names it
//! (the admin API's and the console's cross-site checks, the console's callback URLs). The `http_headers` fuzz
//! target drives them with the language negotiation and the console's cross-site check.

use axum::http::{HeaderMap, Uri, header};
use base64::Engine as _;

/// The access token of `Authorization: Bearer <token>` (RFC 6750 §2.1), as sent.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "))
}

/// `Basic base64(id:secret)` → (id, secret); the secret may hold colons, the ID cannot.
pub fn basic_credentials(value: &[u8]) -> Option<(String, String)> {
    let text = std::str::from_utf8(value).ok()?;
    let (scheme, encoded) = text.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let (id, secret) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

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
    fn basic_header() {
        let v = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("abc:s3:cret"));
        assert_eq!(basic_credentials(v.as_bytes()), Some(("abc".into(), "s3:cret".into())));
        assert_eq!(basic_credentials(b"Bearer x"), None);
        assert_eq!(basic_credentials(b"Basic !!!"), None);
    }

    #[test]
    fn bearer_and_origin() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer_token(&headers), None);
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer abc.def"));
        headers.insert(header::HOST, HeaderValue::from_static("portal.example.jp:8443"));
        assert_eq!(bearer_token(&headers), Some("abc.def"));
        let path: Uri = "/authorize?x=1".parse().unwrap();
        assert_eq!(own_origin(&path, &headers).as_deref(), Some("https://portal.example.jp:8443"));
        let absolute: Uri = "https://other.example/x".parse().unwrap();
        assert_eq!(own_origin(&absolute, &headers).as_deref(), Some("https://other.example"), "the authority wins");
    }
}
