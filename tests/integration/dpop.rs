//! DPoP (RFC 9449, issue #30 item 3) with a real peer: npm `openid-client` 6 (tests/peers/oidc_rp_node.mjs
//! `dpop`) makes its own DPoP key and proofs, answers the server's `use_dpop_nonce` by itself, and runs the code
//! flow with PKCE as rp1 (private_key_jwt); then proofs made by hand in the same script, one flaw each, go to
//! `/token` and userinfo, and one over mutual TLS (a certificate and a proof at once). Codes bound to the key
//! when asked for (RFC 9449 §10): pushed with a proof (§10.1) and with `dpop_jkt` in a plain request. Token
//! exchange keeps the binding (RFC 8693 through openid-client's `genericGrantRequest`, issue #42 item 2): the
//! DPoP-bound token exchanged with its key comes back bound to it; a thief with rp1's credentials but not the key
//! gets `invalid_dpop_proof` without a proof and with another key's. One server per database: the journey and
//! the refusals share it.
//! Node.js and the pinned modules come from scripts/deps; without them this test fails, it never skips.

use crate::harness::{Backend, describe, repo_root};
use crate::oidc::{self, POST_LOGOUT, Portal, REDIRECT};
use serde_json::{Value, json};
use std::process::Command;

on_both_backends!(dpop_bound_tokens_with_openid_client_and_every_bad_proof_refused);

