//! ACME (RFC 8555) with External Account Binding against real clients: certbot 5.8.0 (PyPI) obtains PC
//! certificates over http-01 with P-256 and RSA keys, re-obtains one, revokes one and deactivates its
//! account; lego (Debian) does tls-alpn-01. Every certificate passes `openssl verify` against `hcpki ca
//! chain pc` and pkilint. Bad input (certbot sends none) is driven by a small JWS client here: P-256 keys,
//! curl for HTTP. Each refusal is checked for its problem type, its audit entry, and that nothing was issued.

use crate::fixtures::run_ok;
use crate::harness::{Backend, Hcpki, describe, free_port, repo_root};
use crate::peers::{self, Pkilint};
use crate::serve::Served;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

on_both_backends!(
    certbot_http01_ecdsa_rsa_renew_revoke_unregister,
    lego_tls_alpn01,
    key_change_and_account_update,
    two_replicas_share_nonces_and_accounts,
    certbot_through_a_load_balancer_over_two_replicas,
    bad_input_is_refused_audited_and_issues_nothing,
);

/// certbot: an ECDSA and an RSA PC certificate (two EAB credentials, two accounts), a second certonly for
/// the first name (renewal: the same account, a new certificate), `certbot revoke` and `certbot unregister`,
/// and a router certificate for a name in the facility's zone.
fn certbot_http01_ecdsa_rsa_renew_revoke_unregister(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("certbot clinic");
    let acme = Acme::start(&h, &id);

    let eab = acme.credential("pc");
    let name = format!("pc-0001.{}", acme.domain);
    let ec = acme.certbot("ec", &eab, &["certonly", "-d", &name, "--key-type", "ecdsa"]);
    let ec_cert = acme.live(&ec, &name, "cert.pem");
    let mut lint = Pkilint::certs();
    check_pc(&h, &ec_cert, "pc-0001", "id-ecPublicKey", &mut lint);
    let first_serial = serial(&ec_cert);
    assert!(h.ok(&["enroll", "list", "--facility", &id]).contains(" used "), "the EAB credential is used up");

    let eab2 = acme.credential("pc");
    let name2 = format!("pc-0002.{}", acme.domain);
    let rsa = acme.certbot("rsa", &eab2, &["certonly", "-d", &name2, "--key-type", "rsa"]);
    let rsa_cert = acme.live(&rsa, &name2, "cert.pem");
    check_pc(&h, &rsa_cert, "pc-0002", "rsaEncryption", &mut lint);

    // Renewal the way a PC's timer does it: `certbot renew` re-requests the names in the certificate, which
    // carries its validated host name as its one dNSName (D17).
    let again = acme.certbot("ec", &eab, &["renew", "--cert-name", &name, "--force-renewal"]);
    let renewed = acme.live(&again, &name, "cert.pem");
    check_pc(&h, &renewed, "pc-0001", "id-ecPublicKey", &mut lint);
    // live/NAME/cert.pem is a symlink that now points to the new certificate.
    assert_ne!(serial(&renewed), first_serial);

    let revoked_serial = serial(&rsa_cert);
    acme.certbot("rsa", &eab2, &["revoke", "--cert-path", rsa_cert.to_str().unwrap(), "--reason", "keycompromise"]);
    let list = h.ok(&["cert", "list", "--facility", &id]);
    let line = list.lines().find(|l| l.starts_with(&revoked_serial)).unwrap_or_else(|| panic!("{list}"));
    assert!(line.contains("revoked"), "{list}");
    assert_eq!(list.matches(" issued ").count(), 2, "{list}");
    assert!(list.contains(&first_serial), "{list}");

    acme.certbot("rsa", &eab2, &["unregister"]);
    let audit = h.ok(&["audit", "list", "--limit", "1000"]);
    for action in ["acme.account.create", "acme.order.create", "acme.account.deactivate", "cert.revoke"] {
        assert!(audit.contains(action), "no {action} in the audit log\n{audit}");
    }
    assert!(audit.contains("acme:account:"), "issuance actor is the ACME account\n{audit}");
    // certbot forgets the deactivated account and registers anew: the spent EAB credential refuses that.
    let again = acme.certbot_fails("rsa", &eab2, &["certonly", "-d", &format!("pc-0003.{}", acme.domain)]);
    assert!(again.contains("credential was already used"), "{again}");
    assert_eq!(h.cert_list(Some(&id)).len(), 3, "two ECDSA and one (revoked) RSA certificate");

    // A router credential: the account orders names in the facility's zone, which become DNS SANs.
    let router_eab = acme.credential("router");
    let gw = format!("gw.{}", acme.domain);
    let router = acme.certbot("router", &router_eab, &["certonly", "-d", &gw, "--key-type", "ecdsa"]);
    let router_cert = acme.live(&router, &gw, "cert.pem");
    peers::openssl_verify(&h.chain_file("router"), &router_cert, None);
    lint.add(&router_cert);
    lint.check();
    let san = crate::fixtures::x509_text(&router_cert, &["-ext", "subjectAltName"]);
    assert!(san.contains(&format!("DNS:{}", acme.domain)) && san.contains(&format!("DNS:{gw}")), "{san}");
    h.ok(&["audit", "verify"]);
    acme.server.stop();
}

