//! The authorization endpoint's request parameters, `oidc::authorize::request::parse`: the query of
//! `GET /authorize`, the form of `POST /authorize`, or a request pushed to `/par`, as any browser or client may
//! send them (response_type, scope, the PKCE S256 challenge, prompt, max_age, nonce); and
//! `oidc::authorize::encode`, which writes the redirect back to the client (error, state, iss) and the login
//! page's return trip.
//!
//! The input is the query string; it is decoded with `serde_urlencoded` into the map axum's `Query` and `Form`
//! extractors give the handler (the last of repeated names wins, as there). `seeds/make-request-seeds` writes
//! the seeds.
//!
//! Must hold: no panic; an accepted request has response_type `code`, `openid` among its scopes, the challenge
//! sent (43 characters, method S256), the max_age sent (non-negative), and the prompt and nonce sent (an empty
//! one absent); a refusal names the check that failed, and its OAuth error code is the one for it; the
//! parameters written by `encode` are URL-safe and decode back to the same pairs.
#![no_main]

use hcpki::fuzzing::{AuthorizationRequestError as Error, encode_form, parse_authorization_request};
use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;

fuzz_target!(|data: &[u8]| {
    let Ok(params) = serde_urlencoded::from_bytes::<HashMap<String, String>>(data) else { return };
    let get = |k: &str| params.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let pkce_ok = get("code_challenge_method") == Some("S256") && get("code_challenge").is_some_and(|c| c.len() == 43);
    let max_age = get("max_age").map(str::parse::<i64>);
    match parse_authorization_request(&params) {
        Ok(request) => {
            assert_eq!(get("response_type"), Some("code"));
            assert_eq!(Some(request.scope), get("scope"));
            assert!(request.scope.split(' ').any(|s| s == "openid"), "accepted without openid: {request:?}");
            assert!(pkce_ok && Some(request.code_challenge) == get("code_challenge"), "{request:?}");
            match (request.max_age, max_age) {
                (None, None) => {}
                (Some(m), Some(Ok(sent))) => assert!(m == sent && m >= 0, "{request:?}"),
                (got, sent) => panic!("max_age {got:?} from {sent:?}"),
            }
            assert_eq!(request.prompt, get("prompt").unwrap_or_default());
            assert_eq!(request.nonce, get("nonce"));
        }
        Err(e) => {
            let (fits, code) = match e {
                Error::UnsupportedResponseType => (get("response_type") != Some("code"), "unsupported_response_type"),
                Error::NoOpenidScope => {
                    (!get("scope").is_some_and(|s| s.split(' ').any(|s| s == "openid")), "invalid_scope")
                }
                Error::NoPkce => (get("code_challenge").is_none(), "invalid_request"),
                Error::NotS256 => (!pkce_ok, "invalid_request"),
                Error::BadMaxAge => (!matches!(max_age, Some(Ok(m)) if m >= 0), "invalid_request"),
                _ => (false, "?"),
            };
            assert!(fits, "refused with {e:?} for {params:?}");
            assert_eq!(e.code(), code, "{e:?}");
        }
    }
    // What the client and the login page get back: every pair, URL-safe, decoding to itself.
    let mut pairs: Vec<(String, String)> = params.into_iter().collect();
    pairs.sort();
    let encoded = encode_form(&pairs);
    assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%&=".contains(&b)), "not URL-safe: {encoded}");
    let back: Vec<(String, String)> = serde_urlencoded::from_str(&encoded).expect("our encoding decodes");
    assert_eq!(back, pairs, "encode changed the parameters");
});
