//! The judgement on evidence built by hand around the test HPKI hierarchy: every verdict the module
//! documentation lists, each with its sub-indication.

use super::*;
use der::{Decode, Encode};
use hcpki_pkix::keys::{KeyAlgorithm, KeySource, SoftwareKey};
use hcpki_vcard::testpki::{CrlValidity, HpkiCredentials, HpkiSubject, HpkiTestCas, Revoked};
use std::sync::OnceLock;
use time::OffsetDateTime;

struct Pki {
    cas: HpkiTestCas,
    card: HpkiCredentials,
    expired: HpkiCredentials,
    tsa: Certificate,
}

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let cas = HpkiTestCas::new().unwrap();
        let card = cas.issue(&HpkiSubject::default()).unwrap();
        let expired = cas.issue_expired(&HpkiSubject::default()).unwrap();
        let (_, pkcs8) = SoftwareKey::generate_device_key(KeyAlgorithm::P256).unwrap();
        let tsa = cert(&hcpki_vcard::testpki::tsa_certificate(&pkcs8, "TEST TSA").unwrap());
        Pki { cas, card, expired, tsa }
    })
}

/// One instant for the whole test process, read once: the tests compare times they made from it with times the
/// validation reports, so two readings across a second boundary would differ (seen once in a fresh run).
fn now() -> i64 {
    static NOW: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *NOW.get_or_init(hcpki_pkix::time::now_unix)
}

fn cert(der: &[u8]) -> Certificate {
    Certificate::from_der(der).unwrap()
}

fn trust() -> SigningTrust {
    let p = pki();
    SigningTrust::new(std::slice::from_ref(&p.card.root), &[p.tsa.to_der().unwrap()]).unwrap()
}

fn odt(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).unwrap()
}

/// A signature-CA CRL issued at `this_update` for a day, listing `revoked` (certificate, time).
fn crl(this_update: i64, revoked: &[(&HpkiCredentials, i64)]) -> Vec<u8> {
    let revoked: Vec<Revoked> = revoked
        .iter()
        .map(|(c, at)| Revoked {
            serial: cert(&c.signature.cert).tbs_certificate().serial_number().as_bytes().to_vec(),
            at: odt(*at),
            reason: None,
        })
        .collect();
    let validity = CrlValidity { this_update: odt(this_update), next_update: odt(this_update + 86_400), number: 1 };
    pki().cas.signature_crl(&revoked, validity).unwrap()
}

fn stamp(gen_time: i64) -> TimeStampEvidence {
    TimeStampEvidence::Intact { gen_time, tsa: Box::new(pki().tsa.clone()), certificates: Vec::new() }
}

/// B-B evidence of `card`'s signature certificate carrying its CA.
fn evidence(card: &HpkiCredentials) -> SignatureEvidence {
    SignatureEvidence {
        integrity: Ok(()),
        signer: Some(cert(&card.signature.cert)),
        certificates: vec![cert(&card.signature.cert), cert(&card.signature_ca)],
        signature_time_stamps: Vec::new(),
        archive_time_stamps: Vec::new(),
        crls: Vec::new(),
        ocsp_responses: Vec::new(),
    }
}

fn offline(_: &FetchRequest<'_>) -> Result<Vec<u8>, String> {
    Err("offline".into())
}

fn judge(evidence: &SignatureEvidence) -> Report {
    validate(evidence, &trust(), now(), &offline)
}

fn verdict(report: &Report) -> (Indication, Option<SubIndication>) {
    (report.indication, report.sub_indication)
}

#[test]
fn b_b_passes_with_a_fetched_crl_and_names_the_role() {
    let card = &pki().card;
    let fresh = crl(now() - 3600, &[]);
    let asked = std::sync::Mutex::new(Vec::new());
    let fetch = |request: &FetchRequest<'_>| {
        asked.lock().unwrap().push(format!("{request:?}"));
        match request {
            FetchRequest::Crl { url } if url.ends_with("crl-sign.crl") => Ok(fresh.clone()),
            _ => Err("no such URL".to_owned()),
        }
    };
    let report = validate(&evidence(card), &trust(), now(), &fetch);
    assert_eq!(verdict(&report), (Indication::Passed, None), "{report:?}");
    assert_eq!(report.verdict(), "PASSED");
    assert_eq!(report.level, Some(Level::BaselineB));
    assert_eq!(report.revocation, Some(RevocationSource::FetchedCrl));
    assert_eq!(report.hc_roles, vec!["Medical Doctor".to_owned()]);
    // The signer's CRL, then the root's ARL for the signature CA (not reachable here: a note, not a verdict).
    assert_eq!(asked.lock().unwrap().len(), 2, "{:?}", asked.lock().unwrap());
    assert!(report.notes.iter().any(|n| n.contains("revocation status of the CA")), "{:?}", report.notes);
    assert!(report.detail.contains("no time stamp proves when"), "{}", report.detail);
}

