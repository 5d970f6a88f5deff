//! The card login's answer, as `POST /login/card` carries it to the server: the card agent's signature (base64)
//! and the certificates the card gave (base64 DER, card certificate first, comma-separated), decoded by
//! `login::answer::decode`, then `CardVerifier::verify`: each certificate parsed, the leaf's key checking the
//! signature over the login message, the path to the configured HPKI root, the card certificate's validity and
//! usage, revocation from the CRL cache, hcRole and the name and account key read from it.
//!
//! The verifier trusts a throwaway HPKI-shaped PKI (`fuzz/fixtures/card-login-*`, made with the seeds by
//! `seeds/make-card-login-seeds`): its root as anchor, its authentication CA as configured intermediate, both
//! CRLs installed (the CA's lists one card), fail-closed, and a role table that adds "Dentist". The challenge is
//! fixed (`CHALLENGE` at `ORIGIN`). The first input byte says what the rest is. Even: the posted text, the
//! signature field, a NUL, the chain field; a fuzzed signature never verifies, so this reaches the decoding, the
//! certificate parsing and the signature check. Odd: the chain field alone, posted with the card key's own
//! signature over the login message, so that a chain whose leaf has the card's key goes on to the path, usage,
//! revocation and hcRole checks.
//!
//! Must hold: no panic; a decoded answer is what the text says (each field re-encodes to its trimmed text, at
//! most `MAX_POSTED_CERTS` certificates) and a refused one is `Malformed`; an accepted login is an HPKI card of the
//! fixture PKI (the card key's certificate), with the only valid signature, revocation checked good, the
//! certificate's serial and issuer, not expired, and the role `hc_role::decode` reads from it (a role has its
//! table, an unmapped text has none).
#![no_main]

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use der::Decode;
use hcpki::fuzzing::{
    CardKind, CardLoginError, CardVerifier, Challenge, CrlCache, DecodedAnswer, HcRole, MAX_POSTED_CERTS,
    RevocationChecked, RevocationPolicy, RoleTexts, TrustAnchors, VerifiedCard, decode_card_answer, decode_hc_role,
};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use x509_cert::Certificate;

const ROOT: &[u8] = include_bytes!("../fixtures/card-login-root.der");
const CA: &[u8] = include_bytes!("../fixtures/card-login-ca.der");
const ROOT_CRL: &[u8] = include_bytes!("../fixtures/card-login-root.crl.der");
const CA_CRL: &[u8] = include_bytes!("../fixtures/card-login-ca.crl.der");
/// The card's key (PKCS#8): every card certificate of the fixture PKI carries it.
const CARD_KEY: &[u8] = include_bytes!("../fixtures/card-login-card.key.der");
/// The challenge the seeds' signatures are over (make-card-login-seeds says the same).
const ORIGIN: &str = "https://portal.fuzz.invalid";
const CHALLENGE: [u8; 32] = [7; 32];

