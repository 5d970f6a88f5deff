//! The admin API (`/api/v1/…`) driven by curl over real TLS: an operator certificate from
//! `hcpki operator add` (OpenSSL CSR), facility PC certificates from EST and `hcpki issue`, enrollment
//! credentials over HTTP Basic, and no certificate at all. The journey from application to suspension, the
//! role table from the outside, bad input (400/409/413/415, nothing changed, audited), the CSRF guard, and
//! the operator certificate through `openssl verify` and pkilint.

use crate::est::{Auth as EstAuth, Credential, Est, base64_of};
use crate::fixtures::{Key, csr, csr_der, medical_code, x509_text};
use crate::harness::{Backend, Hcpki, describe};
use crate::peers;
use crate::serve::Served;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Command;

on_both_backends!(
    journey_from_application_to_suspension,
    roles_are_enforced_and_refusals_audited,
    bad_input_is_refused_audited_and_changes_nothing,
    operator_certificates_and_cli,
    session_lifetimes_are_set_by_operators_only,
);

/// Apply (anonymous) → the operator sees the queue → approves → creates an EST credential → the facility
/// admin reads its facility with that credential → the credential enrolls a PC over EST → the PC certificate
/// authenticates the facility admin, read-only (facility, certificates; a new credential refused) → the
/// operator suspends → the PC certificate can no longer act.
fn journey_from_application_to_suspension(b: Backend) {
    let h = Hcpki::initialized(b);
    let ops = operator(&h, "ops", "operator");
    let server = Served::start(&h, &[]);
    let api = Api::new(&h, &server);

    let code = medical_code(4242);
    let application = json!({
        "name": "桜クリニック",
        "kind": "clinic",
        "medical_code": code,
        "address": "東京都千代田区1-1",
        "contact": "admin@sakura.example",
    });
    let r = api.post("/api/v1/applications", &application, &As::Nobody);
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.json["state"], "applied", "{r:?}");
    let id = r.json["id"].as_str().unwrap().to_owned();

    let r = api.get("/api/v1/facilities?state=applied", &ops);
    assert_eq!(r.status, 200, "{r:?}");
    let queue: Vec<&str> = r.json["facilities"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(queue, [id.as_str()]);
    let r = api.get("/api/v1/whoami", &ops);
    assert_eq!(r.json, json!({ "principal": "operator", "name": "ops", "role": "operator" }), "{r:?}");

    let r = api.post(&format!("/api/v1/facilities/{id}/approve"), &json!({}), &ops);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["state"], "approved");
    assert!(api.get("/api/v1/facilities?state=applied", &ops).json["facilities"].as_array().unwrap().is_empty());

    let body = json!({ "protocol": "est", "profiles": ["pc"], "valid_for": "1d" });
    let r = api.post(&format!("/api/v1/facilities/{id}/credentials"), &body, &ops);
    assert_eq!(r.status, 201, "{r:?}");
    let cred = Credential {
        id: r.json["username"].as_str().unwrap().to_owned(),
        secret: r.json["password"].as_str().unwrap().to_owned(),
    };
    let listed = api.get(&format!("/api/v1/facilities/{id}/credentials"), &ops);
    assert_eq!(listed.status, 200, "{listed:?}");
    assert!(!listed.text.contains(&cred.secret) && !listed.text.contains("hash"), "{listed:?}");

    // The credential proves the facility without being used up.
    let by_cred = As::Basic(cred.id.clone(), cred.secret.clone());
    let r = api.get("/api/v1/whoami", &by_cred);
    assert_eq!(r.json["principal"], "facility-admin", "{r:?}");
    assert_eq!(r.json["authenticated_by"], "credential");
    assert_eq!(api.get(&format!("/api/v1/facilities/{id}"), &by_cred).status, 200);

    // …and enrolls a PC over EST, once.
    let est = Est::new(&h, &server);
    let pc_csr = csr(h.scratch(), "pc1", Key::P256, "pc1");
    let reply = est.post("/.well-known/est/pc/simpleenroll", &base64_of(&csr_der(&pc_csr)), &EstAuth::Basic(&cred));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let pc = est.save_pkcs7(&reply.body, "pc1.pem");
    peers::openssl_verify(&h.chain_file("pc"), &pc, Some("sslclient"));
    let pc_key = h.path("pc1-p256.key");
    let admin = As::Cert(pc.clone(), pc_key.clone());

    let r = api.get("/api/v1/whoami", &admin);
    assert_eq!(r.json, json!({ "principal": "facility-admin", "facility": id, "authenticated_by": "certificate" }));
    let r = api.get(&format!("/api/v1/facilities/{id}"), &admin);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["state"], "active", "the first certificate activated the facility");
    let r = api.get(&format!("/api/v1/facilities/{id}/certificates"), &admin);
    assert_eq!(r.status, 200, "{r:?}");
    let serial = x509_text(&pc, &["-serial", "-noout"]).trim().trim_start_matches("serial=").to_ascii_lowercase();
    let certs = r.json["certificates"].as_array().unwrap();
    assert_eq!(certs.len(), 1, "{r:?}");
    assert_eq!(certs[0]["serial"].as_str().unwrap().trim_start_matches('0'), serial.trim_start_matches('0'));
    assert_eq!((certs[0]["status"].as_str(), certs[0]["expired"].as_bool()), (Some("issued"), Some(false)));
    // A used credential no longer proves anything.
    assert_eq!(api.get("/api/v1/whoami", &by_cred).status, 403);

    // The PC certificate alone only reads (issue #24 item 7: changes need a named person, in the console); the
    // operator hands out a router credential and revokes it.
    let body = json!({ "protocol": "est", "profiles": ["router"] });
    let r = api.post(&format!("/api/v1/facilities/{id}/credentials"), &body, &admin);
    assert_eq!(r.status, 403, "{r:?}");
    assert!(r.json["detail"].as_str().unwrap().contains("sign in through the portal"), "{r:?}");
    let r = api.post(&format!("/api/v1/facilities/{id}/credentials"), &body, &ops);
    assert_eq!(r.status, 201, "{r:?}");
    let router_cred = r.json["id"].as_str().unwrap().to_owned();
    assert_eq!(api.post(&format!("/api/v1/credentials/{router_cred}/revoke"), &json!({}), &admin).status, 403);
    let r = api.post(&format!("/api/v1/credentials/{router_cred}/revoke"), &json!({}), &ops);
    assert_eq!((r.status, r.json["status"].as_str()), (200, Some("revoked")), "{r:?}");

    let r = api.post(&format!("/api/v1/facilities/{id}/suspend"), &json!({ "reason": "security incident" }), &ops);
    assert_eq!((r.status, r.json["state"].as_str()), (200, Some("suspended")), "{r:?}");
    let r = api.get(&format!("/api/v1/facilities/{id}"), &admin);
    assert_eq!(r.status, 403, "{r:?}");
    assert!(r.json["detail"].as_str().unwrap().contains("suspended"), "{r:?}");
    assert_eq!(api.get("/api/v1/whoami", &admin).status, 403);
    let r = api.post(&format!("/api/v1/facilities/{id}/resume"), &json!({}), &ops);
    assert_eq!((r.status, r.json["state"].as_str()), (200, Some("active")), "{r:?}");
    assert_eq!(api.get(&format!("/api/v1/facilities/{id}"), &admin).status, 200, "resumed: the admin acts again");

    // A router of the facility is stolen: the PC certificate cannot revoke it, the operator does; refusals
    // change nothing.
    let router_csr = csr(h.scratch(), "stolen", Key::P256, "router");
    let router = h.path("stolen.pem");
    h.ok(&[
        "issue",
        "--profile",
        "router",
        "--facility",
        &id,
        "--csr",
        router_csr.to_str().unwrap(),
        "--out",
        router.to_str().unwrap(),
    ]);
    let router_serial =
        x509_text(&router, &["-serial", "-noout"]).trim().trim_start_matches("serial=").to_ascii_lowercase();
    let revoke = format!("/api/v1/certificates/{router_serial}/revoke");
    assert_eq!(api.post(&revoke, &json!({ "reason": "keyCompromise" }), &As::Nobody).status, 401);
    assert_eq!(api.post(&revoke, &json!({ "reason": "keyCompromise" }), &admin).status, 403);
    let r = api.post(&revoke, &json!({ "reason": "bored" }), &ops);
    assert_eq!(r.status, 400, "{r:?}");
    let r = api.post(&format!("/api/v1/certificates/{}/revoke", "7f".repeat(16)), &json!({}), &ops);
    assert_eq!(r.status, 404, "{r:?}");
    let r = api.post(&revoke, &json!({ "reason": "keyCompromise" }), &ops);
    assert_eq!((r.status, r.json["status"].as_str()), (200, Some("revoked")), "{r:?}");
    assert_eq!(api.post(&revoke, &json!({}), &ops).status, 409, "revoked already");
    assert!(h.ok(&["audit", "list", "--limit", "1000"]).contains(&format!("facility-admin:{id}")));

    let audit = h.ok(&["audit", "list", "--limit", "1000"]);
    for (actor, action) in [
        ("api:anonymous", "facility.register"),
        ("operator:ops", "facility.approve"),
        ("operator:ops", "enroll.credential.create"),
        (&format!("facility-admin:{id}") as &str, "admin.credential.create"),
        (&format!("facility-admin:{id}"), "admin.credential.revoke"),
        (&format!("facility-admin:{id}"), "admin.certificate.revoke"),
        ("operator:ops", "enroll.credential.revoke"),
        ("operator:ops", "cert.revoke"),
        ("operator:ops", "facility.suspend"),
    ] {
        assert!(
            audit.lines().any(|l| l.contains(&format!("\"{actor}\"")) && l.contains(&format!("\"{action}\""))),
            "no audit entry {actor} {action}\n{audit}"
        );
    }
    assert!(audit.contains("security incident"));
    h.ok(&["audit", "verify"]);
    server.stop();
}

