//! XAdES B-B and B-T for e-prescriptions in-process: made around the test HPKI card's signature key,
//! time-stamped by the in-process TSA of the CAdES tests, checked; and the ways making or checking fails.

use super::super::cades::SignerChain;
use super::super::cades::tests::{NOW, hpki, non_repudiation, self_signed, token};
use super::envelope;
use super::produce::{assemble_unchecked, prepare_for, prepare_unread};
use super::*;
use crate::timestamp::HashAlgorithm;
use der::Encode;
use hcpki_pkix::keys::{KeyAlgorithm, SoftwareKey};

/// A prescription CSV (JAHIS10, CRLF) that reads strictly: three Rps, the third's amount in 力価単位.
pub(super) const CSV: &str = "JAHIS10\r\n1,1,1234567,13,テスト医療機関\r\n5,,イシ タロウ,医師 太郎\r\n\
11,P0001,処方 花子,ショホウ ハナコ\r\n12,2\r\n13,19800101\r\n22,06012345\r\n23,０１－２３,１２３４,1,\r\n\
51,20261126\r\n101,1,1,,5\r\n111,1,1,,1日3回毎食後,3\r\n201,1,1,1,2,1149019F1ZZZ,ロキソプロフェンNa錠60mg,3,1,錠\r\n\
281,1,1,1,3,後発品変更不可,\r\n101,2,2,,3\r\n111,2,1,,疼痛時,\r\n201,2,1,1,2,,レバミピド錠100mg,1,1,錠\r\n\
101,3,1,,5\r\n111,3,1,,1日3回毎食後,3\r\n201,3,1,1,7,,【般】アモキシシリンカプセル,750,2,ｍｇ\r\n";

/// A B-B e-prescription over `csv` by the HPKI signature certificate, signed as the card signs.
pub(super) fn signed(csv: &[u8]) -> Vec<u8> {
    let pki = hpki();
    let prepared = prepare(csv, &[pki.signature.cert.as_slice(), &pki.signature_ca], NOW).unwrap();
    let value = pki.signature.key.sign_sha256(prepared.to_be_signed()).unwrap();
    assemble(prepared, &value).unwrap()
}

#[test]
fn b_b_has_the_ep_xsd_shape_and_the_card_signs_the_canonical_signed_info() {
    let pki = hpki();
    let prepared = prepare(CSV.as_bytes(), &[pki.signature.cert.as_slice(), &pki.signature_ca], NOW).unwrap();
    assert_eq!(prepared.prescription().patient_name(), "処方 花子");
    let tbs = std::str::from_utf8(prepared.to_be_signed()).unwrap().to_owned();
    assert!(tbs.starts_with("<ds:SignedInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"></ds:CanonicalizationMethod><ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\">"), "{tbs}");
    assert_eq!(tbs.matches("<ds:Reference ").count(), 3, "{tbs}");
    assert_eq!(prepared.sha256(), HashAlgorithm::Sha256.digest(prepared.to_be_signed()));
    let wrong = pki.signature.key.sign_sha256(b"other bytes").unwrap();
    assert!(matches!(assemble(prepared, &wrong), Err(XadesError::BadSignature)));

    let xml = String::from_utf8(signed(CSV.as_bytes())).unwrap();
    let document = xml::parse(&xml).unwrap();
    let path: Vec<&str> = document
        .descendants()
        .find(|n| n.tag_name().name() == "Signature")
        .unwrap()
        .ancestors()
        .filter(|n| n.is_element())
        .map(|n| n.tag_name().name())
        .collect();
    assert_eq!(path, ["Signature", "PrescriptionSign", "Prescription", "Document"]);
    let data = document.descendants().find(|n| n.tag_name().name() == "PrescriptionDocument").unwrap();
    assert_eq!(data.attribute("id"), Some("PrescriptionDocument"));
    use base64::Engine;
    let csv = base64::engine::general_purpose::STANDARD.decode(data.text().unwrap()).unwrap();
    assert_eq!(csv, CSV.as_bytes(), "the CSV byte for byte, CRLF included");
    for needle in [
        "<xades:SigningTime>2026-11-26T00:00:00Z</xades:SigningTime>",
        "<xades:IssuerSerialV2>",
        "Target=\"#PrescriptionSign\"",
        "Type=\"http://uri.etsi.org/01903#SignedProperties\"",
        "<Version Value=\"EPS1.0\"/>",
    ] {
        assert!(xml.contains(needle), "{needle} missing in {xml}");
    }
}

