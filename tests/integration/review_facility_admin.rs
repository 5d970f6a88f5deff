//! Issue #24, items 7 and 9, as attacks on the real server and CLI.
//!
//! Item 7: a facility PC certificate is a machine anyone at the facility sits at, not a person. Bare, over the
//! admin API and the console, it tries to create an enrollment credential, make a router PKCS#12 and revoke the
//! facility's router: refused (403, naming the portal sign-in and the grant), audited, nothing made or revoked;
//! it still reads. A person with a facility-admin grant signed in at that PC does it, the audit naming the
//! person and the PC; by password + TOTP only where the facility accepts it (cards only by default).
//!
//! Item 9: revoking or holding a PC certificate ends the SSO sessions started from it in the same transaction:
//! the cookie leads to the login page even on a connection without the certificate, the refresh token is
//! refused, the client gets a back-channel logout token, the revocation's audit entry names the ended
//! sessions; a session from another PC of the same facility lives on.

use crate::admin::{Api, As, issued, operator};
use crate::backchannel::{logout_receiver, received_logout_token};
use crate::console::Console;
use crate::console_card::{count, grant_facility_admin, sign_in_at_pc};
use crate::harness::{Backend, Hcpki};
use crate::oidc::{PASSWORD, Portal, Rp, id_claims, param, poll, totp};
use crate::portal_sessions::{VERIFIER, add_backchannel_client, authorize};
use serde_json::{Value, json};

on_both_backends!(
    a_bare_pc_certificate_only_reads,
    a_named_person_at_the_pc_makes_changes,
    revoking_a_pc_certificate_ends_its_sessions,
    holding_a_pc_certificate_ends_its_sessions,
);

/// The serial of an `issued` certificate as the registry lists it.
fn serial_of(h: &Hcpki, facility: &str, profile: &str) -> String {
    h.cert_list(Some(facility))
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|c| c["profile"] == profile)
        .and_then(|c| c["serial"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("no {profile} certificate of {facility}"))
}

fn status_of(h: &Hcpki, serial: &str) -> String {
    h.cert_list(None)
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|c| c["serial"] == serial)
        .and_then(|c| c["status"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("{serial} not listed"))
}

/// A facility with a PC and a router certificate, an operator, on a server with the portal.
struct Clinic {
    p: Portal,
    f: String,
    pc: As,
    router: String,
}

fn clinic(b: Backend, portal_extra: &str, before_serve: impl FnOnce(&Hcpki)) -> Clinic {
    let mut made = None;
    let p = Portal::start_with(b, portal_extra, |h| {
        operator(h, "ops", "operator");
        let f = h.approved_facility("Review clinic");
        let pc = issued(h, "pc", &f, &[]);
        issued(h, "router", &f, &[]);
        before_serve(h);
        made = Some((f, pc));
    });
    let (f, pc) = made.unwrap();
    let router = serial_of(&p.h, &f, "router");
    Clinic { p, f, pc, router }
}

/// The PC certificate alone: every change refused over the admin API and the console with what to do, each
/// refusal audited, nothing made or revoked; every read still answers.
fn a_bare_pc_certificate_only_reads(b: Backend) {
    let Clinic { p, f, pc, router } = clinic(b, "", |_| ());
    let h = &*p.h;
    let api = Api::new(h, p.served());
    let c = Console::new(h, p.served());
    let certificates = h.cert_list(Some(&f)).len();
    let what_to_do = |text: &str| text.contains("sign in through the portal") && text.contains("console-grant add");

    // The admin API: credential, revocation of the router (PKCS#12 is the console's only).
    let body = json!({ "protocol": "est", "profiles": ["router"], "valid_for": "1d" });
    let r = api.post(&format!("/api/v1/facilities/{f}/credentials"), &body, &pc);
    assert_eq!(r.status, 403, "{r:?}");
    assert!(what_to_do(r.json["detail"].as_str().unwrap_or_default()), "{r:?}");
    let r = api.post(&format!("/api/v1/certificates/{router}/revoke"), &json!({ "reason": "keyCompromise" }), &pc);
    assert_eq!(r.status, 403, "{r:?}");
    assert!(what_to_do(r.json["detail"].as_str().unwrap_or_default()), "{r:?}");

    // The console: the page says why there are no forms; posting them anyway (with the page's own token).
    let page = c.get(&format!("/console/facilities/{f}?lang=en"), &pc);
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.text.contains("id=\"read-only\"") && what_to_do(&page.text), "{page:?}");
    assert!(!page.text.contains("/pkcs12\"") && !page.text.contains("/revoke\""), "no change forms: {page:?}");
    // No form of the facility is served to it; the application form's token is this certificate's all the same.
    let page = c.get("/console/apply?lang=en", &pc);
    let tries = [
        (format!("/console/facilities/{f}/credentials"), vec![("protocol", "est"), ("profile", "router")]),
        (format!("/console/facilities/{f}/pkcs12"), vec![("profile", "router"), ("vendor", "cisco")]),
        (format!("/console/certificates/{router}/revoke"), vec![("reason", "keyCompromise")]),
    ];
    for (path, fields) in &tries {
        let r = c.submit(path, fields, &page, &pc);
        assert_eq!(r.status, 403, "{path}: {r:?}");
        // The console says it in the page's language (Japanese here), in the admin's words (issue #45 item 1).
        assert!(
            r.text.contains("施設の PC 証明書だけでは閲覧のみ") && r.text.contains("ポータルにカードでログイン"),
            "{path}: {r:?}"
        );
        assert!(r.text.contains("何も変更していません") && !r.text.contains("console-grant"), "{path}: {r:?}");
    }

    // Nothing made, nothing revoked.
    let r = api.get(&format!("/api/v1/facilities/{f}/credentials"), &pc);
    assert_eq!((r.status, r.json["credentials"].as_array().map(Vec::len)), (200, Some(0)), "{r:?}");
    assert_eq!(h.cert_list(Some(&f)).len(), certificates, "no certificate issued");
    assert_eq!(status_of(h, &router), "issued", "the router is not revoked");

    // Reads: the facility, its certificates and credentials, over the API and the console.
    for path in [format!("/api/v1/facilities/{f}"), format!("/api/v1/facilities/{f}/certificates")] {
        assert_eq!(api.get(&path, &pc).status, 200, "{path}");
    }
    assert_eq!(api.get("/api/v1/whoami", &pc).json["authenticated_by"], "certificate");
    assert_eq!(c.get("/console/", &pc).status, 200);

    let entries = h.audit_entries();
    let actor = format!("facility-admin:{f}");
    for action in ["admin.credential.create", "admin.device.issue", "admin.certificate.revoke"] {
        let denied = entries.iter().filter(|e| {
            e["action"] == action
                && e["outcome"] == "denied"
                && e["actor"] == actor.as_str()
                && what_to_do(&e["detail"].to_string())
        });
        assert!(denied.count() >= 1, "no denied {action} by {actor}: {entries:?}");
    }
    for action in ["enroll.credential.create", "cert.revoke"] {
        assert_eq!(count(&entries, action, "ok"), 0, "{action}: {entries:?}");
    }
    h.ok(&["audit", "verify"]);
}

