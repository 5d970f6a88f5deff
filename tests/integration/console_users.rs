//! The console's help desk (`/console/users`, `GET /api/v1/users`, issue #8) and a facility's SSO session
//! lifetime form, on a real server with the portal: people sign in with password + TOTP from separate cookie
//! jars, an operator finds them, ends a person's sessions (their client gets a back-channel logout token, as
//! on the person's own "log out everywhere") and clears an account's throttle. Facility admins, forged CSRF
//! tokens and oversize or malformed searches are refused, change nothing and are audited.

use crate::admin::{Api, issued, operator};
use crate::backchannel::{logout_receiver, received_logout_token};
use crate::console::{Console, csrf_of, form};
use crate::harness::{Backend, Hcpki};
use crate::oidc::{PASSWORD, Portal, Rp, totp};
use crate::portal_self_service::refresh_token;
use crate::portal_sessions::add_backchannel_client;
use crate::serve::Served;
use serde_json::json;
use std::net::TcpListener;

on_both_backends!(help_desk_finds_users_ends_sessions_and_clears_lockouts, session_lifetime_form_on_the_facility_page,);

fn help_desk_finds_users_ends_sessions_and_clears_lockouts(b: Backend) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let bcl = format!("http://127.0.0.1:{}/bcl", listener.local_addr().unwrap().port());
    let mut who = None;
    let p = Portal::start_with(b, "", |h| {
        add_backchannel_client(h, "bc1", &bcl);
        let f = h.approved_facility("Help desk clinic");
        who = Some((operator(h, "ops", "operator"), operator(h, "aud", "auditor"), issued(h, "pc", &f, &[])));
    });
    let (ops, aud, admin) = who.unwrap();
    let (h, server) = (&*p.h, p.served());
    let c = Console::new(h, server);
    let api = Api::new(h, server);
    let rp = Rp::load(&p);

    // alice signs in from two browsers, one of them with a grant of bc1; bob fails five times and is throttled.
    let (first, second) = (p.other_browser("jar-first"), p.other_browser("jar-second"));
    assert_eq!(first.login("alice", PASSWORD, &totp(&p.totp_secret, -1), None).status, 303);
    assert_eq!(second.login("alice", PASSWORD, &totp(&p.totp_secret, 0), None).status, 303);
    let _refresh = refresh_token(&second, &rp, "bc1");
    let password = h.path("password");
    let out =
        h.ok(&["portal", "user", "add", "bob", "--name", "Bob Night", "--password-file", password.to_str().unwrap()]);
    let bob_secret = out.lines().find_map(|l| l.strip_prefix("secret: ")).unwrap().to_owned();
    let bob = p.other_browser("jar-bob");
    for _ in 0..5 {
        assert_eq!(bob.login("bob", "wrong password", "000000", None).status, 401);
    }
    assert_eq!(bob.login("bob", PASSWORD, &totp(&bob_secret, 0), None).status, 429, "bob is throttled");

    // Search: by display name, account and person key; the page shows sessions, sign-ins and the throttle.
    let page = c.get("/console/users?q=Alice&lang=en", &ops);
    assert_eq!(page.status, 200, "{page:?}");
    for shown in ["pwd:alice", "Alice Staff", "password-totp", "End all sessions", "Not locked"] {
        assert!(page.text.contains(shown), "{shown}: {page:?}");
    }
    assert_eq!(page.text.matches("/console/facilities/").count(), 0, "no facility on these logins: {page:?}");
    let sessions_table =
        page.text.split("Live SSO sessions</caption>").nth(1).unwrap().split("</table>").next().unwrap();
    assert_eq!(sessions_table.matches("<tr>").count(), 3, "a header and two sessions: {page:?}");
    let page_bob = c.get("/console/users?q=pwd:bob&lang=en", &ops);
    assert!(page_bob.text.contains("Bob Night") && page_bob.text.contains("Failures: 5"), "{page_bob:?}");
    assert!(page_bob.text.contains("wrong password") && page_bob.text.contains("Clear the lockout"), "{page_bob:?}");
    assert!(!page_bob.text.contains("Alice"), "{page_bob:?}");
    assert!(c.get("/console/users?q=zzz-nobody&lang=en", &ops).text.contains("Nothing found."));
    let ja = c.get("/console/users?q=alice", &ops);
    assert!(ja.text.contains("利用者検索") && ja.text.contains("すべてのセッションを終了"), "{ja:?}");
    let audited = c.get("/console/users?q=alice&lang=en", &aud);
    assert!(audited.status == 200 && audited.text.contains("pwd:alice"), "auditors may look: {audited:?}");
    assert!(!audited.text.contains("End all sessions"), "but not act: {audited:?}");
    let found = api.get("/api/v1/users?q=bob", &ops);
    assert_eq!(found.status, 200, "{found:?}");
    assert_eq!(found.json["users"][0]["account"], "bob", "{found:?}");
    assert_eq!(found.json["users"][0]["lockout"]["failures"], 5, "{found:?}");
    // The help desk's list of accounts still to set up a second factor (D166): bob never signed in, alice did.
    let not_ready = api.get("/api/v1/users/not-ready", &aud);
    assert_eq!(not_ready.status, 200, "{not_ready:?}");
    let accounts: Vec<&str> =
        not_ready.json["accounts"].as_array().unwrap().iter().filter_map(|a| a["account"].as_str()).collect();
    assert!(accounts.contains(&"bob") && !accounts.contains(&"alice"), "{not_ready:?}");
    assert_eq!(api.get("/api/v1/users/not-ready", &admin).status, 403, "a facility PC is not the help desk");
    let listed = c.get("/console/users", &ops);
    let section = listed.text.split("id=\"not-ready\"").nth(1).unwrap_or_else(|| panic!("{listed:?}"));
    assert!(section.contains("二要素認証が未設定") && section.contains("Bob Night"), "{listed:?}");
    assert!(!section.contains("Alice Staff"), "{listed:?}");

    // Bad searches: oversize, control characters, a repeated parameter, empty and unknown parameters (API).
    let long = "x".repeat(101);
    // Each said on the search form in the operator's words, the text kept and focused (issue #45 item 1); the
    // audit keeps the rule's own words.
    let r = c.get(&format!("/console/users?q={long}&lang=en"), &ops);
    assert!(r.status == 400 && r.text.contains("at most 100 characters"), "{r:?}");
    assert!(r.text.contains(&format!("value=\"{long}\"")) && r.text.contains("autofocus"), "{r:?}");
    let r = c.get("/console/users?q=a%01b", &ops);
    assert!(r.status == 400 && r.text.contains("制御文字は使えません"), "{r:?}");
    let r = c.get("/console/users?q=a&q=b", &ops);
    assert!(r.status == 400 && r.text.contains("検索語は 100 文字以内") && r.text.contains("role=\"search\""), "{r:?}");
    let trail = h.ok(&["audit", "list", "--limit", "500"]);
    for says in ["longer than 100 characters", "control characters", "search with the form"] {
        assert!(trail.lines().any(|l| l.contains("\"denied\"") && l.contains(says)), "audited: {says}");
    }
    let r = api.get("/api/v1/users?q=", &ops);
    assert!(r.status == 400 && r.text.contains("q is empty"), "{r:?}");
    let r = api.get("/api/v1/users?q=a&x=1", &ops);
    assert_eq!(r.status, 400, "{r:?}");

    // Facility admins are refused, by page, form and API; a forged CSRF token and a foreign Origin end nothing.
    assert_eq!(c.get("/console/users?q=alice", &admin).status, 403);
    // (A bare PC certificate is served no form of its facility, issue #24 item 7: the application form's token.)
    let home = c.get("/console/apply", &admin);
    let r = c.submit("/console/users/end-sessions", &[("person", "pwd:alice")], &home, &admin);
    assert_eq!(r.status, 403, "{r:?}");
    let r = c.submit("/console/users/clear-lockout", &[("account", "bob")], &home, &admin);
    assert_eq!(r.status, 403, "{r:?}");
    assert_eq!(api.get("/api/v1/users?q=alice", &admin).status, 403);
    assert_eq!(api.post("/api/v1/users/end-sessions", &json!({ "person": "pwd:alice" }), &admin).status, 403);
    let forged = form(&[("csrf", "forged"), ("person", "pwd:alice")]);
    let r = c.post_raw("/console/users/end-sessions", &forged, &ops, &["-H", &c_origin(server)]);
    assert_eq!(r.status, 403, "{r:?}");
    let good = form(&[("csrf", &csrf_of(&page_bob)), ("person", "pwd:alice")]);
    let r = c.post_raw("/console/users/end-sessions", &good, &ops, &["-H", "Origin: https://evil.example"]);
    assert_eq!(r.status, 403, "{r:?}");
    let r = c.submit("/console/users/end-sessions", &[("person", "pwd:alice")], &page_bob, &aud);
    assert_eq!(r.status, 403, "an auditor's (and another certificate's token): {r:?}");
    assert_eq!(first.get("/").status, 200, "a refusal ended a session");
    assert_eq!(second.get("/").status, 200);

    // The button on alice's page leads to a confirmation that names her and what ends, and ends nothing yet
    // (issue #45 item 2).
    assert!(page.text.contains("/console/users/end-sessions/confirm?person=pwd%3Aalice"), "{page:?}");
    let confirm = c.get("/console/users/end-sessions/confirm?person=pwd%3Aalice&lang=en", &ops);
    assert_eq!(confirm.status, 200, "{confirm:?}");
    for shown in ["Alice Staff", "pwd:alice", "cannot be undone", "End the sessions", "Back without ending anything"] {
        assert!(confirm.text.contains(shown), "{shown}: {confirm:?}");
    }
    assert_eq!(confirm.text.matches("<tr>").count(), 3, "her two sessions listed: {confirm:?}");
    assert_eq!(first.get("/").status, 200, "the confirmation ended a session");
    assert_eq!(c.get("/console/users/end-sessions/confirm?person=pwd%3Anobody", &ops).status, 404);
    assert_eq!(c.get("/console/users/end-sessions/confirm?person=pwd%3Aalice", &aud).status, 403);
    // A form over the console's limit: the themed 413 page in Japanese, audited, nothing ended (issue #45 item 6).
    let huge = form(&[("csrf", &csrf_of(&confirm)), ("person", &"x".repeat(9000))]);
    let r = c.post_raw("/console/users/end-sessions", &huge, &ops, &["-H", &c_origin(server)]);
    assert!(r.status == 413 && r.text.contains("送信された内容が大きすぎます"), "{r:?}");
    assert!(r.text.contains("何も変更していません") && r.text.contains("href=\"/console/\""), "{r:?}");
    assert!(r.headers.to_ascii_lowercase().contains("content-security-policy: default-src 'none'"), "{r:?}");
    assert_eq!(first.get("/").status, 200, "the oversize form ended a session");
    // A handler's panic (a test-only route): the themed 500 page, nothing of the panic, the console's headers.
    for (lang, words) in [("ja", "サーバーの内部エラーです"), ("en", "Internal server error")] {
        let r = c.get(&format!("/console/test-hooks/panic?lang={lang}"), &ops);
        assert!(r.status == 500 && r.text.contains(words) && !r.text.contains("DEADBEEF"), "{r:?}");
        assert!(r.headers.to_ascii_lowercase().contains("x-frame-options: deny"), "{r:?}");
    }
    let r = first.get("/test-hooks/panic");
    assert!(r.status == 500 && r.body.contains("サーバーの内部エラーです") && !r.body.contains("DEADBEEF"), "{r:?}");
    assert!(r.body.contains("href=\"/\""), "the portal's 500 page has a way home: {r:?}");
    assert_eq!(first.get("/").status, 200, "the portal still answers after a panic");

    // The operator confirms: both sessions end, bc1 gets its logout token, the browsers see the login page; the
    // console goes back to her page with the notice (a kind in the redirect, never text from the query).
    let receiver = logout_receiver(listener);
    let r = c.submit("/console/users/end-sessions", &[("person", "pwd:alice")], &confirm, &ops);
    assert_eq!(r.status, 303, "{r:?}");
    assert!(r.headers.contains("/console/users?q=pwd%3Aalice&done=sessions-ended"), "{r:?}");
    let done = c.get("/console/users?q=pwd%3Aalice&done=sessions-ended", &ops);
    assert!(done.text.contains("セッションをすべて終了しました"), "{done:?}");
    let forged = c.get("/console/users?q=pwd%3Aalice&done=%3Cb%3Eyou+won%3C%2Fb%3E", &ops);
    assert!(!forged.text.contains("id=\"done\""), "an unknown notice kind shows nothing: {forged:?}");
    received_logout_token(&p, &receiver.join().unwrap(), "bc1", "ES256");
    for view in [&first, &second] {
        let home = view.get("/");
        // The login page names who ended it (issue #26).
        let ended = home.location.ends_with("/login?problem=ended_by_admin");
        assert!(home.status == 303 && ended, "a session survived: {home:?}");
    }
    let after = c.get("/console/users?q=alice&lang=en", &ops);
    assert!(!after.text.contains("End all sessions"), "no live session left: {after:?}");

    // The operator clears bob's throttle (console), then again by API (nothing left); bob signs in.
    let r = c.submit("/console/users/clear-lockout", &[("account", "bob")], &page_bob, &ops);
    assert!(r.status == 200 && r.text.contains("試行制限を解除しました"), "{r:?}");
    let r = api.post("/api/v1/users/clear-lockout", &json!({ "account": "bob" }), &ops);
    assert_eq!((r.status, &r.json["cleared"]), (200, &json!(false)), "{r:?}");
    assert!(api.get("/api/v1/users?q=bob", &ops).json["users"][0]["lockout"].is_null());
    assert_eq!(bob.login("bob", PASSWORD, &totp(&bob_secret, 0), None).status, 303);
    let r = api.post("/api/v1/users/end-sessions", &json!({ "person": "pwd:bob" }), &ops);
    assert_eq!((r.status, &r.json["sessions_ended"]), (200, &json!(1)), "{r:?}");
    assert_eq!(bob.get("/").status, 303, "bob's session ended by the API");
    let r = api.post("/api/v1/users/end-sessions", &json!({ "person": "" }), &ops);
    assert!(r.status == 400 && r.text.contains("person is empty"), "{r:?}");

    let audit = h.ok(&["audit", "list", "--limit", "2000"]);
    let lines = |needle: &str| audit.lines().filter(|l| l.contains(needle)).count();
    assert!(audit.contains("ended-by-operator") && audit.contains("operator:ops"), "{audit}");
    assert_eq!(lines("\"portal.user.clear_lockout\""), 1, "{audit}");
    assert!(lines("admin.user.end_sessions") >= 4, "refusals audited\n{audit}");
    assert!(lines("admin.user.search") >= 5, "refused searches audited\n{audit}");
    assert!(lines("console.csrf") >= 2, "{audit}");
    h.ok(&["audit", "verify"]);
}

