//! Acting for a physician (issue #29 item 4, D95), end to end: a physician signs in with the virtual HPKI card at a
//! facility PC and delegates the wiki to the staff account alice for two hours (in Chromium on the SQLite run:
//! the page typed into, axe-clean in Japanese, photographed); alice, signed in with her password at the same
//! facility, chooses to act for the physician, and the wiki's tokens carry the physician as `sub` and alice as
//! `act.sub` (read by authlib, tests/peers/act_rp.py); her app exchanges its token for another wiki client's
//! (RFC 8693, D96) and the chain is the app, then alice under the delegation. Refused, audited, nothing stored or issued: a delegation by
//! a password sign-in, to an unknown or disabled account, beyond the longest time, to a service not offered; a
//! sign-in (or exchange) under it to a service not in its set, from another facility's PC, and after the physician
//! ended it —
//! which also revoked alice's refresh token from it.

use crate::agent::{self, hpki};
use crate::browser::{AutoSelect, Chromium, chromium_at_pc, copy_session};
use crate::harness::{Backend, describe, free_port, repo_root};
use crate::oidc::{self, PASSWORD, Portal, REDIRECT, Rp, param, totp};
use crate::pcsc_lock::pcsc_lock;
use crate::portal_card::{authorize_path, card_portal_with, card_session, data_attribute, field, open_service};
use serde_json::{Value, json};
use std::process::Command;

on_both_backends!(a_physician_delegates_to_a_clerk_who_acts_for_them_until_it_is_ended);

