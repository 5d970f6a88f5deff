//! The server's header checks, on a request as any browser or client may send it: the bearer token of
//! `/userinfo` (`web::headers::bearer_token`), HTTP Basic credentials of the admin API (`basic_credentials`),
//! cookies (`portal::cookie::cookie_value`: the session, pre-login and language cookies), the console's
//! language (`console::i18n::negotiate`: `lang` query, cookie, `Accept-Language` weights), this server's
//! own origin (`own_origin`: the `:authority` or `Host`) and the console's cross-site check of a POST
//! (`console::cross_site`: `Sec-Fetch-Site`, `Origin`).
//!
//! The input is a request head as text: the request target (a path with a query, or an absolute URL) on the
//! first line, then `name: value` header lines (repeated names kept, as HTTP allows). A head the `http` crate
//! refuses is skipped. `seeds/make-request-seeds` writes the seeds.
//!
//! Must hold: no panic; a bearer token is what follows `Bearer ` in the Authorization header; Basic credentials
//! re-encode to the header's token, with an ID without a colon; a cookie's value is one `name=value` pair of a
//! `Cookie` header, with no `;`; the language is the query's when it names one, else the cookie's, else
//! Japanese unless `Accept-Language` is there; an own origin is `https://` and the authority; a POST passes
//! the cross-site check only with `Origin` equal to the own origin and `Sec-Fetch-Site` absent or
//! `same-origin`.
#![no_main]

use axum::body::Body;
use axum::http::{HeaderMap, Request, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hcpki::fuzzing::{
    LANG_COOKIE, Lang, basic_credentials, bearer_token, cookie_value, cross_site, negotiate_lang, own_origin,
    query_lang,
};
use libfuzzer_sys::fuzz_target;

/// The cookies the server reads.
const COOKIES: [&str; 3] = ["__Host-hcpki-session", "__Host-hcpki-login", LANG_COOKIE];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut lines = text.lines();
    let Some(target) = lines.next() else { return };
    let mut builder = Request::builder().method("POST").uri(target);
    for line in lines {
        let Some((name, value)) = line.split_once(':') else { return };
        builder = builder.header(name.trim(), value.trim());
    }
    let Ok(request) = builder.body(Body::empty()) else { return };
    let headers = request.headers();

    let authorization = headers.get(header::AUTHORIZATION);
    if let Some(token) = bearer_token(headers) {
        let sent = authorization.and_then(|v| v.to_str().ok()).expect("a bearer token from no header");
        let (scheme, rest) = sent.split_once(' ').expect("a bearer token from a header without a scheme");
        assert!(scheme.eq_ignore_ascii_case("bearer"), "a bearer token under the scheme {scheme:?}");
        assert!(!token.is_empty() && rest.trim_start_matches(' ') == token, "the token is not the header's");
    }
    if let Some((id, secret)) = authorization.and_then(|v| basic_credentials(v.as_bytes())) {
        let sent = authorization.and_then(|v| v.to_str().ok()).expect("credentials from a header that is not text");
        let (_, token) = sent.trim().split_once(' ').expect("credentials from a header without a scheme");
        assert!(!id.contains(':'), "an ID with a colon: {id:?}");
        assert_eq!(
            STANDARD.encode(format!("{id}:{}", secret.as_str())),
            token.trim(),
            "the credentials are not the header's"
        );
    }
    for name in COOKIES {
        if let Some(value) = cookie_value(headers, name) {
            check_cookie(headers, name, &value);
        }
    }

    let query = request.uri().query();
    let lang = negotiate_lang(query, headers);
    if let Some(chosen) = query.and_then(query_lang) {
        assert_eq!(lang, chosen, "the switch's choice was not taken");
    } else if let Some(kept) = cookie_value(headers, LANG_COOKIE).and_then(|v| Lang::parse(&v)) {
        assert_eq!(lang, kept, "the cookie's choice was not taken");
    } else if !headers.contains_key(header::ACCEPT_LANGUAGE) {
        assert_eq!(lang, Lang::Ja, "not Japanese by default");
    }

    let own = own_origin(request.uri(), headers);
    if let Some(origin) = &own {
        let authority = origin.strip_prefix("https://").expect("an own origin that is not https");
        let named = request.uri().authority().map(|a| a.as_str().to_owned());
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).map(str::to_owned);
        assert_eq!(Some(authority.to_owned()), named.or(host), "the origin names another authority");
    }
    if cross_site(&request).is_none() {
        let origin = headers.get(header::ORIGIN).expect("a POST without Origin passed");
        assert_eq!(own.as_deref().map(str::as_bytes), Some(origin.as_bytes()), "a foreign Origin passed");
        let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
        assert!(site.is_none_or(|s| s == "same-origin"), "Sec-Fetch-Site {site:?} passed");
    }
});

/// `value` is the value of a `name=value` pair in one of the `Cookie` headers.
fn check_cookie(headers: &HeaderMap, name: &str, value: &str) {
    assert!(!value.contains(';'), "{name} = {value:?} spans pairs");
    let found = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .any(|pair| pair.trim() == format!("{name}={value}"));
    assert!(found, "{name} = {value:?} is in no Cookie header");
}