/// lego (Debian) proves control over tls-alpn-01 (RFC 8737) with EAB: hcpki connects offering ALPN
/// `acme-tls/1` and checks the acmeIdentifier extension of lego's validation certificate.
fn lego_tls_alpn01(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("lego clinic");
    let acme = Acme::start(&h, &id);
    let eab = acme.credential("pc");
    let name = format!("pc-0004.{}", acme.domain);
    let path = h.path("lego");
    let out = Command::new("timeout")
        .args(["120", "lego", "--server", &format!("{}/directory", acme.base()), "--email", "ops@example.org"])
        .args(["--accept-tos", "--eab", "--kid", &eab.kid, "--hmac", &eab.hmac_key, "--domains", &name])
        .args(["--tls", "--tls.port", &format!("127.0.0.1:{}", acme.tlsalpn01_port), "--key-type", "rsa2048"])
        .arg("--path")
        .arg(&path)
        .args(["run", "--no-bundle"])
        .env("LEGO_CA_CERTIFICATES", &acme.server_chain)
        .output()
        .unwrap();
    assert!(out.status.success(), "lego run failed\n{}\n{}", describe(&out), acme.log());
    let cert = path.join("certificates").join(format!("{name}.crt"));
    let mut lint = Pkilint::certs();
    check_pc(&h, &cert, "pc-0004", "rsaEncryption", &mut lint);
    lint.check();
    let audit = h.ok(&["audit", "list", "--limit", "1000"]);
    assert!(!audit.lines().any(|l| l.contains("\"denied\"")), "a clean run refuses nothing\n{audit}");
    acme.server.stop();
}

/// Key rollover (RFC 8555 §7.3.5) and contact update with the JWS client: afterwards the new key acts for the
/// account, the old one does not, and a key another account holds is refused with 409.
fn key_change_and_account_update(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("Rollover clinic");
    let acme = Acme::start(&h, &id);
    let dir = acme.directory();
    let new_account = dir["newAccount"].as_str().unwrap().to_owned();
    let key_change = dir["keyChange"].as_str().unwrap().to_owned();
    let (old, new, other) = (Jose::new(11), Jose::new(12), Jose::new(13));
    let account = acme.register(&old, &new_account);
    let other_account = acme.register(&other, &new_account);
    assert_ne!(account, other_account);

    let r = acme.post_jws(&old, &account, Some(json!({"contact": ["mailto:pc-admin@example.org"]})), Some(&account));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("mailto:pc-admin@example.org"), "{}", r.body);

    let inner = |k: &Jose| k.inner(&key_change, &json!({"account": account, "oldKey": old.jwk()}));
    // To a key another account has: 409, nothing changes.
    acme.post_jws(&old, &key_change, Some(inner(&other)), Some(&account)).problem(409, "malformed");
    // oldKey must be the current key.
    let wrong_old = new.inner(&key_change, &json!({"account": account, "oldKey": other.jwk()}));
    acme.post_jws(&old, &key_change, Some(wrong_old), Some(&account)).problem(403, "unauthorized");
    let r = acme.post_jws(&old, &key_change, Some(inner(&new)), Some(&account));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(acme.post_jws(&new, &account, None, Some(&account)).status, 200);
    assert_eq!(acme.post_jws(&old, &account, None, Some(&account)).status, 400, "the old key no longer signs");
    // newAccount with the new key finds the account again.
    let r = acme.post_jws(&new, &new_account, Some(json!({"onlyReturnExisting": true})), None);
    assert_eq!((r.status, r.header("location")), (200, Some(account.clone())), "{}", r.body);

    let r = acme.post_jws(&new, &account, Some(json!({"status": "deactivated"})), Some(&account));
    assert_eq!(r.status, 200, "{}", r.body);
    let order = json!({"identifiers": [{"type": "dns", "value": format!("pc-1.{}", acme.domain)}]});
    let new_order = dir["newOrder"].as_str().unwrap();
    acme.post_jws(&new, new_order, Some(order), Some(&account)).problem(403, "unauthorized");
    let audit = h.ok(&["audit", "list", "--limit", "1000"]);
    for action in ["acme.account.key-change", "acme.account.update", "acme.account.deactivate"] {
        assert!(audit.contains(action), "no {action}\n{audit}");
    }
    h.ok(&["audit", "verify"]);
    acme.server.stop();
}

