//! Passkeys in the portal (issue #48 item 1, D147, D157) with two independent clients of the real server:
//!
//! - headless Chromium (`tests/peers/chromium.py`) with the DevTools protocol's virtual authenticators (CTAP2,
//!   internal and USB transports, resident keys, user verification; a cloned key's lower counter) driving the
//!   portal's own pages and `passkey.js`: a
//!   password + TOTP account registers a passkey on `/passkeys`, signs in with it from the login page, sees it as
//!   its sign-in, renames and revokes it (which ends the session it opened), and the revoked passkey is refused;
//!   the pages are axe-clean, photographed (`docs/screenshots/passkey-*-ja.png` with
//!   `HCPKI_UPDATE_SCREENSHOTS=1`);
//! - python-fido2 (`tests/peers/passkey_client.py`), which reads the options as the WebAuthn JSON says and encodes
//!   its own client data, authenticator data and attestation object, and sends the attacks: a replayed
//!   registration and assertion (challenge used), a counter that did not rise (a cloned authenticator), another
//!   RP id, another origin, no user verification, another account's credential id, a revoked passkey.
//!
//! Every refusal is audited `passkey.login` / `passkey.register` denied, with its reason.

use serde_json::{Value, json};
use std::process::Command;

use crate::browser::{Chromium, nss_trust};
use crate::harness::{Backend, describe, repo_root};
use crate::oidc::{self, PASSWORD, Portal, tools};

on_both_backends!(
    a_passkey_registers_signs_in_and_is_revoked_in_chromium,
    a_security_key_over_usb_and_its_clone_in_chromium,
    python_fido2_registers_signs_in_and_every_attack_is_refused
);

