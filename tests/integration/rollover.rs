//! CA key rollover (issue #47, D145, D160) through the CLI, against real peers, on both databases: the root
//! first (D160): a new root under the same name and link certificates both ways, pkilint-clean; after its switch
//! OpenSSL (`verify` without `-partial_chain`) and NSS `vfychain` build a path from either root to a leaf of either
//! PC CA generation through the links, each root generation's ARL is served and signed by its own key, and each
//! generation's caIssuers URL serves its certificate; then the PC CA: the new PC CA generation is pkilint-clean and chains to the root (`openssl verify`); during the overlap EST
//! `cacerts` serves both generations and SCEP `GetNextCACert` answers the next CA as an RA-signed SignedData that
//! `openssl cms -verify` accepts; after the switch a certificate for the same facility is issued by the new
//! generation (OpenSSL and NSS `vfychain` build its path, pkilint passes it) while cacerts keeps the old one and the
//! SCEP RA is renewed under the new one; after the switch each generation answers for its own certificates (D151):
//! a revoked and a good certificate of each are checked by OpenSSL (`verify -crl_check` with the CRL their CRL
//! distribution point names, fetched from the server; `ocsp` with their own issuer, whose responder must be one
//! that issuer certified), `status` lists both generations' CRLs, `hcpki crl --generation 1` signs the old one's
//! with the old key until retirement and refuses it after; the admin API reads and steps the same
//! rollover, and the console takes a step (start, abort) with its CSRF token as an operator; a device on the old
//! generation renews over SCEP after the switch (strongSwan `pki --scep`) onto the new one; ACME downloads name an alternate chain with the link to the other root (D165: certbot with
//! `--preferred-chain` fetches it, both chains verify from their roots); and
//! every bad step (root, twice, switch before start, abort after the switch, retire while the old generation's
//! certificates are valid) is refused with what to do, audited, and changes nothing.

use crate::acme::{Acme, Jose};
use crate::admin::{Api, As, operator};
use crate::est::Est;
use crate::fixtures::{Key, csr, run_ok, x509_text};
use crate::harness::{Backend, Hcpki, describe};
use crate::issue::path;
use crate::peers::{self, Pkilint};
use crate::revocation::{get, serial_of};
use crate::serve::Served;
use std::path::PathBuf;
use std::process::Command;

on_both_backends!(pc_ca_rolls_over_with_both_generations_served_and_the_new_one_issuing_after_the_switch);

