//! Card presence with no portal page open (issue #6, D26): the real `hcpki-agent`, holding a session's presence
//! token as the home page's card-watch.js hands it over (`POST /v1/presence` with the portal's `Origin`),
//! reports to the portal over HTTPS on its own. The card pulled from the reader ends the session as
//! `card-removed` (the next visit's login page says so) and the relying service gets its back-channel logout; an agent killed renews nothing, so `hcpki portal sweep` past
//! the lease ends its session as `presence-lapsed` while a session another agent renews lives on. Leases are
//! never waited out (the sweep takes `--at`); what the agent did is read from the database.

use sha2::Digest as _;

use crate::agent::{self, hpki};
use crate::backchannel::{logout_receiver, received_logout_token};
use crate::harness::Backend;
use crate::harness::free_port;
use crate::oidc::{Portal, REDIRECT, Rp, code_flow, poll};
use crate::pcsc_lock::pcsc_lock;
use crate::portal_card::{card_portal_with, card_session, data_attribute};

on_both_backends!(pulling_the_card_ends_the_session_with_no_page_open, a_killed_agent_lets_its_session_lapse);

/// The lease: long enough that nothing in a test depends on the agent's timing (the agent renews at a third).
const LEASE: i64 = 600;

/// A card portal with presence leases, whose pages name an agent on `agent_port`; `extra` more settings.
fn presence_portal(b: Backend, agent_port: u16, extra: &str, before: impl FnOnce(&crate::harness::Hcpki)) -> Portal {
    let settings = format!("card_presence_secs = {LEASE}\n{extra}");
    card_portal_with(b, &format!("http://127.0.0.1:{agent_port}"), &settings, before)
}

/// An agent that answers the portal's pages and reports presence to it, trusting the portal's CA.
fn presence_agent(p: &Portal, port: u16) -> agent::Served {
    let ca = p.h.chain_file("server");
    agent::Served::start_with(&p.issuer, &format!("127.0.0.1:{port}"), &["--portal-ca-file", ca.to_str().unwrap()])
}

/// What card-watch.js does: hand the agent the session's token and card; the agent's status and answer.
fn register(agent: &agent::Served, origin: &str, body: &str) -> (u16, serde_json::Value) {
    let (status, answer) = agent.http("POST", "/v1/presence", origin, "application/json", body);
    (status, serde_json::from_str(&answer).unwrap_or_else(|_| panic!("{status}: {answer}")))
}

fn registration(token: &str, card_id: &str) -> String {
    serde_json::json!({ "token": token, "card_id": card_id }).to_string()
}

/// The session's row as (presence_until, ended_at, end_reason), found by its presence token's hash.
fn session_row(p: &Portal, token: &str) -> (i64, Option<String>, Option<String>) {
    let hash = hex::encode(sha2::Sha256::digest(token.as_bytes()));
    let db = p.h.db();
    let until = db.scalar_i64(&format!("SELECT presence_until FROM portal_sessions WHERE presence_hash = '{hash}'"));
    let ended = db.strings(&format!(
        "SELECT CAST(ended_at AS TEXT) FROM portal_sessions WHERE presence_hash = '{hash}' AND ended_at IS NOT NULL"
    ));
    let reason = db.strings(&format!(
        "SELECT end_reason FROM portal_sessions WHERE presence_hash = '{hash}' AND end_reason IS NOT NULL"
    ));
    (until, ended.into_iter().next(), reason.into_iter().next())
}

/// Until the clock's second is past `second`: a lease renewed from now on ends after one renewed before.
fn past_second(second: i64) {
    poll(|| (hcpki_pkix::time::now_unix() > second).then_some(()));
}

