//! DPoP proofs (RFC 9449, `oidc::dpop::verify`): the `DPoP` header anyone may send to `/token` and userinfo
//! is parsed (compact JWS, `alg`, `typ`, the header's `jwk`), verified with the key it carries, and its claims
//! checked against the request, before anything is recorded.
//!
//! The first input byte says what the rest is. 0–1: the proof as sent. 2–3: a JSON object `{"header": {…},
//! "claims": {…}}` that the target completes and signs with its own P-256 key as ES256: the header gets `typ`
//! `dpop+jwt`, `alg` and the key's public `jwk` unless the input names them; a numeric `iat` counts from now
//! and `"nonce": true` becomes a current server nonce, so fresh and stale proofs and good and bad nonces are
//! reachable. Mode 2 is checked as a token endpoint request (POST), 3 as a userinfo request (GET, with `ath`).
//!
//! Must hold: no panic; a proof as sent (never signed here) is never accepted; an accepted proof is signed by
//! the target's key (its thumbprint), for the expected method and URL (query and fragment aside), within a
//! minute of now, with a jti, the token's hash at userinfo and a server nonce.
#![no_main]

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as sig, EcdsaKeyPair, KeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hcpki::fuzzing::{DpopExpected, NonceKey, dpop_token_hash, jwk_thumbprint, verify_dpop_proof};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use std::sync::OnceLock;

const TOKEN_URL: &str = "https://portal.fuzz.invalid/token";
const USERINFO_URL: &str = "https://portal.fuzz.invalid/userinfo";
const ACCESS_TOKEN: &str = "an.access.token";

struct Fixture {
    key: EcdsaKeyPair,
    jwk: Value,
    nonces: NonceKey,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("a P-256 key");
        let key = EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).expect("the key");
        let point = key.public_key().as_ref();
        let (x, y) = (point.get(1..33).expect("x"), point.get(33..65).expect("y"));
        let jwk = json!({ "kty": "EC", "crv": "P-256", "x": B64.encode(x), "y": B64.encode(y) });
        Fixture { key, jwk, nonces: NonceKey::new(&[7u8; 32]) }
    })
}

/// The input's header and claims, completed and signed with the fixture's key.
fn signed(f: &Fixture, input: &Value, now: i64) -> Option<String> {
    let mut header = json!({ "typ": "dpop+jwt", "alg": "ES256", "jwk": f.jwk });
    for (k, v) in input.get("header")?.as_object()? {
        header[k] = v.clone();
    }
    let mut claims = input.get("claims")?.as_object()?.clone();
    if let Some(offset) = claims.get("iat").and_then(Value::as_i64) {
        claims.insert("iat".into(), json!(now.saturating_add(offset)));
    }
    if claims.get("nonce") == Some(&Value::Bool(true)) {
        claims.insert("nonce".into(), json!(f.nonces.issue(now)));
    }
    let input = format!("{}.{}", B64.encode(header.to_string()), B64.encode(Value::Object(claims).to_string()));
    let signature = f.key.sign(&SystemRandom::new(), input.as_bytes()).ok()?;
    Some(format!("{input}.{}", B64.encode(signature.as_ref())))
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let Some((&mode, rest)) = data.split_first() else { return };
    let now = hcpki_pkix::time::now_unix();
    let (proof, ours) = match mode % 4 {
        0 | 1 => (String::from_utf8_lossy(rest).into_owned(), false),
        _ => {
            let Ok(input) = serde_json::from_slice::<Value>(rest) else { return };
            let Some(proof) = signed(f, &input, now) else { return };
            (proof, true)
        }
    };
    let resource = mode % 4 == 3;
    let (htm, url) = if resource { ("GET", USERINFO_URL) } else { ("POST", TOKEN_URL) };
    let htu = vec![url.to_owned()];
    let ath = dpop_token_hash(ACCESS_TOKEN);
    let expected = DpopExpected { htm, htu: &htu, ath: resource.then_some(ath.as_str()) };
    let Ok(accepted) = verify_dpop_proof(&proof, &expected, Some(&f.nonces), now) else { return };

    assert!(ours, "a proof this target never signed was accepted: {proof:?}");
    assert_eq!(accepted.jkt, jwk_thumbprint(&f.jwk), "accepted with another key: {proof:?}");
    let payload = proof.split('.').nth(1).and_then(|p| B64.decode(p).ok()).expect("an accepted JWS has a payload");
    let claims: Value = serde_json::from_slice(&payload).expect("an accepted payload is JSON");
    assert_eq!(claims["htm"], htm, "{claims}");
    let sent = claims["htu"].as_str().expect("an accepted htu").split(['?', '#']).next();
    assert_eq!(sent, Some(url), "{claims}");
    // A minute either way, and another of margin for the time this input took on a loaded machine.
    assert!((accepted.iat - now).abs() <= 120, "accepted iat {} at {now}: {claims}", accepted.iat);
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty() && j == accepted.jti), "{claims}");
    assert!(claims["nonce"].as_str().is_some_and(|n| f.nonces.accepts(n, now)), "{claims}");
    if resource {
        assert_eq!(claims["ath"], ath, "{claims}");
    }
});
