//! CAdES detached signatures (issue #27 item 1): a file signed with the test HPKI card's **signature** key through
//! `hcpki_docsig::signature::cades` (prepare → the card's PKCS#1 v1.5 over the signed attributes → assemble), then
//! time-stamped by the in-process RFC 3161 authority under a `tsa`-profile certificate `hcpki issue` made, and
//! checked by the independent peers: `openssl cms -verify -cades` (B-B and B-T, the HPKI test root the only
//! trust anchor) and `openssl ts -verify` on the extracted signature time stamp against the signature value's
//! digest. Tampered content fails in OpenSSL and in our check. No database is used beyond the one `hcpki issue`
//! needs, so it runs once (SQLite), not per backend.

use crate::fixtures::run_ok;
use crate::harness::{Backend, Hcpki, describe};
use crate::oidc::pem_to_der;
use hcpki_docsig::signature::cades::{self, CadesError, CadesSignature, Level};
use hcpki_docsig::timestamp::{Accuracy, HashAlgorithm, TimeStampAuthority, TimeStampResp, TsaSettings};
use hcpki_pkix::keys::{KeyAlgorithm, SoftwareKey};
use hcpki_vcard::testpki::HpkiSubject;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use x509_cert::der::pem::LineEnding;
use x509_cert::der::{Decode, Encode};

const POLICY: &str = "1.3.6.1.4.1.99999.3161.1";

/// B-B and B-T made around the HPKI signature key; OpenSSL `cms -verify -cades` and our check accept both and
/// refuse a tampered file; `openssl ts -verify` accepts the signature time stamp against the signature value's
/// digest and refuses it against another digest.
#[test]
fn openssl_verifies_b_b_and_b_t_made_with_the_hpki_signature_key() {
    let h = Hcpki::initialized(Backend::Sqlite);
    let card = crate::test_pki::hpki().issue(&HpkiSubject::default()).unwrap();
    let document = h.path("referral-bundle.json");
    std::fs::write(&document, "{\"resourceType\":\"Bundle\",\"type\":\"document\",\"title\":\"診療情報提供書\"}\n")
        .unwrap();
    let data = std::fs::read(&document).unwrap();
    let now = hcpki_pkix::time::now_unix();

    let digest: [u8; 32] = HashAlgorithm::Sha256.digest(&data).try_into().unwrap();
    let tbs = cades::prepare(&digest, &[card.signature.cert.as_slice(), &card.signature_ca], now).unwrap();
    let value = card.signature.key.sign_sha256(tbs.bytes()).unwrap();
    let b_b = cades::assemble(tbs, &value).unwrap();
    let (tsa, tsa_untrusted) = tsa(&h);
    let imprint = cades::signature_time_stamp_digest(&b_b).unwrap();
    let b_t = cades::with_signature_time_stamp(&b_b, &stamp(&h, &tsa, &imprint, now)).unwrap();

    let ours = cades::verify(&b_b, &data).unwrap();
    assert_eq!((ours.level, ours.signer.to_der().unwrap()), (Level::BaselineB, card.signature.cert.clone()));
    let ours = cades::verify(&b_t, &data).unwrap();
    assert_eq!(ours.level, Level::BaselineT);
    assert_eq!(ours.time_stamps.first().map(|t| t.time), Some(now));

    let root = h.path("hpki-root.pem");
    write_pem(&root, "CERTIFICATE", &card.root);
    for (name, p7s) in [("b-b", &b_b), ("b-t", &b_t)] {
        let file = h.path(&format!("referral-{name}.p7s"));
        std::fs::write(&file, p7s).unwrap();
        let ok = cms_verify(&file, &document, &root);
        assert!(ok.status.success(), "{name}: openssl cms -verify -cades refused it\n{}", describe(&ok));
        assert!(String::from_utf8_lossy(&ok.stderr).contains("Verification successful"), "{name}\n{}", describe(&ok));
    }

    let tampered = h.path("referral-bundle-tampered.json");
    std::fs::write(&tampered, [&data[..], b" "].concat()).unwrap();
    let bad = cms_verify(&h.path("referral-b-t.p7s"), &tampered, &root);
    assert!(!bad.status.success(), "openssl accepted a tampered file\n{}", describe(&bad));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("content verify error"), "{}", describe(&bad));
    let err = cades::verify(&b_t, &std::fs::read(&tampered).unwrap()).unwrap_err();
    assert!(matches!(err, CadesError::ContentMismatch), "{err:?}");

    let tokens = CadesSignature::from_ber(&b_t).unwrap().signature_time_stamps();
    let token = h.path("signature-time-stamp.tst");
    std::fs::write(&token, tokens.first().unwrap()).unwrap();
    let hcpki_root = h.ca_cert_file("root");
    let ok = ts_verify(&token, &hex::encode(imprint), &hcpki_root, &tsa_untrusted);
    assert!(
        ok.status.success() && String::from_utf8_lossy(&ok.stdout).contains("Verification: OK"),
        "{}",
        describe(&ok)
    );
    let other = hex::encode(HashAlgorithm::Sha256.digest(b"another signature value"));
    let bad = ts_verify(&token, &other, &hcpki_root, &tsa_untrusted);
    assert!(!bad.status.success(), "openssl ts accepted a foreign digest\n{}", describe(&bad));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("message imprint mismatch"), "{}", describe(&bad));
}

