//! The issuance stop switch (D135, issue #46 item 5) against two running replicas: `hcpki ca halt` on the CA
//! host stops EST on both (503, `Retry-After`, the reason in the body) and the CLI's own issuance, while OCSP
//! (OpenSSL) and the CRL keep being served; root, and one person approving twice, do not resume; a second named
//! person does, and the credential the halted request used enrolls afterwards. Every step is in the audit log.
//! The admin API and the console's page (D141) throw the same switch across the two replicas; the console's
//! device key form and a re-issue job meet a halt (said in words, the job paused, nothing issued). On SQLite only:
//! certbot and strongSwan's `pki --scep` are told to come back later and enroll after the resume, and a server
//! started while halted that would renew its TLS certificate starts on the old one and serves OCSP and CRLs.
//! The CP/CPS draft (D150) rides along: the admin API, the console's download and `hcpki cps` give one document.

use crate::admin::{Api, As, operator};
use crate::console::{Console, form};
use crate::est::{Auth, Est, base64_of};
use crate::fixtures::{Key, csr, csr_der, x509_text};
use crate::harness::{Backend, Hcpki, describe};
use crate::serve::Served;
use std::process::Command;

on_both_backends!(halt_stops_issuance_on_every_replica_until_two_people_approve);

mod sqlite_only {
    #[test]
    fn clients_come_back_after_the_resume_and_a_halted_start_keeps_its_certificate() {
        super::clients_come_back_after_the_resume_and_a_halted_start_keeps_its_certificate(
            crate::harness::Backend::Sqlite,
        )
    }
}

const REASON: &str = "鍵の調査中 / CA key under investigation";

