//! EST (RFC 7030) against real clients: strongSwan `pki --est` enrolls and re-enrolls routers (P-256 and
//! RSA-2048 keys from `pki --gen`), curl + OpenSSL fetch cacerts and csrattrs, enroll and re-enroll a PC,
//! and every refusal (401/403/400/413) is checked for its status, its audit entry and that nothing was
//! issued. Certificates pass `openssl verify` against `hcpki ca chain` and pkilint.

use crate::fixtures::{Broken, Key, broken_csr, csr, csr_der, run_ok, x509_text};
use crate::harness::{Backend, Hcpki, describe};
use crate::peers::{self, Pkilint};
use crate::serve::Served;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

on_both_backends!(
    strongswan_enrolls_and_reenrolls_routers,
    curl_openssl_cacerts_csrattrs_and_pc_enrollment,
    bad_input_is_refused_audited_and_issues_nothing,
    concurrent_uses_of_one_credential_issue_once,
    credential_cli,
    serverkeygen_returns_a_new_key_and_its_certificate,
    enrollment_on_one_replica_reenrollment_on_the_other,
);

/// strongSwan enrolls a P-256 router with a credential (its SAN request checked against the facility),
/// re-enrolls it with a new RSA-2048 key over TLS client auth (subject and SANs kept), and enrolls a second
/// router with an RSA-2048 key; the credential is then used up.
fn strongswan_enrolls_and_reenrolls_routers(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("strongSwan clinic");
    let server = Served::start(&h, &[]);
    let est = Est::new(&h, &server);

    let cred = est.credential(&id, "router");
    let key = est.pki_key("router1", "ecdsa", "256");
    let req = est.pki_req(&key, &["--san", "192.0.2.7"]);
    let cert = est.pki_est(&req, &["--userpass", &cred.userpass()], "router1.pem");
    let dns = h.router_dns_name(&id);
    let mut lint = Pkilint::certs();
    check_router(&h, &cert, &[&format!("DNS:{dns}"), "IP Address:192.0.2.7"], &mut lint);
    let subject = x509_text(&cert, &["-subject"]);
    assert!(subject.contains("CN=192.0.2.7") && subject.contains(&id), "{subject}");
    assert!(h.ok(&["enroll", "list", "--facility", &id]).contains(" used "), "credential must show as used");

    // Re-enrollment: the old certificate and key authenticate over TLS; the new key is RSA-2048.
    let new_key = est.pki_key("router1-new", "rsa", "2048");
    let new_req = est.pki_req(&new_key, &[]);
    let key_arg = key.to_str().unwrap();
    let renewed = est.pki_est(&new_req, &["--cert", cert.to_str().unwrap(), "--key", key_arg], "router1-new.pem");
    check_router(&h, &renewed, &[&format!("DNS:{dns}"), "IP Address:192.0.2.7"], &mut lint);
    assert_eq!(x509_text(&renewed, &["-subject"]), subject, "re-enrollment keeps the subject");
    assert_ne!(x509_text(&renewed, &["-serial"]), x509_text(&cert, &["-serial"]));
    assert!(x509_text(&renewed, &["-text"]).contains("rsaEncryption"));

    let cred2 = est.credential(&id, "router");
    let rsa_key = est.pki_key("router2", "rsa", "2048");
    let rsa_req = est.pki_req(&rsa_key, &["--san", &format!("gw2.{dns}")]);
    let rsa_cert = est.pki_est(&rsa_req, &["--userpass", &cred2.userpass()], "router2.pem");
    check_router(&h, &rsa_cert, &[&format!("DNS:{dns}"), &format!("DNS:gw2.{dns}")], &mut lint);
    lint.check();

    assert_eq!(h.cert_list(Some(&id)).len(), 3);
    let audit = h.ok(&["audit", "list", "--limit", "1000"]);
    assert!(audit.contains(&format!("est:credential:{}", cred.id)), "issuance actor is the credential\n{audit}");
    h.ok(&["audit", "verify"]);
    server.stop();
}

