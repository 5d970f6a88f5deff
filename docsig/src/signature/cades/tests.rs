//! CAdES B-B and B-T in-process: made around the test HPKI card's signature key, time-stamped by an in-process
//! TSA, checked; and every way a signature or its check fails, each with its typed error.

use super::produce::prepare_for;
use super::signer::SignerChain;
use super::*;
use crate::signature::validation::SigningTrust;
use crate::timestamp::TokenError;
use crate::timestamp::{
    Accuracy, HashAlgorithm, MessageImprint, TimeStampAuthority, TimeStampReq, TimeStampResp, TsaSettings,
};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::signed_data::{CertificateSet, SignerIdentifier};
use der::asn1::OctetString;
use der::{Decode, Encode};
use hcpki_pkix::keys::{KeyAlgorithm, KeySource, SoftwareKey};
use hcpki_vcard::testpki::{HpkiCredentials, HpkiSubject, issue_hpki};
use std::sync::{Arc, OnceLock};
use x509_cert::Certificate;

/// 2026-11-27T00:00:00Z.
pub(crate) const NOW: i64 = 1_795_651_200;
const DOCUMENT: &[u8] = "紹介状 referral letter\n".as_bytes();

pub(crate) fn hpki() -> &'static HpkiCredentials {
    static PKI: OnceLock<HpkiCredentials> = OnceLock::new();
    PKI.get_or_init(|| issue_hpki(&HpkiSubject::default()).unwrap())
}

fn sha256(data: &[u8]) -> [u8; 32] {
    HashAlgorithm::Sha256.digest(data).try_into().unwrap()
}

/// A B-B `.p7s` over `data` by the HPKI signature certificate, signed as the card signs.
fn signed(data: &[u8]) -> Vec<u8> {
    let pki = hpki();
    let tbs = prepare(&sha256(data), &[pki.signature.cert.as_slice(), &pki.signature_ca], NOW).unwrap();
    let value = pki.signature.key.sign_sha256(tbs.bytes()).unwrap();
    assemble(tbs, &value).unwrap()
}

/// An in-process TSA with a self-made certificate (critical EKU timeStamping) for a P-256 key.
pub(crate) fn tsa() -> &'static TimeStampAuthority {
    static TSA: OnceLock<TimeStampAuthority> = OnceLock::new();
    TSA.get_or_init(|| {
        let (key, pkcs8) = SoftwareKey::generate_device_key(KeyAlgorithm::P256).unwrap();
        let mut eku = rcgen::CustomExtension::from_oid_content(
            &[2, 5, 29, 37],
            vec![0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08],
        );
        eku.set_criticality(true);
        let cert = self_signed(&pkcs8, "TEST TSA", eku);
        let settings = TsaSettings {
            policy: const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.3161.1"),
            accuracy: Accuracy { seconds: Some(1), millis: None, micros: None },
        };
        TimeStampAuthority::new(&cert, Arc::new(key), settings).unwrap()
    })
}

/// A self-signed certificate for the PKCS#8 key `pkcs8`, carrying `extension`.
pub(in crate::signature) fn self_signed(pkcs8: &[u8], cn: &str, extension: rcgen::CustomExtension) -> Vec<u8> {
    let key = rcgen::KeyPair::try_from(pkcs8).unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(rcgen::DnType::CommonName, cn);
    params.custom_extensions.push(extension);
    params.self_signed(&key).unwrap().der().to_vec()
}

/// keyUsage nonRepudiation, as an extension for [`self_signed`].
pub(in crate::signature) fn non_repudiation() -> rcgen::CustomExtension {
    // BIT STRING, 6 unused bits, 0x40 = bit 1 (nonRepudiation).
    let mut ku = rcgen::CustomExtension::from_oid_content(&[2, 5, 29, 15], vec![0x03, 0x02, 0x06, 0x40]);
    ku.set_criticality(true);
    ku
}

/// The DER of a token from [`tsa`] over the SHA-256 `digest`, at NOW + 5.
pub(crate) fn token(digest: &[u8]) -> Vec<u8> {
    token_at(digest, NOW + 5)
}

