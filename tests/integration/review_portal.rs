//! Issue #24, the portal's items, each an attack on the real server on both databases:
//!
//! * item 5: sign-in forms with values no account or card page could send (a 1 MB user name, a 200-character
//!   one, control characters, `kind=evil` at length) and 100 KiB bodies on every POST route are refused
//!   (400/413) with a Japanese-first page before any I/O; the audit log records the refusal without the value;
//!   no password is hashed for them. A flood of bad sign-ins from one address adds at most one bounded entry per
//!   admitted request (the measured figure is printed and stated in docs/security.md).
//! * item 8: 20 parallel wrong-password attempts on one account: exactly the throttle's free five are checked,
//!   the count is exact, and the right password is refused while the account waits.
//! * item 12: the console's built-in client is sent back only to `[console] url`: another port, another host,
//!   the loopback defaults and plain HTTP get the authorization endpoint's error page and a denied
//!   `oidc.authorize`, never a redirect; without `[console] url`, console sign-in is refused naming the key.

use crate::harness::{Backend, Hcpki};
use crate::oidc::{PASSWORD, Portal, Reply, challenge, param, totp};
use serde_json::Value;
use std::process::{Child, Command, Stdio};

on_both_backends!(
    malformed_sign_ins_and_large_bodies_are_refused_before_any_io,
    a_flood_of_bad_sign_ins_adds_at_most_one_bounded_entry_per_admitted_request,
    parallel_guesses_are_checked_only_as_often_as_the_throttle_allows,
    console_sign_in_returns_only_to_the_configured_console_url,
);

/// Every POST route of the portal listener.
const POST_ROUTES: [&str; 14] = [
    "/login",
    "/login/card/challenge",
    "/login/card",
    "/logout/card-removed",
    "/logout",
    "/sessions/end",
    "/sessions/end-all",
    "/authorize",
    "/presence",
    "/token",
    "/par",
    "/introspect",
    "/revoke",
    "/userinfo",
];

/// Routes that answer clients and the card agent in JSON rather than with a page.
const JSON_ROUTES: [&str; 7] =
    ["/login/card/challenge", "/presence", "/token", "/par", "/introspect", "/revoke", "/userinfo"];

/// POST `body` (form-encoded, from a file: a megabyte does not fit in one argument) to `path`.
fn post_body(p: &Portal, path: &str, body: &[u8]) -> Reply {
    let file = p.h.path(&format!("body-{}.form", uuid::Uuid::new_v4().simple()));
    std::fs::write(&file, body).unwrap();
    let data = format!("@{}", file.display());
    let url = format!("{}{path}", p.issuer);
    p.curl(&["-H", "Content-Type: application/x-www-form-urlencoded", "--data-binary", &data, &url])
}

/// The password form with `username` and well-formed other fields.
fn password_form(username: &str) -> Vec<u8> {
    let mut body = b"username=".to_vec();
    body.extend(form_encode(username).bytes());
    body.extend(b"&password=wrong+password%21&totp=123456");
    body
}

fn form_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() { char::from(b).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// Japanese first, then English, on a page in Japanese.
fn assert_japanese_first(r: &Reply, ja: &str, en: &str) {
    let (j, e) = (r.body.find(ja), r.body.find(en));
    assert!(r.body.contains("<html lang=\"ja\">"), "{r:?}");
    assert!(j.is_some() && e.is_some() && j < e, "{ja:?} before {en:?}: {r:?}");
}

fn denied<'a>(entries: &'a [Value], action: &str) -> Vec<&'a Value> {
    entries.iter().filter(|e| e["action"] == action && e["outcome"] == "denied").collect()
}