/// Issue #9, whole flows across replicas: two `hcpki serve` on one directory and database. strongSwan enrolls a
/// router on replica A with a single-use credential, re-enrolls it on replica B over mutual TLS with the
/// certificate A issued, and the credential replayed on B is refused ("already used", audited, nothing issued).
fn enrollment_on_one_replica_reenrollment_on_the_other(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("Replicated clinic");
    let (first, second) = (Served::start(&h, &[]), Served::start(&h, &[]));
    let (on_a, on_b) = (Est::new(&h, &first), Est::new(&h, &second));
    let dns = format!("DNS:{}", h.router_dns_name(&id));

    let cred = on_a.credential(&id, "router");
    let key = on_a.pki_key("router", "ecdsa", "256");
    let req = on_a.pki_req(&key, &[]);
    let cert = on_a.pki_est(&req, &["--userpass", &cred.userpass()], "router.pem");
    let mut lint = Pkilint::certs();
    check_router(&h, &cert, &[&dns], &mut lint);

    let new_key = on_b.pki_key("router-new", "ecdsa", "256");
    let mtls = ["--cert", cert.to_str().unwrap(), "--key", key.to_str().unwrap()];
    let renewed = on_b.pki_est(&on_b.pki_req(&new_key, &[]), &mtls, "router-new.pem");
    check_router(&h, &renewed, &[&dns], &mut lint);
    lint.check();
    assert_eq!(x509_text(&renewed, &["-subject"]), x509_text(&cert, &["-subject"]), "re-enrollment keeps the subject");
    assert_ne!(x509_text(&renewed, &["-serial"]), x509_text(&cert, &["-serial"]));

    let replay = on_b.post("/.well-known/est/simpleenroll", &base64_of(&req), &Auth::Basic(&cred));
    assert!(replay.status == 403 && replay.body.contains("already used"), "{}", replay.body);
    assert_eq!(h.cert_list(Some(&id)).len(), 2, "the replay issued nothing");
    // The credential's uses: the enrollment, then the replay refused.
    let uses: Vec<serde_json::Value> = h
        .audit_list()
        .into_iter()
        .filter(|e| e["action"] == "enroll.credential.use" && e["target"] == cred.id.as_str())
        .collect();
    let outcomes: Vec<&str> = uses.iter().map(|e| e["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["ok", "denied"], "{uses:?}");
    assert!(uses[1]["detail"].as_str().unwrap().contains("already used"), "{uses:?}");
    // Each step was answered where the test sent it: A enrolled, B re-enrolled and refused the replay.
    let est_answers = |server: &Served| {
        let metrics = server.curl_https(&h.chain_file("server"), "/metrics");
        let enroll = |status: &str| crate::lb::requests(&metrics, &format!("enroll\",status=\"{status}\""));
        (enroll("200"), enroll("403"))
    };
    assert_eq!(est_answers(&first), (1, 0), "replica A: the enrollment");
    assert_eq!(est_answers(&second), (1, 1), "replica B: the re-enrollment and the replay");
    h.ok(&["audit", "verify"]);
    second.stop();
    first.stop();
}

/// curl + OpenSSL: cacerts (all device CAs unlabelled, one per label), csrattrs, a PC enrolled with an
/// OpenSSL CSR that asks for CA:TRUE and keyCertSign (issued without them), re-enrolled with its own
/// certificate over TLS, and a router enrolled with a router credential (a PC certificate enrolls only PCs,
/// issue #24; `review_enroll` has the refusals).
fn curl_openssl_cacerts_csrattrs_and_pc_enrollment(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("curl clinic");
    let server = Served::start(&h, &[]);
    let est = Est::new(&h, &server);

    let all = est.cacerts_subjects("/.well-known/est/cacerts");
    for ca in ["hcpki Root CA", "hcpki Router CA", "hcpki Facility PC CA"] {
        assert!(all.contains(ca), "cacerts lacks {ca}:\n{all}");
    }
    let pc_only = est.cacerts_subjects("/.well-known/est/pc/cacerts");
    assert!(pc_only.contains("hcpki Facility PC CA") && !pc_only.contains("Router CA"), "{pc_only}");

    let attrs = est.get_base64_der("/.well-known/est/router/csrattrs");
    let parsed = asn1parse(&h, &attrs);
    assert!(parsed.contains("rsaEncryption") && parsed.contains("prime256v1"), "{parsed}");
    assert!(!parsed.contains("secp384r1"), "routers take no P-384:\n{parsed}");
    assert!(asn1parse(&h, &est.get_base64_der("/.well-known/est/pc/csrattrs")).contains("secp384r1"));

    let cred = est.credential(&id, "pc");
    let pem = h.path("pc1.csr");
    let pc_key = h.path("pc1.key");
    run_ok(
        Command::new("openssl")
            .args(["req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"])
            .args([
                "-subj",
                "/CN=evil",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=keyCertSign",
            ])
            .arg("-keyout")
            .arg(&pc_key)
            .arg("-out")
            .arg(&pem),
    );
    let reply = est.post("/.well-known/est/pc/simpleenroll", &base64_of(&csr_der(&pem)), &Auth::Basic(&cred));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let pc = est.save_pkcs7(&reply.body, "pc1.pem");
    let text = x509_text(&pc, &["-text"]);
    assert!(!text.contains("CA:TRUE") && !text.contains("Certificate Sign") && !text.contains("evil"), "{text}");
    peers::openssl_verify(&h.chain_file("pc"), &pc, Some("sslclient"));
    let mut lint = Pkilint::certs();
    lint.add(&pc);

    // Re-enroll the PC with its certificate: same device identity, new key.
    let renew_csr = csr(h.scratch(), "pc1-renew", Key::P256, "pc1");
    let auth = Auth::Cert(&pc, &pc_key);
    let reply = est.post("/.well-known/est/simplereenroll", &base64_of(&csr_der(&renew_csr)), &auth);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let renewed = est.save_pkcs7(&reply.body, "pc1-renewed.pem");
    let san = |c: &Path| x509_text(c, &["-ext", "subjectAltName"]);
    assert_eq!(san(&renewed), san(&pc), "the device identity is kept");
    peers::openssl_verify(&h.chain_file("pc"), &renewed, Some("sslclient"));

    // A router of the facility takes a router credential; the label picks the profile.
    let router_csr = csr(h.scratch(), "router-by-pc", Key::Rsa2048, "ignored");
    let router_cred = est.credential(&id, "router");
    let body = base64_of(&csr_der(&router_csr));
    let reply = est.post("/.well-known/est/router/simpleenroll", &body, &Auth::Basic(&router_cred));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let router = est.save_pkcs7(&reply.body, "router-by-pc.pem");
    check_router(&h, &router, &[&format!("DNS:{}", h.router_dns_name(&id))], &mut lint);
    lint.check();
    // …but re-enrolling the PC certificate as a router is refused.
    let reply = est.post("/.well-known/est/router/simplereenroll", &base64_of(&csr_der(&router_csr)), &auth);
    assert_eq!(reply.status, 403, "{}", reply.body);
    assert_eq!(h.cert_list(Some(&id)).len(), 3);
    server.stop();
}

/// Every refusal: status, audit entry with the reason, no certificate, and the audit chain still verifies.
fn bad_input_is_refused_audited_and_issues_nothing(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("Refusing clinic");
    let other = h.approved_facility("Other clinic");
    let server = Served::start(&h, &[]);
    let est = Est::new(&h, &server);
    let good = csr_der(&csr(h.scratch(), "good", Key::P256, "r"));
    let body = base64_of(&good);
    let enroll = "/.well-known/est/simpleenroll";
    let before = h.cert_list(None).len();

    let cred = est.credential(&id, "router");
    let wrong = Credential { id: cred.id.clone(), secret: "not-the-secret".into() };
    let r = est.post(enroll, &body, &Auth::Basic(&wrong));
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(r.headers.to_ascii_lowercase().contains("www-authenticate: basic"), "{}", r.headers);
    let r = est.post(enroll, &body, &Auth::None);
    assert_eq!(r.status, 401, "{}", r.body);
    let unknown = Credential { id: "0".repeat(32), secret: cred.secret.clone() };
    assert_eq!(est.post(enroll, &body, &Auth::Basic(&unknown)).status, 401);

    // Malformed requests do not use the credential up.
    let r = est.post(enroll, "this is not base64!", &Auth::Basic(&cred));
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("base64"), "{}", r.body);
    let bad_sig = csr_der(&broken_csr(&csr(h.scratch(), "sig", Key::P256, "r"), Broken::BadSignaturePem));
    let r = est.post(enroll, &base64_of(&bad_sig), &Auth::Basic(&cred));
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("signature"), "{}", r.body);
    let r = est.post(enroll, &"A".repeat(100 * 1024), &Auth::Basic(&cred));
    assert_eq!(r.status, 413, "{}", r.body);
    // A name of another facility is refused by the profile; the credential is given back.
    let stolen = h.path("stolen.csr");
    run_ok(
        Command::new("openssl")
            .args(["req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"])
            .args(["-subj", "/CN=x", "-addext", &format!("subjectAltName=DNS:{}", h.router_dns_name(&other))])
            .arg("-keyout")
            .arg(h.path("stolen.key"))
            .arg("-out")
            .arg(&stolen),
    );
    let r = est.post(enroll, &base64_of(&csr_der(&stolen)), &Auth::Basic(&cred));
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("outside facility"), "{}", r.body);
    // A router-only credential cannot get a PC certificate.
    let r = est.post("/.well-known/est/pc/simpleenroll", &body, &Auth::Basic(&cred));
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(h.cert_list(None).len(), before, "nothing issued so far");

    // Still usable after all that; then used up.
    assert_eq!(est.post(enroll, &body, &Auth::Basic(&cred)).status, 200);
    let r = est.post(enroll, &body, &Auth::Basic(&cred));
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("already used"), "{}", r.body);

    let expired = est.credential(&id, "router");
    h.db().execute(&format!("UPDATE enrollment_credentials SET expires_at = 1 WHERE id = '{}'", expired.id));
    let r = est.post(enroll, &body, &Auth::Basic(&expired));
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("expired"), "{}", r.body);

    let revoked = est.credential(&id, "router");
    h.ok(&["enroll", "revoke", &revoked.id]);
    assert_eq!(est.post(enroll, &body, &Auth::Basic(&revoked)).status, 403);

    let scep = h.ok(&["enroll", "credential", "--facility", &id, "--protocol", "scep", "--profile", "router"]);
    let scep_id = h.ok(&["enroll", "list", "--json"]).lines().find(|l| l.contains("\"scep\"")).map(json_id).unwrap();
    // A SCEP challenge is the credential ID followed by the secret.
    let scep_as_est = Credential { id: scep_id, secret: Credential::parse(&scep, "challenge").secret[32..].to_owned() };
    assert_eq!(est.post(enroll, &body, &Auth::Basic(&scep_as_est)).status, 403, "a SCEP credential is not for EST");

    // A facility suspended after its credential was made gets nothing.
    let later = est.credential(&other, "router");
    h.ok(&["facility", "suspend", &other, "--reason", "audit"]);
    let r = est.post(enroll, &body, &Auth::Basic(&later));
    assert_eq!(r.status, 403, "{}", r.body);

    assert_eq!(h.cert_list(Some(&id)).len(), 1, "exactly the one accepted enrollment");
    assert_eq!(h.cert_list(Some(&other)).len(), 0);
    let audit = h.ok(&["audit", "list", "--limit", "1000"]);
    let denied: Vec<&str> = audit.lines().filter(|l| l.contains("\"denied\"")).collect();
    for reason in [
        "wrong secret",
        "unknown credential",
        "no credentials",
        "not base64",
        "signature",
        "over 65536 bytes",
        "does not allow the pc profile",
        "already used",
        "expired",
        "revoked",
        "credential is for scep",
        "outside facility",
        "is suspended",
    ] {
        assert!(
            denied.iter().any(|l| l.contains(reason)),
            "no denied audit entry saying {reason:?}:\n{}",
            denied.join("\n")
        );
    }
    assert!(audit.contains("enroll.credential.release"), "the refused issuance gave the credential back\n{audit}");
    h.ok(&["audit", "verify"]);
    server.stop();
}