#[test]
fn only_rsa_signature_certificates_sign() {
    let (_, pkcs8) = SoftwareKey::generate_device_key(KeyAlgorithm::Rsa2048).unwrap();
    let authentication = self_signed(
        &pkcs8,
        "AUTH ONLY",
        rcgen::CustomExtension::from_oid_content(&[2, 5, 29, 15], vec![0x03, 0x02, 0x07, 0x80]),
    );
    let err = prepare(CSV.as_bytes(), &[&authentication], NOW).unwrap_err();
    assert!(err.to_string().contains("not a signature certificate"), "{err}");

    let (key, pkcs8) = SoftwareKey::generate_device_key(KeyAlgorithm::P256).unwrap();
    let ec = self_signed(&pkcs8, "EC SIGNER", non_repudiation());
    let err = prepare(CSV.as_bytes(), &[&ec], NOW).unwrap_err();
    assert!(matches!(err, XadesError::UnsupportedKey(_)), "{err}");
    drop(key);
}

#[test]
fn an_authentication_certificate_signature_is_refused() {
    let (key, pkcs8) = SoftwareKey::generate_device_key(KeyAlgorithm::Rsa2048).unwrap();
    let digital_signature_only =
        rcgen::CustomExtension::from_oid_content(&[2, 5, 29, 15], vec![0x03, 0x02, 0x07, 0x80]);
    let authentication = self_signed(&pkcs8, "AUTH ONLY", digital_signature_only);
    let chain = SignerChain::from_der(&[&authentication]).unwrap();
    let prepared = prepare_for(CSV.as_bytes(), chain, NOW).unwrap();
    let value = hcpki_pkix::keys::KeySource::sign(&key, prepared.to_be_signed()).unwrap();
    let xml = assemble_unchecked(prepared, &value);
    let err = verify(&xml).unwrap_err();
    assert!(err.to_string().contains("not a signature certificate"), "{err}");
}

/// A B-T e-prescription over [`CSV`].
fn time_stamped() -> Vec<u8> {
    let xml = signed(CSV.as_bytes());
    with_signature_time_stamp(&xml, &token(&signature_time_stamp_digest(&xml).unwrap())).unwrap()
}

#[test]
fn b_b_and_b_t_verify_and_give_back_exactly_the_signed_prescription() {
    let pki = hpki();
    let xml = signed(CSV.as_bytes());
    let verified = verify(&xml).unwrap();
    assert_eq!((verified.level, verified.signing_time), (Level::BaselineB, Some(NOW)));
    assert_eq!(verified.signer.to_der().unwrap(), pki.signature.cert);
    let chain: Vec<Vec<u8>> = verified.chain.iter().map(|c| c.to_der().unwrap()).collect();
    assert_eq!(chain, std::slice::from_ref(&pki.signature_ca));
    assert_eq!(verified.prescription, CSV.as_bytes());
    assert!(verified.time_stamps.is_empty());

    let digest = signature_time_stamp_digest(&xml).unwrap();
    let canonical = canonical_signature_value(&xml).unwrap();
    assert!(
        canonical.starts_with(b"<ds:SignatureValue xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" Id=\"value-id-")
    );
    assert_eq!(digest.to_vec(), HashAlgorithm::Sha256.digest(&canonical));
    let b_t = time_stamped();
    let verified = verify(&b_t).unwrap();
    assert_eq!((verified.level, verified.level.name()), (Level::BaselineT, "B-T"));
    assert_eq!(verified.time_stamps.iter().map(|t| t.time).collect::<Vec<_>>(), [NOW + 5]);
    assert_eq!(verified.prescription, CSV.as_bytes());
    assert_eq!(signature_time_stamp_digest(&b_t).unwrap(), digest, "the time stamp leaves SignatureValue alone");
    // A second time stamp goes beside the first.
    let twice = with_signature_time_stamp(&b_t, &token(&digest)).unwrap();
    assert_eq!(verify(&twice).unwrap().time_stamps.len(), 2);

    let err = with_signature_time_stamp(&xml, &token(&[7; 32])).unwrap_err();
    assert!(matches!(err, XadesError::TimeStampImprint), "{err}");
    let err = with_signature_time_stamp(&xml, b"not a token").unwrap_err();
    assert!(err.to_string().contains("time-stamp token"), "{err}");
}