/// An in-process TSA whose certificate `hcpki issue --profile tsa` made for a fresh P-256 key, and the file of
/// its certificate with the server CA (`-untrusted` for `openssl ts -verify`).
pub(crate) fn tsa(h: &Hcpki) -> (TimeStampAuthority, PathBuf) {
    let (key, pkcs8) = SoftwareKey::generate_device_key(KeyAlgorithm::P256).unwrap();
    let key_file = h.path("tsa-key.pem");
    write_pem(&key_file, "PRIVATE KEY", &pkcs8);
    let csr = h.path("tsa.csr");
    run_ok(
        Command::new("openssl")
            .args(["req", "-new", "-subj", "/CN=hcpki CAdES test TSA", "-key"])
            .arg(&key_file)
            .arg("-out")
            .arg(&csr),
    );
    let cert = h.path("tsa.pem");
    h.ok(&["issue", "--profile", "tsa", "--csr", path(&csr), "--out", path(&cert)]);
    let pem = std::fs::read_to_string(&cert).unwrap();
    let settings = TsaSettings {
        policy: POLICY.parse().unwrap(),
        accuracy: Accuracy { seconds: Some(1), millis: None, micros: None },
    };
    let tsa = TimeStampAuthority::new(&pem_to_der(&pem), Arc::new(key), settings).unwrap();
    let untrusted = h.path("tsa-untrusted.pem");
    std::fs::write(&untrusted, pem + &std::fs::read_to_string(h.ca_cert_file("server")).unwrap()).unwrap();
    (tsa, untrusted)
}

/// The DER of the token `tsa` grants at `now` over the SHA-256 `digest`, asked by `openssl ts -query -cert` (so
/// the token carries the TSA certificate).
pub(crate) fn stamp(h: &Hcpki, tsa: &TimeStampAuthority, digest: &[u8], now: i64) -> Vec<u8> {
    let query = h.path("signature-time-stamp.tsq");
    run_ok(
        Command::new("openssl")
            .args(["ts", "-query", "-sha256", "-cert", "-digest", &hex::encode(digest), "-out"])
            .arg(&query),
    );
    let answer = tsa.answer(&std::fs::read(&query).unwrap(), now);
    answer.outcome.unwrap();
    TimeStampResp::from_der(&answer.der).unwrap().time_stamp_token.unwrap().to_der().unwrap()
}