struct Fixture {
    verifier: CardVerifier,
    role_texts: RoleTexts,
    challenge: Challenge,
    /// The card's signature over the login message: PKCS#1 v1.5 is deterministic, so the only one that verifies.
    signature: Vec<u8>,
    /// The same as the signature field carries it.
    signature_field: String,
    /// The card's public key (RSAPublicKey DER), as a certificate's subjectPublicKey carries it.
    card_public_key: Vec<u8>,
    now: i64,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let now = hcpki_pkix::time::now_unix();
        let trust = TrustAnchors::new(&[ROOT.to_vec()], &[], &[CA.to_vec()]).expect("the fixture CAs");
        let crls = CrlCache::new(Vec::new(), &trust);
        crls.install("fuzz:ca", CA_CRL, now).expect("the fixture CA's CRL");
        crls.install("fuzz:root", ROOT_CRL, now).expect("the fixture root's ARL");
        let entries = BTreeMap::from([("Dentist".to_owned(), HcRole::Dentist.code().to_owned())]);
        let role_texts = RoleTexts::new(&entries).expect("a valid hc_role_texts entry");
        let verifier = CardVerifier::new(Arc::new(trust), Arc::new(crls), RevocationPolicy::FailClosed)
            .with_role_texts(Arc::new(role_texts.clone()));
        let key = RsaKeyPair::from_pkcs8(CARD_KEY).expect("the fixture card key");
        let mut signature = vec![0; key.public_modulus_len()];
        let message = hcpki_agent_protocol::login_message(ORIGIN, &CHALLENGE);
        key.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), &message, &mut signature).expect("signing");
        Fixture {
            verifier,
            role_texts,
            challenge: Challenge::for_tests(&CHALLENGE, ORIGIN),
            signature_field: STANDARD.encode(&signature),
            signature,
            card_public_key: key.public_key().as_ref().to_vec(),
            now,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let Some((&mode, rest)) = data.split_first() else { return };
    let lossy = String::from_utf8_lossy(rest);
    let text: &str = &lossy;
    let (signature, chain) =
        if mode % 2 == 0 { text.split_once('\0').unwrap_or((text, "")) } else { (f.signature_field.as_str(), text) };
    let decoded = match decode_card_answer(signature, chain) {
        Ok(decoded) => decoded,
        Err(e) => {
            assert!(matches!(e, CardLoginError::Malformed { .. }), "a refused answer that is not malformed: {e:?}");
            return;
        }
    };
    check_decoded(&decoded, signature, chain);
    if let Ok(card) = f.verifier.verify(&f.challenge, &decoded.signature, &decoded.chain, f.now) {
        check_accepted(f, &card, &decoded);
    }
});

/// The decoded answer is what the posted text says.
fn check_decoded(decoded: &DecodedAnswer, signature: &str, chain: &str) {
    assert_eq!(STANDARD.encode(&decoded.signature), signature.trim(), "the signature decoded to other bytes");
    let elements: Vec<&str> = chain.split(',').map(str::trim).filter(|c| !c.is_empty()).collect();
    assert!(decoded.chain.len() <= MAX_POSTED_CERTS, "{} certificates accepted", decoded.chain.len());
    let encoded: Vec<String> = decoded.chain.iter().map(|der| STANDARD.encode(der)).collect();
    assert_eq!(encoded, elements, "the chain decoded to other certificates");
}

/// An accepted login is the fixture PKI's card, read as its certificate says.
fn check_accepted(f: &Fixture, card: &VerifiedCard, decoded: &DecodedAnswer) {
    assert_eq!(decoded.signature, f.signature, "accepted a signature the card did not make");
    assert_eq!(card.kind, CardKind::Hpki, "only an HPKI anchor is configured");
    let leaf = Certificate::from_der(&decoded.chain[0]).expect("the verifier parsed the card certificate");
    let tbs = leaf.tbs_certificate();
    assert_eq!(
        tbs.subject_public_key_info().subject_public_key.raw_bytes(),
        f.card_public_key.as_slice(),
        "accepted a certificate for another key than the card's"
    );
    assert!(matches!(card.revocation, RevocationChecked::Good { .. }), "fail-closed with fresh CRLs: {card:?}");
    assert_eq!(card.serial, hex::encode(tbs.serial_number().as_bytes()));
    assert_eq!(card.issuer, tbs.issuer().to_string());
    assert!(card.not_after >= f.now, "an expired card accepted: {card:?}");
    assert!(card.person_key.starts_with("hpki:") || card.person_key.starts_with("hpki-cert:"), "{card:?}");
    let claim = decode_hc_role(&leaf, &f.role_texts).expect("the verifier decoded the hcRole");
    assert_eq!(card.subject.role(), claim.role(), "the session's role is not the certificate's");
    assert_eq!(card.role_source.is_some(), card.subject.role().is_some(), "a role without its table: {card:?}");
    assert!(card.unrecognised_role.is_none() || card.subject.role().is_none(), "{card:?}");
}
