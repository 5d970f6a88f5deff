//! hcpki's own DER types (`hcpki_pkix::asn1`): RawOid (arcs of any size),
//! GeneralNames with large-arc otherNames, CertificatePolicies, the
//! SIGNED wrapper that keeps the exact to-be-signed octets, and the RFC 6960
//! OCSP request and response (an OCSP responder decodes whatever arrives).
//!
//! Decoding arbitrary bytes must never panic. A value that decodes must
//! re-encode and decode to the same value: a failed round trip is a real bug
//! (what the CA writes would not read back as what it meant), so those
//! assertions are allowed to fire.
#![no_main]

use der::{Decode, Encode};
use hcpki_pkix::asn1::ocsp::{BasicOcspResponse, OcspRequest, OcspResponse};
use hcpki_pkix::asn1::{CertificatePolicies, GeneralNames, RawOid, SignedRaw};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(oid) = round_trip::<RawOid>(data) {
        // The dotted form (config files, logs) must parse back to the same OID.
        let dotted = oid.to_dotted();
        assert_eq!(RawOid::from_dotted(&dotted).as_ref(), Ok(&oid), "dotted {dotted:?} does not round-trip");
    }
    round_trip::<GeneralNames>(data);
    round_trip::<CertificatePolicies>(data);
    round_trip::<OcspRequest>(data);
    round_trip::<OcspResponse>(data);
    round_trip::<BasicOcspResponse>(data);
    if let Some(signed) = round_trip::<SignedRaw>(data) {
        // The accessor csr::parse relies on.
        let _ = signed.tbs_der();
    }
});

/// Decode `T`; if that works, encode it and decode the encoding again.
fn round_trip<T>(data: &[u8]) -> Option<T>
where
    T: for<'a> Decode<'a> + Encode + PartialEq + std::fmt::Debug,
{
    let value = T::from_der(data).ok()?;
    let encoded = match value.to_der() {
        Ok(encoded) => encoded,
        Err(e) => panic!("{} decoded but does not re-encode: {e}; value {value:?}", std::any::type_name::<T>()),
    };
    match T::from_der(&encoded) {
        Ok(again) => assert_eq!(again, value, "{} changed on re-encoding", std::any::type_name::<T>()),
        Err(e) => panic!("{} re-encoding does not decode: {e}; value {value:?}", std::any::type_name::<T>()),
    }
    Some(value)
}
