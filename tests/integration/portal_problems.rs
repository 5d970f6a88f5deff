//! Every state a physician can meet says what happened and what to do (issue #26 item 2), reached as the person
//! reaches it: headless Chromium at a facility PC (its certificate in the browser's NSS database), the portal's
//! own scripts, the real `hcpki-agent` and pcscd with virtual HPKI and My Number cards, the PIN typed into the
//! agent's own window; the registry changed with the `hcpki` command as an operator changes it. One browser
//! visits the states in turn: the card agent not running, the agent with no card reader (no PC/SC service
//! answers it), no card, the wrong kind of card, a wrong PIN with the tries left, the last try and its
//! confirmation, the PIN locked, a card the portal does not trust, the session ended by pulling the card, a service
//! the policy refuses, the session's time run out (its deadline moved into the past in the database), the session
//! ended by an administrator, the facility suspended, the PC certificate on hold and revoked. Each page shows its
//! problem box (`data-problem`, the heading in Japanese and English), passes axe-core's WCAG 2.1 AA rules
//! ([`crate::accessibility`]) and is photographed in both languages (`problem-<code>-ja.png`, `-en.png`);
//! `HCPKI_UPDATE_SCREENSHOTS=1` copies them to `docs/screenshots/` (SQLite run only). A card whose certificate
//! expired, and one on its HPKI CA's CRL, are refused by a portal of their own that trusts a test HPKI and
//! prefetched its CRLs, the answer posted through the login page's form as for the card the portal does not
//! trust. The PC without a facility certificate is `browser::a_password_login_in_chromium_goes_back_to_the_relying_service`.

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hcpki_vcard::testpki::{CrlValidity, HpkiCredentials, HpkiSubject, Revoked};
use serde_json::json;
use x509_cert::der::Decode as _;

use crate::accessibility::assert_wcag21_aa;
use crate::agent::{self, hpki, jpki};
use crate::browser::{AutoSelect, Chromium, issuer_cn, nss_db};
use crate::card_login::CrlServer;
use crate::harness::{Backend, free_port, repo_root};
use crate::oidc::{self, PASSWORD, Portal, totp};
use crate::pcsc_lock::pcsc_lock;
use crate::portal_card::{PIN, card_portal};

on_both_backends!(
    expired_and_revoked_cards_say_what_happened_and_what_to_do,
    the_language_switch_keeps_the_page_its_problem_and_its_request,
);

// The tour of every problem page is about the pages (words, axe-core, screenshots) and runs on SQLite only, to
// keep the suite inside CI's half hour: what its states need from the database — a session's deadline moved, a
// session ended by an administrator, a facility suspended, a PC certificate on hold or revoked — is tested on
// both databases where those features are (`portal_sessions`, `console`, `policy`'s facility checks,
// `portal_tls`), and the two other tests here keep both.
mod sqlite_only {
    #[test]
    fn every_problem_a_person_can_meet_says_what_happened_and_what_to_do() {
        super::every_problem_a_person_can_meet_says_what_happened_and_what_to_do(crate::harness::Backend::Sqlite)
    }
}

