//! `hcpki_ca::csr::parse` on arbitrary bytes: PEM armour or DER PKCS#10, the
//! proof-of-possession check over the exact signed octets, and the key policy.
//! Every input must end as `Ok` or a `CsrError`, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(request) = hcpki_ca::csr::parse(data) else {
        return;
    };
    // What the pipeline does next with an accepted request.
    let _ = request.spki_sha256();
    let _ = request.key_type().to_string();
});
