//! The real peers, through the wrappers in tests/peers/ (the same scripts a person runs by hand).

use crate::harness::{describe, repo_root};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn script(name: &str) -> PathBuf {
    repo_root().join("tests/peers").join(name)
}

fn run(name: &str, args: &[&Path], extra: &[&str]) -> Output {
    let path = script(name);
    Command::new("bash")
        .arg(&path)
        .args(args)
        .args(extra)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", path.display()))
}

fn must_pass(what: &str, out: Output) {
    assert!(out.status.success(), "{what} failed ({})\n{}", out.status, describe(&out));
}

/// `openssl verify -x509_strict` of `cert` against `chain` (root + issuing), with `-purpose` when given.
pub fn openssl_verify(chain: &Path, cert: &Path, purpose: Option<&str>) {
    let out = run("verify.sh", &[chain, cert], purpose.as_slice());
    must_pass(&format!("openssl verify {} (purpose {purpose:?})", cert.display()), out);
}

/// pkilint's RFC 5280 linter: no finding at ERROR or above.
pub fn pkilint(cert: &Path) {
    let out = run("pkilint.sh", &[cert], &[]);
    must_pass(&format!("pkilint {}", cert.display()), out);
}

/// pkilint's RFC 5280 CRL linter: no finding at ERROR or above.
pub fn pkilint_crl(crl: &Path) {
    let out = run("pkilint.sh", &[Path::new("--crl"), crl], &[]);
    must_pass(&format!("pkilint --crl {}", crl.display()), out);
}

/// pkilint's OCSP response linter (RFC 6960) must find nothing at ERROR or above.
pub fn pkilint_ocsp(response: &Path) {
    let out = run("pkilint.sh", &[Path::new("--ocsp"), response], &[]);
    must_pass(&format!("pkilint --ocsp {}", response.display()), out);
}

/// NSS vfychain with `usage` (12 = IPsec, 1 = SSL server, 0 = SSL client).
pub fn vfychain(root: &Path, issuing: &Path, cert: &Path, usage: u8) {
    let usage = usage.to_string();
    let out = run("vfychain.sh", &[root, issuing, cert], &[&usage]);
    must_pass(&format!("NSS vfychain -u {usage} {}", cert.display()), out);
}

/// NSS vfychain with `usage` must refuse the certificate (the wrappers' own negative check).
pub fn vfychain_refuses(root: &Path, issuing: &Path, cert: &Path, usage: u8) {
    let usage = usage.to_string();
    let out = run("vfychain.sh", &[root, issuing, cert], &[&usage]);
    assert!(!out.status.success(), "NSS vfychain -u {usage} accepted {}\n{}", cert.display(), describe(&out));
}

/// `openssl verify` must refuse.
pub fn openssl_verify_refuses(chain: &Path, cert: &Path, purpose: Option<&str>) {
    let out = run("verify.sh", &[chain, cert], purpose.as_slice());
    assert!(!out.status.success(), "openssl verify accepted {} for {purpose:?}\n{}", cert.display(), describe(&out));
}

/// pkilint must report an ERROR.
pub fn pkilint_refuses(cert: &Path) {
    let out = run("pkilint.sh", &[cert], &[]);
    assert!(!out.status.success(), "pkilint found no error in {}\n{}", cert.display(), describe(&out));
}
