//! The Shared Signals transmitter (OpenID SSF 1.0 with CAEP and RISC; issue #51 item 2, D162) against the real
//! server, on both databases, heard by a receiver written against the specifications with an independent JOSE
//! library (`tests/peers/ssf_receiver.py`, authlib.jose): it checks each SET's signature against the issuer's
//! JWKS, `typ` `secevent+jwt`, `iss`, `aud`, `jti`, `iat`, one known event, no `sub` and no `exp`.
//!
//! One journey per database: rp1 (confidential, pairwise) registers a push stream to the receiver, which fails
//! its first answer (the transmitter retries with back-off; the logins and logouts meanwhile do not wait); desk
//! (confidential, of another service) registers a poll stream. Then sessions end every way the journey can reach cheaply on one server — the portal's
//! logout, `/revoke`, a refresh token replayed, the facility suspended, the account disabled — and each receiver
//! hears its `session-revoked` with the subject as it knows it. The attacks: a public client asking for an `ssf`
//! token, no token, a user's access token, another client's stream id.

use crate::harness::{Backend, describe, repo_root};
use crate::oidc::{PASSWORD, Portal, Rp, code_flow, id_claims, issue_pc, poll, tools, totp};
use serde_json::{Value, json};
use std::io::BufRead as _;
use std::process::{Command, Stdio};

on_both_backends!(a_receiver_hears_every_session_end, a_receiver_hears_the_limits_and_what_other_processes_do);

const SESSION_REVOKED: &str = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
const VERIFICATION: &str = "https://schemas.openid.net/secevent/ssf/event-type/verification";
const STREAM_UPDATED: &str = "https://schemas.openid.net/secevent/ssf/event-type/stream-updated";
const PUSH: &str = "urn:ietf:rfc:8935";
const CREDENTIAL_CHANGE: &str = "https://schemas.openid.net/secevent/caep/event-type/credential-change";
const ACCOUNT_DISABLED: &str = "https://schemas.openid.net/secevent/risc/event-type/account-disabled";

