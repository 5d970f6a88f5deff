//! The patient-presence proof (受診確認トークン, issue #49 item 1, D148) inside the consent journey
//! (`consent.rs`, one portal, one hold of the PC/SC lock): reception identifies the patient with the virtual My
//! Number card's 4-digit PIN through the real agent, choosing the `records` service; the page shows the proof;
//! Authlib's JOSE (an independent implementation) verifies it with the published JWKS; the attacks (another
//! service, another patient reference, another key, `alg: none`, a replay, no proof where the policy requires
//! one) are refused by the real server with words saying why, and audited; an expired proof is refused by the
//! independent verifier two minutes on ([`expired`]) and by the server's core (its unit test). And staff list the patient's consents at their facility
//! (issue #49 item 4), which another facility's staff cannot.

use crate::browser::Chromium;
use crate::harness::repo_root;
use crate::oidc::{self, Portal, Rp, tools};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};
use std::process::Command;

/// The service whose policy requires a presence proof, and its client (added by `consent.rs`'s clinic).
pub(crate) const SERVICE: &str = "records";
/// Its OIDC client.
pub(crate) const CLIENT: &str = "records-rp";
/// The services-file entry.
pub(crate) const SERVICES: &str = "version = 1\n[[service]]\nid = \"records\"\nname = \"地域連携カルテ\"\n\
     roles = [\"*\"]\nfacility_kinds = [\"clinic\", \"hospital\"]\nmin_assurance = \"card-pin-facility\"\n\
     claims = [\"name\", \"hc_role\"]\nrequire_patient_presence = true\n";

/// Reception identifies `patient_id` for the records service (the card's PIN typed in the agent's window by
/// `type_pin`), and the proof the page shows.
pub(crate) fn identify_for_records(
    browser: &mut Chromium,
    p: &Portal,
    patient_id: &str,
    type_pin: impl FnOnce(&mut Chromium),
) -> String {
    browser.goto(&format!("{}/patients/identify?lang=ja", p.issuer));
    browser.eval(&format!("document.getElementById('patient-id').value = '{patient_id}'"));
    browser.eval(&format!("document.getElementById('presence-service').value = '{SERVICE}'"));
    browser.cmd(json!({"cmd": "forget_popups"}));
    browser.cmd(json!({"cmd": "click", "selector": "#identify .flow-button"}));
    type_pin(browser);
    crate::consent::wait_main_text(browser, "受診確認トークンを発行しました");
    browser.eval("document.getElementById('presence-token').value").as_str().unwrap().to_owned()
}

