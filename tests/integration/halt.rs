//! The issuance stop switch (D135, issue #46 item 5) against two running replicas: `hcpki ca halt` on the CA
//! host stops EST on both (503, `Retry-After`, the reason in the body) and the CLI's own issuance, while OCSP
//! (OpenSSL) and the CRL keep being served; root, and one person approving twice, do not resume; a second named
//! person does, and the credential the halted request used enrolls afterwards. Every step is in the audit log.

use crate::admin::{Api, As, operator};
use crate::est::{Auth, Est, base64_of};
use crate::fixtures::{Key, csr, csr_der, x509_text};
use crate::harness::{Backend, Hcpki, describe};
use crate::serve::Served;
use std::process::Command;

on_both_backends!(halt_stops_issuance_on_every_replica_until_two_people_approve);

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
    h.ok(&["audit", "verify"]);
}
