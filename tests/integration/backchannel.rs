//! Back-channel logout as a relying party receives it (OpenID Connect Back-Channel Logout 1.0): a plain HTTP
//! endpoint taking one logout POST, and the relying party's validation of the logout token it carries (§2.6).
//! Every test that receives a logout token validates it here, never by decoding its payload alone.

use crate::oidc::{Portal, jws_part, verify_jws};
use serde_json::{Value, json};

/// The member of `events` that makes a JWT a logout token (§2.4).
const BACKCHANNEL_LOGOUT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// Clock skew allowed on `iat` and `exp`, as the provider allows on client assertions.
const LEEWAY_SECS: i64 = 60;

/// Accept one back-channel logout POST on `listener`, answer 200, and return the request.
pub(crate) fn logout_receiver(listener: std::net::TcpListener) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut conn, _) = listener.accept().unwrap();
        let mut buf = vec![0u8; 16384];
        let mut got = Vec::new();
        // Until the body named by Content-Length is in.
        let complete = |got: &[u8]| {
            let text = String::from_utf8_lossy(got);
            let Some((head, body)) = text.split_once("\r\n\r\n") else { return false };
            let len = head.lines().find_map(|l| {
                l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap())
            });
            len.is_some_and(|n| body.len() >= n)
        };
        while !complete(&got) {
            let n = conn.read(&mut buf).unwrap();
            assert!(n > 0, "the logout POST ended early: {}", String::from_utf8_lossy(&got));
            got.extend_from_slice(&buf[..n]);
        }
        conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").unwrap();
        String::from_utf8(got).unwrap()
    })
}

/// The claims of the logout token in a request [`logout_receiver`] took, validated for `client_id`, registered
/// for `alg` (its `id_token_signed_response_alg`): the request must be a POST of an
/// `application/x-www-form-urlencoded` body (§2.5).
pub(crate) fn received_logout_token(p: &Portal, request: &str, client_id: &str, alg: &str) -> Value {
    let (head, body) = request.split_once("\r\n\r\n").unwrap_or_else(|| panic!("not an HTTP request: {request}"));
    assert!(head.starts_with("POST "), "the logout request is not a POST: {head}");
    let content_type = head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("content-type").then(|| value.trim())
    });
    assert_eq!(content_type, Some("application/x-www-form-urlencoded"), "{head}");
    validated_logout_token(p, logout_token_of_form(body), client_id, alg)
}

/// The `logout_token` of a back-channel logout POST's form body, the only parameter it holds.
pub(crate) fn logout_token_of_form(body: &str) -> &str {
    let token = body.strip_prefix("logout_token=").unwrap_or_else(|| panic!("no logout_token in the form: {body}"));
    assert!(!token.contains(['&', '=']), "more than the logout token in the form: {body}");
    token
}

/// The claims of `token`, validated as the relying party `client_id`, registered for `alg`, must (§2.6): the signature by the
/// provider's JWKS key its `kid` names, with the registered algorithm; `typ` `logout+jwt` (the provider sets it,
/// §2.4); `iss` the provider; `aud` naming the client; `iat` not ahead and `exp` not past (a minute's leeway);
/// a `jti`; `events` holding the back-channel logout member as a JSON object; `sid` (the provider advertises
/// `backchannel_logout_session_supported`) and/or `sub`; no `nonce`.
pub(crate) fn validated_logout_token(p: &Portal, token: &str, client_id: &str, alg: &str) -> Value {
    let jwks: Value = serde_json::from_str(&p.get("/jwks").body).unwrap();
    let header = jws_part(token, 0);
    assert_eq!(header["alg"], alg, "the logout token is not signed with {client_id}'s registered alg: {header}");
    verify_jws(&jwks, token);
    assert_eq!(header["typ"], "logout+jwt", "{header}");
    let claims = jws_part(token, 1);
    assert_eq!(claims["iss"], p.issuer.as_str(), "{claims}");
    let audience = match &claims["aud"] {
        Value::String(aud) => aud == client_id,
        Value::Array(list) => list.contains(&json!(client_id)),
        _ => false,
    };
    assert!(audience, "the logout token is not for {client_id}: {claims}");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let time = |name: &str| claims[name].as_i64().unwrap_or_else(|| panic!("no numeric {name}: {claims}"));
    let (iat, exp) = (time("iat"), time("exp"));
    assert!(iat <= now + LEEWAY_SECS, "issued in the future: {claims}");
    assert!(exp > iat && exp + LEEWAY_SECS > now, "expired: {claims}");
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()), "no jti: {claims}");
    let event = &claims["events"][BACKCHANNEL_LOGOUT];
    assert!(event.is_object(), "no back-channel logout event: {claims}");
    let discovery: Value = serde_json::from_str(&p.get("/.well-known/openid-configuration").body).unwrap();
    let names = |claim: &str| claims[claim].as_str().is_some_and(|v| !v.is_empty());
    if discovery["backchannel_logout_session_supported"] == true {
        assert!(names("sid"), "no sid although the provider advertises sessions: {claims}");
    }
    assert!(names("sid") || names("sub"), "neither sid nor sub: {claims}");
    assert!(claims.get("nonce").is_none(), "a logout token must not carry a nonce: {claims}");
    claims
}