fn pc_ca_rolls_over_with_both_generations_served_and_the_new_one_issuing_after_the_switch(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("Rollover clinic");
    // Kept apart: `ca cert root` writes the same scratch file, with the new root after its switch.
    let root = h.path("root-g1.pem");
    std::fs::copy(h.ca_cert_file("root"), &root).unwrap();
    // Kept apart: `ca cert pc` writes the same scratch file, with the new generation after the switch.
    let old_ca = h.path("pc-g1.pem");
    std::fs::copy(h.ca_cert_file("pc"), &old_ca).unwrap();
    let old_leaf = issue_pc(&h, &id, "before");
    let old_gone = issue_pc(&h, &id, "before-revoked");
    // strongSwan's SCEP client signs with RSA keys only.
    let to_renew = issue_pc_with(&h, &id, "before-renewed", Key::Rsa2048);
    assert!(x509_text(&old_leaf, &["-issuer"]).contains("CN=hcpki Facility PC CA"));

    // Refused before anything is under way.
    let early = h.fails(&["ca", "rollover", "pc", "switch"]);
    assert!(early.contains("no rollover of the pc CA is under way"), "{early}");

    // The root first (D160): a new root under the same name, each generation certifying the other's key; switched,
    // so the PC CA's next generation is made under the new root.
    let mut lint = Pkilint::certs();
    let (new_root, links) = roll_root(&h, &mut lint);

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
    let new_chain = chain(&h, "new-chain.pem", &[&new_ca, &new_root]);
    peers::openssl_verify(&new_chain, &new_ca, None);
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
    let new_gone = issue_pc(&h, &id, "after-revoked");
    assert!(x509_text(&new_leaf, &["-issuer"]).contains("CN=hcpki Facility PC CA G2"));
    // Revoked after the switch, one of each generation.
    for gone in [&old_gone, &new_gone] {
        h.ok(&["revoke", "--serial", &serial_of(gone), "--reason", "keyCompromise"]);
    }
    peers::openssl_verify(&new_chain, &new_leaf, Some("sslclient"));
    peers::openssl_verify_refuses(&new_chain, &old_leaf, Some("sslclient"));
    peers::vfychain(&new_root, &new_ca, &new_leaf, 0);
    // Either root reaches a leaf of either generation through the link certificates (D160).
    let old_bridge = chain(&h, "old-bridge.pem", &[&links, &old_ca]);
    let new_bridge = chain(&h, "new-bridge.pem", &[&links, &new_ca]);
    for anchor in [&root, &new_root] {
        for (bridge, leaf) in [(&old_bridge, &old_leaf), (&new_bridge, &new_leaf)] {
            verify_from(anchor, bridge, leaf).unwrap_or_else(|e| panic!("{}: {e}", leaf.display()));
            peers::vfychain(anchor, bridge, leaf, 0);
        }
    }
    let refused = verify_from(&root, &new_ca, &new_leaf).expect_err("the old root reaches G2 only through a link");
    assert!(refused.contains("unable to get"), "{refused}");
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
    let old = Generation { crl: "pc", ca: &old_ca, chain: &old_chain, good: &old_leaf, revoked: &old_gone };
    let new = Generation { crl: "pc-g2", ca: &new_ca, chain: &new_chain, good: &new_leaf, revoked: &new_gone };
    for (generation, anchor) in [(old, &root), (new, &new_root)] {
        generation.answers_for_its_own(&h, anchor, &server);
    }
    // Each root generation's ARL, signed with its own key; each generation's caIssuers URL serves it (D160).
    for (name, anchor) in [("root", &root), ("root-g2", &new_root)] {
        let arl =
            download(&h, &format!("http://127.0.0.1:{}/crl/{name}.pem", server.http_port), &format!("{name}.arl"));
        let mut check = Command::new("openssl");
        check.args(["crl", "-noout", "-CAfile"]).arg(anchor).arg("-in").arg(&arl);
        assert!(describe(&run_ok(&mut check)).to_ascii_lowercase().contains("verify ok"), "{name}");
    }
    for (cert, issuer) in [(&old_leaf, &old_ca), (&new_leaf, &new_ca), (&old_ca, &root), (&new_ca, &new_root)] {
        let aia = x509_text(cert, &["-ext", "authorityInfoAccess"]);
        let url = aia.split("CA Issuers - URI:").nth(1).and_then(|u| u.lines().next()).unwrap_or_default().trim();
        // The configured base URL names another port than this test server's: the path is what is checked.
        let path = url.find("/ca/").map(|i| &url[i..]).unwrap_or_else(|| panic!("caIssuers {url:?}"));
        let served = download(&h, &format!("http://127.0.0.1:{}{path}", server.http_port), "ca-issuers.der");
        let want = run_ok(Command::new("openssl").args(["x509", "-outform", "DER", "-in"]).arg(issuer)).stdout;
        assert_eq!(std::fs::read(&served).unwrap(), want, "{url} serves {}", issuer.display());
    }
    let (status, _, body) = get(&h, &format!("http://127.0.0.1:{}/crl/pc-g3.crl", server.http_port), &[]);
    assert!(status == 404 && String::from_utf8_lossy(&body).contains("not in service"), "{status}");
    let crls = &status_json(&h)["crls"];
    for (i, (generation, issuing, name)) in [(2, true, "pc-g2"), (1, false, "pc")].into_iter().enumerate() {
        let crl = &crls[i];
        assert!(crl["generation"] == generation && crl["issuing"] == issuing && crl["revoked"] == 1, "{crls}");
        assert!(crl["url"].as_str().unwrap().ends_with(&format!("/crl/{name}.crl")), "{crls}");
    }
    // hcpki's own certificates under the CA (the SCEP RA's here) are renewed under the new generation at start.
    let url = format!("http://127.0.0.1:{}/scep/pc?operation=GetCACert", server.http_port);
    let listed = certs_of(&download(&h, &url, "getcacert-after.der"));
    let ra_issuer = listed.lines().nth(1).unwrap_or_default();
    assert!(ra_issuer.starts_with("issuer=") && ra_issuer.ends_with("CN = hcpki Facility PC CA G2"), "{listed}");
    // A device still on the old generation renews over SCEP after the switch (strongSwan `pki --scep`, the
    // request signed with its old certificate and key): the new generation issues the renewal.
    let renewed = scep_renew(&h, &server, &to_renew, &[&new_ca, &new_root]);
    assert!(x509_text(&renewed, &["-issuer"]).contains("CN=hcpki Facility PC CA G2"), "{}", renewed.display());
    assert_eq!(x509_text(&renewed, &["-subject"]), x509_text(&to_renew, &["-subject"]));
    peers::openssl_verify(&new_chain, &renewed, Some("sslclient"));
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
    let generations: Vec<&serde_json::Value> =
        r.json["crls"].as_array().unwrap().iter().map(|c| &c["generation"]).collect();
    assert_eq!(generations, [2, 1], "both generations' CRLs, the issuing one first: {r:?}");
    assert_eq!(api.post("/api/v1/ca/pc/rollover/abort", &serde_json::json!({}), &erin).status, 403);
    let r = api.post("/api/v1/ca/pc/rollover/abort", &serde_json::json!({}), &carol);
    assert!(r.status == 409 && r.json["detail"].as_str().unwrap().contains("cannot be aborted"), "{r:?}");
    let r = api.get("/api/v1/ca/root/rollover", &erin);
    assert!(r.status == 200 && r.json["rollover"]["links"]["new_with_old_pem"].is_string(), "{r:?}");
    let r = api.post("/api/v1/ca/root/rollover/start", &serde_json::json!({}), &carol);
    assert!(r.status == 409 && r.json["detail"].as_str().unwrap().contains("under way already"), "{r:?}");
    // The console shows the same state (auditors read), with the command of the next step.
    let console = crate::console::Console::new(&h, &server);
    let page = console.get("/console/ca/rollover", &erin);
    assert_eq!(page.status, 200, "{page:?}");
    for words in [
        "id=\"rollover-pc-state\" data-state=\"switched\"",
        "id=\"rollover-root-state\" data-state=\"switched\"",
        "id=\"rollover-router-state\" data-state=\"none\"",
        "/crl/pc-g2.crl",
        "/crl/pc.crl",
        "hcpki ca rollover pc retire",
        &id,
    ] {
        assert!(page.text.contains(words), "{words}: {}", page.text);
    }
    assert!(!page.text.contains("id=\"rollover-router-start\""), "auditors get no step forms: {}", page.text);
    // Operators take the steps from the console too (D165): the router CA's rollover started and aborted through
    // its forms with the page's CSRF token, audited as the operator; without the token nothing changes.
    let rollover = "/console/ca/rollover";
    let page = console.get(rollover, &carol);
    assert!(page.text.contains("id=\"rollover-router-start\"") && page.text.contains("id=\"rollover-pc-retire\""));
    let forged = console.post_raw(&format!("{rollover}/router/start"), "", &carol, &[]);
    assert_eq!(forged.status, 403, "{forged:?}");
    let r = console.submit(&format!("{rollover}/router/start"), &[], &page, &carol);
    assert_eq!(r.status, 303, "{}", r.text.split("<main").nth(1).unwrap_or(&r.text));
    let page = console.get(rollover, &carol);
    assert!(page.text.contains("id=\"rollover-router-state\" data-state=\"published\""), "{}", page.text);
    let twice = console.submit(&format!("{rollover}/router/start"), &[], &page, &carol);
    assert!(twice.status == 409 && twice.text.contains("id=\"refusal-lead\""), "{twice:?}");
    let r = console.submit(&format!("{rollover}/router/abort"), &[], &page, &carol);
    assert_eq!(r.status, 303, "{r:?}");
    let page = console.get(rollover, &carol);
    assert!(page.text.contains("id=\"rollover-router-state\" data-state=\"aborted\""), "{}", page.text);
    server.stop();
    acme_serves_a_chain_to_each_root(&h, &id, &root, &new_root);

    // The old generation is still held: status says by whom (exit 1), retiring is refused.
    let out = h.run(&["ca", "rollover", "pc", "status"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&id), "{}", describe(&out));
    // The old root is held by the issuing CAs it certified, not by its own and its link certificates.
    let held = h.fails(&["ca", "rollover", "root", "retire"]);
    assert!(held.contains("are still valid on the root CA's old generation"), "{held}");
    let held = h.fails(&["ca", "rollover", "pc", "retire"]);
    assert!(held.contains("still valid on the pc CA's old generation") && held.contains("--compromised"), "{held}");
    assert_eq!(status_json(&h)["rollover"]["state"], "switched");
    // The CLI signs the previous generation's CRL too, with the old key (OpenSSL verifies it with the old CA).
    let old_crl = h.path("pc-g1-cli.crl");
    h.ok(&["crl", "--ca", "pc", "--generation", "1", "--pem", "--out", path(&old_crl)]);
    let mut check = Command::new("openssl");
    check.args(["crl", "-noout", "-text", "-CAfile"]).arg(&old_ca).arg("-in").arg(&old_crl);
    let text = describe(&run_ok(&mut check)).to_ascii_lowercase();
    assert!(text.contains("verify ok") && text.contains(&serial_of(&old_gone)), "{text}");
    assert!(!text.contains(&serial_of(&new_gone)), "the old generation's CRL lists a new one's: {text}");
    // Declared compromised: retired at once, the old CA certificate revoked; its CRL is no longer served.
    h.ok(&["ca", "rollover", "pc", "retire", "--compromised"]);
    assert_eq!(status_json(&h)["rollover"]["state"], "retired");
    let retired = h.fails(&["crl", "--ca", "pc", "--generation", "1"]);
    assert!(retired.contains("generation 1 has no CRL here"), "{retired}");

    let actions: Vec<(String, String)> = h
        .audit_entries()
        .iter()
        .filter(|e| e["action"].as_str().unwrap_or_default().starts_with("ca.rollover."))
        .map(|e| (e["action"].as_str().unwrap().to_owned(), e["outcome"].as_str().unwrap().to_owned()))
        .collect();
    let want = [
        ("ca.rollover.switch", "denied"),
        // The root's start and switch (D160), then the PC CA's.
        ("ca.rollover.start", "ok"),
        ("ca.rollover.switch", "ok"),
        ("ca.rollover.start", "ok"),
        ("ca.rollover.switch", "ok"),
        ("ca.rollover.abort", "denied"),
        ("ca.rollover.abort", "denied"),
        // The router CA's, from the console.
        ("ca.rollover.start", "ok"),
        ("ca.rollover.abort", "ok"),
        ("ca.rollover.retire", "ok"),
    ];
    assert_eq!(actions, want.map(|(a, o)| (a.to_owned(), o.to_owned())));
    let by_console =
        h.audit_entries().into_iter().filter(|e| e["target"] == "router" && e["action"] == "ca.rollover.start");
    for e in by_console {
        assert!(e["actor"].as_str().unwrap_or_default().contains("carol"), "{e}");
    }
    h.ok(&["audit", "verify"]);
}

