//! Unit tests of the signing-request core: what a service's request may say, and what a posted signature must
//! be (the document's, B-B, by the signed-in person's HPKI signature certificate); B-T never without a TSA.
//! The whole journey (both databases, OpenSSL on the result) is tests/integration/signing_requests.rs.

use super::desk::{SignError, sign};
use super::fields::{Format, Level, NewRequest};
use super::{MAX_DOCUMENT_BYTES, SignatureTimeStamps, api::state_at};
use crate::login::{CardVerifier, CrlCache, RevocationPolicy, TrustAnchors};
use base64::Engine as _;
use hcpki_ca::signature::cades;
use hcpki_ca::store::signing_request::{SigningRequestRecord, SigningState};
use hcpki_ca::timestamp::client::Stamp;
use hcpki_vcard::testpki::{HpkiCredentials, HpkiSubject, HpkiTestCas};
use std::collections::HashMap;
use std::sync::Arc;

fn fields(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn good() -> HashMap<String, String> {
    fields(&[("format", "cades"), ("level", "b-t"), ("title", "診療情報提供書"), ("document", "aGVsbG8=")])
}

#[test]
fn a_request_names_a_built_format_and_level_a_title_and_a_document_within_the_limit() {
    let ok = NewRequest::parse(&good()).unwrap();
    assert_eq!(
        (ok.format, ok.level, ok.title.as_str(), ok.document.as_slice()),
        (Format::Cades, Level::BaselineT, "診療情報提供書", &b"hello"[..])
    );
    let refused = |change: &[(&str, &str)]| {
        let mut f = good();
        for (k, v) in change {
            f.insert((*k).into(), (*v).into());
        }
        NewRequest::parse(&f).unwrap_err()
    };
    for (change, error, words) in [
        (&[("format", "")][..], "invalid_request", "format is missing"),
        // "hello" is neither a prescription CSV nor a PDF: refused when the request is made, not at the page.
        (&[("format", "xades-eprescription")], "invalid_request", "not an e-prescription CSV"),
        (&[("format", "pades")], "invalid_request", "not a PDF"),
        (&[("format", "pdf")], "unsupported_format", "unknown format"),
        (&[("level", "b-lt")], "unsupported_level", "not available on this server yet"),
        (&[("level", "x")], "unsupported_level", "unknown level"),
        (&[("title", " ")], "invalid_request", "title must be"),
        (&[("title", "a\nb")], "invalid_request", "control characters"),
        (&[("document", "not base64!")], "invalid_request", "not base64"),
        (&[("document", "")], "invalid_request", "document is missing"),
    ] {
        let e = refused(change);
        assert_eq!(e.error, error, "{change:?}: {}", e.description);
        assert!(e.description.contains(words), "{change:?}: {}", e.description);
        assert_eq!(e.status.code(), 400);
    }
    let over = base64::engine::general_purpose::STANDARD.encode(vec![0u8; MAX_DOCUMENT_BYTES + 1]);
    let e = refused(&[("document", &over)]);
    assert_eq!((e.status.code(), e.error), (413, "too_large"), "{}", e.description);
    let at = base64::engine::general_purpose::STANDARD.encode(vec![0u8; MAX_DOCUMENT_BYTES]);
    assert_eq!(refused_len(&at), MAX_DOCUMENT_BYTES, "exactly the limit is taken");
}

fn refused_len(document: &str) -> usize {
    let mut f = good();
    f.insert("document".into(), document.into());
    NewRequest::parse(&f).unwrap().document.len()
}

/// A TSA list that gives nothing (none configured, or every one failed).
#[derive(Debug)]
struct NoTsa;

#[async_trait::async_trait]
impl SignatureTimeStamps for NoTsa {
    async fn stamp(&self, _digest: &[u8; 32]) -> Result<(Stamp, String), String> {
        Err("no time-stamping authority is configured".into())
    }
}

struct Pki {
    card: HpkiCredentials,
    other: HpkiCredentials,
    verifier: CardVerifier,
}

fn pki() -> Pki {
    let cas = HpkiTestCas::new().unwrap();
    let card = cas.issue(&HpkiSubject::default()).unwrap();
    let other = cas.issue(&HpkiSubject { registration_id: "Other0001".into(), ..HpkiSubject::default() }).unwrap();
    let trust = TrustAnchors::new(std::slice::from_ref(&card.root), &[], &[]).unwrap();
    let crls = Arc::new(CrlCache::new(Vec::new(), &trust));
    // No CRL of the signature CA is installed: the login's fail-open policy lets the holder through.
    let verifier = CardVerifier::new(Arc::new(trust), crls, RevocationPolicy::FailOpen);
    Pki { card, other, verifier }
}

fn request(
    verifier: &CardVerifier,
    card: &HpkiCredentials,
    level: &str,
    document: &[u8],
    now: i64,
) -> SigningRequestRecord {
    // The session's key: what the card's authentication certificate gave at login.
    let login = [card.authentication.cert.clone(), card.authentication_ca.clone()];
    SigningRequestRecord {
        id: "r1".into(),
        client_id: "emr".into(),
        person_key: verifier.signature_holder(&login, now).unwrap().to_string(),
        grant_id: "g".into(),
        sub: "s".into(),
        format: "cades".into(),
        level: level.into(),
        title: "t".into(),
        document: document.to_vec(),
        document_sha256: super::sha256_hex(document),
        state: SigningState::Pending,
        result: None,
        signer_sha256: None,
        gen_time: None,
        created_at: now,
        expires_at: now + 900,
        error: None,
    }
}

fn b_b(card: &HpkiCredentials, document: &[u8], now: i64) -> Vec<u8> {
    let digest: [u8; 32] = crate::oidc::jws::sha256(document).try_into().unwrap();
    let tbs = cades::prepare(&digest, &[card.signature.cert.as_slice(), &card.signature_ca], now).unwrap();
    let value = card.signature.key.sign_sha256(tbs.bytes()).unwrap();
    cades::assemble(tbs, &value).unwrap()
}

#[tokio::test]
async fn only_the_signed_in_physicians_b_b_signature_of_this_document_is_taken() {
    let p = pki();
    let now = hcpki_ca::time::now_unix();
    let document = b"{\"resourceType\":\"Bundle\"}";
    let r = request(&p.verifier, &p.card, "b-b", document, now);
    let own = b_b(&p.card, document, now);
    let (result, signer, stamp) = sign(Some(&p.verifier), &NoTsa, &r, &own, now).await.unwrap();
    assert_eq!((result, stamp), (own.clone(), None), "B-B is kept as the card made it");
    assert_eq!(signer, super::sha256_hex(&p.card.signature.cert));

    let refused = |e: SignError| e.to_string();
    let garbage = sign(Some(&p.verifier), &NoTsa, &r, b"\x30\x03\x02\x01\x01", now).await.unwrap_err();
    assert!(matches!(garbage, SignError::BadSignature(_)), "{garbage}");
    let elsewhere = sign(Some(&p.verifier), &NoTsa, &r, &b_b(&p.card, b"another document", now), now).await;
    assert!(matches!(elsewhere, Err(SignError::BadSignature(_))), "another document's signature");
    let stranger = sign(Some(&p.verifier), &NoTsa, &r, &b_b(&p.other, document, now), now).await.unwrap_err();
    assert!(matches!(stranger, SignError::NotThePhysician(_)), "{stranger}");
    assert!(refused(stranger).contains("another person"));
    let untrusted = sign(None, &NoTsa, &r, &own, now).await.unwrap_err();
    assert!(matches!(untrusted, SignError::NoTrustAnchors), "{untrusted}");

    // B-T: without a TSA nothing is signed (the local clock is never a time stamp).
    let r_t = request(&p.verifier, &p.card, "b-t", document, now);
    let no_tsa = sign(Some(&p.verifier), &NoTsa, &r_t, &own, now).await.unwrap_err();
    assert!(matches!(&no_tsa, SignError::NoTimeStamp(why) if why.contains("no time-stamping authority")), "{no_tsa}");
}

#[test]
fn a_pending_request_past_its_deadline_reads_as_expired() {
    let p = pki();
    let now = hcpki_ca::time::now_unix();
    let mut r = request(&p.verifier, &p.card, "b-b", b"x", now);
    assert_eq!(state_at(&r, now), "pending");
    assert_eq!(state_at(&r, now + 900), "expired");
    r.state = SigningState::Signed;
    assert_eq!(state_at(&r, now + 900), "signed", "an ended request keeps its state");
}
