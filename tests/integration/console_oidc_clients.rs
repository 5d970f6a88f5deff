//! The console's OIDC client pages (issue #30 item 1, D103) in headless Chromium, checked by axe-core in
//! Japanese and English: an operator (by certificate) lists the relying parties, is refused a PAR-required
//! client with a secret (the form comes back with what was typed and why, nothing registered), registers a
//! `client_secret_basic` client and reads its secret off the answer page, the one place it is shown; the secret
//! then authenticates at `/token`. A rotation with an hour's overlap: both secrets work, the answer and the list
//! say until when. A removal after its confirmation page: the secret stops working. An auditor sees the list
//! and is refused every change. The audit has the same entries as for the admin API, and no secret. A public
//! client given token exchange audiences is refused by the console and by the API alike, naming the rule (issue
//! #42 item 1).
//!
//! `HCPKI_UPDATE_SCREENSHOTS=1` (SQLite run) copies `console-oidc-clients-ja.png` (the list),
//! `console-oidc-clients-refused-en.png` (the form with a refusal) and `console-oidc-clients-secret-ja.png` to
//! `docs/screenshots/`. No PC/SC: this test does not take the lock.

use serde_json::json;

use crate::admin::{Api, issued, operator};
use crate::browser::{AutoSelect, Chromium};
use crate::console::{Console, csrf_of, form};
use crate::console_a11y::check_page;
use crate::console_browser::{Shots, browser_for, labelled, text};
use crate::harness::Backend;
use crate::mod_auth_openidc::token_with_secret;
use crate::oidc::Portal;

on_both_backends!(operators_list_add_rotate_and_remove_oidc_clients_in_the_console);

const LIST: &str = "/console/oidc-clients";
const ADD: &str = "/console/oidc-clients/add";

