//! CA keys in a PKCS#11 token (SoftHSM2): certificates verify exactly as with software keys, and the CA
//! keys are on the token (seen through OpenSC's pkcs11-tool, an independent PKCS#11 client).

use crate::fixtures::{Key, csr, run_ok};
use crate::harness::{Backend, Hcpki};
use crate::issue::{assert_subject_carries, check_router, path};
use crate::peers;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian's SoftHSM2 module (package softhsm2, installed by scripts/deps).
pub(crate) const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
pub(crate) const TOKEN: &str = "hcpki";
const USER_PIN: &str = "1234";
const SO_PIN: &str = "12345678";

on_both_backends!(softhsm_issues_verifiable_certificates);

/// A private SoftHSM2 configuration and token directory inside the test's temp dir.
#[derive(Debug)]
pub(crate) struct SoftHsm {
    pub(crate) conf: PathBuf,
    pub(crate) pin_file: PathBuf,
}

impl SoftHsm {
    pub(crate) fn new(dir: &Path) -> Self {
        assert!(Path::new(MODULE).is_file(), "{MODULE} is missing: run scripts/deps (package softhsm2)");
        let tokens = dir.join("tokens");
        std::fs::create_dir_all(&tokens).expect("create token dir");
        let conf = dir.join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!("directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n", tokens.display()),
        )
        .expect("write softhsm2.conf");
        run_ok(Command::new("softhsm2-util").env("SOFTHSM2_CONF", &conf).args([
            "--init-token",
            "--free",
            "--label",
            TOKEN,
            "--so-pin",
            SO_PIN,
            "--pin",
            USER_PIN,
        ]));
        // No trailing newline: the PIN is the file's exact content.
        let pin_file = dir.join("user-pin");
        std::fs::write(&pin_file, USER_PIN).expect("write PIN file");
        Self { conf, pin_file }
    }

    /// `pkcs11-tool --list-objects [--type T]` on the token, logged in.
    pub(crate) fn list_objects(&self, kind: Option<&str>) -> String {
        let mut cmd = self.tool();
        cmd.arg("--list-objects");
        if let Some(k) = kind {
            cmd.args(["--type", k]);
        }
        String::from_utf8_lossy(&run_ok(&mut cmd).stdout).into_owned()
    }

    /// The public key with this CKA_ID as DER SubjectPublicKeyInfo.
    fn read_public_key(&self, id: &str) -> Vec<u8> {
        run_ok(self.tool().args(["--read-object", "--type", "pubkey", "--id", id])).stdout
    }

    fn tool(&self) -> Command {
        let mut cmd = Command::new("pkcs11-tool");
        cmd.env("SOFTHSM2_CONF", &self.conf).args([
            "--module",
            MODULE,
            "--token-label",
            TOKEN,
            "--login",
            "--pin",
            USER_PIN,
        ]);
        cmd
    }
}

fn softhsm_issues_verifiable_certificates(b: Backend) {
    let plain = Hcpki::new(b);
    let hsm = SoftHsm::new(&plain.path("softhsm"));
    let h = plain.with_env("SOFTHSM2_CONF", &hsm.conf);
    h.ok(&["init", "--pkcs11-module", MODULE, "--pkcs11-token-label", TOKEN, "--pkcs11-pin-file", path(&hsm.pin_file)]);

    let id = h.approved_facility("HSM clinic");
    let dns = h.router_dns_name(&id);
    for key in [Key::Rsa2048, Key::P256] {
        let request = csr(h.scratch(), "hsm-router", key, "router");
        let out = h.path(&format!("hsm-router-{key:?}.pem"));
        h.ok(&[
            "issue",
            "--profile",
            "router",
            "--facility",
            &id,
            "--csr",
            path(&request),
            "--san",
            &dns,
            "--san",
            "192.0.2.10",
            "--out",
            path(&out),
        ]);
        check_router(&h, &out, &id, &[&format!("DNS:{dns}"), "IP Address:192.0.2.10"]);
    }
    let request = csr(h.scratch(), "hsm-pc", Key::P256, "pc");
    let pc = h.path("hsm-pc.pem");
    h.ok(&["issue", "--profile", "pc", "--facility", &id, "--csr", path(&request), "--out", path(&pc)]);
    peers::openssl_verify(&h.chain_file("pc"), &pc, Some("sslclient"));
    peers::pkilint(&pc);
    assert_subject_carries(&pc, &id);

    // The CA keys live on the token: root, router, pc and server.
    let objects = hsm.list_objects(None);
    let private_keys = objects.matches("Private Key Object").count();
    assert!(private_keys >= 4, "expected the 4 CA private keys on the token, found {private_keys}:\n{objects}");

    // And they are the keys the CA certificates certify.
    let public = hsm.list_objects(Some("pubkey"));
    let ids: Vec<String> =
        public.lines().filter_map(|l| l.trim().strip_prefix("ID:").map(|id| id.trim().to_owned())).collect();
    if ids.is_empty() {
        eprintln!("note: no public key objects on the token, so CA certificates are matched by count only");
        return;
    }
    let token_keys: Vec<Vec<u8>> = ids.iter().map(|id| hsm.read_public_key(id)).collect();
    for ca in ["root", "router", "pc", "server"] {
        let spki = cert_spki(&h.ca_cert_file(ca));
        assert!(token_keys.contains(&spki), "the {ca} CA certificate's key is not on the token:\n{objects}");
    }
}

/// The certificate's SubjectPublicKeyInfo as DER.
fn cert_spki(cert: &Path) -> Vec<u8> {
    let pem = run_ok(Command::new("openssl").args(["x509", "-noout", "-pubkey", "-in"]).arg(cert)).stdout;
    let der_file = cert.with_extension("spki.der");
    let pem_file = cert.with_extension("spki.pem");
    std::fs::write(&pem_file, pem).expect("write SPKI PEM");
    run_ok(
        Command::new("openssl")
            .args(["pkey", "-pubin", "-outform", "DER", "-in"])
            .arg(&pem_file)
            .arg("-out")
            .arg(&der_file),
    );
    std::fs::read(der_file).expect("read SPKI DER")
}
