//! Issue #24, enrollment: the security review's attacks on EST, ACME revocation and ACME validation, each
//! performed against the real server and refused (a clear error naming what to do, a `denied` audit entry,
//! nothing issued or revoked), then the legitimate path shown still working.
//!
//! * Item 1: a facility certificate enrolls only its own profile over EST (a router certificate never gets a PC
//!   certificate through the `pc` label, nor a PC certificate a router), `simpleenroll` and `serverkeygen`.
//! * Item 3: ACME `revokeCert` by account only for certificates of that account's orders; by the certificate's
//!   own key always.
//! * Item 11: ACME validation does not connect to internal addresses a name resolves to through the system
//!   resolver (the server runs in a mount namespace whose `/etc/hosts` maps the names), unless `[acme] resolve`
//!   maps the name or `[acme] allow_addresses` holds the range.

use crate::acme::{Acme, Jose, Responder, csr_der as acme_csr};
use crate::est::{Auth, Est, base64_of};
use crate::fixtures::{Key, csr, csr_der};
use crate::harness::{Backend, Hcpki, describe};
use crate::scep::Scep;
use crate::serve::Served;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as B64};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

on_both_backends!(
    est_certificate_enrolls_only_its_own_profile,
    acme_revocation_by_the_ordering_account_or_the_certificate_key,
    acme_validation_refuses_internal_addresses,
);

/// Item 1. A router certificate asks for a PC certificate under `/.well-known/est/pc/` (simpleenroll and
/// serverkeygen) and a PC certificate for a router under `/.well-known/est/router/`: 403 naming the credential to
/// ask for, a denied `est.*` entry each, no certificate; strongSwan renewing the router certificate at `/scep/pc`
/// is refused by the same check. The same certificates still enroll their own profile, labelled and unlabelled.
fn est_certificate_enrolls_only_its_own_profile(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("Label clinic");
    let server = Served::start(&h, &[]);
    let est = Est::new(&h, &server);
    // The router's key is RSA: strongSwan's `pki --scep` signs its renewal request only with RSA keys.
    let enrolled = |profile: &str, key: Key, key_label: &str| -> (PathBuf, PathBuf) {
        let request = csr(h.scratch(), &format!("{profile}-own"), key, profile);
        let cred = est.credential(&id, profile);
        let path = format!("/.well-known/est/{profile}/simpleenroll");
        let reply = est.post(&path, &base64_of(&csr_der(&request)), &Auth::Basic(&cred));
        assert_eq!(reply.status, 200, "{}", reply.body);
        let key = h.scratch().join(format!("{profile}-own-{key_label}.key"));
        (est.save_pkcs7(&reply.body, &format!("{profile}-own.pem")), key)
    };
    let (router, router_key) = enrolled("router", Key::Rsa2048, "rsa2048");
    let (pc, pc_key) = enrolled("pc", Key::P256, "p256");
    let before = h.cert_list(None).len();
    let body = base64_of(&csr_der(&csr(h.scratch(), "escalation", Key::P256, "x")));

    for (cert, key, own, other) in [(&router, &router_key, "router", "pc"), (&pc, &pc_key, "pc", "router")] {
        for op in ["simpleenroll", "serverkeygen"] {
            let reply = est.post(&format!("/.well-known/est/{other}/{op}"), &body, &Auth::Cert(cert, key));
            assert_eq!(reply.status, 403, "{own} certificate → {other}/{op}: {}", reply.body);
            for words in [
                format!("a {own} certificate enrolls and renews only {own} certificates"),
                format!("single-use enrollment credential for a {other} certificate"),
            ] {
                assert!(reply.body.contains(&words), "{own} → {other}/{op}: no {words:?} in {}", reply.body);
            }
        }
    }
    assert_eq!(h.cert_list(None).len(), before, "no certificate issued by a refused request");
    let denied: Vec<Value> = h
        .audit_entries()
        .into_iter()
        .filter(|e| e["outcome"] == "denied" && e["detail"]["reason"].as_str().is_some_and(|r| r.contains("never")))
        .collect();
    for op in ["simpleenroll", "serverkeygen"] {
        for own in ["router", "pc"] {
            let words = format!("is a {own} certificate");
            assert!(
                denied.iter().any(|e| e["action"] == format!("est.{op}")
                    && e["detail"]["reason"].as_str().is_some_and(|r| r.contains(&words))),
                "no denied est.{op} for the {own} certificate: {denied:?}"
            );
        }
    }

    // SCEP renewal goes through the same check: strongSwan renewing the router certificate at /scep/pc.
    let scep = Scep::new(&h, &server, "pc");
    let renewal = scep.pki_scep(
        "pc",
        &scep.pki_key("router-as-pc"),
        "CN=r",
        &["--cert", path(&router), "--key", path(&router_key)],
        &h.path("router-as-pc.pem"),
    );
    assert!(!renewal.status.success(), "{}", describe(&renewal));
    assert_eq!(h.cert_list(None).len(), before, "no certificate issued over SCEP either");
    let scep_entries: Vec<Value> = h
        .audit_entries()
        .into_iter()
        .filter(|e| e["action"].as_str().is_some_and(|a| a.starts_with("scep.")))
        .collect();
    let scep_denied = scep_entries.iter().any(|e| {
        e["outcome"] == "denied"
            && e["detail"]["reason"].as_str().is_some_and(|r| r.contains("is a router certificate"))
    });
    assert!(
        scep_denied,
        "no denied scep.* entry naming the router certificate: {scep_entries:?}\n{}",
        describe(&renewal)
    );

    // Their own profile, by label and without: issued.
    for (cert, key, path) in [
        (&router, &router_key, "/.well-known/est/router/simpleenroll"),
        (&router, &router_key, "/.well-known/est/simpleenroll"),
        (&pc, &pc_key, "/.well-known/est/pc/serverkeygen"),
    ] {
        let reply = est.post(path, &body, &Auth::Cert(cert, key));
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    }
    let profiles: Vec<String> = h.cert_list(Some(&id)).iter().map(|l| json_field(l, "profile")).collect();
    assert_eq!(profiles.iter().filter(|p| *p == "router").count(), 3, "{profiles:?}");
    assert_eq!(profiles.iter().filter(|p| *p == "pc").count(), 2, "{profiles:?}");
    h.ok(&["audit", "verify"]);
    server.stop();
}

