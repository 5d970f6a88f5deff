//! The card-login CRL cache's parser, `CrlCache::install`: the CRLs the server fetches over plain HTTP (or reads
//! from files) from the operator's `[login] crl_urls` are decoded, DER or PEM, before their signature is known
//! to be good.
//!
//! The first input byte says what the rest is. Even: a whole CRL, installed as fetched; a fuzzed CRL almost never
//! keeps a good signature, so this reaches decoding, the issuer lookup and the signature check. Odd: a
//! TBSCertList, which the target signs with the fixture CA's key first (`fuzz/fixtures/crl-issuer.key.der`, a
//! throwaway P-256 key), so what follows a good signature — the times, the CRL and entry extensions, the issuing
//! distribution point, the reasons — sees fuzzed input too. The cache trusts the fixture CA
//! (`fuzz/fixtures/crl-issuer.der`); `seeds/make-server-seeds` makes both and the seeds together.
//!
//! Must hold: no panic; an installed CRL has nextUpdate after thisUpdate and thisUpdate at most the clock skew
//! ahead, and the cache's summary then reports exactly what `install` returned; a certificate's status is
//! answered from what was installed.
#![no_main]

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};
use der::{Decode, Encode};
use hcpki::fuzzing::{CrlCache, ParsedCert, Revocation, TrustAnchors};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// The CA the cache trusts, and its key (PKCS#8).
const ISSUER: &[u8] = include_bytes!("../fixtures/crl-issuer.der");
const ISSUER_KEY: &[u8] = include_bytes!("../fixtures/crl-issuer.key.der");
/// "Now" for every input: a day into the seeds' validity (thisUpdate 2026-01-01, nextUpdate 2026-02-01), fixed
/// so that a run is reproducible.
const NOW: i64 = 1_767_312_000;
/// The clock skew the cache allows a thisUpdate (crl_cache.rs, `CLOCK_SKEW_SECS`).
const CLOCK_SKEW_SECS: i64 = 300;

struct Fixture {
    trust: TrustAnchors,
    issuer: ParsedCert,
    key: EcdsaKeyPair,
    rng: SystemRandom,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| Fixture {
        trust: TrustAnchors::new(&[ISSUER.to_vec()], &[], &[]).expect("the fixture CA is a CA certificate"),
        issuer: ParsedCert::from_der(ISSUER).expect("the fixture CA decodes"),
        key: EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, ISSUER_KEY).expect("the fixture key is P-256"),
        rng: SystemRandom::new(),
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

/// `tbs` (one DER TLV) signed by the fixture CA with ecdsa-with-SHA256.
fn signed(tbs: &[u8]) -> Option<Vec<u8>> {
    let f = fixture();
    let tbs_any = der::asn1::AnyRef::from_der(tbs).ok()?;
    let signature = f.key.sign(&f.rng, tbs).ok()?;
    CertificateList {
        tbs: tbs_any,
        algorithm: spki::AlgorithmIdentifierRef { oid: der::oid::db::rfc5912::ECDSA_WITH_SHA_256, parameters: None },
        signature: der::asn1::BitStringRef::from_bytes(signature.as_ref()).ok()?,
    }
    .to_der()
    .ok()
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let Some((&mode, rest)) = data.split_first() else { return };
    let crl = if mode % 2 == 0 {
        rest.to_vec()
    } else {
        let Some(crl) = signed(rest) else { return };
        crl
    };
    let cache = CrlCache::new(Vec::new(), &f.trust);
    let Ok(info) = cache.install("fuzz:crl", &crl, NOW) else { return };
    assert!(info.next_update > info.this_update, "installed with nextUpdate not after thisUpdate: {info:?}");
    assert!(info.this_update <= NOW + CLOCK_SKEW_SECS, "installed a CRL from the future: {info:?}");
    let summary = cache.summary();
    assert_eq!(summary.len(), 1, "{summary:?}");
    let held = &summary[0];
    assert_eq!(
        (held.url.as_str(), held.this_update, held.next_update, held.entries),
        (info.url.as_str(), info.this_update, info.next_update, info.entries),
        "the cache holds something else than install reported"
    );
    // The issuer's own certificate, asked about under itself: the lookup by issuer, scope and serial.
    match cache.status(&f.issuer, &f.issuer, NOW) {
        Revocation::Good { crl_this_update } => assert_eq!(crl_this_update, info.this_update),
        Revocation::Revoked { .. } | Revocation::Unknown(_) => {}
    }
    // A second, identical install replaces nothing and answers the same.
    let again = cache.install("fuzz:crl", &crl, NOW).expect("the same CRL installs twice");
    assert_eq!(again, info);
});
