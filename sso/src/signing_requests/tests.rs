//! Unit tests of the signing-request core: what a service's request may say, and what a posted signature must
//! be (the document's, B-B, by the signed-in person's HPKI signature certificate); B-T never without a TSA.
//! The whole journey (both databases, OpenSSL on the result) is tests/integration/signing_requests.rs.

use super::desk::{SignError, sign};
use super::fields::{Format, Level, NewRequest};
use super::{MAX_DOCUMENT_BYTES, api::state_at};
use crate::desk::signature::{SignatureTimeStamps, sha256_hex};
use crate::login::{CardVerifier, CrlCache, RevocationPolicy, TrustAnchors};
use base64::Engine as _;
use der::Encode as _;
use hcpki_ca::store::signing_request::{SigningRequestRecord, SigningState};
use hcpki_docsig::signature::cades::{self, CadesSignature};
use hcpki_docsig::signature::validation::{Indication, Level as ValidationLevel, SigningTrust};
use hcpki_docsig::timestamp::client::Stamp;
use hcpki_docsig::timestamp::client::{Query, TsaTrust, check_reply};
use hcpki_docsig::timestamp::{Accuracy, TimeStampAuthority, TsaSettings};
use hcpki_pkix::keys::{KeyAlgorithm, SoftwareKey};
use hcpki_vcard::testpki::{CrlValidity, HpkiCredentials, HpkiSubject, HpkiTestCas};
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
    for (name, level) in [("b-b", Level::BaselineB), ("b-lt", Level::BaselineLt), ("b-lta", Level::BaselineLta)] {
        let mut f = good();
        f.insert("level".into(), name.into());
        assert_eq!(NewRequest::parse(&f).unwrap().level, level, "{name}");
    }
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
        // Refused for the format before the document is read.
        (&[("format", "xades-eprescription"), ("level", "b-lt")], "unsupported_level", "takes B-T"),
        (&[("format", "xades-eprescription"), ("level", "b-lta")], "unsupported_level", "takes B-T"),
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
        id: "r1".parse().unwrap(),
        client_id: "emr".into(),
        person_key: verifier.signature_holder(&login, now).unwrap().person.to_string(),
        grant_id: "g".into(),
        sub: "s".into(),
        format: "cades".into(),
        level: level.into(),
        title: "t".into(),
        document: document.to_vec(),
        document_sha256: sha256_hex(document),
        state: SigningState::Pending,
        result: None,
        signer_sha256: None,
        gen_time: None,
        created_at: now,
        expires_at: now + 900,
        error: None,
        signature_mode: None,
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
    let now = hcpki_pkix::time::now_unix();
    let document = b"{\"resourceType\":\"Bundle\"}";
    let r = request(&p.verifier, &p.card, "b-b", document, now);
    let own = b_b(&p.card, document, now);
    let signed = sign(Some(&p.verifier), &NoTsa, &r, &own, now).await.unwrap();
    assert_eq!((signed.document, signed.stamp), (own.clone(), None), "B-B is kept as the card made it");
    assert_eq!(signed.signer_sha256, sha256_hex(&p.card.signature.cert));

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
    let now = hcpki_pkix::time::now_unix();
    let mut r = request(&p.verifier, &p.card, "b-b", b"x", now);
    assert_eq!(state_at(&r, now), "pending");
    assert_eq!(state_at(&r, now + 900), "expired");
    r.state = SigningState::Signed;
    assert_eq!(state_at(&r, now + 900), "signed", "an ended request keeps its state");
}

/// hcpki's own authority in-process, under a self-signed certificate (critical EKU timeStamping) pinned as the
/// only TSA root, asked as the HTTP side asks a TSA: a query, the answer checked by the TSA client.
#[derive(Debug)]
struct InProcessTsa {
    tsa: TimeStampAuthority,
    trust: TsaTrust,
    cert: Vec<u8>,
    now: i64,
}

impl InProcessTsa {
    fn new(now: i64) -> Self {
        let (key, pkcs8) = SoftwareKey::generate_device_key(KeyAlgorithm::P256).unwrap();
        let cert = hcpki_vcard::testpki::tsa_certificate(&pkcs8, "TEST signing-request TSA").unwrap();
        let settings = TsaSettings {
            policy: "1.3.6.1.4.1.99999.3161.1".parse().unwrap(),
            accuracy: Accuracy { seconds: Some(1), millis: None, micros: None },
        };
        let tsa = TimeStampAuthority::new(&cert, Arc::new(key), settings).unwrap();
        Self { tsa, trust: TsaTrust::new(std::slice::from_ref(&cert)).unwrap(), cert, now }
    }
}