/// The role table from the outside: auditors read only, facility admins reach their own facility only
/// and never operator endpoints, a credential cannot mint credentials, disabled operators and router
/// certificates are refused, anonymous callers only apply; every refusal is audited.
fn roles_are_enforced_and_refusals_audited(b: Backend) {
    let h = Hcpki::initialized(b);
    let ops = operator(&h, "ops", "operator");
    let aud = operator(&h, "aud", "auditor");
    let gone = operator(&h, "gone", "operator");
    h.ok(&["operator", "disable", "gone"]);
    let f = h.approved_facility("Own clinic");
    let g = h.approved_facility("Other clinic");
    let applied = h.add_facility("Waiting clinic", None);
    let admin = issued(&h, "pc", &f, &[]);
    let router = issued(&h, "router", &f, &[]);
    let server = Served::start(&h, &[]);
    let api = Api::new(&h, &server);

    // Auditor: reads everything, changes nothing.
    assert_eq!(api.get("/api/v1/facilities?state=applied", &aud).status, 200);
    assert_eq!(api.get(&format!("/api/v1/facilities/{g}/certificates"), &aud).status, 200);
    assert_eq!(api.get(&format!("/api/v1/facilities/{g}/credentials"), &aud).status, 200);
    let r = api.post(&format!("/api/v1/facilities/{applied}/approve"), &json!({}), &aud);
    assert_eq!(r.status, 403, "{r:?}");
    assert!(r.json["detail"].as_str().unwrap().contains("read-only"), "{r:?}");
    let body = json!({ "protocol": "est", "profiles": ["router"] });
    assert_eq!(api.post(&format!("/api/v1/facilities/{f}/credentials"), &body, &aud).status, 403);

    // Facility admin (PC certificate): its own facility only, no operator endpoints.
    assert_eq!(api.get(&format!("/api/v1/facilities/{f}"), &admin).status, 200);
    for path in [
        format!("/api/v1/facilities/{g}"),
        format!("/api/v1/facilities/{g}/certificates"),
        format!("/api/v1/facilities/{g}/credentials"),
        "/api/v1/facilities".to_owned(),
        "/api/v1/facilities?state=applied".to_owned(),
    ] {
        let r = api.get(&path, &admin);
        assert_eq!(r.status, 403, "{path}: {r:?}");
    }
    for path in [format!("/api/v1/facilities/{f}/suspend"), format!("/api/v1/facilities/{applied}/approve")] {
        assert_eq!(api.post(&path, &json!({ "reason": "x" }), &admin).status, 403, "{path}");
    }
    assert_eq!(api.post(&format!("/api/v1/facilities/{g}/credentials"), &body, &admin).status, 403);
    let r = api.post(&format!("/api/v1/facilities/{g}/credentials"), &body, &ops);
    assert_eq!(r.status, 201, "{r:?}");
    let g_cred = r.json["id"].as_str().unwrap().to_owned();
    assert_eq!(api.post(&format!("/api/v1/credentials/{g_cred}/revoke"), &json!({}), &admin).status, 403);

    // Facility admin by credential: reads, but cannot mint or revoke credentials.
    let r = api.post(&format!("/api/v1/facilities/{f}/credentials"), &body, &ops);
    let by_cred = As::Basic(r.json["id"].as_str().unwrap().to_owned(), r.json["password"].as_str().unwrap().to_owned());
    assert_eq!(api.get(&format!("/api/v1/facilities/{f}"), &by_cred).status, 200);
    let r = api.post(&format!("/api/v1/facilities/{f}/credentials"), &body, &by_cred);
    assert_eq!(r.status, 403, "{r:?}");
    assert!(r.json["detail"].as_str().unwrap().contains("PC certificate"), "{r:?}");
    let wrong = As::Basic(g_cred.clone(), "not-the-secret".into());
    assert_eq!(api.get("/api/v1/whoami", &wrong).status, 401);

    // Disabled operator, router certificate, both credential and certificate.
    let r = api.get("/api/v1/whoami", &gone);
    assert_eq!(r.status, 403, "{r:?}");
    assert!(r.json["detail"].as_str().unwrap().contains("disabled"), "{r:?}");
    let r = api.get(&format!("/api/v1/facilities/{f}"), &router);
    assert_eq!(r.status, 403, "{r:?}");
    assert!(r.json["detail"].as_str().unwrap().contains("router"), "{r:?}");
    let As::Cert(admin_cert, admin_key) = &admin else { unreachable!() };
    let As::Basic(cid, csecret) = &by_cred else { unreachable!() };
    let both = api.request("GET", "/api/v1/whoami", None, &admin, &["-u", &format!("{cid}:{csecret}")]);
    assert_eq!(both.status, 400, "{both:?} {admin_cert:?} {admin_key:?}");

    // Anonymous: everything but applying and whoami wants authentication.
    let nobody = As::Nobody;
    for path in [
        "/api/v1/facilities".to_owned(),
        format!("/api/v1/facilities/{f}"),
        format!("/api/v1/facilities/{f}/certificates"),
        format!("/api/v1/facilities/{f}/credentials"),
        "/api/v1/facilities/HF-not-an-id".to_owned(),
    ] {
        let r = api.get(&path, &nobody);
        assert_eq!(r.status, 401, "{path}: {r:?}");
        assert!(r.headers.to_ascii_lowercase().contains("www-authenticate"), "{r:?}");
    }
    for path in [
        format!("/api/v1/facilities/{applied}/approve"),
        format!("/api/v1/facilities/{f}/credentials"),
        format!("/api/v1/credentials/{g_cred}/revoke"),
        format!("/api/v1/credentials/{}/revoke", "0".repeat(32)),
        format!("/api/v1/facilities/{f}/explode"),
    ] {
        assert_eq!(
            api.post(&path, &json!({ "protocol": "est", "profiles": ["router"] }), &nobody).status,
            401,
            "{path}"
        );
    }
    assert_eq!(api.get("/api/v1/whoami", &nobody).json, json!({ "principal": "anonymous" }));

    // The operator can do what the others could not.
    let r = api.post(&format!("/api/v1/facilities/{applied}/approve"), &json!({}), &ops);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(api.post(&format!("/api/v1/credentials/{g_cred}/revoke"), &json!({}), &ops).status, 200);

    let audit = h.ok(&["audit", "list", "--limit", "2000"]);
    let denied: Vec<&str> = audit.lines().filter(|l| l.contains("\"denied\"")).collect();
    for (actor, reason) in [
        ("operator:aud", "read-only"),
        (&format!("facility-admin:{f}") as &str, "another facility"),
        (&format!("facility-admin:{f}"), "only hcpki operators"),
        (&format!("facility-admin:{f}"), "PC certificate"),
        ("api:anonymous", "is disabled"),
        ("api:anonymous", "router"),
        ("api:anonymous", "authenticate with an operator certificate"),
        ("api:anonymous", "wrong secret"),
    ] {
        assert!(
            denied.iter().any(|l| l.contains(&format!("\"{actor}\"")) && l.contains(reason)),
            "no denied audit entry by {actor} saying {reason:?}\n{}",
            denied.join("\n")
        );
    }
    h.ok(&["audit", "verify"]);
    server.stop();
}