fn a_physician_delegates_to_a_clerk_who_acts_for_them_until_it_is_ended(b: Backend) {
    let agent_port = free_port();
    // A service of the wiki the clerk works in, which calls another wiki client (and asks for the EMR) on the
    // user's behalf by token exchange (D96).
    let p = card_portal_with(b, &format!("http://127.0.0.1:{agent_port}"), "card_presence_secs = 600\n", |h| {
        let jwks = h.path("rp/jwks.json");
        for (id, audiences) in [("clerkapp", &["wiki2", "emr"][..]), ("wiki2", &[][..])] {
            let mut args = vec!["oidc", "client", "add", "--id", id, "--redirect-uri", REDIRECT, "--auth"];
            args.extend(["private_key_jwt", "--jwks-file", jwks.to_str().unwrap(), "--service", "wiki"]);
            for a in audiences {
                args.extend(["--token-exchange-audience", a]);
            }
            h.ok(&args);
        }
    });
    // The PC's certificate needs no reader: issued before the readers' lock (its holders take turns).
    let (facility, cert, key) = oidc::issue_pc(&p.h, "Delegation clinic");
    let dr = p.with_client_cert(cert, key);
    let _pcsc = pcsc_lock();
    let agent = agent::Served::start_for(&p.issuer, &format!("127.0.0.1:{agent_port}"));
    let _card = agent::insert(hpki(), 0);
    agent.wait_card(0, "hpki");
    card_session(&dr, &agent);
    let rp = Rp::load(&p);
    let (_, dr_wiki) = open_service(&dr, &p, &rp, "rp1", REDIRECT);

    // alice at the same facility's PC, signed in with her password: her own subject at the wiki.
    let clerk = dr.other_browser("clerk-jar");
    assert_eq!(clerk.login("alice", PASSWORD, &totp(&p.totp_secret, 0), None).status, 303);
    let (_, alice_wiki) = open_service(&clerk, &p, &rp, "rp1", REDIRECT);
    assert_ne!(alice_wiki["sub"], dr_wiki["sub"]);

    // Refusals, each with its reason on the page, audited, nothing stored.
    p.h.ok(&[
        "portal",
        "user",
        "add",
        "bob",
        "--name",
        "Bob Gone",
        "--password-file",
        p.h.path("password").to_str().unwrap(),
    ]);
    p.h.ok(&["portal", "user", "disable", "bob"]);
    let page = dr.get("/delegations?lang=ja");
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.body.contains("id=\"give\"") && !page.body.contains("data-cannot-delegate"), "{page:?}");
    let csrf = field(&page.body, "csrf");
    let give = |who: &Portal, csrf: &str, delegate: &str, hours: &str, services: &[&str]| {
        let mut form = vec![("csrf", csrf), ("delegate", delegate), ("hours", hours)];
        form.extend(services.iter().map(|s| ("services", *s)));
        who.submit("/delegations", &form, None)
    };
    for (delegate, hours, services, says) in [
        ("nobody", "2", &["wiki"][..], "職員アカウント「nobody」はありません"),
        ("bob", "2", &["wiki"][..], "職員アカウント「bob」は無効にされています"),
        ("alice", "13", &["wiki"][..], "代理の期間は 1〜12 時間です"),
        ("alice", "2", &["lab"][..], "サービス「lab」はここでは提供されていません"),
    ] {
        let r = give(&dr, &csrf, delegate, hours, services);
        assert!(r.status == 400 && r.body.contains(says), "{delegate} {hours} {services:?}: {r:?}");
    }
    assert_eq!(give(&dr, "forged", "alice", "2", &["wiki"]).status, 403);
    // A password sign-in may not delegate: the page says why, and its post is refused.
    let alice_page = clerk.get("/delegations?lang=ja");
    assert!(alice_page.body.contains("data-cannot-delegate"), "{alice_page:?}");
    let r = give(&clerk, &field(&clerk.get("/").body, "csrf"), "alice", "2", &["wiki"]);
    assert!(r.status == 400 && r.body.contains("HPKI カードでのログインが必要"), "{r:?}");
    assert!(!dr.get("/delegations").body.contains("data-delegation="), "a refused delegation was stored");

    // The physician delegates the wiki to alice for two hours: in Chromium on SQLite, by form post on PostgreSQL.
    let mut browser = if b == Backend::Sqlite {
        Some(delegate_in_chromium(&p, &dr))
    } else {
        assert_eq!(give(&dr, &csrf, "alice", "2", &["wiki"]).status, 303);
        None
    };
    let made = dr.get("/delegations");
    let id = data_attribute(&made.body, "delegation");
    assert!(made.body.contains("Alice Staff (alice)"), "{made:?}");

    // alice sees it and chooses to act for the physician.
    let given = clerk.get("/delegations?lang=ja");
    assert!(given.body.contains(&format!("data-given=\"{id}\"")), "{given:?}");
    let clerk_csrf = field(&given.body, "csrf");
    assert_eq!(clerk.submit("/delegations/act", &[("csrf", &clerk_csrf), ("delegation", &id)], None).status, 303);
    assert!(clerk.get("/delegations").body.contains(&format!("data-acting=\"{id}\"")));
    if let Some((browser, _policy)) = browser.as_mut() {
        // alice's page in the same Chromium (the same PC): acting for the physician, axe-clean in Japanese.
        copy_session(&clerk, browser);
        browser.goto(&format!("{}/delegations?lang=ja", p.issuer));
        let text = browser.eval("document.querySelector('main').innerText");
        assert!(text.as_str().unwrap().contains("代理で操作しています"), "{text}");
        crate::accessibility::assert_wcag21_aa(browser, "main", "the staff member's delegation page (ja)");
    }

    // The wiki's tokens: the physician is the principal, alice the actor, under this delegation.
    let (tokens, claims) = open_service(&clerk, &p, &rp, "rp1", REDIRECT);
    assert_eq!((&claims["sub"], &claims["name"]), (&dr_wiki["sub"], &dr_wiki["name"]), "{claims}");
    assert_eq!(claims["act"]["sub"], alice_wiki["sub"], "{claims}");
    assert_eq!((&claims["act"]["name"], &claims["act"]["delegation"]["id"]), (&json!("Alice Staff"), &json!(id)));
    assert_eq!(claims["facility_id"], facility.as_str());
    let seen = authlib_check(&p, &tokens, "rp1");
    let access = &seen["access_token"];
    assert_eq!((&access["sub"], &access["act"]), (&dr_wiki["sub"], &claims["act"]), "{seen}");

    // The clerk's app calls another wiki client for her by token exchange: the chain is the app, then alice under
    // the delegation, for the physician (authlib makes the exchange and validates the token); the EMR, which
    // the delegation does not cover, is refused.
    let (app_tokens, _) = open_service(&clerk, &p, &rp, "clerkapp", REDIRECT);
    let app_at = app_tokens["access_token"].as_str().unwrap();
    let exchanged = crate::token_exchange::authlib_exchange(&p, "clerkapp", app_at, "wiki2", None);
    let token = &exchanged["access_token"];
    assert_eq!((&token["sub"], &token["aud"]), (&dr_wiki["sub"], &json!("wiki2")), "{exchanged}");
    assert_eq!(token["act"], json!({ "client_id": "clerkapp", "act": claims["act"] }), "{exchanged}");
    let refused_exchange =
        crate::token_exchange::authlib_exchange(&p, "clerkapp", app_at, "emr", Some("invalid_target"));
    let why = refused_exchange["refused"]["description"].as_str().unwrap();
    assert!(why.contains("does not cover service emr"), "{refused_exchange}");

    // Under it, the EMR (not in its set) is refused; so is the wiki from another facility's PC.
    let refused = |who: &Portal, client: &str, uri: &str, says: &str| {
        let r = who.get(&authorize_path(client, uri, &"v".repeat(64)));
        assert_eq!(param(&r.location, "error").as_deref(), Some("access_denied"), "{r:?}");
        let why = param(&r.location, "error_description").unwrap();
        assert!(why.contains(says), "{why}");
    };
    refused(&clerk, "emr", "http://127.0.0.1:9/emr", "does not cover service emr");
    let (_, other_cert, other_key) = oidc::issue_pc(&p.h, "Other clinic");
    let elsewhere = p.with_client_cert(other_cert, other_key).other_browser("elsewhere-jar");
    assert_eq!(elsewhere.login("alice", PASSWORD, &totp(&p.totp_secret, 1), None).status, 303);
    let csrf2 = field(&elsewhere.get("/delegations").body, "csrf");
    assert_eq!(elsewhere.submit("/delegations/act", &[("csrf", &csrf2), ("delegation", &id)], None).status, 303);
    refused(&elsewhere, "rp1", REDIRECT, &format!("holds at facility {facility} only"));

    // The physician ends it at once: new sign-ins under it are refused and the refresh token it gave is revoked.
    assert_eq!(dr.submit("/delegations/end", &[("csrf", &csrf), ("delegation", &id)], None).status, 303);
    assert!(!dr.get("/delegations").body.contains("data-delegation="));
    let again = dr.submit("/delegations/end", &[("csrf", &csrf), ("delegation", &id)], None);
    assert!(again.status == 400 && again.body.contains("既に終了"), "{again:?}");
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let t = p.token(&[("grant_type", "refresh_token"), ("refresh_token", refresh)], &rp.assertion(&p, 60, None));
    assert_eq!(t["error"], "invalid_grant", "{t}");
    refused(&clerk, "rp1", REDIRECT, "ended the delegation");
    // Acting as herself again, alice signs in as alice.
    assert_eq!(clerk.submit("/delegations/act", &[("csrf", &clerk_csrf), ("delegation", "")], None).status, 303);
    let (_, own) = open_service(&clerk, &p, &rp, "rp1", REDIRECT);
    assert!(own["sub"] == alice_wiki["sub"] && own.get("act").is_none(), "{own}");

    // Audited on both sides, both people named.
    let entries = p.h.audit_entries();
    let count = |action: &str, outcome: &str| {
        entries.iter().filter(|e| e["action"] == action && e["outcome"] == outcome).count()
    };
    assert_eq!((count("delegation.create", "ok"), count("delegation.create", "denied")), (1, 5));
    assert_eq!((count("delegation.use", "ok"), count("delegation.use", "denied")), (2, 3));
    assert_eq!((count("oidc.token_exchange", "ok"), count("oidc.token_exchange", "denied")), (1, 1));
    assert_eq!((count("delegation.end", "ok"), count("delegation.end", "denied")), (1, 1));
    let used = entries.iter().find(|e| e["action"] == "delegation.use" && e["outcome"] == "ok").unwrap();
    let exchange = entries.iter().find(|e| e["action"] == "oidc.token_exchange" && e["outcome"] == "ok").unwrap();
    assert_eq!(exchange["detail"]["delegation"], json!(id), "{exchange}");
    assert_eq!(
        (&used["detail"]["delegate"], &used["detail"]["service"]),
        (&json!("pwd:alice"), &json!("wiki")),
        "{used}"
    );
    assert!(used["detail"]["physician"].as_str().unwrap().starts_with("hpki"), "{used}");
    p.h.ok(&["audit", "verify"]);
}

