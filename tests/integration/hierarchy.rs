//! The CA hierarchy itself and the profiles not covered in `issue`: root and issuing CA certificates on
//! both key types (default RSA root/router CA, P-256 PC/server CAs, and the swapped assignment), the
//! end-entity profiles issued by the swapped CAs (and the CP/CPS draft naming those keys), and the delegated OCSP
//! signer profile.

use crate::fixtures::{Key, csr, x509_text};
use crate::harness::{Backend, Hcpki};
use crate::issue::{assert_subject_carries, check_router_linted_with, path};
use crate::peers::{self, Pkilint};

on_both_backends!(ca_certificates_default_keys, ca_certificates_swapped_keys, ocsp_signer_p256, ocsp_signer_rsa2048,);

const ISSUING: [&str; 3] = ["router", "pc", "server"];

/// The key assignment `hcpki init` uses by default: root RSA-3072, router CA RSA-2048, PC and server CAs
/// P-256 (docs/profiles.md#keys).
fn ca_certificates_default_keys(b: Backend) {
    let h = Hcpki::initialized(b);
    let mut lint = Pkilint::certs();
    check_hierarchy(&h, &[("root", "rsa"), ("router", "rsa"), ("pc", "ec"), ("server", "ec")], &mut lint);
    issue_each_facility_profile(&h, &mut lint);
    lint.check();
}

/// Every CA on the other key type: the same checks must hold for an ECDSA root/router CA and RSA PC/server
/// CAs, so "both key types" covers the issuer's key, not only the subject's.
fn ca_certificates_swapped_keys(b: Backend) {
    let h = Hcpki::new(b);
    h.ok(&[
        "init",
        "--key-type",
        "root=p256",
        "--key-type",
        "router=p256",
        "--key-type",
        "pc=rsa2048",
        "--key-type",
        "server=rsa2048",
    ]);
    let mut lint = Pkilint::certs();
    check_hierarchy(&h, &[("root", "ec"), ("router", "ec"), ("pc", "rsa"), ("server", "rsa")], &mut lint);
    issue_each_facility_profile(&h, &mut lint);
    lint.check();
    // The CP/CPS draft names the installation's keys as its CA certificates hold them, not the defaults.
    let cps = h.ok(&["cps"]);
    for row in [
        "| hcpki Root CA | ECDSA P-256 | ecdsa-with-SHA256 |",
        "| hcpki Router CA | ECDSA P-256 | ecdsa-with-SHA256 |",
        "| hcpki Facility PC CA | RSA-2048 | sha256WithRSAEncryption |",
        "| hcpki Server CA | RSA-2048 | sha256WithRSAEncryption |",
    ] {
        assert!(cps.contains(row), "hcpki cps lacks {row:?}:\n{cps}");
    }
    assert!(!cps.contains("{{"), "a part of the outline is left unfilled");
}

/// Root self-signed with pathLen 1; each issuing CA chains to it with pathLen 0; all added to `lint`; each key
/// is the algorithm asked for.
fn check_hierarchy(h: &Hcpki, keys: &[(&str, &str)], lint: &mut Pkilint) {
    let root = h.ca_cert_file("root");
    lint.add(&root);
    let root_text = x509_text(&root, &["-text"]);
    assert!(root_text.contains("CA:TRUE, pathlen:1"), "root: basicConstraints cA TRUE, pathLen 1:\n{root_text}");
    for name in ISSUING {
        let cert = h.ca_cert_file(name);
        lint.add(&cert);
        // verify.sh trusts the chain's self-signed member (the root) and nothing else.
        let chain = h.chain_file(name);
        peers::openssl_verify(&chain, &cert, None);
        let text = x509_text(&cert, &["-text"]);
        for want in [
            "CA:TRUE, pathlen:0",
            "Certificate Sign, CRL Sign",
            "X509v3 CRL Distribution Points",
            "X509v3 Authority Key Identifier",
            "X509v3 Subject Key Identifier",
        ] {
            assert!(text.contains(want), "{name} CA must have {want:?}:\n{text}");
        }
        assert!(
            !text.contains("Certificate Policies") && !text.contains("Name Constraints"),
            "{name} CA: no policies or name constraints (RFC 4945 §5.1.3.5):\n{text}"
        );
    }
    for (name, alg) in keys {
        let text = x509_text(&h.ca_cert_file(name), &["-text"]);
        let want = match *alg {
            "rsa" => "rsaEncryption",
            _ => "id-ecPublicKey",
        };
        assert!(text.contains(&format!("Public Key Algorithm: {want}")), "{name} CA key must be {want}:\n{text}");
    }
}