/// The language switch links to the same request with only `lang` changed (D62): a login page's problem box
/// (`?problem=wrong_pin&tries_left=2`) is still there in English, and the refusal of a service answered at
/// `/authorize?…` keeps the authorization request, so the English page is the same refusal.
fn the_language_switch_keeps_the_page_its_problem_and_its_request(b: Backend) {
    let p = Portal::start(b);
    let ja = p.get("/login?problem=wrong_pin&tries_left=2");
    assert!(ja.body.contains("PIN の残り回数: <strong>2</strong>"), "{ja:?}");
    let switch = switch_href(&ja.body);
    assert_eq!(switch, "/login?problem=wrong_pin&tries_left=2&lang=en");
    let en = p.get(&switch);
    assert!(en.body.contains("<html lang=\"en\""), "{en:?}");
    assert!(en.body.contains("data-problem=\"wrong_pin\""), "the box is gone: {en:?}");
    assert!(en.body.contains("PIN tries left: <strong>2</strong>"), "{en:?}");
    let back = switch_href(&en.body);
    assert_eq!(back, "/login?problem=wrong_pin&tries_left=2&lang=ja");
    // Back to Japanese (kept by the switch's cookie for the pages below).
    let ja = p.get(&back);
    assert!(ja.body.contains("<html lang=\"ja\"") && ja.body.contains("PIN の残り回数: <strong>2</strong>"), "{ja:?}");

    // Signed in with a password, the EMR (card only) is refused at its authorization request.
    assert_eq!(p.login("alice", PASSWORD, &totp(&p.totp_secret, 0), None).status, 303);
    let authorize = format!(
        "/authorize?response_type=code&client_id=emr&scope=openid&redirect_uri={}&code_challenge={}\
         &code_challenge_method=S256&state=a%2Bb%20c",
        oidc::enc("http://127.0.0.1:9/emr"),
        oidc::challenge(&"v".repeat(64))
    );
    let ja = p.get(&authorize);
    oidc::refused_back(&ja);
    let switch = switch_href(&ja.body);
    assert_eq!(switch, format!("{authorize}&lang=en"), "the request's parameters, as sent");
    let en = p.get(&switch);
    let back = oidc::refused_back(&en);
    assert!(en.body.contains("<html lang=\"en\"") && en.body.contains("This service cannot be opened"), "{en:?}");
    assert_eq!(oidc::param(&back, "state").as_deref(), Some("a+b c"), "{back}");
}

/// The link of the language switch in a page's header, as the browser follows it.
fn switch_href(html: &str) -> String {
    let header = html.split("<p class=\"lang\"><a href=\"").nth(1).unwrap_or_else(|| panic!("no switch: {html}"));
    header.split('"').next().unwrap().replace("&amp;", "&")
}

/// The virtual My Number card's PIN is `1234` (three tries); this is not it.
const JPKI_WRONG: &str = "9999";

