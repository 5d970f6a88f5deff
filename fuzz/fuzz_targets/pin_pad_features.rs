//! The card agent's reading of a reader driver's PC/SC Part 10 feature list (`hcpki_agent::pin_pad::Features`,
//! the answer to `CM_IOCTL_GET_FEATURE_REQUEST`) and of the reader's answer to a PIN-pad VERIFY (`PadOutcome`).
//! Must hold: no panic; a list that parses lists only features whose TLVs are inside the input (each 6 bytes, so
//! a parsed list is a multiple of 6 bytes long); an answer of two bytes always has an outcome, any other none.
#![no_main]

use hcpki_agent::pin_pad::{FEATURE_VERIFY_PIN_DIRECT, Features, PadOutcome};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(features) = Features::parse(data) {
        assert_eq!(data.len() % 6, 0, "a parsed list of 4-byte codes is a whole number of 6-byte TLVs");
        let direct = data.chunks(6).find(|tlv| tlv[0] == FEATURE_VERIFY_PIN_DIRECT);
        let expected = direct.map(|tlv| u32::from_be_bytes([tlv[2], tlv[3], tlv[4], tlv[5]]));
        assert_eq!(features.verify_pin_direct(), expected);
    }
    assert_eq!(PadOutcome::of(data).is_some(), data.len() == 2);
});
