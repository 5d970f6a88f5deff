//! Signing in to the console through hcpki's own SSO portal (issue #8, D42), curl playing the browser: the
//! console sends the browser to the portal's authorization endpoint as its built-in client and redeems the code
//! itself; who may do what is a console grant (`hcpki console-grant`, `/api/v1/console-grants`, audited).
//! Operators and auditors need a card login (a physician's virtual HPKI card through the real agent and pcscd,
//! signed in once for the portal and the console alike), a facility admin a login at one of the facility's
//! PCs. Every request re-reads the grant and the portal session: a removed grant, a portal sign-out or a
//! pulled card ends console access at once. Forged and tampered cookies, CSRF tokens of another sign-in,
//! password logins posing as operators and people without a grant are refused and audited.

use crate::admin::{Api, As, issued, operator};
use crate::agent::{self, hpki};
use crate::console::form;
use crate::harness::{Backend, Hcpki};
use crate::oidc::{PASSWORD, Portal, Reply, totp};
use crate::pcsc_lock::pcsc_lock;
use crate::portal_card::{card_portal, card_session};
use serde_json::{Value, json};

on_both_backends!(grants_password_logins_and_cookie_sessions, card_holder_signs_in_once_and_loses_access_at_once);

const SESSION: &str = "__Host-hcpki-console";

/// The console's origin on the server the portal runs in (a name of the server certificate).
pub(crate) fn console_of(p: &Portal) -> String {
    format!("https://127.0.0.1:{}", p.served().https_port)
}

/// The console's sign-in in browser `b`: `/console/login` → the portal's `/authorize` → (with a portal session,
/// straight back) the callback. The last answer.
pub(crate) fn console_sign_in(b: &Portal, console: &str) -> Reply {
    console_sign_in_watching(b, console, |_| ())
}

/// [`console_sign_in`], calling `after_each` with each answer as it comes (e.g. to read the browser's cookies
/// between the steps, where the sign-in's own short-lived cookie lives).
pub(crate) fn console_sign_in_watching(b: &Portal, console: &str, mut after_each: impl FnMut(&Reply)) -> Reply {
    let start = b.curl(&[&format!("{console}/console/login")]);
    after_each(&start);
    assert_eq!(start.status, 303, "{start:?}");
    assert!(start.location.starts_with(&format!("{}/authorize?", b.issuer)), "{start:?}");
    assert!(start.location.contains("client_id=hcpki-console") && start.location.contains("code_challenge="));
    let at_portal = b.curl(&[&start.location]);
    after_each(&at_portal);
    assert_eq!(at_portal.status, 303, "{at_portal:?}");
    if !at_portal.location.starts_with(&format!("{console}/console/login/callback?")) {
        return at_portal;
    }
    let done = b.curl(&[&at_portal.location]);
    after_each(&done);
    done
}

/// A person's console session at one of a facility's PCs (issue #24 item 7): the console cookie, sent with the
/// PC's certificate on every request, as the browser at that PC does.
pub(crate) struct PcSession {
    /// The console session cookie.
    pub(crate) cookie: String,
    /// The PC's certificate.
    pub(crate) pc: As,
    console: String,
}

impl PcSession {
    /// A console page.
    pub(crate) fn get(&self, api: &Api<'_>, path: &str) -> crate::admin::Reply {
        with_cookie(api, path, &self.cookie, &self.pc)
    }

    /// A console form POST with the CSRF token of `page` (a page of this session).
    pub(crate) fn submit(
        &self,
        api: &Api<'_>,
        path: &str,
        fields: &[(&str, &str)],
        page: &crate::admin::Reply,
    ) -> crate::admin::Reply {
        let token = crate::console::csrf_of(page);
        let mut all = vec![("csrf", token.as_str())];
        all.extend_from_slice(fields);
        post_with_cookie(api, &self.console, path, &all, &self.cookie, &self.pc)
    }
}