/// Eight clients race with one credential: exactly one certificate.
fn concurrent_uses_of_one_credential_issue_once(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("Racing clinic");
    let server = Served::start(&h, &[]);
    let est = Est::new(&h, &server);
    let cred = est.credential(&id, "router");
    let body = base64_of(&csr_der(&csr(h.scratch(), "race", Key::P256, "r")));
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| s.spawn(|| est.post("/.well-known/est/simpleenroll", &body, &Auth::Basic(&cred)).status))
            .collect();
        handles.into_iter().map(|t| t.join().unwrap()).collect()
    });
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 403), "{statuses:?}");
    assert_eq!(h.cert_list(Some(&id)).len(), 1);
    h.ok(&["audit", "verify"]);
    server.stop();
}

/// The CLI: one line per secret, all three protocols, no secrets in listings, refusals for facilities that
/// may not enroll and for bad arguments.
fn credential_cli(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("CLI clinic");
    let kv = |out: &str| -> BTreeMap<String, String> {
        out.lines().filter_map(|l| l.split_once('=')).map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
    };
    let est = kv(&h.ok(&[
        "enroll",
        "credential",
        "--facility",
        &id,
        "--protocol",
        "est",
        "--profile",
        "router",
        "--profile",
        "pc",
    ]));
    assert_eq!(est.keys().collect::<Vec<_>>(), ["password", "username"]);
    let scep = kv(&h.ok(&[
        "enroll",
        "credential",
        "--facility",
        &id,
        "--protocol",
        "scep",
        "--profile",
        "router",
        "--valid-for",
        "30m",
    ]));
    assert_eq!(scep.keys().collect::<Vec<_>>(), ["challenge"]);
    let acme = kv(&h.ok(&[
        "enroll",
        "credential",
        "--facility",
        &id,
        "--protocol",
        "acme",
        "--profile",
        "pc",
        "--valid-for",
        "12h",
    ]));
    assert_eq!(acme.keys().collect::<Vec<_>>(), ["eab_hmac_key", "eab_kid"]);
    use base64::Engine as _;
    let key = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&acme["eab_hmac_key"]).unwrap();
    assert_eq!(key.len(), 32);

    let list = h.ok(&["enroll", "list", "--facility", &id]);
    assert_eq!(list.lines().count(), 3, "{list}");
    let json = h.ok(&["enroll", "list", "--json"]);
    for secret in [&est["password"], &scep["challenge"], &acme["eab_hmac_key"]] {
        assert!(!list.contains(secret.as_str()) && !json.contains(secret.as_str()), "a listing shows a secret");
    }
    assert!(!json.contains("hash") && !json.contains("salt"), "{json}");
    let audit = h.ok(&["audit", "list"]);
    assert_eq!(audit.matches("enroll.credential.create").count(), 3, "{audit}");
    assert!(!audit.contains(est["password"].as_str()));

    h.ok(&["enroll", "revoke", &est["username"]]);
    assert!(h.ok(&["enroll", "list"]).contains(" revoked "));
    assert!(h.fails(&["enroll", "revoke", &"f".repeat(32)]).contains("no enrollment credential"));

    let applied = h.add_facility("Applied clinic", None);
    let args = |f: &str| {
        ["enroll", "credential", "--facility", f, "--protocol", "est", "--profile", "router"].map(str::to_owned)
    };
    let run = |f: &str| h.fails(&args(f).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(run(&applied).contains("is applied"));
    h.ok(&["facility", "suspend", &id, "--reason", "test"]);
    assert!(run(&id).contains("is suspended"));
    h.ok(&["facility", "reject", &applied, "--reason", "test"]);
    assert!(run(&applied).contains("is rejected"), "a rejected facility enrolls nothing, as a retired one");
    assert!(run(&crate::fixtures::unassigned_facility_id()).contains("no facility"));
    let bad = |extra: &[&str]| {
        h.fails(&[&["enroll", "credential", "--facility", &applied][..], extra].concat());
    };
    bad(&["--protocol", "x", "--profile", "router"]);
    bad(&["--protocol", "est", "--profile", "server"]);
    bad(&["--protocol", "est", "--profile", "router", "--valid-for", "1y"]);
    h.ok(&["audit", "verify"]);
}

