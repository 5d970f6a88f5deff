//! RFC 9700 (the OAuth 2.0 security best current practice) and RFC 9207 by default (issue #51 item 1, D152),
//! as attacks against the real server: a refresh-token replay (the rotated-out token presented again revokes its
//! grant and ends the sign-in session it belongs to, with every other grant of that session, back-channel logout
//! to their clients, audited; a made-up secret for a grant id spends nothing), `iss` in every authorization
//! response, success and error, and PKCE required of a confidential client; then the same attacks seen by
//! openid-client (`tests/peers/oidc_rp_node.mjs rfc9700`: a mix-up between two issuers told apart by `iss`).
//! The DPoP-bound refresh token of a public client refused without its key's proof is `public_client::` and
//! `dpop::` (openid-client and the hand-made proofs).

use crate::backchannel::{logout_receiver, received_logout_token};
use crate::harness::{Backend, describe, repo_root};
use crate::oidc::{PASSWORD, Portal, REDIRECT, Rp, challenge, code_flow, enc, jws_part, param, totp};
use crate::portal_sessions::add_backchannel_client;
use serde_json::{Value, json};
use std::process::Command;

on_both_backends!(a_replayed_refresh_token_ends_its_family_and_its_session, openid_client_sees_the_attacks_fail);

const VERIFIER: &str = "rfc9700-verifier-rfc9700-verifier-rfc9700-verifier";

