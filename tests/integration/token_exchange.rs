//! Token exchange (RFC 8693, issue #29 item 5, D96) against authlib (tests/peers/act_rp.py): alice signs in to
//! the gateway service; the gateway exchanges her access token for one for `records`, which exchanges that for
//! one for `lab`: each token is for its one service (`aud`), short-lived, never past the token it came from, with
//! the `act` chain (latest caller outermost). Refused with RFC 8693 / RFC 6749 errors, audited, nothing issued: a
//! service not in the caller's registration, one whose rules refuse alice, a client registered for no exchange,
//! a token that is not the caller's, a made-up token, and a token whose grant was revoked.

use crate::delegation::authlib_check;
use crate::harness::{Backend, describe, repo_root};
use crate::oidc::{self, PASSWORD, Portal, REDIRECT, Rp, totp};
use crate::portal_card::open_service;
use serde_json::{Value, json};
use std::process::Command;

on_both_backends!(a_service_calls_services_on_the_users_behalf_with_exchanged_tokens);

const GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS: &str = "urn:ietf:params:oauth:token-type:access_token";

fn a_service_calls_services_on_the_users_behalf_with_exchanged_tokens(b: Backend) {
    let p = Portal::start_with(b, "", |h| {
        let jwks = h.path("rp/jwks.json");
        for (id, audiences) in [("gateway", &["records", "emr"][..]), ("records", &["lab"][..]), ("lab", &[][..])] {
            let mut args = vec!["oidc", "client", "add", "--id", id, "--redirect-uri", REDIRECT, "--auth"];
            args.extend(["private_key_jwt", "--jwks-file", jwks.to_str().unwrap(), "--service", "wiki"]);
            for a in audiences {
                args.extend(["--token-exchange-audience", a]);
            }
            h.ok(&args);
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
    assert_eq!((count("ok"), count("denied")), (2, 6));
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
