//! The HSM tests run SoftHSM2 in a child process: SoftHSM reads `SOFTHSM2_CONF` when the module
//! initialises, which happens once per process, and setting the variable in this process would
//! need `unsafe` (`std::env::set_var`). `softhsm2_suite` makes a token directory with one token
//! per test, then runs this test binary again with the `hsm_` tests (ignored otherwise) and
//! `SOFTHSM2_CONF` set, in parallel threads that share the one loaded module.

use super::*;
use crate::keys::verify::verify_signature;
use std::process::Command;

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const PIN: &str = "1234";
/// Set in the child: the directory holding `pin`, `wrong-pin` and the SoftHSM config.
const DIR_ENV: &str = "HCPKI_TEST_SOFTHSM_DIR";
/// One token per `hsm_` test, so one test's login never covers another's.
const TOKENS: [&str; 8] = ["keys", "pss", "threads", "wrong-pin", "objects", "relogin", "unknown-token", "reinit"];
/// How many `hsm_` tests the child must report as passed.
const HSM_TESTS: usize = 8;

#[test]
fn softhsm2_suite() {
    assert!(
        Path::new(MODULE).exists(),
        "SoftHSM2 module {MODULE} is missing: run scripts/deps (installs softhsm2 and opensc)"
    );
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("softhsm2.conf");
    let tokens = dir.path().join("tokens");
    std::fs::create_dir(&tokens).unwrap();
    std::fs::write(
        &conf,
        format!("directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n", tokens.display()),
    )
    .unwrap();
    std::fs::write(dir.path().join("pin"), format!("{PIN}\n")).unwrap();
    std::fs::write(dir.path().join("wrong-pin"), "4321\n").unwrap();
    for label in TOKENS {
        let out = Command::new("softhsm2-util")
            .args(["--init-token", "--free", "--label", label, "--so-pin", "12345678", "--pin", PIN])
            .env("SOFTHSM2_CONF", &conf)
            .output()
            .unwrap_or_else(|e| panic!("softhsm2-util: {e}; run scripts/deps"));
        assert!(out.status.success(), "softhsm2-util --init-token {label}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let filter = format!("{}::hsm_", module_path!().split_once("::").unwrap().1);
    let out = Command::new(std::env::current_exe().unwrap())
        .args([filter.as_str(), "--ignored", "--nocapture"])
        .env("SOFTHSM2_CONF", &conf)
        .env(DIR_ENV, dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = format!("stdout:\n{stdout}\nstderr:\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "SoftHSM2 tests failed\n{report}");
    assert!(
        stdout.contains(&format!("test result: ok. {HSM_TESTS} passed")),
        "expected {HSM_TESTS} passing tests\n{report}"
    );
}

/// Config for the child's token directory, with the right or the wrong PIN.
fn cfg(pin_file: &str) -> Pkcs11Config {
    let dir = std::env::var_os(DIR_ENV).expect("hsm_ tests run inside softhsm2_suite, which sets SOFTHSM2_CONF");
    Pkcs11Config { module: MODULE.into(), pin_file: PathBuf::from(dir).join(pin_file) }
}

fn sign_and_verify(key: &Pkcs11Key, message: &[u8]) {
    let sig = key.sign(message).unwrap();
    let alg = key.algorithm().signature_algorithm();
    verify_signature(key.public_key(), &alg, message, &sig).unwrap();
    assert!(verify_signature(key.public_key(), &alg, b"another message", &sig).is_err());
}

/// Run OpenSC's pkcs11-tool on the SoftHSM2 module and return its standard output.
fn pkcs11_tool(args: &[&str]) -> String {
    let out = Command::new("pkcs11-tool")
        .args(["--module", MODULE])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("pkcs11-tool: {e}; run scripts/deps (installs opensc)"));
    assert!(out.status.success(), "pkcs11-tool {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The public key as pkcs11-tool reads it from the token (SPKI DER).
fn pkcs11_tool_public_key(token: &str, object: &str) -> Vec<u8> {
    let out = tempfile::NamedTempFile::new().unwrap();
    let path = out.path().to_str().unwrap();
    pkcs11_tool(&[
        "--token-label",
        token,
        "--read-object",
        "--type",
        "pubkey",
        "--label",
        object,
        "--output-file",
        path,
    ]);
    std::fs::read(out.path()).unwrap()
}

/// PS256 token signing: RSASSA-PSS (SHA-256, MGF1-SHA-256, 32-byte salt) by the token verifies with
/// aws-lc-rs; an EC key refuses.
#[test]
#[ignore = "run by softhsm2_suite with SOFTHSM2_CONF set"]
fn hsm_rsa_pss_signatures_verify() {
    use aws_lc_rs::signature::{RSA_PSS_2048_8192_SHA256, UnparsedPublicKey};
    let cfg = cfg("pin");
    let key = Pkcs11Key::generate(&cfg, "pss", "pss", KeyAlgorithm::Rsa2048).unwrap();
    let sig = key.sign_pss_sha256(b"header.payload").unwrap();
    let public = UnparsedPublicKey::new(&RSA_PSS_2048_8192_SHA256, key.public_key().subject_public_key.raw_bytes());
    public.verify(b"header.payload", &sig).unwrap();
    assert!(public.verify(b"other", &sig).is_err());
    let ec = Pkcs11Key::generate(&cfg, "pss", "pss-ec", KeyAlgorithm::P256).unwrap();
    assert!(matches!(ec.sign_pss_sha256(b"x"), Err(KeyError::UnsupportedKey(_))));
}

#[test]
#[ignore = "run by softhsm2_suite with SOFTHSM2_CONF set"]
fn hsm_generate_reopen_sign_verify_each_algorithm() {
    let cfg = cfg("pin");
    for alg in [KeyAlgorithm::P256, KeyAlgorithm::P384, KeyAlgorithm::Rsa2048] {
        let label = format!("ca-{alg}");
        let generated = Pkcs11Key::generate(&cfg, "keys", &label, alg).unwrap();
        assert_eq!(generated.algorithm(), alg);
        sign_and_verify(&generated, b"tbsCertificate");
        drop(generated);

        let key = Pkcs11Key::open(&cfg, "keys", &label).unwrap();
        assert_eq!(key.algorithm(), alg);
        // OpenSC sees the objects, and reads the same public key from the token.
        let listing = pkcs11_tool(&["--token-label", "keys", "--list-objects"]);
        assert!(listing.contains(&format!("label:      {label}\n")), "{label} not listed:\n{listing}");
        if alg == KeyAlgorithm::P384 {
            // OpenSC 0.23's pkcs11-tool cannot export P-384 public keys ("cannot create EVP_PKEY"), even
            // ones it generated itself; compare the listed CKA_EC_POINT (the wrapped point) instead.
            let point = key.public_key().subject_public_key.raw_bytes();
            let wrapped = hex::encode(OctetString::new(point.to_vec()).unwrap().to_der().unwrap());
            assert!(listing.contains(&format!("EC_POINT:   {wrapped}\n")), "{label}: point not listed:\n{listing}");
        } else {
            assert_eq!(key.public_key().to_der().unwrap(), pkcs11_tool_public_key("keys", &label));
        }
        for i in 0..5u8 {
            sign_and_verify(&key, &[i; 100]);
        }

        // The private half is a sensitive, unextractable signing-only token object; both halves share the ID.
        let pool = key.lock_pool();
        let attrs = pool
            .anchor
            .get_attributes(
                pool.key,
                &[
                    AttributeType::Token,
                    AttributeType::Private,
                    AttributeType::Sensitive,
                    AttributeType::Extractable,
                    AttributeType::Sign,
                    AttributeType::Decrypt,
                    AttributeType::Id,
                ],
            )
            .unwrap();
        let expected = [
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
            Attribute::Decrypt(false),
            Attribute::Id(key.id.clone()),
        ];
        for attr in expected {
            assert!(attrs.contains(&attr), "{alg}: missing {attr:?} in {attrs:?}");
        }
        assert_eq!(key.id.len(), 16);
        let public = find_public_key(&pool.anchor, "keys", &label, &key.id).unwrap();
        assert!(public.is_some(), "{alg}: no public key with the private key's CKA_ID");
        drop(pool);

        let again = Pkcs11Key::generate(&cfg, "keys", &label, alg).unwrap_err();
        assert!(matches!(&again, KeyError::Pkcs11ObjectExists { object, .. } if *object == label), "{again}");
    }
}

#[test]
#[ignore = "run by softhsm2_suite with SOFTHSM2_CONF set"]
fn hsm_keys_on_one_token_sign_from_many_threads() {
    let cfg = cfg("pin");
    drop(Pkcs11Key::generate(&cfg, "threads", "ec", KeyAlgorithm::P256).unwrap());
    drop(Pkcs11Key::generate(&cfg, "threads", "rsa", KeyAlgorithm::Rsa2048).unwrap());
    // Three keys on one token, as the CA opens its keys: two handles on one pair, one on another.
    let keys = [
        Pkcs11Key::open(&cfg, "threads", "ec").unwrap(),
        Pkcs11Key::open(&cfg, "threads", "rsa").unwrap(),
        Pkcs11Key::open(&cfg, "threads", "ec").unwrap(),
    ];
    assert_eq!(keys[0].public_key(), keys[2].public_key());
    std::thread::scope(|s| {
        for t in 0..4u8 {
            let keys = &keys;
            s.spawn(move || {
                for i in 0..15u8 {
                    let key = &keys[usize::from(i) % keys.len()];
                    sign_and_verify(key, &[t, i]);
                }
            });
        }
    });
    // Closing one key's sessions leaves the others logged in.
    let [ec, rsa, ec_again] = keys;
    drop(ec);
    sign_and_verify(&rsa, b"after drop");
    sign_and_verify(&ec_again, b"after drop");
    assert!(rsa.lock_pool().idle.len() <= MAX_IDLE_SESSIONS);
}

#[test]
#[ignore = "run by softhsm2_suite with SOFTHSM2_CONF set"]
fn hsm_wrong_pin_is_a_clear_error() {
    let wrong = cfg("wrong-pin");
    let err = Pkcs11Key::generate(&wrong, "wrong-pin", "k", KeyAlgorithm::P256).unwrap_err();
    assert!(matches!(&err, KeyError::Pkcs11Pin { token, .. } if token == "wrong-pin"), "{err}");
    let err = Pkcs11Key::open(&wrong, "wrong-pin", "k").unwrap_err();
    assert!(matches!(&err, KeyError::Pkcs11Pin { .. }), "{err}");
    assert!(err.to_string().contains("wrong-pin"), "{err}");
}

#[test]
#[ignore = "run by softhsm2_suite with SOFTHSM2_CONF set"]
fn hsm_unknown_token_lists_the_tokens_present() {
    let err = Pkcs11Key::open(&cfg("pin"), "no-such-token", "k").unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, KeyError::Pkcs11NotFound(_)), "{msg}");
    for label in TOKENS {
        assert!(msg.contains(&format!("{label:?}")), "{label} missing from: {msg}");
    }
}

#[test]
#[ignore = "run by softhsm2_suite with SOFTHSM2_CONF set"]
fn hsm_unknown_object_lists_the_keys_present() {
    let cfg = cfg("pin");
    let err = Pkcs11Key::open(&cfg, "objects", "absent").unwrap_err();
    assert!(err.to_string().contains("holds no private keys"), "{err}");
    drop(Pkcs11Key::generate(&cfg, "objects", "present", KeyAlgorithm::P256).unwrap());
    let err = Pkcs11Key::open(&cfg, "objects", "absent").unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, KeyError::Pkcs11NotFound(_)), "{msg}");
    assert!(msg.contains("\"absent\"") && msg.contains("\"present\""), "{msg}");
}

#[test]
#[ignore = "run by softhsm2_suite with SOFTHSM2_CONF set"]
fn hsm_logs_in_again_when_the_token_forgets_the_login() {
    let key = Pkcs11Key::generate(&cfg("pin"), "relogin", "k", KeyAlgorithm::P384).unwrap();
    sign_and_verify(&key, b"before");
    // Logging out any session logs the whole token out, as an HSM restart would.
    key.lock_pool().anchor.logout().unwrap();
    sign_and_verify(&key, b"after");
    // At least once: another test may initialise the module again meanwhile, which reconnects every key.
    assert!(key.lock_pool().generation >= 1);
}

#[test]
#[ignore = "run by softhsm2_suite with SOFTHSM2_CONF set"]
fn hsm_signs_on_after_the_module_is_initialised_again() {
    // What an HSM that went away and came back needs (D154). The other `hsm_` tests run beside this one in
    // the same process on the same module: their keys must follow the new epoch too, or they fail.
    let key = Pkcs11Key::generate(&cfg("pin"), "reinit", "k", KeyAlgorithm::P256).unwrap();
    let other = Pkcs11Key::generate(&cfg("pin"), "reinit", "k2", KeyAlgorithm::Rsa2048).unwrap();
    sign_and_verify(&key, b"before");
    sign_and_verify(&other, b"before");
    let epoch = key.module.epoch();
    assert!(key.module.reinitialise(epoch), "the first re-initialisation is done");
    assert!(key.module.epoch() > epoch);
    assert!(key.module.reinitialise(epoch), "a key that saw the old epoch learns that it moved on");
    sign_and_verify(&key, b"after");
    sign_and_verify(&other, b"after");
    assert_eq!(key.lock_pool().epoch, key.module.epoch(), "the key connected again at the new epoch");
    let moved = key.module.epoch();
    assert!(!key.module.reinitialise(moved), "not twice within {REINIT_INTERVAL:?}");
}

#[test]
fn ecdsa_der_strips_leading_zeros_and_pads_the_high_bit() {
    let raw = [0x00, 0x00, 0x80, 0x01, 0x7f, 0xff, 0xff, 0xff];
    let der = ecdsa_der(&raw, 4).unwrap();
    assert_eq!(der, [0x30, 0x0b, 0x02, 0x03, 0x00, 0x80, 0x01, 0x02, 0x04, 0x7f, 0xff, 0xff, 0xff]);
    assert!(ecdsa_der(&raw, 3).is_err());
    assert!(ecdsa_der(&raw, 5).is_err());
}

#[test]
fn ec_point_is_unwrapped_or_taken_bare() {
    let point: Vec<u8> = std::iter::once(0x04).chain(std::iter::repeat_n(0x3f, 64)).collect();
    let wrapped = OctetString::new(point.clone()).unwrap().to_der().unwrap();
    assert_eq!(sec1_point(&wrapped, 32), Some(point.clone()));
    assert_eq!(sec1_point(&point, 32), Some(point.clone()));
    assert_eq!(sec1_point(&point, 48), None);
    let compressed = [&[0x02u8][..], &[0x11; 32]].concat();
    assert_eq!(sec1_point(&compressed, 32), None);
}

#[test]
fn rsa_public_key_der_and_bit_length() {
    let der = RsaPublicKey {
        modulus: UintRef::new(&[0x00, 0xc1, 0x02]).unwrap(),
        public_exponent: UintRef::new(&[1, 0, 1]).unwrap(),
    }
    .to_der()
    .unwrap();
    assert_eq!(der, [0x30, 0x0a, 0x02, 0x03, 0x00, 0xc1, 0x02, 0x02, 0x03, 0x01, 0x00, 0x01]);
    assert_eq!(bit_len(&[0x80, 0]), 16);
    assert_eq!(bit_len(&[0x01, 0]), 9);
    assert_eq!(bit_len(&[]), 0);
}