/// Issue #9: certbot obtains a PC certificate through HAProxy in HTTP mode, which ends TLS and balances each
/// request over two replicas (certbot keeps one connection; HAProxy spreads its requests): the account, the
/// order, the http-01 validation, finalize and the download each land on either replica, and both answered.
fn certbot_through_a_load_balancer_over_two_replicas(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("Balanced clinic");
    let mut acme = Acme::start(&h, &id);
    let replica = Served::start(&h, &[]);
    let lb = h.dir().join("lb");
    std::fs::create_dir(&lb).unwrap();
    crate::peers::make_tls_pki(&lb);
    // HAProxy takes the certificate and its key in one file.
    let front_pem = lb.join("front.pem");
    let pem = [lb.join("server.pem"), lb.join("server.key")].map(|p| std::fs::read_to_string(p).unwrap()).concat();
    std::fs::write(&front_pem, pem).unwrap();
    let port = free_port();
    let backends = [acme.server.https_port, replica.https_port];
    let _balancer = crate::lb::LoadBalancer::start_http(&h, port, &backends, &front_pem, &acme.server_chain);
    acme.front = Some((port, lb.join("ca.pem")));

    let eab = acme.credential("pc");
    let name = format!("pc-0007.{}", acme.domain);
    let cfg = acme.certbot("balanced", &eab, &["certonly", "-d", &name, "--key-type", "ecdsa"]);
    let mut lint = Pkilint::certs();
    check_pc(&h, &acme.live(&cfg, &name, "cert.pem"), "pc-0007", "id-ecPublicKey", &mut lint);
    lint.check();
    for (which, server) in [("first", &acme.server), ("second", &replica)] {
        let metrics = server.curl_https(&acme.server_chain, "/metrics");
        let answered = crate::lb::requests(&metrics, "route=\"/acme/");
        assert!(answered >= 3, "the {which} replica answered {answered} ACME requests: not spread over both");
    }
    h.ok(&["audit", "verify"]);
    replica.stop();
    acme.server.stop();
}

/// Two `hcpki serve` processes on one database (issue #9): a nonce handed out by one is good once on the
/// other, an account made on one is found by the other, and an order made on one is seen by the other.
fn two_replicas_share_nonces_and_accounts(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("Replica clinic");
    let acme = Acme::start(&h, &id);
    let replica = Served::start(&h, &[]);
    let other_base = format!("https://127.0.0.1:{}/acme", replica.https_port);
    let key = Jose::new(21);
    let eab = acme.credential("pc");

    let url = format!("{other_base}/new-account");
    let nonce = acme.nonce();
    let body = key.sign(&url, &nonce, Some(&key.account_payload(&eab, &url)), None).to_string();
    let r = acme.post_raw(&url, &body, JOSE);
    assert_eq!(r.status, 201, "a nonce from one replica works on the other: {}", r.body);
    let here = format!("{}/new-account", acme.base());
    let replay = key.sign(&here, &nonce, Some(&json!({"onlyReturnExisting": true})), None).to_string();
    acme.post_raw(&here, &replay, JOSE).problem(400, "badNonce");

    let r = acme.post_jws(&key, &here, Some(json!({"onlyReturnExisting": true})), None);
    assert_eq!(r.status, 200, "the account made on the other replica: {}", r.body);
    let account = r.header("location").unwrap();
    let order = json!({"identifiers": [{"type": "dns", "value": format!("pc-0005.{}", acme.domain)}]});
    let r = acme.post_jws(&key, &format!("{}/new-order", acme.base()), Some(order), Some(&account));
    assert_eq!(r.status, 201, "{}", r.body);
    let order_url = r.header("location").unwrap();
    let on_other = order_url.replace(&acme.base(), &other_base);
    let other_account = account.replace(&acme.base(), &other_base);
    let r = acme.post_jws(&key, &on_other, None, Some(&other_account));
    assert_eq!(r.status, 200, "the order made on one replica, read on the other: {}", r.body);
    assert!(r.body.contains("\"pending\""), "{}", r.body);
    replica.stop();
    acme.server.stop();
}

