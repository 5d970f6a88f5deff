//! Lending the card reader at a one-reader PC (issue #28 step 3, D91), against the real server with the real
//! `hcpki-agent` and a virtual HPKI card behind the real pcscd: the physician's card session lends the reader
//! for a consent, is paused everywhere but the consent flow, survives its card's removal (reported by the page
//! and by the agent itself), refuses another card's return and continues with its own card. A lend that runs
//! out ends the session like a card removal: the relying service gets its back-channel logout. Time is never
//! waited out: the sweep takes `--at`, and the browser's next request after the lend is made by moving the
//! session's stored lend end into the past.

use crate::agent::{self, hpki};
use crate::backchannel::{logout_receiver, received_logout_token};
use crate::harness::{Backend, free_port};
use crate::oidc::{PASSWORD, Portal, REDIRECT, Rp, code_flow, poll, totp};
use crate::pcsc_lock::pcsc_lock;
use crate::portal_card::{authorize_path, card_portal_with, card_session, data_attribute, field, report_card_removed};
use serde_json::{Value, json};
use sha2::Digest as _;

// What the database decides (the lend, its run-out, its refusals) on both; the page and console views of a lend,
// which read the same rows, once (the store's lend tests run on both backends, CI's 30-minute budget).
on_both_backends!(
    a_lent_session_survives_its_cards_removal_and_continues_with_its_own_card,
    a_lend_that_runs_out_ends_the_session_and_tells_the_services,
    a_lend_run_out_ends_the_session_at_the_browsers_next_request,
    a_lent_session_cannot_be_used_by_anyone,
);

mod sqlite_only {
    use crate::harness::Backend;

    #[test]
    fn another_card_cannot_take_the_session_back() {
        super::another_card_cannot_take_the_session_back(Backend::Sqlite)
    }

    #[test]
    fn a_password_session_cannot_lend() {
        super::a_password_session_cannot_lend(Backend::Sqlite)
    }

    #[test]
    fn in_chromium_the_paused_page_ignores_the_removal_and_resumes_with_the_own_card() {
        super::in_chromium_the_paused_page_ignores_the_removal_and_resumes_with_the_own_card(Backend::Sqlite)
    }

    #[test]
    fn the_console_of_a_lent_session_is_paused_and_resumes_with_it() {
        super::the_console_of_a_lent_session_is_paused_and_resumes_with_it(Backend::Sqlite)
    }
}

/// The presence lease: long enough that nothing depends on the agent's timing.
const LEASE: i64 = 600;
/// A card id of the agent's form that is not the login card's.
const OTHER_CARD: &str = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
/// What the paused page says (Japanese, the default).
const PAUSED: &str = "一時停止";

/// A card portal with presence leases and lends of `lend_secs`, a back-channel client `bc` logging out to
/// `bcl`, whose pages name an agent on `agent_port`.
fn lend_portal(b: Backend, agent_port: u16, lend_secs: u32, bcl: &str) -> Portal {
    lend_portal_with(b, agent_port, &format!("lend_secs = {lend_secs}\nhousekeeping_secs = 1\n"), bcl)
}

/// [`lend_portal`] with its `[portal]` settings besides the lease in `settings`.
fn lend_portal_with(b: Backend, agent_port: u16, settings: &str, bcl: &str) -> Portal {
    let settings = format!("card_presence_secs = {LEASE}\n{settings}");
    card_portal_with(b, &format!("http://127.0.0.1:{agent_port}"), &settings, |h| {
        let jwks = h.path("rp/jwks.json");
        let args = ["oidc", "client", "add", "--id", "bc", "--redirect-uri", REDIRECT, "--auth", "private_key_jwt"];
        let more = ["--jwks-file", jwks.to_str().unwrap(), "--service", "wiki", "--backchannel-logout-uri", bcl];
        h.ok(&args.iter().chain(&more).copied().collect::<Vec<_>>());
    })
}