/// The journey: a DPoP-bound token (`token_type` DPoP, `cnf.jkt` = the thumbprint of openid-client's key,
/// computed here from its public JWK), userinfo with the proof, the token refused as a bearer token and with
/// another key's proof, refreshes held to the key. The refusals: each flawed proof refused with RFC 9449's
/// error, nothing issued, audited; the refresh token still works after them all.
fn dpop_bound_tokens_with_openid_client_and_every_bad_proof_refused(b: Backend) {
    let p = Portal::start_with(b, "mtls_listen = \"127.0.0.1:0\"\n", |h| {
        // rp1 again, now allowed to exchange its users' tokens for the wiki's second client.
        h.ok(&["oidc", "client", "remove", "rp1"]);
        for (id, extra) in [("wiki-b", &[][..]), ("rp1", &["--token-exchange-audience", "wiki-b"][..])] {
            let args = oidc::service_client(h, id, "wiki", extra);
            h.ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
        }
    });
    // A tls_client_auth client on a facility PC's certificate: its certificate and a DPoP proof at once.
    let (pc, pc_key) = oidc::tls_client_on_pc(&p.h, "tlsc", "Clinic DPoP");
    let mtls =
        ["--mtls-client-id", "tlsc", "--mtls-cert", pc.to_str().unwrap(), "--mtls-key", pc_key.to_str().unwrap()];
    let mut extra = mtls.to_vec();
    extra.extend(["--exchange-audience", "wiki-b"]);
    let seen = openid_client_dpop(&p, &extra);

    // Discovery and the journey.
    assert_eq!(seen["dpop_signing_alg_values_supported"], json!(["ES256", "RS256", "PS256"]), "{seen}");
    let jkt = thumbprint(&seen["dpop_jwk"]);
    // openid-client (oauth4webapi) hands token_type over lower-cased; the answer's own spelling, `DPoP`, is
    // checked on the raw answer below (`after_refusals`).
    assert_eq!(seen["token_type"], "dpop", "{seen}");
    assert_eq!(seen["access_token"]["cnf"], json!({ "jkt": jkt }), "bound to openid-client's key: {seen}");
    assert!(seen["userinfo"]["sub"].is_string(), "{seen}");
    let dpop_invalid_token = json!({ "status": 401, "scheme": "dpop", "error": "invalid_token" });
    assert_eq!(seen["userinfo_as_bearer"], dpop_invalid_token, "{seen}");
    assert_eq!(seen["userinfo_other_key"], dpop_invalid_token, "{seen}");
    assert_eq!(seen["introspection"], json!({ "active": true, "token_type": "DPoP", "jkt": jkt }), "{seen}");
    let refused = json!({ "other_key": "invalid_dpop_proof", "no_proof": "invalid_dpop_proof" });
    assert_eq!(seen["refresh_refused"], refused, "{seen}");
    assert_eq!(seen["refreshed"], json!({ "token_type": "dpop", "jkt": jkt }), "{seen}");

    // Token exchange keeps the binding (issue #42 item 2): with the key, a token for wiki-b bound to it; without
    // the key (rp1's credentials alone, as a thief holding them would send), refused.
    let ex = &seen["exchange"];
    let issued = json!({ "token_type": "dpop", "jkt": jkt, "aud": "wiki-b", "act": { "client_id": "rp1" } });
    assert_eq!(ex["issued"], issued, "{ex}");
    for (case, words) in [("no_proof", "bound to a DPoP key"), ("other_key", "another DPoP key")] {
        assert_eq!((&ex[case]["status"], &ex[case]["error"]), (&json!(400), &json!("invalid_dpop_proof")), "{ex}");
        assert!(ex[case]["description"].as_str().is_some_and(|d| d.contains(words)), "{case}: {ex}");
    }

    // Codes bound when asked for (RFC 9449 §10): pushed with openid-client's proof, or asked for with dpop_jkt;
    // another key or no proof is invalid_grant and spends nothing (the key redeems the code afterwards).
    let cb = &seen["code_binding"];
    for how in ["pushed", "plain"] {
        let expected = json!({ "other_key": "invalid_grant", "no_proof": "invalid_grant", "redeemed_jkt": jkt });
        assert_eq!(cb[how], expected, "{how}: {cb}");
    }
    assert_eq!(cb["push_mismatch"], json!({ "error": "invalid_dpop_proof", "status": 400 }), "{cb}");
    assert_eq!(cb["malformed"], "invalid_request", "{cb}");

    // The hand-made proofs: each refused with its error, nothing issued.
    let r = &seen["refusals"];
    for (case, status, error) in [
        ("token_no_nonce", 400, "use_dpop_nonce"),
        ("token_made_up_nonce", 400, "use_dpop_nonce"),
        ("token_htu", 400, "invalid_dpop_proof"),
        ("token_htm", 400, "invalid_dpop_proof"),
        ("token_iat_stale", 400, "invalid_dpop_proof"),
        ("token_iat_ahead", 400, "invalid_dpop_proof"),
        ("token_iat_wraps_before", 400, "invalid_dpop_proof"),
        ("token_iat_wraps_now", 400, "invalid_dpop_proof"),
        ("token_iat_wraps_after", 400, "invalid_dpop_proof"),
        ("token_signature", 400, "invalid_dpop_proof"),
        ("token_private_jwk", 400, "invalid_dpop_proof"),
        ("token_alg_none", 400, "invalid_dpop_proof"),
        ("token_first_use", 400, "invalid_grant"),
        ("token_replayed", 400, "invalid_dpop_proof"),
        ("token_mtls_and_dpop", 400, "invalid_request"),
        ("userinfo_ath", 401, "invalid_dpop_proof"),
        ("userinfo_htu", 401, "invalid_dpop_proof"),
        ("userinfo_no_nonce", 401, "use_dpop_nonce"),
        ("userinfo_replayed", 401, "invalid_dpop_proof"),
    ] {
        let answer = &r[case];
        assert_eq!((&answer["status"], &answer["error"]), (&json!(status), &json!(error)), "{case}: {answer}");
        assert_eq!(answer["issued"], false, "{case}: {answer}");
        assert!(answer.get("sub").is_none_or(Value::is_null), "{case}: no claims: {answer}");
        // Every answer to a DPoP request carries a nonce to use next; a resource's refusal is a DPoP challenge.
        assert!(answer["dpop_nonce"].as_str().is_some_and(|n| !n.is_empty()), "{case}: {answer}");
        if case.starts_with("userinfo") {
            let challenge = format!("DPoP error=\"{error}\"");
            assert!(answer["www_authenticate"].as_str().is_some_and(|w| w.starts_with(&challenge)), "{answer}");
        }
    }
    assert!(r["token_replayed"]["description"].as_str().is_some_and(|d| d.contains("replay")), "{r}");
    let both = r["token_mtls_and_dpop"]["description"].as_str().unwrap_or_default();
    assert!(both.contains("one or the other"), "{r}");
    assert!(r["token_private_jwk"]["description"].as_str().is_some_and(|d| d.contains("private")), "{r}");
    assert_eq!(r["userinfo_first_use"]["status"], 200, "the proof's first use is good: {r}");
    let last = &seen["after_refusals"];
    assert_eq!((&last["status"], &last["token_type"], &last["issued"]), (&json!(200), &json!("DPoP"), &json!(true)));

    // Audited: each refusal at /token as oidc.token by rp1, at userinfo as oidc.userinfo, with its error.
    let entries = p.h.audit_entries();
    let denied = |action: &str, error: &str| {
        entries
            .iter()
            .filter(|e| e["action"] == action && e["outcome"] == "denied" && e["detail"]["error"] == error)
            .count()
    };
    // openid-client's own first requests without a nonce are refusals too (then it retries with the nonce).
    assert!(denied("oidc.token", "invalid_dpop_proof") >= 10, "{entries:?}");
    assert!(denied("oidc.token", "use_dpop_nonce") >= 2, "{entries:?}");
    assert!(denied("oidc.userinfo", "invalid_dpop_proof") >= 3, "{entries:?}");
    assert!(denied("oidc.userinfo", "use_dpop_nonce") >= 1, "{entries:?}");
    assert!(denied("oidc.userinfo", "invalid_token") >= 2, "{entries:?}");
    let replay = entries.iter().any(|e| {
        e["action"] == "oidc.token"
            && e["target"] == "rp1"
            && e["detail"]["reason"].as_str().is_some_and(|r| r.contains("DPoP proof was used before"))
    });
    assert!(replay, "the replayed proof, audited on rp1");
    let bound_code = entries
        .iter()
        .filter(|e| {
            e["action"] == "oidc.token"
                && e["outcome"] == "denied"
                && e.to_string().contains("the code is bound to a DPoP key (dpop_jkt)")
        })
        .count();
    assert_eq!(bound_code, 4, "each refused redemption of a bound code, audited: {entries:?}");
    assert!(denied("oidc.par", "invalid_dpop_proof") >= 1, "the push with another key's dpop_jkt: {entries:?}");
    assert_eq!(denied("oidc.token_exchange", "invalid_dpop_proof"), 2, "the exchanges without the key: {entries:?}");
    let bound = |e: &&Value| e["action"] == "oidc.token_exchange" && e["detail"]["binding"] == "dpop";
    assert_eq!(entries.iter().filter(bound).count(), 1, "the exchange with the key, audited as bound: {entries:?}");
    p.h.ok(&["audit", "verify"]);
}

