//! `hcpki_ca::revocation::arl::check`, what `hcpki ca import-arl` runs on the root's CRL (ARL) an operator
//! carried from the offline root's ceremony, DER or PEM, before anything is stored: decoding, the issuer and
//! the signature against the root certificate, the CRL extensions (cRLNumber, authorityKeyIdentifier,
//! issuingDistributionPoint, delta, unknown critical), the times.
//!
//! The fixture CRL issuer (`shared/crl_issuer.rs`) stands in for the root, and the first input byte says what the
//! rest is, as in `crl_cache` (whose seeds these are): even, a whole file as carried; odd, a TBSCertList the
//! target signs with the fixture's key, so the checks after the signature see fuzzed input too.
//!
//! Must hold: no panic; an accepted ARL is the DER given (or the PEM's content), with a non-negative CRL number,
//! nextUpdate after now and thisUpdate not after it, its SHA-256, and as many entries as it lists; checked again,
//! it gives the same answer.
#![no_main]

#[path = "shared/crl_issuer.rs"]
mod crl_issuer;

use crl_issuer::{ISSUER, NOW, signed};
use der::Decode;
use hcpki_ca::revocation::arl;
use hcpki_model::UnixTime;
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

fn root() -> &'static x509_cert::Certificate {
    static ROOT: OnceLock<x509_cert::Certificate> = OnceLock::new();
    ROOT.get_or_init(|| x509_cert::Certificate::from_der(ISSUER).expect("the fixture CA decodes"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let file = if mode % 2 == 0 {
        rest.to_vec()
    } else {
        let Some(crl) = signed(rest) else { return };
        crl
    };
    let Ok(checked) = arl::check(&file, root(), UnixTime::from_secs(NOW)) else { return };
    assert!(checked.number >= 0, "{checked:?}");
    assert!(checked.next_update > NOW && checked.this_update <= NOW, "{checked:?}");
    assert_eq!(checked.sha256, hex::encode(Sha256::digest(&checked.der)));
    if !file.trim_ascii_start().starts_with(b"-----BEGIN") {
        assert_eq!(checked.der, file, "accepted DER is stored as given");
    }
    let list: x509_cert::crl::CertificateList =
        x509_cert::crl::CertificateList::from_der(&checked.der).expect("an accepted ARL decodes");
    assert_eq!(checked.entries, list.tbs_cert_list.revoked_certificates.map_or(0, |r| r.len()));
    assert_eq!(arl::check(&checked.der, root(), UnixTime::from_secs(NOW)).as_ref(), Ok(&checked), "a second check answers the same");
});