/// An agent that answers the portal's pages and reports presence to it, trusting the portal's CA.
fn presence_agent(p: &Portal, port: u16) -> agent::Served {
    let ca = p.h.chain_file("server");
    agent::Served::start_with(&p.issuer, &format!("127.0.0.1:{port}"), &["--portal-ca-file", ca.to_str().unwrap()])
}

/// A signed-in card session at the portal `p` with the agent holding its presence token (as card-watch.js
/// hands it over): the session's card id, CSRF token and presence token.
fn signed_in(p: &Portal, agent: &agent::Served) -> (String, String, String) {
    let (card_id, home) = card_session(p, agent);
    let (csrf, token) = (data_attribute(&home.body, "csrf"), data_attribute(&home.body, "presence"));
    let body = serde_json::json!({ "token": token, "card_id": card_id }).to_string();
    let (status, answer) = agent.http("POST", "/v1/presence", &p.issuer, "application/json", &body);
    assert_eq!(status, 202, "{answer}");
    (card_id, csrf, token)
}

/// What the consent page's script posts to lend the reader: the answer and its JSON.
fn lend(p: &Portal, csrf: &str, consent: &str) -> (u16, Value) {
    let r = p.submit("/session/lend", &[("csrf", csrf), ("consent", consent)], None);
    (r.status, serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("{r:?}")))
}

/// What card-watch.js posts when the card `card_id` is back: the answer and its JSON.
fn give_back(p: &Portal, csrf: &str, card_id: &str) -> (u16, Value) {
    let r = p.submit("/session/lend/return", &[("csrf", csrf), ("card_id", card_id)], None);
    (r.status, serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("{r:?}")))
}

/// The agent's presence report as the contract has it (`hcpki_agent_protocol::presence`).
fn presence_report(p: &Portal, token: &str, card_id: &str, event: &str) -> u16 {
    p.submit("/presence", &[("token", token), ("card_id", card_id), ("event", event)], None).status
}

/// The session's row as (lent_until, lent_card_out, ended_at, end_reason), found by its presence token.
fn lend_row(p: &Portal, token: &str) -> (Option<i64>, Option<i64>, Option<i64>, Option<String>) {
    let hash = hex::encode(sha2::Sha256::digest(token.as_bytes()));
    let db = p.h.db();
    let column = |c: &str| {
        db.strings(&format!(
            "SELECT CAST({c} AS TEXT) FROM portal_sessions WHERE presence_hash = '{hash}' AND {c} IS NOT NULL"
        ))
        .into_iter()
        .next()
    };
    let number = |c: &str| column(c).map(|v| v.parse::<i64>().unwrap());
    (number("lent_until"), number("lent_card_out"), number("ended_at"), column("end_reason"))
}

/// The audit log's entries of `action` as (outcome, detail) pairs, oldest first.
fn audited(p: &Portal, action: &str) -> Vec<(String, Value)> {
    p.h.audit_entries()
        .into_iter()
        .filter(|e| e["action"] == action)
        .map(|e| (e["outcome"].as_str().unwrap_or_default().to_owned(), e["detail"].clone()))
        .collect()
}