/// One generation of the PC CA after the switch, with a good and a revoked certificate it issued.
struct Generation<'a> {
    /// The name of its CRL (`/crl/<crl>.crl`).
    crl: &'a str,
    ca: &'a PathBuf,
    /// Its certificate and the root's.
    chain: &'a PathBuf,
    good: &'a PathBuf,
    revoked: &'a PathBuf,
}

impl Generation<'_> {
    /// Its certificates name its own CRL, which it signs and lists its revocation after the switch (OpenSSL
    /// refuses the revoked certificate and accepts the good one with it), and OCSP answers for them are signed
    /// by a responder it certified (`openssl ocsp` verifies the answer against this generation's chain).
    fn answers_for_its_own(&self, h: &Hcpki, root: &PathBuf, server: &Served) {
        let port = server.http_port;
        for cert in [self.good, self.revoked] {
            let cdp = x509_text(cert, &["-ext", "crlDistributionPoints"]);
            assert!(cdp.contains(&format!("/crl/{}.crl", self.crl)), "{}: {cdp}", self.crl);
        }
        let crl = download(h, &format!("http://127.0.0.1:{port}/crl/{}.pem", self.crl), &format!("{}.crl", self.crl));
        let verify = |cert: &PathBuf| {
            let mut cmd = Command::new("openssl");
            cmd.args(["verify", "-crl_check", "-CAfile"]).arg(root).arg("-untrusted").arg(self.ca);
            describe(&cmd.arg("-CRLfile").arg(&crl).arg(cert).output().unwrap())
        };
        let refused = verify(self.revoked);
        assert!(refused.contains("certificate revoked"), "{}: {refused}", self.crl);
        let accepted = verify(self.good);
        assert!(accepted.contains(": OK"), "{}: {accepted}", self.crl);
        for (cert, status) in [(self.good, ": good"), (self.revoked, ": revoked")] {
            let ocsp = Command::new("openssl")
                .args(["ocsp", "-no_nonce", "-issuer"])
                .arg(self.ca)
                .arg("-CAfile")
                .arg(self.chain)
                .arg("-cert")
                .arg(cert)
                .args(["-url", &format!("http://127.0.0.1:{port}/ocsp/pc")])
                .output()
                .unwrap();
            let text = describe(&ocsp);
            assert!(text.contains(status) && text.contains("Response verify OK"), "{}: {text}", self.crl);
        }
    }
}

