//! The CAdES signature reader and check (`hcpki_docsig::signature::cades`): a `.p7s` uploaded for verification
//! (issue #27 item 5) or handed back by a signer reaches it from outside.
//!
//! The input is the `.p7s` (BER or DER, detached or attached); the detached document is fixed (the seeds sign it,
//! so the signature checks run, not only the decoder). It must never panic. A signature that decodes keeps its
//! signed attributes' octets exactly when written out again from its parts (what is signed is never
//! re-encoded), reads back from that writing, and writing it again changes nothing; one that verifies reached
//! B-T exactly when it carries a time stamp; a time stamp is never added without the check of its imprint.
#![no_main]

use hcpki_docsig::signature::cades::{
    CadesSignature, Level, signature_time_stamp_digest, verify, with_signature_time_stamp,
};
use libfuzzer_sys::fuzz_target;

/// What the seeds sign (`fuzz/seeds/make-seeds`).
const DOCUMENT: &[u8] = b"a document to sign\n";

fuzz_target!(|data: &[u8]| {
    let decoded = CadesSignature::from_ber(data);
    assert_eq!(decoded.is_ok(), signature_time_stamp_digest(data).is_ok());
    if let Ok(signature) = &decoded {
        assert_eq!(signature.encoding(), data);
        let written = signature.written_again();
        let again = CadesSignature::from_ber(&written).expect("what was read, written from its parts, reads back");
        assert_eq!(again.signed_attributes_octets(), signature.signed_attributes_octets(), "signed octets changed");
        assert_eq!(again.signature_value(), signature.signature_value());
        assert_eq!(again.written_again(), written, "writing is not stable");
        // The signature itself is no time-stamp token over its own value.
        assert!(with_signature_time_stamp(data, data).is_err());
    }
    if let Ok(verified) = verify(data, DOCUMENT) {
        let stamps = decoded.as_ref().map(|s| s.signature_time_stamps().len()).unwrap_or(0);
        assert_eq!(verified.level == Level::BaselineT, stamps > 0);
        assert_eq!(verified.time_stamps.len(), stamps);
    }
});