/// RFC 7638 thumbprint of an EC P-256 public JWK, computed here from its members.
pub(crate) fn thumbprint(jwk: &Value) -> String {
    assert_eq!((&jwk["kty"], &jwk["crv"]), (&json!("EC"), &json!("P-256")), "{jwk}");
    assert!(jwk.get("d").is_none(), "openid-client's public key only: {jwk}");
    let canonical = format!(
        r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
        jwk["x"].as_str().unwrap(),
        jwk["y"].as_str().unwrap()
    );
    oidc::challenge_bytes(canonical.as_bytes())
}

/// `oidc_rp_node.mjs dpop` as alice with rp1 and `extra`; what it saw (it must succeed).
fn openid_client_dpop(p: &Portal, extra: &[&str]) -> Value {
    let script = repo_root().join("tests/peers/oidc_rp_node.mjs");
    let out = Command::new("node")
        .arg(&script)
        .args(["dpop", "--issuer", &p.issuer, "--ca", p.chain.to_str().unwrap(), "--client-id", "rp1"])
        .args(["--key", p.rp_dir.join("key.pem").to_str().unwrap(), "--redirect-uri", REDIRECT])
        .args(["--post-logout", POST_LOGOUT, "--username", "alice", "--password-file"])
        .arg(p.h.path("password"))
        .args(["--totp-secret", &p.totp_secret])
        .args(extra)
        .output()
        .unwrap_or_else(|e| panic!("cannot run node {} ({e}): scripts/deps installs Node.js", script.display()));
    assert!(out.status.success(), "openid-client DPoP relying party\n{}", describe(&out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{}", describe(&out)))
}