/// The whole lend with one reader: lent, paused, the card out (the page's report and the agent's), still alive,
/// another card refused, the own card back, every page working again — and the relying service never told to log
/// out.
fn a_lent_session_survives_its_cards_removal_and_continues_with_its_own_card(b: Backend) {
    let agent_port = free_port();
    let p = lend_portal(b, agent_port, 300, "http://127.0.0.1:9/never");
    let _pcsc = pcsc_lock();
    let agent = presence_agent(&p, agent_port);
    let mut card = agent::insert(hpki(), 0);
    agent.wait_card(0, "hpki");
    let (card_id, csrf, token) = signed_in(&p, &agent);
    code_flow(&p, "rp1", &Rp::load(&p).assertion(&p, 60, None));

    let (status, lent) = lend(&p, &csrf, "consent-0001");
    assert_eq!(status, 200, "{lent}");
    let until = lent["lent_until"].as_i64().unwrap_or_else(|| panic!("{lent}"));
    assert_eq!(lend_row(&p, &token).0, Some(until));
    let home = p.get("/");
    assert_eq!(home.status, 423, "the home page of a lent session: {home:?}");
    assert!(home.body.contains(PAUSED) && home.body.contains("data-lent="), "{}", home.body);

    // The physician pulls the card: the agent reports it, the session lives (card out noted).
    card.remove();
    let (_, out, ended, _) = poll(|| Some(lend_row(&p, &token)).filter(|row| row.1.is_some()));
    assert!(out.is_some() && ended.is_none(), "the agent's removal report ended the lent session");
    // The page's report too (another tab's card-watch): the paused page, nothing ended.
    let removed = report_card_removed(&p, &csrf, &card_id);
    assert_eq!(removed.status, 423, "{removed:?}");
    assert_eq!(presence_report(&p, &token, &card_id, "removed"), 204, "the agent's report, again");
    assert_eq!(lend_row(&p, &token).2, None, "a card-removed report ended a lent session");
    let card_out = audited(&p, "session.lend.card_out");
    let via: Vec<_> = card_out.iter().map(|(_, d)| d["via"].as_str().unwrap_or_default()).collect();
    assert!(via.contains(&"agent") && via.contains(&"page"), "{card_out:?}");

    // The patient's card would be in the reader now; a return with another card is refused.
    let (status, refused) = give_back(&p, &csrf, OTHER_CARD);
    assert_eq!((status, refused["error"]["code"].as_str()), (403, Some("other_card")), "{refused}");
    assert_eq!(p.get("/").status, 423, "still paused");

    // The physician's card is back.
    agent::insert_into(&mut card, 0);
    let (status, back) = give_back(&p, &csrf, &card_id);
    assert_eq!((status, back["lent"].as_bool()), (200, Some(false)), "{back}");
    let (lent_until, out, ended, _) = lend_row(&p, &token);
    assert_eq!((lent_until, out, ended), (None, None, None));
    assert_eq!(p.get("/").status, 200, "the home page works again");
    assert_eq!(p.get("/sessions").status, 200);
    code_flow(&p, "rp1", &Rp::load(&p).assertion(&p, 60, None));
    let returned = audited(&p, "session.lend.return");
    let outcomes: Vec<_> = returned.iter().map(|(o, _)| o.as_str()).collect();
    assert_eq!(outcomes, ["denied", "ok"], "{returned:?}");
    let lent = audited(&p, "session.lend");
    assert_eq!(lent.len(), 1, "{lent:?}");
    assert_eq!(lent[0].1["consent"], "consent-0001", "{lent:?}");
    assert!(audited(&p, "portal.logout").is_empty(), "the session was logged out");

    // Lent again, and the agent sees the same card back after it was out: its `present` ends the lend.
    assert_eq!(lend(&p, &csrf, "consent-0002").0, 200);
    assert_eq!(presence_report(&p, &token, &card_id, "present"), 200, "the routine renewal before the pull");
    assert!(lend_row(&p, &token).0.is_some(), "a renewal before the card was out ended the lend");
    assert_eq!(presence_report(&p, &token, &card_id, "removed"), 204);
    assert_eq!(presence_report(&p, &token, &card_id, "present"), 200);
    assert_eq!(lend_row(&p, &token).0, None, "the agent's present after the card was out did not end the lend");
    assert_eq!(p.get("/").status, 200);
}