fn every_problem_a_person_can_meet_says_what_happened_and_what_to_do(b: Backend) {
    let agent_port = free_port();
    let p = card_portal(b, &format!("http://127.0.0.1:{agent_port}"));
    let _pcsc = pcsc_lock();
    let (facility, cert, key) = oidc::issue_pc(&p.h, "問題クリニック");
    let home_dir = p.h.path("browser-home");
    nss_db(&home_dir, &p.h.chain_file("server"), &cert, &key, &p.h.path("pc.p12"));
    let _policy = AutoSelect::write(&[&p.issuer], &issuer_cn(&cert));
    let mut s = Scene { browser: Chromium::start(&home_dir, &p.h.path("chromium-profile")), p: &p, b, shots: vec![] };
    let login = format!("{}/login", p.issuer);
    // A Japanese clinic's PC (headless Chromium asks for English otherwise).
    s.browser.cmd(json!({"cmd": "accept_language", "value": "ja"}));

    // No agent listens yet: the script's request fails, and the page says how to start it.
    s.browser.goto(&login);
    s.click("#card-login button[data-kind=hpki]");
    s.wait("agent_not_running");
    s.problem("agent_not_running", "カードエージェントに接続できません", "The card agent is not answering");
    assert!(s.text().contains("hcpki-agent serve"), "how to start it");

    // The agent runs on a PC with no card reader: no PC/SC service answers it (as Windows stops its smart-card
    // service when the last reader is unplugged), and the page says to connect one.
    let ca = p.h.chain_file("server");
    let agent_args = ["--portal-ca-file", ca.to_str().unwrap()];
    let readerless = agent::Served::start_without_pcsc(&p.issuer, &format!("127.0.0.1:{agent_port}"), &agent_args);
    s.click("#card-login button[data-kind=hpki]");
    s.wait("no_reader");
    s.problem("no_reader", "カードリーダーが見つかりません", "No card reader found");
    drop(readerless);

    // The agent runs with the readers; no card in any of them.
    let served = agent::Served::start_with(&p.issuer, &format!("127.0.0.1:{agent_port}"), &agent_args);
    s.click("#card-login button[data-kind=hpki]");
    s.wait("no_card");
    s.problem("no_card", "カードが見つかりません", "No card in the reader");

    // A My Number card where an HPKI card was asked for.
    let mut card = agent::insert(jpki(), 0);
    served.wait_card(0, "jpki");
    s.click("#card-login button[data-kind=hpki]");
    s.wait("wrong_card");
    s.problem("wrong_card", "違う種類のカードです", "This is another kind of card");
    assert!(s.text().contains("マイナンバーカードです"), "{}", s.text());

    // The My Number card's PIN, wrong: the tries left, as the agent's window said them.
    s.pin_window("#card-login button[data-kind=jpki]", JPKI_WRONG, false);
    s.wait("wrong_pin");
    s.problem("wrong_pin", "PIN が違います", "Wrong PIN");
    assert!(s.text().contains("PIN の残り回数: 2"), "{}", s.text());
    s.pin_window("#card-login button[data-kind=jpki]", JPKI_WRONG, false);
    s.wait("wrong_pin");
    assert!(s.text().contains("PIN の残り回数: 1"), "{}", s.text());
    // One try left: the agent asks for no PIN unless the person confirms, here first.
    s.open_details();
    s.click("#card-login button[data-kind=jpki]");
    s.wait("last_try");
    s.problem("last_try", "PIN の残りが 1 回です", "Only one PIN try is left");
    // Unticked, the button does nothing but say so.
    s.click("button[data-last-try]");
    let status = s.browser.eval("document.getElementById('card-status').innerText");
    assert!(status.as_str().unwrap().contains("確認欄にチェック"), "{status}");
    s.click("#problem-confirm-last-try");
    s.browser.cmd(json!({"cmd": "forget_popups"}));
    s.click("button[data-last-try]");
    s.type_pin(JPKI_WRONG, true);
    // The last wrong PIN blocks the card: whom to contact for a My Number card.
    s.wait("pin_locked");
    s.problem("pin_locked", "PIN がロックされています", "The PIN is blocked");
    assert!(s.text().contains("市区町村の窓口"), "{}", s.text());
    card.remove();
    served.wait_empty(0);
    drop(card);

    // A card of an issuer the portal does not trust: the page's form posted with its signature and chain.
    let stranger = crate::test_pki::stranger();
    s.browser.goto(&login);
    posted_card_login(&mut s.browser, &p.issuer, stranger);
    s.problem_at(&format!("{}/login/card", p.issuer), "card_untrusted", "このカードはこのポータルでは使えません", None);
    assert!(s.text().contains("trusted card issuer"), "the refusal in full: {}", s.text());
    // The same refusal to a person who chose English (the switch's cookie), then back to Japanese.
    s.browser.goto(&format!("{login}?lang=en"));
    posted_card_login(&mut s.browser, &p.issuer, stranger);
    s.shown("card_untrusted", "This portal does not accept this card", "Use a genuine HPKI or My Number card");
    s.checked("card_untrusted", "en");
    s.browser.goto(&format!("{login}?lang=ja"));

    // The HPKI card signs in; pulled out of the reader, the home page's watch ends the session.
    let mut card = agent::insert(hpki(), 0);
    served.wait_card(0, "hpki");
    s.browser.goto(&login);
    s.pin_window("#card-login button[data-kind=hpki]", PIN, false);
    s.browser.wait_exact_url(&format!("{}/", p.issuer), "#card-status");
    s.browser.cmd(json!({"cmd": "wait_response", "contains": "/v1/events"}));
    card.remove();
    s.wait("ended_card_removed");
    s.problem(
        "ended_card_removed",
        "カードが抜かれたため、ログアウトしました",
        "You were logged out: the card was removed",
    );
    drop(card);

    // Password + TOTP: the EMR needs a card; the page says so and leads back to the service.
    password_login(&mut s, &login);
    let emr = format!(
        "{}/authorize?response_type=code&client_id=emr&scope=openid&redirect_uri={}&code_challenge={}&code_challenge_method=S256&state=st",
        p.issuer,
        oidc::enc("http://127.0.0.1:9/emr"),
        oidc::challenge(&"v".repeat(64))
    );
    s.browser.goto(&emr);
    s.shown("service_refused", "このサービスは利用できません", "EMR");
    let back = s.browser.eval("document.querySelector('[data-problem=service_refused] a.problem-action').href");
    let back = back.as_str().unwrap();
    assert_eq!(oidc::param(back, "error").as_deref(), Some("access_denied"), "{back}");
    assert_eq!(oidc::param(back, "state").as_deref(), Some("st"), "{back}");
    s.checked("service_refused", "ja");
    s.browser.goto(&format!("{emr}&lang=en"));
    s.shown("service_refused", "This service cannot be opened", "needs a login with an HPKI card");
    s.checked("service_refused", "en");
    s.browser.goto(&format!("{login}?lang=ja"));

    // The session's time runs out (its deadline put a minute in the past, as the clock would have moved it): the
    // cookie, kept an hour longer than its session, lets the next page say what happened.
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let sql = format!(
        "UPDATE portal_sessions SET expires_at = {} WHERE person_key = 'pwd:alice' AND ended_at IS NULL AND expires_at > {now}",
        now - 60
    );
    assert_eq!(p.h.db().execute(&sql), 1, "alice's one live session");
    let landed = s.browser.goto(&format!("{}/", p.issuer));
    assert!(landed.ends_with("/login?problem=ended_timeout"), "{landed}");
    s.problem(
        "ended_timeout",
        "ログインの有効時間が過ぎたため、ログアウトしました",
        "You were logged out: the session's time ran out",
    );

    // Logged in again (the next one-time code: this one was used); a service's refresh token of this login comes
    // back after rotation (D152; the replay itself is `rfc9700::`'s): the session ends with that reason and the
    // next page says so.
    password_login_with(&mut s, &login, 1);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let sql = format!(
        "UPDATE portal_sessions SET ended_at = {now}, notified_at = {now}, end_reason = 'refresh-token-reused' \
         WHERE person_key = 'pwd:alice' AND ended_at IS NULL AND expires_at > {now}"
    );
    assert_eq!(p.h.db().execute(&sql), 1, "alice's one live session");
    let landed = s.browser.goto(&format!("{}/", p.issuer));
    assert!(landed.ends_with("/login?problem=ended_token_reused"), "{landed}");
    s.problem("ended_token_reused", "安全のためログアウトしました", "You were logged out for your safety");
    // That one-time code is spent; rather than wait half a minute for the next, the test lets it be used again.
    assert_eq!(p.h.db().execute("UPDATE portal_users SET last_totp_step = 0 WHERE username = 'alice'"), 1);

    // Logged in again; the account disabled by the operator: the next page names who ended the session.
    password_login_with(&mut s, &login, 1);
    p.h.ok(&["portal", "user", "disable", "alice"]);
    let landed = s.browser.goto(&format!("{}/", p.issuer));
    assert!(landed.ends_with("/login?problem=ended_by_admin"), "{landed}");
    s.problem("ended_by_admin", "管理者によってログアウトされました", "An administrator ended your session");

    // A code no script sends (a state whose words carry the server's data), or an unknown one, is not shown.
    for code in ["facility_suspended", "made_up"] {
        s.browser.goto(&format!("{login}?problem={code}"));
        assert_eq!(s.browser.eval("document.querySelectorAll('[data-problem]').length"), 0, "{code}");
    }

    // The PC's certificate put on hold.
    let serial = pc_serial(&p, &facility);
    p.h.ok(&["revoke", "--serial", &serial, "--reason", "certificateHold"]);
    s.browser.goto(&login);
    s.problem_at(&login, "pc_cert_on_hold", "この PC の証明書は一時停止 (保留) 中です", Some("certificateHold"));

    // The facility suspended (its state said first), then resumed, which releases the holds.
    p.h.ok(&["facility", "suspend", &facility, "--reason", "audit"]);
    s.browser.goto(&login);
    s.problem_at(&login, "facility_suspended", "この施設は利用停止中です", Some("問題クリニック"));
    p.h.ok(&["facility", "resume", &facility]);

    // The PC's certificate revoked.
    p.h.ok(&["revoke", "--serial", &serial, "--reason", "keyCompromise"]);
    s.browser.goto(&login);
    s.problem_at(&login, "pc_cert_revoked", "この PC の証明書は失効しています", Some("keyCompromise"));

    // Every refusal was audited as before.
    let audit = p.h.audit_entries();
    let denied = |action: &str| audit.iter().filter(|e| e["action"] == action && e["outcome"] == "denied").count();
    assert!(denied("login.card") >= 1, "the untrusted card's login");
    assert!(denied("oidc.authorize") >= 1, "the refused service");
    p.h.ok(&["audit", "verify"]);
    s.publish();
}

