//! The portal's TLS listener as the facility PC's browser meets it (issue #6, "facility context by mutual
//! TLS"), seen through OpenSSL's `s_client` and curl: its CertificateRequest names the facility PC CA and no
//! other, so a browser offers only facility certificates; a PC certificate revoked or put on hold with
//! `hcpki revoke` is refused on its next connection with a page that says so (not a TLS alert); and a resumed
//! TLS session is never taken as a login (issue #6: "a resumed TLS session is never taken as a fresh login"):
//! without the session cookie it gets the login page and `login_required`, while it keeps the facility of
//! the certificate it was made with only until that certificate is revoked.

use crate::harness::{Backend, Hcpki, describe};
use crate::oidc::{PASSWORD, Portal, enc, issue_pc, param, totp};
use crate::portal_sessions::authorize;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

on_both_backends!(
    the_certificate_request_names_only_the_pc_ca,
    revoked_or_held_pc_certificates_get_a_refusal_page,
    a_resumed_tls_session_is_never_a_fresh_login,
);

/// `s_client` on the portal lists exactly the PC CA under "Acceptable client certificate CA names"; on the
/// main listener, which takes router, PC and operator certificates, it lists three (so the check can fail).
fn the_certificate_request_names_only_the_pc_ca(b: Backend) {
    let p = Portal::start_with(b, "", |_| ());
    let subject = |ca: &str| {
        let file = p.h.ca_cert_file(ca);
        let out = Command::new("openssl")
            .args(["x509", "-noout", "-subject", "-nameopt", "RFC2253", "-in"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", describe(&out));
        String::from_utf8(out.stdout).unwrap().trim().trim_start_matches("subject=").to_owned()
    };
    let portal = acceptable_ca_names(&p.h, p.port);
    assert_eq!(portal, [subject("pc")], "the portal must request PC certificates only");
    let main = acceptable_ca_names(&p.h, p.served().https_port);
    for ca in ["router", "pc", "server"] {
        assert!(main.contains(&subject(ca)), "the main listener names {main:?}, not the {ca} CA");
    }
    assert_eq!(main.len(), 3, "{main:?}");
}

/// A PC certificate revoked (keyCompromise) and another put on hold, both with `hcpki revoke` while the server
/// runs: the next connection with each completes its handshake and gets a 403 page naming the revocation
/// (its date and reason) or the hold; the login post from there is refused and audited.
fn revoked_or_held_pc_certificates_get_a_refusal_page(b: Backend) {
    let p = Portal::start_with(b, "", |_| ());
    for (name, reason, says) in
        [("Clinic R", "keyCompromise", "revoked on"), ("Clinic H", "certificateHold", "on hold")]
    {
        let (facility, cert, key) = issue_pc(&p.h, name);
        let pc = p.with_client_cert(cert, key).other_browser(&format!("jar-{reason}"));
        let page = pc.get("/login");
        assert!(page.status == 200 && page.body.contains(&facility), "before {reason}: {page:?}");
        let serial = serial_of(&p.h, &facility);
        p.h.ok(&["revoke", "--serial", &serial, "--reason", reason]);
        // curl is a new process: a new TLS connection, a full handshake with the certificate.
        let page = pc.get("/login");
        assert_eq!(page.status, 403, "{reason}: {page:?}");
        assert!(page.body.contains(&serial) && page.body.contains(says) && page.body.contains(reason), "{page:?}");
        let r = pc.login("alice", PASSWORD, &totp(&p.totp_secret, 0), None);
        assert!(r.status == 403 && r.body.contains(says), "{reason}: the login post: {r:?}");
    }
    let audit = p.h.ok(&["audit", "list", "--limit", "1000"]);
    let refused = audit.lines().filter(|l| l.contains("\"portal.login\"") && l.contains("\"denied\"")).count();
    assert_eq!(refused, 2, "{audit}");
    assert!(audit.contains("reason: keyCompromise") && audit.contains("on hold"), "{audit}");
}

/// Browser A logs in over `s_client` and keeps its TLS session; connections resuming it (OpenSSL says
/// `Reused`) without the session cookie get no session: the home page sends them to the login page and
/// `prompt=none` answers `login_required`, never a code, while the same resumed connection with the cookie
/// gets a code (the cookie is the login, not the TLS session). With the PC certificate, a resumed session
/// (no certificate sent again) still carries the facility, until the certificate is revoked: the next
/// resumed connection gets the refusal page.
fn a_resumed_tls_session_is_never_a_fresh_login(b: Backend) {
    let p = Portal::start_with(b, "", |_| ());
    let tls = Tls { p: &p, cert: None };
    let form = format!("username=alice&password={}&totp={}", enc(PASSWORD), totp(&p.totp_secret, 0));
    let login = tls.request("POST", "/login", &[("Content-Type", "application/x-www-form-urlencoded")], &form, None);
    assert!(!login.reused && login.status == 303, "{login:?}");
    // The session cookie and the browser cookie it is bound to (D161), as a browser sends them back.
    let cookie = login.cookies().join("; ");
    assert!(cookie.starts_with("__Host-hcpki-session=") && cookie.contains("; __Host-hcpki-browser="), "{login:?}");

    let none = format!("{}&prompt=none", authorize("rp1"));
    let home = tls.request("GET", "/", &[], "", Some(&login.session));
    assert!(home.reused, "OpenSSL did not resume the session: {home:?}");
    assert!(home.status == 303 && home.header("location").ends_with("/login"), "{home:?}");
    let r = tls.request("GET", &none, &[], "", Some(&home.session));
    assert!(r.reused, "{r:?}");
    assert_eq!(param(r.header("location"), "error").as_deref(), Some("login_required"), "{r:?}");
    assert_eq!(param(r.header("location"), "code"), None, "{r:?}");
    let with_cookie = tls.request("GET", &none, &[("Cookie", &cookie)], "", Some(&r.session));
    assert!(with_cookie.reused && param(with_cookie.header("location"), "code").is_some(), "{with_cookie:?}");

    // The facility PC: a full handshake with the certificate, then resumptions without sending it.
    let (facility, cert, key) = issue_pc(&p.h, "Clinic T");
    let pc = Tls { p: &p, cert: Some((&cert, &key)) };
    let first = pc.request("GET", "/login", &[], "", None);
    assert!(!first.reused && first.status == 200 && first.body.contains(&facility), "{first:?}");
    let resumed = tls.request("GET", "/login", &[], "", Some(&first.session));
    assert!(resumed.reused && resumed.status == 200 && resumed.body.contains(&facility), "{resumed:?}");
    p.h.ok(&["revoke", "--serial", &serial_of(&p.h, &facility), "--reason", "keyCompromise"]);
    let after = tls.request("GET", "/login", &[], "", Some(&resumed.session));
    assert!(after.reused, "{after:?}");
    assert!(
        after.status == 403 && after.body.contains("revoked on"),
        "a resumed session outlived the revocation: {after:?}"
    );
    a_session_never_follows_its_person_to_another_terminal(&p);
    an_idle_session_locks_and_says_why(&p);
    a_person_never_set_up_sets_up_the_second_factor_at_a_facility_pc(&p);
}

/// D161's set-up walk-through through the real server: an account whose TOTP secret was printed to the help
/// desk and never confirmed is on `portal user not-ready`; its person signs in with the password and no code —
/// away from a facility PC they are told to use one, at one they get a new key and confirm it with its code,
/// which signs them in, once. The offer posted from another PC, with a wrong code or again is refused, each
/// with its words. The help desk's reset then gives a new secret whose first code signs in. All audited.
fn a_person_never_set_up_sets_up_the_second_factor_at_a_facility_pc(p: &Portal) {
    let (_, cert, key) = issue_pc(&p.h, "Clinic E");
    let (_, other_cert, other_key) = issue_pc(&p.h, "Clinic F");
    p.totp_user("u-new", "New Staff");
    let not_ready = || p.h.ok(&["portal", "user", "not-ready"]).lines().any(|l| l.starts_with("u-new\t"));
    assert!(not_ready(), "a secret nobody confirmed is not ready");

    let away = p.other_browser("jar-enrol-away").login("u-new", PASSWORD, "", None);
    assert!(away.status == 403 && away.body.contains("施設の PC"), "{away:?}");
    let at_pc = p.with_client_cert(cert, key).other_browser("jar-enrol");
    let page = at_pc.login("u-new", PASSWORD, "", None);
    assert!(page.status == 200 && page.body.contains("二要素認証の設定"), "{page:?}");
    let field = |body: &str, from: &str, to: &str| -> String {
        let start = body.find(from).unwrap_or_else(|| panic!("no {from} in {body}")) + from.len();
        body[start..].split(to).next().unwrap().to_owned()
    };
    let typed_key = field(&page.body, "id=\"enrol-key\"", "</code>");
    let typed_key = typed_key.rsplit('>').next().unwrap().replace(' ', "");
    let offer = field(&page.body, "name=\"offer\" value=\"", "\"");
    assert_eq!(typed_key.len(), 32, "{typed_key}");
    let confirm = |b: &Portal, code: &str| {
        b.submit("/login/enrol", &[("username", "u-new"), ("offer", &offer), ("totp", code)], None)
    };
    let other_pc = p.with_client_cert(other_cert, other_key).other_browser("jar-enrol-x");
    let elsewhere = confirm(&other_pc, &totp(&typed_key, 0));
    assert!(elsewhere.status == 400 && elsewhere.body.contains("別の端末"), "{elsewhere:?}");
    let code = totp(&typed_key, 0);
    let wrong = confirm(&at_pc, if code == "000000" { "111111" } else { "000000" });
    assert!(wrong.status == 401 && wrong.body.contains("enrol-problem"), "{wrong:?}");
    let done = confirm(&at_pc, &code);
    assert_eq!(done.status, 303, "{done:?}");
    assert_eq!(at_pc.get("/").status, 200, "signed in");
    let again = confirm(&at_pc, &code);
    assert!(again.status == 409 && again.body.contains("すでに設定"), "{again:?}");
    assert!(!not_ready(), "set up");

    let reset = p.h.ok(&["portal", "user", "reset-second-factor", "u-new"]);
    let secret = reset.lines().find_map(|l| l.strip_prefix("secret: ")).unwrap().to_owned();
    assert!(not_ready(), "a reset secret is not confirmed until used");
    let (_, g_cert, g_key) = issue_pc(&p.h, "Clinic G");
    let next = p.with_client_cert(g_cert, g_key).other_browser("jar-reset");
    assert_eq!(next.login("u-new", PASSWORD, &totp(&secret, 0), None).status, 303);
    assert!(!not_ready(), "its first code confirmed it");

    let entries = p.h.audit_entries();
    for (action, outcome, reason) in [
        ("portal.login", "denied", Some("second-factor-enrolment-needs-facility-pc")),
        ("portal.login", "denied", Some("second-factor-enrolment-offered")),
        ("portal.enrol", "denied", Some("offer-foreign")),
        ("portal.enrol", "denied", Some("wrong-code")),
        ("portal.enrol", "denied", Some("enrolled-already")),
        ("portal.user.totp_enrol", "ok", None),
        ("portal.user.totp_reset", "ok", None),
    ] {
        assert!(
            entries.iter().any(|e| e["action"] == action
                && e["outcome"] == outcome
                && e["target"] == "u-new"
                && reason.is_none_or(|r| e["detail"]["reason"] == r)),
            "no {action} {outcome} {reason:?}: {entries:?}"
        );
    }
    assert!(
        entries.iter().any(|e| e["action"] == "portal.login"
            && e["outcome"] == "ok"
            && e["detail"]["second_factor_enrolled"] == true),
        "the sign-in says it set up the second factor"
    );
}

/// D161's idle lock (`[portal] idle_minutes`, default 30) through the real server, the time moved in the
/// database rather than waited for: a session whose login is 31 minutes back and that has served no page since
/// is locked on its next request (ended `idle`, audited as its `portal.logout`; the login page says why), while
/// one whose browser was answered a minute ago (its activity stamp) goes on.
fn an_idle_session_locks_and_says_why(p: &Portal) {
    let (_, cert, key) = issue_pc(&p.h, "Clinic I");
    let move_login_back = |user: &str| {
        let sql = format!(
            "UPDATE portal_sessions SET auth_time = auth_time - 1860 WHERE person_key = 'pwd:{user}' AND ended_at IS NULL"
        );
        assert_eq!(p.h.db().execute(&sql), 1, "{user}'s one live session");
    };
    for (user, used_since) in [("idle-a", false), ("idle-b", true)] {
        let secret = p.totp_user(user, "Idle Test");
        let pc = p.with_client_cert(cert.clone(), key.clone()).other_browser(&format!("jar-{user}"));
        assert_eq!(pc.login(user, PASSWORD, &totp(&secret, 0), None).status, 303);
        if used_since {
            assert_eq!(pc.get("/").status, 200, "the page's answer carries the activity stamp");
        }
        move_login_back(user);
        let home = pc.get("/");
        if used_since {
            assert_eq!(home.status, 200, "used a moment ago: not idle: {home:?}");
        } else {
            assert!(home.status == 303 && home.location.ends_with("/login?problem=ended_idle"), "{home:?}");
            let page = pc.get("/login?problem=ended_idle");
            assert!(
                page.body.contains("data-problem=\"ended_idle\"") && page.body.contains("ロックしました"),
                "{page:?}"
            );
        }
    }
    let entries = p.h.audit_entries();
    let idle: Vec<_> =
        entries.iter().filter(|e| e["action"] == "portal.logout" && e.to_string().contains("\"idle\"")).collect();
    assert_eq!(idle.len(), 1, "one session locked: {idle:?}");
    assert!(idle[0].to_string().contains("idle-a"), "{}", idle[0]);
    // The help desk's list of accounts without a confirmed second factor (D161): made, no code ever accepted.
    p.totp_user("never-enrolled", "Not Ready");
    let list = p.h.ok(&["portal", "user", "not-ready"]);
    assert!(list.lines().any(|l| l.starts_with("never-enrolled\t")), "{list}");
    assert!(!list.contains("idle-a\t") && !list.contains("idle-b\t"), "signed in with a code: ready: {list}");
}

/// D161 (issue #48 item 2), the attacks first: a session made on PC A in one browser, its cookies carried to PC
/// B (another certificate), to a PC without a certificate, and its session cookie alone into another browser on
/// PC A. Each replay gets no session: the session is ended (`portal.logout`, `other-terminal`), audited
/// (`portal.session`, denied, the reason), and both the replaying browser and the person's own are sent to the
/// login page, which says why (`ended_other_terminal`).
fn a_session_never_follows_its_person_to_another_terminal(p: &Portal) {
    let (_, cert_a, key_a) = issue_pc(&p.h, "Clinic A");
    let (_, cert_b, key_b) = issue_pc(&p.h, "Clinic B");
    // (name, the replaying PC's certificate and key, the browser cookie copied too, the audited reason)
    type Replay<'a> = (&'a str, Option<(&'a PathBuf, &'a PathBuf)>, bool, &'a str);
    let replays: [Replay; 3] = [
        ("other-pc", Some((&cert_b, &key_b)), true, "other-pc"),
        ("no-pc", None, true, "other-pc"),
        ("other-browser", Some((&cert_a, &key_a)), false, "other-browser"),
    ];
    for (name, thief_cert, with_browser_cookie, reason) in replays {
        let secret = p.totp_user(&format!("u-{name}"), "Terminal Test");
        let victim = p.with_client_cert(cert_a.clone(), key_a.clone()).other_browser(&format!("jar-{name}"));
        assert_eq!(victim.login(&format!("u-{name}"), PASSWORD, &totp(&secret, 0), None).status, 303, "{name}");
        assert_eq!(victim.get("/").status, 200, "{name}: the browser that logged in keeps its session");
        // The thief's jar: the victim's cookies (without the browser cookie for another browser).
        let jar = std::fs::read_to_string(p.h.path(&format!("jar-{name}"))).unwrap();
        let copied: String = jar
            .lines()
            .filter(|l| with_browser_cookie || !l.contains("__Host-hcpki-browser"))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(p.h.path(&format!("jar-{name}-thief")), copied).unwrap();
        let thief = match thief_cert {
            Some((cert, key)) => p.with_client_cert(cert.clone(), key.clone()),
            None => p.clone_view(),
        }
        .other_browser(&format!("jar-{name}-thief"));
        let home = thief.get("/");
        let told = "/login?problem=ended_other_terminal";
        assert!(home.status == 303 && home.location.ends_with(told), "{name}: the replayed cookie was taken: {home:?}");
        let page = thief.get(told);
        assert!(page.body.contains("data-problem=\"ended_other_terminal\""), "{name}: {page:?}");
        let again = thief.get("/");
        assert!(again.status == 303 && again.location.ends_with("/login"), "{name}: {again:?}");
        // The session is over for its person too, who is told why.
        let back = victim.get("/");
        assert!(back.status == 303 && back.location.ends_with("/login?problem=ended_other_terminal"), "{back:?}");
        let page = victim.get("/login?problem=ended_other_terminal");
        assert!(page.body.contains("data-problem=\"ended_other_terminal\""), "{name}: {page:?}");
        let entries = p.h.audit_entries();
        let refused = entries
            .iter()
            .find(|e| e["action"] == "portal.session" && e["target"] == format!("pwd:u-{name}"))
            .unwrap_or_else(|| panic!("{name}: no portal.session entry"));
        assert_eq!(refused["outcome"], "denied", "{refused}");
        assert_eq!(refused["detail"]["reason"], reason, "{refused}");
        assert!(
            entries.iter().any(|e| e["action"] == "portal.logout"
                && e["target"].as_str().is_some_and(|t| t.contains(&format!("u-{name}")))
                && e.to_string().contains("other-terminal")),
            "{name}: the session was not ended as other-terminal"
        );
    }
}

/// The serial of the one certificate of `facility`.
fn serial_of(h: &Hcpki, facility: &str) -> String {
    let listed: serde_json::Value = serde_json::from_str(&h.cert_list(Some(facility))[0]).unwrap();
    listed["serial"].as_str().unwrap_or_else(|| panic!("{listed}")).to_owned()
}

/// The "Acceptable client certificate CA names" of the CertificateRequest of the listener on `port`.
fn acceptable_ca_names(h: &Hcpki, port: u16) -> Vec<String> {
    let out = Command::new("timeout")
        .args(["30", "openssl", "s_client", "-connect", &format!("127.0.0.1:{port}"), "-servername", "localhost"])
        .args(["-nameopt", "RFC2253", "-CAfile"])
        .arg(h.chain_file("server"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let names: Vec<String> = text
        .lines()
        .skip_while(|l| !l.starts_with("Acceptable client certificate CA names"))
        .skip(1)
        .take_while(|l| !l.starts_with("Requested Signature Algorithms") && !l.starts_with("---"))
        .map(str::to_owned)
        .collect();
    assert!(!names.is_empty(), "no client certificate CA names\n{}", describe(&out));
    names
}

/// HTTP/1.1 over `openssl s_client` to the portal: one request per connection, each saving its TLS session
/// for the next to resume (a TLS 1.3 ticket is good for one resumption, as a browser uses them).
struct Tls<'a> {
    p: &'a Portal,
    /// The client certificate and key offered in full handshakes.
    cert: Option<(&'a Path, &'a Path)>,
}

/// What one connection saw.
#[derive(Debug)]
struct Answer {
    /// OpenSSL resumed the session (`Reused, TLSv1.3, …`).
    reused: bool,
    status: u16,
    head: String,
    body: String,
    /// Where this connection's session was saved.
    session: PathBuf,
}

impl Answer {
    /// A response header's value (case-insensitive name), or "".
    fn header(&self, name: &str) -> &str {
        let prefix = format!("{name}:");
        self.head.lines().find(|l| l.to_ascii_lowercase().starts_with(&prefix)).map_or("", |l| l[prefix.len()..].trim())
    }

    /// The `name=value` of every cookie the response sets.
    fn cookies(&self) -> Vec<&str> {
        let lines = self.head.lines().filter(|l| l.to_ascii_lowercase().starts_with("set-cookie:"));
        lines.filter_map(|l| l["set-cookie:".len()..].trim().split(';').next()).collect()
    }
}

impl Tls<'_> {
    /// `method path` with `headers` and `body`, resuming the session saved in `resume` if given.
    fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str, resume: Option<&Path>) -> Answer {
        let session = self.p.h.path(&format!("tls-session-{}", uuid::Uuid::new_v4().simple()));
        let mut cmd = Command::new("timeout");
        cmd.args(["30", "openssl", "s_client", "-connect", &format!("127.0.0.1:{}", self.p.port)]);
        cmd.args(["-servername", "localhost", "-verify_return_error", "-ign_eof", "-nocommands", "-CAfile"]);
        cmd.arg(&self.p.chain).arg("-sess_out").arg(&session);
        if let Some(from) = resume {
            cmd.arg("-sess_in").arg(from);
        }
        if let Some((cert, key)) = self.cert {
            cmd.arg("-cert").arg(cert).arg("-key").arg(key);
        }
        let mut request =
            format!("{method} {path} HTTP/1.1\r\nHost: localhost:{}\r\nConnection: close\r\n", self.p.port);
        request.push_str(&format!("Origin: {}\r\nContent-Length: {}\r\n", self.p.issuer, body.len()));
        for (k, v) in headers {
            request.push_str(&format!("{k}: {v}\r\n"));
        }
        request.push_str("\r\n");
        request.push_str(body);
        let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(request.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let reply =
            text.split_once("HTTP/1.1 ").map(|(_, r)| r).unwrap_or_else(|| panic!("no answer\n{}", describe(&out)));
        let (head, body) = reply.split_once("\r\n\r\n").unwrap_or((reply, ""));
        Answer {
            reused: text.lines().any(|l| l.starts_with("Reused, ")),
            status: head.split_whitespace().next().and_then(|s| s.parse().ok()).unwrap(),
            head: head.to_owned(),
            body: body.to_owned(),
            session,
        }
    }
}