/// A lend that runs out without the card back ends the session as a card removal does: the relying service gets
/// its back-channel logout; the next visit says the session ended because the card was removed. Here the
/// housekeeping ends it (`hcpki portal sweep` at the lend's end; the server's round sends the logout).
fn a_lend_that_runs_out_ends_the_session_and_tells_the_services(b: Backend) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let bcl = format!("http://127.0.0.1:{}/bcl", listener.local_addr().unwrap().port());
    let agent_port = free_port();
    let p = lend_portal(b, agent_port, 60, &bcl);
    let _pcsc = pcsc_lock();
    let agent = presence_agent(&p, agent_port);
    let _card = agent::insert(hpki(), 0);
    agent.wait_card(0, "hpki");

    // The housekeeping's way.
    let (_, csrf, token) = signed_in(&p, &agent);
    code_flow(&p, "bc", &Rp::load(&p).assertion_as(&p, "bc", 60, None));
    let (status, lent) = lend(&p, &csrf, "consent-0003");
    assert_eq!(status, 200, "{lent}");
    let until = lent["lent_until"].as_i64().unwrap();
    let receiver = logout_receiver(listener);
    let before = p.h.ok(&["portal", "sweep", "--at", &(until - 1).to_string()]);
    assert!(before.contains("card sessions ended (lend ran out): 0"), "{before}");
    let out = p.h.ok(&["portal", "sweep", "--at", &until.to_string()]);
    assert!(out.contains("card sessions ended (lend ran out): 1"), "{out}");
    received_logout_token(&p, &receiver.join().unwrap(), "bc", "ES256");
    assert_eq!(lend_row(&p, &token).3.as_deref(), Some("lend-expired"));
    let after = p.get("/");
    assert!(after.status == 303 && after.location.ends_with("/login?problem=ended_card_removed"), "{after:?}");
    let expired = audited(&p, "session.lend.expired");
    assert_eq!(expired.len(), 1, "{expired:?}");
    assert_eq!(expired[0].1["lent_for"], "consent-0003", "{expired:?}");
}

/// The browser comes back after its lend ran out, before any housekeeping round (none runs within the test):
/// its request ends the session (`lend-expired`), the relying service gets its back-channel logout at once, and
/// the page says the session ended because the card was removed.
fn a_lend_run_out_ends_the_session_at_the_browsers_next_request(b: Backend) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let bcl = format!("http://127.0.0.1:{}/bcl", listener.local_addr().unwrap().port());
    let agent_port = free_port();
    let p = lend_portal_with(b, agent_port, "lend_secs = 60\nhousekeeping_secs = 3600\n", &bcl);
    let _pcsc = pcsc_lock();
    let agent = presence_agent(&p, agent_port);
    let _card = agent::insert(hpki(), 0);
    agent.wait_card(0, "hpki");
    let (_, csrf, token) = signed_in(&p, &agent);
    code_flow(&p, "bc", &Rp::load(&p).assertion_as(&p, "bc", 60, None));
    assert_eq!(lend(&p, &csrf, "consent-0004").0, 200);
    // The lend's end moved into the past: what the next request meets once the lend's time has passed.
    let hash = hex::encode(sha2::Sha256::digest(token.as_bytes()));
    let moved =
        p.h.db().execute(&format!("UPDATE portal_sessions SET lent_until = 1000 WHERE presence_hash = '{hash}'"));
    assert_eq!(moved, 1);
    let receiver = logout_receiver(listener);
    let next = p.get("/");
    assert!(next.status == 303 && next.location.ends_with("/login?problem=ended_card_removed"), "{next:?}");
    received_logout_token(&p, &receiver.join().unwrap(), "bc", "ES256");
    assert_eq!(lend_row(&p, &token).3.as_deref(), Some("lend-expired"));
    let expired = audited(&p, "session.lend.expired");
    assert_eq!(expired.len(), 1, "{expired:?}");
    assert_eq!(expired[0].1["lent_for"], "consent-0004", "{expired:?}");
    let logout = audited(&p, "portal.logout");
    assert!(logout.iter().any(|(_, d)| d["reason"] == "lend-expired"), "{logout:?}");
}

