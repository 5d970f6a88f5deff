//! Break-glass (issue #29, D94), one journey on each database: a physician signed in with the virtual HPKI card
//! (the real agent and pcscd) asks the EMR for purpose of use `EMER`; headless Chromium shows the confirmation
//! page (Japanese first, axe-core clean in both languages, photographed as `docs/screenshots/break-glass-ja.png`
//! under `HCPKI_UPDATE_SCREENSHOTS=1`), the reason is typed and confirmed, and the code comes back to the
//! service; the tokens say break-glass, the audit has an `oidc.break_glass` entry to review, the webhook is told,
//! and the console lists the use. Refused, audited, with nothing issued: break-glass at a service that does not
//! accept it, with a password login, without an hcRole, without the page (`prompt=none`), a post without a reason,
//! without the CSRF token or from another origin, and a kept request used twice.

use crate::agent::{self, hpki};
use crate::backchannel::logout_receiver;
use crate::browser::{Chromium, nss_trust};
use crate::harness::{Backend, free_port};
use crate::oidc::{self, PASSWORD, Portal, Rp, param, poll, totp};
use crate::pcsc_lock::pcsc_lock;
use crate::portal_card::{authorize_path, card_portal_with, card_session};
use base64::Engine as _;
use serde_json::{Value, json};

on_both_backends!(break_glass_confirmed_in_chromium_and_refused_otherwise);

/// The EMR accepts break-glass; the wiki does not (default purposes). The EMR takes password logins too, so a
/// password login reaches the break-glass check.
const SERVICES: &str = r#"version = 1
[[service]]
id = "wiki"
name = "Staff wiki"
roles = []
facility_kinds = ["*"]
min_assurance = "password-totp"
claims = ["name"]

[[service]]
id = "emr"
name = "電子カルテ"
roles = ["*"]
facility_kinds = ["*"]
min_assurance = "password-totp"
claims = ["name", "hc_role", "ihe_iua"]
purposes = ["TREAT", "EMER"]
"#;
const EMR: &str = "http://127.0.0.1:9/emr";
const REASON: &str = "意識のない救急搬送の患者の服薬歴を確認するため";