/// The DER of a token from [`tsa`] over the SHA-256 `digest` at `time`.
pub(crate) fn token_at(digest: &[u8], time: i64) -> Vec<u8> {
    let request = TimeStampReq {
        version: 1,
        message_imprint: MessageImprint {
            hash_algorithm: HashAlgorithm::Sha256.identifier(),
            hashed_message: OctetString::new(digest).unwrap(),
        },
        req_policy: None,
        nonce: None,
        cert_req: true,
        extensions: None,
    };
    let answer = tsa().answer(&request.to_der().unwrap(), time);
    answer.outcome.unwrap();
    TimeStampResp::from_der(&answer.der).unwrap().time_stamp_token.unwrap().to_der().unwrap()
}

/// The DER of [`tsa`]'s certificate (a token carries it): the TSA anchor of the verifier's tests.
pub(crate) fn tsa_certificate() -> Vec<u8> {
    let token = token(&sha256(b"x"));
    crate::timestamp::ReceivedToken::read(&token).unwrap().certificates()[0].to_der().unwrap()
}

/// A B-T `.p7s` over `data`.
fn time_stamped(data: &[u8]) -> Vec<u8> {
    let p7s = signed(data);
    with_signature_time_stamp(&p7s, &token(&signature_time_stamp_digest(&p7s).unwrap())).unwrap()
}

#[test]
fn b_b_is_signed_over_the_attributes_and_checks() {
    let pki = hpki();
    let tbs = prepare(&sha256(DOCUMENT), &[pki.signature.cert.as_slice(), &pki.signature_ca], NOW).unwrap();
    assert_eq!(tbs.bytes().first(), Some(&0x31), "the signature is over the SET OF, not the [0] IMPLICIT form");
    assert_eq!(tbs.sha256(), HashAlgorithm::Sha256.digest(tbs.bytes()));
    let p7s = assemble(tbs, &pki.signature.key.sign_sha256(&[]).unwrap_or_default()).map(|_| ());
    assert!(matches!(p7s, Err(CadesError::BadSignature("signature"))), "{p7s:?}");

    let p7s = signed(DOCUMENT);
    let verified = verify(&p7s, DOCUMENT).unwrap();
    assert_eq!(verified.level, Level::BaselineB);
    assert_eq!(verified.level.to_string(), "B-B");
    assert_eq!(verified.signing_time, NOW);
    assert_eq!(verified.signer.to_der().unwrap(), pki.signature.cert);
    assert!(verified.time_stamps.is_empty());
    let parsed = CadesSignature::from_ber(&p7s).unwrap();
    assert_eq!(parsed.signed_data().certificates.as_ref().map(|c| c.0.len()), Some(2), "signer and its CA");
    assert_eq!(parsed.encoding(), p7s);
    assert_eq!(parsed.received().parts().encode(), p7s, "DER parts make the same DER whole");
}

#[test]
fn b_t_adds_a_token_over_the_signature_value() {
    let p7s = time_stamped(DOCUMENT);
    let verified = verify(&p7s, DOCUMENT).unwrap();
    assert_eq!((verified.level, verified.level.name()), (Level::BaselineT, "B-T"));
    assert_eq!(verified.time_stamps.len(), 1);
    assert_eq!(verified.time_stamps.first().map(|t| t.time), Some(NOW + 5));
    // The digest is of the signature value, which the time stamp leaves as it was.
    let parsed = CadesSignature::from_ber(&p7s).unwrap();
    assert_eq!(
        signature_time_stamp_digest(&p7s).unwrap().to_vec(),
        HashAlgorithm::Sha256.digest(parsed.signature_value())
    );
    assert_eq!(parsed.signature_time_stamps().len(), 1);
}