/// Every refusal of the bad-input matrix: its problem type and status, an audit entry, nothing issued.
fn bad_input_is_refused_audited_and_issues_nothing(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("JWS clinic");
    let other = h.approved_facility("Other JWS clinic");
    let acme = Acme::start(&h, &id);
    let before = h.cert_list(None).len();
    let dir = acme.directory();
    let new_account = dir["newAccount"].as_str().unwrap().to_owned();
    let eab = acme.credential("pc");
    let key = Jose::new(1);

    // No EAB.
    let r = acme.post_jws(&key, &new_account, Some(json!({"termsOfServiceAgreed": true})), None);
    r.problem(400, "externalAccountRequired");
    // Wrong MAC, unknown kid, a credential for another protocol.
    let wrong = Eab { kid: eab.kid.clone(), hmac_key: B64.encode([7u8; 32]) };
    acme.post_jws(&key, &new_account, Some(key.account_payload(&wrong, &new_account)), None)
        .problem(403, "unauthorized");
    let unknown = Eab { kid: "0".repeat(32), hmac_key: eab.hmac_key.clone() };
    acme.post_jws(&key, &new_account, Some(key.account_payload(&unknown, &new_account)), None)
        .problem(403, "unauthorized");
    let est = h.ok(&["enroll", "credential", "--facility", &id, "--protocol", "est", "--profile", "pc"]);
    let get = |k: &str| est.lines().find_map(|l| l.strip_prefix(&format!("{k}="))).unwrap().to_owned();
    let est_as_eab = Eab { kid: get("username"), hmac_key: get("password") };
    acme.post_jws(&key, &new_account, Some(key.account_payload(&est_as_eab, &new_account)), None)
        .problem(403, "unauthorized");
    // A bad signature: the payload changed after signing.
    let mut body = key.sign(&new_account, &acme.nonce(), Some(&key.account_payload(&eab, &new_account)), None);
    body["payload"] = Value::String(B64.encode(br#"{"termsOfServiceAgreed":true}"#));
    acme.post_raw(&new_account, &body.to_string(), "application/jose+json").problem(400, "malformed");
    // Wrong content type, oversize body, garbage.
    let good = key.sign(&new_account, &acme.nonce(), Some(&key.account_payload(&eab, &new_account)), None);
    acme.post_raw(&new_account, &good.to_string(), "application/json").problem(415, "malformed");
    let huge = format!("{{\"protected\":\"{}\"}}", "A".repeat(100 * 1024));
    assert_eq!(acme.post_raw(&new_account, &huge, "application/jose+json").status, 413);
    acme.post_raw(&new_account, "not json", "application/jose+json").problem(400, "malformed");
    // A replayed nonce.
    let nonce = acme.nonce();
    let payload = key.account_payload(&eab, &new_account);
    let first = acme.post_raw(&new_account, &key.sign(&new_account, &nonce, Some(&payload), None).to_string(), JOSE);
    assert_eq!(first.status, 201, "{}", first.body);
    let account_url = first.header("location").unwrap();
    let replay = acme.post_raw(&new_account, &key.sign(&new_account, &nonce, Some(&payload), None).to_string(), JOSE);
    replay.problem(400, "badNonce");
    assert!(replay.header("replay-nonce").is_some(), "badNonce carries a fresh nonce");
    // A used credential, for a second key.
    let key2 = Jose::new(2);
    acme.post_jws(&key2, &new_account, Some(key2.account_payload(&eab, &new_account)), None)
        .problem(403, "unauthorized");

    // Orders: a name of another facility, outside every facility, and an IP identifier.
    let new_order = dir["newOrder"].as_str().unwrap().to_owned();
    let kid = Some(account_url.as_str());
    let order = |names: Value| acme.post_jws(&key, &new_order, Some(json!({ "identifiers": names })), kid);
    let other_domain = h.router_dns_name(&other);
    order(json!([{"type": "dns", "value": format!("pc-1.{other_domain}")}])).problem(400, "rejectedIdentifier");
    order(json!([{"type": "dns", "value": "pc-1.example.org"}])).problem(400, "rejectedIdentifier");
    order(json!([{"type": "ip", "value": "192.0.2.1"}])).problem(400, "unsupportedIdentifier");
    // An unknown account.
    let ghost = format!("{}/acct/{}", acme.base(), "f".repeat(32));
    acme.post_jws(&key, &new_order, Some(json!({"identifiers": []})), Some(&ghost)).problem(400, "accountDoesNotExist");

    // A real order: finalize before validation, then a CSR for other names.
    let name = format!("pc-0009.{}", acme.domain);
    let r = order(json!([{"type": "dns", "value": name}]));
    assert_eq!(r.status, 201, "{}", r.body);
    let created: Value = serde_json::from_str(&r.body).unwrap();
    let finalize = created["finalize"].as_str().unwrap().to_owned();
    // IDs this CA cannot have made (D128) answer as unknown ones, after the request is authenticated: the order's
    // ID in capitals, a position with a leading zero, an account URL and a kid that are no account ID.
    let order_url = finalize.trim_end_matches("/finalize").to_owned();
    let (order_base, order_id) = order_url.rsplit_once('/').unwrap();
    acme.post_jws(&key, &format!("{order_base}/{}", order_id.to_uppercase()), None, kid).problem(404, "malformed");
    acme.post_jws(&key, &format!("{}/authz/{order_id}.00", acme.base()), None, kid).problem(404, "malformed");
    acme.post_jws(&key, &format!("{}/acct/not-an-id", acme.base()), None, kid).problem(403, "unauthorized");
    let bad_kid = format!("{}/acct/not-an-id", acme.base());
    acme.post_jws(&key, &order_url, None, Some(&bad_kid)).problem(400, "accountDoesNotExist");
    let shown = acme.post_jws(&key, &order_url, None, kid);
    assert_eq!(shown.status, 200, "the order's own URL, for contrast: {}", shown.body);
    let csr_for = |cn: &str| json!({ "csr": B64.encode(csr_der(&h, cn)) });
    acme.post_jws(&key, &finalize, Some(csr_for(&name)), kid).problem(403, "orderNotReady");
    let authz_url = created["authorizations"][0].as_str().unwrap().to_owned();
    let authz: Value = serde_json::from_str(&acme.post_jws(&key, &authz_url, None, kid).body).unwrap();
    let http01 = authz["challenges"].as_array().unwrap().iter().find(|c| c["type"] == "http-01").unwrap().clone();
    let key_authz = format!("{}.{}", http01["token"].as_str().unwrap(), key.thumbprint());
    let responder = Responder::start(acme.http01_port, key_authz);
    let r = acme.post_jws(&key, http01["url"].as_str().unwrap(), Some(json!({})), kid);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("\"valid\""), "{}", r.body);
    responder.stop();
    acme.post_jws(&key, &finalize, Some(csr_for(&format!("pc-0010.{}", acme.domain))), kid).problem(400, "badCSR");
    assert_eq!(h.cert_list(None).len(), before, "nothing issued on any refusal");

    // Still finalizable with the right CSR: exactly one certificate.
    let r = acme.post_jws(&key, &finalize, Some(csr_for(&name)), kid);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(h.cert_list(None).len(), before + 1);

    let audit = h.ok(&["audit", "list", "--limit", "1000"]);
    let denied: Vec<&str> = audit.lines().filter(|l| l.contains("\"denied\"") && l.contains("acme")).collect();
    for reason in [
        "externalAccountRequired",
        "unknown EAB key ID or wrong MAC",
        "signature",
        "Content-Type",
        "over 65536 bytes",
        "badNonce",
        "already used",
        "rejectedIdentifier",
        "unsupportedIdentifier",
        "accountDoesNotExist",
        "orderNotReady",
        "badCSR",
        "no such order",
        "no such authorization",
        "may only read or change itself",
    ] {
        assert!(
            denied.iter().any(|l| l.contains(reason)),
            "no denied ACME audit entry saying {reason:?}:\n{}",
            denied.join("\n")
        );
    }
    h.ok(&["audit", "verify"]);
    acme.server.stop();
}

// ---- helpers ----

const JOSE: &str = "application/jose+json";

/// An EAB credential as `hcpki enroll credential --protocol acme` printed it.
pub(crate) struct Eab {
    pub(crate) kid: String,
    pub(crate) hmac_key: String,
}

/// A running server with `[acme]` validation pointed at loopback ports of this test.
pub(crate) struct Acme<'a> {
    pub(crate) h: &'a Hcpki,
    pub(crate) server: Served,
    facility: String,
    pub(crate) domain: String,
    pub(crate) http01_port: u16,
    tlsalpn01_port: u16,
    server_chain: PathBuf,
    /// A load balancer in front (its port, and the CA its certificate chains to), when clients go through one.
    front: Option<(u16, PathBuf)>,
}