#[test]
fn embedded_validation_data_reaches_b_lt_and_an_archive_stamp_b_lta() {
    let card = &pki().card;
    let mut e = evidence(card);
    e.signature_time_stamps = vec![stamp(now() - 60)];
    e.crls = vec![crl(now() - 30, &[])];
    let report = judge(&e);
    assert_eq!(verdict(&report), (Indication::Passed, None), "{report:?}");
    assert_eq!((report.level, report.time_stamp), (Some(Level::BaselineLt), Some(now() - 60)));
    assert_eq!(report.revocation, Some(RevocationSource::EmbeddedCrl));
    e.archive_time_stamps = vec![stamp(now() - 10)];
    let report = judge(&e);
    assert_eq!((report.level, report.archive_time_stamp), (Some(Level::BaselineLta), Some(now() - 10)));
    // Without the CA certificate carried, the data is not all there: B-T (the anchor's configuration is not
    // the signature's).
    e.certificates.retain(|c| c.to_der().unwrap() != card.signature_ca);
    let report = judge(&e);
    assert_eq!(verdict(&report).0, Indication::Indeterminate, "{report:?}");
    assert_eq!(report.sub_indication, Some(SubIndication::NoCertificateChainFound));
}

#[test]
fn revocation_before_the_time_stamp_fails_after_it_passes_without_one_is_indeterminate() {
    let card = &pki().card;
    let t = now() - 7200;
    let mut e = evidence(card);
    e.signature_time_stamps = vec![stamp(t)];
    e.crls = vec![crl(now() - 60, &[(card, t - 60)])];
    let report = judge(&e);
    assert_eq!(report.verdict(), "FAILED/REVOKED", "{report:?}");
    assert!(report.detail.contains("before the signature's time stamp"), "{}", report.detail);
    assert_eq!(report.revocation, Some(RevocationSource::EmbeddedCrl), "the report says where it was read");

    e.crls = vec![crl(now() - 60, &[(card, t + 60)])];
    let report = judge(&e);
    assert_eq!(verdict(&report), (Indication::Passed, None), "{report:?}");
    assert!(report.notes.iter().any(|n| n.contains("after the signature was made")), "{:?}", report.notes);

    e.signature_time_stamps.clear();
    let report = judge(&e);
    assert_eq!(report.verdict(), "INDETERMINATE/REVOKED_NO_POE", "{report:?}");
}

#[test]
fn an_expired_certificate_needs_a_time_stamp_from_its_validity() {
    let expired = &pki().expired;
    let (from, to) = ParsedCert::from_der(&expired.signature.cert).unwrap().validity();
    let mut e = evidence(expired);
    e.crls = vec![crl(to - 3600, &[])];
    let report = judge(&e);
    assert_eq!(report.verdict(), "INDETERMINATE/OUT_OF_BOUNDS_NO_POE", "{report:?}");
    e.signature_time_stamps = vec![stamp(from + 3600)];
    let report = judge(&e);
    assert_eq!(verdict(&report), (Indication::Passed, None), "{report:?}");
    assert_eq!(report.level, Some(Level::BaselineLt));
    e.signature_time_stamps = vec![stamp(to + 60)];
    assert_eq!(judge(&e).verdict(), "FAILED/EXPIRED");

    // A CRL issued after the certificate expired says nothing of it unless it keeps expired certificates (a CA
    // may drop them, RFC 5280 §3.3): TRY_LATER, with the reason. A listing in it is still decisive.
    e.signature_time_stamps = vec![stamp(from + 3600)];
    e.crls = vec![crl(to + 3600, &[])];
    let report = judge(&e);
    assert_eq!(report.verdict(), "INDETERMINATE/TRY_LATER", "{report:?}");
    assert!(report.detail.contains("issued after the certificate expired"), "{}", report.detail);
    e.crls = vec![crl(to + 3600, &[(expired, from + 60)])];
    assert_eq!(judge(&e).verdict(), "FAILED/REVOKED");
}

/// A CA of our own making (P-256), its certificate, and a leaf it issued that expired at `not_after`; CRLs it
/// signs with any extensions (the test HPKI CAs' rcgen CRLs take none).
struct OwnCa {
    key: SoftwareKey,
    cert: Vec<u8>,
    leaf: Vec<u8>,
}