/// `openssl cms -verify -cades -binary -inform DER -content FILE -CAfile ROOT -purpose any`.
pub(crate) fn cms_verify(p7s: &Path, content: &Path, root: &Path) -> Output {
    Command::new("openssl")
        .args(["cms", "-verify", "-cades", "-binary", "-inform", "DER", "-purpose", "any", "-out", "/dev/null"])
        .args(["-in", path(p7s), "-content", path(content), "-CAfile", path(root)])
        .output()
        .unwrap()
}

/// `openssl ts -verify -digest HEX -in TOKEN -token_in -CAfile ROOT -untrusted UNTRUSTED`.
pub(crate) fn ts_verify(token: &Path, digest: &str, root: &Path, untrusted: &Path) -> Output {
    Command::new("openssl")
        .args(["ts", "-verify", "-digest", digest, "-token_in", "-in", path(token)])
        .args(["-CAfile", path(root), "-untrusted", path(untrusted)])
        .output()
        .unwrap()
}

/// `openssl cms -sign -binary -md sha256 -outform DER FLAGS` over `document` by `credential`'s key, carrying `ca`:
/// a signature the way OpenSSL makes it (`-stream` for BER with the document inside, `-cades` for the ESS
/// signingCertificateV2 attribute).
pub(crate) fn openssl_sign(
    credential: &hcpki_vcard::testpki::Credential,
    ca: &[u8],
    document: &[u8],
    flags: &[&str],
) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let [cert, key, chain, data, out] =
        ["cert.pem", "key.pem", "ca.pem", "data", "out.p7s"].map(|n| dir.path().join(n));
    write_pem(&cert, "CERTIFICATE", &credential.cert);
    write_pem(&key, "PRIVATE KEY", credential.key.pkcs8_der());
    write_pem(&chain, "CERTIFICATE", ca);
    std::fs::write(&data, document).unwrap();
    run_ok(
        Command::new("openssl")
            .args(["cms", "-sign", "-binary", "-md", "sha256", "-outform", "DER"])
            .args(flags)
            .args(["-signer", path(&cert), "-inkey", path(&key), "-certfile", path(&chain)])
            .args(["-in", path(&data), "-out", path(&out)]),
    );
    std::fs::read(&out).unwrap()
}

/// `signed` (an attached signature) without its document, every other octet as it was
/// (tests/peers/cms_detach.py): the detached form of what `openssl cms -sign -stream` writes only attached.
pub(crate) fn detached(signed: &[u8]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let (input, output) = (dir.path().join("in.p7s"), dir.path().join("out.p7s"));
    std::fs::write(&input, signed).unwrap();
    run_ok(
        Command::new("python3")
            .arg(crate::harness::repo_root().join("tests/peers/cms_detach.py"))
            .args([path(&input), path(&output)]),
    );
    std::fs::read(&output).unwrap()
}

pub(crate) fn write_pem(file: &Path, label: &str, der: &[u8]) {
    std::fs::write(file, x509_cert::der::pem::encode_string(label, LineEnding::LF, der).unwrap()).unwrap();
}

pub(crate) fn path(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}

/// An in-process TSA named `cn` under a self-signed certificate (critical extendedKeyUsage timeStamping) valid
/// since 2020, so it can stamp at any time a fixture needs, and that certificate (its own trust anchor): the
/// verifier's fixture sets.
pub(crate) fn old_tsa(cn: &str) -> (TimeStampAuthority, Vec<u8>) {
    use hcpki_pkix::keys::{KeyAlgorithm, SoftwareKey};
    let (key, pkcs8) = SoftwareKey::generate_device_key(KeyAlgorithm::P256).unwrap();
    let cert = hcpki_vcard::testpki::tsa_certificate(&pkcs8, cn).unwrap();
    let settings = TsaSettings {
        policy: "1.3.6.1.4.1.99999.3161.1".parse().unwrap(),
        accuracy: Accuracy { seconds: Some(1), millis: None, micros: None },
    };
    (TimeStampAuthority::new(&cert, Arc::new(key), settings).unwrap(), cert)
}