/// Malformed and hostile requests: a clear JSON error, nothing changed, an audit entry.
fn bad_input_is_refused_audited_and_changes_nothing(b: Backend) {
    let h = Hcpki::initialized(b);
    let ops = operator(&h, "ops", "operator");
    let code = medical_code(777);
    let existing = h.ok(&["facility", "add", "--name", "Taken", "--kind", "clinic", "--code", &code]).trim().to_owned();
    let server = Served::start(&h, &[]);
    let api = Api::new(&h, &server);
    let facilities = || h.ok(&["facility", "list"]).lines().count();
    let before = facilities();
    let apply = |body: &str| api.request("POST", "/api/v1/applications", Some(body), &As::Nobody, &[]);

    let cases: Vec<(String, u16, &str)> = vec![
        ("{not json".into(), 400, "invalid JSON"),
        (json!({ "name": "x", "kind": "clinic", "extra": 1 }).to_string(), 400, "unknown field `extra`"),
        (json!({ "kind": "clinic" }).to_string(), 400, "missing field `name`"),
        (json!({ "name": "x", "kind": "castle" }).to_string(), 400, "unknown facility kind"),
        (json!({ "name": "x".repeat(201), "kind": "clinic" }).to_string(), 400, "name is longer than 200"),
        (json!({ "name": "x", "kind": "clinic", "address": "a".repeat(301) }).to_string(), 400, "address is longer"),
        (json!({ "name": "x\u{7}", "kind": "clinic" }).to_string(), 400, "control characters"),
        (json!({ "name": "x", "kind": "clinic", "medical_code": "123" }).to_string(), 400, "医療機関コード"),
        (json!({ "name": "x", "kind": "clinic", "medical_code": code }).to_string(), 409, "already registered"),
        (json!({ "name": "x".repeat(20_000), "kind": "clinic" }).to_string(), 413, "at most 16384 bytes"),
    ];
    for (body, status, says) in &cases {
        let r = apply(body);
        assert_eq!(r.status, *status, "{body:.80}: {r:?}");
        assert!(r.json["error"].is_string(), "{r:?}");
        assert!(r.text.contains(says), "{body:.80} must say {says:?}: {r:?}");
    }

    // The CSRF guard: JSON content type on POSTs, no foreign Origin.
    let form = api.request(
        "POST",
        "/api/v1/applications",
        Some("name=x&kind=clinic"),
        &As::Nobody,
        &["-H", "Content-Type: application/x-www-form-urlencoded"],
    );
    assert_eq!(form.status, 415, "{form:?}");
    let body = json!({ "name": "Cross-site", "kind": "clinic" }).to_string();
    let foreign =
        api.request("POST", "/api/v1/applications", Some(&body), &As::Nobody, &["-H", "Origin: https://evil.example"]);
    assert_eq!(foreign.status, 403, "{foreign:?}");
    let own = format!("Origin: https://127.0.0.1:{}", server.https_port);
    let same = api.request("POST", "/api/v1/applications", Some(&body), &As::Nobody, &["-H", &own]);
    assert_eq!(same.status, 201, "the server's own origin is fine: {same:?}");

    // Operator requests with bad paths and bodies, and transitions the state does not allow.
    let bad_id = crate::fixtures::with_wrong_check_char(&existing);
    let r = api.get(&format!("/api/v1/facilities/{bad_id}"), &ops);
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.text.contains("check character"), "{r:?}");
    let unknown = crate::fixtures::unassigned_facility_id();
    assert_eq!(api.get(&format!("/api/v1/facilities/{unknown}"), &ops).status, 404);
    assert_eq!(api.post(&format!("/api/v1/facilities/{unknown}/approve"), &json!({}), &ops).status, 404);
    assert_eq!(api.post(&format!("/api/v1/facilities/{existing}/explode"), &json!({}), &ops).status, 404);
    let r = api.post(&format!("/api/v1/facilities/{existing}/reject"), &json!({}), &ops);
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.text.contains("reason is required"), "{r:?}");
    let r = api.post(&format!("/api/v1/facilities/{existing}/approve"), &json!({ "reason": 5 }), &ops);
    assert_eq!(r.status, 400, "{r:?}");
    let r = api.post(&format!("/api/v1/facilities/{existing}/resume"), &json!({}), &ops);
    assert_eq!(r.status, 409, "{r:?}");
    assert!(r.text.contains("cannot resume"), "{r:?}");
    for query in ["state=sleeping", "limit=0", "limit=1001", "after=HF1", "sort=name"] {
        let r = api.get(&format!("/api/v1/facilities?{query}"), &ops);
        assert_eq!(r.status, 400, "{query}: {r:?}");
    }
    // Paging: one facility per page, `next` leads on, the last page has none.
    let page = api.get("/api/v1/facilities?limit=1", &ops);
    assert_eq!(page.json["facilities"].as_array().unwrap().len(), 1, "{page:?}");
    let next = page.json["next"].as_str().unwrap().to_owned();
    let page = api.get(&format!("/api/v1/facilities?limit=1&after={next}"), &ops);
    assert_eq!(page.json["facilities"].as_array().unwrap().len(), 1, "{page:?}");
    let last = page.json["next"].as_str().unwrap().to_owned();
    let page = api.get(&format!("/api/v1/facilities?limit=1&after={last}"), &ops);
    assert!(page.json["facilities"].as_array().unwrap().is_empty() && page.json["next"].is_null(), "{page:?}");
    let r = api.post(
        &format!("/api/v1/facilities/{existing}/credentials"),
        &json!({ "protocol": "est", "profiles": ["router"] }),
        &ops,
    );
    assert_eq!(r.status, 409, "credentials only for approved facilities: {r:?}");
    h.ok(&["facility", "approve", &existing]);
    for (body, says) in [
        (json!({ "protocol": "ftp", "profiles": ["router"] }), "unknown enrollment protocol"),
        (json!({ "protocol": "est", "profiles": ["server"] }), "not enrolled by facilities"),
        (json!({ "protocol": "est", "profiles": [] }), "at least one profile"),
        (json!({ "protocol": "est", "profiles": ["router"], "valid_for": "1y" }), "not allowed"),
    ] {
        let r = api.post(&format!("/api/v1/facilities/{existing}/credentials"), &body, &ops);
        assert_eq!(r.status, 400, "{body}: {r:?}");
        assert!(r.text.contains(says), "{body} must say {says:?}: {r:?}");
    }
    assert_eq!(api.post(&format!("/api/v1/credentials/{}/revoke", "ab".repeat(16)), &json!({}), &ops).status, 404);

    assert_eq!(facilities(), before + 1, "only the same-origin application was registered");
    assert!(h.ok(&["enroll", "list"]).trim().is_empty(), "no credential was made");
    let audit = h.ok(&["audit", "list", "--limit", "2000"]);
    let denied: Vec<&str> = audit.lines().filter(|l| l.contains("\"denied\"")).collect();
    for says in [
        "key must be a string",
        "unknown field",
        "unknown facility kind",
        "longer than 200",
        "already registered",
        "at most 16384 bytes",
        "Content-Type: application/json",
        "only answers its own origin",
        "check character",
        "reason is required",
        "cannot resume",
        "unknown enrollment protocol",
    ] {
        assert!(
            denied.iter().any(|l| l.contains(says)),
            "no denied audit entry saying {says:?}\n{}",
            denied.join("\n")
        );
    }
    h.ok(&["audit", "verify"]);
    server.stop();
}