/// The proof `token` checked by its services, the attacks refused; the claims.
pub(crate) fn checked(p: &Portal, pc: &Portal, rp: &Rp, token: &str, patient_id: &str) -> Value {
    let claims = payload(token);
    // What it says, and never: no patient ID, patient key, individual number or four items.
    let mut names: Vec<&str> = claims.as_object().unwrap().keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["actor", "aud", "exp", "iat", "iss", "jti", "proof", "sub"], "{claims}");
    assert_eq!(claims["aud"], SERVICE);
    assert_eq!(claims["actor"]["role"], "medical-doctor", "{claims}");
    assert_eq!(claims["proof"]["method"], "jpki-auth-pin");
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 60);
    let text = String::from_utf8(B64.decode(token.split('.').nth(1).unwrap()).unwrap()).unwrap();
    for never in [patient_id, "pk1:", "花子", "千代田", "霞が関", "1990", "女"] {
        assert!(!text.contains(never), "the proof holds {never:?}: {text}");
    }

    // An independent verifier (Authlib's JOSE) accepts it with the published JWKS, and refuses the forgeries.
    let jwks = p.h.path("presence-jwks.json");
    std::fs::write(&jwks, p.get("/jwks").body).unwrap();
    let verified = independent(&jwks, token, SERVICE, &p.issuer);
    assert_eq!(verified["ok"], true, "{verified}");
    assert_eq!(verified["header"]["typ"], "patient-presence+jwt");
    assert_eq!(verified["header"]["alg"], "ES256");
    assert_eq!(verified["claims"]["sub"], claims["sub"]);
    let mut none_header = B64.encode(r#"{"alg":"none","typ":"patient-presence+jwt"}"#);
    none_header.push('.');
    let alg_none = format!("{none_header}{}.", token.split('.').nth(1).unwrap());
    let other_key = rp.sign_claims(&claims);
    for (forged, what) in [(&alg_none, "alg none"), (&other_key, "another key")] {
        let refused = independent(&jwks, forged, SERVICE, &p.issuer);
        assert_eq!(refused["ok"], false, "{what}: {refused}");
    }
    assert_eq!(independent(&jwks, token, "emr", &p.issuer)["ok"], false, "another audience");

    // The records service asks about it: live, not used yet.
    let asked = introspect(p, rp, CLIENT, token, &[]);
    assert_eq!((asked["active"].as_bool(), asked["used"].as_bool()), (Some(true), Some(false)), "{asked}");
    assert_eq!(asked["sub"], claims["sub"]);
    // Attacks at the real server, each refused with why.
    let refusals = [
        (introspect(p, rp, "emr", token, &[]), "issued for service \"records\", not \"emr\""),
        (introspect(p, rp, CLIENT, token, &[("patient_ref", "another-patient")]), "another patient"),
        (introspect(p, rp, CLIENT, &alg_none, &[]), "\"none\" is not accepted"),
        (introspect(p, rp, CLIENT, &other_key, &[]), "does not verify"),
    ];
    for (answer, words) in refusals {
        assert_eq!(answer["active"], false, "{answer}");
        assert!(answer["reason"].as_str().unwrap().contains(words), "{words}: {answer}");
    }

    // The token endpoint: the records service's policy requires a proof; without one, refused.
    let without = tokens(p, pc, rp, CLIENT, oidc::REDIRECT, &[]);
    assert!(without["error_description"].as_str().unwrap().contains("requires a fresh patient-presence proof"));
    // Replayed at another service (the EMR, which requires none but checks any proof it is sent): refused.
    let elsewhere = tokens(p, pc, rp, "emr", "http://127.0.0.1:9/emr", &[("patient_presence", token)]);
    assert!(elsewhere["error_description"].as_str().unwrap().contains("issued for service"), "{elsewhere}");
    // With it: the access token names the proof; the proof is spent.
    let issued = tokens(p, pc, rp, CLIENT, oidc::REDIRECT, &[("patient_presence", token)]);
    let access = payload(issued["access_token"].as_str().unwrap_or_else(|| panic!("{issued}")));
    assert_eq!(access["patient_presence"]["sub"], claims["sub"], "{access}");
    assert_eq!(access["patient_presence"]["jti"], claims["jti"]);
    let replayed = tokens(p, pc, rp, CLIENT, oidc::REDIRECT, &[("patient_presence", token)]);
    assert!(replayed["error_description"].as_str().unwrap().contains("used already"), "{replayed}");
    let asked = introspect(p, rp, CLIENT, token, &[]);
    assert_eq!((asked["active"].as_bool(), asked["used"].as_bool()), (Some(true), Some(true)), "{asked}");

    let log = p.h.audit_entries();
    let count =
        |action: &str, outcome: &str| log.iter().filter(|e| e["action"] == action && e["outcome"] == outcome).count();
    // This proof's issuance, once (the journey issues others, for other patients: D153's P-384 card).
    let issued = log.iter().filter(|e| e["action"] == "presence.issued" && e["target"] == claims["jti"]).count();
    assert_eq!(issued, 1, "{claims}");
    assert_eq!(count("presence.used", "ok"), 1);
    assert!(count("presence.used", "denied") >= 1, "the replay");
    assert!(count("presence.refused", "denied") >= 2, "no proof; another service");
    assert!(count("presence.introspected", "denied") >= 4, "the four refusals");
    claims
}