/// alice holds grants of rp1 and bcl (which has a back-channel logout endpoint) in one session. A made-up refresh
/// secret for rp1's grant (its id is in every access token as `gid`) is refused and spends nothing. rp1 refreshes;
/// an attacker holding a copy of the first refresh token presents it: refused, and rp1's grant, the session and
/// bcl's grant end — rp1's next refresh and access token are dead, bcl's refresh too, bcl gets a logout token,
/// the browser's session is gone (the home page sends it to the login page's `ended_token_reused` box, `prompt=none`
/// → `login_required` with `iss`). Audited: the reuse (`oidc.token`,
/// denied) and the session's end (`portal.logout`, reason `refresh-token-reused`).
fn a_replayed_refresh_token_ends_its_family_and_its_session(b: Backend) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let bcl = format!("http://127.0.0.1:{}/bcl", listener.local_addr().unwrap().port());
    let p = Portal::start_with(b, "", |h| add_backchannel_client(h, "bcl", &bcl));
    assert_eq!(p.login("alice", PASSWORD, &totp(&p.totp_secret, 0), None).status, 303);
    let rp = Rp::load(&p);
    let first = code_flow(&p, "rp1", &rp.assertion_as(&p, "rp1", 60, None));
    let other = code_flow(&p, "bcl", &rp.assertion_as(&p, "bcl", 60, None));
    let refresh = |client: &str, token: &str| {
        p.token(&[("grant_type", "refresh_token"), ("refresh_token", token)], &rp.assertion_as(&p, client, 60, None))
    };
    let r1 = first["refresh_token"].as_str().unwrap();
    let gid = jws_part(first["access_token"].as_str().unwrap(), 1)["gid"].as_str().unwrap().to_owned();
    assert!(r1.starts_with(&format!("{gid}.")), "the grant id is the refresh token's prefix: {r1}");

    let made_up = refresh("rp1", &format!("{gid}.made-up-secret"));
    assert_eq!(made_up["error"], "invalid_grant", "{made_up}");
    let renewed = refresh("rp1", r1);
    let r2 = renewed["refresh_token"].as_str().unwrap_or_else(|| panic!("a made-up secret ended the grant: {renewed}"));
    assert_ne!(r1, r2, "rotated");

    let receiver = logout_receiver(listener);
    let replay = refresh("rp1", r1);
    assert_eq!(replay["error"], "invalid_grant", "{replay}");
    assert!(replay["error_description"].as_str().unwrap().contains("sign-in session are ended"), "{replay}");
    for (client, token) in [("rp1", r2), ("bcl", other["refresh_token"].as_str().unwrap())] {
        let dead = refresh(client, token);
        assert_eq!(dead["error"], "invalid_grant", "{client}'s refresh after the replay: {dead}");
    }
    let bearer = format!("Authorization: Bearer {}", renewed["access_token"].as_str().unwrap());
    assert_eq!(p.curl(&["-H", &bearer, &format!("{}/userinfo", p.issuer)]).status, 401);
    let sid = jws_part(other["id_token"].as_str().unwrap(), 1)["sid"].clone();
    let logout = received_logout_token(&p, &receiver.join().unwrap(), "bcl", "ES256");
    assert_eq!(logout["sid"], sid, "{logout}");
    // The person's next visit says why (Japanese first): not an administrator, the reused credential.
    let home = p.get("/");
    assert!(home.status == 303 && home.location.ends_with("/login?problem=ended_token_reused"), "{home:?}");
    let page = p.get("/login?problem=ended_token_reused");
    assert!(
        page.body.contains("data-problem=\"ended_token_reused\"") && page.body.contains("安全のためログアウトしました")
    );
    let r = p.get(&authorize("rp1", "&prompt=none&state=s9"));
    assert_eq!(param(&r.location, "error").as_deref(), Some("login_required"), "the session survived: {r:?}");
    assert_eq!((param(&r.location, "iss"), param(&r.location, "state")), (Some(p.issuer.clone()), Some("s9".into())));

    let entries = p.h.audit_entries();
    let reuse: Vec<&Value> = entries
        .iter()
        .filter(|e| e["action"] == "oidc.token" && e["detail"]["reason"] == "refresh token reused after rotation")
        .collect();
    assert_eq!(reuse.len(), 1, "one reuse, the made-up secret is none: {reuse:?}");
    assert_eq!((&reuse[0]["outcome"], &reuse[0]["detail"]["grant"]), (&json!("denied"), &json!(gid)));
    let ended: Vec<&Value> = entries
        .iter()
        .filter(|e| e["action"] == "portal.logout" && e["detail"]["reason"] == "refresh-token-reused")
        .collect();
    assert_eq!(ended.len(), 1, "{ended:?}");
    assert_eq!(ended[0]["detail"]["session"], sid, "{}", ended[0]);
    let made_up_entry = entries
        .iter()
        .rev()
        .find(|e| e["action"] == "oidc.token" && e["detail"]["reason"] == "refresh token unknown, expired or revoked");
    assert!(made_up_entry.is_some(), "the made-up secret is audited as a refusal");
    let audit = p.h.ok(&["audit", "list", "--limit", "1000"]);
    assert!(!audit.contains(r1) && !audit.contains("made-up-secret"), "no refresh secret in the audit log");
    p.h.ok(&["audit", "verify"]);

    // RFC 9207 and PKCE: every answer at the redirect URI names the issuer (and the request's state), errors
    // included; a confidential client without PKCE, or with plain, is refused there.
    assert_eq!(p.login("alice", PASSWORD, &totp(&p.totp_secret, 1), None).status, 303);
    let no_pkce = format!("/authorize?response_type=code&client_id=rp1&scope=openid&redirect_uri={}", enc(REDIRECT));
    for (path, error, says) in [
        (format!("{no_pkce}&state=s1"), "invalid_request", Some("PKCE is required")),
        (
            format!("{no_pkce}&state=s1&code_challenge={}&code_challenge_method=plain", "x".repeat(43)),
            "invalid_request",
            Some("S256"),
        ),
        (authorize("rp1", "&state=s1").replace("scope=openid", "scope=profile"), "invalid_scope", None),
        (authorize("rp1", "&state=s1&purpose_of_use=HPAYMT"), "access_denied", Some("does not accept purpose_of_use")),
        (authorize("rp1", "&state=s1"), "", None),
    ] {
        let r = p.get(&path);
        assert!(r.location.starts_with(&format!("{REDIRECT}?")), "{path}: {r:?}");
        assert_eq!(param(&r.location, "error").unwrap_or_default(), error, "{path}: {r:?}");
        assert_eq!(
            (param(&r.location, "iss"), param(&r.location, "state")),
            (Some(p.issuer.clone()), Some("s1".into()))
        );
        if let Some(says) = says {
            assert!(param(&r.location, "error_description").unwrap().contains(says), "{r:?}");
        }
        assert_eq!(param(&r.location, "code").is_some(), error.is_empty(), "{r:?}");
    }
}

