//! CA key rollover of an issuing CA (issue #47, D145) through the CLI, against real peers, on both databases:
//! the new PC CA generation is pkilint-clean and chains to the root (`openssl verify`); during the overlap EST
//! `cacerts` serves both generations and SCEP `GetNextCACert` answers the next CA as an RA-signed SignedData that
//! `openssl cms -verify` accepts; after the switch a certificate for the same facility is issued by the new
//! generation (OpenSSL and NSS `vfychain` build its path, pkilint passes it) while cacerts keeps the old one and the
//! SCEP RA is renewed under the new one; the admin API reads and steps the same rollover; and
//! every bad step (root, twice, switch before start, abort after the switch, retire while the old generation's
//! certificates are valid) is refused with what to do, audited, and changes nothing.

use crate::admin::{Api, As, operator};
use crate::est::Est;
use crate::fixtures::{Key, csr, run_ok, x509_text};
use crate::harness::{Backend, Hcpki, describe};
use crate::issue::path;
use crate::peers::{self, Pkilint};
use crate::serve::Served;
use std::path::PathBuf;
use std::process::Command;

on_both_backends!(pc_ca_rolls_over_with_both_generations_served_and_the_new_one_issuing_after_the_switch);

fn pc_ca_rolls_over_with_both_generations_served_and_the_new_one_issuing_after_the_switch(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("Rollover clinic");
    let root = h.ca_cert_file("root");
    let old_ca = h.ca_cert_file("pc");
    let old_leaf = issue_pc(&h, &id, "before");
    assert!(x509_text(&old_leaf, &["-issuer"]).contains("CN=hcpki Facility PC CA"));

    // Refused before anything is under way.
    let root_refused = h.fails(&["ca", "rollover", "root", "start"]);
    assert!(root_refused.contains("link certificates"), "{root_refused}");
    let early = h.fails(&["ca", "rollover", "pc", "switch"]);
    assert!(early.contains("no rollover of the pc CA is under way"), "{early}");

    let started = h.run(&["ca", "rollover", "pc", "start"]);
    assert!(started.status.success(), "{}", describe(&started));
    assert!(String::from_utf8_lossy(&started.stderr).contains("generation 2"), "{}", describe(&started));
    let twice = h.fails(&["ca", "rollover", "pc", "start"]);
    assert!(twice.contains("under way already"), "{twice}");

    let status = status_json(&h);
    assert_eq!(status["rollover"]["state"], "published");
    let new_ca = h.path("pc-g2.pem");
    std::fs::write(&new_ca, status["rollover"]["cert_pem"].as_str().unwrap()).unwrap();
    assert!(x509_text(&new_ca, &["-subject"]).contains("CN=hcpki Facility PC CA G2"));
    let new_chain = chain(&h, "new-chain.pem", &[&new_ca, &root]);
    peers::openssl_verify(&new_chain, &new_ca, None);
    let mut lint = Pkilint::certs();
    lint.add(&new_ca);

    // The overlap: both generations served, the next one announced over SCEP.
    let server = Served::start(&h, &[]);
    let pc = Est::new(&h, &server).cacerts_subjects("/.well-known/est/pc/cacerts");
    for subject in ["CN = hcpki Facility PC CA G2", "CN = hcpki Facility PC CA\n", "CN = hcpki Root CA"] {
        assert!(pc.contains(subject), "cacerts lacks {subject:?} during the overlap:\n{pc}");
    }
    let scep = format!("http://127.0.0.1:{}/scep/pc", server.http_port);
    let caps = run_ok(Command::new("curl").args(["-sS", "--fail"]).arg(format!("{scep}?operation=GetCACaps")));
    assert!(String::from_utf8_lossy(&caps.stdout).contains("GetNextCACert"));
    let next = download(&h, &format!("{scep}?operation=GetNextCACert"), "next.der");
    let old_chain = chain(&h, "old-chain.pem", &[&old_ca, &root]);
    let inner = h.path("next-inner.der");
    run_ok(
        Command::new("openssl")
            .args(["cms", "-verify", "-inform", "DER", "-purpose", "any", "-in", path(&next), "-CAfile"])
            .args([path(&old_chain), "-out", path(&inner)]),
    );
    let announced = certs_of(&inner);
    assert!(announced.contains("CN = hcpki Facility PC CA G2"), "{announced}");
    server.stop();

    // The switch: the new generation issues; aborting is no longer possible.
    h.ok(&["ca", "rollover", "pc", "switch"]);
    let late = h.fails(&["ca", "rollover", "pc", "abort"]);
    assert!(late.contains("cannot be aborted"), "{late}");
    let new_leaf = issue_pc(&h, &id, "after");
    assert!(x509_text(&new_leaf, &["-issuer"]).contains("CN=hcpki Facility PC CA G2"));
    peers::openssl_verify(&new_chain, &new_leaf, Some("sslclient"));
    peers::openssl_verify_refuses(&new_chain, &old_leaf, Some("sslclient"));
    peers::vfychain(&root, &new_ca, &new_leaf, 0);
    lint.add(&new_leaf);
    lint.check();
    assert!(x509_text(&h.ca_cert_file("pc"), &["-subject"]).contains("G2"), "`ca cert pc` is the issuing one");

    let server = Served::start(&h, &[]);
    let pc = Est::new(&h, &server).cacerts_subjects("/.well-known/est/pc/cacerts");
    assert!(pc.contains("CN = hcpki Facility PC CA G2") && pc.contains("CN = hcpki Facility PC CA\n"), "{pc}");
    let gone = run_ok(
        Command::new("curl")
            .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}"])
            .arg(format!("http://127.0.0.1:{}/scep/pc?operation=GetNextCACert", server.http_port)),
    );
    assert_eq!(String::from_utf8(gone.stdout).unwrap(), "404", "no next CA once it issues");
    // hcpki's own certificates under the CA (the SCEP RA's here) are renewed under the new generation at start.
    let url = format!("http://127.0.0.1:{}/scep/pc?operation=GetCACert", server.http_port);
    let listed = certs_of(&download(&h, &url, "getcacert-after.der"));
    let ra_issuer = listed.lines().nth(1).unwrap_or_default();
    assert!(ra_issuer.starts_with("issuer=") && ra_issuer.ends_with("CN = hcpki Facility PC CA G2"), "{listed}");
    // The admin API over the same operations: auditors read, operators step, refusals say what to do.
    let (carol, erin) = (operator(&h, "carol", "operator"), operator(&h, "erin", "auditor"));
    let api = Api::new(&h, &server);
    assert_eq!(api.get("/api/v1/ca/pc/rollover", &As::Nobody).status, 401);
    let r = api.get("/api/v1/ca/pc/rollover", &erin);
    assert!(
        r.status == 200 && r.json["rollover"]["state"] == "switched" && r.json["rollover"]["generation"] == 2,
        "{r:?}"
    );
    assert!(r.json["old_holders"].as_array().unwrap().iter().any(|f| f["facility"] == id.as_str()), "{r:?}");
    assert_eq!(api.post("/api/v1/ca/pc/rollover/abort", &serde_json::json!({}), &erin).status, 403);
    let r = api.post("/api/v1/ca/pc/rollover/abort", &serde_json::json!({}), &carol);
    assert!(r.status == 409 && r.json["detail"].as_str().unwrap().contains("cannot be aborted"), "{r:?}");
    let r = api.post("/api/v1/ca/root/rollover/start", &serde_json::json!({}), &carol);
    assert!(r.status == 400 && r.json["detail"].as_str().unwrap().contains("link certificates"), "{r:?}");
    server.stop();

    // The old generation is still held: status says by whom (exit 1), retiring is refused.
    let out = h.run(&["ca", "rollover", "pc", "status"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&id), "{}", describe(&out));
    let held = h.fails(&["ca", "rollover", "pc", "retire"]);
    assert!(held.contains("still valid on the pc CA's old generation") && held.contains("--compromised"), "{held}");
    assert_eq!(status_json(&h)["rollover"]["state"], "switched");
    // Declared compromised: retired at once, the old CA certificate revoked.
    h.ok(&["ca", "rollover", "pc", "retire", "--compromised"]);
    assert_eq!(status_json(&h)["rollover"]["state"], "retired");

    let actions: Vec<(String, String)> = h
        .audit_entries()
        .iter()
        .filter(|e| e["action"].as_str().unwrap_or_default().starts_with("ca.rollover."))
        .map(|e| (e["action"].as_str().unwrap().to_owned(), e["outcome"].as_str().unwrap().to_owned()))
        .collect();
    let want = [
        ("ca.rollover.switch", "denied"),
        ("ca.rollover.start", "ok"),
        ("ca.rollover.switch", "ok"),
        ("ca.rollover.abort", "denied"),
        ("ca.rollover.abort", "denied"),
        ("ca.rollover.retire", "ok"),
    ];
    assert_eq!(actions, want.map(|(a, o)| (a.to_owned(), o.to_owned())));
    h.ok(&["audit", "verify"]);
}

