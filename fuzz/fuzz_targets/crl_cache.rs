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

#[path = "shared/crl_issuer.rs"]
mod crl_issuer;

use crl_issuer::{ISSUER, NOW, signed};
use hcpki::fuzzing::{CrlCache, ParsedCert, Revocation, TrustAnchors};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// The clock skew the cache allows a thisUpdate (crl_cache.rs, `CLOCK_SKEW_SECS`).
const CLOCK_SKEW_SECS: i64 = 300;

struct Fixture {
    trust: TrustAnchors,
    issuer: ParsedCert,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| Fixture {
        trust: TrustAnchors::new(&[ISSUER.to_vec()], &[], &[]).expect("the fixture CA is a CA certificate"),
        issuer: ParsedCert::from_der(ISSUER).expect("the fixture CA decodes"),
    })
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