fn a_passkey_registers_signs_in_and_is_revoked_in_chromium(b: Backend) {
    let p = Portal::start(b);
    // The platform authenticator of this "PC": CTAP2, built in, discoverable credentials, verifying its user.
    let (mut browser, authenticator) = signed_in_with_password(&p, "internal");
    let shots = p.h.path("screenshots");
    std::fs::create_dir_all(&shots).unwrap();

    browser.cmd(json!({"cmd": "click", "selector": "a[href='/passkeys']"}));
    wait_until(&mut browser, "document.querySelector('#no-passkeys') !== null", "main");
    crate::accessibility::assert_wcag21_aa(&mut browser, "main", "the passkeys page (ja)");
    browser.cmd(json!({"cmd": "type", "selector": "#passkey-name", "text": "受付の PC"}));
    browser.cmd(json!({"cmd": "click", "selector": "#passkey-add"}));
    wait_until(&mut browser, "document.querySelectorAll('tr[data-passkey]').length === 1", "#passkey-status");
    assert_eq!(browser.eval("document.querySelector('tr[data-passkey] td').innerText"), "受付の PC");
    let credentials = browser
        .cmd(json!({"cmd": "cdp", "method": "WebAuthn.getCredentials", "params": {"authenticatorId": authenticator}}));
    let held = credentials["result"]["credentials"].as_array().unwrap();
    assert_eq!(held.len(), 1, "one resident credential: {credentials}");
    assert_eq!(held[0]["isResidentCredential"], true);
    crate::accessibility::assert_wcag21_aa(&mut browser, "main", "the passkeys page with a passkey (ja)");
    browser.screenshot(&shots.join("passkey-list-ja.png"));

    // Signed out, the login page signs in with the passkey. First with its button, the page checked and
    // photographed before the person touches the authenticator.
    sign_out(&mut browser);
    presence(&mut browser, &authenticator, false);
    browser.goto(&format!("{}/login?lang=ja", p.issuer));
    crate::accessibility::assert_wcag21_aa(&mut browser, "main", "the login page with passkeys (ja)");
    browser.screenshot(&shots.join("passkey-login-ja.png"));
    // The person touches, then presses: the virtual authenticator decides presence when a request reaches it,
    // so a request that reached it before the touch waited for good (two loaded CI runs). Nothing else asks:
    // the autofill's request starts only when the user name field gets the focus.
    presence(&mut browser, &authenticator, true);
    press_passkey_button(&mut browser);
    browser.wait_exact_url(&format!("{}/", p.issuer), "#passkey-login-status");
    let home = browser.eval("document.querySelector('main').innerText");
    assert!(home.as_str().unwrap().contains("パスキー(カードなし)"), "the home page names the sign-in: {home}");
    // Then the autofill alone (conditional mediation, `autocomplete="username webauthn"`): the person puts the
    // cursor in the user name field, the browser offers the passkey there and the authenticator answers; no
    // button is pressed.
    sign_out(&mut browser);
    browser.goto(&format!("{}/login?lang=ja", p.issuer));
    // A click that did not land in the field (seen once in a loaded CI run: no focus, no request, no navigation)
    // is made again, as a person would; the autofill's own failures are on #passkey-login-status.
    for _ in 0..3 {
        browser.cmd(json!({"cmd": "click", "selector": "#username"}));
        if browser.eval("document.activeElement?.id") == "username" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    assert_eq!(browser.eval("document.activeElement?.id"), "username", "the user name field has the focus");
    browser.wait_exact_url(&format!("{}/", p.issuer), "#passkey-login-status");

    // Renamed, then revoked from the account page: the session it opened ends (this browser is signed out).
    browser.goto(&format!("{}/passkeys", p.issuer));
    let register_off = browser.eval("document.querySelector('#passkey-register-off')?.innerText ?? ''");
    assert!(
        register_off.as_str().unwrap().contains("パスワードとワンタイムコードでログインし直して"),
        "{register_off}"
    );
    let id = browser.eval("document.querySelector('tr[data-passkey]').dataset.passkey").as_str().unwrap().to_owned();
    browser.eval(&format!("document.querySelector('#rename-{id}').value = '診察室の PC'"));
    browser.cmd(json!({"cmd": "click", "selector": "form[action='/passkeys/rename'] button"}));
    wait_until(&mut browser, "document.querySelector('tr[data-passkey] td')?.innerText === '診察室の PC'", "main");
    browser.cmd(json!({"cmd": "click", "selector": "form[action='/passkeys/revoke'] button"}));
    wait_until(&mut browser, "!location.pathname.startsWith('/passkeys')", "main");
    browser.goto(&format!("{}/", p.issuer));
    assert_eq!(browser.eval("location.pathname"), "/login", "the revoked passkey's session ended");

    // The revoked passkey (still on the authenticator) is refused, saying what to do.
    presence(&mut browser, &authenticator, false);
    browser.goto(&format!("{}/login?lang=ja", p.issuer));
    presence(&mut browser, &authenticator, true);
    press_passkey_button(&mut browser);
    browser.wait_exact_url(&format!("{}/login/passkey", p.issuer), "#passkey-login-status");
    let refused = browser.eval("document.querySelector('[role=alert]').innerText");
    assert!(refused.as_str().unwrap().contains("削除されています"), "{refused}");
    crate::accessibility::assert_wcag21_aa(&mut browser, "main", "a refused passkey sign-in (ja)");
    browser.screenshot(&shots.join("passkey-refused-ja.png"));
    if b == Backend::Sqlite && std::env::var_os("HCPKI_UPDATE_SCREENSHOTS").is_some_and(|v| v == "1") {
        for name in ["passkey-list-ja.png", "passkey-login-ja.png", "passkey-refused-ja.png"] {
            std::fs::copy(shots.join(name), repo_root().join("docs/screenshots").join(name)).unwrap();
        }
    }

    let audit = p.h.ok(&["audit", "list", "--limit", "1000"]);
    for action in ["passkey.register", "passkey.login", "passkey.rename", "passkey.revoke"] {
        assert!(audit.contains(action), "no {action} entry\n{audit}");
    }
    assert!(audit.contains("unknown-credential"), "the refusal is audited with its reason\n{audit}");
    p.h.ok(&["audit", "verify"]);
}

fn python_fido2_registers_signs_in_and_every_attack_is_refused(b: Backend) {
    let p = Portal::start(b);
    let bob_secret = p.totp_user("bob", "Bob Staff");
    let out = Command::new(tools().join("bin/python"))
        .arg(repo_root().join("tests/peers/passkey_client.py"))
        .args([&p.issuer, p.chain.to_str().unwrap(), "alice", PASSWORD, &oidc::totp(&p.totp_secret, 0)])
        .args(["bob", PASSWORD, &oidc::totp(&bob_secret, 0)])
        .output()
        .unwrap();
    assert!(out.status.success(), "passkey_client.py\n{}", describe(&out));
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{}", describe(&out)));
    let step = |name: &str| (seen[name]["status"].as_u64().unwrap_or_default(), seen[name]["location"].clone());
    assert_eq!(step("register"), (303, json!("/passkeys")), "{seen}");
    assert_eq!(step("sign_in"), (303, json!("/")), "{seen}");
    assert_eq!((seen["home_status"].clone(), seen["home_says_passkey"].clone()), (json!(200), json!(true)), "{seen}");
    assert_eq!(step("other_register"), (303, json!("/passkeys")), "{seen}");
    assert_eq!(step("revoke").0, 303, "{seen}");
    let refused = |name: &str, status: u64, says: &str| {
        assert_eq!(seen[name]["status"], status, "{name}: {seen}");
        let text = seen[name]["refusal"].as_str().unwrap_or_default();
        assert!(text.contains(says), "{name} says {text:?}, not {says:?}");
    };
    refused("register_replayed", 400, "すでに使われています");
    refused("replayed", 401, "すでに使われています");
    refused("challenge_reused", 401, "すでに使われています");
    refused("cloned", 401, "複製された");
    refused("wrong_rp_id", 401, "このポータル用のものではありません");
    refused("wrong_origin", 401, "このポータル用のものではありません");
    refused("no_user_verification", 401, "本人確認");
    refused("other_credential", 401, "別のアカウント");
    refused("after_revoke", 401, "削除されています");
    assert_eq!(seen["fresh_session_after_revoke"], 303, "revoking ended the session the passkey opened: {seen}");
    refused("revoke_other", 404, "別のアカウントのもの");
    refused("rename_other", 404, "別のアカウントのもの");

    // The help desk revokes Bob's lost passkey (docs/operator-guide.md); once.
    let bobs = seen["bob_credential"].as_str().unwrap();
    let state_of = |listed: String| listed.lines().find(|l| l.starts_with(bobs)).unwrap_or_default().to_owned();
    assert!(state_of(p.h.ok(&["portal", "passkey", "list", "bob"])).contains(" live "));
    let revoked = p.h.ok(&["portal", "passkey", "revoke", "bob", bobs]);
    assert!(revoked.contains("revoked"), "{revoked}");
    assert!(state_of(p.h.ok(&["portal", "passkey", "list", "bob"])).contains(" revoked "));
    let again = p.h.fails(&["portal", "passkey", "revoke", "bob", bobs]);
    assert!(again.contains("hcpki portal passkey list bob"), "says what to do: {again}");

    // The facility's rule on passkeys (D170), at a facility PC: a synced passkey registered before the facility
    // requires one hardware model signs in no more; only that model, attested by a certificate vouching for it,
    // registers and signs in.
    let (facility, pc, pc_key) = oidc::issue_pc(&p.h, "Hardware Key Clinic");
    let carol_secret = p.totp_user("carol", "Carol Staff");
    let state = p.h.path("synced-passkey.json");
    let at_pc = format!("{},{}", pc.display(), pc_key.display());
    let rule_step = |step: &str, totp: String, extra: &[&str]| -> Value {
        let out = Command::new(tools().join("bin/python"))
            .arg(repo_root().join("tests/peers/passkey_client.py"))
            .args([step, &p.issuer, p.chain.to_str().unwrap(), "carol", PASSWORD, &totp, state.to_str().unwrap()])
            .args(extra)
            .env("PASSKEY_CLIENT_CERT", &at_pc)
            .output()
            .unwrap();
        assert!(out.status.success(), "passkey_client.py {step}\n{}", describe(&out));
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{}", describe(&out)))
    };
    let before = rule_step("rule-before", oidc::totp(&carol_secret, 0), &[]);
    assert_eq!(before["synced_register"]["location"], "/passkeys", "{before}");
    assert_eq!(before["synced_sign_in"]["location"], "/", "{before}");
    const MODEL: &str = "2fc0579f-8113-47ea-b116-bb5a8db9202a";
    let err = p.h.fails(&["facility", "passkey-rule", &facility, "--rule", "models"]);
    assert!(err.contains("at least one model"), "{err}");
    assert_eq!(p.h.ok(&["facility", "passkey-rule", &facility]).split('\t').next(), Some("none"), "nothing set");
    let set = p.h.ok(&["facility", "passkey-rule", &facility, "--rule", "models", "--model", MODEL]);
    assert!(set.starts_with(&format!("models\t{MODEL}\t")), "{set}");
    let after = rule_step("rule-after", oidc::totp(&carol_secret, 1), &[MODEL]);
    let refused = |name: &str, status: u64, says: &str| {
        assert_eq!(after[name]["status"], status, "{name}: {after}");
        let text = after[name]["refusal"].as_str().unwrap_or_default();
        assert!(text.contains(says), "{name} says {text:?}, not {says:?}");
    };
    refused("synced_sign_in", 401, "施設の方針で認められていません");
    refused("register_none", 400, "施設の方針で認められていません");
    refused("register_self", 400, "施設の方針で認められていません");
    refused("register_other_model", 400, "施設の方針で認められていません");
    refused("register_claimed_model", 400, "another model");
    assert_eq!(after["register_hardware"]["location"], "/passkeys", "{after}");
    assert_eq!(after["hardware_sign_in"]["location"], "/", "{after}");

    let audit = p.h.ok(&["audit", "list", "--limit", "1000"]);
    for reason in [
        "attestation-refused",
        "challenge",
        "cloned-counter",
        "wrong-rp-id",
        "wrong-origin",
        "user-not-verified",
        "other-user",
        "unknown-credential",
    ] {
        assert!(audit.contains(reason), "no refusal audited with reason {reason}\n{audit}");
    }
    p.h.ok(&["audit", "verify"]);
}

/// Waits (20 s at most) until `expr` is true on the page, across the navigations a form post makes; on a timeout,
/// the failure shows the text of `status_selector`.
fn wait_until(browser: &mut Chromium, expr: &str, status_selector: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let reply = browser.try_cmd(&json!({"cmd": "eval", "expr": expr}));
        if reply["ok"] == true && reply["value"] == true {
            return;
        }
        if std::time::Instant::now() > deadline {
            let shown = format!("document.querySelector({})?.innerText", json!(status_selector));
            let shown = browser.try_cmd(&json!({"cmd": "eval", "expr": shown}));
            panic!("{expr} never held; the page says: {}", shown["value"]);
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Presses the login page's passkey button as a person would, and again if the press did not land (a fresh CI run:
/// the status still empty, no request, no navigation). The button's handler says "working" before anything else,
/// so an empty status on the login page means no press.
fn press_passkey_button(browser: &mut Chromium) {
    let landed = "location.pathname !== '/login' || document.getElementById('passkey-login-status')?.innerText !== ''";
    for _ in 0..3 {
        browser.cmd(json!({"cmd": "click", "selector": "#passkey-login-button"}));
        let reply = browser.try_cmd(&json!({"cmd": "eval", "expr": landed}));
        // An eval refused mid-navigation: the press landed and the page is leaving.
        if reply["ok"] != true || reply["value"] == true {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    panic!("the passkey button never took a press");
}

/// Signs the browser's session out with the home page's form (its CSRF token), as the person would.
fn sign_out(browser: &mut Chromium) {
    let home = format!("{}/", browser.eval("location.origin").as_str().unwrap());
    browser.goto(&home);
    browser.cmd(json!({"cmd": "click", "selector": "form[action='/logout'] button"}));
    wait_until(browser, "document.querySelector('form[action=\"/logout\"]') === null", "main");
}

/// Whether the virtual authenticator's user touches it when asked.
fn presence(browser: &mut Chromium, authenticator: &str, on: bool) {
    let params = json!({"authenticatorId": authenticator, "enabled": on});
    browser.cmd(json!({"cmd": "cdp", "method": "WebAuthn.setAutomaticPresenceSimulation", "params": params}));
}

/// A USB security key (CTAP2, resident key, PIN) registered and used in Chromium; then its credential copied, with
/// its private key, into another authenticator whose counter is behind (a cloned key): the clone is refused,
/// saying so, and audited `cloned-counter`.
fn a_security_key_over_usb_and_its_clone_in_chromium(b: Backend) {
    let p = Portal::start(b);
    let (mut browser, key) = signed_in_with_password(&p, "usb");
    browser.goto(&format!("{}/passkeys", p.issuer));
    browser.cmd(json!({"cmd": "type", "selector": "#passkey-name", "text": "USB キー"}));
    browser.cmd(json!({"cmd": "click", "selector": "#passkey-add"}));
    wait_until(&mut browser, "document.querySelectorAll('tr[data-passkey]').length === 1", "#passkey-status");

    // Two sign-ins with the key: its counter rises past the copy's.
    for _ in 0..2 {
        sign_out(&mut browser);
        browser.goto(&format!("{}/login?lang=ja", p.issuer));
        press_passkey_button(&mut browser);
        browser.wait_exact_url(&format!("{}/", p.issuer), "#passkey-login-status");
    }
    let held =
        browser.cmd(json!({"cmd": "cdp", "method": "WebAuthn.getCredentials", "params": {"authenticatorId": key}}));
    let mut copy = held["result"]["credentials"][0].clone();
    assert!(copy["signCount"].as_u64().unwrap() >= 2, "{held}");
    copy["signCount"] = json!(1);

    // The copy, in a built-in authenticator of another PC, counter 1.
    sign_out(&mut browser);
    let remove = json!({"authenticatorId": key});
    browser.cmd(json!({"cmd": "cdp", "method": "WebAuthn.removeVirtualAuthenticator", "params": remove}));
    let clone = virtual_authenticator(&mut browser, "internal");
    let add = json!({"authenticatorId": clone, "credential": copy});
    browser.cmd(json!({"cmd": "cdp", "method": "WebAuthn.addCredential", "params": add}));
    browser.goto(&format!("{}/login?lang=ja", p.issuer));
    press_passkey_button(&mut browser);
    browser.wait_exact_url(&format!("{}/login/passkey", p.issuer), "#passkey-login-status");
    let refused = browser.eval("document.querySelector('[role=alert]').innerText");
    assert!(refused.as_str().unwrap().contains("複製された"), "{refused}");
    let audit = p.h.ok(&["audit", "list", "--limit", "1000"]);
    assert!(audit.contains("cloned-counter"), "{audit}");
}

/// A CTAP2 authenticator over `transport` with a resident key and user verification (which it passes).
fn virtual_authenticator(browser: &mut Chromium, transport: &str) -> String {
    let options = json!({
        "protocol": "ctap2", "ctap2Version": "ctap2_1", "transport": transport, "hasResidentKey": true,
        "hasUserVerification": true, "isUserVerified": true, "automaticPresenceSimulation": true,
    });
    let added = browser
        .cmd(json!({"cmd": "cdp", "method": "WebAuthn.addVirtualAuthenticator", "params": {"options": options}}));
    added["result"]["authenticatorId"].as_str().unwrap().to_owned()
}

/// Chromium in Japanese with a virtual authenticator over `transport`, signed in as alice with password and code
/// (only such a sign-in may add a passkey); the login page's user name field offers passkeys (conditional UI).
fn signed_in_with_password(p: &Portal, transport: &str) -> (Chromium, String) {
    let home_dir = p.h.path("browser-home");
    nss_trust(&home_dir, &p.h.chain_file("server"));
    let mut browser = Chromium::start(&home_dir, &p.h.path("chromium-profile"));
    browser.cmd(json!({"cmd": "accept_language", "value": "ja,en-US;q=0.8"}));
    browser.cmd(json!({"cmd": "cdp", "method": "WebAuthn.enable", "params": {"enableUI": false}}));
    let authenticator = virtual_authenticator(&mut browser, transport);
    browser.goto(&format!("{}/login?lang=ja", p.issuer));
    let autocomplete = browser.eval("document.querySelector('#username').getAttribute('autocomplete')");
    assert_eq!(autocomplete, "username webauthn", "the user name field offers passkeys (conditional UI)");
    browser.cmd(json!({"cmd": "type", "selector": "#username", "text": "alice"}));
    browser.cmd(json!({"cmd": "type", "selector": "#password", "text": PASSWORD}));
    browser.cmd(json!({"cmd": "type", "selector": "#totp", "text": oidc::totp(&p.totp_secret, 0)}));
    browser.cmd(json!({"cmd": "key", "key": "Enter"}));
    browser.wait_exact_url(&format!("{}/", p.issuer), "main");
    (browser, authenticator)
}
