//! The OpenID Connect provider driven by npm `openid-client` 6 (tests/peers/oidc_rp_node.mjs), the second
//! certified relying-party library of issue #6 beside authlib: its own discovery, PKCE, private_key_jwt
//! assertions, ID token validation, PAR, userinfo, introspection, refresh, revocation and logout calls, and an
//! RFC 8705 certificate-bound token over the mTLS endpoint aliases with a facility PC certificate, and a whole
//! flow of a client registered to push (PAR only, RFC 9126 §6, FAPI 2.0).
//! Node.js and the pinned modules (tests/peers/node/package-lock.json) come from scripts/deps; without them
//! this test fails, it never skips.

use crate::harness::{Backend, describe, repo_root};
use crate::oidc::{self, POST_LOGOUT, Portal, REDIRECT};
use serde_json::{Value, json};
use std::process::Command;

on_both_backends!(npm_openid_client_full_flow);

/// openid-client runs the whole flow twice: as rp1 (ES256 assertion and ID token) with the mTLS part as a
/// `tls_client_auth` client registered by the PC certificate's subject, then as rp-ps (RS256 assertion,
/// PS256 ID token), registered with `--require-par`: its plain request is refused (`invalid_request`, read by
/// openid-client off the redirect) and every authorization is pushed, the login in between. Every step is
/// audited.
fn npm_openid_client_full_flow(b: Backend) {
    let p =
        Portal::start_with(b, "mtls_listen = \"127.0.0.1:0\"\n", |h| oidc::add_rsa_clients_with(h, &["--require-par"]));
    // The facility PC certificate as the client's TLS credential.
    let (pc, pc_key) = oidc::tls_client_on_pc(&p.h, "tlsc", "Clinic Node");
    let mtls =
        ["--mtls-client-id", "tlsc", "--mtls-cert", pc.to_str().unwrap(), "--mtls-key", pc_key.to_str().unwrap()];
    let seen = openid_client(&p, &["--client-id", "rp1"], &mtls);
    assert_eq!(seen["id_token"]["name"], "Alice Staff", "{seen}");
    assert_eq!(seen["id_token_header"]["alg"], "ES256", "{seen}");
    // The binding openid-client saw is the certificate's SHA-256, computed here independently.
    let der = oidc::pem_to_der(&std::fs::read_to_string(&pc).unwrap());
    assert_eq!(seen["mtls"]["x5t#S256"], oidc::challenge_bytes(&der), "{seen}");
    assert!(seen["mtls"]["token_endpoint"].as_str().unwrap().ends_with("/token"), "{seen}");
    assert!(seen.get("plain_refused").is_none() && seen.get("login_return").is_none(), "{seen}");

    // RSA: an RS256 assertion, a PS256 ID token, userinfo as an RS256-signed JWT (rp-ps is registered for it:
    // openid-client verifies it); the login takes the next TOTP step (rp1's used this one). PAR only.
    let rsa = ["--client-id", "rp-ps", "--assertion-alg", "RS256", "--id-token-alg", "PS256", "--totp-step", "1"];
    let seen = openid_client(&p, &rsa, &["--userinfo-alg", "RS256", "--par-only"]);
    assert_eq!(seen["id_token_header"]["alg"], "PS256", "{seen}");
    assert_eq!((&seen["userinfo_signed"], &seen["userinfo"]["name"]), (&json!(true), &json!("Alice Staff")), "{seen}");
    assert_eq!(seen["plain_refused"]["error"], "invalid_request", "{seen}");
    assert_eq!(seen["login_return"], "pushed", "{seen}");
    let refused = p.h.audit_entries().into_iter().filter(|e| {
        (&e["action"], &e["outcome"], &e["target"]) == (&json!("oidc.authorize"), &json!("denied"), &json!("rp-ps"))
            && e["detail"]["reason"].as_str().is_some_and(|r| r.contains("required by its registration"))
    });
    assert_eq!(refused.count(), 1, "the plain request of rp-ps, audited");

    let audit = p.h.ok(&["audit", "list", "--limit", "1000"]);
    for action in ["\"portal.login\"", "\"oidc.authorize\"", "\"portal.logout\"", "\"oidc.revoke\""] {
        assert!(audit.contains(action), "no {action} audit entry\n{audit}");
    }
    assert!(audit.contains("authorization code reused") && audit.contains("refresh token reused"), "{audit}");
    p.h.ok(&["audit", "verify"]);
}

/// `oidc_rp_node.mjs flow` as alice with `args` and `extra`; what it saw (it must succeed).
fn openid_client(p: &Portal, args: &[&str], extra: &[&str]) -> Value {
    let script = repo_root().join("tests/peers/oidc_rp_node.mjs");
    let out = Command::new("node")
        .arg(&script)
        .args(["flow", "--issuer", &p.issuer, "--ca", p.chain.to_str().unwrap()])
        .args(["--key", p.rp_dir.join("key.pem").to_str().unwrap(), "--redirect-uri", REDIRECT])
        .args(["--post-logout", POST_LOGOUT, "--username", "alice", "--password-file"])
        .arg(p.h.path("password"))
        .args(["--totp-secret", &p.totp_secret])
        .args(args)
        .args(extra)
        .output()
        .unwrap_or_else(|e| panic!("cannot run node {} ({e}): scripts/deps installs Node.js", script.display()));
    assert!(out.status.success(), "openid-client relying party {args:?}\n{}", describe(&out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{}", describe(&out)))
}
