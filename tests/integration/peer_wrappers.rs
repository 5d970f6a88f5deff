//! The peer wrappers themselves, on a small hierarchy made with `openssl x509`: each accepts what it
//! must and refuses what it must, so a green hcpki test means the peer really looked.
//! These tests need no hcpki binary and no database.

use crate::fixtures::run_ok;
use crate::peers;
use std::path::PathBuf;
use std::process::Command;

/// A root, an issuing CA and leaf certificates with chosen extensions, all P-256.
struct MiniPki {
    dir: tempfile::TempDir,
}

impl MiniPki {
    fn new() -> Self {
        let pki = Self { dir: tempfile::tempdir().expect("temp dir") };
        run_ok(&mut pki.openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "root.key",
            "-subj",
            "/C=JP/O=Wrapper Test/CN=Root",
            "-days",
            "30",
            "-out",
            "root.pem",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]));
        run_ok(&mut pki.openssl(&[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "issuing.key",
            "-subj",
            "/C=JP/O=Wrapper Test/CN=Issuing",
            "-out",
            "issuing.csr",
        ]));
        pki.sign(
            "issuing.csr",
            "root",
            "issuing.pem",
            "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n\
             subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
        );
        run_ok(&mut pki.openssl(&[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "leaf.key",
            "-subj",
            "/C=JP/O=Wrapper Test/CN=leaf",
            "-out",
            "leaf.csr",
        ]));
        let chain = [std::fs::read_to_string(pki.path("issuing.pem")), std::fs::read_to_string(pki.path("root.pem"))]
            .map(|r| r.expect("read CA cert"))
            .concat();
        std::fs::write(pki.path("chain.pem"), chain).expect("write chain");
        pki
    }

    /// Issues `leaf.csr` from the issuing CA with these extensions; returns the certificate path.
    fn leaf(&self, name: &str, extensions: &str) -> PathBuf {
        self.sign("leaf.csr", "issuing", name, extensions)
    }

    fn sign(&self, csr: &str, ca: &str, out: &str, extensions: &str) -> PathBuf {
        let ext = format!("{out}.ext");
        std::fs::write(self.path(&ext), extensions).expect("write extfile");
        run_ok(&mut self.openssl(&[
            "x509",
            "-req",
            "-in",
            csr,
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-days",
            "7",
            "-extfile",
            &ext,
            "-out",
            out,
        ]));
        self.path(out)
    }

    fn openssl(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("openssl");
        cmd.args(args).current_dir(self.dir.path());
        cmd
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn root(&self) -> PathBuf {
        self.path("root.pem")
    }

    fn issuing(&self) -> PathBuf {
        self.path("issuing.pem")
    }

    fn chain(&self) -> PathBuf {
        self.path("chain.pem")
    }
}

const ROUTER: &str = "keyUsage=critical,digitalSignature\nsubjectAltName=DNS:r.example.test,IP:192.0.2.10\n\
                      subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n";
const CLIENT: &str = "keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n\
                      subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n";

#[test]
fn verify_sh_checks_chain_and_purpose() {
    let pki = MiniPki::new();
    let router = pki.leaf("router.pem", ROUTER);
    let client = pki.leaf("client.pem", CLIENT);
    peers::openssl_verify(&pki.chain(), &router, None);
    peers::openssl_verify(&pki.chain(), &client, Some("sslclient"));
    peers::openssl_verify_refuses(&pki.chain(), &client, Some("sslserver"));
    // The root alone does not reach the leaf: the issuing CA is really used as the intermediate.
    peers::openssl_verify_refuses(&pki.root(), &client, None);
    // A chain from another hierarchy does not verify.
    let other = MiniPki::new();
    peers::openssl_verify_refuses(&other.chain(), &router, None);
}

#[test]
fn pkilint_sh_fails_on_errors_only() {
    let pki = MiniPki::new();
    // Only INFO findings (SKI method): passes.
    peers::pkilint(&pki.leaf("router.pem", ROUTER));
    // Only WARNINGs (non-critical KU): passes.
    peers::pkilint(
        &pki.leaf("warn.pem", "keyUsage=digitalSignature\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"),
    );
    // No AKI: pkix.authority_key_identifier_extension_absent is an ERROR.
    peers::pkilint_refuses(&pki.leaf(
        "no-aki.pem",
        "keyUsage=critical,digitalSignature\nsubjectKeyIdentifier=none\nauthorityKeyIdentifier=none\n",
    ));
    // Not a certificate at all.
    let junk = pki.path("junk.pem");
    std::fs::write(&junk, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").expect("write junk");
    peers::pkilint_refuses(&junk);
}

#[test]
fn vfychain_sh_applies_the_ipsec_usage() {
    let pki = MiniPki::new();
    let router = pki.leaf("router.pem", ROUTER);
    peers::vfychain(&pki.root(), &pki.issuing(), &router, 12);
    peers::vfychain(&pki.root(), &pki.issuing(), &pki.leaf("client.pem", CLIENT), 0);
    // KU without digitalSignature/nonRepudiation and an EKU NSS does not accept for IPsec: refused.
    let not_ipsec = pki.leaf(
        "not-ipsec.pem",
        "keyUsage=critical,keyAgreement\nextendedKeyUsage=codeSigning\nsubjectAltName=DNS:r.example.test\n",
    );
    peers::vfychain_refuses(&pki.root(), &pki.issuing(), &not_ipsec, 12);
    // Trust comes from the root given, not from anywhere else.
    let other = MiniPki::new();
    peers::vfychain_refuses(&other.root(), &pki.issuing(), &router, 12);
}