#[test]
fn ecdsa_p256_signers_work_too() {
    let (key, pkcs8) = SoftwareKey::generate_device_key(KeyAlgorithm::P256).unwrap();
    let cert = self_signed(&pkcs8, "TEST P-256 signer", non_repudiation());
    let tbs = prepare(&sha256(DOCUMENT), &[&cert], NOW).unwrap();
    assert_eq!(tbs.signature_algorithm().oid, const_oid::db::rfc5912::ECDSA_WITH_SHA_256);
    let value = key.sign(tbs.bytes()).unwrap();
    let p7s = assemble(tbs, &value).unwrap();
    assert_eq!(verify(&p7s, DOCUMENT).unwrap().level, Level::BaselineB);
}

#[test]
fn tampered_content_fails() {
    let tampered = "紹介状 referral letter!\n".as_bytes();
    for p7s in [signed(DOCUMENT), time_stamped(DOCUMENT)] {
        let err = verify(&p7s, tampered).unwrap_err();
        assert!(matches!(err, CadesError::ContentMismatch), "{err:?}");
        assert!(err.to_string().contains("changed after signing"), "{err}");
    }
}

#[test]
fn tampered_signed_attributes_fail() {
    let tampered = tamper_signing_time(&signed(DOCUMENT), NOW);
    let err = verify(&tampered, DOCUMENT).unwrap_err();
    assert!(matches!(err, CadesError::BadSignature("signature")), "{err:?}");
}

/// `p7s` with the signingTime `at`'s last seconds digit changed: still a valid time, no longer what was signed.
fn tamper_signing_time(p7s: &[u8], at: i64) -> Vec<u8> {
    let time = x509_cert::time::Time::try_from(std::time::UNIX_EPOCH + std::time::Duration::from_secs(at as u64))
        .unwrap()
        .to_der()
        .unwrap();
    let pos = p7s.windows(time.len()).position(|w| w == time.as_slice()).unwrap();
    let mut tampered = p7s.to_vec();
    let digit = &mut tampered[pos + time.len() - 2];
    *digit = if *digit == b'1' { b'2' } else { b'1' };
    tampered
}

#[test]
fn a_token_over_something_else_is_refused() {
    let p7s = signed(DOCUMENT);
    let wrong = token(&sha256(b"another signature value"));
    let err = with_signature_time_stamp(&p7s, &wrong).unwrap_err();
    assert!(matches!(err, CadesError::TimeStampImprint), "{err:?}");
    assert!(err.to_string().contains("signature_time_stamp_digest"), "{err}");
    // Slipped in without the check, the verifier refuses it too.
    let slipped = CadesSignature::from_ber(&p7s).unwrap().with_signature_time_stamp(&wrong).unwrap();
    let err = verify(&slipped, DOCUMENT).unwrap_err();
    assert!(matches!(err, CadesError::TimeStampImprint), "{err:?}");
    // A token is no CAdES signature, and a signature is no token.
    let err = CadesSignature::from_ber(&wrong).unwrap_err();
    assert!(matches!(err, CadesError::ContentType { what: "eContentType", .. }), "{err:?}");
    let err = with_signature_time_stamp(&p7s, &p7s).unwrap_err();
    assert!(
        matches!(&err, CadesError::TimeStamp(inner) if matches!(**inner, CadesError::Token(TokenError::NotTstInfo(_)))),
        "{err:?}"
    );
}

#[test]
fn truncated_or_garbage_input_is_a_typed_error() {
    let p7s = time_stamped(DOCUMENT);
    for len in 0..p7s.len() {
        let err = verify(&p7s[..len], DOCUMENT).unwrap_err();
        assert!(matches!(err, CadesError::Undecodable { what: "signature", .. }), "{len}: {err:?}");
    }
    let err = verify(&[p7s.as_slice(), &[0]].concat(), DOCUMENT).unwrap_err();
    assert!(matches!(err, CadesError::Undecodable { .. }), "{err:?}");
    assert!(err.to_string().contains("does not decode"), "{err}");
    let err = signature_time_stamp_digest(b"not a signature").unwrap_err();
    assert!(matches!(err, CadesError::Undecodable { .. }), "{err:?}");
    let p7s = signed(DOCUMENT);
    let good = token(&signature_time_stamp_digest(&p7s).unwrap());
    let err = with_signature_time_stamp(&p7s, &good[..good.len() - 1]).unwrap_err();
    assert!(
        matches!(&err, CadesError::TimeStamp(inner) if matches!(**inner, CadesError::Undecodable { what: "time-stamp token", .. })),
        "{err:?}"
    );
}

