//! The fixture CRL issuer the CRL targets share (`crl_cache`, `arl_check`): its certificate
//! (`fuzz/fixtures/crl-issuer.der`, a P-256 CA), its throwaway key (`crl-issuer.key.der`, it signs nothing but
//! fuzz inputs) and a TBSCertList signed with it, so that what follows a good signature sees fuzzed input too.
//! `seeds/make-server-seeds` makes both and the seeds together.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};
use der::{Decode, Encode};
use std::sync::OnceLock;

/// The issuer's certificate (DER).
pub const ISSUER: &[u8] = include_bytes!("../../fixtures/crl-issuer.der");
const ISSUER_KEY: &[u8] = include_bytes!("../../fixtures/crl-issuer.key.der");
/// "Now" for every input: a day into the seeds' validity (thisUpdate 2026-01-01, nextUpdate 2026-02-01), fixed
/// so that a run is reproducible.
pub const NOW: i64 = 1_767_312_000;

fn key() -> &'static (EcdsaKeyPair, SystemRandom) {
    static KEY: OnceLock<(EcdsaKeyPair, SystemRandom)> = OnceLock::new();
    KEY.get_or_init(|| {
        let key =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, ISSUER_KEY).expect("the fixture key is P-256");
        (key, SystemRandom::new())
    })
}

/// `CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue }` (RFC 5280 §5.1) around
/// exactly the TBS octets given.
#[derive(der::Sequence)]
struct CertificateList<'a> {
    tbs: der::asn1::AnyRef<'a>,
    algorithm: spki::AlgorithmIdentifierRef<'a>,
    signature: der::asn1::BitStringRef<'a>,
}

/// `tbs` (one DER TLV) signed by the fixture issuer with ecdsa-with-SHA256; `None` when it is not one TLV.
pub fn signed(tbs: &[u8]) -> Option<Vec<u8>> {
    let (key, rng) = key();
    let tbs_any = der::asn1::AnyRef::from_der(tbs).ok()?;
    let signature = key.sign(rng, tbs).ok()?;
    CertificateList {
        tbs: tbs_any,
        algorithm: spki::AlgorithmIdentifierRef { oid: der::oid::db::rfc5912::ECDSA_WITH_SHA_256, parameters: None },
        signature: der::asn1::BitStringRef::from_bytes(signature.as_ref()).ok()?,
    }
    .to_der()
    .ok()
}
