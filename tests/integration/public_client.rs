//! Issue #30 item 2: a native app as a **public client** (RFC 8252). The operator registers it with `--auth none`
//! and a loopback redirect URI without a port, for a service whose rule admits public clients
//! (`clients = "any"`); authlib, as the app, signs a password + TOTP user in with PKCE S256 and a redirect on
//! the port it happened to get, reads and validates the ID token, rotates its refresh token (the old one
//! presented again is refused and ends the grant), is refused introspection (it has no credentials), sends a
//! secret it does not have (refused), and revokes its token. Around it: a public client for a service that
//! admits confidential clients only is refused at registration, and one whose service's rule is tightened
//! afterwards is refused at `/authorize` (`unauthorized_client`, audited); its access tokens live at most five
//! minutes. The same app written with npm `openid-client` (a second user, a second loopback port) binds its
//! tokens with DPoP, as a public client cannot with mutual TLS: bound to its key, refused as a bearer token
//! and to another key's refresh, rotated, and the rotated-out refresh token's reuse ends the grant; its DPoP-bound
//! token exchanged through openid-client (with its key) is `invalid_client`.
//!
//! Issue #42 item 1, on the same server: a public client is no caller where a service acts on its own authority.
//! Its `client_id` alone, and its valid access token presented as a service presents a physician's, are refused
//! `invalid_client` (saying why, audited) at every such endpoint — the consent API (create, status, check, the
//! withdrawal feed, by GET and POST), the signing-request API (create, status), token exchange and introspection;
//! and it cannot be registered with exchange audiences or with a consent template naming it.

use crate::harness::{Backend, describe, free_port, repo_root};
use crate::oidc::{PASSWORD, POST_LOGOUT, Portal, Rp, enc, tools, totp};
use serde_json::{Value, json};
use std::process::Command;

on_both_backends!(a_native_app_signs_in_as_a_public_client_with_pkce_and_a_loopback_redirect);

pub(crate) const APP_SERVICE: &str = r#"version = 1
[[service]]
id = "desktop-emr"
name = "Desktop EMR"
roles = []
facility_kinds = ["*"]
min_assurance = "password-totp"
claims = ["name", "acr"]
clients = "any"
"#;

