//! Issue #9, "secrets never logged": one run through everything that handles a secret, with the most verbose
//! logging there is (`HCPKI_LOG=trace`) in the servers, in every CLI command and in the card agent. Then no
//! secret of the run — nor, for keys, its base64, base64url, PEM or hex form — is in any of those logs, in the
//! audit log or in its syslog export.
//!
//! The run: `hcpki init` (the CA key passphrase, the portal and enrollment secrets in `secrets/`); a refused and
//! a good password + TOTP sign-in, an authorization code with PKCE, client assertions, the token exchange,
//! userinfo, refresh rotation, introspection, a forged and a good `id_token_hint` at logout; a card login
//! through the real card agent with a wrong PIN first, then the PIN, and the EMR's tokens for that session;
//! the console's sign-in with that card session (refused, then granted: its code and cookies); EST enrollment
//! with a wrong and a good password, EST serverkeygen (a private key made by the server); SCEP with a wrong and
//! a good challenge (strongSwan); an ACME account bound to an EAB HMAC key; a PKCS#12 made in the console, with
//! its passphrase and its key. Every cookie the portal and the console set along the way is a secret too, and
//! so is every private key the server keeps under `keys/` (CA, OCSP, TLS, SCEP RA, OIDC signing keys).

use crate::acme::{Acme, Jose};
use crate::admin::operator;
use crate::agent::{self, hpki};
use crate::console::{Console, pkcs12_of};
use crate::console_card::{console_of, console_sign_in_watching, person_key_of};
use crate::est::{Auth, Credential, Est, base64_of, multipart_parts};
use crate::fixtures::{Key, csr, csr_der};
use crate::harness::{Backend, Hcpki, describe, free_port};
use crate::oidc::{self, PASSWORD, POST_LOGOUT, Portal, REDIRECT, Rp, challenge, enc, param, totp};
use crate::pcsc_lock::pcsc_lock;
use crate::portal_card::{self, PIN, card_portal_in};
use crate::scep::Scep;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use std::process::Command;

on_both_backends!(secrets_stay_out_of_logs_and_audit);

const WRONG_PASSWORD: &str = "wrong horse battery staple";
const WRONG_PIN: &str = "hpki9876";

