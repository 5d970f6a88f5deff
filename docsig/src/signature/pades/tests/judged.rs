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
    *T.get_or_init(hcpki_pkix::time::now_unix)
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

/// A test HPKI hierarchy, a card, and the trust in its root and the test TSA.
fn hierarchy() -> (HpkiTestCas, HpkiCredentials, SigningTrust) {
    let cas = HpkiTestCas::new().unwrap();
    let card = cas.issue(&HpkiSubject::default()).unwrap();
    let trust = SigningTrust::new(std::slice::from_ref(&card.root), &[tsa_certificate()]).unwrap();
    (cas, card, trust)
}

fn judge(pdf: &[u8], trust: &SigningTrust) -> Vec<(Option<String>, crate::signature::validation::Report)> {
    validate(pdf, trust, t() + 20, &offline).signatures
}

#[test]
fn every_level_is_judged_and_the_level_comes_from_the_evidence() {
    let (cas, card, trust) = hierarchy();
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
    let (cas, card, trust) = hierarchy();
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

#[test]
fn the_revisions_are_reported_with_what_each_changed() {
    let (cas, card, trust) = hierarchy();
    let [.., b_lta] = levels(&cas, &card);
    let history = validate(&b_lta, &trust, t() + 20, &offline).history.unwrap();
    let summary: Vec<_> = history
        .revisions
        .iter()
        .map(|r| (r.revision, r.signatures.clone(), r.document_time_stamps.clone(), r.changes.clone()))
        .collect();
    let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        summary,
        [
            (1, names(&[]), names(&[]), None),
            (2, names(&["Signature1"]), names(&[]), None),
            (3, names(&[]), names(&[]), Some(vec![Change::ValidationData])),
            (
                4,
                names(&[]),
                names(&["Signature2"]),
                Some(vec![Change::DocumentTimeStamp { field: "Signature2".into() }])
            ),
        ]
    );
    assert_eq!(history.revisions.last().unwrap().end, b_lta.len());
    assert_eq!(history.after_last_revision, None);
}

#[test]
fn bytes_after_the_last_revision_keep_a_signature_from_passing() {
    let (cas, card, trust) = hierarchy();
    let [_, _, b_lt, _] = levels(&cas, &card);
    let object =
        b"5 0 obj\n<< /Length 48 >>\nstream\nBT /F1 12 Tf 72 700 Td (Pay 1,000,000 yen) Tj ET\nendstream\nendobj\n";
    // An object appended without a cross-reference section; then the same with the last marker repeated after it
    // (a reader taking the last `startxref` finds the same revision).
    let marker = &b_lt[b_lt.windows(9).rposition(|w| w == b"startxref").unwrap()..];
    for appended in [[&b_lt[..], object].concat(), [&b_lt[..], object, marker].concat()] {
        let err = verify(&appended).unwrap_err();
        assert!(matches!(err, PadesError::BytesAfterLastRevision { offset, .. } if offset == b_lt.len()), "{err}");
        let validated = validate(&appended, &trust, t() + 20, &offline);
        let [(_, report)] = <[_; 1]>::try_from(validated.signatures).unwrap();
        assert_eq!(report.verdict(), "INDETERMINATE/SIG_CONSTRAINTS_FAILURE", "{report:?}");
        assert_eq!(report.level, Some(Level::BaselineLt));
        assert!(report.detail.contains("the signature is intact, but the file goes on for"), "{}", report.detail);
        let tail = validated.history.unwrap().after_last_revision;
        assert!(matches!(tail, Some(Tail::Unaccounted { offset, .. }) if offset == b_lt.len()), "{tail:?}");
        // Nothing is signed or extended on top of it.
        assert!(matches!(prepare_document_time_stamp(&appended), Err(PadesError::BytesAfterLastRevision { .. })));
        assert!(matches!(summary(&appended), Err(PadesError::BytesAfterLastRevision { .. })));
    }
    // Blanks and NULs a transfer may add: still PASSED, the padding reported.
    let padded = [&b_lt[..], b"\r\n\0\0  \n"].concat();
    verify(&padded).unwrap();
    let validated = validate(&padded, &trust, t() + 20, &offline);
    assert_eq!(validated.signatures[0].1.verdict(), "PASSED");
    assert_eq!(validated.history.unwrap().after_last_revision, Some(Tail::Padding { offset: b_lt.len(), length: 7 }));
}
