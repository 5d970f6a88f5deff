//! The SSO session lifecycle and the services in the database (issue #6, D26), through the real server and
//! CLI: disabling an account and suspending a facility end their sessions (the client gets its back-channel
//! logout, the cookie and the refresh token are refused), per-facility session lifetimes, the housekeeping
//! sweep (background, with its metric, and `hcpki portal sweep`), and `hcpki service …` changing what a
//! running server authorizes without a restart. Sessions are never waited out: deadlines show in the
//! cookie's Max-Age, and the sweep takes `--at`.

use crate::backchannel::{logout_receiver, received_logout_token};
use crate::harness::{Backend, Hcpki};
use crate::oidc::{PASSWORD, Portal, REDIRECT, Rp, challenge, enc, id_claims, issue_pc, param, totp};

on_both_backends!(
    disabling_an_account_ends_its_sessions,
    suspending_a_facility_ends_its_sessions,
    session_lifetime_per_facility,
    housekeeping_sweeps_spent_rows,
    services_live_in_the_database,
);

pub(crate) const VERIFIER: &str = "sessions-verifier-sessions-verifier-sessions-verifier";

pub(crate) fn authorize(client: &str) -> String {
    format!(
        "/authorize?response_type=code&client_id={client}&scope=openid&redirect_uri={}&code_challenge={}&code_challenge_method=S256",
        enc(REDIRECT),
        challenge(VERIFIER)
    )
}

/// Register client `id` of the wiki with its back-channel logout URI `bcl` (the RP's keys).
pub(crate) fn add_backchannel_client(h: &Hcpki, id: &str, bcl: &str) {
    let jwks = h.path("rp/jwks.json");
    h.ok(&[
        "oidc",
        "client",
        "add",
        "--id",
        id,
        "--redirect-uri",
        REDIRECT,
        "--auth",
        "private_key_jwt",
        "--jwks-file",
        jwks.to_str().unwrap(),
        "--service",
        "wiki",
        "--backchannel-logout-uri",
        bcl,
    ]);
}

fn audit(p: &Portal) -> String {
    p.h.ok(&["audit", "list", "--limit", "1000"])
}