/// Expired: the independent verifier two minutes on (libfaketime, as `scripts/deps` installs it) refuses the
/// proof. The server's own expiry check is `hcpki_sso::presence`'s unit test (no test waits out the minute).
pub(crate) fn expired(p: &Portal, token: &str) {
    let jwks = p.h.path("presence-jwks.json");
    let lib = format!("/usr/lib/{}-linux-gnu/faketime/libfaketime.so.1", std::env::consts::ARCH);
    assert!(std::path::Path::new(&lib).is_file(), "{lib} is missing: run scripts/deps (package faketime)");
    let refused = independent_with(&jwks, token, SERVICE, &p.issuer, &[("LD_PRELOAD", &lib), ("FAKETIME", "+2m")]);
    assert_eq!(refused["ok"], false, "{refused}");
    assert!(refused["error"].as_str().unwrap().contains("expired"), "{refused}");
}

/// Staff list the patient's consents at their facility (`/patients/consents`, issue #49 item 4): `ids` are
/// listed at `pc`'s facility, none at `other`'s (another facility's staff, the same patient ID); both audited.
pub(crate) fn consents_listed(
    browser: &mut Chromium,
    p: &Portal,
    patient_id: &str,
    ids: &[&str],
    shot: impl Fn(&mut Chromium, &str),
) {
    browser.goto(&format!("{}/patients/consents?lang=ja", p.issuer));
    browser.eval(&format!("document.getElementById('patient-id').value = '{patient_id}'"));
    browser.eval("document.getElementById('patient-id').form.submit()");
    let shown = crate::consent::wait_main_text(browser, "同意書");
    for id in ids {
        let href = browser.eval(&format!("!!document.querySelector('a[href=\"/consent/{id}\"]')"));
        assert_eq!(href, true, "{id} listed: {shown}");
    }
    assert!(shown.contains("撤回済み"), "{shown}");
    crate::accessibility::assert_wcag21_aa(browser, "main", "a patient's consents (ja)");
    shot(browser, "patient-consents-ja.png");
}

/// Another facility's staff, the same patient ID: nothing listed (their facility's key is another patient's).
pub(crate) fn not_at_another_facility(other: &Portal, patient_id: &str) {
    let page = other.get("/patients/consents?lang=ja");
    let csrf = crate::portal_card::field(&page.body, "csrf");
    let r = other.submit("/patients/consents", &[("csrf", csrf.as_str()), ("patient_id", patient_id)], None);
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body.contains("記録されていません") && !r.body.contains("/consent/"), "{r:?}");
}

/// Authlib's verdict on `token` for `audience`.
fn independent(jwks: &std::path::Path, token: &str, audience: &str, issuer: &str) -> Value {
    independent_with(jwks, token, audience, issuer, &[])
}

/// [`independent`] with `env` set (libfaketime).
fn independent_with(jwks: &std::path::Path, token: &str, audience: &str, issuer: &str, env: &[(&str, &str)]) -> Value {
    let out = Command::new(tools().join("bin/python"))
        .arg(repo_root().join("tests/peers/presence_verify.py"))
        .args([jwks.to_str().unwrap(), token, audience, issuer])
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `POST /presence/introspect` by `client` (private_key_jwt) with `more` fields.
fn introspect(p: &Portal, rp: &Rp, client: &str, token: &str, more: &[(&str, &str)]) -> Value {
    let mut form = vec![("token", token)];
    form.extend_from_slice(more);
    p.post_form("/presence/introspect", &form, &rp.assertion_as(p, client, 60, None))
}

/// The token endpoint's answer to `client`'s code grant for the physician signed in at `pc`, with `more` fields.
pub(crate) fn tokens(p: &Portal, pc: &Portal, rp: &Rp, client: &str, redirect: &str, more: &[(&str, &str)]) -> Value {
    let verifier = "c".repeat(64);
    let r = pc.get(&format!(
        "/authorize?response_type=code&client_id={client}&scope=openid&redirect_uri={}&code_challenge={}&code_challenge_method=S256",
        oidc::enc(redirect),
        oidc::challenge(verifier.as_str())
    ));
    let code = oidc::param(&r.location, "code").unwrap_or_else(|| panic!("no code: {r:?}"));
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect),
        ("code_verifier", verifier.as_str()),
    ];
    form.extend_from_slice(more);
    p.token(&form, &rp.assertion_as(p, client, 60, None))
}

fn payload(jwt: &str) -> Value {
    serde_json::from_slice(&B64.decode(jwt.split('.').nth(1).unwrap()).unwrap()).unwrap()
}