/// `hcpki operator add|list|disable`; the operator certificate verifies as a TLS client certificate under
/// the server CA (never the PC CA) and lints clean with pkilint.
fn operator_certificates_and_cli(b: Backend) {
    let h = Hcpki::initialized(b);
    let req = csr(h.scratch(), "alice", Key::Rsa2048, "whatever the CSR says");
    let cert = h.path("alice.pem");
    let add = |name: &str, role: &str| {
        h.run(&[
            "operator",
            "add",
            name,
            "--role",
            role,
            "--csr",
            req.to_str().unwrap(),
            "--out",
            cert.to_str().unwrap(),
        ])
    };
    let out = add("alice", "auditor");
    assert!(out.status.success(), "{}", describe(&out));
    peers::openssl_verify(&h.chain_file("operator"), &cert, Some("sslclient"));
    peers::openssl_verify_refuses(&h.chain_file("pc"), &cert, Some("sslclient"));
    peers::pkilint(&cert);
    let text = x509_text(&cert, &["-text", "-noout"]);
    assert!(text.contains("CN=alice") && !text.contains("whatever"), "{text}");
    assert!(text.contains("URI:https://hcpki.example/operator/alice"), "{text}");
    assert!(text.contains("TLS Web Client Authentication") && !text.contains("Server Authentication"), "{text}");
    assert!(text.contains("Issuer: C=JP, O=hcpki, CN=hcpki Server CA") || text.contains("hcpki Server CA"), "{text}");

    let list = h.ok(&["operator", "list"]);
    assert!(list.contains("alice") && list.contains("auditor") && list.contains("enabled"), "{list}");
    assert!(add("alice", "operator").status.success(), "changing the role re-issues");
    assert!(h.ok(&["operator", "list", "--json"]).contains("\"role\":\"operator\""));
    assert!(
        h.fails(&["operator", "add", "Alice", "--role", "operator", "--csr", req.to_str().unwrap(), "--out", "x.pem"])
            .contains("operator name")
    );
    assert!(
        h.fails(&["operator", "add", "bob", "--role", "root", "--csr", req.to_str().unwrap(), "--out", "x.pem"])
            .contains("unknown operator role")
    );
    assert!(h.fails(&["operator", "disable", "nobody"]).contains("no operator"));
    h.ok(&["operator", "disable", "alice"]);
    assert!(h.ok(&["operator", "list"]).contains("disabled"));
    let out = add("alice", "operator");
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("disabled"), "{}", describe(&out));
    assert!(
        h.fails(&["issue", "--profile", "operator", "--csr", req.to_str().unwrap()]).contains("hcpki operator add")
    );
    // Two certificates (auditor, then operator); the refused re-add issued nothing.
    let issued = h.cert_list(None).iter().filter(|l| l.contains("\"operator\"")).count();
    assert_eq!(issued, 2);
    let audit = h.ok(&["audit", "list", "--limit", "1000"]);
    for action in ["operator.add", "operator.role", "operator.disable"] {
        assert!(audit.contains(action), "{action}\n{audit}");
    }
    h.ok(&["audit", "verify"]);
}