/// A card whose certificate expired yesterday, and one its CA revoked (keyCompromise, on the CRL the portal
/// prefetched, fail-closed): each login the page's form posts is refused, and the login page says what happened
/// and what to do, in Japanese and in English (the switch's cookie), axe-clean and photographed. No card agent
/// and no card: the answers are signed here with the cards' keys, as for the card the portal does not trust.
fn expired_and_revoked_cards_say_what_happened_and_what_to_do(b: Backend) {
    let cas = crate::test_pki::hpki();
    let expired = cas.issue_expired(&HpkiSubject::default()).unwrap();
    let revoked = cas.issue(&HpkiSubject { registration_id: "Test000002".into(), ..HpkiSubject::default() }).unwrap();
    let serial = x509_cert::Certificate::from_der(&revoked.authentication.cert)
        .unwrap()
        .tbs_certificate()
        .serial_number()
        .as_bytes()
        .to_vec();
    let on_crl = [Revoked {
        serial,
        at: time::OffsetDateTime::now_utc() - time::Duration::minutes(5),
        reason: Some(x509_cert::ext::pkix::CrlReason::KeyCompromise),
    }];
    let crls = CrlServer::start();
    crls.put("/auth.crl", cas.authentication_crl(&on_crl, CrlValidity::fresh(24)).unwrap());
    crls.put("/arl.crl", cas.root_arl(&[], CrlValidity::fresh(24)).unwrap());
    let extra = format!(
        "card_agent = \"http://127.0.0.1:9\"\n[login]\nhpki_anchors = [\"hpki-root.der\"]\n\
         intermediates = [\"hpki-auth-ca.der\"]\nrevocation = \"fail-closed\"\ncrl_urls = {:?}\n",
        [crls.url("/auth.crl"), crls.url("/arl.crl")]
    );
    let p = Portal::start_with(b, &extra, |h| {
        std::fs::write(h.dir().join("hpki-root.der"), &revoked.root).unwrap();
        std::fs::write(h.dir().join("hpki-auth-ca.der"), &revoked.authentication_ca).unwrap();
    });
    let (_, cert, key) = oidc::issue_pc(&p.h, "問題クリニック");
    let home_dir = p.h.path("browser-home");
    nss_db(&home_dir, &p.h.chain_file("server"), &cert, &key, &p.h.path("pc.p12"));
    let _policy = AutoSelect::write(&[&p.issuer], &issuer_cn(&cert));
    let mut s = Scene { browser: Chromium::start(&home_dir, &p.h.path("chromium-profile")), p: &p, b, shots: vec![] };
    s.browser.cmd(json!({"cmd": "accept_language", "value": "ja"}));
    let login = format!("{}/login", p.issuer);
    for (card, code, [ja, ja_says], [en, en_says]) in [
        (
            &expired,
            "card_expired",
            ["カードの証明書の有効期限が切れています", "カードを更新してください"],
            ["The card's certificate has expired", "Have the card renewed by its issuer"],
        ),
        (
            &revoked,
            "card_revoked",
            ["カードの証明書は失効しています", "施設の管理者を通じて問い合わせてください"],
            ["The card's certificate is revoked", "Ask its issuer (the HPKI certification authority"],
        ),
    ] {
        for (lang, heading, says) in [("ja", ja, ja_says), ("en", en, en_says)] {
            s.browser.goto(&format!("{login}?lang={lang}"));
            posted_card_login(&mut s.browser, &p.issuer, card);
            s.shown(code, heading, says);
            s.checked(code, lang);
        }
    }

    // Each refusal was audited with its reason.
    let reasons: Vec<_> =
        p.h.audit_entries()
            .into_iter()
            .filter(|e| e["action"] == "login.card")
            .map(|e| format!("{} {}", e["outcome"].as_str().unwrap(), e["detail"]["reason"].as_str().unwrap_or("")))
            .collect();
    assert_eq!(reasons, ["denied card_expired", "denied card_expired", "denied card_revoked", "denied card_revoked"]);
    p.h.ok(&["audit", "verify"]);
    s.publish();
}

