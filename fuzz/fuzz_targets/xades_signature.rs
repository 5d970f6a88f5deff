//! The e-prescription XAdES reader and check (`hcpki_docsig::signature::xades`): a signed e-prescription uploaded for
//! verification (issue #27 item 5) or handed back by a signer reaches it from outside.
//!
//! It must never panic. A document that verifies gives back a prescription whose Base64 is in it, reached B-T
//! exactly when it carries time stamps, and has a time-stamp digest; a document is never accepted as its own
//! time-stamp token.
#![no_main]

use hcpki_docsig::signature::xades::{Level, signature_time_stamp_digest, verify, with_signature_time_stamp};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let digest = signature_time_stamp_digest(data);
    assert!(with_signature_time_stamp(data, data).is_err());
    if let Ok(verified) = verify(data) {
        assert!(digest.is_ok(), "verified but has no SignatureValue to stamp");
        assert_eq!(verified.level == Level::BaselineT, !verified.time_stamps.is_empty());
    }
});
