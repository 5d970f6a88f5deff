//! `hcpki_ca::enroll::acme::jws` on arbitrary bytes: the flattened JSON JWS, its protected header, the JWK
//! (EC and RSA, the RFC 7638 thumbprint, the SubjectPublicKeyInfo it becomes), signature verification
//! (ES256/ES384/RS256 through `keys::verify`, HS256/384/512 for EAB) and the inner JWS of EAB and
//! key-change. Every input must end as `Ok` or a problem document, never a panic.
#![no_main]

use hcpki_ca::enroll::acme::jws::{self, Signer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(parsed) = jws::parse(data) else {
        return;
    };
    if let Signer::Key(key) = &parsed.signer {
        let _ = key.thumbprint();
        let _ = key.spki_sha256();
        let _ = parsed.verify(key);
        // The canonical form parses back to the same key.
        let again: serde_json::Value = serde_json::from_str(&key.canonical_json()).expect("canonical JWK is JSON");
        assert_eq!(jws::Jwk::from_value(&again).as_ref(), Ok(key));
    }
    let _ = parsed.verify_mac(b"fuzz");
    // The payload as the inner JWS of EAB / key-change.
    if let Ok(inner) = serde_json::from_slice::<serde_json::Value>(&parsed.payload) {
        if let Ok(inner) = jws::parse_value(&inner) {
            let _ = inner.verify_mac(&[0u8; 32]);
        }
    }
});