fn secrets_stay_out_of_logs_and_audit(b: Backend) {
    let h = Hcpki::new(b).with_env("HCPKI_LOG", "trace").keeping_stderr();
    h.ok(&["init"]);
    let agent_port = free_port();
    let agent_origin = format!("http://127.0.0.1:{agent_port}");
    let p = card_portal_in(h, &agent_origin, "card_presence_secs = 600\n", |_| ());
    let agent_log = p.h.path("agent.log");
    let _pcsc = pcsc_lock();
    let agent = agent::Served::start_logging_to(&p.issuer, &format!("127.0.0.1:{agent_port}"), &agent_log);
    let _card = agent::insert(hpki(), 0);
    agent.wait_card(0, "hpki");

    let mut secrets = Secrets::default();
    password_login_and_tokens(&p, &mut secrets);
    let pc = card_login_through_the_agent(&p, &agent, &mut secrets);
    console_sign_in_with_the_card(&pc, &mut secrets);
    let facility = p.h.approved_facility("Enrolling clinic");
    enrollment(&p, &facility, &mut secrets);
    console_pkcs12(&p, &facility, &mut secrets);
    for entry in std::fs::read_dir(p.h.dir().join("secrets")).unwrap() {
        let path = entry.unwrap().path();
        let what = format!("secrets/{}", path.file_name().unwrap().to_string_lossy());
        let bytes = std::fs::read(&path).unwrap();
        if let Some(text) = std::str::from_utf8(&bytes).ok().map(str::trim).filter(|t| t.len() >= 8) {
            secrets.text(&what, text);
        }
        secrets.bytes(&what, &bytes);
    }
    assert!(secrets.values.iter().any(|(w, _)| w == "secrets/key-passphrase"), "init wrote no key passphrase");
    server_keys(&p, &mut secrets);
    // Each cookie was in a jar when one of the snapshots read it (the short-lived ones between two steps).
    for cookie in ["__Host-hcpki-session", "__Host-hcpki-login", "__Host-hcpki-console", "__Host-hcpki-console-login"] {
        let name = format!("cookie {cookie}");
        assert!(secrets.values.iter().any(|(w, _)| w.ends_with(&name)), "no {cookie} was seen");
    }

    let mut server_logs = String::new();
    for entry in std::fs::read_dir(p.h.scratch()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("serve-") && name.ends_with(".log") {
            server_logs.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
    let cli = p.h.stderr_log();
    let agent_text = std::fs::read_to_string(&agent_log).unwrap();
    // The logs must be this run's most verbose ones, or the test proves nothing: trace lines from the servers and
    // the agent, debug lines (sqlx's statements) from the CLI, whose own code logs nothing at trace.
    for (place, text, level) in [
        ("the server logs", &server_logs, "TRACE"),
        ("the CLI's stderr", &cli, "DEBUG"),
        ("the agent's log", &agent_text, "TRACE"),
    ] {
        assert!(text.contains(level), "{place} have no {level} lines: is HCPKI_LOG=trace honoured?");
    }
    for route in [
        "/login",
        "/login/card",
        "/console/login/callback",
        "/authorize",
        "/token",
        "/userinfo",
        "/introspect",
        "/logout",
        "simpleenroll",
        "serverkeygen",
        "/scep/",
        "new-account",
        "pkcs12",
    ] {
        assert!(server_logs.contains(route), "the server logs do not show {route}");
    }
    let audit = p.h.ok(&["audit", "list", "--limit", "100000"]);
    for action in [
        "portal.login",
        "login.card",
        "oidc.authorize",
        "oidc.logout",
        "console.signin",
        "enroll.credential.use",
        "acme.account",
        "cert.issue",
    ] {
        assert!(audit.contains(action), "no {action} audit entry");
    }
    let exported = p.h.ok(&["audit", "export", "--format", "syslog"]);
    let places = [
        ("the server logs", server_logs.as_str()),
        ("the CLI's stderr", cli.as_str()),
        ("the agent's log", agent_text.as_str()),
        ("the audit log", audit.as_str()),
        ("the syslog export", exported.as_str()),
    ];
    // The search itself finds what it looks for: a canary line with a key in hex and a TOTP code as a value.
    let canary = format!("key={} totp={}", hex::encode(p.totp_secret.as_bytes()), secrets.digits[0].1);
    let mut canaries = Secrets::default();
    canaries.bytes("a canary key", p.totp_secret.as_bytes());
    canaries.digits("a canary code", &secrets.digits[0].1);
    let found = canaries.found_in(&[("a canary line", canary.as_str())]);
    for what in ["a canary key (hex)", "a canary code"] {
        assert!(found.iter().any(|f| f.starts_with(what)), "the search misses {what} in {canary}: {found:?}");
    }
    let leaks = secrets.found_in(&places);
    assert!(leaks.is_empty(), "secrets in logs:\n{}", leaks.join("\n"));
}

/// A refused and a good password + TOTP sign-in, the code flow with PKCE and private_key_jwt, userinfo, refresh
/// rotation, introspection, then logout with a forged and a good `id_token_hint`.
fn password_login_and_tokens(p: &Portal, s: &mut Secrets) {
    let refused_code = totp(&p.totp_secret, 0);
    assert_eq!(p.login("alice", WRONG_PASSWORD, &refused_code, None).status, 401, "a wrong password is refused");
    let code = totp(&p.totp_secret, 1);
    assert_eq!(p.login("alice", PASSWORD, &code, None).status, 303);
    s.digits("a TOTP code", &code);
    s.digits("a refused TOTP code", &refused_code);
    s.text("the password", PASSWORD);
    s.text("a wrong password", WRONG_PASSWORD);
    s.text("the TOTP secret", &p.totp_secret);
    s.cookies("after the password login", p);

    let rp = Rp::load(p);
    let verifier = "v".repeat(64);
    let authorize = format!(
        "/authorize?response_type=code&client_id=rp1&scope=openid&redirect_uri={}&code_challenge={}&code_challenge_method=S256&nonce=n1",
        enc(REDIRECT),
        challenge(&verifier)
    );
    let r = p.get(&authorize);
    let auth_code = param(&r.location, "code").unwrap_or_else(|| panic!("{r:?}"));
    let assertions = [rp.assertion(p, 60, None), rp.assertion(p, 60, None), rp.assertion(p, 60, None)];
    let form = [
        ("grant_type", "authorization_code"),
        ("code", auth_code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier.as_str()),
    ];
    let tokens = p.token(&form, &assertions[0]);
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let id_token = tokens["id_token"].as_str().unwrap().to_owned();
    let userinfo = p.curl(&["-H", &format!("Authorization: Bearer {access}"), &format!("{}/userinfo", p.issuer)]);
    assert_eq!(userinfo.status, 200, "{userinfo:?}");
    let rotated = p.token(&[("grant_type", "refresh_token"), ("refresh_token", refresh.as_str())], &assertions[1]);
    let new_refresh = rotated["refresh_token"].as_str().unwrap().to_owned();
    let new_access = rotated["access_token"].as_str().unwrap().to_owned();
    let introspected = p.post_form("/introspect", &[("token", new_access.as_str())], &assertions[2]);
    assert_eq!(introspected["active"], true, "{introspected}");

    // A forged hint is refused (audited) and only asks to confirm; ours ends the session and returns to rp1.
    let last = if id_token.ends_with('A') { 'B' } else { 'A' };
    let forged = format!("{}{last}", &id_token[..id_token.len() - 1]);
    let logout =
        |hint: &str| p.get(&format!("/logout?id_token_hint={hint}&post_logout_redirect_uri={}", enc(POST_LOGOUT)));
    let r = logout(&forged);
    assert!(r.status == 200 && r.body.contains("name=\"csrf\""), "a forged hint must ask to confirm: {r:?}");
    let r = logout(&id_token);
    assert_eq!((r.status, r.location.as_str()), (303, POST_LOGOUT), "a good hint signs out back to rp1: {r:?}");
    assert_ne!(p.get("/").status, 200, "the session survived logout");

    s.text("the authorization code", &auth_code);
    s.text("the PKCE verifier", &verifier);
    for a in &assertions {
        s.text("a client assertion", a);
    }
    s.text("the access token", &access);
    s.text("the rotated access token", &new_access);
    s.text("the refresh token", &refresh);
    s.text("the rotated refresh token", &new_refresh);
    s.text("the ID token", &id_token);
    s.text("a forged id_token_hint", &forged);
}

/// From a facility PC (its TLS client certificate): a card login through the agent's PIN page, refused with a
/// wrong PIN first, then the EMR's code and tokens for the card session. The PC's browser, signed in.
fn card_login_through_the_agent(p: &Portal, agent: &agent::Served, s: &mut Secrets) -> Portal {
    let (_, cert, key) = oidc::issue_pc(&p.h, "Card clinic");
    let pc = p.with_client_cert(cert, key);
    let csrf = portal_card::field(&pc.get("/login").body, "csrf");
    let refused = agent.sign_with("hpki", &portal_card::card_challenge(&pc, &csrf), WRONG_PIN, || {});
    assert_eq!(refused["status"], "failed", "a wrong PIN must fail: {refused}");
    s.cookies("before the card login", &pc);
    portal_card::card_session(&pc, agent);
    s.cookies("after the card login", &pc);

    let verifier = "c".repeat(60);
    let uri = "http://127.0.0.1:9/emr";
    let r = pc.get(&format!(
        "/authorize?response_type=code&client_id=emr&scope=openid&redirect_uri={}&code_challenge={}&code_challenge_method=S256",
        enc(uri),
        challenge(&verifier)
    ));
    let code = param(&r.location, "code").unwrap_or_else(|| panic!("no code for the card session: {r:?}"));
    let assertion = Rp::load(p).assertion_as(p, "emr", 60, None);
    let form =
        [("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", uri), ("code_verifier", &verifier)];
    let tokens = p.token(&form, &assertion);
    assert_eq!(oidc::id_claims(&tokens)["acr"], "urn:hcpki:acr:card-pin-facility-mtls", "{tokens}");

    s.text("the PIN", PIN);
    s.bytes("the PIN", PIN.as_bytes());
    s.text("a wrong PIN", WRONG_PIN);
    s.bytes("a wrong PIN", WRONG_PIN.as_bytes());
    s.text("the card session's code", &code);
    s.text("the card session's PKCE verifier", &verifier);
    s.text("the EMR's client assertion", &assertion);
    for token in ["access_token", "refresh_token", "id_token"] {
        s.text(&format!("the card session's {token}"), tokens[token].as_str().unwrap());
    }
    pc
}

/// The console's sign-in from the card session in browser `pc`: refused without a console grant, then, granted
/// operator, in (its code redeemed in-process, its session cookie) and a console page read with that cookie.
fn console_sign_in_with_the_card(pc: &Portal, s: &mut Secrets) {
    let console = console_of(pc);
    let mut watch = |r: &oidc::Reply| {
        s.cookies("in the console's sign-in", pc);
        if r.location.starts_with(&format!("{console}/console/login/callback?")) {
            s.text("the console's code", &param(&r.location, "code").unwrap_or_else(|| panic!("{r:?}")));
        }
    };
    let refused = console_sign_in_watching(pc, &console, &mut watch);
    assert_eq!(refused.status, 403, "no console grant yet: {refused:?}");
    pc.h.ok(&["console-grant", "add", &person_key_of(&refused), "--role", "operator"]);
    let r = console_sign_in_watching(pc, &console, &mut watch);
    assert_eq!(r.status, 200, "{r:?}");
    let home = pc.curl(&[&format!("{console}/console/?lang=en")]);
    assert!(home.status == 200 && home.body.contains("(operator, signed in through the portal)"), "{home:?}");
    s.cookies("after a console page", pc);
}

/// EST with a wrong and a good password and serverkeygen, SCEP with a wrong and a good challenge, an ACME account
/// with EAB.
fn enrollment(p: &Portal, facility: &str, s: &mut Secrets) {
    let h = &*p.h;
    let est = Est::new(h, p.served());
    let req = csr(h.scratch(), "est-pc", Key::P256, "est-pc");
    let body = base64_of(&csr_der(&req));
    let good = est.credential(facility, "pc");
    let wrong = Credential { id: good.id.clone(), secret: good.secret.chars().rev().collect() };
    let r = est.post("/.well-known/est/pc/simpleenroll", &body, &Auth::Basic(&wrong));
    assert!(matches!(r.status, 401 | 403), "a wrong EST password: {}", r.status);
    let r = est.post("/.well-known/est/pc/simpleenroll", &body, &Auth::Basic(&good));
    assert_eq!(r.status, 200, "{}", r.body);
    let keygen = est.credential(facility, "pc");
    let r = est.post("/.well-known/est/pc/serverkeygen", &body, &Auth::Basic(&keygen));
    assert_eq!(r.status, 200, "{}", r.body);
    let parts = multipart_parts(&r.headers, &r.body);
    s.text("an EST password", &good.secret);
    s.text("a wrong EST password", &wrong.secret);
    s.text("the serverkeygen credential's password", &keygen.secret);
    s.private_key("the serverkeygen key", &parts[0].1);

    let scep = Scep::new(h, p.served(), "router");
    let challenge = scep.challenge(facility, "router");
    let wrong = format!("{}{}", &challenge[..32], "0".repeat(32));
    let key = scep.pki_key("scep-router");
    let out = scep.pki_scep("router", &key, "CN=gw", &["--password", &wrong], &h.path("scep-refused.pem"));
    assert!(!out.status.success(), "a wrong SCEP challenge must be refused\n{}", describe(&out));
    let out = scep.pki_scep("router", &key, "CN=gw", &["--password", &challenge], &h.path("scep.pem"));
    assert!(out.status.success(), "{}", describe(&out));
    s.text("a SCEP challenge", &challenge);
    s.text("a wrong SCEP challenge", &wrong);

    let acme = Acme::start(h, facility);
    let directory = acme.directory();
    let eab = acme.credential("pc");
    acme.register_with(&Jose::new(31), directory["newAccount"].as_str().unwrap(), &eab);
    s.text("an EAB HMAC key", &eab.hmac_key);
    s.bytes("an EAB HMAC key", &URL_SAFE_NO_PAD.decode(&eab.hmac_key).unwrap());
}

/// An operator makes a PKCS#12 in the console (a facility's PC certificate alone may not, issue #24 item 7): its
/// passphrase and the key in it.
fn console_pkcs12(p: &Portal, facility: &str, s: &mut Secrets) {
    let admin = operator(&p.h, "p12-ops", "operator");
    // Not the installation's first facility: its router address is allocated to it here (issue #24, item 2).
    p.h.allocate(facility, "198.51.100.9");
    let console = Console::new(&p.h, p.served());
    let page = console.get(&format!("/console/facilities/{facility}"), &admin);
    let fields = [("profile", "router"), ("san", "198.51.100.9"), ("vendor", "cisco")];
    let r = console.submit(&format!("/console/facilities/{facility}/pkcs12"), &fields, &page, &admin);
    assert_eq!(r.status, 201, "{r:?}");
    let (pass, p12) = pkcs12_of(&p.h, &r);
    let out = Command::new("openssl")
        .args(["pkcs12", "-in", p12.to_str().unwrap(), "-passin", &format!("pass:{pass}"), "-nocerts", "-nodes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    let pem = String::from_utf8(out.stdout).unwrap();
    // The PEM block after OpenSSL's "Bag Attributes" lines.
    let body: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    s.text("the PKCS#12 passphrase", &pass);
    s.private_key("the PKCS#12 key", &STANDARD.decode(body.trim()).unwrap());
}

/// Every private key the server keeps in files (`keys/*.p8`, PKCS#8 encrypted with `secrets/key-passphrase`):
/// the CAs', the OCSP signers', the TLS server's, the SCEP RA's and the OIDC token signers'. Opened with OpenSSL.
fn server_keys(p: &Portal, s: &mut Secrets) {
    let passphrase = p.h.dir().join("secrets/key-passphrase");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(p.h.dir().join("keys")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".p8") {
            continue;
        }
        let out = Command::new("openssl")
            // -topk8 -nocrypt: PKCS#8 out (without it, OpenSSL 3.0 writes an EC key in the traditional form).
            .args(["pkcs8", "-topk8", "-nocrypt", "-in", path.to_str().unwrap(), "-outform", "DER"])
            .arg("-passin")
            .arg(format!("file:{}", passphrase.display()))
            .output()
            .unwrap();
        assert!(out.status.success(), "keys/{name}: {}", describe(&out));
        s.private_key(&format!("keys/{name}"), &out.stdout);
        names.push(name);
    }
    let ca_keys = ["root.p8", "router.p8", "pc.p8", "server.p8"];
    for expected in
        ca_keys.into_iter().chain(["tls-server.p8", "scep-ra.p8", "oidc-signing.p8", "oidc-signing-rs256.p8"])
    {
        assert!(names.iter().any(|n| n == expected), "no keys/{expected} among {names:?}");
    }
    assert!(names.iter().any(|n| n.starts_with("ocsp-")), "no OCSP signer key among {names:?}");
}

/// The secrets of a run, each in every form it could be written in.
#[derive(Default)]
struct Secrets {
    /// (what, value) pairs searched for as substrings.
    values: Vec<(String, String)>,
    /// TOTP codes: six digits occur by chance (timestamps, hashes), so only as a value of their own.
    digits: Vec<(String, String)>,
}

impl Secrets {
    fn text(&mut self, what: &str, value: &str) {
        assert!(value.len() >= 6, "{what} is too short to search for");
        self.values.push((what.to_owned(), value.to_owned()));
    }

    /// Every cookie in browser `b`'s jar now (`when` says at which step), each value once.
    fn cookies(&mut self, when: &str, b: &Portal) {
        for (name, value) in b.cookies() {
            if !value.is_empty() && !self.values.iter().any(|(_, v)| *v == value) {
                self.text(&format!("{when}: cookie {name}"), &value);
            }
        }
    }

    fn digits(&mut self, what: &str, code: &str) {
        self.digits.push((what.to_owned(), code.to_owned()));
    }

    /// Raw bytes: hex (both cases), base64 (padded and not) and base64url, and the start of a Rust debug list.
    fn bytes(&mut self, what: &str, bytes: &[u8]) {
        let decimal: Vec<String> = bytes.iter().take(12).map(u8::to_string).collect();
        for (form, value) in [
            ("hex", hex::encode(bytes)),
            ("HEX", hex::encode_upper(bytes)),
            ("base64", STANDARD.encode(bytes)),
            ("unpadded base64", STANDARD_NO_PAD.encode(bytes)),
            ("base64url", URL_SAFE_NO_PAD.encode(bytes)),
            ("debug bytes", format!("[{}", decimal.join(", "))),
        ] {
            self.text(&format!("{what} ({form})"), &value);
        }
    }

    /// A PKCS#8 private key (DER): its bytes as [`Secrets::bytes`], each line of its PEM, and its private scalar
    /// or RSA private exponent alone (hex, base64url as in a JWK's `d`).
    fn private_key(&mut self, what: &str, pkcs8: &[u8]) {
        self.bytes(what, pkcs8);
        for (i, line) in STANDARD.encode(pkcs8).as_bytes().chunks(64).enumerate() {
            let line = std::str::from_utf8(line).unwrap();
            if line.len() >= 16 {
                self.text(&format!("{what} (PEM line {})", i + 1), line);
            }
        }
        let secret = private_part(pkcs8);
        self.text(&format!("{what} (private part, hex)"), &hex::encode(&secret));
        self.text(&format!("{what} (private part, base64url)"), &URL_SAFE_NO_PAD.encode(&secret));
    }

    /// Every secret found in a place, as "WHAT in PLACE: the line".
    fn found_in(&self, places: &[(&str, &str)]) -> Vec<String> {
        let mut leaks = Vec::new();
        for (place, text) in places {
            let mut report = |what: &str, needle: &str| {
                if let Some(line) = text.lines().find(|l| l.contains(needle)) {
                    leaks.push(format!("{what} in {place}: {line}"));
                }
            };
            for (what, value) in &self.values {
                report(what, value);
            }
            for (what, code) in &self.digits {
                for needle in [format!("={code}"), format!("\"{code}\""), format!(": {code}")] {
                    report(what, &needle);
                }
            }
        }
        leaks
    }
}

/// The secret inside a PKCS#8 key (RFC 5208: the privateKey OCTET STRING, its third element): the EC private
/// scalar (RFC 5915: `ECPrivateKey`'s privateKey OCTET STRING), or the RSA private exponent (RFC 8017:
/// `RSAPrivateKey`'s fourth INTEGER).
fn private_part(pkcs8: &[u8]) -> Vec<u8> {
    use der::{Decode as _, Tagged as _};
    fn elements(der: &[u8]) -> Vec<der::asn1::AnyRef<'_>> {
        Vec::from_der(der).expect("a DER SEQUENCE")
    }
    let info = elements(pkcs8);
    let inner = elements(info[2].value());
    if inner[1].tag() == der::Tag::OctetString { inner[1].value().to_vec() } else { inner[3].value().to_vec() }
}
