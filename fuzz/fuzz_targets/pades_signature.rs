//! The PAdES check (`hcpki_docsig::signature::pades::verify`, D78): a signed PDF uploaded for verification reaches
//! it from outside, with every /ByteRange, revision and CMS chosen by whoever sent it.
//!
//! It must never panic. A PDF that verifies has at least one signature, each at a level that matches what it
//! carries (a signature time stamp for B-T and up).
#![no_main]

use hcpki_docsig::signature::pades::{Level, verify};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(verified) = verify(data) else { return };
    assert!(!verified.signatures.is_empty());
    for signature in &verified.signatures {
        assert_eq!(signature.level >= Level::BaselineT, !signature.time_stamps.is_empty());
    }
});