/// The physician's delegation page in headless Chromium (their session's cookie): Japanese, axe-clean empty and
/// with the delegation listed, the form typed into and sent; photographed (`HCPKI_UPDATE_SCREENSHOTS=1` copies
/// the picture to docs/screenshots/delegation-ja.png). The browser, for the staff member's page later.
fn delegate_in_chromium(p: &Portal, dr: &Portal) -> (Chromium, Option<AutoSelect>) {
    // The physician's PC's browser (D161: the session lives only there).
    let (mut browser, policy) = chromium_at_pc(dr, "delegation");
    browser.cmd(json!({"cmd": "accept_language", "value": "ja,en-US;q=0.8"}));
    browser.cmd(json!({"cmd": "viewport", "width": 1280, "height": 1000}));
    browser.goto(&format!("{}/delegations?lang=ja", p.issuer));
    assert_eq!(browser.eval("document.documentElement.lang"), "ja");
    crate::accessibility::assert_wcag21_aa(&mut browser, "main", "the delegation page (ja)");
    browser.cmd(json!({"cmd": "type", "selector": "#delegate", "text": "alice"}));
    browser.eval("document.querySelector('#hours').value = '2'");
    browser.cmd(json!({"cmd": "click", "selector": "input[name=services][value=wiki]"}));
    browser.cmd(json!({"cmd": "click", "selector": "#give button[type=submit]"}));
    browser.wait_exact_url(&format!("{}/delegations", p.issuer), "#delegation-error");
    let text = browser.eval("document.querySelector('main').innerText");
    assert!(text.as_str().unwrap().contains("Alice Staff (alice)"), "{text}");
    crate::accessibility::assert_wcag21_aa(&mut browser, "main", "the delegation page with a delegation (ja)");
    let shot = p.h.path("delegation-ja.png");
    browser.screenshot(&shot);
    if std::env::var_os("HCPKI_UPDATE_SCREENSHOTS").is_some_and(|v| v == "1") {
        std::fs::copy(&shot, repo_root().join("docs/screenshots/delegation-ja.png")).unwrap();
    }
    (browser, policy)
}

/// tests/peers/act_rp.py `check` (authlib) on a token response of `client`: what it saw (it must succeed).
pub(crate) fn authlib_check(p: &Portal, tokens: &Value, client: &str) -> Value {
    let file = p.h.path(&format!("tokens-{}.json", uuid::Uuid::new_v4().simple()));
    std::fs::write(&file, tokens.to_string()).unwrap();
    let out = Command::new(oidc::tools().join("bin/python"))
        .arg(repo_root().join("tests/peers/act_rp.py"))
        .args(["check", "--issuer", &p.issuer, "--ca", p.chain.to_str().unwrap(), "--client-id", client, "--tokens"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "authlib on the tokens\n{}", describe(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}