/// A router and a PC certificate from this hierarchy pass the same peers as in `issue` (pkilint: added to
/// `lint`).
fn issue_each_facility_profile(h: &Hcpki, lint: &mut Pkilint) {
    let id = h.approved_facility("階層テスト病院");
    let dns = h.router_dns_name(&id);

    let router_csr = csr(h.scratch(), "hier-router", Key::Rsa2048, "router");
    let router = h.path("hier-router.pem");
    h.ok(&[
        "issue",
        "--profile",
        "router",
        "--facility",
        &id,
        "--csr",
        path(&router_csr),
        "--san",
        &dns,
        "--out",
        path(&router),
    ]);
    check_router_linted_with(h, &router, &id, &[&format!("DNS:{dns}")], lint);

    let pc_csr = csr(h.scratch(), "hier-pc", Key::P256, "pc");
    let pc = h.path("hier-pc.pem");
    h.ok(&[
        "issue",
        "--profile",
        "pc",
        "--facility",
        &id,
        "--csr",
        path(&pc_csr),
        "--device",
        "reception-1",
        "--out",
        path(&pc),
    ]);
    peers::openssl_verify(&h.chain_file("pc"), &pc, Some("sslclient"));
    lint.add(&pc);
    peers::vfychain(&h.ca_cert_file("root"), &h.ca_cert_file("pc"), &pc, 0);
    assert_subject_carries(&pc, &id);
    let san = x509_text(&pc, &["-ext", "subjectAltName"]);
    let suffix = format!("/facility/{id}/device/reception-1");
    assert!(
        san.lines().any(|l| l.contains("URI:https://") && l.trim_end().ends_with(&suffix)),
        "PC SAN must be the identity URI https://<domain>{suffix}:\n{san}"
    );
}

fn ocsp_signer_p256(b: Backend) {
    ocsp_signer(b, Key::P256);
}

fn ocsp_signer_rsa2048(b: Backend) {
    ocsp_signer(b, Key::Rsa2048);
}

/// A delegated OCSP signer for each issuing CA (RFC 6960 §4.2.2.2): issued by that CA, EKU OCSPSigning,
/// id-pkix-ocsp-nocheck, no facility.
fn ocsp_signer(b: Backend, key: Key) {
    let h = Hcpki::initialized(b);
    let mut lint = Pkilint::certs();
    for ca in ISSUING {
        let csr = csr(h.scratch(), &format!("ocsp-{ca}"), key, "ocsp");
        let out = h.path(&format!("ocsp-{ca}-{key:?}.pem"));
        h.ok(&["issue", "--profile", "ocsp", "--ocsp-for", ca, "--csr", path(&csr), "--out", path(&out)]);
        peers::openssl_verify(&h.chain_file(ca), &out, Some("ocsphelper"));
        lint.add(&out);
        let text = x509_text(&out, &["-text"]);
        for want in ["OCSP Signing", "OCSP No Check", "Digital Signature"] {
            assert!(text.contains(want), "OCSP signer for {ca} must have {want:?}:\n{text}");
        }
        let issuer = x509_text(&out, &["-issuer"]);
        let ca_subject = x509_text(&h.ca_cert_file(ca), &["-subject"]);
        assert_eq!(
            issuer.trim().trim_start_matches("issuer="),
            ca_subject.trim().trim_start_matches("subject="),
            "the OCSP signer for {ca} must be issued by the {ca} CA"
        );
    }
    lint.check();
    // Without --ocsp-for, the command says which CA it needs.
    let csr = csr(h.scratch(), "ocsp-none", key, "ocsp");
    let err = h.fails(&["issue", "--profile", "ocsp", "--csr", path(&csr)]);
    assert!(err.contains("--ocsp-for"), "missing --ocsp-for must be named in the error:\n{err}");
}
