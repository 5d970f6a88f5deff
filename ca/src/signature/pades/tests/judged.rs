//! The verifier on signed PDFs (`validate`): every level judged around a test HPKI hierarchy whose signature
//! CA signs CRLs, and what `verify` refuses outright turned into verdicts.

use super::sample;
use crate::signature::cades::tests::{token_at, tsa_certificate};
use crate::signature::pades::pdf::{Dictionary, Document, ObjectId};
use crate::signature::pades::update::Update;
use crate::signature::pades::*;
use crate::signature::validation::{FetchRequest, Level, SigningTrust};
use hcpki_vcard::testpki::{CrlValidity, HpkiCredentials, HpkiSubject, HpkiTestCas};

/// The signing time: now, inside the test certificates' validity.
fn t() -> i64 {
    static T: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *T.get_or_init(crate::time::now_unix)
}

fn odt(unix: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(unix).unwrap()
}

fn offline(_: &FetchRequest<'_>) -> Result<Vec<u8>, String> {
    Err("offline".into())
}

/// B-B, B-T, B-LT (chain and a CRL of the signature CA in the DSS) and B-LTA of a sample letter by `card`.
fn levels(cas: &HpkiTestCas, card: &HpkiCredentials) -> [Vec<u8>; 4] {
    let pdf = sample::classic("紹介状", 2);
    let prepared = prepare(&pdf, &[&card.signature.cert, &card.signature_ca], t()).unwrap();
    let value = card.signature.key.sign_sha256(prepared.to_be_signed()).unwrap();
    let b_b = assemble(prepared, &value).unwrap();
    let b_t = with_signature_time_stamp(&b_b, &token_at(&signature_time_stamp_digest(&b_b).unwrap(), t() + 5)).unwrap();
    let validity = CrlValidity { this_update: odt(t() + 10), next_update: odt(t() + 86_400), number: 1 };
    let data = ValidationData {
        certificates: vec![card.signature.cert.clone(), card.signature_ca.clone(), tsa_certificate()],
        crls: vec![cas.signature_crl(&[], validity).unwrap()],
        ocsps: Vec::new(),
    };
    let b_lt = add_validation_data(&b_t, &data).unwrap();
    let prepared = prepare_document_time_stamp(&b_lt).unwrap();
    let token = token_at(&prepared.digest(), t() + 15);
    let b_lta = assemble_document_time_stamp(prepared, &token).unwrap();
    [b_b, b_t, b_lt, b_lta]
}

fn judge(pdf: &[u8], trust: &SigningTrust) -> Vec<(Option<String>, crate::signature::validation::Report)> {
    validate(pdf, trust, t() + 20, &offline)
}

#[test]
fn every_level_is_judged_and_the_level_comes_from_the_evidence() {
    let cas = HpkiTestCas::new().unwrap();
    let card = cas.issue(&HpkiSubject::default()).unwrap();
    let trust = SigningTrust::new(std::slice::from_ref(&card.root), &[tsa_certificate()]).unwrap();
    let [b_b, b_t, b_lt, b_lta] = levels(&cas, &card);
    // Offline: B-B and B-T have no revocation data and cannot fetch any.
    for (pdf, level) in [(&b_b, Level::BaselineB), (&b_t, Level::BaselineT)] {
        let [(field, report)] = <[_; 1]>::try_from(judge(pdf, &trust)).unwrap();
        assert_eq!(field.as_deref(), Some("Signature1"));
        assert_eq!((report.verdict().as_str(), report.level), ("INDETERMINATE/TRY_LATER", Some(level)), "{report:?}");
    }
    let [(_, report)] = <[_; 1]>::try_from(judge(&b_lt, &trust)).unwrap();
    assert_eq!((report.verdict().as_str(), report.level), ("PASSED", Some(Level::BaselineLt)), "{report:?}");
    assert_eq!(report.time_stamp, Some(t() + 5));
    assert_eq!(report.hc_roles, vec!["Medical Doctor".to_owned()]);
    let [(_, report)] = <[_; 1]>::try_from(judge(&b_lta, &trust)).unwrap();
    assert_eq!((report.verdict().as_str(), report.level), ("PASSED", Some(Level::BaselineLta)), "{report:?}");
    assert_eq!(report.archive_time_stamp, Some(t() + 15));

    // Without the TSA anchor the time stamp proves nothing: the signer's CRL is older than "now", and the
    // verdict says so instead of passing on the time stamp's word.
    let no_tsa = SigningTrust::new(std::slice::from_ref(&card.root), &[]).unwrap();
    let [(_, report)] = <[_; 1]>::try_from(judge(&b_lta, &no_tsa)).unwrap();
    assert_eq!(report.level, Some(Level::BaselineB), "{report:?}");
    assert!(report.notes.iter().any(|n| n.contains("no TSA anchor")), "{:?}", report.notes);

    // Another root: no path.
    let stranger = HpkiTestCas::new().unwrap().issue(&HpkiSubject::default()).unwrap();
    let other = SigningTrust::new(std::slice::from_ref(&stranger.root), &[tsa_certificate()]).unwrap();
    let [(_, report)] = <[_; 1]>::try_from(judge(&b_lt, &other)).unwrap();
    assert_eq!(report.verdict(), "INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND");
}

#[test]
fn what_verify_refuses_becomes_a_verdict() {
    let cas = HpkiTestCas::new().unwrap();
    let card = cas.issue(&HpkiSubject::default()).unwrap();
    let trust = SigningTrust::new(std::slice::from_ref(&card.root), &[tsa_certificate()]).unwrap();
    let [_, _, b_lt, _] = levels(&cas, &card);
    let verdicts = |pdf: &[u8]| judge(pdf, &trust).into_iter().map(|(_, r)| r.verdict()).collect::<Vec<_>>();

    // A byte of the signed page content changed.
    let at = b_lt.windows(6).position(|w| w == b"(Page ").unwrap() + 1;
    let mut tampered = b_lt.clone();
    tampered[at] = b'X';
    assert_eq!(verdicts(&tampered), ["FAILED/HASH_FAILURE"]);

    // A later revision that rewrites the page: modified after signing.
    let document = Document::parse(&b_lt).unwrap();
    let mut update = Update::new(&document);
    // Object 5 is the first page's content stream.
    update.put_stream(ObjectId::new(5, 0), Dictionary::new(), b"BT /F1 12 Tf 72 720 Td (Forged) Tj ET");
    let forged = update.finish().unwrap().bytes;
    let [(_, report)] = <[_; 1]>::try_from(judge(&forged, &trust)).unwrap();
    assert_eq!(report.verdict(), "FAILED/HASH_FAILURE");
    assert!(report.detail.contains("modified after the signature"), "{}", report.detail);

    // Not a PDF any more, a PDF without signature, a truncated one.
    assert_eq!(verdicts(&b_lt[..b_lt.len() / 2]), ["FAILED/FORMAT_FAILURE"]);
    assert_eq!(verdicts(&sample::classic("紹介状", 1)), ["FAILED/FORMAT_FAILURE"]);
}
