//! Bad input at the OpenID Connect provider (issue #6): every refusal answers with the right OAuth error and
//! leaves an audit entry saying why — malformed, `alg: none`, HS256, expired, wrong-audience, replayed and
//! missing client assertions at each client-authenticated endpoint; a mismatched redirect URI at `/authorize`
//! and at `/token`, a wrong PKCE verifier, unknown or malformed codes; malformed bearer tokens at `/userinfo`
//! and `id_token_hint`s at `/logout`; and the FAPI 2.0 negative cases of pushed authorization requests
//! (RFC 9126), with PAR required of a client by its registration and of every client by the server.
//! `oidc::conformance_refusals` checks the answers of the rest of the conformance list.

use crate::console_card::{console_of, console_sign_in_watching};
use crate::harness::Backend;
use crate::oidc::{PASSWORD, Portal, REDIRECT, Reply, Rp, challenge, enc, param, service_client, totp};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};

on_both_backends!(
    bad_client_authentication_is_refused_and_audited_at_every_endpoint,
    bad_authorization_and_token_requests_are_refused_and_audited,
    bad_bearer_tokens_and_logout_hints_are_refused_and_audited,
    bad_pushed_authorization_requests_are_refused_and_audited,
    a_client_registered_to_push_is_refused_plain_requests_and_served_pushed_ones,
    a_server_requiring_par_refuses_every_clients_plain_requests_but_the_consoles,
);

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Each client-authenticated endpoint refuses every kind of bad client assertion (malformed, `alg: none`, HS256,
/// expired, another audience, replayed, `sub` not the client, living more than an hour) with 401 `invalid_client`,
/// and each refusal is a denied `oidc.client.authenticate` entry naming the endpoint, the client the
/// assertion claimed to be, and the reason.
fn bad_client_authentication_is_refused_and_audited_at_every_endpoint(b: Backend) {
    let p = Portal::start(b);
    let rp = Rp::load(&p);
    // The pushed request without client_id: the assertion alone says who the client is.
    let par: Vec<(String, String)> =
        authorization_request("rp1", REDIRECT).into_iter().filter(|(k, _)| k != "client_id").collect();
    let endpoints = [
        ("/token", vec![("grant_type", "refresh_token"), ("refresh_token", "x.y")], 400),
        ("/introspect", vec![("token", "x")], 200),
        ("/revoke", vec![("token", "x")], 200),
        ("/par", par.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect(), 201),
    ];
    for (path, form, accepted) in &endpoints {
        // (assertion or none, client_id sent, the target the entry names, what its reason says)
        let once = rp.assertion(&p, 60, None);
        let mut another_sub = rp.claims(&p, "rp1", 60, None);
        another_sub["sub"] = json!("emr");
        let mut two_hours = rp.claims(&p, "rp1", 60, None);
        two_hours["exp"] = json!(two_hours["iat"].as_i64().unwrap() + 7200);
        let cases: Vec<(Option<String>, Option<&str>, &str, &str)> = vec![
            (Some("not-a-jwt".into()), None, "-", "malformed JWS"),
            (Some(unsigned(&rp, &p, "none", "")), None, "rp1", r#"algorithm "none" is not accepted"#),
            (Some(unsigned(&rp, &p, "HS256", "c2ln")), None, "rp1", r#"algorithm "HS256" is not accepted"#),
            (Some(rp.assertion(&p, -120, None)), None, "rp1", "has expired"),
            (Some(rp.assertion(&p, 60, Some("https://other.example/token"))), None, "rp1", "aud must be"),
            (Some(rp.sign_claims(&another_sub)), None, "rp1", "iss and sub must both be the client_id"),
            (Some(rp.sign_claims(&two_hours)), None, "rp1", "exp at most one hour ahead"),
            (Some(once.clone()), None, "rp1", "jti replay"),
            (None, Some("rp1"), "rp1", "authenticates with private_key_jwt"),
            (None, None, "-", "no client authentication"),
        ];
        // A fresh assertion is accepted once (what the endpoint then says of the request is beside the point).
        let r = call(&p, path, form, None, Some(&once));
        assert_eq!(r.status, *accepted, "{path}, a fresh assertion: {r:?}");
        let before = denied(&p, "oidc.client.authenticate").len();
        for (assertion, client_id, _, reason) in &cases {
            let r = call(&p, path, form, *client_id, assertion.as_deref());
            let body: Value = serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("{path}: {r:?}"));
            assert_eq!((r.status, body["error"].as_str()), (401, Some("invalid_client")), "{path} {reason}: {body}");
        }
        let entries = denied(&p, "oidc.client.authenticate");
        let entries = &entries[before..];
        assert_eq!(entries.len(), cases.len(), "{path}: one entry per refusal\n{entries:#?}");
        for (entry, (_, _, target, reason)) in entries.iter().zip(&cases) {
            assert_eq!((&entry["actor"], &entry["target"]), (&json!("oidc:anonymous"), &json!(target)), "{entry}");
            assert_eq!(
                (&entry["detail"]["endpoint"], &entry["detail"]["error"]),
                (&json!(path), &json!("invalid_client"))
            );
            let said = entry["detail"]["reason"].as_str().unwrap();
            assert!(said.contains(reason), "{path}: expected {reason:?}, audited {said:?}");
        }
    }
    // An authenticated client that names no token is refused 400, audited on its own action.
    for (path, action) in [("/introspect", "oidc.introspect"), ("/revoke", "oidc.revoke")] {
        let r = call(&p, path, &[], None, Some(&rp.assertion(&p, 60, None)));
        let body: Value = serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("{path}: {r:?}"));
        assert_eq!((r.status, body["error"].as_str()), (400, Some("invalid_request")), "{path}: {body}");
        let entries = denied(&p, action);
        assert_eq!(entries.len(), 1, "{path}: {entries:#?}");
        assert_eq!((&entries[0]["actor"], &entries[0]["target"]), (&json!("oidc:rp1"), &json!("rp1")));
        assert_eq!(entries[0]["detail"]["reason"], json!("token is missing"));
    }
    p.h.ok(&["audit", "verify"]);
}

/// `/authorize` with an unknown client or a missing or unregistered redirect URI shows an error page (never a
/// redirect) naming the OAuth error; a malformed request of a known client (PKCE plain, no or a hybrid
/// `response_type`) goes back to it; `/token` refuses a redirect URI other than the authorization request's, a
/// wrong or missing PKCE verifier and another client's code (without spending the code), unknown, expired and
/// malformed codes and unsupported grant types. Each is a denied `oidc.authorize` or `oidc.token`
/// entry with the reason, naming the grant but never holding the code.
fn bad_authorization_and_token_requests_are_refused_and_audited(b: Backend) {
    let p = Portal::start(b);
    let verifier = "w".repeat(60);
    let authz = |client: &str, redirect: &str, extra: &str| {
        format!(
            "/authorize?response_type=code&client_id={client}&scope=openid&redirect_uri={}&code_challenge={}\
             &code_challenge_method=S256{extra}",
            enc(redirect),
            challenge(&verifier)
        )
    };
    let evil = "http://127.0.0.1:9/evil";
    for (path, target, says) in [
        (authz("rp1", evil, ""), "rp1", "redirect_uri is missing or not registered"),
        (authz("rp1", "http://127.0.0.1:9/cb/", ""), "rp1", "redirect_uri is missing or not registered"),
        (authz("nobody", REDIRECT, ""), "nobody", "unknown client_id"),
        (
            authz("rp1", REDIRECT, "").replace(&format!("&redirect_uri={}", enc(REDIRECT)), ""),
            "rp1",
            "redirect_uri is missing or not registered",
        ),
    ] {
        let r = p.get(&path);
        assert_eq!((r.status, r.location.as_str()), (400, ""), "an error page, no redirect: {r:?}");
        assert!(r.body.contains(says) && r.body.contains("(invalid_request)"), "{r:?}");
        let entry = denied(&p, "oidc.authorize").pop().unwrap();
        assert_eq!((&entry["actor"], &entry["target"]), (&json!("portal:anonymous"), &json!(target)), "{entry}");
        assert!(entry["detail"]["reason"].as_str().unwrap().contains(says), "{entry}");
    }
    let unregistered = denied(&p, "oidc.authorize").into_iter().next().unwrap();
    assert_eq!(unregistered["detail"]["redirect_uri"], evil, "the redirect URI sent is recorded: {unregistered}");
    // A known client's malformed request (PKCE plain) goes back to its registered redirect URI, audited.
    let r = p.get(&authz("rp1", REDIRECT, "").replace("code_challenge_method=S256", "code_challenge_method=plain"));
    assert_eq!(param(&r.location, "error").as_deref(), Some("invalid_request"), "{r:?}");
    let entry = denied(&p, "oidc.authorize").pop().unwrap();
    assert!(entry["detail"]["reason"].as_str().unwrap().contains("S256"), "{entry}");
    // No response_type, or a hybrid one: the code flow only, refused back at the client, audited.
    for response_type in ["", "&response_type=code%20id_token"] {
        let r = p.get(&authz("rp1", REDIRECT, response_type).replacen("response_type=code&", "", 1));
        assert_eq!(param(&r.location, "error").as_deref(), Some("unsupported_response_type"), "{r:?}");
        let entry = denied(&p, "oidc.authorize").pop().unwrap();
        assert!(entry["detail"]["reason"].as_str().unwrap().contains("only response_type=code"), "{entry}");
    }

    assert_eq!(p.login("alice", PASSWORD, &totp(&p.totp_secret, 0), None).status, 303);
    let r = p.get(&authz("rp1", REDIRECT, "&state=s1"));
    let code = param(&r.location, "code").unwrap_or_else(|| panic!("no code: {r:?}"));
    let grant = code.split('.').next().unwrap().to_owned();
    let rp = Rp::load(&p);
    let exchange = |redirect: &str, verifier: &str| {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
        ];
        p.token(&form, &rp.assertion(&p, 60, None))
    };
    let before = denied(&p, "oidc.token").len();
    for (redirect, presented, says) in [
        (evil, verifier.clone(), "redirect_uri differs from the authorization request's"),
        (REDIRECT, "x".repeat(60), "code_verifier does not match"),
    ] {
        let t = exchange(redirect, &presented);
        assert_eq!(t["error"], "invalid_grant", "{t}");
        let entry = denied(&p, "oidc.token").pop().unwrap();
        assert_eq!((&entry["actor"], &entry["target"]), (&json!("oidc:rp1"), &json!("rp1")), "{entry}");
        assert_eq!(
            (&entry["detail"]["grant"], &entry["detail"]["grant_type"]),
            (&json!(grant), &json!("authorization_code"))
        );
        assert!(entry["detail"]["reason"].as_str().unwrap().contains(says), "{entry}");
    }
    // The code is bound to its client: another one authenticating with it gets what an unknown code gets.
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier.as_str()),
    ];
    let t = p.token(&form, &rp.assertion_as(&p, "emr", 60, None));
    assert_eq!(t["error"], "invalid_grant", "rp1's code redeemed by emr: {t}");
    let entry = denied(&p, "oidc.token").pop().unwrap();
    assert_eq!((&entry["actor"], &entry["target"]), (&json!("oidc:emr"), &json!("emr")), "{entry}");
    assert!(entry["detail"]["reason"].as_str().unwrap().contains("unknown code or refresh token"), "{entry}");
    // PKCE is not optional at the token endpoint either.
    let t = p.token(&form[..3], &rp.assertion(&p, 60, None));
    assert_eq!(t["error"], "invalid_grant", "no code_verifier: {t}");
    let entry = denied(&p, "oidc.token").pop().unwrap();
    assert!(entry["detail"]["reason"].as_str().unwrap().contains("code_verifier is missing"), "{entry}");
    assert!(exchange(REDIRECT, &verifier)["id_token"].is_string(), "a refusal spent the code");

    let token = |form: &[(&str, &str)]| p.token(form, &rp.assertion(&p, 60, None));
    for (form, error, says) in [
        (
            vec![("grant_type", "authorization_code"), ("code", "unknown.secret"), ("code_verifier", &verifier)],
            "invalid_grant",
            "unknown code or refresh token",
        ),
        (vec![("grant_type", "authorization_code"), ("code", "no-dot")], "invalid_grant", "malformed code"),
        (
            vec![("grant_type", "refresh_token"), ("refresh_token", "nope.nope")],
            "invalid_grant",
            "unknown code or refresh token",
        ),
        (
            vec![("grant_type", "password"), ("username", "alice")],
            "unsupported_grant_type",
            "grant_type password is not supported",
        ),
    ] {
        let t = token(&form);
        assert_eq!(t["error"], error, "{form:?}: {t}");
        let entry = denied(&p, "oidc.token").pop().unwrap();
        assert!(entry["detail"]["reason"].as_str().unwrap().contains(says), "{form:?}: {entry}");
        assert_eq!(entry["detail"]["error"], error, "{entry}");
    }
    // Expired: a new code whose deadline is moved into the past, as its minute would.
    let r = p.get(&authz("rp1", REDIRECT, ""));
    let late = param(&r.location, "code").unwrap_or_else(|| panic!("no code: {r:?}"));
    let late_grant = late.split('.').next().unwrap();
    assert_eq!(p.h.db().execute(&format!("UPDATE oidc_grants SET expires_at = 1 WHERE id = '{late_grant}'")), 1);
    let t = p.exchange(&rp, &late, &verifier);
    assert_eq!(t["error"], "invalid_grant", "{t}");
    let entry = denied(&p, "oidc.token").pop().unwrap();
    assert!(entry["detail"]["reason"].as_str().unwrap().contains("the code has expired"), "{entry}");
    assert_eq!(entry["detail"]["grant"], late_grant, "{entry}");
    assert_eq!(denied(&p, "oidc.token").len(), before + 9, "one entry per refusal");
    let audit = p.h.ok(&["audit", "list", "--limit", "1000"]);
    assert!(!audit.contains(&code) && !audit.contains(&verifier), "no code or verifier in the audit log");
    p.h.ok(&["audit", "verify"]);
}

