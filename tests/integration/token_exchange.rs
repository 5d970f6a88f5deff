//! Token exchange (RFC 8693, issue #29 item 5, D96) against authlib (tests/peers/act_rp.py): alice signs in to
//! the gateway service; the gateway exchanges her access token for one for `records`, which exchanges that for
//! one for `lab`: each token is for its one service (`aud`), short-lived, never past the token it came from, with
//! the `act` chain (latest caller outermost). Refused with RFC 8693 / RFC 6749 errors, audited, nothing issued: a
//! service not in the caller's registration, one whose rules refuse alice, a client registered for no exchange,
//! a token that is not the caller's, a made-up token, a token whose grant was revoked, and a service that requires
//! a patient-presence proof (D148: reached only through `/token` with its own proof).
//!
//! Issue #42 item 2, on the same server: the target service's `clients` rule holds for the caller (a secret
//! client is refused a service that admits key-based clients only, a key client is not); and a token bound to
//! the certificate gateway redeemed its code with over mutual TLS (a facility PC's, RFC 8705) is exchanged only
//! over mTLS with that certificate, into a token bound to it again — not from the portal listener, not with
//! another certificate, not once the certificate is revoked. (DPoP-bound tokens: `dpop.rs`.)

use crate::delegation::authlib_check;
use crate::harness::{Backend, describe, repo_root};
use crate::oidc::{self, PASSWORD, Portal, REDIRECT, Reply, Rp, totp};
use crate::portal_card::open_service;
use serde_json::{Value, json};
use std::process::Command;

on_both_backends!(a_service_calls_services_on_the_users_behalf_with_exchanged_tokens);

const GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const ACCESS: &str = "urn:ietf:params:oauth:token-type:access_token";

