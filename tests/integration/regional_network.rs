//! Consents a regional network can use (地域医療連携ネットワーク, issue #49 item 2, D169), inside the consent journey
//! (`consent.rs`, one portal per backend): the operator declares the network with the CLI (a declaration naming an
//! unregistered facility refused first, audited); the EMR's `record-link` template names it, so the consent page
//! shows the network's 管理責任者 and 共同利用 items; the `records` service — a member — checks the patient it holds
//! by its own presence-proof reference: live, then withdrawn after the patient's withdrawal, which its feed lists;
//! the attacks first, each refused by the real server and audited: a non-member service (the EMR), a facility
//! outside the group, an undeclared network, another patient reference (answered `none`, nothing else).

use crate::oidc::{Portal, Rp};
use crate::presence_proof;
use serde_json::Value;

/// The network's name, as the EMR's template names it.
pub(crate) const NETWORK: &str = "ajisai-net";
/// Its responsible party, which the consent page must show.
pub(crate) const RESPONSIBLE: &str = "あじさいネット運営協議会";

/// The operator declares the network with `facility` and the `records` service as members, after a declaration
/// naming a facility that is not registered is refused (nothing stored, audited denied).
pub(crate) fn declared(p: &Portal, facility: &str) {
    let file = p.h.path("network.toml");
    let write = |facility: &str| {
        let text = format!(
            "name = \"{NETWORK}\"\ntitle = \"あじさい地域医療連携ネットワーク\"\nresponsible_name = \"{RESPONSIBLE}\"\n\
             responsible_contact = \"事務局 電話 03-0000-0000(平日 9〜17 時)\"\nitems = \"受診歴、検査結果、処方、アレルギー\"\n\
             purpose = \"参加医療機関で、患者さんに安全で切れ目のない医療を提供するため\"\n\
             joint_users = \"あじさいネットに参加する医療機関と、その地域連携カルテ\"\n\
             facilities = [\"{facility}\"]\nservices = [\"{}\"]\n",
            presence_proof::SERVICE
        );
        std::fs::write(&file, text).unwrap();
    };
    write("HF99999999X");
    let refused = p.h.fails(&["network", "declare", file.to_str().unwrap()]);
    assert!(refused.contains("not a registered facility"), "{refused}");
    write(facility);
    let out = p.h.ok(&["network", "declare", file.to_str().unwrap()]);
    assert!(out.contains(&format!("network {NETWORK} declared")), "{out}");
    assert!(p.h.ok(&["network", "list"]).contains(RESPONSIBLE));
}

/// The member checks while the consent is live (`patient_ref`: the records service's reference, the `sub` of its
/// presence proof), the attacks refused first.
pub(crate) fn live_for_members(p: &Portal, rp: &Rp, patient_ref: &str, facility: &str) {
    // A service outside the network (the EMR asked for the consent, but is no member): refused.
    let emr = check(p, rp, "emr", &[("network", NETWORK), ("patient_ref", patient_ref)]);
    assert_eq!(emr["error"], "access_denied", "{emr}");
    assert!(emr["error_description"].as_str().unwrap().contains("not a member"), "{emr}");
    // A facility outside the group: refused, not answered "none".
    let outside = check(
        p,
        rp,
        presence_proof::CLIENT,
        &[("network", NETWORK), ("patient_ref", patient_ref), ("facility", "HF99999999X")],
    );
    assert_eq!(outside["error"], "access_denied", "{outside}");
    assert!(outside["error_description"].as_str().unwrap().contains("is not a member"), "{outside}");
    // A network never declared: refused.
    let unknown = check(p, rp, presence_proof::CLIENT, &[("network", "other-net"), ("patient_ref", patient_ref)]);
    assert_eq!(unknown["error"], "not_found", "{unknown}");
    // Another patient's reference: none, and nothing else.
    let other = check(p, rp, presence_proof::CLIENT, &[("network", NETWORK), ("patient_ref", "another-patient")]);
    assert_eq!(other["status"], "none", "{other}");
    // The member, for the patient it holds (at the member facility, or without naming one): live, nothing else.
    for more in [&[][..], &[("facility", facility)][..]] {
        let mut form = vec![("network", NETWORK), ("patient_ref", patient_ref)];
        form.extend_from_slice(more);
        let live = check(p, rp, presence_proof::CLIENT, &form);
        assert_eq!(live["status"], "live", "{live}");
        let mut names: Vec<&str> = live.as_object().unwrap().keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["live", "network", "patient_ref", "status"], "{live}");
    }
}

/// After the patient's withdrawal: the member's check says withdrawn, its feed lists the withdrawal with its own
/// reference, a non-member's feed is refused; every check and poll audited, the refusals denied.
pub(crate) fn withdrawn_for_members(p: &Portal, rp: &Rp, patient_ref: &str) {
    let gone = check(p, rp, presence_proof::CLIENT, &[("network", NETWORK), ("patient_ref", patient_ref)]);
    assert_eq!((gone["status"].as_str(), gone["live"].as_bool()), (Some("withdrawn"), Some(false)), "{gone}");
    let feed = events(p, rp, presence_proof::CLIENT, "0");
    let list = feed["events"].as_array().unwrap_or_else(|| panic!("{feed}"));
    assert_eq!(list.len(), 1, "{feed}");
    assert_eq!((list[0]["type"].as_str(), list[0]["patient_ref"].as_str()), (Some("withdrawn"), Some(patient_ref)));
    assert_eq!(list[0]["network"], NETWORK);
    assert!(list[0].get("patient").is_none() && list[0].get("id").is_none(), "nothing else: {feed}");
    let later = events(p, rp, presence_proof::CLIENT, &(list[0]["withdrawn_at"].as_i64().unwrap() + 1).to_string());
    assert_eq!(later["events"].as_array().map(Vec::len), Some(0), "the cursor: {later}");
    let emr = events(p, rp, "emr", "0");
    assert_eq!(emr["error"], "access_denied", "{emr}");

    let log = p.h.audit_entries();
    let count =
        |action: &str, outcome: &str| log.iter().filter(|e| e["action"] == action && e["outcome"] == outcome).count();
    assert_eq!(count("network.declared", "ok"), 1);
    assert_eq!(count("network.declared", "denied"), 1);
    assert!(count("consent.network_checked", "ok") >= 4, "live ×2, none, withdrawn");
    assert!(count("consent.network_checked", "denied") >= 3, "the EMR, the facility, the network");
    assert_eq!(count("consent.network_events", "ok"), 2);
    assert_eq!(count("consent.network_events", "denied"), 1);
    let requested = log.iter().find(|e| e["action"] == "consent.requested" && e["detail"]["network"] == NETWORK);
    assert!(requested.is_some(), "the request names the network");
}

/// `POST /api/v1/network-consents/check` as `client` (private_key_jwt).
fn check(p: &Portal, rp: &Rp, client: &str, form: &[(&str, &str)]) -> Value {
    p.post_form("/api/v1/network-consents/check", form, &rp.assertion_as(p, client, 60, None))
}

/// `POST /api/v1/network-consent-events` as `client`.
fn events(p: &Portal, rp: &Rp, client: &str, since: &str) -> Value {
    let form = [("network", NETWORK), ("since", since)];
    p.post_form("/api/v1/network-consent-events", &form, &rp.assertion_as(p, client, 60, None))
}