/// Item 3. Accounts A and B of one facility; A orders a PC certificate. B's revokeCert of A's certificate and A's
/// revokeCert of an operator-issued and an EST-issued certificate of the facility are refused (`unauthorized`
/// naming the certificate's own key and the facility administrator, a denied `acme.revoke-cert`, the
/// certificates still issued). Then A revokes its own certificate, and the operator-issued one is revoked by a
/// JWS signed with its own key (jwk).
fn acme_revocation_by_the_ordering_account_or_the_certificate_key(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("Revocation clinic");
    let acme = Acme::start(&h, &id);
    let dir = acme.directory();
    let (new_account, revoke) = (dir["newAccount"].as_str().unwrap(), dir["revokeCert"].as_str().unwrap());
    let (key_a, key_b) = (Jose::new(31), Jose::new(32));
    let (account_a, account_b) = (acme.register(&key_a, new_account), acme.register(&key_b, new_account));
    let by_a = obtain(&acme, &dir, &key_a, &account_a, "pc-0031");

    let request = csr(h.scratch(), "by-operator", Key::P256, "op");
    let operator_pem = h.path("by-operator.pem");
    h.ok(&["issue", "--profile", "pc", "--facility", &id, "--csr", path(&request), "--out", path(&operator_pem)]);
    let by_operator = first_der(&std::fs::read_to_string(&operator_pem).unwrap());
    let est = Est::new(&h, &acme.server);
    let est_request = csr(h.scratch(), "by-est", Key::P256, "est");
    let reply = est.post(
        "/.well-known/est/pc/simpleenroll",
        &base64_of(&csr_der(&est_request)),
        &Auth::Basic(&est.credential(&id, "pc")),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let by_est = first_der(&std::fs::read_to_string(est.save_pkcs7(&reply.body, "by-est.pem")).unwrap());

    let revoke_body = |der: &[u8]| json!({"certificate": B64.encode(der), "reason": 1});
    for (who, key, account, der) in [
        ("account B, A's certificate", &key_b, &account_b, &by_a),
        ("account A, the operator's certificate", &key_a, &account_a, &by_operator),
        ("account A, the EST certificate", &key_a, &account_a, &by_est),
    ] {
        let r = acme.post_jws(key, revoke, Some(revoke_body(der)), Some(account));
        r.problem(403, "unauthorized");
        for words in ["was not ordered by account", "certificate's own key", "facility administrator"] {
            assert!(r.body.contains(words), "{who}: no {words:?} in {}", r.body);
        }
    }
    let statuses = || -> Vec<String> { h.cert_list(Some(&id)).iter().map(|l| json_field(l, "status")).collect() };
    assert_eq!(statuses(), ["issued"; 3], "nothing revoked by a refused request");
    let denied = h
        .audit_entries()
        .into_iter()
        .filter(|e| {
            e["action"] == "acme.revoke-cert"
                && e["outcome"] == "denied"
                && e["detail"]["reason"].as_str().is_some_and(|r| r.contains("was not ordered by account"))
        })
        .count();
    assert_eq!(denied, 3, "one denied acme.revoke-cert per refusal");
    assert!(!h.audit_list().iter().any(|e| e["action"] == "cert.revoke"), "no revocation recorded");

    // The ordering account, and the certificate's own key.
    let r = acme.post_jws(&key_a, revoke, Some(revoke_body(&by_a)), Some(&account_a));
    assert_eq!(r.status, 200, "{}", r.body);
    let own_key = Jose::from_pkcs8_pem(&std::fs::read_to_string(h.scratch().join("by-operator-p256.key")).unwrap());
    let r = acme.post_jws(&own_key, revoke, Some(revoke_body(&by_operator)), None);
    assert_eq!(r.status, 200, "{}", r.body);
    let mut now = statuses();
    now.sort();
    assert_eq!(now, ["issued", "revoked", "revoked"], "A's and the operator's certificates revoked, EST's not");
    let revocations = h.audit_list().into_iter().filter(|e| e["action"] == "cert.revoke").count();
    assert_eq!(revocations, 2);
    h.ok(&["audit", "verify"]);
    acme.server.stop();
}

/// Item 11. The server's resolver sees `/etc/hosts` naming three devices of the facility at 127.0.0.1, ::1 and
/// 169.254.169.254, and no `[acme] resolve` entry for them; the test's http-01 responder listens on loopback with
/// the right answer, so reaching it would validate. Each challenge is answered `invalid` with a
/// `rejectedIdentifier` naming the address, its range and `allow_addresses`, the order is invalid, a denied
/// `acme.challenge` is audited, finalize is refused and nothing is issued. A name mapped by `[acme] resolve` to
/// 127.0.0.1 validates on the same server; with `allow_addresses = ["127.0.0.0/8"]` the hosts-file name does too.
fn acme_validation_refuses_internal_addresses(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("Resolver clinic");
    let domain = h.router_dns_name(&id);
    let hosts = h.path("hosts");
    let names = [("127.0.0.1", "pc-loop"), ("::1", "pc-loop6"), ("169.254.169.254", "pc-meta")];
    let lines: String = names.iter().map(|(ip, device)| format!("{ip} {device}.{domain}\n")).collect();
    std::fs::write(&hosts, format!("127.0.0.1 localhost\n{lines}")).unwrap();
    let Some(launcher) = hosts_launcher(&hosts, &format!("pc-loop.{domain}")) else {
        println!("skipped: no mount namespace here to give the server its own /etc/hosts (needs root)");
        return;
    };
    let launcher: Vec<&str> = launcher.iter().map(String::as_str).collect();
    let mapped = format!("pc-mapped.{domain}");
    let acme = Acme::start_configured(&h, &id, &format!("\n[acme.resolve]\n\"{mapped}\" = \"127.0.0.1\"\n"), &launcher);
    let dir = acme.directory();
    let key = Jose::new(41);
    let account = acme.register(&key, dir["newAccount"].as_str().unwrap());
    let before = h.cert_list(None).len();

    for (ip, device) in names {
        let name = format!("{device}.{domain}");
        let (challenge, order) = attempt(&acme, &dir, &key, &account, &name);
        assert_eq!(challenge["status"], "invalid", "{name}: {challenge}");
        assert_eq!(challenge["error"]["type"], "urn:ietf:params:acme:error:rejectedIdentifier", "{challenge}");
        let detail = challenge["error"]["detail"].as_str().unwrap();
        let shown = ip.parse::<std::net::IpAddr>().unwrap().to_string();
        for words in [shown.as_str(), "internal addresses", "[acme] resolve", "allow_addresses"] {
            assert!(detail.contains(words), "{name}: no {words:?} in {detail}");
        }
        let order_now: Value = serde_json::from_str(&acme.post_jws(&key, &order, None, Some(&account)).body).unwrap();
        assert_eq!(order_now["status"], "invalid", "{order_now}");
        let finalize = order_now["finalize"].as_str().unwrap();
        acme.post_jws(&key, finalize, Some(json!({"csr": B64.encode(acme_csr(&h, &name))})), Some(&account))
            .problem(403, "orderNotReady");
    }
    assert_eq!(h.cert_list(None).len(), before, "nothing issued for an internal address");
    let denied: Vec<Value> =
        h.audit_entries().into_iter().filter(|e| e["action"] == "acme.challenge" && e["outcome"] == "denied").collect();
    for (_, device) in names {
        assert!(
            denied.iter().any(|e| e["detail"]["reason"]
                .as_str()
                .is_some_and(|r| r.contains(&format!("{device}.{domain}")) && r.contains("internal addresses"))),
            "no denied acme.challenge for {device}: {denied:?}"
        );
    }

    // `[acme] resolve` is the operator's word: validated at loopback, issued.
    obtain(&acme, &dir, &key, &account, "pc-mapped");
    assert_eq!(h.cert_list(None).len(), before + 1);
    acme.server.stop();

    // An allowed range admits the hosts-file name (the same account, at the new server's URL).
    let acme = Acme::start_configured(&h, &id, "allow_addresses = [\"127.0.0.0/8\"]\n", &launcher);
    let dir = acme.directory();
    let account = format!("{}/acct/{}", acme.base(), account.rsplit('/').next().unwrap());
    obtain(&acme, &dir, &key, &account, "pc-loop");
    assert_eq!(h.cert_list(None).len(), before + 2);
    h.ok(&["audit", "verify"]);
    acme.server.stop();
}

// ---- helpers ----

/// An order for `device` under the account's facility domain, its http-01 challenge answered by the test's
/// responder (right key authorization) and started: the challenge object after validation and the order URL.
fn attempt(acme: &Acme<'_>, dir: &Value, key: &Jose, account: &str, name: &str) -> (Value, String) {
    let r = acme.post_jws(
        key,
        dir["newOrder"].as_str().unwrap(),
        Some(json!({"identifiers": [{"type": "dns", "value": name}]})),
        Some(account),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let order = r.header("location").unwrap();
    let created: Value = serde_json::from_str(&r.body).unwrap();
    let authz_url = created["authorizations"][0].as_str().unwrap();
    let authz: Value = serde_json::from_str(&acme.post_jws(key, authz_url, None, Some(account)).body).unwrap();
    let http01 = authz["challenges"].as_array().unwrap().iter().find(|c| c["type"] == "http-01").unwrap().clone();
    let responder =
        Responder::start(acme.http01_port, format!("{}.{}", http01["token"].as_str().unwrap(), key.thumbprint()));
    let r = acme.post_jws(key, http01["url"].as_str().unwrap(), Some(json!({})), Some(account));
    responder.stop();
    assert_eq!(r.status, 200, "{}", r.body);
    (serde_json::from_str(&r.body).unwrap(), order)
}

/// [`attempt`] for `<device>.<facility domain>` that must validate, then finalize: the certificate (DER).
fn obtain(acme: &Acme<'_>, dir: &Value, key: &Jose, account: &str, device: &str) -> Vec<u8> {
    let name = format!("{device}.{}", acme.domain);
    let (challenge, order) = attempt(acme, dir, key, account, &name);
    assert_eq!(challenge["status"], "valid", "{challenge}");
    let order: Value = serde_json::from_str(&acme.post_jws(key, &order, None, Some(account)).body).unwrap();
    let csr = json!({"csr": B64.encode(acme_csr(acme.h, &name))});
    let r = acme.post_jws(key, order["finalize"].as_str().unwrap(), Some(csr), Some(account));
    assert_eq!(r.status, 200, "{}", r.body);
    let finalized: Value = serde_json::from_str(&r.body).unwrap();
    let pem = acme.post_jws(key, finalized["certificate"].as_str().unwrap(), None, Some(account));
    assert_eq!(pem.status, 200, "{}", pem.body);
    first_der(&pem.body)
}

/// `unshare --mount` with `hosts` bound over `/etc/hosts`, when this machine allows it and the system resolver
/// then answers `probe` from it; else `None`.
fn hosts_launcher(hosts: &Path, probe: &str) -> Option<Vec<String>> {
    let script = "mount --bind \"$0\" /etc/hosts && exec \"$@\"";
    let launcher =
        vec!["unshare".into(), "--mount".into(), "sh".into(), "-c".into(), script.into(), path(hosts).into()];
    let out = Command::new(&launcher[0]).args(&launcher[1..]).args(["getent", "hosts", probe]).output().ok()?;
    (out.status.success() && String::from_utf8_lossy(&out.stdout).contains("127.0.0.1")).then_some(launcher)
}

/// The first certificate of a PEM text, DER.
fn first_der(pem: &str) -> Vec<u8> {
    let b64: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE-----"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    STANDARD.decode(b64).unwrap()
}

fn json_field(line: &str, key: &str) -> String {
    let v: Value = serde_json::from_str(line).unwrap();
    v[key].as_str().map(str::to_owned).unwrap_or_else(|| v[key].to_string())
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}