/// An operator sets, changes and clears a facility's SSO session lifetime from its page; bad values are
/// refused with what to do; auditors see it but get no form; the facility's admin sees nothing and is refused.
fn session_lifetime_form_on_the_facility_page(b: Backend) {
    let h = Hcpki::initialized(b);
    let ops = operator(&h, "ops", "operator");
    let aud = operator(&h, "aud", "auditor");
    let f = h.approved_facility("Night clinic");
    let admin = issued(&h, "pc", &f, &[]);
    let server = Served::start(&h, &[]);
    let c = Console::new(&h, &server);
    let path = format!("/console/facilities/{f}");
    let action = format!("{path}/session-lifetime");

    let page = c.get(&format!("{path}?lang=en"), &ops);
    assert!(page.text.contains("id=\"session-lifetime\">the default ([portal] session_hours)<"), "{page:?}");
    let r = c.submit(&action, &[("op", "set"), ("hours", "10")], &page, &ops);
    assert_eq!(r.status, 303, "{r:?}");
    let page = c.get(&format!("{path}?lang=en"), &ops);
    assert!(page.text.contains("id=\"session-lifetime\">10 Hours<"), "{page:?}");
    assert!(h.ok(&["portal", "lifetime", "list"]).contains("10 h"));

    // Refused on the form again, in the admin's words, with what was typed kept (issue #45 item 1).
    let range = "1〜168 の整数";
    for (hours, says) in [("500", range), ("0", range), ("ten", range), ("", "時間数を入力してください")] {
        let r = c.submit(&action, &[("op", "set"), ("hours", hours)], &page, &ops);
        assert!(r.status == 400 && r.text.contains(says) && r.text.contains("role=\"alert\""), "{hours:?}: {r:?}");
        assert!(r.text.contains(&format!("id=\"hours\" name=\"hours\" value=\"{hours}\"")), "kept: {r:?}");
    }
    // Full-width digits from an IME are the same hours.
    let r = c.submit(&action, &[("op", "set"), ("hours", "１２")], &page, &ops);
    assert_eq!(r.status, 303, "{r:?}");
    assert!(h.ok(&["portal", "lifetime", "list"]).contains("12 h"));
    let r = c.submit(&action, &[("op", "set"), ("hours", "10")], &page, &ops);
    assert_eq!(r.status, 303, "{r:?}");
    let r = c.submit(&action, &[("op", "drop")], &page, &ops);
    assert!(r.status == 400 && r.text.contains("このページにはない操作"), "{r:?}");
    // A stale or forged token: refused and audited, and the form offered again with what was typed and a fresh
    // token (issue #45 item 1: a page left open loses nothing); sending it again does it.
    let r = c.post_raw(
        &action,
        &form(&[("csrf", "forged"), ("op", "set"), ("hours", "9")]),
        &ops,
        &["-H", &c_origin(&server)],
    );
    assert_eq!(r.status, 403, "{r:?}");
    assert!(r.text.contains("有効期限が切れていた") && r.text.contains("name=\"hours\" value=\"9\""), "{r:?}");
    assert!(h.ok(&["portal", "lifetime", "list"]).contains("10 h"), "nothing changed yet");
    let again = c.submit(&action, &[("op", "set"), ("hours", "9")], &r, &ops);
    assert_eq!(again.status, 303, "{again:?}");
    assert!(h.ok(&["portal", "lifetime", "list"]).contains("9 h"));
    let r = c.submit(&action, &[("op", "set"), ("hours", "10")], &page, &ops);
    assert_eq!(r.status, 303, "{r:?}");

    let seen = c.get(&format!("{path}?lang=en"), &aud);
    assert!(seen.text.contains("10 Hours") && !seen.text.contains("session-lifetime\" method"), "{seen:?}");
    assert!(!seen.text.contains(&format!("action=\"{action}\"")), "no form for auditors: {seen:?}");
    // The auditor's pages have no form of their own: a token of the application form, bound to its certificate.
    let r = c.submit(&action, &[("op", "clear")], &c.get("/console/apply", &aud), &aud);
    assert_eq!(r.status, 403, "{r:?}");
    // (A bare PC certificate is served no form of its facility, issue #24 item 7: the application form's token.)
    let home = c.get("/console/apply", &admin);
    assert!(!home.text.contains("SSO") && !home.text.contains(&action), "{home:?}");
    let r = c.submit(&action, &[("op", "set"), ("hours", "x")], &home, &admin);
    assert_eq!(r.status, 403, "the facility admin is refused before the value is read: {r:?}");
    assert!(h.ok(&["portal", "lifetime", "list"]).contains("10 h"), "refusals changed nothing");

    let r = c.submit(&action, &[("op", "clear"), ("hours", "10")], &page, &ops);
    assert_eq!(r.status, 303, "{r:?}");
    assert!(!h.ok(&["portal", "lifetime", "list"]).contains(&f));
    let audit = h.ok(&["audit", "list", "--limit", "1000"]);
    assert_eq!(audit.lines().filter(|l| l.contains("portal.session_lifetime")).count(), 6, "{audit}");
    assert!(audit.lines().filter(|l| l.contains("admin.facility.session_lifetime")).count() >= 7, "{audit}");
    h.ok(&["audit", "verify"]);
    server.stop();
}

fn c_origin(server: &Served) -> String {
    format!("Origin: https://127.0.0.1:{}", server.https_port)
}
