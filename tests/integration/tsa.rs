//! The time-stamping authority (issue #27, item 4): the `tsa` profile (critical EKU timeStamping alone,
//! server CA, pkilint clean, OpenSSL's timestampsign purpose) and `hcpki serve`'s RFC 3161 `/tsa`.

use crate::fixtures::{Key, csr, x509_text};
use crate::harness::{Backend, Hcpki};
use crate::peers;
use std::path::{Path, PathBuf};

on_both_backends!(tsa_profile_is_clean_and_for_time_stamping_only,);

/// `hcpki issue --profile tsa`: issued by the server CA, critical EKU with timeStamping alone, keyUsage
/// digitalSignature + nonRepudiation, no SAN; pkilint finds nothing, `openssl verify -purpose timestampsign`
/// accepts it under the server chain and refuses it for TLS. A SAN or a facility is refused.
fn tsa_profile_is_clean_and_for_time_stamping_only(b: Backend) {
    let h = Hcpki::initialized(b);
    let cert = issue_tsa(&h, "tsa");
    let text = x509_text(&cert, &["-text"]);
    assert!(text.contains("CN=hcpki Server CA"), "{text}");
    assert!(text.contains("X509v3 Extended Key Usage: critical\n                Time Stamping\n"), "{text}");
    assert!(text.contains("Digital Signature, Non Repudiation"), "{text}");
    assert!(!text.contains("Subject Alternative Name"), "{text}");
    peers::pkilint(&cert);
    let chain = h.chain_file("server");
    peers::openssl_verify(&chain, &cert, Some("timestampsign"));
    peers::openssl_verify_refuses(&chain, &cert, Some("sslserver"));
    let request = csr(h.scratch(), "tsa-san", Key::P256, "tsa");
    let err = h.fails(&["issue", "--profile", "tsa", "--csr", path(&request), "--san", "tsa.example"]);
    assert!(err.contains("the TSA is named by its subject"), "{err}");
}

/// A TSA certificate for a fresh P-256 key, through `hcpki issue`.
fn issue_tsa(h: &Hcpki, name: &str) -> PathBuf {
    let request = csr(h.scratch(), name, Key::P256, name);
    let out = h.path(&format!("{name}.pem"));
    h.ok(&["issue", "--profile", "tsa", "--csr", path(&request), "--out", path(&out)]);
    out
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}