// ---- helpers ----

/// How a request authenticates.
#[derive(Clone, Debug)]
pub(crate) enum As {
    Nobody,
    /// TLS client certificate and key files.
    Cert(PathBuf, PathBuf),
    /// HTTP Basic credential ID and secret.
    Basic(String, String),
}

/// `hcpki operator add NAME --role ROLE` for a fresh OpenSSL P-256 CSR; the certificate and key.
pub(crate) fn operator(h: &Hcpki, name: &str, role: &str) -> As {
    let req = csr(h.scratch(), &format!("op-{name}"), Key::P256, name);
    let cert = h.path(&format!("op-{name}.pem"));
    h.ok(&["operator", "add", name, "--role", role, "--csr", req.to_str().unwrap(), "--out", cert.to_str().unwrap()]);
    As::Cert(cert, h.path(&format!("op-{name}-p256.key")))
}

/// `hcpki issue --profile PROFILE --facility F` for a fresh OpenSSL P-256 CSR; the certificate and key.
pub(crate) fn issued(h: &Hcpki, profile: &str, facility: &str, extra: &[&str]) -> As {
    let name = format!("{profile}-{facility}");
    let req = csr(h.scratch(), &name, Key::P256, &name);
    let cert = h.path(&format!("{name}.pem"));
    let args = [
        &["issue", "--profile", profile, "--facility", facility, "--csr", req.to_str().unwrap()][..],
        &["--out", cert.to_str().unwrap()],
        extra,
    ]
    .concat();
    h.ok(&args);
    As::Cert(cert, h.path(&format!("{name}-p256.key")))
}