/// The login card in the reader, a relying service holding tokens of the session, and no portal page open:
/// the agent alone reports the card's removal, the session ends at the portal, the service's back-channel
/// logout endpoint receives the logout token. Registrations the agent must refuse are refused, saying why.
fn pulling_the_card_ends_the_session_with_no_page_open(b: Backend) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let bcl = format!("http://127.0.0.1:{}/bcl", listener.local_addr().unwrap().port());
    let agent_port = free_port();
    let p = presence_portal(b, agent_port, "", |h| {
        let jwks = h.path("rp/jwks.json");
        let args = ["oidc", "client", "add", "--id", "bc", "--redirect-uri", REDIRECT, "--auth", "private_key_jwt"];
        let more = ["--jwks-file", jwks.to_str().unwrap(), "--service", "wiki", "--backchannel-logout-uri", &bcl];
        h.ok(&args.iter().chain(&more).copied().collect::<Vec<_>>());
    });
    let _pcsc = pcsc_lock();
    let agent = presence_agent(&p, agent_port);
    let mut card = agent::insert(hpki(), 0);
    agent.wait_card(0, "hpki");

    let (card_id, home) = card_session(&p, &agent);
    let token = data_attribute(&home.body, "presence");
    code_flow(&p, "bc", &Rp::load(&p).assertion_as(&p, "bc", 60, None));

    // Registrations a page must not make.
    let good = registration(&token, &card_id);
    let refusals = [
        ("https://evil.example", good.clone(), 403, "origin_not_allowed"),
        (p.issuer.as_str(), registration(&token[1..], &card_id), 400, "bad_token"),
        (p.issuer.as_str(), registration(&format!("{token}{}", "A".repeat(2000)), &card_id), 400, "bad_token"),
        (
            p.issuer.as_str(),
            registration(&token.replace(|c: char| c.is_ascii_alphabetic(), "+"), &card_id),
            400,
            "bad_token",
        ),
        (p.issuer.as_str(), registration(&token, &card_id.to_uppercase()), 400, "bad_card_id"),
        (p.issuer.as_str(), registration(&token, "card-1"), 400, "bad_card_id"),
        (p.issuer.as_str(), r#"{"token":"x"}"#.to_owned(), 400, "bad_request"),
        (p.issuer.as_str(), registration(&token, &"0".repeat(9000)), 413, "too_large"),
    ];
    for (origin, body, want, code) in refusals {
        let (status, answer) = register(&agent, origin, &body);
        assert_eq!((status, answer["error"]["code"].as_str()), (want, Some(code)), "{answer}");
        assert!(!answer["error"]["message"].as_str().unwrap().is_empty(), "{answer}");
    }
    let (status, answer) = register(&agent, &p.issuer, &good);
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["report_to"], format!("{}/presence", p.issuer), "{answer}");

    // No portal page open; the card leaves the reader.
    let receiver = logout_receiver(listener);
    card.remove();
    received_logout_token(&p, &receiver.join().unwrap(), "bc", "ES256");
    let (_, ended, reason) = session_row(&p, &token);
    assert!(ended.is_some(), "the session outlived its card");
    assert_eq!(reason.as_deref(), Some("card-removed"), "ended by the agent's report, not a sweep");
    // The person's next visit says why the session ended (D59), not a plain login page.
    let after = p.get("/");
    assert!(after.status == 303 && after.location.ends_with("/login?problem=ended_card_removed"), "{after:?}");
    let login = p.get("/login?problem=ended_card_removed");
    assert!(login.body.contains("data-problem=\"ended_card_removed\""), "{login:?}");
    let audit = p.h.ok(&["audit", "list", "--limit", "10000"]);
    assert!(audit.contains("card-removed") && audit.contains("\"oidc.backchannel_logout\""), "{audit}");
}

/// Two card sessions: the first kept alive by an agent that is then killed, the second by a live agent. A
/// sweep at the end of the first's lease ends it as `presence-lapsed` and leaves the second, whose lease the
/// live agent renewed.
fn a_killed_agent_lets_its_session_lapse(b: Backend) {
    let first_port = free_port();
    let p = presence_portal(b, first_port, "", |_| ());
    let _pcsc = pcsc_lock();
    let first = presence_agent(&p, first_port);
    let _card = agent::insert(hpki(), 0);
    first.wait_card(0, "hpki");

    // Session A, registered with the first agent, which renews its lease at once.
    let (card_id, home) = card_session(&p, &first);
    let token_a = data_attribute(&home.body, "presence");
    let (created_a, _, _) = session_row(&p, &token_a);
    past_second(created_a - LEASE);
    assert_eq!(register(&first, &p.issuer, &registration(&token_a, &card_id)).0, 202);
    let renewed_a = poll(|| Some(session_row(&p, &token_a).0).filter(|until| *until > created_a));

    // The first agent is killed (SIGKILL: no goodbye); a second agent serves the next login, session B.
    drop(first);
    let second_port = free_port();
    let second = presence_agent(&p, second_port);
    second.wait_card(0, "hpki");
    let b_view = p.other_browser("jar-b");
    let (card_b, home_b) = card_session(&b_view, &second);
    let token_b = data_attribute(&home_b.body, "presence");
    let (created_b, _, _) = session_row(&p, &token_b);
    past_second(created_b - LEASE);
    assert_eq!(register(&second, &p.issuer, &registration(&token_b, &card_b)).0, 202);
    let renewed_b = poll(|| Some(session_row(&p, &token_b).0).filter(|until| *until > created_b));
    assert!(renewed_b > renewed_a, "B's lease was renewed after A's ({renewed_b} vs {renewed_a})");

    // Housekeeping at the end of A's lease: A has lapsed, B has not.
    let out = p.h.ok(&["portal", "sweep", "--at", &renewed_a.to_string()]);
    assert!(out.contains("card sessions ended (presence lapsed): 1"), "{out}");
    let (_, ended_a, reason_a) = session_row(&p, &token_a);
    assert!(ended_a.is_some(), "A outlived its lease");
    assert_eq!(reason_a.as_deref(), Some("presence-lapsed"));
    let (_, ended_b, _) = session_row(&p, &token_b);
    assert_eq!(ended_b, None, "B, renewed by a live agent, was ended");
    assert_eq!(b_view.get("/").status, 200, "B's cookie no longer works");
    assert_eq!(p.get("/").status, 303, "A's cookie still works");
}