#[test]
fn an_authentication_certificate_never_signs() {
    let pki = hpki();
    let chain = [pki.authentication.cert.as_slice(), &pki.authentication_ca];
    let err = prepare(&sha256(DOCUMENT), &chain, NOW).unwrap_err();
    assert!(matches!(err, CadesError::NotForSignatures { .. }), "{err:?}");
    assert!(err.to_string().contains("never its authentication key"), "{err}");
    // Made by a careless signer all the same: the check refuses it.
    let tbs = prepare_for(&sha256(DOCUMENT), SignerChain::from_der(&chain).unwrap(), NOW).unwrap();
    let value = pki.authentication.key.sign_sha256(tbs.bytes()).unwrap();
    let err = verify(&assemble(tbs, &value).unwrap(), DOCUMENT).unwrap_err();
    assert!(matches!(err, CadesError::NotForSignatures { .. }), "{err:?}");
    let err = prepare(&sha256(DOCUMENT), &[], NOW).unwrap_err();
    assert!(matches!(err, CadesError::Chain(_)), "{err:?}");
}

#[test]
fn a_swapped_certificate_with_the_same_key_is_caught() {
    let (key, pkcs8) = SoftwareKey::generate_device_key(KeyAlgorithm::P256).unwrap();
    let named = self_signed(&pkcs8, "TEST named signer", non_repudiation());
    let other = Certificate::from_der(&self_signed(&pkcs8, "TEST other signer", non_repudiation())).unwrap();
    let tbs = prepare(&sha256(DOCUMENT), &[&named], NOW).unwrap();
    let value = key.sign(tbs.bytes()).unwrap();
    let p7s = assemble(tbs, &value).unwrap();
    let parsed = CadesSignature::from_ber(&p7s).unwrap();
    let mut signed = parsed.signed_data().clone();
    signed.certificates = Some(CertificateSet::try_from(vec![CertificateChoices::Certificate(other.clone())]).unwrap());
    let mut infos = vec![parsed.signer_info().clone()];
    for info in &mut infos {
        info.sid = SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: other.tbs_certificate().issuer().clone(),
            serial_number: other.tbs_certificate().serial_number().clone(),
        });
    }
    signed.signer_infos = infos.try_into().unwrap();
    let content = der::Any::encode_from(&signed).unwrap();
    let swapped = cms::content_info::ContentInfo { content_type: const_oid::db::rfc5911::ID_SIGNED_DATA, content };
    let err = verify(&swapped.to_der().unwrap(), DOCUMENT).unwrap_err();
    assert!(matches!(err, CadesError::SigningCertificateMismatch("signature")), "{err:?}");
}

#[test]
fn openssl_made_signatures_check() {
    // `openssl cms -sign -cades` output (fuzz/seeds/make-seeds): rsaEncryption as the signature algorithm,
    // smimeCapabilities among the signed attributes.
    for p7s in [
        include_bytes!("../../../../fuzz/seeds/cades_signature/rsa-b-b.p7s").as_slice(),
        include_bytes!("../../../../fuzz/seeds/cades_signature/p256-b-b.p7s"),
    ] {
        assert_eq!(verify(p7s, b"a document to sign\n").unwrap().level, Level::BaselineB);
        let err = verify(p7s, b"a document to sign!\n").unwrap_err();
        assert!(matches!(err, CadesError::ContentMismatch), "{err:?}");
    }
}

/// `element` (a whole encoding) with every constructed element's length indefinite, as a streaming encoder writes
/// it (`openssl cms -sign -stream` does so for the outer layers); `keep` (an exact sub-encoding, the signed
/// attributes) left as it is.
fn indefinite(element: &[u8], keep: &[&[u8]]) -> Vec<u8> {
    use hcpki_pkix::asn1::ber::Element;
    let e = Element::whole(element).unwrap();
    if !e.constructed() || keep.contains(&element) {
        return element.to_vec();
    }
    let mut out = vec![e.identifier, 0x80];
    for child in e.children().unwrap() {
        out.extend(indefinite(child.encoding, keep));
    }
    out.extend([0, 0]);
    out
}