/// Issue #6: an operator sets and clears a facility's SSO session lifetime over the API (what `hcpki portal
/// lifetime` does); auditors and the facility's own admin are refused, out-of-range hours and unknown facilities
/// too, each audited; the CLI lists what the API set.
fn session_lifetimes_are_set_by_operators_only(b: Backend) {
    let h = Hcpki::initialized(b);
    let ops = operator(&h, "ops", "operator");
    let aud = operator(&h, "aud", "auditor");
    let f = h.approved_facility("Night clinic");
    let admin = issued(&h, "pc", &f, &[]);
    let server = Served::start(&h, &[]);
    let api = Api::new(&h, &server);
    let path = format!("/api/v1/facilities/{f}/session-lifetime");

    let r = api.post(&path, &json!({ "hours": 10 }), &ops);
    assert_eq!((r.status, &r.json["changed"]), (200, &json!(true)), "{r:?}");
    let listed = h.ok(&["portal", "lifetime", "list"]);
    assert!(listed.contains(&f) && listed.contains("10 h"), "{listed}");
    for (who, name) in [(&aud, "auditor"), (&admin, "facility admin")] {
        let r = api.post(&path, &json!({ "hours": 2 }), who);
        assert_eq!(r.status, 403, "{name}: {r:?}");
    }
    let r = api.post(&path, &json!({ "hours": 500 }), &ops);
    assert!(r.status == 400 && r.text.contains("1 to 168"), "{r:?}");
    let r = api.post(&path, &json!({ "hours": "ten" }), &ops);
    assert_eq!(r.status, 400, "{r:?}");
    let unknown = h.add_facility("Unknown clinic", None).replace(|c: char| c.is_ascii_digit(), "9");
    let r = api.post(&format!("/api/v1/facilities/{unknown}/session-lifetime"), &json!({ "hours": 8 }), &ops);
    assert!(r.status == 400 || r.status == 404, "{r:?}");
    assert!(h.ok(&["portal", "lifetime", "list"]).contains("10 h"), "refusals changed nothing");

    let r = api.post(&path, &json!({ "hours": null }), &ops);
    assert_eq!((r.status, &r.json["changed"]), (200, &json!(true)), "{r:?}");
    let r = api.post(&path, &json!({ "hours": null }), &ops);
    assert_eq!((r.status, &r.json["changed"]), (200, &json!(false)), "{r:?}");
    assert!(!h.ok(&["portal", "lifetime", "list"]).contains(&f));
    let audit = h.ok(&["audit", "list", "--limit", "1000"]);
    assert_eq!(audit.lines().filter(|l| l.contains("portal.session_lifetime")).count(), 2, "{audit}");
    assert!(audit.lines().filter(|l| l.contains("admin.facility.session_lifetime")).count() >= 4, "{audit}");
    h.ok(&["audit", "verify"]);
    server.stop();
}