#[async_trait::async_trait]
impl SignatureTimeStamps for InProcessTsa {
    async fn stamp(&self, digest: &[u8; 32]) -> Result<(Stamp, String), String> {
        let query = Query::sha256(digest, None).map_err(|e| e.to_string())?;
        let answer = self.tsa.answer(query.der(), self.now);
        let stamp = check_reply(&query, &answer.der, &self.trust, self.now).map_err(|e| e.to_string())?;
        Ok((stamp, "in-process".into()))
    }
}

#[tokio::test]
async fn b_lt_embeds_the_signers_crl_from_the_login_cache_or_nothing_is_signed() {
    let cas = HpkiTestCas::new().unwrap();
    let card = cas.issue(&HpkiSubject::default()).unwrap();
    // The signature CA configured as the login's intermediate, so that the cache installs its CRL (D79, D82).
    let trust = TrustAnchors::new(std::slice::from_ref(&card.root), &[], std::slice::from_ref(&card.signature_ca));
    let trust = Arc::new(trust.unwrap());
    let crls = Arc::new(CrlCache::new(Vec::new(), &trust));
    let verifier = CardVerifier::new(trust, crls.clone(), RevocationPolicy::FailOpen);
    let now = hcpki_pkix::time::now_unix();
    let tsa = InProcessTsa::new(now);
    let document = b"{\"resourceType\":\"Bundle\"}";
    let own = b_b(&card, document, now);

    // No CRL of the signature CA: fail-open lets the signer through (the login's policy), B-LT does not.
    let r = request(&verifier, &card, "b-lt", document, now);
    let missing = sign(Some(&verifier), &tsa, &r, &own, now).await.unwrap_err();
    let said = missing.to_string();
    assert!(matches!(missing, SignError::NoValidationData(_)), "{said}");
    for words in ["no CRL of", "HPKI-01-TestSignCA-forNonRepudiation", "[login] crl_urls", "[login] intermediates"] {
        assert!(said.contains(words), "{words}: {said}");
    }
    // A CRL whose nextUpdate passed before the time stamp's time counts for nothing.
    let stale = CrlValidity {
        this_update: time::OffsetDateTime::now_utc() - time::Duration::hours(3),
        next_update: time::OffsetDateTime::now_utc() - time::Duration::hours(1),
        number: 1,
    };
    crls.install("file:stale.crl", &cas.signature_crl(&[], stale).unwrap(), now).unwrap();
    let stale = sign(Some(&verifier), &tsa, &r, &own, now).await.unwrap_err().to_string();
    assert!(stale.contains("was current until"), "{stale}");

    // A current CRL: B-LT and B-LTA, judged by the verifier with the HPKI root and the TSA as the only anchors.
    let crl = cas.signature_crl(&[], CrlValidity::fresh(24)).unwrap();
    crls.install("file:signature-ca.crl", &crl, now).unwrap();
    let judge = SigningTrust::new(std::slice::from_ref(&card.root), std::slice::from_ref(&tsa.cert)).unwrap();
    for (level, reached) in [("b-lt", ValidationLevel::BaselineLt), ("b-lta", ValidationLevel::BaselineLta)] {
        let r = request(&verifier, &card, level, document, now);
        let signed = sign(Some(&verifier), &tsa, &r, &own, now).await.unwrap();
        let carried = CadesSignature::from_ber(&signed.document).unwrap();
        assert!(carried.revocation().iter().any(|r| r.to_der().unwrap() == crl), "{level}: the CRL is embedded");
        assert_eq!(signed.validation_data, Some((4, 1)), "{level}: signer, CA, root, TSA; the signature CA's CRL");
        assert_eq!(signed.archive.is_some(), level == "b-lta", "{level}");
        let report = cades::validate(&signed.document, document, &judge, now, &|_| Err("offline".into()));
        assert_eq!(report.indication, Indication::Passed, "{level}: {}", report.detail);
        assert_eq!(report.level, Some(reached), "{level}: {report:?}");
    }
}