/// While lent, the session's cookie opens nothing: the portal's pages and actions, a relying service's
/// `/authorize`, signing out or in — each answered with the paused page (423) and recorded, nothing changed.
/// The consent flow's routes and static files still answer; a second lend is refused.
fn a_lent_session_cannot_be_used_by_anyone(b: Backend) {
    let agent_port = free_port();
    let p = lend_portal(b, agent_port, 300, "http://127.0.0.1:9/never");
    let _pcsc = pcsc_lock();
    let agent = presence_agent(&p, agent_port);
    let _card = agent::insert(hpki(), 0);
    agent.wait_card(0, "hpki");
    let (_, csrf, token) = signed_in(&p, &agent);
    assert_eq!(lend(&p, &csrf, "consent-0005").0, 200);

    let verifier = "v".repeat(64);
    let gets = ["/", "/sessions", "/login", "/logout", &authorize_path("rp1", REDIRECT, &verifier)];
    for path in gets {
        let r = p.get(path);
        assert_eq!(r.status, 423, "GET {path}: {r:?}");
        assert!(r.body.contains(PAUSED), "GET {path}: {}", r.body);
    }
    let en = p.get("/?lang=en");
    assert!(en.body.contains("Session paused") && en.body.contains("put your own card"), "{}", en.body);
    for path in ["/sessions/end-all", "/logout"] {
        let r = p.submit(path, &[("csrf", &csrf)], None);
        assert_eq!(r.status, 423, "POST {path}: {r:?}");
    }
    assert_eq!(lend_row(&p, &token).2, None, "a paused request ended the session");
    assert_eq!(p.get("/static/card-watch.js").status, 200);
    let (status, twice) = lend(&p, &csrf, "consent-0006");
    assert_eq!((status, twice["error"]["code"].as_str()), (409, Some("lent")), "{twice}");
    let uses = audited(&p, "session.lend.use");
    assert!(uses.len() >= gets.len() + 3, "{uses:?}");
    assert!(uses.iter().all(|(o, _)| o == "denied"), "{uses:?}");
    // Bad lends: a stale page, a consent reference that is no reference.
    let (status, stale) = lend(&p, "not-the-token", "consent-0007");
    assert_eq!((status, stale["error"]["code"].as_str()), (403, Some("csrf")), "{stale}");
    let long = "x".repeat(65);
    let (status, bad) = lend(&p, &csrf, &long);
    assert!(status == 400 || status == 409, "{bad}");
}

/// A return with any card but the session's own login card is refused and recorded: the session stays lent
/// (the agent's `present` for another card finds no session at all).
fn another_card_cannot_take_the_session_back(b: Backend) {
    let agent_port = free_port();
    let p = lend_portal(b, agent_port, 300, "http://127.0.0.1:9/never");
    let _pcsc = pcsc_lock();
    let agent = presence_agent(&p, agent_port);
    let _card = agent::insert(hpki(), 0);
    agent.wait_card(0, "hpki");
    let (card_id, csrf, token) = signed_in(&p, &agent);
    assert_eq!(lend(&p, &csrf, "consent-0008").0, 200);
    for other in [OTHER_CARD, "", &card_id.to_uppercase()] {
        let (status, refused) = give_back(&p, &csrf, other);
        assert_eq!((status, refused["error"]["code"].as_str()), (403, Some("other_card")), "{other:?}: {refused}");
    }
    assert_eq!(presence_report(&p, &token, OTHER_CARD, "present"), 404, "another card's presence");
    let (status, stale) = give_back(&p, "not-the-token", &card_id);
    assert_eq!((status, stale["error"]["code"].as_str()), (403, Some("csrf")), "{stale}");
    assert!(lend_row(&p, &token).0.is_some(), "the session is no longer lent");
    assert_eq!(p.get("/").status, 423);
    let refused = audited(&p, "session.lend.return");
    assert_eq!(refused.len(), 3, "{refused:?}");
    assert!(refused.iter().all(|(o, _)| o == "denied"), "{refused:?}");
}