/// serverkeygen (RFC 7030 §4.4) with curl + OpenSSL: a P-256 CSR under the pc label and an RSA-2048 CSR under
/// the router label each bring back a multipart answer whose PKCS#8 key (OpenSSL reads it) is new — not the
/// CSR's key — of the CSR's type, and is the key of the returned certificate, which verifies and lints.
/// Without credentials: 401; with a spent credential: 403; nothing more issued.
fn serverkeygen_returns_a_new_key_and_its_certificate(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("Keygen clinic");
    let server = Served::start(&h, &[]);
    let est = Est::new(&h, &server);

    let mut lint = Pkilint::certs();
    for (label, key, expect) in [("pc", Key::P256, "id-ecPublicKey"), ("router", Key::Rsa2048, "rsaEncryption")] {
        let cred = est.credential(&id, label);
        let req = csr(h.scratch(), &format!("keygen-{label}"), key, "keygen");
        let path = format!("/.well-known/est/{label}/serverkeygen");
        let reply = est.post(&path, &base64_of(&csr_der(&req)), &Auth::Basic(&cred));
        assert_eq!(reply.status, 200, "{}", reply.body);
        let headers = reply.headers.to_ascii_lowercase();
        assert!(headers.contains("content-type: multipart/mixed; boundary="), "{headers}");
        assert!(headers.contains("cache-control: no-store"), "{headers}");
        let parts = multipart_parts(&reply.headers, &reply.body);
        assert_eq!(parts.len(), 2, "{}", reply.body);
        assert!(parts[0].0.contains("application/pkcs8") && parts[1].0.contains("smime-type=certs-only"));

        let key_der = h.path(&format!("keygen-{label}.key.der"));
        std::fs::write(&key_der, &parts[0].1).unwrap();
        let key_text = String::from_utf8(
            run_ok(Command::new("openssl").args(["pkey", "-inform", "DER", "-noout", "-text", "-in"]).arg(&key_der))
                .stdout,
        )
        .unwrap();
        assert!(key_text.contains("Private-Key"), "{key_text}");
        let cert = est.save_pkcs7(
            &base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &parts[1].1),
            &format!("keygen-{label}.pem"),
        );
        assert!(x509_text(&cert, &["-text"]).contains(expect));
        let pub_of_key = String::from_utf8(
            run_ok(Command::new("openssl").args(["pkey", "-inform", "DER", "-pubout", "-in"]).arg(&key_der)).stdout,
        )
        .unwrap();
        let pub_of_cert = x509_text(&cert, &["-pubkey", "-noout"]);
        assert_eq!(pub_of_key.trim(), pub_of_cert.trim(), "the certificate certifies the returned key");
        let pub_of_csr = String::from_utf8(
            run_ok(Command::new("openssl").args(["req", "-pubkey", "-noout", "-in"]).arg(&req)).stdout,
        )
        .unwrap();
        assert_ne!(pub_of_csr.trim(), pub_of_cert.trim(), "the CSR's own key is not certified");
        match label {
            "pc" => peers::openssl_verify(&h.chain_file("pc"), &cert, Some("sslclient")),
            _ => peers::openssl_verify(&h.chain_file("router"), &cert, None),
        }
        lint.add(&cert);

        // The credential is spent; no credential at all is a 401.
        let again = est.post(&path, &base64_of(&csr_der(&req)), &Auth::Basic(&cred));
        assert_eq!(again.status, 403, "{}", again.body);
        let none = est.post(&path, &base64_of(&csr_der(&req)), &Auth::None);
        assert_eq!(none.status, 401, "{}", none.body);
    }
    lint.check();
    assert_eq!(h.cert_list(Some(&id)).len(), 2);
    // A cut listing says so.
    let cut = h.run(&["cert", "list", "--facility", &id, "--limit", "1"]);
    assert_eq!(String::from_utf8_lossy(&cut.stdout).lines().count(), 1);
    assert!(String::from_utf8_lossy(&cut.stderr).contains("more exist"), "{}", describe(&cut));
    let whole = h.run(&["cert", "list", "--facility", &id, "--limit", "2"]);
    assert!(!String::from_utf8_lossy(&whole.stderr).contains("more exist"), "{}", describe(&whole));
    h.ok(&["audit", "verify"]);
    server.stop();
}

