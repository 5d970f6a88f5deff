//! The proof verifier: one accepted proof, then each refusal of RFC 9449 §4.3 and §8 on its own.

use super::*;
use crate::dpop_nonce::{NONCE_WINDOW_SECS, NonceKey};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as sig, EcdsaKeyPair, KeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};

const NOW: i64 = 1_800_000_000;
const TOKEN_URL: &str = "https://idp.example:8443/token";

/// A P-256 key making proofs, as a client does.
struct Holder {
    key: EcdsaKeyPair,
    jwk: Value,
}

impl Holder {
    fn new() -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let key = EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
        let point = key.public_key().as_ref().to_vec();
        let jwk = json!({ "kty": "EC", "crv": "P-256", "x": B64.encode(&point[1..33]), "y": B64.encode(&point[33..]) });
        Self { key, jwk }
    }

    fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!("{}.{}", B64.encode(header.to_string()), B64.encode(claims.to_string()));
        let signature = self.key.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
        format!("{input}.{}", B64.encode(signature.as_ref()))
    }

    fn header(&self) -> Value {
        json!({ "typ": TYP, "alg": "ES256", "jwk": self.jwk })
    }

    fn proof(&self, claims: &Value) -> String {
        self.sign(&self.header(), claims)
    }
}

fn claims(nonce: Option<&str>) -> Value {
    let mut c = json!({ "jti": "j1", "htm": "POST", "htu": TOKEN_URL, "iat": NOW });
    if let Some(n) = nonce {
        c["nonce"] = json!(n);
    }
    c
}

fn urls() -> Vec<String> {
    vec![TOKEN_URL.to_owned(), "https://idp.example:9443/token".to_owned()]
}

fn at_token<'a>(htu: &'a [String]) -> Expected<'a> {
    Expected { htm: "POST", htu, ath: None }
}

fn nonces() -> NonceKey {
    NonceKey::new(&[9u8; 32])
}

#[test]
fn a_good_proof_gives_its_keys_thumbprint_and_a_once_scoped_to_the_key() {
    let h = Holder::new();
    let keys = nonces();
    let htu = urls();
    let proof = verify(&h.proof(&claims(Some(&keys.issue(NOW)))), &at_token(&htu), Some(&keys), NOW).unwrap();
    assert_eq!(proof.jkt, jws::thumbprint(&h.jwk));
    assert_eq!((proof.jti.as_str(), proof.iat), ("j1", NOW));
    let once = proof.once();
    assert_eq!(once.kind, "dpop");
    assert!(once.key.contains(&proof.jkt) && once.key.ends_with(":j1"), "{}", once.key);
    assert!(once.expires_at >= NOW + 2 * CLOCK_LEEWAY_SECS);
    // Another key, the same jti: another record.
    let other = verify(&Holder::new().proof(&claims(None)), &at_token(&htu), None, NOW).unwrap();
    assert_ne!(other.once().key, once.key);
    // The query and fragment of htu are ignored (§4.3); the mTLS alias is this endpoint too; iat within the leeway.
    let mut c = claims(None);
    c["htu"] = json!("https://idp.example:9443/token?x=1#f");
    c["iat"] = json!(NOW - CLOCK_LEEWAY_SECS);
    verify(&h.proof(&c), &at_token(&htu), None, NOW).unwrap();
}

/// Issue #42 item 6: `iat` at the ends of i64 is refused as stale or ahead, never wrapped into "now". The
/// first one is the release-build bypass: `(iat - now)` is exactly `i64::MIN`, whose `abs()` wraps to itself.
#[test]
fn an_iat_at_the_ends_of_the_integers_is_refused_and_never_wraps() {
    let h = Holder::new();
    let htu = urls();
    for iat in [i64::MIN + NOW, i64::MIN + NOW - 1, i64::MIN + NOW + 1, i64::MIN, i64::MAX, i64::MAX - 1, -NOW, 0] {
        let mut c = claims(None);
        c["iat"] = json!(iat);
        assert_eq!(verify(&h.proof(&c), &at_token(&htu), None, NOW).unwrap_err(), DpopError::Time, "iat {iat}");
    }
    // Around a clock at the ends too (a replica's clock is an input as well).
    for now in [i64::MIN, i64::MAX] {
        let mut c = claims(None);
        c["iat"] = json!(now);
        assert!(verify(&h.proof(&c), &at_token(&htu), None, now).is_ok(), "iat = now = {now}");
        c["iat"] = json!(if now < 0 { i64::MAX } else { i64::MIN });
        assert_eq!(verify(&h.proof(&c), &at_token(&htu), None, now).unwrap_err(), DpopError::Time, "now {now}");
    }
    // A proof's single-use record never wraps into the past.
    let proof = Proof { jkt: "k".into(), jti: "j".into(), iat: i64::MAX - 1 };
    assert_eq!(proof.once().expires_at, i64::MAX);
}