#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: String,
    pub(crate) text: String,
    pub(crate) json: Value,
}

/// curl against the running server's HTTPS listener, trusting the server chain.
pub(crate) struct Api<'a> {
    h: &'a Hcpki,
    port: u16,
    server_chain: PathBuf,
}

impl<'a> Api<'a> {
    pub(crate) fn new(h: &'a Hcpki, server: &Served) -> Self {
        Self { h, port: server.https_port, server_chain: h.chain_file("server") }
    }

    pub(crate) fn get(&self, path: &str, who: &As) -> Reply {
        self.request("GET", path, None, who, &[])
    }

    pub(crate) fn post(&self, path: &str, body: &Value, who: &As) -> Reply {
        self.request("POST", path, Some(&body.to_string()), who, &[])
    }

    /// Any request; a JSON content type on bodies unless `extra` names another.
    pub(crate) fn request(&self, method: &str, path: &str, body: Option<&str>, who: &As, extra: &[&str]) -> Reply {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let headers = self.h.path(&format!("api-headers-{id}"));
        let mut cmd = Command::new("curl");
        cmd.args(["--max-time", "30", "-sS", "-X", method, "--cacert"]).arg(&self.server_chain);
        cmd.arg("-D").arg(&headers);
        if let Some(body) = body {
            let file = self.h.path(&format!("api-body-{id}"));
            std::fs::write(&file, body).unwrap();
            if !extra.iter().any(|e| e.to_ascii_lowercase().starts_with("content-type")) {
                cmd.args(["-H", "Content-Type: application/json"]);
            }
            cmd.arg("--data-binary").arg(format!("@{}", file.display()));
        }
        match who {
            As::Nobody => {}
            As::Cert(cert, key) => {
                cmd.arg("--cert").arg(cert).arg("--key").arg(key);
            }
            As::Basic(id, secret) => {
                cmd.args(["-u", &format!("{id}:{secret}")]);
            }
        }
        let out = cmd.args(extra).arg(format!("https://127.0.0.1:{}{path}", self.port)).output().unwrap();
        assert!(out.status.success(), "curl {method} {path} failed\n{}", describe(&out));
        let headers = std::fs::read_to_string(&headers).unwrap();
        let status = headers.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply { status, headers, text, json }
    }
}