fn a_service_calls_services_on_the_users_behalf_with_exchanged_tokens(b: Backend) {
    let p = Portal::start_with(b, "mtls_listen = \"127.0.0.1:0\"\n", |h| {
        let vault = h.path("vault.toml");
        std::fs::write(&vault, VAULT).unwrap();
        h.ok(&["service", "add", vault.to_str().unwrap()]);
        let jwks = h.path("rp/jwks.json");
        for (id, service, auth, audiences) in [
            ("gateway", "wiki", "private_key_jwt", &["records", "emr", "vault", "chart"][..]),
            ("records", "wiki", "private_key_jwt", &["lab"][..]),
            ("lab", "wiki", "private_key_jwt", &[][..]),
            ("vault", "vault", "private_key_jwt", &[][..]),
            ("chart", "chart", "private_key_jwt", &[][..]),
            ("gateway-secret", "wiki", "client_secret_post", &["vault"][..]),
        ] {
            let mut args = vec!["oidc", "client", "add", "--id", id, "--redirect-uri", REDIRECT, "--auth", auth];
            if auth == "private_key_jwt" {
                args.extend(["--jwks-file", jwks.to_str().unwrap()]);
            }
            args.extend(["--service", service]);
            for a in audiences {
                args.extend(["--token-exchange-audience", a]);
            }
            let out = h.ok(&args);
            if let Some(secret) = out.lines().find_map(|l| l.strip_prefix("client_secret: ")) {
                std::fs::write(h.path("gateway-secret.secret"), secret).unwrap();
            }
        }
    });
    assert_eq!(p.login("alice", PASSWORD, &totp(&p.totp_secret, 0), None).status, 303);
    let rp = Rp::load(&p);
    let (tokens, id_claims) = open_service(&p, &p, &rp, "gateway", REDIRECT);
    let at = tokens["access_token"].as_str().unwrap();
    assert!(authlib_check(&p, &tokens, "gateway")["access_token"].get("act").is_none());

    // gateway → records → lab, through authlib: the chain grows, the subject stays alice's.
    let to_records = authlib_exchange(&p, "gateway", at, "records", None);
    let records = &to_records["access_token"];
    assert_eq!((&records["aud"], &records["client_id"]), (&json!("records"), &json!("gateway")), "{to_records}");
    assert_eq!(records["act"], json!({ "client_id": "gateway" }), "{to_records}");
    assert_eq!(records["sub"], id_claims["sub"], "one service (the wiki) behind all three clients: one subject");
    assert!(to_records["response"]["expires_in"].as_i64().unwrap() <= 120, "{to_records}");
    let records_token = to_records["token"].as_str().unwrap().to_owned();
    let to_lab = authlib_exchange(&p, "records", &records_token, "lab", None);
    assert_eq!(to_lab["access_token"]["act"], json!({ "client_id": "records", "act": { "client_id": "gateway" } }));
    assert_eq!(to_lab["access_token"]["aud"], "lab");

    // Refusals, nothing issued.
    authlib_exchange(&p, "gateway", at, "lab", Some("invalid_target"));
    let refused = |client: &str, token: &str, audience: &str| -> Value {
        let form =
            [("grant_type", GRANT), ("subject_token", token), ("subject_token_type", ACCESS), ("audience", audience)];
        let r = p.token(&form, &rp.assertion_as(&p, client, 60, None));
        assert!(r.get("access_token").is_none(), "{client} → {audience}: {r}");
        r
    };
    let r = refused("gateway", at, "emr");
    assert_eq!(r["error"], "invalid_target", "{r}");
    assert!(r["error_description"].as_str().unwrap().contains("does not admit this user"), "{r}");
    let lab_token = to_lab["token"].as_str().unwrap();
    assert_eq!(refused("lab", lab_token, "gateway")["error"], "unauthorized_client");
    let r = refused("gateway", &records_token, "records");
    assert!(
        r["error"] == "invalid_request" && r["error_description"].as_str().unwrap().contains("for another client"),
        "{r}"
    );
    assert_eq!(refused("gateway", "not.a.token", "records")["error"], "invalid_request");
    // Attack (D148): a service that requires a patient-presence proof is not reached through another service's
    // token, which carries no proof — even where the caller may exchange for it.
    let r = refused("gateway", at, "chart");
    assert!(
        r["error"] == "invalid_target" && r["error_description"].as_str().unwrap().contains("patient-presence"),
        "{r}"
    );
    // The target's clients rule (issue #42 item 2): vault admits key-based clients only, so a key client's
    // exchange reaches it and a secret client's does not.
    let vault = p.token(&exchange_form(at, "vault"), &rp.assertion_as(&p, "gateway", 60, None));
    assert!(vault["access_token"].is_string(), "a key client reaches the key-only service: {vault}");
    let secret = std::fs::read_to_string(p.h.path("gateway-secret.secret")).unwrap();
    let (token_url, auth) =
        (format!("{}/token", p.issuer), [("client_id", "gateway-secret"), ("client_secret", &secret)]);
    let t = oidc::code_flow_with(&p, "gateway-secret", REDIRECT, (&p, &token_url), &auth);
    let mut form = exchange_form(t["access_token"].as_str().unwrap(), "vault").to_vec();
    form.extend(auth);
    let r = p.post_to(&token_url, &form);
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.body.contains("invalid_target") && r.body.contains(r#"clients = \"key\" only"#), "{r:?}");

    // Certificate-bound (issue #42 item 2): gateway redeems a code over mTLS with a facility PC's certificate.
    certificate_bound_tokens_are_exchanged_with_their_certificate_only(&p, &rp);
    // Signing out revokes the grant: its access token is no longer exchanged.
    let assertion = rp.assertion_as(&p, "gateway", 60, None);
    let revoke = p.curl(&[
        "--data-urlencode",
        "client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "--data-urlencode",
        &format!("client_assertion={assertion}"),
        "--data-urlencode",
        &format!("token={}", tokens["refresh_token"].as_str().unwrap()),
        &format!("{}/revoke", p.issuer),
    ]);
    assert_eq!(revoke.status, 200, "{revoke:?}");
    let r = refused("gateway", at, "records");
    assert!(r["error_description"].as_str().unwrap().contains("revoked"), "{r}");

    let entries = p.h.audit_entries();
    let count = |outcome: &str| {
        entries.iter().filter(|e| e["action"] == "oidc.token_exchange" && e["outcome"] == outcome).count()
    };
    assert_eq!((count("ok"), count("denied")), (4, 11), "each refusal audited, the presence rule's too");
    p.h.ok(&["audit", "verify"]);
}

/// tests/peers/act_rp.py `exchange` (authlib) as `client` (the test key) of `token` for `audience`: what it saw,
/// with the issued token under `token`; with `error`, that it was refused so.
pub(crate) fn authlib_exchange(p: &Portal, client: &str, token: &str, audience: &str, error: Option<&str>) -> Value {
    let out = Command::new(oidc::tools().join("bin/python"))
        .arg(repo_root().join("tests/peers/act_rp.py"))
        .args(["exchange", "--issuer", &p.issuer, "--ca", p.chain.to_str().unwrap(), "--client-id", client])
        .args(["--key", p.rp_dir.join("key.pem").to_str().unwrap(), "--subject-token", token, "--audience", audience])
        .args(error.map(|e| vec!["--expect-error", e]).unwrap_or_default())
        .output()
        .unwrap();
    assert!(out.status.success(), "authlib exchange {client} → {audience}\n{}", describe(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A service that admits key-based clients only (`clients = "key"`).
const VAULT: &str = r#"version = 1
[[service]]
id = "vault"
name = "Key vault"
roles = []
facility_kinds = ["*"]
min_assurance = "password-totp"
claims = ["name"]
clients = "key"

[[service]]
id = "chart"
name = "Patient chart"
roles = []
facility_kinds = ["*"]
min_assurance = "password-totp"
claims = ["name"]
require_patient_presence = true
"#;

/// The form of an exchange of `token` for `audience`.
fn exchange_form<'a>(token: &'a str, audience: &'a str) -> [(&'a str, &'a str); 4] {
    [("grant_type", GRANT), ("subject_token", token), ("subject_token_type", ACCESS), ("audience", audience)]
}

/// gateway's token bound to a facility PC's certificate (its code redeemed over mTLS with it): exchanged over mTLS
/// with that certificate into a token bound to it; refused `invalid_request` from the portal listener, with
/// another certificate, and once the certificate is revoked.
fn certificate_bound_tokens_are_exchanged_with_their_certificate_only(p: &Portal, rp: &Rp) {
    let (_, pc, pc_key) = oidc::issue_pc(&p.h, "Clinic Exchange");
    let (_, other, other_key) = oidc::issue_pc(&p.h, "Clinic Elsewhere");
    let (on_pc, mtls) = p.on_mtls(pc.clone(), pc_key);
    let (on_other, _) = p.on_mtls(other, other_key);
    let der = oidc::pem_to_der(&std::fs::read_to_string(&pc).unwrap());
    let x5t = oidc::challenge_bytes(&der);
    let assertion = rp.assertion_as(p, "gateway", 60, None);
    let auth = [("client_assertion_type", JWT_BEARER), ("client_assertion", assertion.as_str())];
    let t = oidc::code_flow_with(p, "gateway", REDIRECT, (&on_pc, &format!("{mtls}/token")), &auth);
    let bound = t["access_token"].as_str().unwrap().to_owned();
    assert_eq!(oidc::jws_part(&bound, 1)["cnf"], json!({ "x5t#S256": x5t }), "bound to the PC's certificate");

    let exchange = |view: &Portal, url: &str| -> Reply {
        let assertion = rp.assertion_as(p, "gateway", 60, None);
        let mut form = exchange_form(&bound, "records").to_vec();
        form.extend([("client_assertion_type", JWT_BEARER), ("client_assertion", assertion.as_str())]);
        view.post_to(url, &form)
    };
    let refused = |r: Reply, words: &str| {
        let body: Value = serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("{r:?}"));
        assert_eq!((r.status, &body["error"]), (400, &json!("invalid_request")), "{body}");
        assert!(body["error_description"].as_str().is_some_and(|d| d.contains(words)), "{words}: {body}");
        assert!(body.get("access_token").is_none(), "{body}");
    };
    refused(exchange(p, &format!("{}/token", p.issuer)), "bound to a client certificate");
    refused(exchange(&on_other, &format!("{mtls}/token")), "bound to a client certificate");
    let r = exchange(&on_pc, &format!("{mtls}/token"));
    let issued: Value = serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("{r:?}"));
    let token = issued["access_token"].as_str().unwrap_or_else(|| panic!("with its certificate: {issued}"));
    assert_eq!(
        (&issued["token_type"], &oidc::jws_part(token, 1)["cnf"]),
        (&json!("Bearer"), &json!({ "x5t#S256": x5t }))
    );
    assert_eq!(oidc::jws_part(token, 1)["aud"], "records", "{issued}");

    // The certificate revoked: the registry no longer vouches for it, and its token is no longer exchanged.
    let serial = hex::encode(
        <x509_cert::Certificate as der::Decode>::from_der(&der).unwrap().tbs_certificate().serial_number().as_bytes(),
    );
    p.h.ok(&["revoke", "--serial", &serial, "--reason", "keyCompromise"]);
    refused(exchange(&on_pc, &format!("{mtls}/token")), "revoked");
}
