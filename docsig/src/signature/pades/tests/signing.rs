//! Signing at B-B, B-T, B-LT and B-LTA around the test HPKI card's signature key, renewal, and the checks
//! refusing a tampered byte, a forbidden later revision and foreign tokens.

use super::sample;
use crate::signature::cades::CadesError;
use crate::signature::cades::tests::{NOW, hpki, token};
use crate::signature::pades::pdf::{Dictionary, Document, Object, ObjectId};
use crate::signature::pades::update::Update;
use crate::signature::pades::*;
use der::Encode;

fn chain() -> Vec<&'static [u8]> {
    let pki = hpki();
    vec![pki.signature.cert.as_slice(), pki.signature_ca.as_slice()]
}

/// B-B of `pdf`, signed as the card signs.
pub(crate) fn signed(pdf: &[u8]) -> Vec<u8> {
    let prepared = prepare(pdf, &chain(), NOW).unwrap();
    let value = hpki().signature.key.sign_sha256(prepared.to_be_signed()).unwrap();
    assemble(prepared, &value).unwrap()
}

fn validation_data() -> ValidationData {
    let pki = hpki();
    ValidationData {
        certificates: vec![pki.signature.cert.clone(), pki.signature_ca.clone(), pki.root.clone()],
        crls: vec![b"not a real CRL: the DSS stores bytes".to_vec()],
        ocsps: Vec::new(),
    }
}

/// A document time stamp over `pdf`.
pub(crate) fn stamped(pdf: &[u8]) -> Vec<u8> {
    let prepared = prepare_document_time_stamp(pdf).unwrap();
    let token = token(&prepared.digest());
    assemble_document_time_stamp(prepared, &token).unwrap()
}

/// B-B, B-T, B-LT and B-LTA of `pdf`.
pub(crate) fn all_levels(pdf: &[u8]) -> [Vec<u8>; 4] {
    let b_b = signed(pdf);
    let b_t = with_signature_time_stamp(&b_b, &token(&signature_time_stamp_digest(&b_b).unwrap())).unwrap();
    let b_lt = add_validation_data(&b_t, &validation_data()).unwrap();
    let b_lta = stamped(&b_lt);
    [b_b, b_t, b_lt, b_lta]
}

#[test]
fn every_level_is_made_as_an_incremental_update_and_verifies() {
    for pdf in [sample::classic("紹介状", 2), sample::with_xref_stream("同意書", 1)] {
        let levels = all_levels(&pdf);
        let expected = [Level::BaselineB, Level::BaselineT, Level::BaselineLt, Level::BaselineLta];
        for (signed, level) in levels.iter().zip(expected) {
            assert!(signed.starts_with(&pdf), "the original bytes changed");
            let verified = verify(signed).unwrap_or_else(|e| panic!("{level}: {e}"));
            assert_eq!(verified.level(), level);
            let one = &verified.signatures[0];
            assert_eq!(one.signer.to_der().unwrap(), hpki().signature.cert);
            assert_eq!(one.certificates.len(), 2);
            assert_eq!(one.claimed_time.as_deref(), Some("D:20261126000000Z"));
            assert_eq!(one.covers_whole_file, level <= Level::BaselineT);
        }
        let lta = verify(&levels[3]).unwrap();
        assert_eq!(lta.signatures[0].time_stamps[0].time, NOW + 5);
        assert_eq!(lta.document_time_stamps.len(), 1);
        assert!(lta.document_time_stamps[0].covers_whole_file);
        assert_eq!(lta.validation_data, validation_data());
        // The summary still reads, and the signature field is the only field.
        assert_eq!(summary(&levels[3]).unwrap().pages, summary(&pdf).unwrap().pages);

        let renewed =
            renew(&levels[3], &ValidationData { crls: vec![b"newer".to_vec()], ..Default::default() }).unwrap();
        let token = token(&renewed.digest());
        let renewed = assemble_document_time_stamp(renewed, &token).unwrap();
        let verified = verify(&renewed).unwrap();
        assert_eq!((verified.level(), verified.document_time_stamps.len()), (Level::BaselineLta, 2));
        assert_eq!(verified.validation_data.crls.len(), 2);
    }
}