/// `xml` with `from` replaced by `to` (once, and it must be there).
fn edit(xml: &[u8], from: &str, to: &str) -> Vec<u8> {
    let text = std::str::from_utf8(xml).unwrap();
    assert!(text.contains(from), "{from} not in the document");
    text.replacen(from, to, 1).into_bytes()
}

#[test]
fn tampering_and_signature_wrapping_are_refused() {
    let xml = time_stamped();
    let text = String::from_utf8(xml.clone()).unwrap();
    let data_start = "<PrescriptionDocument id=\"PrescriptionDocument\">";
    let base64_csv = text.split(data_start).nth(1).unwrap().split('<').next().unwrap().to_owned();
    let evil = envelope::base64(CSV.replace("ロキソプロフェン", "オキシコドン").as_bytes());

    let tampered_csv = edit(&xml, &base64_csv, &evil);
    assert!(matches!(verify(&tampered_csv), Err(XadesError::DigestMismatch(what)) if what.contains("prescription")));
    let tampered_properties = edit(&xml, "2026-11-26T00:00:00Z", "2026-11-25T00:00:00Z");
    assert!(matches!(verify(&tampered_properties), Err(XadesError::DigestMismatch("SignedProperties"))));
    let tampered_key_info = edit(&xml, "<ds:X509Data>", "<ds:X509Data> ");
    assert!(matches!(verify(&tampered_key_info), Err(XadesError::DigestMismatch("KeyInfo"))));
    let tampered_value = edit(&xml, "<ds:SignatureValue Id=", "<ds:SignatureValue Wrapped=\"\" Id=");
    assert!(matches!(verify(&tampered_value), Err(XadesError::TimeStampImprint)), "the token no longer covers it");
    let tampered_signed_info = edit(&xml, "<ds:SignedInfo>", "<ds:SignedInfo> ");
    assert!(matches!(verify(&tampered_signed_info), Err(XadesError::BadSignature)));

    // XSW 1: the signed data moved where the format does not look, an evil copy in its place under a new Id.
    let moved = edit(
        &edit(
            &xml,
            &format!("{data_start}{base64_csv}</PrescriptionDocument>"),
            &format!("<PrescriptionDocument id=\"Evil\">{evil}</PrescriptionDocument>"),
        ),
        "<Version Value=\"EPS1.0\"/>",
        &format!("<Version Value=\"EPS1.0\"/>{data_start}{base64_csv}</PrescriptionDocument>"),
    );
    let err = verify(&moved).unwrap_err();
    assert!(
        matches!(err, XadesError::Reference { problem: "points to an element this format does not sign", .. }),
        "{err}"
    );
    // XSW 2: an evil copy carrying the same Id, wherever it is.
    let duplicated = edit(
        &xml,
        "</PrescriptionManagement>",
        &format!("<x id=\"PrescriptionDocument\">{evil}</x></PrescriptionManagement>"),
    );
    assert!(matches!(verify(&duplicated), Err(XadesError::DuplicateId(id)) if id == "PrescriptionDocument"));
    // XSW 3: the original signature moved into an Object of a new signature at PrescriptionSign.
    let wrapped = edit(&xml, "<ds:Object>", "<ds:Object><ds:Signature Id=\"Other\"/>");
    assert!(matches!(verify(&wrapped), Err(XadesError::Structure(_))));
    // A comment inside the signed data: canonicalization drops it, so it must not reach the data returned.
    let half = base64_csv.len() / 2 / 4 * 4;
    let (first, second) = base64_csv.split_at(half);
    let commented = edit(&xml, &base64_csv, &format!("{first}<!--{evil}-->{second}"));
    assert_eq!(verify(&commented).unwrap().prescription, CSV.as_bytes());
    // A fourth reference, another transform, an XPointer URI.
    let extra = edit(&xml, "</ds:SignedInfo>", "<ds:Reference URI=\"#Document\"/></ds:SignedInfo>");
    assert!(matches!(verify(&extra), Err(XadesError::Structure(m)) if m.contains("exactly three References")));
    let inclusive = edit(
        &xml,
        "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>",
        "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>",
    );
    assert!(matches!(verify(&inclusive), Err(XadesError::Algorithm { what: "Transform", .. })));
    let xpointer = edit(&xml, "URI=\"#PrescriptionDocument\"", "URI=\"#xpointer(id('PrescriptionDocument'))\"");
    assert!(matches!(verify(&xpointer), Err(XadesError::Reference { .. })));

    // Bad input: a DTD, truncation, garbage.
    let doctype = edit(&xml, "<Document ", "<!DOCTYPE Document [<!ENTITY x \"y\">]><Document ");
    let err = verify(&doctype).unwrap_err();
    assert!(matches!(err, XadesError::Xml(XmlError::Doctype)), "{err}");
    assert!(err.to_string().contains("never reads DTDs"), "{err}");
    assert!(matches!(verify(xml.get(..xml.len() / 2).unwrap()), Err(XadesError::Xml(XmlError::Malformed(_)))));
    assert!(matches!(verify(b"\x00\x01"), Err(XadesError::Xml(_))));
    assert!(matches!(verify(b"<Other/>"), Err(XadesError::Structure(_))));
}

