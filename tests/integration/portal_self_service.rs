//! Physician self-service in the portal (issue #8): the signed-in person's own SSO sessions on `/sessions`,
//! ending one of them and "log out everywhere", through the real server with password + TOTP logins from
//! separate cookie jars (browsers). Back-channel logout is observed on real listeners, refresh tokens at
//! the token endpoint; another person's handle, a forged CSRF token and a foreign Origin change nothing.

use crate::backchannel::{logout_receiver, received_logout_token};
use crate::harness::Backend;
use crate::oidc::{PASSWORD, Portal, REDIRECT, Rp, param, totp};
use crate::portal_sessions::{VERIFIER, add_backchannel_client, authorize};
use std::net::TcpListener;

on_both_backends!(a_person_sees_and_ends_their_own_sessions);

/// alice signs in from two browsers; each lists both sessions (this one marked, the services holding grants
/// named, no cookie, id hash or sid shown). From the first she ends the second: its cookie leads to the
/// login page, its refresh token is refused, its client gets a logout token. bob, with alice's handle, a
/// forged CSRF token and a foreign Origin end nothing. "Log out everywhere" ends both of alice's sessions
/// and each client gets its logout token; the audit chain verifies.
fn a_person_sees_and_ends_their_own_sessions(b: Backend) {
    let (one, two) = (TcpListener::bind("127.0.0.1:0").unwrap(), TcpListener::bind("127.0.0.1:0").unwrap());
    let uri = |l: &TcpListener| format!("http://127.0.0.1:{}/bcl", l.local_addr().unwrap().port());
    let (uri_one, uri_two) = (uri(&one), uri(&two));
    let p = Portal::start_with(b, "", |h| {
        add_backchannel_client(h, "bc1", &uri_one);
        add_backchannel_client(h, "bc2", &uri_two);
    });
    let rp = Rp::load(&p);
    let first = p.other_browser("jar-first");
    let second = p.other_browser("jar-second");
    assert_eq!(first.login("alice", PASSWORD, &totp(&p.totp_secret, -1), None).status, 303);
    assert_eq!(second.login("alice", PASSWORD, &totp(&p.totp_secret, 0), None).status, 303);
    let refresh_second = refresh_token(&second, &rp, "bc1");
    assert!(first.get("/").body.contains("href=\"/sessions\""), "the home page links the sessions page");

    let page_first = Listing::of(&first);
    let page_second = Listing::of(&second);
    assert_eq!(page_first.rows.len(), 2, "{}", page_first.body);
    let mut handles_first: Vec<_> = page_first.rows.iter().map(|r| r.0.clone()).collect();
    let mut handles_second: Vec<_> = page_second.rows.iter().map(|r| r.0.clone()).collect();
    handles_first.sort();
    handles_second.sort();
    assert_eq!(handles_first, handles_second, "both browsers list the same two sessions");
    assert_ne!(page_first.mine(true), page_second.mine(true), "each browser marks its own session");
    assert!(page_first.body.contains("Staff wiki (bc1)"), "the service holding a grant\n{}", page_first.body);
    assert!(page_first.body.contains("パスワードとワンタイムコード(カードなし)"), "{}", page_first.body);
    for secret in [cookie(&p, "jar-first"), cookie(&p, "jar-second")] {
        let id_hash = hex::encode(sha256(secret.as_bytes()));
        for shown in [&page_first.body, &page_second.body] {
            assert!(!shown.contains(&secret) && !shown.contains(&id_hash), "a session identifier on the page");
        }
    }

    // The first browser ends the second's session.
    let receiver = logout_receiver(one.try_clone().unwrap());
    let r = first.submit("/sessions/end", &[("csrf", &page_first.csrf), ("session", &page_first.mine(false))], None);
    assert!(r.status == 303 && r.location.ends_with("/sessions"), "{r:?}");
    received_logout_token(&p, &receiver.join().unwrap(), "bc1", "ES256");
    let home = second.get("/");
    assert!(home.status == 303 && home.location.ends_with("/login"), "the ended session's cookie: {home:?}");
    // This portal has no card CA under `[login]`: the login page says where the card button would be that card
    // sign-in is off, why, and what to do (issue #45 item 8), in the warning colour; no card script.
    let login = second.get("/login");
    assert!(login.body.contains("<div class=\"notice warn\" id=\"card-off\">"), "{}", login.body);
    assert!(
        login.body.contains("まだカードでログインできません") && login.body.contains("運用担当者"),
        "{}",
        login.body
    );
    assert!(!login.body.contains("id=\"card-login\"") && !login.body.contains("card-login.js"), "{}", login.body);
    let again = p.token(
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh_second)],
        &rp.assertion_as(&p, "bc1", 60, None),
    );
    assert_eq!(again["error"], "invalid_grant", "the ended session's refresh token: {again}");
    let left = Listing::of(&first);
    assert_eq!(left.rows.len(), 1, "{}", left.body);
    assert_eq!(left.mine(true), page_first.mine(true), "the first browser's session lives on");

    // bob cannot end alice's session, even with her handle; forged tokens and foreign origins are refused.
    let password = p.h.path("password");
    let out =
        p.h.ok(&["portal", "user", "add", "bob", "--name", "Bob Staff", "--password-file", password.to_str().unwrap()]);
    let bob_secret = out.lines().find_map(|l| l.strip_prefix("secret: ")).unwrap().to_owned();
    let bob = p.other_browser("jar-bob");
    assert_eq!(bob.login("bob", PASSWORD, &totp(&bob_secret, 0), None).status, 303);
    let bobs = Listing::of(&bob);
    assert_eq!(bobs.rows.len(), 1, "bob sees only his own session\n{}", bobs.body);
    assert!(!bobs.body.contains(&left.mine(true)), "alice's handle on bob's page");
    let r = bob.submit("/sessions/end", &[("csrf", &bobs.csrf), ("session", &left.mine(true))], None);
    assert_eq!(r.status, 404, "bob ended alice's session: {r:?}");
    let r = first.submit("/sessions/end-all", &[("csrf", "forged")], None);
    assert_eq!(r.status, 403, "a forged CSRF token: {r:?}");
    let r = first.submit("/sessions/end-all", &[("csrf", &left.csrf)], Some("https://evil.example"));
    assert_eq!(r.status, 403, "a foreign Origin: {r:?}");
    let r = first.submit("/sessions/end", &[("session", &left.mine(true))], None);
    assert_eq!(r.status, 403, "no CSRF token: {r:?}");
    assert_eq!(Listing::of(&first).rows.len(), 1, "a refused request changed something");
    assert_eq!(Listing::of(&bob).rows.len(), 1);

    // Log out everywhere: both of alice's sessions end, each client hears of it, bob's session stays.
    assert_eq!(second.login("alice", PASSWORD, &totp(&p.totp_secret, 1), None).status, 303);
    let refresh_first = refresh_token(&first, &rp, "bc1");
    let refresh_second = refresh_token(&second, &rp, "bc2");
    let (receive_one, receive_two) = (logout_receiver(one), logout_receiver(two));
    let csrf = Listing::of(&first).csrf;
    let r = first.submit("/sessions/end-all", &[("csrf", &csrf)], None);
    assert!(r.status == 303 && r.location.ends_with("/login"), "log out everywhere shows the login page: {r:?}");
    let one = received_logout_token(&p, &receive_one.join().unwrap(), "bc1", "ES256");
    let two = received_logout_token(&p, &receive_two.join().unwrap(), "bc2", "ES256");
    assert_ne!(one["sid"], two["sid"], "one logout per session");
    assert_ne!(one["jti"], two["jti"], "two logout tokens with one jti");
    for (view, refresh, client) in [(&first, &refresh_first, "bc1"), (&second, &refresh_second, "bc2")] {
        let home = view.get("/");
        assert!(home.status == 303 && home.location.ends_with("/login"), "a session survived: {home:?}");
        let again = p.token(
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
            &rp.assertion_as(&p, client, 60, None),
        );
        assert_eq!(again["error"], "invalid_grant", "{again}");
    }
    assert_eq!(bob.get("/").status, 200, "another person's session ended");

    let audit = p.h.ok(&["audit", "list", "--limit", "1000"]);
    assert!(audit.contains("ended-by-user") && audit.contains(r#"\"scope\":\"all\""#), "{audit}");
    assert!(audit.contains(r#"\"sessions_ended\":2"#), "{audit}");
    assert!(audit.contains("no live session of this person has that handle"), "bob's attempt\n{audit}");
    assert!(audit.contains("\"portal.csrf\""), "{audit}");
    p.h.ok(&["audit", "verify"]);
}

/// A browser's `/sessions` page: the CSRF token of its forms and each row's (handle, this session?).
struct Listing {
    body: String,
    csrf: String,
    rows: Vec<(String, bool)>,
}

impl Listing {
    fn of(view: &Portal) -> Self {
        let r = view.get("/sessions");
        assert_eq!(r.status, 200, "{r:?}");
        let csrf = r.body.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let rows = r
            .body
            .split("<tr data-session=\"")
            .skip(1)
            .map(|row| {
                let (handle, rest) = row.split_once('"').unwrap();
                (handle.to_owned(), rest.starts_with(" data-current"))
            })
            .collect();
        Self { body: r.body, csrf, rows }
    }

    /// The handle of this browser's own session (`true`) or of the one other session (`false`).
    fn mine(&self, current: bool) -> String {
        let found: Vec<_> = self.rows.iter().filter(|r| r.1 == current).collect();
        assert_eq!(found.len(), 1, "{}", self.body);
        found[0].0.clone()
    }
}

/// The code flow of `client` in `view`'s session: its refresh token.
pub(crate) fn refresh_token(view: &Portal, rp: &Rp, client: &str) -> String {
    let code = param(&view.get(&authorize(client)).location, "code").unwrap();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let t = view.token(&form, &rp.assertion_as(view, client, 60, None));
    t["refresh_token"].as_str().unwrap_or_else(|| panic!("{t}")).to_owned()
}

/// The session cookie's value in the cookie jar `jar`.
fn cookie(p: &Portal, jar: &str) -> String {
    let text = std::fs::read_to_string(p.h.path(jar)).unwrap();
    text.lines().find_map(|l| l.split("__Host-hcpki-session\t").nth(1)).unwrap().trim().to_owned()
}

fn sha256(data: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    sha2::Sha256::digest(data).to_vec()
}