#[test]
fn the_signed_attributes_have_no_signing_time_and_the_digest_is_over_the_byte_range() {
    let prepared = prepare(&sample::classic("x", 1), &chain(), NOW).unwrap();
    let attributes = prepared.to_be_signed();
    // id-signingTime 1.2.840.113549.1.9.5
    assert!(!attributes.windows(11).any(|w| w == b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x09\x05"));
    let digest = prepared.covered_sha256();
    assert!(attributes.windows(32).any(|w| w == digest));
    assert_eq!(prepared.sha256().len(), 32);
}

#[test]
fn an_authentication_certificate_never_signs_a_pdf() {
    let pki = hpki();
    let err = prepare(&sample::classic("x", 1), &[pki.authentication.cert.as_slice()], NOW).unwrap_err();
    assert!(matches!(err, PadesError::Cms(CadesError::NotForSignatures { .. })), "{err}");
}

#[test]
fn a_value_from_another_key_is_refused_at_assembly() {
    let prepared = prepare(&sample::classic("x", 1), &chain(), NOW).unwrap();
    let value = hpki().authentication.key.sign_sha256(prepared.to_be_signed()).unwrap();
    assert!(matches!(assemble(prepared, &value), Err(PadesError::Cms(CadesError::BadSignature(_)))));
}

#[test]
fn a_tampered_byte_fails_the_check() {
    let [_, b_t, _, b_lta] = all_levels(&sample::classic("Letter", 1));
    for signed in [b_t, b_lta] {
        let at = signed.windows(7).position(|w| w == b"Page 1)").unwrap();
        let mut tampered = signed.clone();
        tampered[at + 5] = b'9';
        let err = verify(&tampered).unwrap_err();
        assert!(matches!(err, PadesError::Cms(CadesError::ContentMismatch)), "{err}");
    }
}

#[test]
fn a_later_revision_changing_content_is_a_modification_after_signing() {
    let [_, b_t, b_lt, _] = all_levels(&sample::classic("Letter", 1));
    for signed in [b_t, b_lt] {
        let document = Document::parse(&signed).unwrap();
        let mut update = Update::new(&document);
        // Object 5 is the first page's content stream.
        update.put_stream(ObjectId::new(5, 0), Dictionary::new(), b"BT /F1 12 Tf 72 720 Td (Forged) Tj ET");
        let forged = update.finish().unwrap().bytes;
        let err = verify(&forged).unwrap_err();
        assert!(matches!(err, PadesError::ModifiedAfterSigning { .. }), "{err}");
        assert!(err.to_string().contains("changes object 5 0 R"), "{err}");

        // A visible annotation added to the page is refused too.
        let document = Document::parse(&signed).unwrap();
        let mut update = Update::new(&document);
        let note = update.allocate();
        update.put(
            note,
            &Object::Dictionary(Dictionary::from_iter([
                ("Type", Object::name("Annot")),
                ("Subtype", Object::name("FreeText")),
                (
                    "Rect",
                    Object::Array(vec![
                        Object::Integer(0),
                        Object::Integer(0),
                        Object::Integer(500),
                        Object::Integer(800),
                    ]),
                ),
            ])),
        );
        let page = document.pages().unwrap()[0];
        let mut dict = document.dictionary(page).unwrap();
        let mut annots = dict.get("Annots").and_then(Object::as_array).unwrap().to_vec();
        annots.push(Object::Reference(note));
        dict.set("Annots", Object::Array(annots));
        update.put(page, &Object::Dictionary(dict));
        let err = verify(&update.finish().unwrap().bytes).unwrap_err();
        assert!(err.to_string().contains("adds an annotation or field that is not a signature field"), "{err}");
    }
}

#[test]
fn foreign_tokens_and_late_time_stamps_are_refused() {
    let [b_b, _, b_lt, _] = all_levels(&sample::classic("Letter", 1));
    let prepared = prepare_document_time_stamp(&b_lt).unwrap();
    let foreign = token(&[7u8; 32]);
    assert!(matches!(assemble_document_time_stamp(prepared, &foreign), Err(PadesError::TimeStampImprint)));
    assert!(matches!(with_signature_time_stamp(&b_b, &foreign), Err(PadesError::Cms(CadesError::TimeStampImprint))));
    let err = with_signature_time_stamp(&b_lt, &token(&signature_time_stamp_digest(&b_b).unwrap())).unwrap_err();
    assert!(err.to_string().contains("not the last revision"), "{err}");
    assert!(matches!(verify(&sample::classic("x", 1)), Err(PadesError::NoSignature(_))));
}

#[test]
fn truncated_and_flipped_signed_files_never_panic() {
    let [_, _, _, b_lta] = all_levels(&sample::classic("L", 1));
    // A cut at an earlier revision's end is that revision, signed; every other cut is an error, never a panic.
    for end in (0..b_lta.len()).step_by(b_lta.len() / 60) {
        let _ = verify(&b_lta[..end]);
    }
    for at in (0..b_lta.len()).step_by(b_lta.len() / 150) {
        let mut flipped = b_lta.clone();
        flipped[at] ^= 0x21;
        let _ = verify(&flipped);
    }
}

#[test]
fn an_object_defined_later_under_a_number_left_free_is_a_modification() {
    // Object 6 does not exist in the sample (numbers 1-5, /Size 6); make the signed revision claim /Size 9 so 6-8
    // are free, then define 7 after signing.
    let pdf = sample::classic("Letter", 1);
    let at = pdf.windows(7).position(|w| w == b"/Size 6").unwrap();
    let pdf = [&pdf[..at], b"/Size 9", &pdf[at + 7..]].concat();
    let [_, b_t, _, _] = all_levels(&pdf);
    let document = Document::parse(&b_t).unwrap();
    let mut update = Update::new(&document);
    update.put(ObjectId::new(7, 0), &Object::Integer(1));
    let err = verify(&update.finish().unwrap().bytes).unwrap_err();
    assert!(err.to_string().contains("defines object 7"), "{err}");
}

/// The next My Number card's signing key (D153): a PAdES signature whose CMS hashes with SHA-384 throughout
/// (digestAlgorithm, messageDigest over the /ByteRange, ecdsa-with-SHA384 over the signed attributes), the card's
/// raw r ‖ s converted to DER in the one place, and the verifier reading it back.
#[test]
fn a_p384_my_number_card_signs_a_pdf_with_sha384_throughout() {
    use hcpki_pkix::card_signature::from_card_answer;
    use hcpki_vcard::key::CardAlgorithm;
    use hcpki_vcard::testpki::{JpkiSubject, issue_jpki_for};
    let card = issue_jpki_for(&JpkiSubject::default(), CardAlgorithm::P384).unwrap();
    let pdf = sample::classic("同意書", 1);
    let prepared = prepare(&pdf, &[card.sign.cert.as_slice(), &card.sign_root], NOW).unwrap();
    assert_eq!(prepared.signature_algorithm().oid, const_oid::db::rfc5912::ECDSA_WITH_SHA_384);
    // The card is handed the SHA-384 of the signed attributes and answers r ‖ s.
    let hash = crate::timestamp::HashAlgorithm::Sha384.digest(prepared.to_be_signed());
    let raw = card.sign.key.sign_card_input(&hash).unwrap();
    assert_eq!(raw.len(), 96);
    // r ‖ s as it is is not a CMS signature value; its DER is.
    let value = from_card_answer(hcpki_model::CardKeyAlgorithm::EcdsaP384Sha384, &raw).unwrap();
    let signed = assemble(prepared, &value).unwrap();
    let report = verify(&signed).unwrap();
    assert_eq!(report.level(), Level::BaselineB);
    // sha384 (2.16.840.1.101.3.4.2.2) is the CMS digestAlgorithm.
    let sha384 = b"\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x02";
    assert!(contains_hex(&signed, sha384), "the CMS names SHA-384");
}

/// Whether the hex-encoded /Contents of `pdf` holds `needle`.
fn contains_hex(pdf: &[u8], needle: &[u8]) -> bool {
    let hex = hex::encode_upper(needle);
    pdf.windows(hex.len()).any(|w| w.eq_ignore_ascii_case(hex.as_bytes()))
}