fn a_native_app_signs_in_as_a_public_client_with_pkce_and_a_loopback_redirect(b: Backend) {
    // The app's service and the app, registered before the server starts (a running server would take them
    // within services_refresh_secs).
    let p = Portal::start_with(b, &format!("access_token_secs = 900\nservices_refresh_secs = 1\n{CONSENT}"), |h| {
        let services = h.path("app-service.toml");
        std::fs::write(&services, APP_SERVICE).unwrap();
        h.ok(&["service", "add", services.to_str().unwrap()]);
        let out = h.ok(&[
            "oidc",
            "client",
            "add",
            "--id",
            "desktop-emr",
            "--redirect-uri",
            "http://127.0.0.1/cb",
            "--auth",
            "none",
            "--service",
            "desktop-emr",
        ]);
        assert!(!out.contains("client_secret"), "a public client gets no secret: {out}");
    });
    // A public client where the service admits confidential clients only: refused, nothing registered.
    let refused = p.h.fails(&[
        "oidc",
        "client",
        "add",
        "--id",
        "wiki-app",
        "--redirect-uri",
        "http://127.0.0.1/cb",
        "--auth",
        "none",
        "--service",
        "wiki",
    ]);
    assert!(refused.contains("clients = \"confidential\""), "{refused}");
    // Nor may a public client be given what a service uses on its own authority (issue #42 item 1).
    for (id, extra, rule) in [
        ("exchanging-app", &["--token-exchange-audience", "desktop-emr"][..], "--token-exchange-audience"),
        ("consent-app", &[][..], "[[consent.templates]]"),
    ] {
        let mut args = vec!["oidc", "client", "add", "--id", id, "--redirect-uri", "http://127.0.0.1/cb"];
        args.extend(["--auth", "none", "--service", "desktop-emr"]);
        args.extend(extra);
        let refused = p.h.fails(&args);
        assert!(refused.contains("is a public client") && refused.contains(rule), "{id}: {refused}");
    }
    let services = p.h.path("app-service.toml");

    // The app listens on whatever loopback port it got.
    let redirect = format!("http://127.0.0.1:{}/cb", free_port());
    let run = || {
        let out = Command::new(tools().join("bin/python"))
            .arg(repo_root().join("tests/peers/oidc_rp.py"))
            .args(["public", "--issuer", &p.issuer, "--ca", p.chain.to_str().unwrap()])
            .args(["--client-id", "desktop-emr", "--redirect-uri", &redirect, "--username", "alice"])
            .arg("--password-file")
            .arg(p.h.path("password"))
            .args(["--totp-secret", &p.totp_secret])
            .output()
            .unwrap();
        assert!(out.status.success(), "authlib as a public client\n{}", describe(&out));
        serde_json::from_slice::<Value>(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{}", describe(&out)))
    };
    let seen = run();
    let methods: Vec<&str> = seen["token_methods"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(methods.contains(&"none") && methods.contains(&"private_key_jwt"), "{seen}");
    assert!(!seen["introspection_methods"].to_string().contains("\"none\""), "{seen}");
    assert_eq!(seen["id_token"]["name"], "Alice Staff", "{seen}");
    assert_eq!(seen["expires_in"], 300, "a public client's access token lives five minutes at most: {seen}");
    assert_eq!(
        (seen["reused_refresh"]["status"].as_u64(), seen["reused_refresh"]["error"].as_str()),
        (Some(400), Some("invalid_grant")),
        "{seen}"
    );
    assert_eq!(
        (seen["introspect"]["status"].as_u64(), seen["introspect"]["error"].as_str()),
        (Some(401), Some("invalid_client")),
        "{seen}"
    );
    assert_eq!(
        (seen["with_a_secret"]["status"].as_u64(), seen["with_a_secret"]["error"].as_str()),
        (Some(401), Some("invalid_client")),
        "{seen}"
    );
    assert_eq!(seen["revoke"], 200, "{seen}");

    // openid-client as the same app with DPoP, for bob on another port.
    let bob_secret = p.totp_user("bob", "Bob");
    let node_redirect = format!("http://127.0.0.1:{}/cb", free_port());
    let out = Command::new("node")
        .arg(repo_root().join("tests/peers/oidc_rp_node.mjs"))
        .args(["public", "--issuer", &p.issuer, "--ca", p.chain.to_str().unwrap(), "--client-id", "desktop-emr"])
        .args(["--redirect-uri", &node_redirect, "--post-logout", POST_LOGOUT, "--username", "bob"])
        .arg("--password-file")
        .arg(p.h.path("password"))
        .args(["--totp-secret", &bob_secret])
        .output()
        .unwrap_or_else(|e| panic!("cannot run node ({e}): scripts/deps installs Node.js"));
    assert!(out.status.success(), "openid-client as a public client\n{}", describe(&out));
    let node: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{}", describe(&out)));
    assert_eq!(node["id_token"]["name"], "Bob", "{node}");
    assert_eq!(node["id_token"]["aud"], "desktop-emr", "{node}");
    assert_eq!((&node["token_type"], &node["expires_in"]), (&json!("dpop"), &json!(300)));
    let jkt = crate::dpop::thumbprint(&node["dpop_jwk"]);
    assert_eq!(node["access_token"]["cnf"]["jkt"], jkt.as_str(), "bound to openid-client's key: {node}");
    assert_eq!(node["userinfo"]["name"], "Bob", "{node}");
    assert_eq!(node["userinfo_as_bearer"]["error"], "invalid_token", "{node}");
    let refresh = &node["refresh"];
    assert_eq!(refresh["other_key"], "invalid_dpop_proof", "{node}");
    assert_eq!((&refresh["rotated"], &refresh["jkt"]), (&json!(true), &json!(jkt)), "{node}");
    assert_eq!(node["reused_refresh"]["error"], "invalid_grant", "{node}");
    assert_eq!(node["reused_refresh"]["then_userinfo"]["status"], 401, "the reuse ended the grant: {node}");
    let exchanged = &node["exchange"];
    assert_eq!((&exchanged["status"], &exchanged["error"]), (&json!(401), &json!("invalid_client")), "{node}");

    // Signed in here (the next TOTP step: the app's login used this one), for the app's own access token.
    assert_eq!(p.login("alice", PASSWORD, &totp(&p.totp_secret, 1), None).status, 303);
    no_public_caller_where_a_service_acts_on_its_own_authority(&p, &redirect);

    // The operator tightens the service to confidential clients: the app's next authorization request is sent
    // back to it as unauthorized_client, audited.
    std::fs::write(&services, APP_SERVICE.replace("clients = \"any\"", "clients = \"confidential\"")).unwrap();
    p.h.ok(&["service", "add", "--replace", services.to_str().unwrap()]);
    let query = format!(
        "/authorize?response_type=code&client_id=desktop-emr&scope=openid&redirect_uri={}&code_challenge={}&code_challenge_method=S256&state=s",
        enc(&redirect),
        crate::oidc::challenge("v".repeat(64).as_str())
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let r = loop {
        let r = p.get(&query);
        if r.location.contains("error=unauthorized_client") {
            break r;
        }
        assert!(std::time::Instant::now() < deadline, "the tightened rule never applied: {r:?}");
        std::thread::sleep(std::time::Duration::from_millis(250));
    };
    assert!(r.location.starts_with(&redirect), "{r:?}");
    let log = p.h.audit_entries();
    assert!(
        log.iter().any(|e| e["action"] == "oidc.authorize"
            && e["outcome"] == "denied"
            && e["detail"]["decision"].as_str().is_some_and(|d| d.contains("clients = \"confidential\""))),
        "the refusal is audited"
    );
    p.h.ok(&["audit", "verify"]);
}

/// A consent template naming a public client's id: registering a public client under that id is refused.
const CONSENT: &str = r#"
[consent]
[[consent.templates]]
client = "consent-app"
purpose = "record-link"
title = "診療情報の共有に関する同意書"
purpose_text = "地域の医療機関で診療情報を共有するため。"
scope = "受診歴、検査結果"
recipients = "地域医療連携ネットワークの参加機関"
withdrawal = "受付に申し出てください。"
"#;

/// A request: method, path, form or query, bearer token.
type Attempt<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, Option<&'a str>);

/// Issue #42 item 1: the app's valid access token (alice's, from a code for its loopback `redirect` redeemed with
/// PKCE and its `client_id`) and its `client_id` alone, at every endpoint where a service acts on its own
/// authority: each 401 `invalid_client` saying the client is public, audited as a failed client authentication.
/// A confidential service presenting the app's token as a physician's is refused too (`invalid_token`).
fn no_public_caller_where_a_service_acts_on_its_own_authority(p: &Portal, redirect: &str) {
    let curl = |method: &str, path: &str, pairs: &[(&str, &str)], bearer: Option<&str>| {
        let mut args: Vec<String> = vec!["-X".into(), method.into()];
        if method == "GET" {
            args.push("-G".into());
        }
        for (k, v) in pairs {
            args.extend(["--data-urlencode".into(), format!("{k}={v}")]);
        }
        if let Some(token) = bearer {
            args.extend(["-H".into(), format!("Authorization: Bearer {token}")]);
        }
        args.push(format!("{}{path}", p.issuer));
        p.curl(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let token_url = format!("{}/token", p.issuer);
    let t = crate::oidc::code_flow_with(p, "desktop-emr", redirect, (p, &token_url), &[("client_id", "desktop-emr")]);
    let at = t["access_token"].as_str().unwrap();

    let app = ("client_id", "desktop-emr");
    let (patient, purpose, facility) =
        (("patient", "P-000123"), ("purpose", "record-link"), ("facility", "HF00000000"));
    let document = ("document", "eyJyZXNvdXJjZVR5cGUiOiJCdW5kbGUifQo=");
    let exchange = [
        app,
        ("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"),
        ("subject_token", at),
        ("subject_token_type", "urn:ietf:params:oauth:token-type:access_token"),
        ("audience", "desktop-emr"),
    ];
    let attempts: [Attempt; 13] = [
        ("POST", "/api/v1/consents", vec![app, patient, purpose], Some(at)),
        ("GET", "/api/v1/consents", vec![app, facility, patient, purpose], None),
        ("POST", "/api/v1/consents/check", vec![app, facility, patient, purpose], None),
        ("GET", "/api/v1/consents/made-up", vec![app], None),
        ("POST", "/api/v1/consents/made-up", vec![app], None),
        ("GET", "/api/v1/consent-events", vec![app], None),
        ("POST", "/api/v1/consent-events", vec![app, ("since", "0")], None),
        ("POST", "/api/v1/signing-requests", vec![app, ("format", "cades"), ("level", "b-b"), document], Some(at)),
        ("GET", "/api/v1/signing-requests/made-up", vec![app], None),
        ("POST", "/api/v1/signing-requests/made-up", vec![app], None),
        ("POST", "/token", exchange.to_vec(), None),
        ("POST", "/introspect", vec![app, ("token", at)], None),
        ("POST", "/introspect", vec![app, ("token", at), ("client_secret", "guessed")], None),
    ];
    for (method, path, pairs, bearer) in &attempts {
        let r = curl(method, path, pairs, *bearer);
        let body: Value = serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("{method} {path}: {r:?}"));
        assert_eq!((r.status, &body["error"]), (401, &json!("invalid_client")), "{method} {path}: {body}");
        let said = body["error_description"].as_str().unwrap_or_default();
        assert!(said.contains("client desktop-emr is a public client"), "{method} {path}: {said}");
    }
    // A confidential service cannot present the app's token as its physician's either.
    let rp = Rp::load(p);
    for path in ["/api/v1/consents", "/api/v1/signing-requests"] {
        let assertion = rp.assertion_as(p, "rp1", 60, None);
        let service = [
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            ("client_assertion", assertion.as_str()),
            patient,
            purpose,
            ("format", "cades"),
            document,
        ];
        let r = curl("POST", path, &service, Some(at));
        assert!(r.status == 401 && r.body.contains("issued to another client"), "{path}: {r:?}");
    }
    // Audited: each refusal above, and authlib's introspection and openid-client's exchange before them.
    let entries = p.h.audit_entries();
    let public = entries
        .iter()
        .filter(|e| {
            e["action"] == "oidc.client.authenticate"
                && e["target"] == "desktop-emr"
                && e["detail"]["reason"].as_str().is_some_and(|r| r.contains("is a public client"))
        })
        .count();
    assert_eq!(public, attempts.len() + 2, "{entries:?}");
}