#[test]
fn ber_signatures_and_tokens_are_read_as_they_are_and_renewed_without_losing_a_byte() {
    let p7s = time_stamped(DOCUMENT);
    let parsed = CadesSignature::from_ber(&p7s).unwrap();
    let token = parsed.signature_time_stamps().remove(0);
    let token_attrs =
        crate::timestamp::ReceivedToken::read(&token).unwrap().signed_data().parts().signer.signed_attrs.clone();
    let signed_attrs = parsed.received().parts().signer.signed_attrs.clone();
    let ber = indefinite(&p7s, &[&signed_attrs, &token_attrs]);
    assert_ne!(ber, p7s);
    let verified = verify(&ber, DOCUMENT).unwrap();
    assert_eq!((verified.level, verified.time_stamps.len()), (Level::BaselineT, 1));
    // The token inside is BER too: read, its TSA's signature over the TSTInfo checked.
    let ber_token = indefinite(&token, &[&token_attrs]);
    let with_ber_token = with_signature_time_stamp(&signed(DOCUMENT), &ber_token).unwrap();
    assert_eq!(CadesSignature::from_ber(&with_ber_token).unwrap().signature_time_stamps(), vec![ber_token]);
    assert_eq!(verify(&with_ber_token, DOCUMENT).unwrap().level, Level::BaselineT);
    // An archive time stamp over the BER file hashes its parts as they are, and adding it keeps them.
    let digest = archive_time_stamp_digest(&ber, DOCUMENT).unwrap();
    let b_lta = with_archive_time_stamp(&ber, DOCUMENT, &token_at(&digest, NOW + 9)).unwrap();
    let again = CadesSignature::from_ber(&b_lta).unwrap();
    assert_eq!(
        again.received().parts().encap_content_info,
        CadesSignature::from_ber(&ber).unwrap().received().parts().encap_content_info
    );
    let index = super::archive::archive_time_stamps(&again);
    assert_eq!(index.len(), 1);
    let token = super::time_stamp::Token::read(&index[0]).unwrap();
    assert_eq!(super::archive::check_archive(&again, DOCUMENT, &token), Ok(()));
    // A DER file comes back unchanged from its parts; a BER one decodes to the same structure, and its
    // definite form is the DER file.
    assert!(parsed.received().parts().encode() == p7s);
    let ber_parsed = CadesSignature::from_ber(&ber).unwrap();
    assert_eq!(ber_parsed.signed_data(), parsed.signed_data());
    assert!(hcpki_pkix::asn1::ber::Element::whole(&ber).unwrap().definite().unwrap() == p7s);
}

#[test]
fn an_attached_signature_is_checked_over_the_document_it_carries() {
    let detached = CadesSignature::from_ber(&signed(DOCUMENT)).unwrap();
    // encapContentInfo { id-data, [0] { OCTET STRING DOCUMENT } }, as `openssl cms -sign -nodetach` writes it.
    let content = [
        der::Encode::to_der(&const_oid::db::rfc5911::ID_DATA).unwrap(),
        hcpki_pkix::asn1::ber::tlv(0xA0, &OctetString::new(DOCUMENT).unwrap().to_der().unwrap()),
    ]
    .concat();
    let attached =
        detached.edited(|parts| parts.encap_content_info = hcpki_pkix::asn1::ber::tlv(0x30, &content)).unwrap();
    let parsed = CadesSignature::from_ber(&attached).unwrap();
    assert_eq!(parsed.carried_document().unwrap().as_deref(), Some(DOCUMENT));
    assert_eq!(verify(&attached, DOCUMENT).unwrap().level, Level::BaselineB);
    let err = verify(&attached, b"another document").unwrap_err();
    assert!(matches!(err, CadesError::CarriedDocumentDiffers), "{err:?}");
    assert_eq!(detached.carried_document().unwrap(), None);
}