/// Let the portal's password account alice change facility `facility` through the console: a facility-admin
/// console grant, and the facility accepting password + TOTP sign-ins for changes (it takes cards only by
/// default). Both audited.
pub(crate) fn grant_facility_admin(h: &Hcpki, facility: &str) {
    h.ok(&["console-grant", "add", "pwd:alice", "--role", "facility-admin", "--facility", facility]);
    h.ok(&["facility", "admin-login", facility, "--password-totp", "allow"]);
}

/// alice signs in to the portal (password + TOTP at step `step`) and then to the console, in browser `jar`
/// presenting the PC certificate `pc`: her console session there.
pub(crate) fn sign_in_at_pc(p: &Portal, pc: &As, jar: &str, step: i64) -> PcSession {
    let As::Cert(cert, key) = pc.clone() else { panic!("a PC certificate, not {pc:?}") };
    let at_pc = p.other_browser(jar).with_client_cert(cert, key);
    let login = at_pc.login("alice", PASSWORD, &totp(&p.totp_secret, step), None);
    assert_eq!(login.status, 303, "{login:?}");
    let console = console_of(p);
    let done = console_sign_in(&at_pc, &console);
    assert_eq!(done.status, 200, "{done:?}");
    let cookie = session_cookie(&p.h, jar).unwrap_or_else(|| panic!("no console session cookie: {done:?}"));
    PcSession { cookie, pc: pc.clone(), console }
}

/// The person key a refused console sign-in names for the operator to grant.
pub(crate) fn person_key_of(refused: &Reply) -> String {
    let key = refused.body.split("<code>").nth(1).and_then(|s| s.split("</code>").next());
    key.unwrap_or_else(|| panic!("no person key in {refused:?}")).to_owned()
}

/// The console session cookie in browser `b`'s jar (`jar` is its file name in the test directory).
pub(crate) fn session_cookie(h: &Hcpki, jar: &str) -> Option<String> {
    let text = std::fs::read_to_string(h.path(jar)).unwrap_or_default();
    text.lines()
        .filter(|l| l.contains(&format!("\t{SESSION}\t")))
        .find_map(|l| l.rsplit('\t').next().map(str::to_owned))
}

/// A console request with the session cookie `cookie` (and the client certificate of `who`).
pub(crate) fn with_cookie(api: &Api<'_>, path: &str, cookie: &str, who: &As) -> crate::admin::Reply {
    api.request("GET", path, None, who, &["-H", &format!("Cookie: {SESSION}={cookie}")])
}

/// A form POST on the console with the session cookie, the token `csrf` and the console's Origin.
pub(crate) fn post_with_cookie(
    api: &Api<'_>,
    console: &str,
    path: &str,
    fields: &[(&str, &str)],
    cookie: &str,
    who: &As,
) -> crate::admin::Reply {
    let body = form(fields);
    let extra = [
        "-H",
        &format!("Cookie: {SESSION}={cookie}"),
        "-H",
        "Content-Type: application/x-www-form-urlencoded",
        "-H",
        &format!("Origin: {console}"),
    ];
    api.request("POST", path, Some(&body), who, &extra)
}

pub(crate) fn csrf(text: &str) -> String {
    text.split("name=\"csrf\" value=\"").nth(1).and_then(|r| r.split('"').next()).unwrap().to_owned()
}

pub(crate) fn count(entries: &[Value], action: &str, outcome: &str) -> usize {
    entries.iter().filter(|e| e["action"] == action && e["outcome"] == outcome).count()
}