impl<'a> Acme<'a> {
    pub(crate) fn start(h: &'a Hcpki, facility: &str) -> Self {
        let resolve = format!("\n[acme.resolve]\n\".{}\" = \"127.0.0.1\"\n", h.router_dns_name(facility));
        Self::start_configured(h, facility, &resolve, &[])
    }

    /// [`start`](Self::start) with `acme_extra` after the ports in `[acme]` (more keys, then its subtables) in
    /// place of an earlier `[acme]`, the server through `launcher` ([`Served::start_under`]).
    pub(crate) fn start_configured(h: &'a Hcpki, facility: &str, acme_extra: &str, launcher: &[&str]) -> Self {
        let domain = h.router_dns_name(facility);
        let (http01_port, tlsalpn01_port) = (free_port(), free_port());
        let config = h.dir().join("hcpki.toml");
        let mut text = std::fs::read_to_string(&config).unwrap();
        text.truncate(text.find("\n[acme]\n").unwrap_or(text.len()));
        text.push_str(&format!(
            "\n[acme]\nhttp01_port = {http01_port}\ntlsalpn01_port = {tlsalpn01_port}\n{acme_extra}"
        ));
        std::fs::write(&config, text).unwrap();
        let server = Served::start_under(h, launcher, "127.0.0.1:0", &[]);
        let server_chain = h.chain_file("server");
        Self {
            h,
            server,
            facility: facility.to_owned(),
            domain,
            http01_port,
            tlsalpn01_port,
            server_chain,
            front: None,
        }
    }