/// ACME alternate chains during the root rollover (D165): certbot, told to prefer a chain (`--preferred-chain`),
/// follows the certificate's `Link: rel="alternate"` and downloads the alternate chain; both chains' top
/// certificates name the one root name, so certbot keeps the default. Another account of the facility then reads
/// both chains, each naming the other: the default one (leaf, PC CA G2) reaches the new root and not the old one,
/// the alternate one (… and NewWithOld) reaches the old root too (`openssl verify` without `-partial_chain`).
fn acme_serves_a_chain_to_each_root(h: &Hcpki, facility: &str, old_root: &PathBuf, new_root: &PathBuf) {
    let acme = Acme::start(h, facility);
    let name = format!("pc-0047.{}", acme.domain);
    let args = ["certonly", "-d", &name, "--key-type", "ecdsa", "--preferred-chain", "hcpki Root CA"];
    let cfg = acme.certbot("alternate", &acme.credential("pc"), &args);
    let log = std::fs::read_to_string(h.path("certbot-alternate/logs/letsencrypt.log")).unwrap();
    assert!(log.contains("/alternate"), "certbot did not fetch the alternate chain:\n{log}");
    let leaf = acme.live(&cfg, &name, "cert.pem");
    let kept = std::fs::read_to_string(acme.live(&cfg, &name, "fullchain.pem")).unwrap();
    assert_eq!(kept.matches("BEGIN CERTIFICATE").count(), 2, "certbot keeps the default chain: {kept}");

    let key = Jose::new(47);
    let account = acme.register(&key, acme.directory()["newAccount"].as_str().unwrap());
    let url = format!("{}/cert/{}", acme.base(), serial_of(&leaf));
    let default = acme.post_jws(&key, &url, None, Some(&account));
    let alternate = acme.post_jws(&key, &format!("{url}/alternate"), None, Some(&account));
    for (reply, other, certs) in [(&default, format!("{url}/alternate"), 2), (&alternate, url.clone(), 3)] {
        assert_eq!(reply.status, 200, "{}{}", reply.headers, reply.body);
        assert!(reply.headers.contains(&format!("<{other}>;rel=\"alternate\"")), "{}", reply.headers);
        assert_eq!(reply.body.matches("BEGIN CERTIFICATE").count(), certs, "{}", reply.body);
    }
    let [default, alternate] = [(&default, "default"), (&alternate, "alternate")].map(|(reply, name)| {
        let chain = h.path(&format!("acme-{name}.pem"));
        std::fs::write(&chain, &reply.body).unwrap();
        chain
    });
    for (anchor, chain) in [(new_root, &default), (old_root, &alternate), (new_root, &alternate)] {
        verify_from(anchor, chain, &leaf).unwrap_or_else(|e| panic!("{} {}: {e}", anchor.display(), chain.display()));
    }
    let refused = verify_from(old_root, &default, &leaf).expect_err("the old root needs the alternate chain");
    assert!(refused.contains("unable to get"), "{refused}");
    acme.server.stop();
}

