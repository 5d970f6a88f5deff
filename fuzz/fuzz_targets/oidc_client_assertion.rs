//! `private_key_jwt` client authentication (`client::verify`, RFC 7523): the `client_assertion` anyone may post
//! to `/token`, `/introspect`, `/revoke` and `/par` is parsed (compact JWS, `alg`, header, claims) and its
//! unverified `iss` looked up among the registered clients before anything about it is trusted.
//!
//! One client, `rp1`, is registered in an in-memory SQLite store with a P-256 and an RSA key (each with its
//! RFC 7638 `kid`). The first input byte says what the rest is. 0–3: the assertion as posted. 4–5, 6 and 7: a
//! JSON claims set that the target signs with rp1's key as ES256, RS256 and PS256, so that the checks after the
//! signature (iss = sub, aud, exp, nbf, iat, jti) see fuzzed claims; numeric `exp`, `nbf` and `iat` there count
//! from now (a seed's `"exp": 60` is a minute ahead), so fresh and stale times are both reachable.
//!
//! Must hold: no panic; an accepted assertion is rp1's, with iss = sub = rp1, an accepted audience, an `exp`
//! within an hour (plus a minute's leeway) and a jti to record; a posted assertion (never signed here) is never
//! accepted.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hcpki::fuzzing::{
    AuthMethod, ClientConfig, ClientCredentials, ClientRule, JWT_BEARER, Presented, Registry, Signer, SigningAlg,
    verify_client,
};
use hcpki_pkix::keys::{KeyAlgorithm, KeyContext, KeySource, SoftwareKey};
use hcpki_ca::store::{Actor, OidcClientRecord};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

const CLIENT: &str = "rp1";
const AUDIENCES: [&str; 2] = ["https://portal.fuzz.invalid/token", "https://portal.fuzz.invalid"];

struct Fixture {
    runtime: tokio::runtime::Runtime,
    registry: Registry,
    es256: Signer,
    rs256: Signer,
    ps256: Signer,
}

/// rp1's keys (made in a temporary directory, then held in memory) and the registry that knows it.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let passphrase = dir.path().join("passphrase");
        std::fs::write(&passphrase, "fuzz\n").expect("write the passphrase");
        let ctx = KeyContext { base_dir: dir.path().to_owned(), passphrase_file: Some(passphrase), pkcs11: None };
        let key = |name: &str, alg| -> Arc<dyn KeySource> {
            Arc::new(SoftwareKey::generate(&dir.path().join(name), alg, &ctx).expect("generate a key"))
        };
        let (ec, rsa) = (key("ec.p8", KeyAlgorithm::P256), key("rsa.p8", KeyAlgorithm::Rsa2048));
        let es256 = Signer::new(ec, SigningAlg::Es256).expect("ES256 signer");
        let rs256 = Signer::new(rsa.clone(), SigningAlg::Rs256).expect("RS256 signer");
        let ps256 = Signer::new(rsa, SigningAlg::Ps256).expect("PS256 signer");
        let config = ClientConfig {
            redirect_uris: vec!["https://rp.fuzz.invalid/cb".into()],
            auth: AuthMethod::PrivateKeyJwt,
            jwks: Some(json!({ "keys": [public(&es256.jwk), public(&rs256.jwk)] })),
            tls_subject: None,
            service: "wiki".into(),
            post_logout_redirect_uris: Vec::new(),
            backchannel_logout_uri: None,
            id_token_signed_response_alg: SigningAlg::Es256,
            userinfo_signed_response_alg: None,
            require_pushed_authorization_requests: false,
            secrets: Vec::new(),
            token_exchange_audiences: Vec::new(),
        };
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a Tokio runtime");
        let store = runtime.block_on(async {
            let store = hcpki_ca::store::open("sqlite::memory:").await.expect("an in-memory store");
            let record = OidcClientRecord {
                id: CLIENT.into(),
                data: serde_json::to_string(&config).expect("the registration is JSON"),
                created_by: "fuzz".into(),
                created_at: 0,
            };
            store.oidc_add_client(&record, &Actor::system(), hcpki_pkix::time::now()).await.expect("register rp1");
            store
        });
        // Clients are re-read after a day: rp1 is loaded once and stays, whatever happens to the pool.
        let registry = Registry::new(store, Duration::from_secs(86_400));
        Fixture { runtime, registry, es256, rs256, ps256 }
    })
}

/// A signer's JWK as a client registers it: without our `alg`/`use`, with the kid.
fn public(jwk: &Value) -> Value {
    let mut jwk = jwk.clone();
    if let Some(map) = jwk.as_object_mut() {
        map.remove("alg");
        map.remove("use");
    }
    jwk
}

/// Numeric exp, nbf and iat taken relative to `now`.
fn anchored(mut claims: Value, now: i64) -> Value {
    if let Some(map) = claims.as_object_mut() {
        for name in ["exp", "nbf", "iat"] {
            if let Some(offset) = map.get(name).and_then(Value::as_i64) {
                map.insert(name.into(), json!(now.saturating_add(offset)));
            }
        }
    }
    claims
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let Some((&mode, rest)) = data.split_first() else { return };
    let now = hcpki_pkix::time::now_unix();
    let (assertion, signed) = match mode % 8 {
        0..=3 => (String::from_utf8_lossy(rest).into_owned(), false),
        alg => {
            let Ok(claims) = serde_json::from_slice::<Value>(rest) else { return };
            let signer = match alg {
                4 | 5 => &f.es256,
                6 => &f.rs256,
                _ => &f.ps256,
            };
            let Ok(token) = signer.sign("JWT", &anchored(claims, now)) else { return };
            (token, true)
        }
    };
    let form: HashMap<String, String> = [
        ("client_assertion".to_owned(), assertion.clone()),
        ("client_assertion_type".to_owned(), JWT_BEARER.to_owned()),
    ]
    .into();
    let credentials = ClientCredentials::from_form(&form);
    let audiences = AUDIENCES.iter().map(|a| (*a).to_owned()).collect();
    let presented = Presented { credentials: &credentials, certificate: None, audiences, now };
    let Ok(verified) = f.runtime.block_on(verify_client(&f.registry, &presented, ClientRule::Confidential)) else { return };

    assert!(signed, "an assertion this target never signed was accepted: {assertion:?}");
    assert_eq!(verified.client.id, CLIENT);
    let payload = assertion.split('.').nth(1).and_then(|p| B64.decode(p).ok()).expect("an accepted JWS has a payload");
    let claims: Value = serde_json::from_slice(&payload).expect("an accepted payload is JSON");
    assert_eq!((claims["iss"].as_str(), claims["sub"].as_str()), (Some(CLIENT), Some(CLIENT)), "{claims}");
    let aud_ok = match &claims["aud"] {
        Value::String(a) => AUDIENCES.contains(&a.as_str()),
        Value::Array(list) => list.iter().filter_map(Value::as_str).any(|a| AUDIENCES.contains(&a)),
        _ => false,
    };
    assert!(aud_ok, "accepted without one of our audiences: {claims}");
    let exp = claims["exp"].as_i64().expect("an accepted assertion has a numeric exp");
    // At most an hour ahead and at most a minute stale, each plus a minute's leeway; another minute of margin
    // here for the time this input took on a loaded machine.
    assert!(exp > now - 120 && exp <= now + 3600 + 120, "accepted exp {exp} at {now}: {claims}");
    let once = verified.once.expect("an accepted assertion leaves a jti to record");
    assert_eq!(once.kind, "jti");
    assert!(claims["jti"].as_str().is_some_and(|jti| once.key.ends_with(jti)), "{once:?} for {claims}");
});