/// alice, granted facility-admin and signed in at the facility's PC: by password + TOTP she reads but changes
/// nothing while the facility takes cards only (the default, with what to do); once the operating body accepts
/// password + TOTP there, she creates a credential, makes a router PKCS#12 and revokes the router, each entry
/// naming her and the PC. The setting is audited, refused for an unknown facility, and shown.
fn a_named_person_at_the_pc_makes_changes(b: Backend) {
    let Clinic { p, f, pc, router } = clinic(b, "", |_| ());
    let h = &*p.h;
    let api = Api::new(h, p.served());
    let pc_serial = serial_of(h, &f, "pc");

    assert_eq!(h.ok(&["facility", "admin-login", &f]).trim(), "card", "cards only by default");
    h.ok(&["console-grant", "add", "pwd:alice", "--role", "facility-admin", "--facility", &f]);
    let alice = sign_in_at_pc(&p, &pc, "jar-alice", -1);
    let page = alice.get(&api, &format!("/console/facilities/{f}?lang=en"));
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.text.contains("id=\"read-only\"") && page.text.contains("admin-login"), "{page:?}");
    let fields = [("protocol", "est"), ("profile", "router"), ("valid_for", "1d")];
    // Her session's token, from the one form she is served (signing out).
    let token_page = alice.get(&api, "/console/logout?lang=en");
    let r = alice.submit(&api, &format!("/console/facilities/{f}/credentials"), &fields, &token_page);
    assert_eq!(r.status, 403, "{r:?}");
    assert!(
        r.text.contains("パスワードでのログインは閲覧のみ") && r.text.contains("カードでログインし直して"),
        "{r:?}"
    );
    assert_eq!(count(&h.audit_entries(), "enroll.credential.create", "ok"), 0);

    let unknown = f.replace(|c: char| c.is_ascii_digit(), "9");
    assert!(!h.fails(&["facility", "admin-login", &unknown, "--password-totp", "allow"]).is_empty());
    grant_facility_admin(h, &f);
    assert_eq!(h.ok(&["facility", "admin-login", &f]).trim(), "card or password-totp");

    // The same console session may now change things (the rule is read on every request).
    let page = alice.get(&api, &format!("/console/facilities/{f}?lang=en"));
    assert!(!page.text.contains("id=\"read-only\"") && page.text.contains("/pkcs12"), "{page:?}");
    let r = alice.submit(&api, &format!("/console/facilities/{f}/credentials"), &fields, &page);
    assert_eq!(r.status, 201, "{r:?}");
    let fields = [("profile", "router"), ("san", ""), ("vendor", "cisco")];
    let r = alice.submit(&api, &format!("/console/facilities/{f}/pkcs12"), &fields, &page);
    assert_eq!(r.status, 201, "{r:?}");
    let r =
        alice.submit(&api, &format!("/console/certificates/{router}/revoke"), &[("reason", "keyCompromise")], &page);
    assert_eq!(r.status, 303, "{r:?}");
    assert_eq!(status_of(h, &router), "revoked");

    // The bare certificate is still read-only next to her session.
    let r = api.post(&format!("/api/v1/facilities/{f}/credentials"), &json!({ "protocol": "est" }), &pc);
    assert_eq!(r.status, 403, "{r:?}");

    let entries = h.audit_entries();
    let actor = format!("facility-admin:{f}:pc:{pc_serial}:person:pwd:alice");
    for action in ["enroll.credential.create", "cert.issue", "cert.revoke"] {
        let by_her =
            entries.iter().filter(|e| e["action"] == action && e["outcome"] == "ok" && e["actor"] == actor.as_str());
        assert_eq!(by_her.count(), 1, "{action} by {actor}: {entries:?}");
    }
    assert!(
        entries.iter().any(|e| e["action"] == "admin.credential.create"
            && e["outcome"] == "denied"
            && e["actor"] == actor.as_str()),
        "the card-only refusal names her and the PC: {entries:?}"
    );
    assert_eq!(count(&entries, "facility.admin_login", "ok"), 1, "{entries:?}");
    h.ok(&["audit", "verify"]);
}