#[test]
fn signed_attributes_in_any_encoding_but_der_are_refused() {
    let p7s = signed(DOCUMENT);
    let parsed = CadesSignature::from_ber(&p7s).unwrap();
    let signed_attrs = parsed.received().parts().signer.signed_attrs.clone();
    let attributes = hcpki_pkix::asn1::ber::Element::whole(&signed_attrs).unwrap().children().unwrap();
    let contents: Vec<Vec<u8>> = attributes.iter().map(|a| a.encoding.to_vec()).collect();
    // The same attributes, each unchanged: out of DER order; with a long-form length; with an indefinite one.
    let mut reordered = contents.clone();
    reordered.reverse();
    let mut long_form = vec![0xA0, 0x84];
    long_form.extend(u32::try_from(contents.concat().len()).unwrap().to_be_bytes());
    long_form.extend(contents.concat());
    let mut indefinite = vec![0xA0, 0x80];
    indefinite.extend(contents.concat());
    indefinite.extend([0, 0]);
    let cases = [
        ("reordered", hcpki_pkix::asn1::ber::tlv(0xA0, &reordered.concat())),
        ("long form", long_form),
        ("indefinite", indefinite),
    ];
    for (name, attrs) in cases {
        let mut changed = parsed.received().parts().clone();
        changed.signer.signed_attrs = attrs;
        let encoded = changed.encode();
        let err = verify(&encoded, DOCUMENT).map(|_| ()).expect_err(name);
        assert!(matches!(err, CadesError::SignedAttributesNotDer { what: "signature" }), "{name}: {err:?}");
        let report =
            validate(&encoded, DOCUMENT, &SigningTrust::new(&[], &[]).unwrap(), NOW, &|_| Err("offline".into()));
        assert_eq!(report.verdict(), "FAILED/FORMAT_FAILURE", "{report:?}");
    }
}

/// B-LT and B-LTA around a test HPKI hierarchy whose signature CA signs CRLs: judged by [`validate`].
mod long_term {
    use super::*;
    use crate::signature::validation::{FetchRequest, Indication, SigningTrust, SubIndication};
    use hcpki_vcard::testpki::{CrlValidity, HpkiTestCas};

    /// The signing time: now, inside the test certificates' validity (they start today, JST).
    fn t() -> i64 {
        static T: OnceLock<i64> = OnceLock::new();
        *T.get_or_init(hcpki_pkix::time::now_unix)
    }

    fn stamp(digest: &[u8]) -> Vec<u8> {
        token_at(digest, t() + 5)
    }

    fn odt(unix: i64) -> time::OffsetDateTime {
        time::OffsetDateTime::from_unix_timestamp(unix).unwrap()
    }

    fn offline(_: &FetchRequest<'_>) -> Result<Vec<u8>, String> {
        Err("offline".into())
    }

    /// A B-LT `.p7s` over DOCUMENT (token at t() + 5, CRL at t() + 10), the trust to judge it, the CAs.
    fn b_lt() -> (Vec<u8>, SigningTrust, HpkiTestCas) {
        let cas = HpkiTestCas::new().unwrap();
        let card = cas.issue(&hcpki_vcard::testpki::HpkiSubject::default()).unwrap();
        let tbs = prepare(&sha256(DOCUMENT), &[card.signature.cert.as_slice(), &card.signature_ca], t()).unwrap();
        let value = card.signature.key.sign_sha256(tbs.bytes()).unwrap();
        let p7s = assemble(tbs, &value).unwrap();
        let p7s = with_signature_time_stamp(&p7s, &stamp(&signature_time_stamp_digest(&p7s).unwrap())).unwrap();
        let validity = CrlValidity { this_update: odt(t() + 10), next_update: odt(t() + 86_400), number: 1 };
        let crl = cas.signature_crl(&[], validity).unwrap();
        let p7s = with_validation_data(&p7s, std::slice::from_ref(&card.signature_ca), &[crl], &[]).unwrap();
        let tsa_cert = tsa_certificate();
        let trust = SigningTrust::new(std::slice::from_ref(&card.root), &[tsa_cert]).unwrap();
        (p7s, trust, cas)
    }