fn operators_list_add_rotate_and_remove_oidc_clients_in_the_console(b: Backend) {
    let p = Portal::start(b);
    let (h, server) = (&*p.h, p.served());
    let (ops, aud) = (operator(h, "ops", "operator"), operator(h, "aud", "auditor"));
    let origin = format!("https://127.0.0.1:{}", server.https_port);
    let _policy = AutoSelect::any_of(&[&origin]);
    let mut shots = Shots::new(h.path("screenshots"));
    let mut browser = browser_for(h, "operator", &ops);

    // The list: the portal's two key-based clients, in both languages.
    for lang in ["en", "ja"] {
        browser.goto(&format!("{origin}{LIST}?lang={lang}"));
        check_page(&mut browser, lang, &format!("the OIDC client list ({lang})"));
    }
    let listed = text(&mut browser, "main");
    for shown in ["rp1", "emr", "private_key_jwt", "http://127.0.0.1:9/cb", "クライアントを登録"] {
        assert!(listed.contains(shown), "{shown} not listed:\n{listed}");
    }

    // A PAR-required client with a secret is refused, in each language: the form again, what was typed kept,
    // the reason and what to do; nothing registered.
    for (lang, says) in [("ja", "PAR 必須"), ("en", "must push its requests")] {
        browser.goto(&format!("{origin}{ADD}?lang={lang}"));
        labelled(&mut browser);
        fill(&mut browser, "wiki-apache", "https://wiki.example/cb");
        browser.cmd(json!({"cmd": "click", "selector": "#require_par"}));
        browser
            .cmd(json!({"cmd": "click", "selector": "form[action='/console/oidc-clients/add'] button[type=submit]"}));
        browser.wait_url(&format!("{origin}{ADD}"), "main");
        let refusal = text(&mut browser, "#refusal");
        assert!(refusal.contains(says), "{lang}: {refusal}");
        let kept = browser.eval(
            "[document.querySelector('#id').value, document.querySelector('#redirect_uris').value, \
             document.querySelector('#auth-client_secret_basic').checked, \
             document.querySelector('#require_par').checked]",
        );
        assert_eq!(kept, json!(["wiki-apache", "https://wiki.example/cb", true, true]), "{lang}: the form as typed");
        check_page(&mut browser, lang, &format!("the add form with an error ({lang})"));
    }
    shots.take(&mut browser, "console-oidc-clients-refused-en.png");
    assert!(!h.ok(&["oidc", "client", "list"]).contains("wiki-apache"), "a refusal registered the client");

    // Without PAR it is registered (in English now): the secret is shown on the answer page, and only there.
    browser.cmd(json!({"cmd": "click", "selector": "#require_par"}));
    browser.cmd(json!({"cmd": "click", "selector": "form[action='/console/oidc-clients/add'] button[type=submit]"}));
    browser.wait_url(&format!("{origin}{ADD}"), "main");
    let secret = text(&mut browser, "#client-secret");
    assert_eq!(secret.len(), 43, "256 random bits in base64url: {}", text(&mut browser, "main"));
    let page = text(&mut browser, "main");
    assert!(page.contains("not shown again") && page.contains("OIDCClientSecret"), "{page}");
    assert_eq!(page.matches(&secret).count(), 1, "the secret is on the page once: {page}");
    check_page(&mut browser, "en", "the secret-shown page (en)");
    browser.goto(&format!("{origin}{LIST}"));
    assert!(text(&mut browser, "main").contains("wiki-apache"));
    let html = browser.eval("document.documentElement.outerHTML");
    assert!(!html.as_str().unwrap().contains(&secret), "the list shows the secret");
    // The secret authenticates the client at /token (the made-up code is then the grant's refusal); another
    // does not.
    let (status, e) = token_with_secret(&p, "wiki-apache", &secret, false);
    assert_eq!((status, e["error"].as_str()), (400, Some("invalid_grant")), "{e}");
    let (status, e) = token_with_secret(&p, "wiki-apache", "not-the-secret", false);
    assert_eq!((status, e["error"].as_str()), (401, Some("invalid_client")), "{e}");

    // A rotation with an hour's overlap (in Japanese): the new secret shown once, the old one's end time; both
    // work meanwhile, and the list says until when.
    browser.goto(&format!("{origin}{LIST}?lang=ja"));
    let rotate = "form:has(input[name=id][value='wiki-apache'])";
    browser.eval(&format!("document.querySelector(\"{rotate} input[name=overlap_hours]\").value = ''"));
    browser.cmd(json!({"cmd": "type", "selector": format!("{rotate} input[name=overlap_hours]"), "text": "1"}));
    browser.cmd(json!({"cmd": "click", "selector": format!("{rotate} button")}));
    browser.wait_url(&format!("{origin}/console/oidc-clients/rotate-secret"), "main");
    let new = text(&mut browser, "#client-secret");
    let until = text(&mut browser, "#previous-until");
    assert!(new.len() == 43 && new != secret, "{}", text(&mut browser, "main"));
    assert!(until.ends_with("(日本時間)"), "times in Japan time with the zone (issue #45 item 1): {until}");
    assert!(text(&mut browser, "main").contains("二度と表示されません"));
    check_page(&mut browser, "ja", "the rotated secret page (ja)");
    shots.take(&mut browser, "console-oidc-clients-secret-ja.png");
    for s in [&secret, &new] {
        let (status, e) = token_with_secret(&p, "wiki-apache", s, false);
        assert_eq!((status, e["error"].as_str()), (400, Some("invalid_grant")), "both work in the overlap: {e}");
    }
    browser.goto(&format!("{origin}{LIST}"));
    assert_eq!(text(&mut browser, "[data-previous-until='wiki-apache']"), until, "the list says until when");
    shots.take(&mut browser, "console-oidc-clients-ja.png");

    // The removal asks first; confirmed, the client and its secrets are gone.
    browser.cmd(json!({"cmd": "click", "selector": "a[data-remove='wiki-apache']"}));
    browser.wait_url(&format!("{origin}/console/oidc-clients/remove?id=wiki-apache"), "main");
    labelled(&mut browser);
    assert!(h.ok(&["oidc", "client", "list"]).contains("wiki-apache"), "removed before the confirmation");
    browser.cmd(json!({"cmd": "click", "selector": "form[action='/console/oidc-clients/remove'] button"}));
    browser.wait_url(&format!("{origin}/console/oidc-clients/remove"), "#removed");
    assert_eq!(text(&mut browser, "#removed"), "wiki-apache");
    assert!(!h.ok(&["oidc", "client", "list"]).contains("wiki-apache"));
    let (status, e) = token_with_secret(&p, "wiki-apache", &new, false);
    assert_eq!((status, e["error"].as_str()), (401, Some("invalid_client")), "{e}");
    // The regional networks' page (D169): none declared yet, the declaration form, both languages, axe-clean.
    for lang in ["en", "ja"] {
        browser.goto(&format!("{origin}/console/networks?lang={lang}"));
        check_page(&mut browser, lang, &format!("the regional networks ({lang})"));
    }
    assert!(text(&mut browser, "main").contains("宣言されたネットワークはありません"));
    drop(browser);

    // The auditor sees the list, with no form, and is refused every change (with the token of a page of its
    // own: the application form's); a facility's PC is refused the list too.
    let c = Console::new(h, server);
    let seen = c.get(&format!("{LIST}?lang=en"), &aud);
    assert!(seen.status == 200 && seen.text.contains("rp1"), "{seen:?}");
    assert!(!seen.text.contains("method=\"post\"") && !seen.text.contains(ADD), "{seen:?}");
    assert_eq!(c.get(ADD, &aud).status, 403);
    assert_eq!(c.get("/console/oidc-clients/remove?id=rp1", &aud).status, 403);
    let token_page = c.get("/console/apply", &aud);
    let add = [("id", "aud-client"), ("service", "wiki"), ("auth", "none"), ("redirect_uris", "http://127.0.0.1/cb")];
    for (path, fields) in [
        (ADD, &add[..]),
        ("/console/oidc-clients/rotate-secret", &[("id", "rp1"), ("overlap_hours", "0")][..]),
        ("/console/oidc-clients/remove", &[("id", "rp1")][..]),
    ] {
        let r = c.submit(path, fields, &token_page, &aud);
        assert_eq!(r.status, 403, "{path}: {r:?}");
    }
    // The operator's own form, with a forged token or from another origin: refused, nothing registered.
    let forged = form(&[&[("csrf", "forged")][..], &add].concat());
    let r = c.post_raw(ADD, &forged, &ops, &["-H", &format!("Origin: {origin}")]);
    assert_eq!(r.status, 403, "{r:?}");
    let page = c.get(ADD, &ops);
    let good = form(&[&[("csrf", csrf_of(&page).as_str())][..], &add].concat());
    let r = c.post_raw(ADD, &good, &ops, &["-H", "Origin: https://evil.example"]);
    assert_eq!(r.status, 403, "{r:?}");
    // From the console it reaches the core, which refuses a public client for the wiki (confidential clients
    // only), in plain words.
    let r = c.post_raw(ADD, &good, &ops, &["-H", &format!("Origin: {origin}")]);
    assert!(r.status == 400 && r.text.contains("公開クライアント以外"), "{r:?}");
    // A public client given exchange audiences is refused first for that (issue #42 item 1), naming the rule.
    let csrf = csrf_of(&c.get(ADD, &ops));
    let given = [&[("csrf", csrf.as_str())][..], &add, &[("token_exchange_audiences", "rp1")]].concat();
    let r = c.post_raw(ADD, &form(&given), &ops, &["-H", &format!("Origin: {origin}")]);
    assert!(r.status == 400 && r.text.contains("トークン交換の相手や同意書テンプレート"), "{r:?}");
    assert!(r.text.contains("--token-exchange-audience"), "the core's words follow: {r:?}");
    let clinic = h.approved_facility("OIDC clinic");
    let pc = issued(h, "pc", &clinic, &[]);
    assert_eq!(c.get(LIST, &pc).status, 403);
    let listed = h.ok(&["oidc", "client", "list"]);
    assert!(listed.contains("rp1") && !listed.contains("aud-client"), "{listed}");

    // The API's registration writes the same audit entry as the console's (one core).
    let api = Api::new(h, server);
    let body = json!({ "id": "api-wiki", "redirect_uris": ["https://wiki.example/api"], "auth": "client_secret_basic",
                       "service": "wiki" });
    let r = api.post("/api/v1/oidc-clients", &body, &ops);
    assert_eq!(r.status, 201, "{r:?}");
    let api_secret = r.json["secret"].as_str().unwrap().to_owned();
    let body = json!({ "id": "api-app", "redirect_uris": ["http://127.0.0.1/cb"], "auth": "none", "service": "wiki",
                       "token_exchange_audiences": ["rp1"] });
    let r = api.post("/api/v1/oidc-clients", &body, &ops);
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.json.to_string().contains("is a public client"), "the API names the rule: {r:?}");

    // A regional network (D169) declared through the API by the operators who register relying parties: an
    // auditor refused, a member that is not a service refused with what to do, then declared and listed.
    let network = json!({ "name": "ajisai-net", "title": "あじさい地域医療連携ネットワーク",
        "responsible_name": "あじさいネット運営協議会", "responsible_contact": "事務局 03-0000-0000",
        "items": "受診歴、検査結果、処方", "purpose": "参加医療機関での安全な診療のため",
        "joint_users": "参加医療機関と地域連携カルテ", "facilities": [clinic], "services": ["wiki"] });
    assert_eq!(api.post("/api/v1/regional-networks", &network, &aud).status, 403);
    let mut unknown = network.clone();
    unknown["services"] = json!(["no-such-service"]);
    let r = api.post("/api/v1/regional-networks", &unknown, &ops);
    assert!(r.status == 400 && r.json.to_string().contains("hcpki service add"), "{r:?}");
    let r = api.post("/api/v1/regional-networks", &network, &ops);
    assert_eq!((r.status, r.json["responsible_name"].as_str()), (200, Some("あじさいネット運営協議会")), "{r:?}");
    let r = api.get("/api/v1/regional-networks", &aud);
    assert_eq!(r.json["networks"][0]["services"], json!(["wiki"]), "{r:?}");
    assert!(h.ok(&["network", "list"]).contains("ajisai-net"));
    // The console declares through the same operation: a refusal shows the form as typed and why, nothing
    // changed; then the declaration replaced (a second member service) and listed.
    let page = c.get("/console/networks?lang=ja", &ops);
    assert!(page.text.contains("あじさいネット運営協議会"), "{page:?}");
    let mut fields = vec![
        ("csrf", csrf_of(&page)),
        ("name", "ajisai-net".into()),
        ("title", "あじさい地域医療連携ネットワーク".into()),
        ("responsible_name", "あじさいネット運営協議会".into()),
        ("responsible_contact", "事務局 03-0000-0000".into()),
        ("items", "受診歴、検査結果、処方".into()),
        ("purpose", "参加医療機関での安全な診療のため".into()),
        ("joint_users", "参加医療機関と地域連携カルテ".into()),
        ("facilities", "HF99999999X".into()),
        ("services", "wiki, emr".into()),
    ];
    let typed = |fields: &[(&str, String)]| form(&fields.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>());
    let origin_header = format!("Origin: {origin}");
    let r = c.post_raw("/console/networks", &typed(&fields), &ops, &["-H", &origin_header]);
    assert!(r.status == 400 && r.text.contains("宣言できませんでした") && r.text.contains("HF99999999X"), "{r:?}");
    fields[0].1 = csrf_of(&c.get("/console/networks", &ops));
    fields[8].1 = clinic.clone();
    let r = c.post_raw("/console/networks", &typed(&fields), &ops, &["-H", &origin_header]);
    assert_eq!(r.status, 303, "{r:?}");
    let r = api.get("/api/v1/regional-networks", &aud);
    assert_eq!(r.json["networks"][0]["services"], json!(["wiki", "emr"]), "{r:?}");

    let log = h.audit_entries();
    let entry = |action: &str, target: &str| {
        log.iter().find(|e| e["action"] == action && e["target"] == target).unwrap_or_else(|| panic!("no {action}"))
    };
    let (console_add, api_add) = (entry("oidc.client.add", "wiki-apache"), entry("oidc.client.add", "api-wiki"));
    assert_eq!((&console_add["actor"], &api_add["actor"]), (&json!("operator:ops"), &json!("operator:ops")));
    let keys = |e: &serde_json::Value| e["detail"].as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(console_add), keys(api_add), "{console_add} / {api_add}");
    assert_eq!(console_add["detail"]["auth"], "client_secret_basic");
    assert_eq!(entry("oidc.client.secret_rotate", "wiki-apache")["detail"]["overlap_secs"], 3600);
    assert_eq!(entry("oidc.client.remove", "wiki-apache")["actor"], "operator:ops");
    assert_eq!(entry("network.declared", "ajisai-net")["actor"], "operator:ops");
    let declared =
        |outcome: &str| log.iter().filter(|e| e["action"] == "network.declared" && e["outcome"] == outcome).count();
    assert_eq!((declared("ok"), declared("denied")), (2, 2), "the API's and the console's");
    let refused =
        |actor: &str| log.iter().filter(|e| e["action"] == "admin.oidc_client.manage" && e["actor"] == actor).count();
    assert_eq!(refused("operator:ops"), 5, "the five refused registrations");
    assert!(refused("operator:aud") >= 5, "the auditor's refusals");
    assert!(log.iter().filter(|e| e["action"] == "console.csrf").count() >= 2, "the forged and cross-site forms");
    let text = serde_json::to_string(&log).unwrap();
    for s in [&secret, &new, &api_secret] {
        assert!(!text.contains(s.as_str()), "a secret in the audit log");
    }
    h.ok(&["audit", "verify"]);
    shots.publish(b);
}

/// The add form's fields for a `client_secret_basic` client `id` of the wiki.
fn fill(browser: &mut Chromium, id: &str, redirect: &str) {
    browser.cmd(json!({"cmd": "type", "selector": "#id", "text": id}));
    browser.eval("document.querySelector('#service').value = 'wiki'");
    browser.cmd(json!({"cmd": "type", "selector": "#redirect_uris", "text": redirect}));
    browser.cmd(json!({"cmd": "click", "selector": "#auth-client_secret_basic"}));
}