#[test]
fn every_bad_proof_is_refused_with_its_reason() {
    let h = Holder::new();
    let htu = urls();
    let refused = |proof: &str| verify(proof, &at_token(&htu), None, NOW).unwrap_err();
    let with = |name: &str, value: Value| {
        let mut c = claims(None);
        c[name] = value;
        h.proof(&c)
    };
    assert_eq!(refused(&with("htm", json!("GET"))), DpopError::Method("POST".into()));
    assert_eq!(refused(&with("htu", json!("https://idp.example:8443/userinfo"))), DpopError::Uri);
    assert_eq!(refused(&with("htu", json!("https://evil.example/token"))), DpopError::Uri);
    assert_eq!(refused(&with("iat", json!(NOW - CLOCK_LEEWAY_SECS - 1))), DpopError::Time, "stale");
    assert_eq!(refused(&with("iat", json!(NOW + CLOCK_LEEWAY_SECS + 1))), DpopError::Time, "future");
    assert_eq!(refused(&with("iat", json!("now"))), DpopError::Time);
    assert_eq!(refused(&with("jti", json!(""))), DpopError::Jti);
    assert_eq!(refused(&with("jti", json!("x".repeat(300)))), DpopError::Jti);
    let mut no_htm = claims(None);
    no_htm.as_object_mut().unwrap().remove("htm");
    assert_eq!(refused(&h.proof(&no_htm)), DpopError::Method("POST".into()));

    // The header: typ, jwk, private members, alg.
    let mut header = h.header();
    header["typ"] = json!("JWT");
    assert_eq!(refused(&h.sign(&header, &claims(None))), DpopError::Type);
    let mut header = h.header();
    header.as_object_mut().unwrap().remove("jwk");
    assert_eq!(refused(&h.sign(&header, &claims(None))), DpopError::Key);
    let mut header = h.header();
    header["jwk"]["d"] = json!("AAAA");
    assert_eq!(refused(&h.sign(&header, &claims(None))), DpopError::PrivateKey);
    let mut header = h.header();
    header["jwk"] = json!({ "kty": "oct", "k": "AAAA" });
    assert_eq!(refused(&h.sign(&header, &claims(None))), DpopError::PrivateKey);
    let mut header = h.header();
    header["jwk"]["crv"] = json!("P-384");
    assert_eq!(refused(&h.sign(&header, &claims(None))), DpopError::Key);
    for alg in ["none", "HS256"] {
        let mut header = h.header();
        header["alg"] = json!(alg);
        assert_eq!(refused(&h.sign(&header, &claims(None))), DpopError::Algorithm(alg.into()));
    }
    // A proof whose jwk is another key, or whose payload was changed after signing.
    let mut header = h.header();
    header["jwk"] = Holder::new().jwk;
    assert_eq!(refused(&h.sign(&header, &claims(None))), DpopError::Signature);
    let good = h.proof(&claims(None));
    let mut parts: Vec<&str> = good.split('.').collect();
    let changed = B64.encode(json!({ "jti": "j2", "htm": "POST", "htu": TOKEN_URL, "iat": NOW }).to_string());
    parts[1] = &changed;
    assert_eq!(refused(&parts.join(".")), DpopError::Signature);
    assert!(matches!(refused("a.b"), DpopError::Malformed(_)));
    assert_eq!(DpopError::Signature.error(), "invalid_dpop_proof");
}

#[test]
fn a_resource_wants_the_tokens_hash() {
    let h = Holder::new();
    let htu = vec!["https://idp.example:8443/userinfo".to_owned()];
    let ath = token_hash("the.access.token");
    let expected = Expected { htm: "GET", htu: &htu, ath: Some(&ath) };
    let mut c = json!({ "jti": "j", "htm": "GET", "htu": htu[0], "iat": NOW });
    assert_eq!(verify(&h.proof(&c), &expected, None, NOW).unwrap_err(), DpopError::TokenHash, "no ath");
    c["ath"] = json!(token_hash("another.token"));
    assert_eq!(verify(&h.proof(&c), &expected, None, NOW).unwrap_err(), DpopError::TokenHash);
    c["ath"] = json!(ath);
    verify(&h.proof(&c), &expected, None, NOW).unwrap();
}

#[test]
fn nonces_rotate_and_any_replica_takes_anothers() {
    let keys = nonces();
    let n = keys.issue(NOW);
    assert_eq!(n, NonceKey::new(&[9u8; 32]).issue(NOW), "another replica, the same secret: the same nonce");
    assert!(keys.accepts(&n, NOW) && keys.accepts(&n, NOW + NONCE_WINDOW_SECS));
    assert!(keys.accepts(&n, NOW - NONCE_WINDOW_SECS), "a replica a window ahead issued it");
    assert!(!keys.accepts(&n, NOW + 2 * NONCE_WINDOW_SECS), "too old");
    assert_ne!(keys.issue(NOW + 2 * NONCE_WINDOW_SECS), n, "rotated");
    assert!(!NonceKey::new(&[8u8; 32]).accepts(&n, NOW), "another secret");
    assert!(!keys.accepts("not base64!", NOW));

    let h = Holder::new();
    let htu = urls();
    let refused = |nonce: Option<&str>| verify(&h.proof(&claims(nonce)), &at_token(&htu), Some(&keys), NOW);
    assert_eq!(refused(None).unwrap_err(), DpopError::Nonce, "missing");
    assert_eq!(refused(Some("made-up")).unwrap_err(), DpopError::Nonce);
    let stale = keys.issue(NOW - 2 * NONCE_WINDOW_SECS);
    assert_eq!(refused(Some(&stale)).unwrap_err(), DpopError::Nonce);
    assert_eq!(DpopError::Nonce.error(), "use_dpop_nonce");
    refused(Some(&n)).unwrap();
}

#[test]
fn one_header_only() {
    assert_eq!(header([]), None);
    assert_eq!(header([Some("a.b.c")]), Some(Ok("a.b.c".to_owned())));
    assert_eq!(header([Some("a.b.c"), Some("d.e.f")]), Some(Err(DpopError::Several)));
    assert_eq!(header([None]), Some(Err(DpopError::NotText)));
}
