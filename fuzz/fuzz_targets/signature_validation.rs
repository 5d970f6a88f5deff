//! The signature verifier on outside input (issue #27 item 5): any file posted for verification goes through
//! `signature::verdict::judge`, which reads its format (a PDF, an e-prescription, else a detached `.p7s` over the
//! seeds' document), then that format's evidence (CAdES: the raw RevocationInfoChoices reader, the
//! archive-time-stamp-v3 index; XAdES: the checks before the signer's judgement; PAdES: every signature field,
//! the DSS, the document time stamps) into the format-independent `signature::validation` core; the CAdES B-LT
//! and B-LTA producers read the same bytes.
//!
//! It must never panic, and with no anchor configured nothing passes; every file gives one verdict at least; a
//! file the strict format check (`xades::verify`, `pades::verify`) accepts is intact for the verifier too. What
//! decodes as a CAdES signature keeps decoding after validation data is added, and the archive imprint is defined
//! exactly for what decodes over the seeds' document (a detached signature, or an attached one carrying it).
#![no_main]

use hcpki_docsig::signature::cades::{self, CadesSignature};
use hcpki_docsig::signature::validation::{FetchRequest, Indication, SigningTrust, SubIndication};
use hcpki_docsig::signature::verdict::{self, Format, VerdictError};
use hcpki_docsig::signature::{pades, xades};
use libfuzzer_sys::fuzz_target;

/// What the seeds sign (`fuzz/seeds/make-seeds`).
const DOCUMENT: &[u8] = b"a document to sign\n";
/// 2026-11-27T00:00:00Z.
const NOW: i64 = 1_795_651_200;

fuzz_target!(|data: &[u8]| {
    let trust = SigningTrust::new(&[], &[]).expect("no anchors is a valid configuration");
    let offline = |_: &FetchRequest<'_>| Err::<Vec<u8>, String>("offline".into());
    let format = verdict::detect(data);
    let document = format.detached().then_some(DOCUMENT);
    let verdict = match verdict::judge(data, document, &trust, NOW, &offline) {
        Ok(verdict) => verdict,
        // Broken PEM armour is refused before any verdict; nothing else may be (the document is given).
        Err(VerdictError::Pem(_)) => return,
        Err(e) => panic!("refused although the document was given: {e}"),
    };
    assert!(!verdict.signatures.is_empty(), "a file without a verdict");
    for one in &verdict.signatures {
        assert_ne!(one.report.indication, Indication::Passed, "passed with no anchor: {:?}", one.report);
    }
    // Intact for the strict check is intact for the verifier: with no anchor, it stops at the chain (or earlier
    // at the signer's key usage), never at integrity.
    let strict = match format {
        Format::XadesEprescription => xades::verify(data).is_ok(),
        Format::Pades => pades::verify(data).is_ok(),
        Format::Cades => false,
    };
    if strict {
        for one in &verdict.signatures {
            let sub = one.report.sub_indication;
            assert!(
                !matches!(
                    sub,
                    Some(SubIndication::FormatFailure | SubIndication::HashFailure | SubIndication::SigCryptoFailure)
                ),
                "{format:?} checks but the verifier says {:?}",
                one.report
            );
        }
    }
    let decoded = CadesSignature::from_ber(data);
    let decodes = decoded.is_ok();
    // An attached signature is archived with the document it carries: the imprint exists for it exactly then.
    let over_document =
        decoded.as_ref().is_ok_and(|s| s.carried_document().ok().flatten().is_none_or(|carried| carried == DOCUMENT));
    assert_eq!(over_document, cades::archive_time_stamp_digest(data, DOCUMENT).is_ok());
    if decodes {
        // The input as a CRL and as an OCSP response: refused unless it is one, and never breaking the file.
        if let Ok(with) = cades::with_validation_data(data, &[], &[data.to_vec()], &[data.to_vec()]) {
            assert!(CadesSignature::from_ber(&with).is_ok(), "validation data made an unreadable file");
        }
        let with = cades::with_validation_data(data, &[], &[], &[]).expect("nothing to add always works");
        assert!(CadesSignature::from_ber(&with).is_ok());
    }
});
