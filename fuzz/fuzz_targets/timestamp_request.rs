//! The time-stamping authority's request parser (`hcpki_docsig::timestamp::parse_request`): whatever a client
//! POSTs to /tsa reaches it unauthenticated.
//!
//! It must never panic. What it accepts is what the token is built from: a SHA-2 imprint exactly as long as
//! its algorithm's digests, and nothing the TSA would have to refuse later.
#![no_main]

use hcpki_docsig::timestamp::{Refusal, parse_request};
use libfuzzer_sys::fuzz_target;

const POLICY: der::asn1::ObjectIdentifier = der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.3161.1");

fuzz_target!(|data: &[u8]| {
    match parse_request(data, &POLICY) {
        Ok(request) => {
            let len = request.imprint.hashed_message.as_bytes().len();
            assert_eq!(len, request.hash.digest_len(), "accepted a {len}-octet {} imprint", request.hash.name());
            assert_eq!(request.imprint.hash_algorithm.oid, request.hash.oid());
        }
        // Every refusal has a failInfo bit and words for the client.
        Err(refusal) => {
            let _ = refusal.fail_info().bit();
            assert!(!refusal.to_string().is_empty());
            if let Refusal::UnacceptedPolicy { asked, .. } = &refusal {
                assert_ne!(asked, &POLICY.to_string());
            }
        }
    }
});