// ---- helpers ----

/// The parts of a `multipart/mixed` body: each part's headers and its base64-decoded content.
pub(crate) fn multipart_parts(headers: &str, body: &str) -> Vec<(String, Vec<u8>)> {
    use base64::Engine as _;
    let boundary = headers
        .lines()
        .find_map(|l| l.to_ascii_lowercase().starts_with("content-type:").then(|| l.to_owned()))
        .and_then(|l| l.split("boundary=").nth(1).map(|b| b.trim().trim_matches('"').to_owned()))
        .unwrap();
    let delimiter = format!("--{boundary}");
    body.split(&delimiter)
        .skip(1)
        .filter(|p| !p.starts_with("--"))
        .map(|part| {
            let (head, content) = part.split_once("\r\n\r\n").unwrap();
            let content: String = content.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            (head.to_owned(), base64::engine::general_purpose::STANDARD.decode(content).unwrap())
        })
        .collect()
}

/// An EST credential as the CLI printed it.
pub(crate) struct Credential {
    pub(crate) id: String,
    pub(crate) secret: String,
}

impl Credential {
    fn parse(out: &str, secret_key: &str) -> Self {
        let get = |k: &str| out.lines().find_map(|l| l.strip_prefix(&format!("{k}="))).map(str::to_owned);
        Self { id: get("username").unwrap_or_default(), secret: get(secret_key).unwrap_or_else(|| panic!("{out}")) }
    }