fn a_receiver_hears_every_session_end(b: Backend) {
    let p = Portal::start_with(b, "housekeeping_secs = 1\n", |h| {
        let services = h.path("app-service.toml");
        std::fs::write(&services, crate::public_client::APP_SERVICE).unwrap();
        h.ok(&["service", "add", services.to_str().unwrap()]);
        h.ok(&["oidc", "client", "add", "--id", "app", "--redirect-uri", "http://127.0.0.1/cb", "--auth", "none"]
            .into_iter()
            .chain(["--service", "desktop-emr"])
            .collect::<Vec<_>>());
        // desk: a confidential client of another service than rp1's (another pairwise subject).
        let desk = crate::oidc::service_client(h, "desk", "desktop-emr", &[]);
        h.ok(&desk.iter().map(String::as_str).collect::<Vec<_>>());
    });
    let rp = Rp::load(&p);
    let config: Value = serde_json::from_str(&p.get("/.well-known/ssf-configuration").body).unwrap();
    assert_eq!(config["issuer"], p.issuer.as_str(), "{config}");
    assert_eq!(config["delivery_methods_supported"], json!([PUSH, "urn:ietf:rfc:8936"]), "{config}");

    // The attacks: a public client has no credentials to ask for a receiver's token; no token, or a person's
    // access token, is not a receiver's.
    let public = p.post_to(
        &format!("{}/token", p.issuer),
        &[("grant_type", "client_credentials"), ("scope", "ssf"), ("client_id", "app")],
    );
    assert!(!public.body.contains("access_token") && public.status >= 400, "a public client's ssf token: {public:?}");
    assert_eq!(api(&p, "GET", "/ssf/stream", None, None).0, 401);

    let rp1 = receiver_token(&p, &rp, "rp1");
    let emr = receiver_token(&p, &rp, "desk");
    let (mut pushed, out) = push_receiver(&p, "rp1");
    let port = pushed.stdout.take().map(|s| std::io::BufReader::new(s).lines().next().unwrap().unwrap()).unwrap();
    let created = api(
        &p,
        "POST",
        "/ssf/stream",
        Some(&rp1),
        Some(json!({
            "events_requested": [SESSION_REVOKED, "https://example.com/not-an-event"],
            "delivery": { "method": PUSH, "endpoint_url": format!("http://127.0.0.1:{port}/ssf") },
            "description": "rp1",
        })),
    );
    assert_eq!(created.0, 201, "{created:?}");
    assert_eq!(created.1["events_delivered"], json!([SESSION_REVOKED]), "{created:?}");
    let rp1_stream = created.1["stream_id"].as_str().unwrap().to_owned();
    let again = api(&p, "POST", "/ssf/stream", Some(&rp1), Some(json!({})));
    assert_eq!(again.0, 409, "one stream per receiver: {again:?}");
    let bad = api(&p, "POST", "/ssf/stream", Some(&emr), Some(json!({ "delivery": { "method": "smoke" } })));
    assert!(bad.0 == 400 && bad.1["error_description"].as_str().unwrap().contains("urn:ietf:rfc:8936"), "{bad:?}");
    let polled = api(&p, "POST", "/ssf/stream", Some(&emr), Some(json!({ "events_requested": [SESSION_REVOKED] })));
    assert_eq!(polled.0, 201, "{polled:?}");
    let emr_stream = polled.1["stream_id"].as_str().unwrap().to_owned();
    assert_eq!(polled.1["delivery"]["endpoint_url"], format!("{}/ssf/poll/{emr_stream}", p.issuer));
    // Another client's stream is answered as none.
    let theirs = api(&p, "GET", &format!("/ssf/stream?stream_id={rp1_stream}"), Some(&emr), None);
    assert_eq!(theirs.0, 404, "{theirs:?}");
    let theirs = api(&p, "POST", &format!("/ssf/poll/{rp1_stream}"), Some(&emr), Some(json!({})));
    assert_eq!(theirs.0, 404, "{theirs:?}");
    let updated =
        api(&p, "PATCH", "/ssf/stream", Some(&emr), Some(json!({ "stream_id": emr_stream, "description": "EMR" })));
    assert_eq!((updated.0, &updated.1["description"]), (200, &json!("EMR")), "{updated:?}");
    let verify = api(&p, "POST", "/ssf/verify", Some(&rp1), Some(json!({ "stream_id": rp1_stream, "state": "v1" })));
    assert_eq!(verify.0, 204, "{verify:?}");
    for status in ["paused", "enabled"] {
        let set =
            api(&p, "POST", "/ssf/status", Some(&emr), Some(json!({ "stream_id": emr_stream, "status": status })));
        assert_eq!(set.1["status"], status, "{set:?}");
    }

    // 1. The portal's logout, with rp1 and emr in the session (the push receiver still failing: nothing waits).
    assert_eq!(p.login("alice", PASSWORD, &totp(&p.totp_secret, 0), None).status, 303);
    let alice_rp1 = id_claims(&code_flow(&p, "rp1", &rp.assertion_as(&p, "rp1", 60, None)));
    let alice_emr = id_claims(&code_flow(&p, "desk", &rp.assertion_as(&p, "desk", 60, None)));
    p.sign_out();
    // 2. rp1 revokes its own grant at /revoke; then emr's refresh token replayed ends the session.
    assert_eq!(p.login("alice", PASSWORD, &totp(&p.totp_secret, 1), None).status, 303);
    let revoked = code_flow(&p, "rp1", &rp.assertion_as(&p, "rp1", 60, None));
    let revoked_rp1 = id_claims(&revoked);
    let r = p.curl(&[
        "--data-urlencode",
        "client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "--data-urlencode",
        &format!("client_assertion={}", rp.assertion_as(&p, "rp1", 60, None)),
        "--data-urlencode",
        &format!("token={}", revoked["refresh_token"].as_str().unwrap()),
        &format!("{}/revoke", p.issuer),
    ]);
    assert_eq!(r.status, 200, "{r:?}");
    let replayed = code_flow(&p, "desk", &rp.assertion_as(&p, "desk", 60, None));
    let refresh = |token: &str| {
        p.token(&[("grant_type", "refresh_token"), ("refresh_token", token)], &rp.assertion_as(&p, "desk", 60, None))
    };
    let first = replayed["refresh_token"].as_str().unwrap();
    assert!(refresh(first)["refresh_token"].is_string());
    assert_eq!(refresh(first)["error"], "invalid_grant");
    // 3. The facility of bob's PC suspended (housekeeping announces what the CLI ended).
    let bob = p.totp_user("bob", "Bob Staff");
    let (facility, cert, key) = issue_pc(&p.h, "Clinic SSF");
    let pc = p.with_client_cert(cert, key);
    assert_eq!(pc.login("bob", PASSWORD, &totp(&bob, 0), None).status, 303);
    let bob_rp1 = id_claims(&code_flow(&pc, "rp1", &rp.assertion_as(&p, "rp1", 60, None)));
    p.h.ok(&["facility", "suspend", &facility, "--reason", "inspection"]);
    // 4. carol's account disabled.
    let carol = p.other_browser("carol");
    let carol_secret = p.totp_user("carol", "Carol Staff");
    assert_eq!(carol.login("carol", PASSWORD, &totp(&carol_secret, 0), None).status, 303);
    let carol_rp1 = id_claims(&code_flow(&carol, "rp1", &rp.assertion_as(&p, "rp1", 60, None)));
    p.h.ok(&["portal", "user", "disable", "carol"]);

    // rp1 hears, pushed (after its receiver's first 503): the verification, then each of its sessions' ends.
    let expected = [
        (&alice_rp1, "logout"),
        (&revoked_rp1, "revoke"),
        (&bob_rp1, "facility-suspended"),
        (&carol_rp1, "account-disabled"),
    ];
    let heard = poll(|| {
        let lines: Vec<Value> = std::fs::read_to_string(&out)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (lines.len() > expected.len()).then_some(lines)
    });
    assert!(heard.iter().all(|s| s["aud"] == "rp1" && s["_typ"] == "secevent+jwt"), "{heard:?}");
    let verification = heard.iter().find(|s| s["events"][VERIFICATION].is_object()).expect("verification");
    assert_eq!(verification["events"][VERIFICATION]["state"], "v1");
    assert_eq!(verification["sub_id"], json!({ "format": "opaque", "id": rp1_stream }));
    for (claims, why) in expected {
        assert_revoked(&heard, claims, why, &p.issuer);
    }
    let metrics = p.metrics();
    assert!(metrics.contains("hcpki_ssf_failures_total{reason=\"status\"} 1"), "the 503 counted\n{metrics}");
    assert!(metrics.contains(&format!("hcpki_ssf_delivered_total {}", heard.len())), "{metrics}");

    // emr polls (RFC 8936), the receiver verifies, acknowledges; nothing is left.
    let answer = api(&p, "POST", &format!("/ssf/poll/{emr_stream}"), Some(&emr), Some(json!({ "maxEvents": 50 })));
    assert_eq!((answer.0, &answer.1["moreAvailable"]), (200, &json!(false)), "{answer:?}");
    let sets = verified(&p, "desk", &answer.1["sets"]);
    let updates: Vec<&Value> =
        sets.iter().filter_map(|s| s["events"][STREAM_UPDATED]["status"].as_str().map(|_| s)).collect();
    assert_eq!(updates.len(), 2, "paused, enabled: {sets:?}");
    assert_revoked(&sets, &alice_emr, "logout", &p.issuer);
    let reused = sets
        .iter()
        .find(|s| s["events"][SESSION_REVOKED]["reason_admin"]["en"] == "refresh-token-reused")
        .unwrap_or_else(|| panic!("the replay's end: {sets:?}"));
    assert_eq!(reused["sub_id"]["user"]["sub"], alice_emr["sub"], "{reused}");
    assert_eq!(sets.len(), 4, "{sets:?}");
    let ack: Vec<&str> = answer.1["sets"].as_object().unwrap().keys().map(String::as_str).collect();
    let after = api(&p, "POST", &format!("/ssf/poll/{emr_stream}"), Some(&emr), Some(json!({ "ack": ack })));
    assert_eq!(after.1["sets"], json!({}), "acknowledged SETs leave: {after:?}");
    assert_ne!(alice_rp1["sub"], alice_emr["sub"], "pairwise: each service knows alice by its own subject");

    let deleted = api(&p, "DELETE", &format!("/ssf/stream?stream_id={emr_stream}"), Some(&emr), None);
    assert_eq!(deleted.0, 204, "{deleted:?}");
    let _ = pushed.kill();
    let _ = pushed.wait();
    let audit = p.h.ok(&["audit", "list", "--limit", "2000"]);
    assert!(audit.contains("ssf.stream.put") && audit.contains("ssf.stream.delete"), "{audit}");
    assert!(audit.contains("ssf.refused"), "the refusals are audited\n{audit}");
}

