//! The pre-signing lints on arbitrary TBSCertificate octets: x509-cert's
//! TbsCertificate decoding, then every rule in `hcpki_ca::lint::RULES`
//! (extension decoding, SAN and policy checks with hcpki's own ASN.1 types,
//! the key policy on the subject key). Any input must end as findings or a
//! `LintFailure`, never a panic.
//!
//! The issuer key is fixed: `fixtures/issuer-spki.der`, the key that signed
//! the seed certificates (fuzz/seeds/make-seeds), so the seeds' authority key
//! identifiers match and the fuzzer starts from TBSs that pass most rules.
#![no_main]

use der::Decode;
use hcpki_ca::FacilityId;
use hcpki_ca::lint::lint;
use hcpki_ca::profile::{CertClass, ProfileKind};
use libfuzzer_sys::fuzz_target;
use spki::SubjectPublicKeyInfoOwned;
use std::sync::LazyLock;

const ISSUER_SPKI_DER: &[u8] = include_bytes!("../fixtures/issuer-spki.der");

/// The facility and router name the seeds were made for (HF00000017K).
const FACILITY_NUMBER: u64 = 17;
const FACILITY_DNS: &str = "hf00000017k.router.hcpki.example";

/// 2049-12-31T23:59:59Z, a notAfter for the issuing CA.
const ISSUER_NOT_AFTER: i64 = 2_524_607_999;

struct Fixed {
    issuer: SubjectPublicKeyInfoOwned,
    facility: FacilityId,
}

static FIXED: LazyLock<Fixed> = LazyLock::new(|| Fixed {
    issuer: SubjectPublicKeyInfoOwned::from_der(ISSUER_SPKI_DER).expect("fixtures/issuer-spki.der is a DER SPKI"),
    facility: FacilityId::from_number(FACILITY_NUMBER).expect("facility number 17 is in range"),
});

/// Every class, so the class-specific rules (CA, PC, OCSP) run too.
const CLASSES: [CertClass; 6] = [
    CertClass::Root,
    CertClass::Issuing,
    CertClass::EndEntity(ProfileKind::Router),
    CertClass::EndEntity(ProfileKind::Pc),
    CertClass::EndEntity(ProfileKind::Server),
    CertClass::EndEntity(ProfileKind::Ocsp),
];

fuzz_target!(|data: &[u8]| {
    let fixed = &*FIXED;
    // The router case with no facility context, as `hcpki lint` runs it on a bare TBS.
    let first = lint(data, CertClass::EndEntity(ProfileKind::Router), &fixed.issuer, None, None, None);
    if matches!(&first, Err(f) if f.0.iter().any(|finding| finding.id == "e_der_tbs_decodes")) {
        return;
    }
    // The TBS decodes: run every class with the facility-specific rules switched on.
    for class in CLASSES {
        let _ = lint(data, class, &fixed.issuer, Some(ISSUER_NOT_AFTER), Some(&fixed.facility), Some(FACILITY_DNS));
    }
});
