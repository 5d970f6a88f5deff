//! The OCSP responder's request parser (`hcpki_ca::revocation::ocsp::request::parse`): whatever a client
//! POSTs to /ocsp/<ca>, or puts base64-encoded in a GET path, reaches it unauthenticated.
//!
//! It must never panic. What it accepts must respect the limits it promises the signer: one to
//! `MAX_CERTIFICATES` certificates, and a nonce that is an OCTET STRING of 1 to `MAX_NONCE` octets.
#![no_main]

use der::Decode;
use der::asn1::OctetString;
use hcpki_ca::revocation::ocsp::request::{MAX_CERTIFICATES, MAX_NONCE, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(query) = parse(data) else { return };
    assert!((1..=MAX_CERTIFICATES).contains(&query.cert_ids.len()), "{} certificates accepted", query.cert_ids.len());
    if let Some(nonce) = &query.nonce {
        let value = OctetString::from_der(nonce.extn_value.as_bytes());
        assert!(value.is_ok_and(|v| (1..=MAX_NONCE).contains(&v.as_bytes().len())), "accepted nonce {nonce:?}");
    }
});