/// D175: the ends and changes the first journey cannot reach in a request, heard by a poll receiver (rp1) and
/// verified by the independent receiver — a session past its absolute deadline and one idle with nobody back
/// (both ended by the housekeeping's sweep, the time moved in the database), the PC certificate of a session
/// revoked and another held by the CLI (another process: the housekeeping claims what it ended), an account
/// disabled by the CLI (RISC `account-disabled` beside its session's end) and a second factor reset by the
/// help desk's CLI (CAEP `credential-change`, app, update); the sweep's ends are audited.
fn a_receiver_hears_the_limits_and_what_other_processes_do(b: Backend) {
    let p = Portal::start_with(b, "housekeeping_secs = 1\n", |_| {});
    let rp = Rp::load(&p);
    let token = receiver_token(&p, &rp, "rp1");
    let asked = json!({ "events_requested": [SESSION_REVOKED, CREDENTIAL_CHANGE, ACCOUNT_DISABLED] });
    let created = api(&p, "POST", "/ssf/stream", Some(&token), Some(asked));
    assert_eq!(created.0, 201, "{created:?}");
    let stream = created.1["stream_id"].as_str().unwrap().to_owned();
    let db = p.h.db();
    // A person signed in at `pc` (if any) with a grant of rp1: the ID token's claims.
    let signed_in = |user: &str, pc: Option<(std::path::PathBuf, std::path::PathBuf)>| {
        let secret = p.totp_user(user, &format!("{user} staff"));
        let view = match pc {
            Some((cert, key)) => p.with_client_cert(cert, key).other_browser(&format!("jar-{user}")),
            None => p.other_browser(&format!("jar-{user}")),
        };
        assert_eq!(view.login(user, PASSWORD, &totp(&secret, 0), None).status, 303, "{user}");
        (id_claims(&code_flow(&view, "rp1", &rp.assertion_as(&p, "rp1", 60, None))), secret)
    };
    let live = |user: &str| format!("person_key = 'pwd:{user}' AND ended_at IS NULL");

    // The absolute limit: the deadline moved to the login's time; the idle one: the login 40 minutes back
    // (idle_minutes 30, plus the sweep's 5 minutes of slack), nothing seen since.
    let (expired, _) = signed_in("s-expired", None);
    let (idle, _) = signed_in("s-idle", None);
    let (_, revoked_cert, revoked_key) = issue_pc(&p.h, "Clinic Revoked");
    let (revoked, _) = signed_in("s-revoked", Some((revoked_cert.clone(), revoked_key)));
    let (_, held_cert, held_key) = issue_pc(&p.h, "Clinic Held");
    let (held, _) = signed_in("s-held", Some((held_cert.clone(), held_key)));
    let (disabled, _) = signed_in("s-disabled", None);
    let (reset, _) = signed_in("s-reset", None);
    assert_eq!(
        db.execute(&format!("UPDATE portal_sessions SET expires_at = created_at WHERE {}", live("s-expired"))),
        1
    );
    assert_eq!(
        db.execute(&format!(
            "UPDATE portal_sessions SET auth_time = auth_time - 2400, seen_at = seen_at - 2400 WHERE {}",
            live("s-idle")
        )),
        1
    );
    let serial = |pem: &std::path::Path| crate::revocation::serial_of(pem);
    p.h.ok(&["revoke", "--serial", &serial(&revoked_cert), "--reason", "keyCompromise"]);
    p.h.ok(&["revoke", "--serial", &serial(&held_cert), "--reason", "certificateHold"]);
    p.h.ok(&["portal", "user", "disable", "s-disabled"]);
    p.h.ok(&["portal", "user", "reset-second-factor", "s-reset"]);

    // rp1 polls until it heard all of it; the receiver verifies each SET.
    let mut heard: Vec<Value> = Vec::new();
    let wanted = 7;
    let heard = poll(|| {
        let answer = api(&p, "POST", &format!("/ssf/poll/{stream}"), Some(&token), Some(json!({ "maxEvents": 50 })));
        assert_eq!(answer.0, 200, "{answer:?}");
        let ack: Vec<String> = answer.1["sets"].as_object().unwrap().keys().cloned().collect();
        if !ack.is_empty() {
            heard.extend(verified(&p, "rp1", &answer.1["sets"]));
            let acked = api(
                &p,
                "POST",
                &format!("/ssf/poll/{stream}"),
                Some(&token),
                Some(json!({ "ack": ack, "maxEvents": 0 })),
            );
            assert_eq!(acked.0, 200, "{acked:?}");
        }
        (heard.len() >= wanted).then(|| heard.clone())
    });
    for (claims, why) in [
        (&expired, "expired"),
        (&idle, "idle"),
        (&revoked, "certificate-revoked"),
        (&held, "certificate-held"),
        (&disabled, "account-disabled"),
    ] {
        assert_revoked(&heard, claims, why, &p.issuer);
    }
    let about = |uri: &str, claims: &Value| {
        heard.iter().find(|s| s["events"][uri].is_object() && s["sub_id"]["sub"] == claims["sub"]).cloned()
    };
    let risc = about(ACCOUNT_DISABLED, &disabled).unwrap_or_else(|| panic!("no account-disabled: {heard:?}"));
    assert_eq!(risc["sub_id"], json!({ "format": "iss_sub", "iss": p.issuer, "sub": disabled["sub"] }), "{risc}");
    let change = about(CREDENTIAL_CHANGE, &reset).unwrap_or_else(|| panic!("no credential-change: {heard:?}"));
    let change = &change["events"][CREDENTIAL_CHANGE];
    assert_eq!((&change["credential_type"], &change["change_type"]), (&json!("app"), &json!("update")), "{change}");
    assert_eq!(heard.len(), wanted, "nothing else, nothing twice: {heard:?}");
    assert_eq!(
        db.execute(&format!("UPDATE portal_sessions SET seen_at = seen_at WHERE {}", live("s-reset"))),
        1,
        "a reset ends no session"
    );
    let entries = p.h.audit_entries();
    for why in ["expired", "idle"] {
        assert!(
            entries
                .iter()
                .any(|e| e["action"] == "portal.logout" && e["actor"] == "system" && e["detail"]["reason"] == why),
            "no portal.logout ({why}): {entries:?}"
        );
    }
}