/// `/userinfo` refuses a missing, malformed, foreign, unsigned (`alg: none`) or wrong-type bearer token with 401
/// (the precise reason only in the audit entry, `oidc.userinfo`), and `/logout` asks the user to confirm when
/// it has no hint, treats a hint that does not verify as none and audits it (`oidc.logout`), as it does an unregistered post-logout URI.
fn bad_bearer_tokens_and_logout_hints_are_refused_and_audited(b: Backend) {
    let p = Portal::start(b);
    assert_eq!(p.login("alice", PASSWORD, &totp(&p.totp_secret, 0), None).status, 303);
    let verifier = "w".repeat(60);
    let r = p.get(&format!(
        "/authorize?response_type=code&client_id=rp1&scope=openid&redirect_uri={}&code_challenge={}&code_challenge_method=S256",
        enc(REDIRECT),
        challenge(&verifier)
    ));
    let code = param(&r.location, "code").unwrap_or_else(|| panic!("no code: {r:?}"));
    let t = p.exchange(&Rp::load(&p), &code, &verifier);
    let (access, id_token) = (t["access_token"].as_str().unwrap(), t["id_token"].as_str().unwrap());
    let userinfo = |header: Option<&str>| {
        let url = format!("{}/userinfo", p.issuer);
        match header {
            Some(h) => p.curl(&["-H", h, &url]),
            None => p.curl(&[&url]),
        }
    };
    assert_eq!(userinfo(Some(&format!("Authorization: Bearer {access}"))).status, 200);
    // A token signed with another key, the claims of the real one: our signature does not verify on it.
    let parts: Vec<&str> = access.split('.').collect();
    let forged = format!("{}.{}.{}", parts[0], parts[1], B64.encode([7u8; 64]));
    let unsigned = format!("{}.{}.", B64.encode(r#"{"alg":"none","typ":"at+jwt"}"#), parts[1]);
    let cases = [
        (None, "invalid_request", "-", "no bearer token"),
        (Some("Authorization: Basic cnAxOnNlY3JldA==".to_owned()), "invalid_request", "-", "no bearer token"),
        (Some("Authorization: Bearer not-a-jwt".to_owned()), "invalid_token", "-", "malformed JWS"),
        (Some(format!("Authorization: Bearer {forged}")), "invalid_token", "-", "does not verify"),
        (Some(format!("Authorization: Bearer {unsigned}")), "invalid_token", "-", r#""none" is not accepted"#),
        (Some(format!("Authorization: Bearer {id_token}")), "invalid_token", "rp1", "typ is not at+jwt"),
    ];
    for (header, error, target, says) in &cases {
        let r = userinfo(header.as_deref());
        let body: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!((r.status, body["error"].as_str()), (401, Some(*error)), "{header:?}: {r:?}");
        let entry = denied(&p, "oidc.userinfo").pop().unwrap();
        assert_eq!((&entry["actor"], &entry["target"]), (&json!("oidc:anonymous"), &json!(target)), "{entry}");
        assert!(entry["detail"]["reason"].as_str().unwrap().contains(says), "{header:?}: {entry}");
    }
    assert_eq!(denied(&p, "oidc.userinfo").len(), cases.len());

    // No hint at all (OIDF `oidcc-rp-initiated-logout-no-params`): the user is asked to confirm.
    let r = p.get("/logout");
    assert!(r.status == 200 && r.body.contains("name=\"csrf\""), "a confirmation form: {r:?}");
    assert_eq!(p.get("/").status, 200, "signed out without confirming");
    // A malformed hint, and the real ID token with its signature altered (`-bad-` and `-modified-id-token-hint`):
    // the user is asked to confirm (the session goes on), and the refusal is audited.
    let id_parts: Vec<&str> = id_token.split('.').collect();
    let modified = format!("{}.{}.{}", id_parts[0], id_parts[1], B64.encode([7u8; 64]));
    for hint in ["not-a-jwt", modified.as_str()] {
        let r =
            p.get(&format!("/logout?id_token_hint={hint}&post_logout_redirect_uri={}", enc(crate::oidc::POST_LOGOUT)));
        assert!(r.status == 200 && r.body.contains("name=\"csrf\""), "a confirmation form: {r:?}");
        assert_eq!(p.get("/").status, 200, "still signed in");
        let entry = denied(&p, "oidc.logout").pop().unwrap();
        assert!(entry["actor"].as_str().unwrap().starts_with("portal:pwd:"), "{entry}");
        assert!(entry["detail"]["reason"].as_str().unwrap().contains("id_token_hint does not verify"), "{entry}");
    }
    // A good hint with a post-logout URI the client never registered: a refusal page, audited.
    let r =
        p.get(&format!("/logout?id_token_hint={id_token}&post_logout_redirect_uri={}", enc("http://127.0.0.1:9/evil")));
    assert!(r.status == 400 && r.location.is_empty(), "{r:?}");
    let entry = denied(&p, "oidc.logout").pop().unwrap();
    assert_eq!(
        (&entry["target"], &entry["detail"]["post_logout_redirect_uri"]),
        (&json!("rp1"), &json!("http://127.0.0.1:9/evil"))
    );
    let audit = p.h.ok(&["audit", "list", "--limit", "1000"]);
    assert!(!audit.contains(access) && !audit.contains(id_token), "no token in the audit log");
    p.h.ok(&["audit", "verify"]);
}

/// FAPI 2.0 negative cases of pushed authorization requests (RFC 9126): at `/par`, an unregistered redirect URI,
/// a pushed `request_uri`, or PKCE missing or plain is 400 `invalid_request` (audited `oidc.par`), no client
/// authentication 401 `invalid_client`, a GET 405; at `/authorize`, a request_uri made up, pushed by another client, used already or expired
/// is an error page naming `invalid_request_uri` (audited `oidc.authorize`). Nothing refused yields a code.
fn bad_pushed_authorization_requests_are_refused_and_audited(b: Backend) {
    let p = Portal::start(b);
    let rp = Rp::load(&p);
    let push = |form: &[(String, String)], assertion: Option<&str>| {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let r = call(&p, "/par", &form, None, assertion);
        (r.status, serde_json::from_str::<Value>(&r.body).unwrap_or_else(|_| panic!("/par: {r:?}")))
    };
    let good = authorization_request("rp1", REDIRECT);
    let without_pkce: Vec<_> = good.iter().filter(|(k, _)| !k.starts_with("code_challenge")).cloned().collect();
    let plain: Vec<_> = good
        .iter()
        .map(
            |(k, v)| {
                if k == "code_challenge_method" { (k.clone(), "plain".to_owned()) } else { (k.clone(), v.clone()) }
            },
        )
        .collect();

    for (form, says) in [
        (authorization_request("rp1", "http://127.0.0.1:9/evil"), "redirect_uri is missing or not registered"),
        (
            [good.clone(), vec![("request_uri".into(), "urn:ietf:params:oauth:request_uri:x".into())]].concat(),
            "request_uri must not be pushed",
        ),
        (without_pkce, "PKCE is required"),
        (plain, "must be S256"),
    ] {
        let (status, body) = push(&form, Some(&rp.assertion(&p, 60, None)));
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");
        let entry = denied(&p, "oidc.par").pop().unwrap();
        assert_eq!((&entry["actor"], &entry["target"]), (&json!("oidc:rp1"), &json!("rp1")), "{entry}");
        assert!(entry["detail"]["reason"].as_str().unwrap().contains(says), "{entry}");
    }
    assert_eq!(denied(&p, "oidc.par")[0]["detail"]["redirect_uri"], "http://127.0.0.1:9/evil");
    // The pushed authorization request endpoint takes POST only (RFC 9126 §2).
    assert_eq!(p.get("/par").status, 405);
    // Unauthenticated: client_id alone.
    let (status, body) = push(&good, None);
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{body}");
    let entry = denied(&p, "oidc.client.authenticate").pop().unwrap();
    assert_eq!((&entry["target"], &entry["detail"]["endpoint"]), (&json!("rp1"), &json!("/par")), "{entry}");

    let pushed = || {
        let (status, body) = push(&good, Some(&rp.assertion(&p, 60, None)));
        assert_eq!(status, 201, "{body}");
        body["request_uri"].as_str().unwrap().to_owned()
    };
    let at_authorize =
        |client: &str, uri: &str| p.get(&format!("/authorize?client_id={client}&request_uri={}", enc(uri)));
    let refused = |r: Reply, target: &str, says: &str| {
        assert_eq!((r.status, r.location.as_str()), (400, ""), "an error page, no redirect: {r:?}");
        assert!(r.body.contains("(invalid_request_uri)") && r.body.contains(says), "{r:?}");
        let entry = denied(&p, "oidc.authorize").pop().unwrap();
        assert_eq!((&entry["target"], &entry["detail"]["error"]), (&json!(target), &json!("invalid_request_uri")));
        assert!(entry["detail"]["reason"].as_str().unwrap().contains(says), "{entry}");
    };
    // Made up.
    refused(at_authorize("rp1", "urn:ietf:params:oauth:request_uri:made-up"), "rp1", "unknown, used or expired");
    // Pushed by rp1, presented with another client's id: refused, and spent for rp1 as well.
    let uri = pushed();
    refused(at_authorize("emr", &uri), "emr", "client_id differs from the pushed request");
    refused(at_authorize("rp1", &uri), "rp1", "unknown, used or expired");
    // Used: the first use goes on (to the login page: no session here), the second is refused.
    let uri = pushed();
    let first = at_authorize("rp1", &uri);
    assert!(first.status == 303 && first.location.contains("/login?return_to="), "{first:?}");
    refused(at_authorize("rp1", &uri), "rp1", "unknown, used or expired");
    // Expired: its deadline moved into the past, as 60 s would.
    let uri = pushed();
    let key = uri.rsplit(':').next().unwrap();
    let moved = p.h.db().execute(&format!("UPDATE oidc_once SET expires_at = 1 WHERE kind = 'par' AND key = '{key}'"));
    assert_eq!(moved, 1);
    refused(at_authorize("rp1", &uri), "rp1", "unknown, used or expired");
    p.h.ok(&["audit", "verify"]);
}

/// RFC 9126 §6 and FAPI 2.0 Security Profile §5.3.2.2: a client registered with `--require-par` sending a
/// plain authorization request gets `invalid_request` back at its registered redirect URI (with `state` and
/// `iss`, never a code), with or without a session, audited `oidc.authorize` with the reason; the same request
/// pushed goes through the login, whose return trip names a new single-use `request_uri` rather than the pushed
/// parameters, and ends in a code the client redeems. Another client's plain requests are untouched, and
/// discovery does not claim the requirement for every client.
fn a_client_registered_to_push_is_refused_plain_requests_and_served_pushed_ones(b: Backend) {
    let p = Portal::start_with(b, "", |h| {
        let out = h.ok(&service_client(h, "rp-par", "wiki", &["--require-par"])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>());
        assert!(out.contains("pushed requests only"), "{out}");
    });
    let discovery: Value = serde_json::from_str(&p.get("/.well-known/openid-configuration").body).unwrap();
    assert_eq!(discovery["require_pushed_authorization_requests"], json!(false), "{discovery}");
    let plain = |client: &str| p.get(&format!("/authorize?{}", query(&authorization_request(client, REDIRECT))));

    plain_refused(&p, plain("rp-par"), "rp-par", "required by its registration");
    let code = code_through_login(&p, "rp-par", &push_as(&p, "rp-par"));
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let tokens = p.token(&form, &Rp::load(&p).assertion_as(&p, "rp-par", 60, None));
    assert!(tokens["id_token"].is_string(), "the pushed request's code: {tokens}");
    // A live session changes nothing: the plain request is still refused, and another client's is served.
    plain_refused(&p, plain("rp-par"), "rp-par", "required by its registration");
    let r = plain("rp1");
    assert!(param(&r.location, "code").is_some(), "rp1 need not push: {r:?}");
    assert_eq!(par_refusals(&p).len(), 2, "one entry per refusal");
    p.h.ok(&["audit", "verify"]);
}

/// `[oidc] require_pushed_authorization_requests = true`: discovery says so (RFC 9126 §5), a client registered
/// without `--require-par` is refused its plain request as one registered with it would be ("required by this
/// server"), audited, and served its pushed one through the login. The web console's built-in client, which
/// the server itself sends to `/authorize` and which has no credentials to push with, still signs in.
fn a_server_requiring_par_refuses_every_clients_plain_requests_but_the_consoles(b: Backend) {
    let p = Portal::start_with(b, "[oidc]\nrequire_pushed_authorization_requests = true\n", |_| ());
    let discovery: Value = serde_json::from_str(&p.get("/.well-known/openid-configuration").body).unwrap();
    assert_eq!(discovery["require_pushed_authorization_requests"], json!(true), "{discovery}");
    let plain = format!("/authorize?{}", query(&authorization_request("rp1", REDIRECT)));
    plain_refused(&p, p.get(&plain), "rp1", "required by this server");

    let code = code_through_login(&p, "rp1", &push_as(&p, "rp1"));
    assert!(p.exchange(&Rp::load(&p), &code, VERIFIER)["id_token"].is_string(), "the pushed request's code");
    plain_refused(&p, p.get(&plain), "rp1", "required by this server");
    // The console's sign-in goes through /authorize as before: a code back at its callback.
    let console = console_of(&p);
    let mut answers = Vec::new();
    console_sign_in_watching(&p, &console, |r| answers.push(r.location.clone()));
    let at_portal = answers.get(1).cloned().unwrap_or_default();
    assert!(
        at_portal.starts_with(&format!("{console}/console/login/callback?")) && param(&at_portal, "code").is_some(),
        "the console's client was refused: {answers:?}"
    );
    assert_eq!(par_refusals(&p).len(), 2, "one entry per refusal, none for the console");
    p.h.ok(&["audit", "verify"]);
}

// ---- helpers ----

/// The PKCE verifier of [`authorization_request`].
const VERIFIER: &str = "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv";

/// A good authorization request of `client` to push (or send plain), with `redirect` as its redirect URI.
fn authorization_request(client: &str, redirect: &str) -> Vec<(String, String)> {
    [
        ("response_type", "code"),
        ("client_id", client),
        ("redirect_uri", redirect),
        ("scope", "openid"),
        ("state", "p1"),
        ("code_challenge", &challenge(VERIFIER)),
        ("code_challenge_method", "S256"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// `pairs` as a query string.
fn query(pairs: &[(String, String)]) -> String {
    pairs.iter().map(|(k, v)| format!("{k}={}", enc(v))).collect::<Vec<_>>().join("&")
}

/// [`authorization_request`] of `client` pushed with its assertion: the `request_uri`.
fn push_as(p: &Portal, client: &str) -> String {
    let form = authorization_request(client, REDIRECT);
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = call(p, "/par", &form, None, Some(&Rp::load(p).assertion_as(p, client, 60, None)));
    let body: Value = serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("/par: {r:?}"));
    assert_eq!(r.status, 201, "{body}");
    body["request_uri"].as_str().unwrap().to_owned()
}

/// `client`'s pushed `request_uri` at `/authorize` without a session: the login page, whose return trip names a
/// new `request_uri` and none of the pushed parameters; alice logs in, is sent back and gets a code (with the
/// request's `state` and `iss`). The return trip's `request_uri` is then spent. The code.
fn code_through_login(p: &Portal, client: &str, request_uri: &str) -> String {
    let r = p.get(&format!("/authorize?client_id={client}&request_uri={}", enc(request_uri)));
    assert!(r.status == 303 && r.location.contains("/login?return_to="), "to the login page: {r:?}");
    let return_to = param(&r.location, "return_to").unwrap();
    let again = param(&return_to, "request_uri").unwrap_or_default();
    assert!(
        again.starts_with("urn:ietf:params:oauth:request_uri:") && again != request_uri,
        "the return trip is pushed anew: {return_to}"
    );
    for pushed in ["code_challenge", "redirect_uri", "state", "scope"] {
        assert!(param(&return_to, pushed).is_none(), "{pushed} in the browser's URL: {return_to}");
    }
    let login = [
        ("username", "alice"),
        ("password", PASSWORD),
        ("totp", &totp(&p.totp_secret, 0)),
        ("return_to", return_to.as_str()),
    ];
    let r = p.submit("/login", &login, None);
    assert_eq!(r.status, 303, "{r:?}");
    let r = p.curl(&[&r.location]);
    assert!(r.location.starts_with(REDIRECT), "back at the client: {r:?}");
    assert_eq!((param(&r.location, "state"), param(&r.location, "iss")), (Some("p1".into()), Some(p.issuer.clone())));
    let code = param(&r.location, "code").unwrap_or_else(|| panic!("no code: {r:?}"));
    let replayed = p.get(&return_to);
    assert!(replayed.status == 400 && replayed.body.contains("(invalid_request_uri)"), "{replayed:?}");
    code
}

/// A plain request `r` refused back at the client: `invalid_request` naming PAR and who requires it, the
/// request's `state` and `iss`, no code; audited `oidc.authorize` with the reason.
fn plain_refused(p: &Portal, r: Reply, client: &str, by: &str) {
    assert!(r.status == 303 && r.location.starts_with(REDIRECT), "refused back at the client: {r:?}");
    let said = param(&r.location, "error_description").unwrap_or_default();
    assert_eq!(param(&r.location, "error").as_deref(), Some("invalid_request"), "{r:?}");
    assert!(said.contains("must push its authorization requests (PAR") && said.contains(by), "{said}");
    assert_eq!((param(&r.location, "state"), param(&r.location, "iss")), (Some("p1".into()), Some(p.issuer.clone())));
    assert!(param(&r.location, "code").is_none(), "{r:?}");
    let entry = denied(p, "oidc.authorize").pop().unwrap();
    assert_eq!((&entry["actor"], &entry["target"]), (&json!("portal:anonymous"), &json!(client)), "{entry}");
    assert_eq!(entry["detail"]["error"], "invalid_request", "{entry}");
    assert!(entry["detail"]["reason"].as_str().unwrap().contains(by), "{entry}");
}

/// The denied `oidc.authorize` entries of plain requests from clients that must push.
fn par_refusals(p: &Portal) -> Vec<Value> {
    let says = |e: &Value| e["detail"]["reason"].as_str().is_some_and(|r| r.contains("must push"));
    denied(p, "oidc.authorize").into_iter().filter(says).collect()
}

/// An assertion with rp1's claims in a JWS whose header says `alg` and whose signature is `signature`.
fn unsigned(rp: &Rp, p: &Portal, alg: &str, signature: &str) -> String {
    let header = B64.encode(json!({ "alg": alg }).to_string());
    format!("{header}.{}.{signature}", B64.encode(rp.claims(p, "rp1", 60, None).to_string()))
}

/// A form POST to `path` with `client_id` and the client assertion, when given.
fn call(p: &Portal, path: &str, form: &[(&str, &str)], client_id: Option<&str>, assertion: Option<&str>) -> Reply {
    let mut fields = form.to_vec();
    if let Some(id) = client_id {
        fields.push(("client_id", id));
    }
    if let Some(a) = assertion {
        fields.extend([("client_assertion_type", JWT_BEARER), ("client_assertion", a)]);
    }
    let mut args: Vec<String> = Vec::new();
    for (k, v) in fields {
        args.extend(["--data-urlencode".to_owned(), format!("{k}={v}")]);
    }
    args.push(format!("{}{path}", p.issuer));
    p.curl(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// The denied audit entries of `action`, in order, each `detail` decoded.
fn denied(p: &Portal, action: &str) -> Vec<Value> {
    p.h.audit_entries().into_iter().filter(|e| e["action"] == action && e["outcome"] == "denied").collect()
}