/// `xml` after an edit, signed again with the HPKI signature key: every Reference's digest recomputed, SignedInfo
/// signed anew — what a signer would have written had the document been so from the start.
fn resigned(xml: &str) -> Vec<u8> {
    resign(xml, |message| hpki().signature.key.sign_sha256(message).unwrap())
}

/// [`resigned`] with a software key.
fn resigned_by(xml: &str, key: &SoftwareKey) -> Vec<u8> {
    resign(xml, |message| hcpki_pkix::keys::KeySource::sign(key, message).unwrap())
}

fn resign(xml: &str, sign: impl Fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
    let document = xml::parse(xml).unwrap();
    let index = super::ids::IdIndex::of(&document).unwrap();
    let mut text = xml.to_owned();
    for reference in document.descendants().filter(|n| n.tag_name().name() == "Reference") {
        let target = index.resolve(reference.attribute("URI").unwrap()).unwrap();
        let fresh = envelope::base64(&HashAlgorithm::Sha256.digest(&c14n::exclusive(target)));
        let old = reference.descendants().find(|n| n.tag_name().name() == "DigestValue").unwrap().text().unwrap();
        text = text.replacen(&format!("<ds:DigestValue>{old}"), &format!("<ds:DigestValue>{fresh}"), 1);
    }
    let document = xml::parse(&text).unwrap();
    let signed_info = document.descendants().find(|n| n.tag_name().name() == "SignedInfo").unwrap();
    let value = sign(&c14n::exclusive(signed_info));
    let old = document.descendants().find(|n| n.tag_name().name() == "SignatureValue").unwrap().text().unwrap();
    text.replacen(old, &envelope::base64(&value), 1).into_bytes()
}

#[test]
fn the_national_tools_shape_without_signing_time_or_chain_verifies() {
    let xml = String::from_utf8(signed(CSV.as_bytes())).unwrap();
    let time = "<xades:SigningTime>2026-11-26T00:00:00Z</xades:SigningTime>";
    let ca = format!("<ds:X509Certificate>{}</ds:X509Certificate>", envelope::base64(&hpki().signature_ca));
    let national = resigned(&xml.replacen(time, "", 1).replacen(&ca, "", 1));
    let verified = verify(&national).unwrap();
    assert_eq!((verified.level, verified.signing_time, verified.chain.len()), (Level::BaselineB, None, 0));
    assert_eq!(verified.prescription, CSV.as_bytes());
    // Two SigningTimes, or none of SigningCertificateV2, are not XAdES.
    let twice = resigned(&xml.replacen(time, &format!("{time}{time}"), 1));
    assert!(matches!(verify(&twice), Err(XadesError::Structure(m)) if m.contains("more than one SigningTime")));
    let start = xml.find("<xades:SigningCertificateV2>").unwrap();
    let end = xml.find("</xades:SigningCertificateV2>").unwrap() + "</xades:SigningCertificateV2>".len();
    let unbound = resigned(&format!("{}{}", xml.get(..start).unwrap(), xml.get(end..).unwrap()));
    assert!(matches!(verify(&unbound), Err(XadesError::Structure(m)) if m.contains("no SigningCertificateV2")));
    // A certificate swapped in KeyInfo (same document, re-signed by another key) is caught by the binding.
    let (key, pkcs8) = SoftwareKey::generate_device_key(KeyAlgorithm::Rsa2048).unwrap();
    let other = self_signed(&pkcs8, "OTHER SIGNER", non_repudiation());
    let signer = format!("<ds:X509Certificate>{}</ds:X509Certificate>", envelope::base64(&hpki().signature.cert));
    let swapped =
        xml.replacen(&signer, &format!("<ds:X509Certificate>{}</ds:X509Certificate>", envelope::base64(&other)), 1);
    let swapped = resigned_by(&swapped, &key);
    assert!(matches!(verify(&swapped), Err(XadesError::SigningCertificateMismatch)));
}