    pub(crate) fn base(&self) -> String {
        format!("https://127.0.0.1:{}/acme", self.front.as_ref().map_or(self.server.https_port, |(port, _)| *port))
    }

    pub(crate) fn credential(&self, profile: &str) -> Eab {
        let out = self.h.ok(&[
            "enroll",
            "credential",
            "--facility",
            &self.facility,
            "--protocol",
            "acme",
            "--profile",
            profile,
        ]);
        let get = |k: &str| out.lines().find_map(|l| l.strip_prefix(&format!("{k}="))).unwrap().to_owned();
        Eab { kid: get("eab_kid"), hmac_key: get("eab_hmac_key") }
    }

    fn certbot_command(&self, config: &str, eab: &Eab, args: &[&str]) -> Command {
        let tools = std::env::var_os("HCPKI_TOOLS").map(PathBuf::from).unwrap_or_else(|| repo_root().join(".tools"));
        let dir = self.h.path(&format!("certbot-{config}"));
        let mut cmd = Command::new("timeout");
        cmd.arg("120").arg(tools.join("bin/certbot")).args(args);
        cmd.args([
            "--non-interactive",
            "--agree-tos",
            "--register-unsafely-without-email",
            "--no-random-sleep-on-renew",
        ]);
        if args.first() == Some(&"certonly") {
            cmd.args([
                "--standalone",
                "--http-01-address",
                "127.0.0.1",
                "--http-01-port",
                &self.http01_port.to_string(),
            ]);
            cmd.args(["--eab-kid", &eab.kid, "--eab-hmac-key", &eab.hmac_key]);
        }
        cmd.args(["--server", &format!("{}/directory", self.base())]);
        for (flag, sub) in [("--config-dir", "cfg"), ("--work-dir", "work"), ("--logs-dir", "logs")] {
            cmd.arg(flag).arg(dir.join(sub));
        }
        cmd.env("REQUESTS_CA_BUNDLE", self.front.as_ref().map_or(&self.server_chain, |(_, ca)| ca));
        cmd
    }

    /// certbot must succeed; its configuration directory.
    pub(crate) fn certbot(&self, config: &str, eab: &Eab, args: &[&str]) -> PathBuf {
        let out = self.certbot_command(config, eab, args).output().unwrap();
        assert!(out.status.success(), "certbot {} failed\n{}\n{}", args.join(" "), describe(&out), self.log());
        self.h.path(&format!("certbot-{config}/cfg"))
    }

    /// certbot must fail; its output.
    pub(crate) fn certbot_fails(&self, config: &str, eab: &Eab, args: &[&str]) -> String {
        let out = self.certbot_command(config, eab, args).output().unwrap();
        assert!(!out.status.success(), "certbot {} succeeded", args.join(" "));
        describe(&out)
    }