fn break_glass_confirmed_in_chromium_and_refused_otherwise(b: Backend) {
    let agent_port = free_port();
    let hook = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let extra = format!(
        "card_presence_secs = 600\n[monitor]\nbreak_glass_webhook = \"http://127.0.0.1:{}/hook\"\n",
        hook.local_addr().unwrap().port()
    );
    let received = logout_receiver(hook);
    let mut nurse_secret = String::new();
    let p = card_portal_with(b, &format!("http://127.0.0.1:{agent_port}"), &extra, |h| {
        std::fs::write(h.path("bg.toml"), SERVICES).unwrap();
        h.ok(&["service", "add", h.path("bg.toml").to_str().unwrap(), "--replace"]);
        let out = h.ok(&[
            "portal",
            "user",
            "add",
            "nurse",
            "--name",
            "Nurse Pw",
            "--role",
            "nurse",
            "--password-file",
            h.path("password").to_str().unwrap(),
        ]);
        nurse_secret = out.lines().find_map(|l| l.strip_prefix("secret: ")).unwrap().to_owned();
    });
    let rp = Rp::load(&p);
    let verifier = "v".repeat(64);
    let emer = |client: &str, uri: &str| format!("{}&purpose_of_use=EMER", authorize_path(client, uri, &verifier));

    // Refusals of password logins, each at the client with nothing issued: with an hcRole, break-glass needs the
    // card (audited oidc.break_glass); without one the policy refuses first (the EMR needs a qualification).
    let nurse = p.other_browser("nurse");
    assert_eq!(nurse.login("nurse", PASSWORD, &totp(&nurse_secret, 0), None).status, 303);
    let r = nurse.get(&emer("emr", EMR));
    assert_eq!(param(&r.location, "error").as_deref(), Some("access_denied"), "{r:?}");
    assert!(param(&r.location, "error_description").unwrap().contains("needs a login with an HPKI card"), "{r:?}");
    assert!(param(&r.location, "code").is_none(), "{r:?}");
    let alice = p.other_browser("alice");
    assert_eq!(alice.login("alice", PASSWORD, &totp(&p.totp_secret, 0), None).status, 303);
    let back = oidc::refused_back(&alice.get(&emer("emr", EMR)));
    assert!(param(&back, "error_description").unwrap().contains("requires a healthcare qualification"), "{back}");

    // The physician's card login (curl plays the login page's script).
    let _pcsc = pcsc_lock();
    let agent = agent::Served::start_with(
        &p.issuer,
        &format!("127.0.0.1:{agent_port}"),
        &["--portal-ca-file", p.h.chain_file("server").to_str().unwrap()],
    );
    let _card = agent::insert(hpki(), 0);
    agent.wait_card(0, "hpki");
    card_session(&p, &agent);
    // The wiki does not accept EMER; prompt=none cannot show the page.
    let r = p.get(&emer("rp1", oidc::REDIRECT));
    assert_eq!(param(&r.location, "error").as_deref(), Some("access_denied"), "{r:?}");
    assert!(param(&r.location, "error_description").unwrap().contains("does not accept purpose_of_use EMER"));
    let r = p.get(&format!("{}&prompt=none", emer("emr", EMR)));
    assert_eq!(param(&r.location, "error").as_deref(), Some("interaction_required"), "{r:?}");

    // Chromium, holding the card session's cookie, opens the EMR for an emergency: the confirmation page.
    let home = p.h.path("bg-browser-home");
    nss_trust(&home, &p.h.chain_file("server"));
    let mut browser = Chromium::start(&home, &p.h.path("bg-chromium-profile"));
    browser.cmd(json!({"cmd": "intercept", "prefix": "http://127.0.0.1:9/"}));
    browser.cmd(json!({"cmd": "accept_language", "value": "ja,en-US;q=0.8"}));
    browser.cmd(json!({"cmd": "viewport", "width": 1280, "height": 800}));
    for (name, value) in p.cookies() {
        browser.cmd(json!({"cmd": "cookie", "url": p.issuer, "name": name, "value": value}));
    }
    let page = browser.goto(&format!("{}{}", p.issuer, emer("emr", EMR)));
    assert!(page.starts_with(&format!("{}/break-glass?request=", p.issuer)), "{page}");
    assert_eq!(browser.eval("document.documentElement.lang"), "ja");
    let text = browser.eval("document.body.innerText").as_str().unwrap().to_owned();
    assert!(text.contains("緊急時のアクセス") && text.contains("電子カルテ") && text.contains("医師"), "{text}");
    crate::accessibility::assert_wcag21_aa(&mut browser, "main", "break-glass (ja)");
    screenshot(&mut browser, &p, b, "break-glass-ja.png");
    let en = format!("{page}&lang=en");
    browser.goto(&en);
    assert_eq!(browser.eval("document.documentElement.lang"), "en");
    crate::accessibility::assert_wcag21_aa(&mut browser, "main", "break-glass (en)");
    browser.goto(&format!("{page}&lang=ja"));

    // The post refused without a reason, without the CSRF token, from another origin (each audited), the
    // request kept for the page.
    let key = param(&page, "request").unwrap();
    let csrf = browser.eval("document.querySelector('input[name=csrf]').value").as_str().unwrap().to_owned();
    let r = p.submit("/break-glass", &[("csrf", &csrf), ("request", &key), ("reason", " "), ("confirm", "yes")], None);
    assert!(r.status == 400 && r.body.contains("理由を 4 文字以上で入力してください"), "{r:?}");
    let r = p.submit("/break-glass", &[("request", &key), ("reason", REASON), ("confirm", "yes")], None);
    assert_eq!(r.status, 403, "no CSRF token: {r:?}");
    let form = [("csrf", csrf.as_str()), ("request", &key), ("reason", REASON), ("confirm", "yes")];
    let r = p.submit("/break-glass", &form, Some("https://evil.example"));
    assert_eq!(r.status, 403, "another origin: {r:?}");

    // Typed and confirmed in Chromium: back at the EMR with a code.
    browser.cmd(json!({"cmd": "type", "selector": "#reason", "text": REASON}));
    browser.cmd(json!({"cmd": "click", "selector": "#confirm"}));
    browser.cmd(json!({"cmd": "click", "selector": "button[type=submit]"}));
    let landed = browser.wait_url(EMR, "body");
    let code = param(&landed, "code").unwrap_or_else(|| panic!("no code: {landed}"));
    // The kept request was single use.
    let r = p.submit("/break-glass", &form, None);
    assert_eq!(r.status, 410, "a kept request used twice: {r:?}");

    let t = p.token(
        &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", EMR), ("code_verifier", &verifier)],
        &rp.assertion_as(&p, "emr", 60, None),
    );
    let access = claims_of(&p, &t["access_token"]);
    let id = claims_of(&p, &t["id_token"]);
    assert!(access["break_glass"]["confirmed_at"].is_i64() && id["break_glass"] == access["break_glass"], "{t}");
    assert_eq!(access["purpose_of_use"], "EMER", "{access}");
    let iua = &access["extensions"]["ihe_iua"];
    assert_eq!(
        (&iua["purpose_of_use"]["code"], &iua["subject_role"]["code"]),
        (&json!("EMER"), &json!("medical-doctor"))
    );
    assert!(iua["national_provider_identifier"].as_str().is_some_and(|n| !n.is_empty()), "{access}");
    assert!(!access.to_string().contains(REASON), "the reason stays out of the token: {access}");

    // The audit: one use to review (with the reason), the refusals; the webhook told, its delivery audited.
    let entries = p.h.audit_entries();
    let of = |outcome: &str| {
        entries.iter().filter(|e| e["action"] == "oidc.break_glass" && e["outcome"] == outcome).collect::<Vec<_>>()
    };
    let used = of("ok");
    assert_eq!(used.len(), 1, "{used:?}");
    assert_eq!((&used[0]["detail"]["reason"], &used[0]["detail"]["review"]), (&json!(REASON), &json!("pending")));
    let refused: Vec<String> = of("denied").iter().map(|e| e["detail"]["reason"].to_string()).collect();
    for why in ["not_a_card_login", "prompt_none", "form", "unknown, used or expired request"] {
        assert!(refused.iter().any(|r| r.contains(why)), "{why}: {refused:?}");
    }
    let request = received.join().unwrap();
    let body = request.split_once("\r\n\r\n").unwrap().1;
    let hook: Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        (&hook["event"], &hook["client"], &hook["reason"]),
        (&json!("hcpki.break_glass"), &json!("emr"), &json!(REASON))
    );
    let delivered = poll(|| {
        p.h.audit_entries().into_iter().find(|e| e["action"] == "monitor.break_glass_webhook" && e["outcome"] == "ok")
    });
    assert_eq!(delivered["detail"]["client"], "emr", "{delivered}");

    // The console's list to review: an operator sees the use with its reason; another facility's administrator
    // (its PC certificate) sees none of it.
    let console = crate::console::Console::new(&p.h, p.served());
    let ops = crate::admin::operator(&p.h, "ops", "operator");
    let list = console.get("/console/break-glass", &ops);
    assert!(
        list.status == 200 && list.text.contains("data-break-glass-uses=\"1\"") && list.text.contains(REASON),
        "{list:?}"
    );
    let (_, pc, pc_key) = oidc::issue_pc(&p.h, "Other clinic");
    let list = console.get("/console/break-glass", &crate::admin::As::Cert(pc, pc_key));
    assert!(list.status == 200 && list.text.contains("data-break-glass-uses=\"0\""), "{list:?}");
    assert!(!list.text.contains(REASON), "another facility's administrator: {list:?}");
    p.h.ok(&["audit", "verify"]);
}

/// The payload of a JWS the portal signed, its signature verified against the JWKS.
fn claims_of(p: &Portal, jws: &Value) -> Value {
    let jws = jws.as_str().unwrap_or_else(|| panic!("not a JWS: {jws}"));
    let jwks: Value = serde_json::from_str(&p.get("/jwks").body).unwrap();
    oidc::verify_jws(&jwks, jws);
    let payload = jws.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// A screenshot into the test's directory; on the SQLite run with `HCPKI_UPDATE_SCREENSHOTS=1`, into
/// docs/screenshots/ too.
fn screenshot(browser: &mut Chromium, p: &Portal, b: Backend, name: &str) {
    let dir = p.h.path("break-glass-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    browser.screenshot(&dir.join(name));
    if b == Backend::Sqlite && std::env::var_os("HCPKI_UPDATE_SCREENSHOTS").is_some_and(|v| v == "1") {
        std::fs::copy(dir.join(name), crate::harness::repo_root().join("docs/screenshots").join(name)).unwrap();
    }
}