impl OwnCa {
    fn new(not_after: i64) -> Self {
        let (key, pkcs8) = SoftwareKey::generate_device_key(KeyAlgorithm::P256).unwrap();
        let pair = rcgen::KeyPair::try_from(pkcs8.as_slice()).unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(rcgen::DnType::CommonName, "OWN SIGNATURE CA");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.not_before = odt(not_after - 10 * 86_400);
        params.not_after = odt(not_after + 3650 * 86_400);
        let ca_cert = params.self_signed(&pair).unwrap();
        let issuer = rcgen::Issuer::from_params(&params, &pair);
        let leaf_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut leaf = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        leaf.distinguished_name.push(rcgen::DnType::CommonName, "Signer");
        leaf.key_usages = vec![rcgen::KeyUsagePurpose::ContentCommitment];
        leaf.not_before = odt(not_after - 86_400);
        leaf.not_after = odt(not_after);
        let leaf = leaf.signed_by(&leaf_key, &issuer).unwrap();
        Self { key, cert: ca_cert.der().to_vec(), leaf: leaf.der().to_vec() }
    }

    /// A CRL issued at `this_update`, listing nobody, with expiredCertsOnCRL = `keeps_since` when given.
    fn crl(&self, this_update: i64, keeps_since: Option<i64>) -> Vec<u8> {
        use x509_cert::crl::{CertificateList, TbsCertList};
        use x509_cert::ext::Extension;
        let algorithm = KeyAlgorithm::P256.signature_algorithm();
        let time = |t: i64| {
            x509_cert::time::Time::GeneralTime(
                der::asn1::GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(
                    u64::try_from(t).unwrap(),
                ))
                .unwrap(),
            )
        };
        let extensions = keeps_since.map(|since| {
            let value = der::asn1::GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(
                u64::try_from(since).unwrap(),
            ))
            .unwrap()
            .to_der()
            .unwrap();
            vec![Extension {
                extn_id: der::asn1::ObjectIdentifier::new_unwrap("2.5.29.60"),
                critical: false,
                extn_value: der::asn1::OctetString::new(value).unwrap(),
            }]
        });
        let tbs: TbsCertList = TbsCertList {
            version: x509_cert::Version::V2,
            signature: algorithm.clone(),
            issuer: cert(&self.cert).tbs_certificate().subject().clone(),
            this_update: time(this_update),
            next_update: Some(time(this_update + 86_400)),
            revoked_certificates: None,
            crl_extensions: extensions,
        };
        let signature = self.key.sign(&tbs.to_der().unwrap()).unwrap();
        let list: CertificateList = CertificateList {
            tbs_cert_list: tbs,
            signature_algorithm: algorithm,
            signature: der::asn1::BitString::from_bytes(&signature).unwrap(),
        };
        list.to_der().unwrap()
    }
}

#[test]
fn data_issued_after_expiry_counts_only_when_it_keeps_expired_certificates() {
    let not_after = now() - 30 * 86_400;
    let own = OwnCa::new(not_after);
    let trust = SigningTrust::new(std::slice::from_ref(&own.cert), &[pki().tsa.to_der().unwrap()]).unwrap();
    let evidence = |crls: Vec<Vec<u8>>| SignatureEvidence {
        signer: Some(cert(&own.leaf)),
        signature_time_stamps: vec![stamp(not_after - 3600)],
        crls,
        ..SignatureEvidence::new()
    };
    let judge = |crls| validate(&evidence(crls), &trust, now(), &offline);
    // Issued while the certificate was valid and current at the time stamp: it covers.
    assert_eq!(judge(vec![own.crl(not_after - 7200, None)]).verdict(), "PASSED");
    // Issued a week after it expired: silence proves nothing, unless the CRL keeps certificates expired since
    // before its notAfter.
    let later = not_after + 7 * 86_400;
    let report = judge(vec![own.crl(later, None)]);
    assert_eq!(report.verdict(), "INDETERMINATE/TRY_LATER", "{report:?}");
    assert_eq!(judge(vec![own.crl(later, Some(not_after - 86_400))]).verdict(), "PASSED");
    assert_eq!(judge(vec![own.crl(later, Some(not_after + 1))]).verdict(), "INDETERMINATE/TRY_LATER");
}

#[test]
fn an_authentication_certificate_fails_on_its_key_usage() {
    let card = &pki().card;
    let mut e = evidence(card);
    e.signer = Some(cert(&card.authentication.cert));
    e.certificates = vec![cert(&card.authentication_ca)];
    let report = judge(&e);
    assert_eq!(report.verdict(), "FAILED/CHAIN_CONSTRAINTS_FAILURE", "{report:?}");
    assert!(report.detail.contains("署名用"), "{}", report.detail);
}