/// The `session-revoked` of `claims`' session (its ID token's `sid`) for `why`, with the subject as the client
/// knows it.
fn assert_revoked(sets: &[Value], claims: &Value, why: &str, issuer: &str) {
    let found = sets
        .iter()
        .find(|s| {
            s["events"][SESSION_REVOKED]["reason_admin"]["en"] == why && s["sub_id"]["session"]["id"] == claims["sid"]
        })
        .unwrap_or_else(|| panic!("no session-revoked ({why}) for {}: {sets:?}", claims["sid"]));
    let user = &found["sub_id"]["user"];
    assert_eq!((&user["format"], &user["iss"], &user["sub"]), (&json!("iss_sub"), &json!(issuer), &claims["sub"]));
    assert!(found["events"][SESSION_REVOKED]["event_timestamp"].is_i64(), "{found}");
}

/// A receiver's token: client_credentials with scope ssf, as `client` (private_key_jwt).
fn receiver_token(p: &Portal, rp: &Rp, client: &str) -> String {
    let t = p.token(&[("grant_type", "client_credentials"), ("scope", "ssf")], &rp.assertion_as(p, client, 60, None));
    assert_eq!(t["scope"], "ssf", "{t}");
    t["access_token"].as_str().unwrap().to_owned()
}

/// `method` `path` with the bearer `token` and a JSON `body`: the status and the JSON answer (`Null` if none).
fn api(p: &Portal, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let mut args = vec!["-X".to_owned(), method.to_owned()];
    if let Some(t) = token {
        args.extend(["-H".to_owned(), format!("Authorization: Bearer {t}")]);
    }
    if let Some(b) = body {
        args.extend([
            "-H".to_owned(),
            "Content-Type: application/json".to_owned(),
            "--data-binary".to_owned(),
            b.to_string(),
        ]);
    }
    args.push(format!("{}{path}", p.issuer));
    let r = p.curl(&args.iter().map(String::as_str).collect::<Vec<_>>());
    (r.status, serde_json::from_str(&r.body).unwrap_or(Value::Null))
}

/// The push receiver of `audience`, answering its first POST 503: the process and the file its SETs go to.
fn push_receiver(p: &Portal, audience: &str) -> (std::process::Child, std::path::PathBuf) {
    let out = p.h.path(&format!("ssf-{audience}.jsonl"));
    let child = Command::new(tools().join("bin/python"))
        .arg(repo_root().join("tests/peers/ssf_receiver.py"))
        .args(["push", "--issuer", &p.issuer, "--ca", p.chain.to_str().unwrap(), "--audience", audience])
        .args(["--out", out.to_str().unwrap(), "--fail-first", "1"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("the SSF receiver (tests/peers/ssf_receiver.py) starts");
    (child, out)
}

/// A poll answer's SETs, verified by the receiver: their claims.
fn verified(p: &Portal, audience: &str, sets: &Value) -> Vec<Value> {
    let mut child = Command::new(tools().join("bin/python"))
        .arg(repo_root().join("tests/peers/ssf_receiver.py"))
        .args(["verify", "--issuer", &p.issuer, "--ca", p.chain.to_str().unwrap(), "--audience", audience])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), sets.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the receiver refused a polled SET\n{}", describe(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}