    #[test]
    fn b_lt_passes_on_embedded_data_and_archive_time_stamps_renew_it() {
        let (p7s, trust, cas) = b_lt();
        let report = validate(&p7s, DOCUMENT, &trust, t() + 20, &offline);
        assert_eq!((report.indication, report.level), (Indication::Passed, Some(Level::BaselineLt)), "{report:?}");
        assert_eq!(report.time_stamp, Some(t() + 5));
        assert_eq!(report.hc_roles, vec!["Medical Doctor".to_owned()]);
        assert_eq!(verify(&p7s, DOCUMENT).unwrap().level, Level::BaselineT, "the structural check still reads it");

        let b_lta =
            with_archive_time_stamp(&p7s, DOCUMENT, &stamp(&archive_time_stamp_digest(&p7s, DOCUMENT).unwrap()))
                .unwrap();
        let report = validate(&b_lta, DOCUMENT, &trust, t() + 20, &offline);
        assert_eq!((report.verdict().as_str(), report.level), ("PASSED", Some(Level::BaselineLta)), "{report:?}");
        // Renewal: a second archive time stamp covers the first.
        let renewed =
            with_archive_time_stamp(&b_lta, DOCUMENT, &stamp(&archive_time_stamp_digest(&b_lta, DOCUMENT).unwrap()))
                .unwrap();
        let report = validate(&renewed, DOCUMENT, &trust, t() + 20, &offline);
        assert_eq!((report.verdict().as_str(), report.level), ("PASSED", Some(Level::BaselineLta)), "{report:?}");
        // Only the CA's status is unknown (the root's ARL is neither embedded nor reachable offline).
        assert!(report.notes.iter().all(|n| n.contains("revocation status of the CA")), "{:?}", report.notes);
        // A token over the signature before the first archive time stamp is refused.
        let stale = stamp(&archive_time_stamp_digest(&p7s, DOCUMENT).unwrap());
        let err = with_archive_time_stamp(&b_lta, DOCUMENT, &stale).unwrap_err();
        assert!(matches!(err, CadesError::TimeStampImprint), "{err:?}");

        // Swapping the embedded CRL for another breaks what the archive time stamp covered: it no longer counts.
        let parsed = CadesSignature::from_ber(&b_lta).unwrap();
        let validity = CrlValidity { this_update: odt(t() + 11), next_update: odt(t() + 86_400), number: 2 };
        let other = cas.signature_crl(&[], validity).unwrap();
        let swapped = parsed.edited(|parts| parts.crls = vec![other]).unwrap();
        let report = validate(&swapped, DOCUMENT, &trust, t() + 20, &offline);
        assert_eq!((report.verdict().as_str(), report.level), ("PASSED", Some(Level::BaselineLt)), "{report:?}");
        assert!(report.notes.iter().any(|n| n.contains("removed or changed")), "{:?}", report.notes);
        // And the archive time stamp is over the document too.
        let report = validate(&b_lta, b"another document", &trust, t() + 20, &offline);
        assert_eq!(report.verdict(), "FAILED/HASH_FAILURE");
    }

    #[test]
    fn broken_signatures_get_their_sub_indication() {
        let (p7s, trust, _) = b_lt();
        let judge = |p7s: &[u8], data: &[u8]| validate(p7s, data, &trust, t() + 20, &offline);
        assert_eq!(judge(&p7s, b"tampered").sub_indication, Some(SubIndication::HashFailure));
        assert_eq!(judge(b"garbage", DOCUMENT).sub_indication, Some(SubIndication::FormatFailure));
        assert_eq!(judge(&p7s[..p7s.len() / 2], DOCUMENT).sub_indication, Some(SubIndication::FormatFailure));
        assert_eq!(judge(&tamper_signing_time(&p7s, t()), DOCUMENT).verdict(), "FAILED/SIG_CRYPTO_FAILURE");
    }
}