/// `oidc_rp_node.mjs rfc9700` as rp1: openid-client refuses hcpki's answer taken for a second issuer's (the
/// mix-up: `iss` tells them apart, nothing is sent to the attacker) and the answer with `iss` stripped, reads every
/// authorization error after checking `iss` (no PKCE, PKCE plain, invalid_scope, access_denied, login_required)
/// and sees a refresh-token replay end the grant and the session.
fn openid_client_sees_the_attacks_fail(b: Backend) {
    let p = Portal::start(b);
    let script = repo_root().join("tests/peers/oidc_rp_node.mjs");
    let out = Command::new("node")
        .arg(&script)
        .args(["rfc9700", "--issuer", &p.issuer, "--ca", p.chain.to_str().unwrap(), "--client-id", "rp1"])
        .args(["--key", p.rp_dir.join("key.pem").to_str().unwrap(), "--redirect-uri", REDIRECT])
        .args(["--post-logout", crate::oidc::POST_LOGOUT, "--username", "alice", "--password-file"])
        .arg(p.h.path("password"))
        .args(["--totp-secret", &p.totp_secret])
        .output()
        .unwrap_or_else(|e| panic!("cannot run node {} ({e}): scripts/deps installs Node.js", script.display()));
    assert!(out.status.success(), "openid-client rfc9700\n{}", describe(&out));
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{}", describe(&out)));

    let mix_up = &seen["mix_up"];
    assert_eq!((&mix_up["requests_to_attacker"], &mix_up["then_at_hcpki"]), (&json!(0), &json!(true)), "{seen}");
    assert!(mix_up["attacker"].as_str().unwrap().contains("\"iss\""), "refused for its iss: {seen}");
    assert!(mix_up["stripped"].as_str().unwrap().contains("\"iss\""), "refused without iss: {seen}");
    let errors = &seen["errors"];
    for (name, error) in [
        ("no_pkce", "invalid_request"),
        ("pkce_plain", "invalid_request"),
        ("invalid_scope", "invalid_scope"),
        ("access_denied", "access_denied"),
        ("login_required", "login_required"),
    ] {
        let e = &errors[name];
        assert_eq!((&e["error"], &e["iss"]), (&json!(error), &json!(p.issuer)), "{name}: {seen}");
        assert!(e["at_attacker"].as_str().unwrap().contains("\"iss\""), "{name} at the attacker's: {seen}");
    }
    assert!(errors["no_pkce"]["error_description"].as_str().unwrap().contains("PKCE is required"), "{seen}");
    let replay = &seen["replay"];
    assert_eq!(
        (&replay["made_up"], &replay["replayed"]["error"], &replay["next_refresh"], &replay["userinfo"]["status"]),
        (&json!("invalid_grant"), &json!("invalid_grant"), &json!("invalid_grant"), &json!(401)),
        "{seen}"
    );
    let ended =
        p.h.audit_entries()
            .into_iter()
            .filter(|e| e["action"] == "portal.logout" && e["detail"]["reason"] == "refresh-token-reused");
    assert_eq!(ended.count(), 1, "the replay's session end is audited");
    p.h.ok(&["audit", "verify"]);
}

/// `/authorize` for `client` at [`REDIRECT`] with PKCE S256 for [`VERIFIER`], and `extra` parameters.
fn authorize(client: &str, extra: &str) -> String {
    format!(
        "/authorize?response_type=code&client_id={client}&scope=openid&redirect_uri={}&code_challenge={}\
         &code_challenge_method=S256{extra}",
        enc(REDIRECT),
        challenge(VERIFIER)
    )
}