/// The verifier on e-prescriptions (`validate`): around a test HPKI hierarchy whose signature CA signs CRLs,
/// fetched as the command line fetches them (XAdES carries no validation data).
mod judged {
    use super::*;
    use crate::signature::cades::tests::{token_at, tsa_certificate};
    use crate::signature::validation::{FetchRequest, Report, SigningTrust};
    use der::Decode as _;
    use hcpki_vcard::testpki::{CrlValidity, HpkiCredentials, HpkiSubject, HpkiTestCas, Revoked};

    fn t() -> i64 {
        static T: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
        *T.get_or_init(hcpki_pkix::time::now_unix)
    }

    fn odt(unix: i64) -> time::OffsetDateTime {
        time::OffsetDateTime::from_unix_timestamp(unix).unwrap()
    }

    /// B-B and B-T (token at t() + 5) of [`CSV`] by `card`'s signature key.
    fn signed_by(card: &HpkiCredentials) -> (Vec<u8>, Vec<u8>) {
        let prepared = prepare(CSV.as_bytes(), &[&card.signature.cert, &card.signature_ca], t()).unwrap();
        let value = card.signature.key.sign_sha256(prepared.to_be_signed()).unwrap();
        let b_b = assemble(prepared, &value).unwrap();
        let token = token_at(&signature_time_stamp_digest(&b_b).unwrap(), t() + 5);
        let b_t = with_signature_time_stamp(&b_b, &token).unwrap();
        (b_b, b_t)
    }

