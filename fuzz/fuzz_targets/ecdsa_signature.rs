//! The ECDSA P-384 signature reader (`hcpki_pkix::card_signature`, D153): a DER `ECDSA-Sig-Value` as the portal
//! is posted one, and a card's raw `r ‖ s` answer as the agent's JPKI driver converts it.
//! Must hold: no panic; whatever is accepted re-encodes to exactly the input (DER is canonical) and its raw form
//! reads back to the same value; r and s of an accepted value are never zero.
#![no_main]

use hcpki_pkix::card_signature::EcdsaSignature;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(sig) = EcdsaSignature::from_der(data) {
        assert_eq!(sig.to_der(), data, "an accepted DER value is not canonical");
        let raw = sig.to_raw();
        assert_eq!(raw.len(), 96);
        assert_eq!(EcdsaSignature::from_raw(&raw).as_ref(), Ok(&sig));
    }
    if let Ok(sig) = EcdsaSignature::from_raw(data) {
        assert_eq!(sig.to_raw(), data);
        assert_eq!(EcdsaSignature::from_der(&sig.to_der()).as_ref(), Ok(&sig));
    }
});