/// alice signed in by password + TOTP at two PCs of one facility, each session with a client holding a refresh
/// token; the first PC's certificate is revoked (or held) from the CLI: that session ends, the other not.
fn pc_certificate_ends_its_sessions(b: Backend, reason: &str, end_reason: &str) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let bcl = format!("http://127.0.0.1:{}/bcl", listener.local_addr().unwrap().port());
    let Clinic { p, f, pc, .. } = clinic(b, "housekeeping_secs = 1\n", |h| add_backchannel_client(h, "bc", &bcl));
    let h = &*p.h;
    let pc_serial = serial_of(h, &f, "pc");
    // `issued` names its files after the facility: keep the first PC's before issuing the second.
    let As::Cert(first_cert, first_key) = pc else { unreachable!() };
    let (cert, key) = (h.path("first-pc.pem"), h.path("first-pc.key"));
    std::fs::copy(first_cert, &cert).unwrap();
    std::fs::copy(first_key, &key).unwrap();
    let As::Cert(other_cert, other_key) = issued(h, "pc", &f, &[]) else { unreachable!() };

    let at_pc = p.other_browser("jar-pc").with_client_cert(cert, key);
    assert_eq!(at_pc.login("alice", PASSWORD, &totp(&p.totp_secret, -1), None).status, 303);
    let rp = Rp::load(&p);
    let code = param(&at_pc.get(&authorize("bc")).location, "code").unwrap_or_else(|| panic!("no code"));
    let form = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", crate::oidc::REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let t = p.token(&form, &rp.assertion_as(&p, "bc", 60, None));
    let refresh = t["refresh_token"].as_str().unwrap_or_else(|| panic!("{t}")).to_owned();
    let at_other = p.other_browser("jar-other").with_client_cert(other_cert, other_key);
    assert_eq!(at_other.login("alice", PASSWORD, &totp(&p.totp_secret, 0), None).status, 303);
    let off_pc = p.other_browser("jar-pc");
    assert_eq!(at_pc.get("/").status, 200, "the session is live at its PC");

    let receiver = logout_receiver(listener);
    h.ok(&["revoke", "--serial", &pc_serial, "--reason", reason]);

    let home = off_pc.get("/");
    // The login page names who ended it (issue #26).
    let ended = home.location.ends_with("/login?problem=ended_by_admin");
    assert!(home.status == 303 && ended, "the PC's session after {reason}: {home:?}");
    let again =
        p.token(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)], &rp.assertion_as(&p, "bc", 60, None));
    assert_eq!(again["error"], "invalid_grant", "the refresh token after {reason}: {again}");
    let logout = received_logout_token(&p, &receiver.join().unwrap(), "bc", "ES256");
    assert_eq!(logout["sid"], id_claims(&t)["sid"], "{logout}");
    assert_eq!(at_other.get("/").status, 200, "the other PC's session is untouched");

    let entries = h.audit_entries();
    let revoked = entries
        .iter()
        .find(|e| e["action"] == "cert.revoke" && e["target"] == pc_serial.as_str())
        .unwrap_or_else(|| panic!("no cert.revoke of {pc_serial}: {entries:?}"));
    assert_eq!(revoked["detail"]["sessions_ended"], 1, "{revoked}");
    assert_eq!(revoked["detail"]["session_persons"], json!(["pwd:alice"]), "{revoked}");
    // The housekeeping that sent the logout audits it, with why the session ended (written just after).
    poll(|| {
        let entries = h.audit_entries();
        let ended = entries.iter().any(|e| {
            e["action"] == "portal.logout" && e["target"] == "pwd:alice" && e["detail"]["reason"] == end_reason
        });
        (ended && count(&entries, "oidc.backchannel_logout", "ok") >= 1).then_some(())
    });
    h.ok(&["audit", "verify"]);
}

fn revoking_a_pc_certificate_ends_its_sessions(b: Backend) {
    pc_certificate_ends_its_sessions(b, "keyCompromise", "certificate-revoked");
}

fn holding_a_pc_certificate_ends_its_sessions(b: Backend) {
    pc_certificate_ends_its_sessions(b, "certificateHold", "certificate-held");
}