/// A password + TOTP session has no card whose return could continue it: lending is refused and recorded.
fn a_password_session_cannot_lend(b: Backend) {
    let p = Portal::start_with(b, "lend_secs = 60\n", |_| ());
    assert_eq!(p.login("alice", PASSWORD, &totp(&p.totp_secret, 0), None).status, 303);
    let home = p.get("/");
    assert_eq!(home.status, 200, "{home:?}");
    let csrf = field(&home.body, "csrf");
    let (status, refused) = lend(&p, &csrf, "consent-0009");
    assert_eq!((status, refused["error"]["code"].as_str()), (409, Some("not_card_session")), "{refused}");
    assert_eq!(p.get("/").status, 200, "the session is not paused");
    let (status, _) = give_back(&p, &csrf, OTHER_CARD);
    assert_eq!(status, 403, "a password session has no card to return");
    let denied = audited(&p, "session.lend");
    assert_eq!(denied.len(), 1, "{denied:?}");
    assert_eq!(denied[0].0, "denied");
    // Out of range: the server refuses to start, saying what to set.
    let h = crate::harness::Hcpki::initialized(b);
    let mut cfg = std::fs::read_to_string(h.dir().join("hcpki.toml")).unwrap();
    cfg.push_str("\n[portal]\nlisten = \"127.0.0.1:0\"\nlend_secs = 30\n");
    std::fs::write(h.dir().join("hcpki.toml"), cfg).unwrap();
    let out = h.fails(&["serve", "--https-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"]);
    assert!(out.contains("lend_secs = 30 is out of range: set 60 to 900"), "{out}");
}

/// card-watch.js in headless Chromium (the real page scripts, the real agent): a card login, the reader lent as
/// the consent page's script lends it, the card pulled — the paused page (axe-core clean, ja and en) stays, no
/// logout — and the card put back: the script posts the return itself and the page reloads into the home page.
fn in_chromium_the_paused_page_ignores_the_removal_and_resumes_with_the_own_card(b: Backend) {
    use crate::browser::{AutoSelect, Chromium, issuer_cn, nss_db};
    let agent_port = free_port();
    let p = lend_portal(b, agent_port, 300, "http://127.0.0.1:9/never");
    // The PC's certificate and NSS database need no reader: made before the readers' lock (its holders take turns).
    let (_, cert, key) = crate::oidc::issue_pc(&p.h, "Lend clinic");
    let home_dir = p.h.path("browser-home");
    nss_db(&home_dir, &p.h.chain_file("server"), &cert, &key, &p.h.path("pc.p12"));
    let _pcsc = pcsc_lock();
    let agent = presence_agent(&p, agent_port);
    let mut card = agent::insert(hpki(), 0);
    agent.wait_card(0, "hpki");
    let _policy = AutoSelect::write(&[&p.issuer], &issuer_cn(&cert));
    let mut browser = Chromium::start(&home_dir, &p.h.path("chromium-profile"));
    browser.cmd(json!({"cmd": "accept_language", "value": "ja,en-US;q=0.8"}));

    browser.goto(&format!("{}/login?lang=ja", p.issuer));
    browser.cmd(json!({"cmd": "click", "selector": "[data-kind=hpki]"}));
    browser.cmd(json!({"cmd": "wait_popup", "contains": "/pin/"}));
    browser.cmd(json!({"cmd": "keys", "tab": "popup", "text": crate::portal_card::PIN}));
    browser.cmd(json!({"cmd": "key", "tab": "popup", "key": "Enter"}));
    browser.wait_exact_url(&format!("{}/", p.issuer), "#card-status");
    browser.cmd(json!({"cmd": "wait_response", "contains": "/v1/presence", "status": 202}));
    let token = browser.eval("document.body.dataset.presence");
    let token = token.as_str().unwrap().to_owned();

    // What the consent page's script does: lend, then mark the page lent.
    let lent = browser.eval(
        "fetch('/session/lend', {method: 'POST', body: new URLSearchParams({csrf: document.body.dataset.csrf, \
         consent: 'consent-c1'})}).then(r => r.json()).then(a => { document.body.dataset.lent = a.lent_until; \
         return a.lent_until; })",
    );
    assert!(lent.as_i64().is_some(), "{lent}");
    // The card leaves: the page's script ends nothing; the agent's report notes it.
    card.remove();
    poll(|| lend_row(&p, &token).1);
    assert_eq!(lend_row(&p, &token).2, None, "the lent session ended when its card left");

    // Any portal page is the paused page, with the card watch waiting for the card.
    let shots = p.h.path("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    for lang in ["en", "ja"] {
        browser.goto(&format!("{}/?lang={lang}", p.issuer));
        let text = browser.eval("document.querySelector('main').innerText");
        let words = if lang == "ja" { PAUSED } else { "Session paused" };
        assert!(text.as_str().unwrap_or_default().contains(words), "{lang}: {text}");
        assert_eq!(browser.eval("'lent' in document.body.dataset"), true);
        crate::accessibility::assert_wcag21_aa(&mut browser, "main", &format!("the paused page ({lang})"));
        browser.screenshot(&shots.join(format!("paused-{lang}.png")));
    }

    // The physician's card is back: card-watch.js posts the return and the page reloads into the home page.
    agent::insert_into(&mut card, 0);
    browser.cmd(json!({"cmd": "wait_response", "contains": "/session/lend/return", "status": 200}));
    poll(|| (browser.eval("document.querySelector('[data-service]') !== null") == true).then_some(()));
    assert_eq!(lend_row(&p, &token).0, None, "the lend did not end");
    let returned = audited(&p, "session.lend.return");
    assert_eq!(
        returned.iter().map(|(o, d)| (o.as_str(), d["via"].as_str())).collect::<Vec<_>>(),
        [("ok", Some("page"))]
    );
}