    fn userpass(&self) -> String {
        format!("{}:{}", self.id, self.secret)
    }
}

pub(crate) enum Auth<'a> {
    None,
    Basic(&'a Credential),
    /// Certificate and key files for TLS client authentication.
    Cert(&'a Path, &'a Path),
}

pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: String,
    pub(crate) body: String,
}

/// The EST side of a running server.
pub(crate) struct Est<'a> {
    h: &'a Hcpki,
    port: u16,
    /// The server's chain (root + server CA), for TLS verification.
    server_chain: PathBuf,
}

impl<'a> Est<'a> {
    pub(crate) fn new(h: &'a Hcpki, server: &Served) -> Self {
        Self { h, port: server.https_port, server_chain: h.chain_file("server") }
    }

    pub(crate) fn credential(&self, facility: &str, profile: &str) -> Credential {
        let out =
            self.h.ok(&["enroll", "credential", "--facility", facility, "--protocol", "est", "--profile", profile]);
        Credential::parse(&out, "password")
    }

    fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port)
    }

    /// curl POST of `body` as `application/pkcs10`; status, headers and body, whatever the status.
    pub(crate) fn post(&self, path: &str, body: &str, auth: &Auth<'_>) -> Reply {
        let file = self.h.path(&format!("body-{}", uuid::Uuid::new_v4().simple()));
        std::fs::write(&file, body).unwrap();
        let headers = self.h.path(&format!("headers-{}", uuid::Uuid::new_v4().simple()));
        let mut cmd = Command::new("curl");
        cmd.args(["--max-time", "30", "-sS", "--cacert"]).arg(&self.server_chain);
        cmd.args(["-H", "Content-Type: application/pkcs10", "--data-binary"]).arg(format!("@{}", file.display()));
        cmd.arg("-D").arg(&headers);
        match auth {
            Auth::None => {}
            Auth::Basic(c) => {
                cmd.args(["-u", &c.userpass()]);
            }
            Auth::Cert(cert, key) => {
                cmd.arg("--cert").arg(cert).arg("--key").arg(key);
            }
        }
        let out = cmd.arg(self.url(path)).output().unwrap();
        assert!(out.status.success(), "curl POST {path} failed\n{}", describe(&out));
        let headers = std::fs::read_to_string(&headers).unwrap();
        let status = headers.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap();
        Reply { status, headers, body: String::from_utf8_lossy(&out.stdout).into_owned() }
    }

    /// A GET that must succeed; the base64 body decoded.
    fn get_base64_der(&self, path: &str) -> Vec<u8> {
        let out = Command::new("curl")
            .args(["--max-time", "30", "-sS", "--fail", "--cacert"])
            .arg(&self.server_chain)
            .arg(self.url(path))
            .output()
            .unwrap();
        assert!(out.status.success(), "GET {path}\n{}", describe(&out));
        use base64::Engine as _;
        let text: Vec<u8> = out.stdout.into_iter().filter(|b| !b.is_ascii_whitespace()).collect();
        base64::engine::general_purpose::STANDARD.decode(text).unwrap()
    }

    /// `openssl pkcs7 -print_certs` of a cacerts answer: the subjects.
    pub(crate) fn cacerts_subjects(&self, path: &str) -> String {
        let der = self.h.path("cacerts.p7");
        std::fs::write(&der, self.get_base64_der(path)).unwrap();
        let out = run_ok(
            Command::new("openssl").args(["pkcs7", "-inform", "DER", "-print_certs", "-noout", "-in"]).arg(&der),
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// The certificate of a base64 certs-only PKCS#7 answer, written as PEM; returns its path.
    pub(crate) fn save_pkcs7(&self, base64_body: &str, name: &str) -> PathBuf {
        use base64::Engine as _;
        let text: Vec<u8> = base64_body.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        let p7 = self.h.path(&format!("{name}.p7"));
        std::fs::write(&p7, base64::engine::general_purpose::STANDARD.decode(text).unwrap()).unwrap();
        let printed = self.h.path(&format!("{name}.txt"));
        run_ok(
            Command::new("openssl")
                .args(["pkcs7", "-inform", "DER", "-print_certs", "-in"])
                .arg(&p7)
                .arg("-out")
                .arg(&printed),
        );
        // print_certs writes subject/issuer lines before the PEM, which pkilint refuses: re-emit it plain.
        let pem = self.h.path(name);
        run_ok(Command::new("openssl").args(["x509", "-in"]).arg(&printed).arg("-out").arg(&pem));
        pem
    }

    /// `pki --gen` a key (PEM); returns its path.
    pub(crate) fn pki_key(&self, name: &str, kind: &str, size: &str) -> PathBuf {
        let out = run_ok(Command::new("pki").args(["--gen", "--type", kind, "--size", size, "--outform", "pem"]));
        let path = self.h.path(&format!("{name}.key"));
        std::fs::write(&path, out.stdout).unwrap();
        path
    }

    /// `pki --req` for a key (DER); returns its path.
    pub(crate) fn pki_req(&self, key: &Path, extra: &[&str]) -> PathBuf {
        let out = run_ok(
            Command::new("pki")
                .args(["--req", "--type", "priv", "--dn", "CN=router", "--outform", "der", "--in"])
                .arg(key)
                .args(extra),
        );
        let path = key.with_extension("req.der");
        std::fs::write(&path, out.stdout).unwrap();
        path
    }

    /// `pki --est` on the unlabelled path (strongSwan appends `/.well-known/est/<operation>` to the URL
    /// itself), trusting the server chain and the router CA; the certificate (PEM).
    pub(crate) fn pki_est(&self, req: &Path, auth: &[&str], name: &str) -> PathBuf {
        let out = run_ok(&mut self.pki_est_command(req, auth));
        let path = self.h.path(name);
        std::fs::write(&path, &out.stdout).unwrap();
        path
    }

    /// [`Est::pki_est`]'s output, whatever its status (for refusals).
    pub(crate) fn pki_est_output(&self, req: &Path, auth: &[&str]) -> std::process::Output {
        self.pki_est_command(req, auth).output().unwrap()
    }

    fn pki_est_command(&self, req: &Path, auth: &[&str]) -> Command {
        let mut cmd = Command::new("timeout");
        cmd.args(["60", "pki", "--est", "--url", &self.url(""), "--in"]).arg(req).args(auth);
        for ca in ["root", "server", "router"] {
            cmd.arg("--cacert").arg(self.h.ca_cert_file(ca));
        }
        cmd.args(["--outform", "pem"]);
        cmd
    }
}

pub(crate) fn base64_of(file: &Path) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(std::fs::read(file).unwrap())
}

fn asn1parse(h: &Hcpki, der: &[u8]) -> String {
    let file = h.path(&format!("asn1-{}", uuid::Uuid::new_v4().simple()));
    std::fs::write(&file, der).unwrap();
    String::from_utf8(run_ok(Command::new("openssl").args(["asn1parse", "-inform", "DER", "-in"]).arg(&file)).stdout)
        .unwrap()
}

fn json_id(line: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    v["id"].as_str().unwrap().to_owned()
}

/// A router certificate: verifies against its chain, carries exactly these SANs (OpenSSL text); added to
/// `lint` (the test lints its certificates in one pkilint run).
fn check_router(h: &Hcpki, cert: &Path, sans: &[&str], lint: &mut Pkilint) {
    peers::openssl_verify(&h.chain_file("router"), cert, None);
    lint.add(cert);
    let text = x509_text(cert, &["-ext", "subjectAltName"]);
    let got: Vec<&str> = text.lines().skip(1).flat_map(|l| l.split(", ")).map(str::trim).collect();
    assert_eq!(got, sans, "{text}");
}
