//! The signature verifier on outside input (issue #27 item 5): a `.p7s` posted for verification goes through
//! `cades::validate` (the format's checks, the raw RevocationInfoChoices reader, the archive-time-stamp-v3 index)
//! into the format-independent `signature::validation` core; the B-LT and B-LTA producers read the same bytes.
//!
//! It must never panic, and with no anchor configured nothing passes. What decodes as a CAdES signature keeps
//! decoding after validation data is added, and the archive imprint is defined exactly for what decodes.
#![no_main]

use hcpki_ca::signature::cades::{self, CadesSignature};
use hcpki_ca::signature::validation::{FetchRequest, Indication, SigningTrust};
use libfuzzer_sys::fuzz_target;

/// What the seeds sign (`fuzz/seeds/make-seeds`).
const DOCUMENT: &[u8] = b"a document to sign\n";
/// 2026-11-27T00:00:00Z.
const NOW: i64 = 1_795_651_200;

fuzz_target!(|data: &[u8]| {
    let trust = SigningTrust::new(&[], &[]).expect("no anchors is a valid configuration");
    let offline = |_: &FetchRequest<'_>| Err::<Vec<u8>, String>("offline".into());
    let report = cades::validate(data, DOCUMENT, &trust, NOW, &offline);
    assert_ne!(report.indication, Indication::Passed, "passed with no anchor: {report:?}");
    let decodes = CadesSignature::from_der(data).is_ok();
    assert_eq!(decodes, cades::archive_time_stamp_digest(data, DOCUMENT).is_ok());
    if decodes {
        // The input as a CRL and as an OCSP response: refused unless it is one, and never breaking the file.
        if let Ok(with) = cades::with_validation_data(data, &[], &[data.to_vec()], &[data.to_vec()]) {
            assert!(CadesSignature::from_der(&with).is_ok(), "validation data made an unreadable file");
        }
        let with = cades::with_validation_data(data, &[], &[], &[]).expect("nothing to add always works");
        assert!(CadesSignature::from_der(&with).is_ok());
    }
});