    fn log(&self) -> String {
        std::fs::read_dir(self.h.path(""))
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.file_name().to_string_lossy().starts_with("serve-"))
                    .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                    .collect::<String>()
            })
            .unwrap_or_default()
    }

    pub(crate) fn live(&self, cfg: &Path, name: &str, file: &str) -> PathBuf {
        cfg.join("live").join(name).join(file)
    }

    pub(crate) fn directory(&self) -> Value {
        let out = run_ok(
            Command::new("curl")
                .args(["-sS", "--fail", "--cacert"])
                .arg(&self.server_chain)
                .arg(format!("{}/directory", self.base())),
        );
        let dir: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(dir["meta"]["externalAccountRequired"], true);
        dir
    }

    pub(crate) fn nonce(&self) -> String {
        let out = run_ok(
            Command::new("curl")
                .args(["-sS", "--fail", "-I", "--cacert"])
                .arg(&self.server_chain)
                .arg(format!("{}/new-nonce", self.base())),
        );
        let text = String::from_utf8(out.stdout).unwrap();
        text.lines().find_map(|l| l.strip_prefix("replay-nonce: ")).unwrap().trim().to_owned()
    }

    /// A new account for `key` with a fresh EAB credential; its URL.
    pub(crate) fn register(&self, key: &Jose, new_account: &str) -> String {
        self.register_with(key, new_account, &self.credential("pc"))
    }

    /// A new account for `key` bound to the EAB credential `eab`; its URL.
    pub(crate) fn register_with(&self, key: &Jose, new_account: &str, eab: &Eab) -> String {
        let r = self.post_jws(key, new_account, Some(key.account_payload(eab, new_account)), None);
        assert_eq!(r.status, 201, "{}", r.body);
        r.header("location").unwrap()
    }

    pub(crate) fn post_jws(&self, key: &Jose, url: &str, payload: Option<Value>, kid: Option<&str>) -> Reply {
        let body = key.sign(url, &self.nonce(), payload.as_ref(), kid);
        self.post_raw(url, &body.to_string(), JOSE)
    }

    fn post_raw(&self, url: &str, body: &str, content_type: &str) -> Reply {
        let file = self.h.path(&format!("body-{}", uuid::Uuid::new_v4().simple()));
        std::fs::write(&file, body).unwrap();
        let headers = self.h.path(&format!("headers-{}", uuid::Uuid::new_v4().simple()));
        let out = Command::new("curl")
            .args(["--max-time", "60", "-sS", "--cacert"])
            .arg(&self.server_chain)
            .args(["-H", &format!("Content-Type: {content_type}"), "--data-binary"])
            .arg(format!("@{}", file.display()))
            .arg("-D")
            .arg(&headers)
            .arg(url)
            .output()
            .unwrap();
        assert!(out.status.success(), "curl POST {url}\n{}", describe(&out));
        let headers = std::fs::read_to_string(&headers).unwrap();
        let status = headers.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap();
        Reply { status, headers, body: String::from_utf8_lossy(&out.stdout).into_owned() }
    }
}

pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: String,
    pub(crate) body: String,
}

impl Reply {
    /// A problem document of `urn:ietf:params:acme:error:<kind>` with `status`.
    pub(crate) fn problem(&self, status: u16, kind: &str) {
        assert_eq!(self.status, status, "{}\n{}", self.headers, self.body);
        assert!(
            self.headers.to_ascii_lowercase().contains("content-type: application/problem+json"),
            "{}",
            self.headers
        );
        let v: Value = serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body));
        assert_eq!(v["type"], format!("urn:ietf:params:acme:error:{kind}"), "{}", self.body);
    }

    pub(crate) fn header(&self, name: &str) -> Option<String> {
        self.headers.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }
}

/// A P-256 account key that signs JWS (ES256).
pub(crate) struct Jose {
    key: p256::ecdsa::SigningKey,
}

impl Jose {
    pub(crate) fn new(seed: u8) -> Self {
        Self { key: p256::ecdsa::SigningKey::from_slice(&[seed; 32]).unwrap() }
    }

    /// The key of a PKCS#8 PEM file (a certificate's key, for revocation signed by it).
    pub(crate) fn from_pkcs8_pem(pem: &str) -> Self {
        use p256::pkcs8::DecodePrivateKey as _;
        Self { key: p256::ecdsa::SigningKey::from_pkcs8_pem(pem).unwrap() }
    }

    fn jwk(&self) -> Value {
        use p256::pkcs8::EncodePublicKey as _;
        let der = self.key.verifying_key().to_public_key_der().unwrap();
        let point = &der.as_bytes()[der.as_bytes().len() - 65..];
        json!({"crv": "P-256", "kty": "EC", "x": B64.encode(&point[1..33]), "y": B64.encode(&point[33..])})
    }