    /// Judge `xml` at t() + 20 with the CRL `crl` answering every fetch.
    fn judge(xml: &[u8], card: &HpkiCredentials, crl: Option<&[u8]>) -> Report {
        let trust = SigningTrust::new(std::slice::from_ref(&card.root), &[tsa_certificate()]).unwrap();
        let fetch = |request: &FetchRequest<'_>| match (request, crl) {
            (FetchRequest::Crl { url }, Some(crl)) if url.ends_with("crl-sign.crl") => Ok(crl.to_vec()),
            _ => Err("offline".to_owned()),
        };
        validate(xml, &trust, t() + 20, &fetch)
    }

    fn crl(cas: &HpkiTestCas, revoked: &[(&HpkiCredentials, i64)]) -> Vec<u8> {
        let revoked: Vec<Revoked> = revoked
            .iter()
            .map(|(card, at)| Revoked {
                serial: x509_cert::Certificate::from_der(&card.signature.cert)
                    .unwrap()
                    .tbs_certificate()
                    .serial_number()
                    .as_bytes()
                    .to_vec(),
                at: odt(*at),
                reason: None,
            })
            .collect();
        let validity = CrlValidity { this_update: odt(t() + 10), next_update: odt(t() + 86_400), number: 1 };
        cas.signature_crl(&revoked, validity).unwrap()
    }

    #[test]
    fn every_verdict_of_an_e_prescription() {
        let cas = HpkiTestCas::new().unwrap();
        let card = cas.issue(&HpkiSubject::default()).unwrap();
        let (b_b, b_t) = signed_by(&card);
        let good = crl(&cas, &[]);

        let report = judge(&b_t, &card, Some(&good));
        assert_eq!((report.verdict().as_str(), report.level.map(Level::name)), ("PASSED", Some("B-T")), "{report:?}");
        assert_eq!(report.time_stamp, Some(t() + 5));
        assert_eq!(report.hc_roles, ["Medical Doctor"]);
        let report = judge(&b_b, &card, Some(&good));
        assert_eq!((report.verdict().as_str(), report.level.map(Level::name)), ("PASSED", Some("B-B")), "{report:?}");
        assert_eq!(judge(&b_t, &card, None).verdict(), "INDETERMINATE/TRY_LATER");

        // Revoked before the time stamp, after it; and without a time stamp.
        assert_eq!(judge(&b_t, &card, Some(&crl(&cas, &[(&card, t() + 1)]))).verdict(), "FAILED/REVOKED");
        let later = judge(&b_t, &card, Some(&crl(&cas, &[(&card, t() + 8)])));
        assert_eq!(later.verdict(), "PASSED", "{later:?}");
        assert_eq!(judge(&b_b, &card, Some(&crl(&cas, &[(&card, t() + 8)]))).verdict(), "INDETERMINATE/REVOKED_NO_POE");

        // Tampering: the data (HASH_FAILURE), SignedProperties (HASH_FAILURE: its reference digest), SignedInfo
        // (SIG_CRYPTO_FAILURE); wrapping (FORMAT_FAILURE).
        let text = String::from_utf8(b_t.clone()).unwrap();
        let data_start = "<PrescriptionDocument id=\"PrescriptionDocument\">";
        let base64_csv = text.split(data_start).nth(1).unwrap().split('<').next().unwrap().to_owned();
        let evil = envelope::base64(CSV.replace("ロキソプロフェン", "オキシコドン").as_bytes());
        let verdict = |xml: &[u8]| judge(xml, &card, Some(&good)).verdict();
        assert_eq!(verdict(&edit(&b_t, &base64_csv, &evil)), "FAILED/HASH_FAILURE");
        let signing_time = text.split("<xades:SigningTime>").nth(1).unwrap().split('<').next().unwrap();
        assert_eq!(verdict(&edit(&b_t, signing_time, "2020-01-01T00:00:00Z")), "FAILED/HASH_FAILURE");
        assert_eq!(verdict(&edit(&b_t, "<ds:SignedInfo>", "<ds:SignedInfo> ")), "FAILED/SIG_CRYPTO_FAILURE");
        let duplicated = edit(
            &b_t,
            "</PrescriptionManagement>",
            &format!("<x id=\"PrescriptionDocument\">{evil}</x></PrescriptionManagement>"),
        );
        assert_eq!(verdict(&duplicated), "FAILED/FORMAT_FAILURE");
        assert_eq!(verdict(b"<Document/>"), "FAILED/FORMAT_FAILURE");

        // A broken time stamp (its SignatureValue element changed after stamping): a note, judged as B-B.
        let broken = edit(&b_t, "<ds:SignatureValue Id=", "<ds:SignatureValue Wrapped=\"\" Id=");
        let report = judge(&broken, &card, Some(&good));
        assert_eq!((report.verdict().as_str(), report.level.map(Level::name)), ("PASSED", Some("B-B")), "{report:?}");
        assert!(report.notes.iter().any(|n| n.contains("does not verify")), "{:?}", report.notes);

        // An unknown root.
        let stranger = HpkiTestCas::new().unwrap().issue(&HpkiSubject::default()).unwrap();
        let (_, foreign) = signed_by(&stranger);
        assert_eq!(judge(&foreign, &card, Some(&good)).verdict(), "INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND");

        // An authentication certificate used to sign (by hand: `prepare` refuses it).
        let report = judge(&signed_with_authentication_key(&card), &card, Some(&good));
        assert_eq!(report.verdict(), "FAILED/CHAIN_CONSTRAINTS_FAILURE", "{report:?}");

        // A valid signature over a prescription that reads two ways (a signer that never read it): what its signer
        // saw cannot be known, so neither the format check nor the verifier accepts it.
        let ambiguous = signed_unread(&card, &CSV.replacen("\r\n", "\n", 1));
        let err = verify(&ambiguous).unwrap_err();
        assert!(matches!(&err, XadesError::Prescription(e) if e.line == Some(2)), "{err}");
        let report = judge(&ambiguous, &card, Some(&good));
        assert_eq!(report.verdict(), "FAILED/FORMAT_FAILURE", "{report:?}");
    }

    /// A B-B e-prescription over `csv` by `card`'s signature key, made without reading `csv` (`prepare` reads it):
    /// what another signer could make.
    fn signed_unread(card: &HpkiCredentials, csv: &str) -> Vec<u8> {
        let chain = SignerChain::from_der(&[&card.signature.cert, &card.signature_ca]).unwrap();
        let shown = Prescription::read(CSV.as_bytes()).unwrap();
        let prepared = prepare_unread(csv.as_bytes(), shown, chain, t()).unwrap();
        let value = card.signature.key.sign_sha256(prepared.to_be_signed()).unwrap();
        assemble_unchecked(prepared, &value)
    }

    /// A B-B e-prescription made with `card`'s authentication certificate and key, by hand (`prepare` refuses
    /// it): what a careless signer would make.
    fn signed_with_authentication_key(card: &HpkiCredentials) -> Vec<u8> {
        let chain = SignerChain::from_der(&[&card.authentication.cert, &card.authentication_ca]).unwrap();
        let prepared = prepare_for(CSV.as_bytes(), chain, t()).unwrap();
        let value = card.authentication.key.sign_sha256(prepared.to_be_signed()).unwrap();
        assemble_unchecked(prepared, &value)
    }
}