/// A PC certificate for `facility` issued by the CLI (the CA that issues now), written as PEM.
fn issue_pc(h: &Hcpki, facility: &str, name: &str) -> PathBuf {
    let request = csr(h.scratch(), name, Key::P256, &format!("pc-{name}"));
    let out = h.path(&format!("{name}.pem"));
    h.ok(&["issue", "--profile", "pc", "--facility", facility, "--csr", path(&request), "--out", path(&out)]);
    out
}

fn status_json(h: &Hcpki) -> serde_json::Value {
    let out = h.run(&["ca", "rollover", "pc", "status", "--json"]);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{}", describe(&out)))
}

/// `url` fetched by curl into the scratch file `name`; its path.
fn download(h: &Hcpki, url: &str, name: &str) -> PathBuf {
    let file = h.path(name);
    run_ok(Command::new("curl").args(["-sS", "--fail", "-o"]).arg(&file).arg(url));
    file
}

/// Subjects and issuers of the certificates in a DER certs-only PKCS#7, as `openssl pkcs7 -print_certs` lists them.
fn certs_of(p7: &std::path::Path) -> String {
    let out =
        run_ok(Command::new("openssl").args(["pkcs7", "-inform", "DER", "-print_certs", "-noout", "-in"]).arg(p7));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The PEM files `parts` concatenated into one chain file.
fn chain(h: &Hcpki, name: &str, parts: &[&PathBuf]) -> PathBuf {
    let file = h.path(name);
    let text: String = parts.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect();
    std::fs::write(&file, text).unwrap();
    file
}