    pub(crate) fn thumbprint(&self) -> String {
        use sha2::Digest as _;
        B64.encode(sha2::Sha256::digest(self.jwk().to_string().as_bytes()))
    }

    fn sign(&self, url: &str, nonce: &str, payload: Option<&Value>, kid: Option<&str>) -> Value {
        use p256::ecdsa::signature::Signer as _;
        let mut protected = json!({"alg": "ES256", "nonce": nonce, "url": url});
        match kid {
            Some(k) => protected["kid"] = json!(k),
            None => protected["jwk"] = self.jwk(),
        }
        let protected = B64.encode(protected.to_string());
        let payload = payload.map(|p| B64.encode(p.to_string())).unwrap_or_default();
        let sig: p256::ecdsa::Signature = self.key.sign(format!("{protected}.{payload}").as_bytes());
        json!({"protected": protected, "payload": payload, "signature": B64.encode(sig.to_bytes())})
    }

    /// An inner JWS (key-change): signed by this key, its jwk in the header, no nonce.
    fn inner(&self, url: &str, payload: &Value) -> Value {
        use p256::ecdsa::signature::Signer as _;
        let protected = B64.encode(json!({"alg": "ES256", "url": url, "jwk": self.jwk()}).to_string());
        let payload = B64.encode(payload.to_string());
        let sig: p256::ecdsa::Signature = self.key.sign(format!("{protected}.{payload}").as_bytes());
        json!({"protected": protected, "payload": payload, "signature": B64.encode(sig.to_bytes())})
    }

    /// A newAccount payload with an HS256 External Account Binding (RFC 8555 §7.3.4).
    fn account_payload(&self, eab: &Eab, url: &str) -> Value {
        let protected = B64.encode(json!({"alg": "HS256", "kid": eab.kid, "url": url}).to_string());
        let payload = B64.encode(self.jwk().to_string());
        let key = B64.decode(&eab.hmac_key).unwrap_or_else(|_| eab.hmac_key.as_bytes().to_vec());
        let mac = aws_lc_rs::hmac::sign(
            &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &key),
            format!("{protected}.{payload}").as_bytes(),
        );
        json!({
            "termsOfServiceAgreed": true,
            "externalAccountBinding": {"protected": protected, "payload": payload, "signature": B64.encode(mac.as_ref())},
        })
    }
}

/// A one-file http-01 responder on loopback (the test's own, for the bad-input path; certbot's standalone
/// server is the real peer of the happy path).
pub(crate) struct Responder {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    port: u16,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Responder {
    pub(crate) fn start(port: u16, body: String) -> Self {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if flag.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf);
                let _ = write!(conn, "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
            }
        });
        Self { stop, port, thread: Some(thread) }
    }

    pub(crate) fn stop(mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

/// A P-256 CSR (DER) with `cn` as CN and DNS SAN.
pub(crate) fn csr_der(h: &Hcpki, cn: &str) -> Vec<u8> {
    let path = h.path(&format!("{cn}.csr.der"));
    run_ok(
        Command::new("openssl")
            .args(["req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-outform", "DER"])
            .args(["-subj", &format!("/CN={cn}"), "-addext", &format!("subjectAltName=DNS:{cn}")])
            .arg("-keyout")
            .arg(h.path(&format!("{cn}.key")))
            .arg("-out")
            .arg(&path),
    );
    std::fs::read(path).unwrap()
}

fn serial(cert: &Path) -> String {
    crate::fixtures::x509_text(cert, &["-serial"]).trim().trim_start_matches("serial=").to_ascii_lowercase()
}

/// A PC certificate: verifies for TLS client use, names the device, has the key type; a copy added to `lint`
/// (the test lints its certificates in one pkilint run at its end: a copy, as certbot's `live/` link moves to
/// the renewed certificate and `revoke` may delete the file).
fn check_pc(h: &Hcpki, cert: &Path, device: &str, key_type: &str, lint: &mut Pkilint) {
    peers::openssl_verify(&h.chain_file("pc"), cert, Some("sslclient"));
    let kept = h.path(&format!("linted-{}.pem", serial(cert)));
    std::fs::copy(cert, &kept).unwrap();
    lint.add(&kept);
    let text = crate::fixtures::x509_text(cert, &["-text"]);
    assert!(text.contains(&format!("/device/{device}")), "{text}");
    assert!(text.contains(&format!("DNS:{device}.")), "the validated host name is the one dNSName\n{text}");
    assert!(text.contains(key_type), "{text}");
}