/// The browser, the portal, and the screenshots taken.
struct Scene<'a> {
    browser: Chromium,
    p: &'a Portal,
    b: Backend,
    shots: Vec<String>,
}

impl Scene<'_> {
    fn click(&mut self, selector: &str) {
        self.browser.cmd(json!({"cmd": "click", "selector": selector}));
    }

    /// The login page's folded sections (the My Number card, the password) opened, as the person opens them.
    fn open_details(&mut self) {
        self.browser.eval("document.querySelectorAll('details').forEach((d) => { d.open = true; }); true");
    }

    fn text(&mut self) -> String {
        self.browser.eval("document.body.innerText").as_str().unwrap_or_default().to_owned()
    }

    /// Waits for the login page's script (or the server) to show problem `code`.
    fn wait(&mut self, code: &str) {
        self.browser.wait_url(&format!("{}/login?problem={code}", self.p.issuer), "#card-status");
    }

    /// Clicks `button`, which opens the agent's PIN window, and types `pin` there.
    fn pin_window(&mut self, button: &str, pin: &str, confirm_last_try: bool) {
        self.open_details();
        self.browser.cmd(json!({"cmd": "forget_popups"}));
        self.click(button);
        self.type_pin(pin, confirm_last_try);
    }

    fn type_pin(&mut self, pin: &str, confirm_last_try: bool) {
        self.browser.cmd(json!({"cmd": "wait_popup", "contains": "/pin/"}));
        self.browser.cmd(json!({"cmd": "type", "tab": "popup", "selector": "input[name=pin]", "text": pin}));
        if confirm_last_try {
            self.browser.cmd(json!({"cmd": "click", "tab": "popup", "selector": "#confirm-last-try"}));
        }
        self.browser.cmd(json!({"cmd": "click", "tab": "popup", "selector": "button[value=sign]"}));
    }

    /// The login page shows `code`: in Japanese, then English, each checked and photographed.
    fn problem(&mut self, code: &str, ja: &str, en: &str) {
        let url = self.browser.eval("location.href").as_str().unwrap().to_owned();
        self.shown(code, ja, ja);
        self.checked(code, "ja");
        self.browser.goto(&format!("{url}&lang=en"));
        self.shown(code, en, en);
        self.checked(code, "en");
        // The switch's choice is kept in a cookie: back to Japanese, on the same page.
        self.browser.goto(&format!("{url}&lang=ja"));
    }

    /// The page at `url` (already open) shows `code` saying `ja` and `says`; then the same in English.
    fn problem_at(&mut self, url: &str, code: &str, ja: &str, says: Option<&str>) {
        self.shown(code, ja, says.unwrap_or(ja));
        self.checked(code, "ja");
        if url.ends_with("/login/card") {
            // A POST's answer: the English page is the same refusal with the browser asking for English.
            return;
        }
        let sep = if url.contains('?') { '&' } else { '?' };
        self.browser.goto(&format!("{url}{sep}lang=en"));
        let en = self.browser.eval(&format!("document.querySelector('[data-problem={code}] h2').innerText"));
        assert!(en.as_str().is_some_and(|h| h.is_ascii()), "not English: {en}");
        self.checked(code, "en");
        self.browser.goto(&format!("{url}{sep}lang=ja"));
    }

    /// The box of `code` is on the page, its heading `heading`, its text containing `says`.
    fn shown(&mut self, code: &str, heading: &str, says: &str) {
        let got = self.browser.eval(&format!(
            "(() => {{ const b = document.querySelector('[data-problem={code}]'); \
             return b && [b.getAttribute('role'), b.querySelector('h2').innerText, b.innerText]; }})()"
        ));
        assert_eq!(got[0], "alert", "no problem box {code}: {}", self.text());
        assert_eq!(got[1], heading, "{code}");
        assert!(got[2].as_str().unwrap().contains(says), "{code} does not say {says:?}: {}", got[2]);
    }

    /// axe-core clean, and photographed as `problem-<code>-<lang>.png`.
    fn checked(&mut self, code: &str, lang: &str) {
        assert_eq!(self.browser.eval("document.documentElement.lang"), lang, "{code}");
        assert_wcag21_aa(&mut self.browser, "main", &format!("the {code} page ({lang})"));
        let name = format!("problem-{code}-{lang}.png");
        self.browser.screenshot(&self.dir().join(&name));
        self.shots.push(name);
    }

    fn dir(&self) -> PathBuf {
        let dir = self.p.h.path("screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// `HCPKI_UPDATE_SCREENSHOTS=1` (SQLite run): the photographs into `docs/screenshots/`.
    fn publish(&self) {
        if self.b != Backend::Sqlite || std::env::var_os("HCPKI_UPDATE_SCREENSHOTS").is_none_or(|v| v != "1") {
            return;
        }
        let docs = repo_root().join("docs/screenshots");
        for name in &self.shots {
            std::fs::copy(self.dir().join(name), docs.join(name)).unwrap();
        }
    }
}

/// A login with the password + TOTP form of the login page, landing on the home page.
fn password_login(s: &mut Scene<'_>, login: &str) {
    password_login_with(s, login, 0);
}

/// [`password_login`] with the one-time code `step` steps from now's (a code is accepted once).
fn password_login_with(s: &mut Scene<'_>, login: &str, step: i64) {
    s.browser.goto(login);
    s.open_details();
    let code = totp(&s.p.totp_secret, step);
    for (field, value) in [("username", "alice"), ("password", PASSWORD), ("totp", code.as_str())] {
        s.browser.cmd(json!({"cmd": "type", "selector": format!("input[name={field}]"), "text": value}));
    }
    s.click("form[action='/login'] button[type=submit]");
    s.browser.wait_exact_url(&format!("{}/", s.p.issuer), "body");
}

/// What `card-login.js` posts, made with the HPKI card `card` (e.g. one of another HPKI: a well-formed chain to
/// no anchor of this portal): the page's own challenge, signed here with that card's key, and the page's form
/// submitted.
fn posted_card_login(browser: &mut Chromium, issuer: &str, card: &HpkiCredentials) {
    let challenge = browser.eval(
        "(async () => { const f = document.getElementById('card-login'); \
         const csrf = f.querySelector('input[name=csrf]').value; \
         const r = await fetch('/login/card/challenge', { method: 'POST', credentials: 'same-origin', \
           headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, \
           body: new URLSearchParams({ csrf, kind: 'hpki' }) }); \
         return (await r.json()).challenge; })()",
    );
    let challenge = challenge.as_str().unwrap().to_owned();
    let bytes = URL_SAFE_NO_PAD.decode(&challenge).unwrap();
    // The login message as the agent builds it (hcpki-agent-protocol): context, origin, challenge.
    let message = [b"hcpki card login v1\0".as_slice(), issuer.as_bytes(), b"\0", &bytes].concat();
    let signature = STANDARD.encode(card.authentication.key.sign_sha256(&message).unwrap());
    let chain = [&card.authentication.cert, &card.authentication_ca].map(|c| STANDARD.encode(c)).join(",");
    browser.eval(&format!(
        "(() => {{ const f = document.getElementById('card-login'); f.elements.challenge_id.value = {}; \
         f.elements.kind.value = 'hpki'; f.elements.signature.value = {}; f.elements.chain.value = {}; \
         f.submit(); return true; }})()",
        json!(challenge),
        json!(signature),
        json!(chain)
    ));
    browser.wait_url(&format!("{issuer}/login/card"), "body");
}

/// The serial of the facility's one PC certificate.
fn pc_serial(p: &Portal, facility: &str) -> String {
    let listed: serde_json::Value = serde_json::from_str(&p.h.cert_list(Some(facility))[0]).unwrap();
    listed["serial"].as_str().unwrap().to_owned()
}