#[test]
fn an_unknown_root_is_no_chain_and_no_revocation_data_is_try_later() {
    let card = &pki().card;
    let other =
        SigningTrust::new(&[HpkiTestCas::new().unwrap().issue(&HpkiSubject::default()).unwrap().root], &[]).unwrap();
    let report = validate(&evidence(card), &other, now(), &offline);
    assert_eq!(report.verdict(), "INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND", "{report:?}");
    assert!(report.detail.contains("[signing] anchors"), "{}", report.detail);

    let report = judge(&evidence(card));
    assert_eq!(report.verdict(), "INDETERMINATE/TRY_LATER", "{report:?}");
    assert!(report.notes.iter().any(|n| n.contains("offline")), "{:?}", report.notes);
    // A CRL issued before the time stamp and no longer current then says nothing about it.
    let mut e = evidence(card);
    e.signature_time_stamps = vec![stamp(now())];
    e.crls = vec![crl(now() - 3 * 86_400, &[])];
    let report = judge(&e);
    assert_eq!(report.verdict(), "INDETERMINATE/TRY_LATER", "{report:?}");
    assert!(report.detail.contains("issued before"), "{}", report.detail);
}

#[test]
fn broken_evidence_counts_for_nothing() {
    let card = &pki().card;
    let mut e = evidence(card);
    e.signature_time_stamps = vec![TimeStampEvidence::Broken("the TSA's signature does not verify".into())];
    e.crls = vec![
        crl(now() - 60, &[]),
        b"not a CRL".to_vec(),
        HpkiTestCas::new().unwrap().signature_crl(&[], CrlValidity::fresh(1)).unwrap(),
    ];
    let report = judge(&e);
    assert_eq!((report.verdict().as_str(), report.level), ("PASSED", Some(Level::BaselineB)), "{report:?}");
    assert!(report.notes.iter().any(|n| n.contains("does not verify")), "{:?}", report.notes);
    assert!(report.notes.iter().any(|n| n.contains("does not decode")), "{:?}", report.notes);
    // An untrusted TSA is no proof either.
    e.signature_time_stamps = vec![stamp(now() - 60)];
    let no_tsa = SigningTrust::new(std::slice::from_ref(&card.root), &[]).unwrap();
    let report = validate(&e, &no_tsa, now(), &offline);
    assert_eq!((report.verdict().as_str(), report.time_stamp), ("PASSED", None), "{report:?}");

    for sub in [SubIndication::HashFailure, SubIndication::SigCryptoFailure] {
        e.integrity = Err(Failure::new(sub, "changed"));
        let report = judge(&e);
        assert_eq!((report.indication, report.sub_indication, report.level), (Indication::Failed, Some(sub), None));
    }
    e.integrity = Ok(());
    e.signer = None;
    assert_eq!(judge(&e).verdict(), "INDETERMINATE/NO_SIGNING_CERTIFICATE_FOUND");
}

/// The root's ARL at `this_update`, listing the signature CA revoked at `revoked` (if any).
fn arl(this_update: i64, revoked: Option<i64>) -> Vec<u8> {
    let p = pki();
    let revoked: Vec<Revoked> = revoked
        .map(|at| Revoked {
            serial: cert(&p.card.signature_ca).tbs_certificate().serial_number().as_bytes().to_vec(),
            at: odt(at),
            reason: None,
        })
        .into_iter()
        .collect();
    let validity = CrlValidity { this_update: odt(this_update), next_update: odt(this_update + 86_400), number: 1 };
    p.cas.root_arl(&revoked, validity).unwrap()
}

#[test]
fn a_ca_revoked_before_the_signing_time_fails_the_signature_after_it_does_not() {
    let card = &pki().card;
    let t = now() - 7200;
    let mut e = evidence(card);
    e.signature_time_stamps = vec![stamp(t)];
    e.crls = vec![crl(now() - 60, &[]), arl(now() - 60, Some(t - 60))];
    let report = judge(&e);
    assert_eq!(report.verdict(), "FAILED/REVOKED", "{report:?}");
    assert!(report.detail.contains("HPKI-01-TestSignCA-forNonRepudiation"), "{}", report.detail);
    e.signature_time_stamps.clear();
    assert_eq!(judge(&e).verdict(), "INDETERMINATE/REVOKED_NO_POE");

    e.signature_time_stamps = vec![stamp(t)];
    e.crls = vec![crl(now() - 60, &[]), arl(now() - 60, Some(t + 60))];
    let report = judge(&e);
    assert_eq!((report.verdict().as_str(), report.level), ("PASSED", Some(Level::BaselineLt)), "{report:?}");
    assert!(report.notes.iter().any(|n| n.contains("after the signing time")), "{:?}", report.notes);

    // The ARL fetched from the CA certificate's distribution point counts as the embedded one does; a good one
    // leaves no note.
    e.crls = vec![crl(now() - 60, &[])];
    let good = arl(now() - 60, None);
    let fetch = |request: &FetchRequest<'_>| match request {
        FetchRequest::Crl { url } if url.ends_with("sarl.crl") => Ok(good.clone()),
        _ => Err("no such URL".to_owned()),
    };
    let report = validate(&e, &trust(), now(), &fetch);
    assert_eq!(report.verdict(), "PASSED", "{report:?}");
    assert!(report.notes.is_empty(), "{:?}", report.notes);
}