/// The console signed in through a card session (D42) is paused with it: every console request is refused with a
/// page saying so (423, audited `console.session`), the console's sign-in is kept, and it works again once the
/// card is back.
fn the_console_of_a_lent_session_is_paused_and_resumes_with_it(b: Backend) {
    use crate::admin::{Api, As};
    use crate::console_card::{console_of, console_sign_in, person_key_of};
    let agent_port = free_port();
    let p = lend_portal(b, agent_port, 300, "http://127.0.0.1:9/never");
    let _pcsc = pcsc_lock();
    let agent = presence_agent(&p, agent_port);
    let _card = agent::insert(hpki(), 0);
    agent.wait_card(0, "hpki");
    let (card_id, csrf, _) = signed_in(&p, &agent);
    let console = console_of(&p);
    let person = person_key_of(&console_sign_in(&p, &console));
    p.h.ok(&["console-grant", "add", &person, "--role", "operator"]);
    assert_eq!(console_sign_in(&p, &console).status, 200);
    let jar = std::fs::read_to_string(p.h.path("jar")).unwrap_or_default();
    let cookie = jar
        .lines()
        .find(|l| l.contains("\t__Host-hcpki-console\t"))
        .and_then(|l| l.rsplit('\t').next())
        .unwrap_or_else(|| panic!("no console cookie in {jar}"))
        .to_owned();
    let api = Api::new(&p.h, p.served());
    let page = |lang: &str| {
        let header = format!("Cookie: __Host-hcpki-console={cookie}");
        api.request("GET", &format!("/console/?lang={lang}"), None, &As::Nobody, &["-H", &header])
    };
    assert_eq!(page("en").status, 200);

    assert_eq!(lend(&p, &csrf, "consent-c2").0, 200);
    let paused = page("en");
    assert_eq!(paused.status, 423, "{paused:?}");
    assert!(paused.text.contains("paused while a patient uses the card reader"), "{paused:?}");
    let paused = page("ja");
    assert!(paused.status == 423 && paused.text.contains("一時停止"), "{paused:?}");
    let denied = p.h.audit_entries();
    assert!(
        denied.iter().any(|e| e["action"] == "console.session"
            && e["outcome"] == "denied"
            && e["detail"].to_string().contains("paused")),
        "the paused console request was not audited"
    );

    assert_eq!(give_back(&p, &csrf, &card_id).0, 200);
    assert_eq!(page("en").status, 200, "the console sign-in did not survive the lend");
}