fn grants_password_logins_and_cookie_sessions(b: Backend) {
    let mut who = None;
    let p = Portal::start_with(b, "", |h| {
        let f = h.approved_facility("Grant clinic");
        let pc = issued(h, "pc", &f, &[]);
        who = Some((operator(h, "ops", "operator"), operator(h, "aud", "auditor"), f, pc));
    });
    let (ops, aud, f, pc) = who.unwrap();
    let h = &*p.h;
    let api = Api::new(h, p.served());
    let console = console_of(&p);

    // The CLI: add, refuse what makes no sense, list.
    h.ok(&["console-grant", "add", "pwd:alice", "--role", "operator", "--note", "Alice Staff"]);
    let unknown = f.replace(|c: char| c.is_ascii_digit(), "9");
    for bad in [
        &["pwd:alice", "--role", "root"][..],
        &["pwd:alice", "--role", "facility-admin"],
        &["pwd:alice", "--role", "operator", "--facility", &f],
        &["pwd:alice", "--role", "facility-admin", "--facility", &unknown],
        &["", "--role", "auditor"],
    ] {
        let err = h.fails(&[&["console-grant", "add"][..], bad].concat());
        assert!(!err.is_empty(), "{bad:?}");
    }
    let listed = h.ok(&["console-grant", "list"]);
    assert!(listed.contains("pwd:alice") && listed.contains("operator") && listed.contains("Alice Staff"), "{listed}");
    assert_eq!(listed.lines().count(), 1, "refusals added nothing: {listed}");

    // The API: operators manage, auditors read, facility admins neither; refusals audited.
    let r = api.post("/api/v1/console-grants", &json!({ "person": "pwd:bob", "role": "auditor" }), &ops);
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(api.post("/api/v1/console-grants", &json!({ "person": "pwd:x", "role": "operator" }), &aud).status, 403);
    assert_eq!(api.post("/api/v1/console-grants", &json!({ "person": "pwd:x", "role": "root" }), &ops).status, 400);
    let r = api.get("/api/v1/console-grants", &aud);
    assert_eq!((r.status, r.json["grants"].as_array().map(Vec::len)), (200, Some(2)), "{r:?}");
    assert_eq!(api.get("/api/v1/console-grants", &pc).status, 403);
    assert_eq!(api.post("/api/v1/console-grants/remove", &json!({ "person": "pwd:bob" }), &ops).status, 200);
    assert_eq!(api.post("/api/v1/console-grants/remove", &json!({ "person": "pwd:bob" }), &ops).status, 404);
    h.fails(&["console-grant", "remove", "pwd:bob"]);
    let entries = h.audit_entries();
    assert_eq!(count(&entries, "console.grant.add", "ok"), 2, "{entries:?}");
    assert_eq!(count(&entries, "console.grant.remove", "ok"), 1, "{entries:?}");
    assert!(count(&entries, "admin.console_grant.manage", "denied") >= 3, "{entries:?}");
    assert_eq!(count(&entries, "admin.console_grant.list", "denied"), 1, "{entries:?}");

    // alice signs in to the portal with password + TOTP: her operator grant does not let her in (card only).
    let alice = p.other_browser("jar-alice");
    assert_eq!(alice.login("alice", PASSWORD, &totp(&p.totp_secret, -1), None).status, 303);
    let r = console_sign_in(&alice, &console);
    assert_eq!(r.status, 403, "{r:?}");
    // In Japanese (the page's language without Accept-Language), saying what to do, never the English text.
    assert!(
        r.body.contains("カードと暗証番号でのサインインが必要です") && r.body.contains("サインインし直して"),
        "{r:?}"
    );
    assert!(!r.body.contains("needs a sign-in with your card"), "{r:?}");
    assert_eq!(session_cookie(h, "jar-alice"), None, "no console session for a password login");
    let anon = alice.curl(&[&format!("{console}/console/?lang=en")]);
    assert!(anon.status == 200 && anon.body.contains("Sign in with card"), "{anon:?}");

    // Without a grant: refused, the page names her person key for the operator, audited.
    h.ok(&["console-grant", "remove", "pwd:alice"]);
    let r = console_sign_in(&alice, &console);
    assert!(r.status == 403 && r.body.contains("pwd:alice"), "{r:?}");

    // As the facility's admin, signed in at one of its PCs (the PC certificate on both connections): allowed.
    grant_facility_admin(h, &f);
    let As::Cert(pc_cert, pc_key) = pc.clone() else { unreachable!() };
    let at_pc = p.other_browser("jar-pc").with_client_cert(pc_cert, pc_key);
    assert_eq!(at_pc.login("alice", PASSWORD, &totp(&p.totp_secret, 0), None).status, 303);
    let r = console_sign_in(&at_pc, &console);
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body.contains("http-equiv=\"refresh\""), "{r:?}");
    let cookie = session_cookie(h, "jar-pc").expect("the console session cookie");
    let home = with_cookie(&api, "/console/?lang=en", &cookie, &pc);
    assert_eq!(home.status, 200, "{home:?}");
    assert!(home.text.contains("signed in through the portal") && home.text.contains(&f), "{home:?}");
    assert!(home.text.contains("/console/logout"), "{home:?}");
    let renewed =
        home.headers.lines().find(|l| l.to_ascii_lowercase().starts_with("set-cookie: __host-hcpki-console="));
    let renewed = renewed.unwrap_or_else(|| panic!("the idle deadline is renewed: {home:?}"));
    for attribute in ["Path=/", "Secure", "HttpOnly", "SameSite=Strict", "Max-Age="] {
        assert!(renewed.contains(attribute), "{attribute}: {renewed}");
    }
    // A second replica on the same directory and database takes the cookie (its key derives from the shared
    // enrollment key; the grant, the sessions and the console grants are in the database).
    let replica = p.replica();
    let on_replica = with_cookie(&Api::new(h, replica.served()), "/console/?lang=en", &cookie, &pc);
    assert!(on_replica.status == 200 && on_replica.text.contains("signed in through the portal"), "{on_replica:?}");
    drop(replica);
    let me = with_cookie(&api, "/api/v1/whoami", &cookie, &pc);
    assert_eq!(me.json["principal"], "facility-admin", "the admin API takes certificates only: {me:?}");
    // The same sign-in away from the facility's PC: refused (the cookie alone is not the facility).
    let r = with_cookie(&api, "/console/?lang=en", &cookie, &As::Nobody);
    assert!(r.status == 403 && r.text.contains("works only at that facility"), "{r:?}");

    // CSRF tokens bind to the sign-in: the certificate's own page token is refused on the cookie session, and
    // the other way round; the session's token works (an EST credential made, audited as the person).
    // (The certificate alone is served no form of its facility, issue #24 item 7: its application form's token.)
    let cert_page = api.get("/console/apply", &pc);
    let fields = |token: &str| vec![("csrf", token.to_owned()), ("protocol", "est".into()), ("profile", "pc".into())];
    let make = |token: &str, cookie: Option<&str>| {
        let mut all: Vec<(&str, String)> = fields(token);
        all.push(("valid_for", "1d".into()));
        let pairs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let path = format!("/console/facilities/{f}/credentials");
        match cookie {
            Some(c) => post_with_cookie(&api, &console, &path, &pairs, c, &pc),
            None => {
                let extra =
                    ["-H", "Content-Type: application/x-www-form-urlencoded", "-H", &format!("Origin: {console}")];
                api.request("POST", &path, Some(&form(&pairs)), &pc, &extra)
            }
        }
    };
    assert_eq!(make(&csrf(&cert_page.text), Some(&cookie)).status, 403, "a certificate's token on the session");
    assert_eq!(make(&csrf(&home.text), None).status, 403, "the session's token without the session");
    assert_eq!(make("forged", Some(&cookie)).status, 403);
    let made = make(&csrf(&home.text), Some(&cookie));
    assert_eq!(made.status, 201, "{made:?}");
    let entries = h.audit_entries();
    let pc_serial = serde_json::from_str::<Value>(&h.cert_list(Some(&f))[0]).unwrap()["serial"].clone();
    let actor = format!("facility-admin:{f}:pc:{}:person:pwd:alice", pc_serial.as_str().unwrap());
    assert!(entries.iter().any(|e| e["actor"] == actor.as_str() && e["outcome"] == "ok"), "{entries:?}");
    assert!(count(&entries, "console.csrf", "denied") >= 3, "{entries:?}");

    // Forged and tampered cookies: refused, cleared, audited.
    // One character of the payload changed (the times or the grant it names).
    let swap = if cookie.as_bytes()[20] == b'B' { "C" } else { "B" };
    let tampered = format!("{}{swap}{}", &cookie[..20], &cookie[21..]);
    for bad in [tampered.as_str(), "forged.value", "AAAA"] {
        let r = with_cookie(&api, "/console/?lang=en", bad, &pc);
        assert_eq!(r.status, 401, "{bad}: {r:?}");
        assert!(r.headers.contains(&format!("{SESSION}=; Path=/")), "cleared: {r:?}");
    }
    // The same refusal on a Japanese page says so in Japanese, with what to do.
    let r = with_cookie(&api, "/console/", "forged.value", &pc);
    assert!(r.status == 401 && r.text.contains("もう一度サインインしてください"), "{r:?}");
    assert!(!r.text.contains("is not valid: sign in again"), "{r:?}");
    assert!(count(&h.audit_entries(), "console.session", "denied") >= 4);

    // The grant removed: the very next request is refused.
    assert_eq!(with_cookie(&api, "/console/", &cookie, &pc).status, 200);
    h.ok(&["console-grant", "remove", "pwd:alice"]);
    let r = with_cookie(&api, "/console/?lang=en", &cookie, &pc);
    assert!(r.status == 403 && r.text.contains("pwd:alice"), "{r:?}");

    // Granted again, signed in again without a second login (SSO); then the portal sign-out ends it.
    h.ok(&["console-grant", "add", "pwd:alice", "--role", "facility-admin", "--facility", &f]);
    assert_eq!(console_sign_in(&at_pc, &console).status, 200);
    let cookie = session_cookie(h, "jar-pc").unwrap();
    assert_eq!(with_cookie(&api, "/console/", &cookie, &pc).status, 200);
    at_pc.sign_out();
    let r = with_cookie(&api, "/console/?lang=en", &cookie, &pc);
    assert_eq!(r.status, 401, "the portal sign-out ends the console session: {r:?}");

    // The console's own sign-out: the grant is revoked, the old cookie refused.
    assert_eq!(at_pc.login("alice", PASSWORD, &totp(&p.totp_secret, 1), None).status, 303);
    assert_eq!(console_sign_in(&at_pc, &console).status, 200);
    let cookie = session_cookie(h, "jar-pc").unwrap();
    let page = with_cookie(&api, "/console/logout?lang=en", &cookie, &pc);
    assert_eq!(page.status, 200, "{page:?}");
    let out = post_with_cookie(&api, &console, "/console/logout", &[("csrf", &csrf(&page.text))], &cookie, &pc);
    assert!(out.status == 200 && out.headers.contains(&format!("{SESSION}=; Path=/")), "{out:?}");
    assert_eq!(with_cookie(&api, "/console/", &cookie, &pc).status, 401);
    assert_eq!(at_pc.get("/").status, 200, "the portal session stays");
    let entries = h.audit_entries();
    assert_eq!(count(&entries, "console.signin", "ok"), 3, "{entries:?}");
    assert_eq!(count(&entries, "console.signin", "denied"), 2, "{entries:?}");
    assert_eq!(count(&entries, "console.signout", "ok"), 1, "{entries:?}");

    // The facility suspended while its admin is signed in (password at the PC): the next page is the held page
    // (what happened, the operator's reason, whom to ask), never "session ended"; and the admin can do nothing,
    // not even with a form token taken before the suspension.
    assert_eq!(console_sign_in(&at_pc, &console).status, 200);
    let cookie = session_cookie(h, "jar-pc").unwrap();
    let before = with_cookie(&api, "/console/", &cookie, &pc);
    assert_eq!(before.status, 200, "{before:?}");
    let made_before =
        h.audit_entries().iter().filter(|e| e["action"] == "enroll.credential.create" && e["outcome"] == "ok").count();
    h.ok(&["facility", "suspend", &f, "--reason", "監査のため"]);
    for lang in ["ja", "en"] {
        let r = with_cookie(&api, &format!("/console/?lang={lang}"), &cookie, &pc);
        assert_eq!(r.status, 403, "{r:?}");
        assert!(r.text.contains("id=\"held\"") && r.text.contains("監査のため"), "the held page: {r:?}");
        assert!(!r.text.contains("session has ended") && !r.text.contains("セッションは終了"), "{r:?}");
    }
    let r = make(&csrf(&before.text), Some(&cookie));
    assert_eq!(r.status, 403, "a suspended facility's admin cannot act: {r:?}");
    assert!(r.text.contains("id=\"held\""), "{r:?}");
    let made_after =
        h.audit_entries().iter().filter(|e| e["action"] == "enroll.credential.create" && e["outcome"] == "ok").count();
    assert_eq!(made_after, made_before, "no credential made");
    // The suspension ended the portal session; signing in again at the PC is refused by the portal in its own
    // words (the facility is suspended), so the console gets no sign-in.
    let relogin = at_pc.login("alice", PASSWORD, &totp(&p.totp_secret, 2), None);
    assert!(relogin.status == 403 && relogin.body.contains("facility_suspended"), "{relogin:?}");
    let r = console_sign_in(&at_pc, &console);
    assert!(r.location.contains("/login?"), "{r:?}");
    h.ok(&["audit", "verify"]);
}