fn halt_stops_issuance_on_every_replica_until_two_people_approve(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("Halted clinic");
    let before = crate::revocation::issue(&h, "router", &id, "before", Key::P256);
    let replicas = [Served::start(&h, &[]), Served::start(&h, &[])];
    let est = [Est::new(&h, &replicas[0]), Est::new(&h, &replicas[1])];
    let cred = est[0].credential(&id, "pc");
    let pc_csr = base64_of(&csr_der(&csr(h.scratch(), "pc", Key::P256, "pc")));
    let as_user = |user: &str, args: &[&str]| h.run_with_env("USER", user, args);
    // Operators' certificates are issuance too: made before the halt, for the admin API's round below.
    let (carol, dave, erin) =
        (operator(&h, "carol", "operator"), operator(&h, "dave", "operator"), operator(&h, "erin", "auditor"));

    let halted = as_user("alice", &["ca", "halt", "--reason", REASON]);
    assert!(halted.status.success(), "{}", describe(&halted));
    let status = as_user("alice", &["ca", "halt-status", "--json"]);
    assert_eq!(status.status.code(), Some(1), "halt-status exits 1 while halted\n{}", describe(&status));
    assert!(String::from_utf8_lossy(&status.stdout).contains(REASON), "{}", describe(&status));

    // Both replicas refuse EST: the halt is in the shared database, not in the process that ordered it.
    for (i, e) in est.iter().enumerate() {
        let reply = e.post("/.well-known/est/pc/simpleenroll", &pc_csr, &Auth::Basic(&cred));
        assert_eq!(reply.status, 503, "replica {i}: {}", reply.body);
        assert!(reply.headers.to_ascii_lowercase().contains("retry-after: 600"), "replica {i}: {}", reply.headers);
        assert!(
            reply.body.contains("issuance is halted by the operators") && reply.body.contains(REASON),
            "replica {i}: {}",
            reply.body
        );
    }
    // The CLI's issuance passes the same pipeline.
    let cli_csr = csr(h.scratch(), "cli", Key::P256, "cli");
    let refused = h.fails(&["issue", "--profile", "pc", "--facility", &id, "--csr", cli_csr.to_str().unwrap()]);
    assert!(refused.contains("issuance is halted by the operators"), "{refused}");

    // OCSP and the CRL are not issuance: both still answer on a halted replica.
    let http = replicas[1].http_port;
    let ocsp = Command::new("openssl")
        .args(["ocsp", "-no_nonce", "-issuer"])
        .arg(h.ca_cert_file("router"))
        .arg("-CAfile")
        .arg(h.chain_file("router"))
        .arg("-cert")
        .arg(&before)
        .args(["-url", &format!("http://127.0.0.1:{http}/ocsp/router")])
        .output()
        .unwrap();
    let text = describe(&ocsp);
    assert!(text.contains(": good") && text.contains("Response verify OK"), "{text}");
    let cdp = x509_text(&before, &["-ext", "crlDistributionPoints"]);
    let crl_path = cdp.split("/crl/").nth(1).and_then(|s| s.lines().next()).map(str::trim).unwrap();
    let crl = Command::new("curl")
        .args(["-sS", "--fail", "-o", "/dev/null", &format!("http://127.0.0.1:{http}/crl/{crl_path}")])
        .output()
        .unwrap();
    assert!(crl.status.success(), "{}", describe(&crl));

    // Root is nobody in particular; one person twice is one person; both refusals audited.
    let root = as_user("root", &["ca", "resume"]);
    assert!(!root.status.success() && describe(&root).contains("not a named person"), "{}", describe(&root));
    let first = as_user("alice", &["ca", "resume"]);
    assert!(first.status.success() && describe(&first).contains("1 more approval"), "{}", describe(&first));
    let twice = as_user("alice", &["ca", "resume"]);
    assert!(!twice.status.success() && describe(&twice).contains("already approved"), "{}", describe(&twice));
    assert_eq!(as_user("alice", &["ca", "halt-status"]).status.code(), Some(1), "still halted");
    let reply = est[0].post("/.well-known/est/pc/simpleenroll", &pc_csr, &Auth::Basic(&cred));
    assert_eq!(reply.status, 503, "{}", reply.body);

    // A second, different person resumes; the halted requests gave their credential back, so it enrolls now.
    let second = as_user("bob", &["ca", "resume"]);
    assert!(second.status.success() && describe(&second).contains("issuance resumed"), "{}", describe(&second));
    assert_eq!(as_user("bob", &["ca", "halt-status"]).status.code(), Some(0));
    let reply = est[1].post("/.well-known/est/pc/simpleenroll", &pc_csr, &Auth::Basic(&cred));
    assert_eq!(reply.status, 200, "{}", reply.body);

    let audit = h.audit_entries();
    let of = |action: &str| -> Vec<(String, String)> {
        audit
            .iter()
            .filter(|e| e["action"] == action)
            .map(|e| (e["actor"].as_str().unwrap().to_owned(), e["outcome"].as_str().unwrap().to_owned()))
            .collect()
    };
    let pair = |a: &str, o: &str| (a.to_owned(), o.to_owned());
    assert_eq!(of("ca.issuance.halt"), [pair("cli:alice", "ok")]);
    assert_eq!(
        of("ca.issuance.resume.approve"),
        [pair("cli:root", "denied"), pair("cli:alice", "ok"), pair("cli:alice", "denied"), pair("cli:bob", "ok")]
    );
    assert_eq!(of("ca.issuance.resume"), [pair("cli:bob", "ok")]);
    let refused_issues = audit
        .iter()
        .filter(|e| e["action"] == "cert.issue" && e["outcome"] == "denied")
        .filter(|e| e["detail"]["reason"].as_str().is_some_and(|r| r.contains("halted")))
        .count();
    assert_eq!(refused_issues, 4, "two EST replicas, the CLI, EST again: each refusal audited\n{audit:#?}");

    // The same switch through the admin API, one replica ordering and the other seeing it: operators halt and
    // approve, an auditor only reads, nobody anonymous; the same operator twice does not resume.
    let api = [Api::new(&h, &replicas[0]), Api::new(&h, &replicas[1])];
    let r = api[0].get("/api/v1/ca/halt", &erin);
    assert!(r.status == 200 && r.json["halted"] == false, "{r:?}");
    let reason = serde_json::json!({ "reason": "HSM の点検 / HSM check" });
    assert_eq!(api[0].post("/api/v1/ca/halt", &reason, &As::Nobody).status, 401);
    assert_eq!(api[0].post("/api/v1/ca/halt", &reason, &erin).status, 403, "an auditor reads only");
    let r = api[0].post("/api/v1/ca/halt", &serde_json::json!({ "reason": " " }), &carol);
    assert!(r.status == 400 && r.json["detail"].as_str().unwrap().contains("reason"), "{r:?}");
    let r = api[0].post("/api/v1/ca/halt", &reason, &carol);
    assert!(r.status == 201 && r.json["reason"] == "HSM の点検 / HSM check", "{r:?}");
    let r = api[1].post("/api/v1/ca/halt", &reason, &dave);
    assert!(r.status == 409 && r.json["detail"].as_str().unwrap().contains("already halted"), "{r:?}");
    let r = api[1].get("/api/v1/ca/halt", &erin);
    assert!(r.status == 200 && r.json["halted"] == true && r.json["halt"]["halted_by"] == "operator:carol", "{r:?}");
    let fresh = est[0].credential(&id, "pc");
    let reply = est[1].post("/.well-known/est/pc/simpleenroll", &pc_csr, &Auth::Basic(&fresh));
    assert_eq!(reply.status, 503, "halted through the API on the other replica: {}", reply.body);
    assert_eq!(api[0].post("/api/v1/ca/halt/approve", &serde_json::json!({}), &erin).status, 403);
    let r = api[0].post("/api/v1/ca/halt/approve", &serde_json::json!({}), &carol);
    assert!(r.status == 200 && r.json["resumed"] == false && r.json["still_needed"] == 1, "{r:?}");
    let r = api[1].post("/api/v1/ca/halt/approve", &serde_json::json!({}), &carol);
    assert!(r.status == 409 && r.json["detail"].as_str().unwrap().contains("already approved"), "{r:?}");
    let r = api[1].post("/api/v1/ca/halt/approve", &serde_json::json!({}), &dave);
    assert!(r.status == 200 && r.json["resumed"] == true, "{r:?}");
    assert_eq!(api[0].get("/api/v1/ca/halt", &erin).json["halted"], false);
    let reply = est[0].post("/.well-known/est/pc/simpleenroll", &pc_csr, &Auth::Basic(&fresh));
    assert_eq!(reply.status, 200, "resumed through the API: {}", reply.body);
    let audit = h.audit_entries();
    let approvals: Vec<_> = audit
        .iter()
        .filter(|e| {
            e["action"] == "ca.issuance.resume.approve" && e["actor"].as_str().unwrap().starts_with("operator:")
        })
        .map(|e| (e["actor"].as_str().unwrap().to_owned(), e["outcome"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        approvals,
        [pair("operator:carol", "ok"), pair("operator:carol", "denied"), pair("operator:dave", "ok")],
        "{audit:#?}"
    );
    // The CP/CPS draft (D150): the same document `hcpki cps` writes, for operators and auditors only; the console
    // offers it as a download on this page.
    let cps = api[1].get("/api/v1/ca/cps", &erin);
    assert!(cps.status == 200 && cps.headers.to_lowercase().contains("text/markdown"), "{cps:?}");
    assert_eq!(cps.text, h.ok(&["cps"]), "the API and the command give one document");
    assert!(cps.text.contains("### 7.1 Certificate profile") && !cps.text.contains("{{"), "{}", cps.text);
    assert_eq!(api[1].get("/api/v1/ca/cps", &As::Nobody).status, 401);
    let console = Console::new(&h, &replicas[0]);
    let page = console.get("/console/ca/halt", &erin);
    assert!(page.text.contains("href=\"/console/ca/cps\"") && page.text.contains("CP/CPS"), "{page:?}");
    let download = console.get("/console/ca/cps", &erin);
    assert!(download.status == 200 && download.headers.contains("cp-cps.md"), "{download:?}");
    assert_eq!(download.text, cps.text);
    console_round(&h, &replicas, &id, [&carol, &dave, &erin]);
    h.ok(&["audit", "verify"]);
}

/// The console's page across the two replicas (D141): state in words, a reason refused on the page, the
/// confirmation naming what halting does, the halt seen on the other replica, the device key form and a re-issue
/// job meeting it (nothing issued, the job paused and then finished), the same operator twice refused in words,
/// a second operator resuming.
fn console_round(h: &Hcpki, replicas: &[Served; 2], id: &str, [carol, dave, erin]: [&As; 3]) {
    const WHY: &str = "HSM の交換 / HSM replacement";
    let console = [Console::new(h, &replicas[0]), Console::new(h, &replicas[1])];
    let page = console[0].get("/console/ca/halt", carol);
    assert!(
        page.status == 200 && page.text.contains("data-halted=\"false\"") && page.text.contains("稼働中"),
        "{page:?}"
    );
    let read = console[0].get("/console/ca/halt", erin);
    assert!(read.status == 200 && !read.text.contains("name=\"reason\""), "an auditor reads, no form: {read:?}");
    assert_eq!(console[0].get("/console/ca/halt/confirm?reason=x", erin).status, 403, "an auditor may not halt");
    let blank = console[0].get("/console/ca/halt/confirm?reason=+", carol);
    assert!(blank.status == 400 && blank.text.contains("1〜500 文字"), "said on the page: {blank:?}");
    let confirm = console[0].get(&format!("/console/ca/halt/confirm?{}", form(&[("reason", WHY)])), carol);
    assert!(
        confirm.status == 200 && confirm.text.contains(WHY) && confirm.text.contains("全レプリカで直ちに止まります"),
        "{confirm:?}"
    );
    assert_eq!(h.run(&["ca", "halt-status"]).status.code(), Some(0), "the confirmation page halts nothing");
    let r = console[0].submit("/console/ca/halt", &[("reason", WHY)], &confirm, carol);
    assert!(r.status == 303 && r.headers.contains("/console/ca/halt?done=issuance-halted"), "{r:?}");
    let seen = console[1].get("/console/ca/halt?done=issuance-halted", dave);
    assert!(seen.text.contains("data-halted=\"true\"") && seen.text.contains(WHY), "{seen:?}");
    assert!(seen.text.contains("operator:carol") && seen.text.contains("id=\"done\""), "{seen:?}");
    let again = console[1].get(&format!("/console/ca/halt/confirm?{}", form(&[("reason", "twice")])), dave);
    assert!(again.status == 409 && again.text.contains("すでに停止中"), "{again:?}");

    // The device key form: what happened in words, nothing made; a re-issue job pauses with its items pending.
    let before = h.cert_list(Some(id)).len();
    let facility = console[1].get(&format!("/console/facilities/{id}"), dave);
    let r = console[1].submit(&format!("/console/facilities/{id}/pkcs12"), &[("profile", "router")], &facility, dave);
    assert!(r.status == 503 && r.text.contains("一時停止") && r.text.contains("value=\"router\" selected"), "{r:?}");
    let reissue = ["cert", "reissue", "--facility", id, "--profile", "router"];
    let paused = h.fails(&reissue);
    assert!(paused.contains("is paused") && paused.contains("issuance is halted") && paused.contains(WHY), "{paused}");
    assert!(h.ok(&["job", "list"]).contains("queued"), "paused, resumable");
    let job = h.db().strings("SELECT id FROM jobs").pop().unwrap();
    let page = console[1].get(&format!("/console/jobs/{job}"), dave);
    assert!(page.text.contains("発行を止めているため、一時停止しました"), "the pause in words: {page:?}");
    assert!(!page.text.contains("issuance is halted by the operators"), "not the CLI's English: {page:?}");
    assert_eq!(h.cert_list(Some(id)).len(), before, "nothing issued while halted");

    let first = console[0].get("/console/ca/halt/approve", carol);
    assert!(first.status == 200 && first.text.contains("止まったまま"), "{first:?}");
    let r = console[0].submit("/console/ca/halt/approve", &[], &first, carol);
    assert!(r.status == 303 && r.headers.contains("done=resume-approved"), "{r:?}");
    let twice = console[1].get("/console/ca/halt/approve", carol);
    let r = console[1].submit("/console/ca/halt/approve", &[], &twice, carol);
    assert!(r.status == 409 && r.text.contains("すでに承認しています"), "in words: {r:?}");
    let second = console[1].get("/console/ca/halt/approve", dave);
    assert!(second.text.contains("2人目") && second.text.contains("operator:carol"), "{second:?}");
    let r = console[1].submit("/console/ca/halt/approve", &[], &second, dave);
    assert!(r.status == 303 && r.headers.contains("done=issuance-resumed"), "{r:?}");
    assert_eq!(h.run(&["ca", "halt-status"]).status.code(), Some(0), "resumed from the console");
    // The paused job continues where it stopped.
    let done = h.run(&reissue);
    assert!(done.status.success() && describe(&done).contains("done"), "{}", describe(&done));
    assert!(h.cert_list(Some(id)).len() > before, "re-issued after the resume");
}

/// certbot and strongSwan `pki --scep` while halted: refused with "come back later" (ACME: 503 with
/// `Retry-After`; SCEP: HTTP 503 with `Retry-After`, D141) and the reason, nothing issued, the credentials kept;
/// after the resume both enroll with the same credentials. A server started while halted, whose TLS certificate
/// would be renewed for new names, starts on the stored one, says why in its log, and serves OCSP and CRLs.
fn clients_come_back_after_the_resume_and_a_halted_start_keeps_its_certificate(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("Halted peers clinic");
    // The two settings (D141), read by the CLI and by the server alike.
    let config = h.dir().join("hcpki.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}\n[ca]\nresume_approval_minutes = 30\nhalt_retry_after_secs = 120\n"))
        .unwrap();
    let acme = crate::acme::Acme::start(&h, &id);
    let scep = crate::scep::Scep::new(&h, &acme.server, "router");
    let eab = acme.credential("pc");
    let challenge = scep.challenge(&id, "router");
    let name = format!("pc-0001.{}", acme.domain);
    let as_user = |user: &str, args: &[&str]| h.run_with_env("USER", user, args);
    assert!(as_user("alice", &["ca", "halt", "--reason", REASON]).status.success());

    let refused = acme.certbot_fails("halt", &eab, &["certonly", "-d", &name, "--key-type", "ecdsa"]);
    assert!(refused.contains("issuance is halted") && refused.contains("鍵の調査中"), "{refused}");
    let key = scep.pki_key("halted-router");
    let out = h.path("halted-router.pem");
    let pki = scep.pki_scep("router", &key, "CN=gw", &["--password", &challenge], &out);
    assert!(!pki.status.success(), "{}", describe(&pki));
    let est = Est::new(&h, &acme.server);
    let cred = est.credential(&id, "pc");
    let pc_csr = base64_of(&csr_der(&csr(h.scratch(), "pc", Key::P256, "pc")));
    let reply = est.post("/.well-known/est/pc/simpleenroll", &pc_csr, &Auth::Basic(&cred));
    assert!(
        reply.status == 503 && reply.headers.to_ascii_lowercase().contains("retry-after: 120"),
        "{}",
        reply.headers
    );
    assert_eq!(h.cert_list(Some(&id)).len(), 0, "nothing issued while halted");

    // A second server on another name: the TLS certificate would be renewed; it starts on the stored one.
    let halted = Served::start(&h, &["--server-name", "halted.example"]);
    let crl = Command::new("curl")
        .args(["-sS", "--fail", "-o", "/dev/null", &format!("http://127.0.0.1:{}/crl/pc.crl", halted.http_port)])
        .output()
        .unwrap();
    assert!(crl.status.success(), "{}", describe(&crl));
    let log = halted.stop();
    assert!(log.contains("was not renewed because issuance is halted"), "{log}");

    let first = as_user("alice", &["ca", "resume"]);
    assert!(first.status.success() && describe(&first).contains("within 30 minutes"), "{}", describe(&first));
    assert!(as_user("bob", &["ca", "resume"]).status.success());
    let cfg = acme.certbot("halt", &eab, &["certonly", "-d", &name, "--key-type", "ecdsa"]);
    assert!(acme.live(&cfg, &name, "cert.pem").exists(), "certbot enrolled after the resume");
    let pki = scep.pki_scep("router", &key, "CN=gw", &["--password", &challenge], &out);
    assert!(pki.status.success(), "the same challenge after the resume: {}", describe(&pki));
    assert_eq!(h.cert_list(Some(&id)).len(), 2);
    let audit = h.audit_entries();
    let halted_refusals = audit
        .iter()
        .filter(|e| e["action"] == "cert.issue" && e["outcome"] == "denied")
        .filter(|e| e["detail"]["reason"].as_str().is_some_and(|r| r.contains("halted")))
        .count();
    assert!(halted_refusals >= 3, "ACME, SCEP and the server's own certificate, each audited\n{audit:#?}");
}
