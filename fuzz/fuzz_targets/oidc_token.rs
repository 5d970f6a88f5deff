//! Our own tokens presented back to us: the bearer access token at `/userinfo`, `/introspect` and `/revoke`, and
//! `id_token_hint` at `/logout`, go to `Signer::verify_own` of each published signing key in turn (the provider's
//! `verify_own`) — compact JWS split and decoded, `alg` and `kid` matched to the key, the signature checked —
//! before any claim is read.
//!
//! The provider's three signers (ES256 on a P-256 key, RS256 and PS256 on an RSA key) are made once per run.
//! The first input byte says what the rest is. 0–3: a token as presented; it must verify with none of them
//! (this run never signed it). 4–7: a typ byte and a JSON claims set, which the target signs with one of the
//! signers; then exactly that signer verifies it, giving back the same typ and claims (as JSON text carries
//! them: a float may come back a bit off from serde_json's parser, which our tokens never meet), and the other
//! two refuse it; claims that are not a JSON object verify with none.
#![no_main]

use hcpki::fuzzing::{Signer, SigningAlg};
use hcpki_pkix::keys::{KeyAlgorithm, KeyContext, KeySource, SoftwareKey};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use std::sync::{Arc, OnceLock};

/// The `typ` values the provider signs with (ID and logout tokens, access tokens), and one it never does.
const TYPES: [&str; 4] = ["JWT", "at+jwt", "logout+jwt", "x"];

/// ES256, RS256, PS256.
fn signers() -> &'static [Signer; 3] {
    static SIGNERS: OnceLock<[Signer; 3]> = OnceLock::new();
    SIGNERS.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let passphrase = dir.path().join("passphrase");
        std::fs::write(&passphrase, "fuzz\n").expect("write the passphrase");
        let ctx = KeyContext { base_dir: dir.path().to_owned(), passphrase_file: Some(passphrase), pkcs11: None };
        let key = |name: &str, alg| -> Arc<dyn KeySource> {
            Arc::new(SoftwareKey::generate(&dir.path().join(name), alg, &ctx).expect("generate a key"))
        };
        let (ec, rsa) = (key("ec.p8", KeyAlgorithm::P256), key("rsa.p8", KeyAlgorithm::Rsa2048));
        [
            Signer::new(ec, SigningAlg::Es256).expect("ES256 signer"),
            Signer::new(rsa.clone(), SigningAlg::Rs256).expect("RS256 signer"),
            Signer::new(rsa, SigningAlg::Ps256).expect("PS256 signer"),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    let signers = signers();
    let Some((&mode, rest)) = data.split_first() else { return };
    if mode % 8 < 4 {
        let token = String::from_utf8_lossy(rest);
        for signer in signers {
            assert!(
                signer.verify_own(&token).is_err(),
                "{} verified a token it never signed: {token:?}",
                signer.alg.as_str()
            );
        }
        return;
    }
    let Some((&typ, claims)) = rest.split_first() else { return };
    let Ok(claims) = serde_json::from_slice::<Value>(claims) else { return };
    let typ = TYPES[usize::from(typ) % TYPES.len()];
    let which = usize::from(mode) % signers.len();
    let token = signers[which].sign(typ, &claims).expect("signing a JSON value succeeds");
    // The claims as JSON text carries them: serde_json's default float parsing is not exact to the last bit (a
    // campaign found 2.2222222222222222e64 coming back …25e64), and our tokens carry no floats.
    let carried: Value = serde_json::from_slice(&serde_json::to_vec(&claims).expect("a Value encodes"))
        .expect("what serde_json wrote it reads");
    for (i, signer) in signers.iter().enumerate() {
        match signer.verify_own(&token) {
            Ok((got_typ, got_claims)) => {
                assert_eq!(i, which, "{} verified a token of {}", signer.alg.as_str(), signers[which].alg.as_str());
                assert_eq!((got_typ.as_deref(), &got_claims), (Some(typ), &carried), "the token does not round-trip");
            }
            Err(e) => assert!(
                i != which || !claims.is_object(),
                "{} refused its own token ({e}) with claims {claims}",
                signer.alg.as_str()
            ),
        }
    }
});