/// A card portal and the real card agent with the virtual HPKI card in reader 0, the PC/SC lock held: what a
/// console test signing in by card starts with. Dropped card first, the portal's server last.
pub(crate) struct CardConsole {
    _card: hcpki_vcard::vpcd::VpcdCard,
    pub(crate) agent: agent::Served,
    _pcsc: crate::pcsc_lock::PcscGuard,
    pub(crate) p: Portal,
}

pub(crate) fn card_console(b: Backend) -> CardConsole {
    let agent_port = crate::harness::free_port();
    let agent_origin = format!("http://127.0.0.1:{agent_port}");
    let p = card_portal(b, &agent_origin);
    let pcsc = pcsc_lock();
    let agent = agent::Served::start_for(&p.issuer, &format!("127.0.0.1:{agent_port}"));
    let card = agent::insert(hpki(), 0);
    agent.wait_card(0, "hpki");
    CardConsole { _card: card, agent, _pcsc: pcsc, p }
}

fn card_holder_signs_in_once_and_loses_access_at_once(b: Backend) {
    let card = card_console(b);
    let (p, agent) = (&card.p, &card.agent);
    let h = &*p.h;
    let api = Api::new(h, p.served());
    let console = console_of(p);
    let applied = h.add_facility("Waiting clinic", None);

    // The physician signs in to the portal with the card (one signature), then asks for the console: no grant
    // yet, so the page names the person key to hand to an operator (audited).
    let browser = p.other_browser("jar-card");
    let (card_id, _home) = card_session(&browser, agent);
    let r = console_sign_in(&browser, &console);
    assert_eq!(r.status, 403, "{r:?}");
    let person = person_key_of(&r);
    assert!(person.starts_with("hpki:"), "{person}");
    let entries = h.audit_entries();
    let denied = entries.iter().find(|e| e["action"] == "console.signin" && e["outcome"] == "denied").unwrap();
    assert_eq!(denied["actor"], format!("person:{person}").as_str(), "{denied}");

    // Granted operator: in without touching the card again (SSO), and acting through the decision table.
    h.ok(&["console-grant", "add", &person, "--role", "operator"]);
    let r = console_sign_in(&browser, &console);
    assert_eq!(r.status, 200, "{r:?}");
    let cookie = session_cookie(h, "jar-card").unwrap();
    let queue = with_cookie(&api, "/console/?lang=en", &cookie, &As::Nobody);
    assert_eq!(queue.status, 200, "{queue:?}");
    assert!(
        queue.text.contains("(operator, signed in through the portal)") && queue.text.contains(&applied),
        "{queue:?}"
    );
    let approve = format!("/console/facilities/{applied}/transition");
    let confirm = with_cookie(&api, &format!("{approve}?verb=approve"), &cookie, &As::Nobody);
    assert_eq!(confirm.status, 200, "the approval's confirmation page: {confirm:?}");
    let fields = [("csrf", csrf(&confirm.text)), ("verb", "approve".into())];
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = post_with_cookie(&api, &console, &approve, &pairs, &cookie, &As::Nobody);
    assert_eq!(r.status, 303, "{r:?}");
    assert!(h.ok(&["facility", "show", &applied]).contains("approved"));
    let entries = h.audit_entries();
    assert_eq!(entries.iter().filter(|e| e["action"] == "login.card" && e["outcome"] == "ok").count(), 1, "one tap");
    let signin = entries.iter().find(|e| e["action"] == "console.signin" && e["outcome"] == "ok").unwrap();
    assert_eq!(signin["actor"], format!("person:{person}").as_str(), "{signin}");
    let detail = &signin["detail"];
    assert_eq!(detail["acr"], "urn:hcpki:acr:card-pin", "{detail}");
    assert!(
        entries.iter().any(|e| e["action"] == "facility.approve" && e["actor"] == format!("person:{person}").as_str())
    );

    // As an auditor (the grant changed): reading yes, approving no, at the next request.
    h.ok(&["console-grant", "add", &person, "--role", "auditor"]);
    let other = h.add_facility("Second clinic", None);
    let queue = with_cookie(&api, "/console/?lang=en", &cookie, &As::Nobody);
    assert!(queue.status == 200 && queue.text.contains("(auditor, signed in through the portal)"), "{queue:?}");
    // A valid token of this sign-in (the sign-out page's): the refusal is the decision table's.
    let token = csrf(&with_cookie(&api, "/console/logout", &cookie, &As::Nobody).text);
    let fields = [("csrf", token), ("verb", "approve".into())];
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = post_with_cookie(
        &api,
        &console,
        &format!("/console/facilities/{other}/transition"),
        &pairs,
        &cookie,
        &As::Nobody,
    );
    assert_eq!(r.status, 403, "{r:?}");
    assert!(h.ok(&["facility", "show", &other]).contains("applied"));

    // The card is pulled (the page script's report): the portal session ends, and the console's with it.
    let home = browser.get("/");
    let session_csrf = crate::portal_card::field(&home.body, "csrf");
    let ended = crate::portal_card::report_card_removed(&browser, &session_csrf, &card_id);
    assert_eq!(ended.status, 200, "{ended:?}");
    let r = with_cookie(&api, "/console/?lang=en", &cookie, &As::Nobody);
    assert_eq!(r.status, 401, "{r:?}");
    let r = console_sign_in(&browser, &console);
    assert!(r.location.contains("/login?"), "a new sign-in needs the card again: {r:?}");

    // The physician as a facility's admin, signed in by card at one of its PCs (the browser presents the PC's
    // certificate): once the facility is suspended, the next console page is the held page (what happened, the
    // operator's reason, whom to ask) in words, never "session ended" (issue #45).
    let f = h.approved_facility("Card admin clinic");
    let pc = issued(h, "pc", &f, &[]);
    let As::Cert(cert, key) = pc.clone() else { panic!("a PC certificate") };
    h.ok(&["console-grant", "add", &person, "--role", "facility-admin", "--facility", &f]);
    let at_pc = p.other_browser("jar-card-pc").with_client_cert(cert, key);
    card_session(&at_pc, agent);
    let r = console_sign_in(&at_pc, &console);
    assert_eq!(r.status, 200, "{r:?}");
    let cookie = session_cookie(h, "jar-card-pc").unwrap();
    let home = with_cookie(&api, "/console/?lang=en", &cookie, &pc);
    assert!(home.status == 200 && home.text.contains("signed in through the portal"), "{home:?}");
    h.ok(&["facility", "suspend", &f, "--reason", "カード監査のため"]);
    for lang in ["ja", "en"] {
        let r = with_cookie(&api, &format!("/console/?lang={lang}"), &cookie, &pc);
        assert!(r.status == 403 && r.text.contains("id=\"held\"") && r.text.contains("カード監査のため"), "{r:?}");
        assert!(!r.text.contains("session has ended") && !r.text.contains("セッションは終了"), "{r:?}");
    }
    h.ok(&["audit", "verify"]);
}
