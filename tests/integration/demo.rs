//! README command 1: `hcpki demo` builds the hierarchy, registers a facility, issues a router and a PC
//! certificate, and what it leaves behind verifies with the peers it tells the reader to use.

use crate::harness::{Backend, Hcpki};
use crate::issue::{assert_subject_carries, check_router};
use crate::peers;
use std::path::Path;

on_both_backends!(demo_leaves_verifiable_certificates);

fn demo_leaves_verifiable_certificates(b: Backend) {
    let h = Hcpki::new(b);
    let stdout = h.ok(&["demo"]);
    let out = h.dir().join("out");
    for f in ["router.pem", "router.key", "pc.pem", "pc.key", "root-ca.pem", "router-ca.pem", "pc-ca.pem"] {
        assert!(out.join(f).is_file(), "demo must write out/{f}; it printed:\n{stdout}");
    }
    assert!(
        stdout.contains("openssl verify") && stdout.contains(": OK"),
        "demo must print the openssl verify commands and their result:\n{stdout}"
    );

    let id = stdout
        .split_whitespace()
        .find(|w| hcpki_ca::FacilityId::parse(w).is_ok())
        .unwrap_or_else(|| panic!("demo must print the facility ID:\n{stdout}"))
        .to_owned();
    let issued = h.cert_list(Some(&id));
    assert_eq!(issued.len(), 2, "demo issues a router and a PC certificate for {id}: {issued:?}");

    let router = out.join("router.pem");
    let dns = h.router_dns_name(&id);
    check_router(&h, &router, &id, &[&format!("DNS:{dns}"), "IP Address:192.0.2.1"]);
    let pc = out.join("pc.pem");
    peers::openssl_verify(&h.chain_file("pc"), &pc, Some("sslclient"));
    peers::pkilint(&pc);
    assert_subject_carries(&pc, &id);

    for name in ["router", "pc"] {
        assert_key_matches(&out.join(format!("{name}.key")), &out.join(format!("{name}.pem")));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(out.join(format!("{name}.key"))).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{name}.key must not be readable by others (mode {mode:o})");
        }
    }
    h.ok(&["audit", "verify"]);
}

/// The private key the demo wrote belongs to the certificate it issued.
fn assert_key_matches(key: &Path, cert: &Path) {
    let spki = |args: &[&str]| {
        let out = std::process::Command::new("openssl").args(args).output().expect("run openssl");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    let from_key = spki(&["pkey", "-in", key.to_str().unwrap(), "-pubout"]);
    let from_cert = spki(&["x509", "-in", cert.to_str().unwrap(), "-noout", "-pubkey"]);
    assert_eq!(from_key, from_cert, "{} does not match {}", key.display(), cert.display());
}