/// A curl POST to `url` with `args`, started and not waited for (parallel posts are separate processes).
fn post_in_background(p: &Portal, url: &str, args: &[&str]) -> Child {
    Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert"])
        .arg(&p.chain)
        .args(["--resolve", &format!("localhost:{}:127.0.0.1", p.port)])
        .args(args)
        .arg(url)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The HTTP status a [`post_in_background`] ended with.
fn status_of(child: Child) -> u16 {
    String::from_utf8_lossy(&child.wait_with_output().unwrap().stdout).trim().parse().unwrap()
}

fn login_failures(h: &Hcpki) -> i64 {
    h.db().scalar_i64("SELECT COUNT(*) FROM portal_login_failures")
}

/// Item 5. The card form needs card login configured (its refusal comes before any challenge or cookie check).
fn malformed_sign_ins_and_large_bodies_are_refused_before_any_io(b: Backend) {
    let p = crate::portal_card::card_portal(b, "http://127.0.0.1:9");
    let megabyte = "a".repeat(1 << 20);
    let long = "b".repeat(200);
    let control = "al\u{1}ice\r\nzqxj\u{7f}";

    // A 1 MB user name: over the form cap, 413 before the form is read.
    let r = post_body(&p, "/login", &password_form(&megabyte));
    assert_eq!(r.status, 413, "{r:?}");
    assert_japanese_first(&r, "送信されたデータが大きすぎます", "The request is over 8192 bytes");
    // 200 characters and control characters: the account rule, 400 before any lookup or hashing — the login
    // page again with the rule in its problem box (issue #45 item 4), not a bare page.
    let asked_again = |r: &Reply, rule: &str| {
        assert_eq!(r.status, 400, "{r:?}");
        assert!(r.body.contains("<html lang=\"ja\">") && r.body.contains("data-problem=\"password_form\""), "{r:?}");
        assert!(r.body.contains(rule) && r.body.contains("action=\"/login\""), "{rule}: {r:?}");
    };
    for name in [long.as_str(), control] {
        asked_again(
            &post_body(&p, "/login", &password_form(name)),
            "ユーザー名は半角英数字と . _ - @ の 1〜64 文字です",
        );
    }
    // A malformed code or an over-long password are refused the same way, before argon2.
    asked_again(
        &post_body(&p, "/login", b"username=alice&password=x&totp=12345x"),
        "ワンタイムコードは 6 桁の数字です",
    );
    let r = post_body(&p, "/login", format!("username=alice&password={}&totp=123456", "p".repeat(1025)).as_bytes());
    asked_again(&r, "パスワードを入力してください(1024 バイトまで)");
    // The attempt counter did not move: no password was checked for any of them.
    assert_eq!(login_failures(&p.h), 0, "a malformed sign-in reached the throttle (and argon2)");

    // kind=evil, long: the card form refuses it before the challenge is taken.
    let evil = format!("evil{}", "e".repeat(4000));
    let card_form =
        format!("csrf=c&challenge_id=x&kind={evil}&signature=AQI%3D&chain=AwQ%3D&card_id=0123&return_to=%2F");
    let r = post_body(&p, "/login/card", card_form.as_bytes());
    assert_eq!(r.status, 400, "{r:?}");
    assert_japanese_first(&r, "カードの種類は hpki か jpki です", "kind must be hpki or jpki");
    // Not a form at all (a repeated field): a page too, not axum's plain text.
    let r = post_body(&p, "/login", b"username=alice&username=bob&password=x&totp=123456");
    assert_eq!(r.status, 400, "{r:?}");
    assert_japanese_first(&r, "フォームを読み取れません", "The form cannot be read");

    // 100 KiB to every POST route: 413, a page for browsers and JSON for clients and the agent.
    let big = format!("x={}", "y".repeat(100 * 1024));
    for route in POST_ROUTES {
        let r = post_body(&p, route, big.as_bytes());
        assert_eq!(r.status, 413, "{route}: {r:?}");
        if JSON_ROUTES.contains(&route) {
            let v: Value = serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("{route}: {r:?}"));
            assert_eq!(v["error"], "invalid_request", "{route}: {v}");
            assert!(v["error_description"].as_str().unwrap().contains("request body over"), "{route}: {v}");
        } else {
            assert_japanese_first(&r, "送信されたデータが大きすぎます", "open the page again and resend it");
        }
    }

    // A well-formed unknown name is checked (and counted): the control for "the counter did not move".
    assert_eq!(post_body(&p, "/login", &password_form("nobody")).status, 401);
    assert_eq!(login_failures(&p.h), 1);

    let entries = p.h.audit_entries();
    let logins = denied(&entries, "portal.login");
    let malformed: Vec<_> = logins.iter().filter(|e| e["detail"]["reason"] == "malformed").collect();
    let fields: Vec<_> = malformed.iter().map(|e| e["detail"]["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["username", "username", "totp", "password"], "{malformed:?}");
    assert!(malformed.iter().all(|e| e["actor"] == "portal:anonymous" && e["target"] == "-"), "{malformed:?}");
    assert!(logins.iter().any(|e| e["detail"]["reason"] == "unknown user" && e["target"] == "nobody"));
    let card = denied(&entries, "login.card");
    assert!(card.iter().any(|e| e["detail"]["reason"] == "malformed" && e["detail"]["field"] == "kind"), "{card:?}");
    let large = denied(&entries, "portal.request");
    let mut paths: Vec<_> = large.iter().map(|e| e["target"].as_str().unwrap()).collect();
    paths.sort_unstable();
    let mut expected = POST_ROUTES.to_vec();
    expected.push("/login");
    expected.sort_unstable();
    assert_eq!(paths, expected, "one portal.request per oversized body (the 1 MB name too)");
    assert!(large.iter().all(|e| e["detail"]["limit"].as_u64().unwrap() <= 16 * 1024), "{large:?}");
    assert_eq!(denied(&entries, "portal.form").len(), 1);

    // Nothing of what was sent reached the permanent log.
    let export = p.h.ok(&["audit", "export", "--format", "jsonl"]);
    for (what, value) in [
        ("the 200-character name", long.as_str()),
        ("a run of the 1 MB name", &megabyte[..100]),
        ("the evil kind", "evil"),
        ("the long kind", &evil[..100]),
        ("the 100 KiB body", &big[..100]),
        ("the control-character name", "zqxj"),
    ] {
        assert!(!export.contains(value), "{what} is in the audit export");
    }
    assert!(!export.contains("\\u0001") && !export.contains("\\u007f"), "control characters in the audit export");
    p.h.ok(&["audit", "verify"]);
}

/// Item 5, measured: a flood of bad sign-ins from one address (malformed names, unknown accounts with wrong
/// passwords, oversized bodies), 400 posts, 8 at a time, against the default `[limits] login_per_minute = 120`.
/// Asserted by count only, never by time: each admitted post adds at most one entry, the address limiter's
/// refusals none but its `ratelimit.engaged`, and no entry exceeds 1 KiB. The figures, with how long the flood
/// took, are printed (`--nocapture`) for docs/security.md.
fn a_flood_of_bad_sign_ins_adds_at_most_one_bounded_entry_per_admitted_request(b: Backend) {
    let p = Portal::start(b);
    let before = p.h.audit_entries().len();
    let export_before = p.h.ok(&["audit", "export", "--format", "jsonl"]).len();
    // Each unknown name once, so that the account throttle's 429s do not mix with the address limiter's.
    let body = |n: usize| -> String {
        match n % 4 {
            0 => String::from_utf8(password_form(&"z".repeat(200))).unwrap(),
            1 => String::from_utf8(password_form("guess\u{1}")).unwrap(),
            2 => String::from_utf8(password_form(&format!("unknown-user-{n}"))).unwrap(),
            _ => format!("username={}", "a".repeat(20_000)),
        }
    };
    let url = format!("{}/login", p.issuer);
    let started = std::time::Instant::now();
    let mut statuses: Vec<u16> = Vec::new();
    for wave in 0..50 {
        let children: Vec<_> = (0..8)
            .map(|n| {
                let form = ["-H", "Content-Type: application/x-www-form-urlencoded", "--data-binary"];
                post_in_background(&p, &url, &[&form[..], &[body(wave * 8 + n).as_str()]].concat())
            })
            .collect();
        statuses.extend(children.into_iter().map(status_of));
    }
    let elapsed = started.elapsed();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    let admitted = statuses.len() - limited;
    assert!(statuses.iter().all(|s| [400, 401, 413, 429].contains(s)), "{statuses:?}");

    let entries = p.h.audit_entries();
    let added = &entries[before..];
    let engaged = added.iter().filter(|e| e["action"] == "ratelimit.engaged").count();
    assert!(engaged <= 2, "one engagement per flood (two if a minute boundary intervened): {engaged}");
    assert!(added.len() <= admitted + engaged, "{} entries for {admitted} admitted posts", added.len());
    let export = p.h.ok(&["audit", "export", "--format", "jsonl"]);
    let new_lines: Vec<&str> = export.lines().skip(before).collect();
    let largest = new_lines.iter().map(|l| l.len()).max().unwrap_or(0);
    assert!(largest <= 1024, "an entry of {largest} bytes");
    let bytes = export.len() - export_before;
    eprintln!(
        "audit growth under a flood of {} bad sign-ins from one address in {:.1} s: {admitted} admitted, {limited} \
         refused by the address limit; {} entries ({engaged} ratelimit.engaged), {bytes} bytes exported, largest \
         entry {largest} bytes, {:.0} bytes per admitted post",
        statuses.len(),
        elapsed.as_secs_f64(),
        added.len(),
        bytes as f64 / admitted.max(1) as f64
    );
    p.h.ok(&["audit", "verify"]);
}

/// Item 8: twenty wrong-password posts for alice at once, as separate curl processes.
fn parallel_guesses_are_checked_only_as_often_as_the_throttle_allows(b: Backend) {
    let p = Portal::start(b);
    let url = format!("{}/login", p.issuer);
    let children: Vec<_> = (0..20)
        .map(|_| {
            let form = ["username=alice", "password=wrong password!", "totp=123456"];
            post_in_background(&p, &url, &form.iter().flat_map(|f| ["--data-urlencode", f]).collect::<Vec<_>>())
        })
        .collect();
    let mut statuses: Vec<u16> = children.into_iter().map(status_of).collect();
    statuses.sort_unstable();
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((checked, throttled), (5, 15), "exactly the five free attempts are checked: {statuses:?}");
    let failures = p.h.db().scalar_i64("SELECT failures FROM portal_login_failures WHERE username = 'alice'");
    assert_eq!(failures, 5, "the count is exact");

    // The right password and code now: still throttled, no session.
    let r = p.login("alice", PASSWORD, &totp(&p.totp_secret, 0), None);
    assert!(r.status == 429 && r.body.contains("秒待ってから"), "{r:?}");
    assert_eq!(p.get("/").status, 303, "no session: the home page sends to the login");

    let entries = p.h.audit_entries();
    let logins = denied(&entries, "portal.login");
    let reason = |why: &str| logins.iter().filter(|e| e["detail"]["reason"] == why).count();
    assert_eq!((reason("wrong password"), reason("throttled")), (5, 16), "{logins:?}");
    assert!(!entries.iter().any(|e| e["action"] == "portal.login" && e["outcome"] == "ok"), "a session started");
    p.h.ok(&["audit", "verify"]);
}

/// Item 12. The harness sets `[console] url = "https://127.0.0.1:<https port>"`.
fn console_sign_in_returns_only_to_the_configured_console_url(b: Backend) {
    let p = Portal::start(b);
    let port = p.served().https_port;
    let authorize = |redirect: &str| authorize_console(&p, redirect);
    let bad = [
        format!("https://127.0.0.1:{}/console/login/callback", port + 1),
        format!("https://evil.example:{port}/console/login/callback"),
        format!("https://localhost:{port}/console/login/callback"),
        format!("https://[::1]:{port}/console/login/callback"),
        format!("https://localhost:{}/console/login/callback", port + 1),
        format!("http://127.0.0.1:{port}/console/login/callback"),
        format!("https://127.0.0.1:{port}/console/login/callback?next=x"),
    ];
    for redirect in &bad {
        let r = authorize(redirect);
        assert_eq!((r.status, r.location.as_str()), (400, ""), "{redirect}: {r:?}");
        assert!(r.body.contains("redirect_uri is missing or not registered"), "{redirect}: {r:?}");
    }
    // The configured one: on to the portal's login (no session), never elsewhere.
    let exact = format!("https://127.0.0.1:{port}/console/login/callback");
    let r = authorize(&exact);
    assert!(r.status == 303 && r.location.starts_with(&format!("{}/login?", p.issuer)), "{r:?}");
    // The console's own start names exactly that redirect URI, whatever Host the browser used.
    let start = p.curl(&[
        "--resolve",
        &format!("localhost:{port}:127.0.0.1"),
        &format!("https://localhost:{port}/console/login"),
    ]);
    assert_eq!(start.status, 303, "{start:?}");
    assert_eq!(param(&start.location, "redirect_uri").as_deref(), Some(exact.as_str()), "{start:?}");

    let entries = p.h.audit_entries();
    let refused: Vec<_> =
        denied(&entries, "oidc.authorize").into_iter().filter(|e| e["target"] == "hcpki-console").collect();
    assert_eq!(refused.len(), bad.len(), "{refused:?}");
    p.h.ok(&["audit", "verify"]);
    drop(p);

    // Without [console] url: the portal refuses the console's requests naming the key, and so does the console.
    let p = Portal::start_with(b, "[console]\n", |_| ());
    let port = p.served().https_port;
    let r = authorize_console(&p, &format!("https://127.0.0.1:{port}/console/login/callback"));
    assert!(r.status == 400 && r.location.is_empty() && r.body.contains("set [console] url"), "{r:?}");
    let console = p.curl(&[&format!("https://127.0.0.1:{port}/console/login")]);
    assert!(console.status == 404 && console.body.contains("[console] url"), "{console:?}");
    let entries = p.h.audit_entries();
    assert!(
        denied(&entries, "oidc.authorize")
            .iter()
            .any(|e| e["detail"]["reason"].as_str().unwrap().contains("[console] url"))
    );
    p.h.ok(&["audit", "verify"]);

    // A URL with a path is a configuration error naming the key.
    let h = Hcpki::initialized(b);
    let mut cfg = std::fs::read_to_string(h.dir().join("hcpki.toml")).unwrap();
    cfg.push_str("\n[console]\nurl = \"https://ca.example.jp:8443/console\"\n");
    std::fs::write(h.dir().join("hcpki.toml"), cfg).unwrap();
    let err = h.fails(&["audit", "verify"]);
    assert!(err.contains("[console] url") && err.contains("https://host[:port]"), "{err}");
}

fn authorize_console(p: &Portal, redirect: &str) -> Reply {
    p.get(&format!(
        "/authorize?response_type=code&client_id=hcpki-console&scope=openid&state=s&code_challenge={}\
         &code_challenge_method=S256&redirect_uri={}",
        challenge(&"v".repeat(60)),
        form_encode(redirect)
    ))
}