/// strongSwan `pki --scep` renews `old` (an RSA PC certificate made by [`issue_pc_with`]) at `/scep/pc` with a new key,
/// signing the request with the old certificate and its key; `cas` are the CA certificates it checks the answer
/// with. The renewed certificate, PEM.
fn scep_renew(h: &Hcpki, server: &Served, old: &PathBuf, cas: &[&PathBuf]) -> PathBuf {
    let url = format!("http://127.0.0.1:{}/scep/pc", server.http_port);
    let listed = download(h, &format!("{url}?operation=GetCACert"), "renew-getcacert.der");
    let pem = run_ok(Command::new("openssl").args(["pkcs7", "-inform", "DER", "-print_certs", "-in"]).arg(&listed));
    let text = String::from_utf8(pem.stdout).unwrap();
    let end = "-----END CERTIFICATE-----";
    let ra = h.path("renew-ra.pem");
    let first = text.find("-----BEGIN").and_then(|b| text[b..].find(end).map(|e| &text[b..b + e + end.len()]));
    std::fs::write(&ra, first.unwrap_or_else(|| panic!("no RA in GetCACert: {text}"))).unwrap();
    let key = h.path("renewed.key");
    std::fs::write(&key, run_ok(Command::new("pki").args(["--gen", "--type", "rsa", "--size", "2048"])).stdout)
        .unwrap();
    let stem = old.file_stem().and_then(|s| s.to_str()).unwrap();
    let old_key = h.scratch().join(format!("{stem}-rsa2048.key"));
    let out = h.path("renewed.pem");
    let mut cmd = Command::new("timeout");
    cmd.args(["60", "pki", "--scep", "--url", &url, "--in"]).arg(&key);
    cmd.args(["--dn", &format!("CN=pc-{stem}"), "--cacert-enc"]).arg(&ra).arg("--cacert-sig").arg(&ra);
    for ca in cas {
        cmd.arg("--cacert").arg(ca);
    }
    cmd.arg("--cert").arg(old).arg("--key").arg(&old_key).args(["--outform", "pem"]);
    let renewal = cmd.stdout(std::fs::File::create(&out).unwrap()).output().unwrap();
    assert!(renewal.status.success(), "pki --scep renewal: {}", describe(&renewal));
    out
}