/// The account is disabled from the CLI while its session is live in the server: the session ends (the
/// cookie leads to the login page), the grant's refresh token is refused, the client's back-channel URI
/// receives a logout token from the server's housekeeping, and the account cannot log in again.
fn disabling_an_account_ends_its_sessions(b: Backend) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let bcl = format!("http://127.0.0.1:{}/bcl", listener.local_addr().unwrap().port());
    let p = Portal::start_with(b, "housekeeping_secs = 1\n", |h| add_backchannel_client(h, "bc", &bcl));
    assert_eq!(p.login("alice", PASSWORD, &totp(&p.totp_secret, 0), None).status, 303);
    let code = param(&p.get(&authorize("bc")).location, "code").unwrap();
    let rp = Rp::load(&p);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let t = p.token(&form, &rp.assertion_as(&p, "bc", 60, None));
    let refresh = t["refresh_token"].as_str().unwrap_or_else(|| panic!("{t}")).to_owned();
    assert_eq!(p.get("/").status, 200, "the session is live");

    let receiver = logout_receiver(listener);
    p.h.ok(&["portal", "user", "disable", "alice"]);
    let home = p.get("/");
    // The login page names who ended it (issue #26).
    assert!(
        home.status == 303 && home.location.ends_with("/login?problem=ended_by_admin"),
        "a disabled account's cookie: {home:?}"
    );
    let again =
        p.token(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)], &rp.assertion_as(&p, "bc", 60, None));
    assert_eq!(again["error"], "invalid_grant", "a disabled account's refresh token: {again}");
    let logout = received_logout_token(&p, &receiver.join().unwrap(), "bc", "ES256");
    assert_eq!(logout["sid"], id_claims(&t)["sid"], "{logout}");
    let relogin = p.login("alice", PASSWORD, &totp(&p.totp_secret, 1), None);
    assert_ne!(relogin.status, 303, "a disabled account logged in: {relogin:?}");

    let audit = audit(&p);
    assert!(audit.contains("\"portal.user.disable\"") && audit.contains(r#"\"sessions_ended\":1"#), "{audit}");
    assert!(audit.contains("account-disabled") && audit.contains("\"oidc.backchannel_logout\""), "{audit}");
    assert!(audit.contains("account disabled"), "the refused login is not audited with its reason\n{audit}");
    p.h.ok(&["audit", "verify"]);
}

/// Suspending a facility ends the sessions started there: the same cookie on a connection without the
/// facility certificate (which a suspended facility's connection refusal would not reach; a live session there
/// is refused as another PC's, D161) is told it was logged out by an administrator.
fn suspending_a_facility_ends_its_sessions(b: Backend) {
    let p = Portal::start_with(b, "", |_| ());
    let (facility, cert, key) = issue_pc(&p.h, "Clinic S");
    let pc = p.with_client_cert(cert, key);
    assert_eq!(pc.login("alice", PASSWORD, &totp(&p.totp_secret, 0), None).status, 303);
    assert_eq!(pc.get("/").status, 200, "the session at its PC is live");
    p.h.ok(&["facility", "suspend", &facility, "--reason", "inspection"]);
    let home = p.get("/");
    assert!(
        home.status == 303 && home.location.ends_with("/login?problem=ended_by_admin"),
        "the suspended facility's session: {home:?}"
    );
    let audit = audit(&p);
    assert!(audit.contains("\"portal.sessions.end\"") && audit.contains("facility-suspended"), "{audit}");
}

/// `hcpki portal lifetime`: a facility's own lifetime applies to sessions started there (the cookie's
/// Max-Age), the default elsewhere and after clearing it; bad values and unknown facilities are refused.
fn session_lifetime_per_facility(b: Backend) {
    let p = Portal::start_with(b, "session_hours = 12\n", |_| ());
    let (facility, cert, key) = issue_pc(&p.h, "Clinic L");
    let pc = p.with_client_cert(cert, key);
    let max_age = |view: &Portal, step: i64| -> i64 {
        let headers = p.h.path(&format!("headers-{step}"));
        let r = view.curl(&[
            "-D",
            headers.to_str().unwrap(),
            "-H",
            &format!("Origin: {}", p.issuer),
            "--data-urlencode",
            "username=alice",
            "--data-urlencode",
            &format!("password={PASSWORD}"),
            "--data-urlencode",
            &format!("totp={}", totp(&p.totp_secret, step)),
            &format!("{}/login", p.issuer),
        ]);
        assert_eq!(r.status, 303, "{r:?}");
        let text = std::fs::read_to_string(&headers).unwrap();
        let cookie =
            text.lines().find(|l| l.to_ascii_lowercase().starts_with("set-cookie: __host-hcpki-session=")).unwrap();
        // The cookie outlives the session by the hour its row is kept (KEPT_AFTER_END_SECS): the session's own
        // lifetime is the rest.
        cookie.split("Max-Age=").nth(1).unwrap().trim().parse::<i64>().unwrap() - 3600
    };
    p.h.ok(&["portal", "lifetime", "set", &facility, "2"]);
    let err = p.h.fails(&["portal", "lifetime", "set", &facility, "0"]);
    assert!(err.contains("1 to 168"), "{err}");
    let err = p.h.fails(&["portal", "lifetime", "set", "JP-99-9999999-X", "2"]);
    assert!(err.contains("facility"), "{err}");
    assert!(p.h.ok(&["portal", "lifetime", "list"]).contains(&facility));
    assert_eq!(max_age(&pc, -1), 2 * 3600, "the facility's own lifetime");
    assert_eq!(max_age(&p, 0), 12 * 3600, "without a facility: the default");
    p.h.ok(&["portal", "lifetime", "clear", &facility]);
    assert!(p.h.fails(&["portal", "lifetime", "clear", &facility]).contains("no session lifetime"));
    assert_eq!(max_age(&pc, 1), 12 * 3600, "cleared: the default");
    let audit = audit(&p);
    assert!(audit.contains("\"portal.session_lifetime\"") && audit.contains(r#"\"session_secs\":7200"#), "{audit}");
}

/// The server's housekeeping deletes an expired single-use row and counts it in its metric; `hcpki portal
/// sweep --at` deletes the signed-out session once its grace has passed, and a second sweep finds nothing.
fn housekeeping_sweeps_spent_rows(b: Backend) {
    let p = Portal::start_with(b, "housekeeping_secs = 1\n", |_| ());
    assert!(p.metrics().contains("hcpki_portal_swept_rows_total{table=\"oidc_once\"} 0"));
    p.h.db().execute("INSERT INTO oidc_once (kind, key, value, expires_at) VALUES ('par', 'stale', 'v', 1)");
    let mut metrics = String::new();
    for _ in 0..100 {
        metrics = p.metrics();
        if metrics.contains("hcpki_portal_swept_rows_total{table=\"oidc_once\"} 1") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(metrics.contains("hcpki_portal_swept_rows_total{table=\"oidc_once\"} 1"), "{metrics}");

    assert_eq!(p.login("alice", PASSWORD, &totp(&p.totp_secret, 0), None).status, 303);
    p.sign_out();
    let sessions = || p.h.db().scalar_i64("SELECT COUNT(*) FROM portal_sessions");
    assert_eq!(sessions(), 1, "the signed-out session is kept through its grace period");
    let later = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 2 * 86_400)
        .to_string();
    let out = p.h.ok(&["portal", "sweep", "--at", &later]);
    assert!(out.contains("portal_sessions: 1 swept"), "{out}");
    assert_eq!(sessions(), 0);
    let out = p.h.ok(&["portal", "sweep", "--at", &later]);
    assert!(out.lines().filter(|l| l.contains("swept")).all(|l| l.ends_with(": 0 swept")), "{out}");
}

const WIKI_ONLY: &str = r#"version = 1
[[service]]
id = "wiki"
name = "Staff wiki"
roles = []
facility_kinds = ["*"]
min_assurance = "password-totp"
claims = ["name", "facility_id", "acr", "amr"]
"#;

/// The services file seeds the database once; afterwards `hcpki service` manages the services and the
/// running server follows (services_refresh_secs = 0): a removed service's client is refused with the
/// reason and the home page stops listing it; added back, it works again. Bad definitions are refused.
fn services_live_in_the_database(b: Backend) {
    let p = Portal::start_with(b, "services_refresh_secs = 0\n", |_| ());
    let list = p.h.ok(&["service", "list"]);
    assert!(list.contains("wiki") && list.contains("emr"), "{list}");
    assert!(p.h.ok(&["service", "show", "wiki"]).contains("id = \"wiki\""));
    // The file is a seed only: editing it changes nothing once imported.
    std::fs::write(p.h.dir().join("services.toml"), "version = 1\n").unwrap();
    assert!(p.h.ok(&["service", "list"]).contains("wiki"));
    let file = p.h.path("wiki.toml");
    std::fs::write(&file, WIKI_ONLY).unwrap();
    let err = p.h.fails(&["service", "add", file.to_str().unwrap()]);
    assert!(err.contains("exists already"), "{err}");
    let bad = p.h.path("bad.toml");
    std::fs::write(&bad, WIKI_ONLY.replace("roles = []", "roles = [\"wizard\"]").replace("\"wiki\"", "\"lab\""))
        .unwrap();
    let err = p.h.fails(&["service", "add", bad.to_str().unwrap()]);
    assert!(err.contains("unknown role code \"wizard\""), "{err}");
    assert!(!p.h.ok(&["service", "list"]).contains("lab"));

    assert_eq!(p.login("alice", PASSWORD, &totp(&p.totp_secret, 0), None).status, 303);
    assert!(param(&p.get(&authorize("rp1")).location, "code").is_some());
    p.h.ok(&["service", "remove", "wiki"]);
    assert!(p.h.fails(&["service", "remove", "wiki"]).contains("no service wiki"));
    let r = p.get(&authorize("rp1"));
    assert_eq!(param(&r.location, "error").as_deref(), Some("access_denied"), "{r:?}");
    assert!(param(&r.location, "error_description").unwrap().contains("not offered"), "{r:?}");
    assert!(!p.get("/").body.contains("data-service=\"wiki\""), "a removed service is listed");
    p.h.ok(&["service", "add", file.to_str().unwrap()]);
    assert!(param(&p.get(&authorize("rp1")).location, "code").is_some(), "the service added back is refused");
    assert!(p.get("/").body.contains("data-service=\"wiki\""));

    let audit = audit(&p);
    for action in ["portal.service.import", "portal.service.remove", "portal.service.add"] {
        assert!(audit.contains(&format!("\"{action}\"")), "no {action}\n{audit}");
    }
    assert!(audit.contains("denied: service wiki is not offered"), "{audit}");
}