/// A PC certificate for `facility` issued by the CLI (the CA that issues now), written as PEM.
fn issue_pc(h: &Hcpki, facility: &str, name: &str) -> PathBuf {
    issue_pc_with(h, facility, name, Key::P256)
}

/// [`issue_pc`] with a key of type `key` (its file `<scratch>/<name>-<key>.key`).
fn issue_pc_with(h: &Hcpki, facility: &str, name: &str, key: Key) -> PathBuf {
    let request = csr(h.scratch(), name, key, &format!("pc-{name}"));
    let out = h.path(&format!("{name}.pem"));
    h.ok(&["issue", "--profile", "pc", "--facility", facility, "--csr", path(&request), "--out", path(&out)]);
    out
}

fn status_json(h: &Hcpki) -> serde_json::Value {
    status_json_of(h, "pc")
}

fn status_json_of(h: &Hcpki, ca: &str) -> serde_json::Value {
    let out = h.run(&["ca", "rollover", ca, "status", "--json"]);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{}", describe(&out)))
}

/// The root rolled over and switched (D160): the new root keeps the name, the links are self-issued under it and
/// each certifies the other generation's key (checked by key identifiers); all three go to pkilint. Returns the
/// new root's file and one file with both links.
fn roll_root(h: &Hcpki, lint: &mut Pkilint) -> (PathBuf, PathBuf) {
    let started = h.run(&["ca", "rollover", "root", "start"]);
    assert!(String::from_utf8_lossy(&started.stderr).contains("generation 2"), "{}", describe(&started));
    let status = status_json_of(h, "root");
    let rollover = &status["rollover"];
    let file = |name: &str, pem: &serde_json::Value| {
        let path = h.path(name);
        std::fs::write(&path, pem.as_str().unwrap_or_else(|| panic!("{name}: {status}"))).unwrap();
        path
    };
    let new_root = file("root-g2.pem", &rollover["cert_pem"]);
    let new_with_old = file("new-with-old.pem", &rollover["links"]["new_with_old_pem"]);
    let old_with_new = file("old-with-new.pem", &rollover["links"]["old_with_new_pem"]);
    let key_ids = |cert: &PathBuf| {
        let text = x509_text(cert, &["-subject", "-issuer", "-ext", "subjectKeyIdentifier,authorityKeyIdentifier"]);
        let hex = |l: &&str| l.len() > 8 && l.chars().all(|c| c.is_ascii_hexdigit() || c == ':');
        let ids: Vec<String> =
            text.lines().map(|l| l.trim().trim_start_matches("keyid:")).filter(hex).map(str::to_owned).collect();
        assert!(text.matches("CN=hcpki Root CA").count() == 2, "one name, self-issued: {text}");
        (ids[0].clone(), ids[1].clone())
    };
    let (old_key, new_key) = (key_ids(&h.path("root-g1.pem")).0, key_ids(&new_root).0);
    assert_ne!(old_key, new_key);
    assert_eq!(
        key_ids(&new_with_old),
        (new_key.clone(), old_key.clone()),
        "NewWithOld: the new key, signed by the old"
    );
    assert_eq!(key_ids(&old_with_new), (old_key, new_key), "OldWithNew: the old key, signed by the new");
    for cert in [&new_root, &new_with_old, &old_with_new] {
        lint.add(cert);
    }
    h.ok(&["ca", "rollover", "root", "switch"]);
    let current = std::fs::read_to_string(h.ca_cert_file("root")).unwrap();
    assert_eq!(current.trim(), std::fs::read_to_string(&new_root).unwrap().trim(), "`ca cert root` is the new root");
    (new_root, chain(h, "links.pem", &[&new_with_old, &old_with_new]))
}

/// `openssl verify` of `leaf` with `anchor` the only trust anchor (no `-partial_chain`) and `untrusted` the
/// certificates it may build the path through; the output when it refuses.
fn verify_from(anchor: &PathBuf, untrusted: &PathBuf, leaf: &PathBuf) -> Result<(), String> {
    let mut cmd = Command::new("openssl");
    cmd.args(["verify", "-x509_strict", "-CAfile"]).arg(anchor).arg("-untrusted").arg(untrusted).arg(leaf);
    let out = cmd.output().unwrap();
    if out.status.success() { Ok(()) } else { Err(describe(&out)) }
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
