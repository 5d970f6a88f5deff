//! Scoped registration authorities (issue #50 item 3, D167) on one server per database, driven from the outside:
//! a prefecture RA (東京都, prefecture 13) and a connection provider RA, each with an operator certificate, and a
//! central operator. The attacks first: each RA's operator approving, suspending, reading, issuing credentials
//! for and registering a facility outside its scope through the admin API and the console, and asking for what
//! only central operators do, is refused (403, saying why), audited with the RA in the actor, and changes nothing;
//! then each RA's own queue (API and console) and its approvals and suspensions, audited with the scope; the
//! central operator keeps the whole view. The CLI has no operator identity (it runs on the CA's host as
//! `cli:<user>`): it is the central tool that creates RAs, assigns facilities and places staff, and refuses bad
//! input.

use crate::admin::{Api, As, operator};
use crate::console::Console;
use crate::fixtures::unassigned_facility_id;
use crate::harness::{Backend, Hcpki};
use crate::serve::Served;
use serde_json::json;

on_both_backends!(ras_act_only_inside_their_scope);

fn ras_act_only_inside_their_scope(b: Backend) {
    let h = Hcpki::initialized(b);
    let ops = operator(&h, "ops", "operator");
    let tokyo_ops = operator(&h, "tokyo-ops", "operator");
    let isp_ops = operator(&h, "isp-ops", "operator");
    h.ok(&["ra", "create", "tokyo", "--kind", "prefecture", "--label", "東京都", "--prefectures", "13"]);
    h.ok(&["ra", "create", "isp-a", "--kind", "provider", "--label", "A接続株式会社"]);
    h.ok(&["ra", "member", "--operator", "tokyo-ops", "--ra", "tokyo"]);
    h.ok(&["ra", "member", "--operator", "isp-ops", "--ra", "isp-a"]);
    let in_tokyo = h.add_facility("東京クリニック", Some(&code(13, 1)));
    let in_osaka = h.add_facility("大阪クリニック", Some(&code(27, 2)));
    let with_isp = h.add_facility("大阪医院", Some(&code(27, 3)));
    h.ok(&["ra", "assign", &with_isp, "--ra", "isp-a"]);
    // The CLI's bad input: clear errors, nothing made.
    assert!(h.fails(&["ra", "assign", &in_osaka, "--ra", "tokyo"]).contains("is a prefecture RA"));
    assert!(
        h.fails(&["ra", "create", "x", "--kind", "prefecture", "--label", "x", "--prefectures", "48"]).contains("1–47")
    );
    assert!(h.fails(&["ra", "create", "tokyo", "--kind", "provider", "--label", "z"]).contains("exists already"));
    let listed = h.ok(&["ra", "list"]);
    assert!(listed.contains("tokyo\tprefecture\t東京都\t13\toperator:tokyo-ops"), "{listed}");
    assert!(listed.contains("isp-a\tprovider\tA接続株式会社\t-\toperator:isp-ops"), "{listed}");

    let server = Served::start(&h, &[]);
    let api = Api::new(&h, &server);
    let console = Console::new(&h, &server);
    let forbidden = |r: &crate::admin::Reply, words: &str| {
        assert_eq!(r.status, 403, "{r:?}");
        assert!(r.text.contains(words), "{words:?} missing: {r:?}");
    };
    let outside = "outside the scope of registration authority";

    // Attacks through the admin API: another scope's facility, and what is central.
    forbidden(&api.post(&format!("/api/v1/facilities/{in_osaka}/approve"), &json!({}), &tokyo_ops), outside);
    forbidden(&api.post(&format!("/api/v1/facilities/{with_isp}/approve"), &json!({}), &tokyo_ops), outside);
    forbidden(&api.post(&format!("/api/v1/facilities/{in_tokyo}/approve"), &json!({}), &isp_ops), outside);
    forbidden(&api.get(&format!("/api/v1/facilities/{in_osaka}"), &tokyo_ops), outside);
    forbidden(&api.get(&format!("/api/v1/facilities/{in_tokyo}/certificates"), &isp_ops), outside);
    let body = json!({ "protocol": "est", "profiles": ["pc"], "valid_for": "1d" });
    forbidden(&api.post(&format!("/api/v1/facilities/{in_osaka}/credentials"), &body, &tokyo_ops), outside);
    // A facility that does not exist is outside every RA's scope: no way to probe which IDs exist.
    forbidden(&api.get(&format!("/api/v1/facilities/{}", unassigned_facility_id()), &tokyo_ops), outside);
    forbidden(&api.get("/api/v1/addresses?address=192.0.2.7", &tokyo_ops), "central operators");
    forbidden(&api.get("/api/v1/users?q=a", &isp_ops), "central operators");
    let new_ra = json!({ "name": "own", "kind": "provider", "label": "自称" });
    forbidden(&api.post("/api/v1/ras", &new_ra, &isp_ops), "central operators");
    let take = json!({ "facility": in_osaka, "ra": "isp-a" });
    forbidden(&api.post("/api/v1/ras/assign", &take, &isp_ops), "central operators");
    forbidden(&api.post("/api/v1/ras/members", &json!({ "operator": "isp-ops", "ra": null }), &isp_ops), "central");
    // A prefecture RA registers facilities of its prefectures only.
    let osaka_app = json!({ "name": "越境診療所", "kind": "clinic", "medical_code": code(27, 4) });
    forbidden(&api.post("/api/v1/applications", &osaka_app, &tokyo_ops), "prefectures 13 only");
    // The console: the same refusals, in its pages.
    assert_eq!(console.get(&format!("/console/facilities/{in_osaka}"), &tokyo_ops).status, 403);
    let own_page = console.get(&format!("/console/facilities/{in_tokyo}/transition?verb=approve"), &tokyo_ops);
    assert_eq!(own_page.status, 200, "{own_page:?}");
    let path = format!("/console/facilities/{in_osaka}/transition");
    let r = console.submit(&path, &[("verb", "approve")], &own_page, &tokyo_ops);
    assert_eq!(r.status, 403, "{r:?}");
    for id in [&in_tokyo, &in_osaka, &with_isp] {
        assert_eq!(state(&api, id, &ops), "applied", "{id}: nothing changed");
    }

    // Each RA's queue: its own scope (API and console); the central operator's: all.
    assert_eq!(queue(&api, &tokyo_ops), [in_tokyo.as_str()]);
    assert_eq!(queue(&api, &isp_ops), [with_isp.as_str()]);
    assert_eq!(queue(&api, &ops), [in_tokyo.clone(), in_osaka.clone(), with_isp.clone()]);
    let home = console.get("/console/", &tokyo_ops);
    assert!(home.text.contains(&in_tokyo) && !home.text.contains(&in_osaka) && !home.text.contains(&with_isp));
    assert!(home.text.contains("登録局の範囲内の施設だけです") && home.text.contains("東京都 (tokyo)"), "{home:?}");
    let page = console.get("/console/ras", &tokyo_ops);
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.text.contains("あなたの所属する登録局") && page.text.contains("operator:isp-ops"), "{page:?}");
    let whoami = api.get("/api/v1/whoami", &tokyo_ops);
    assert_eq!(whoami.json["ra"], "tokyo", "{whoami:?}");
    assert!(api.get("/api/v1/whoami", &ops).json.get("ra").is_none());

    // Inside their scopes: approve through the console and the API, suspend; register (a provider's own
    // registration is assigned to it); the central operator acts anywhere.
    let r = console.submit(
        &format!("/console/facilities/{in_tokyo}/transition"),
        &[("verb", "approve")],
        &own_page,
        &tokyo_ops,
    );
    assert_eq!(r.status, 303, "{r:?}");
    assert_eq!(api.post(&format!("/api/v1/facilities/{with_isp}/approve"), &json!({}), &isp_ops).status, 200);
    let r = api.post(&format!("/api/v1/facilities/{with_isp}/suspend"), &json!({ "reason": "契約終了" }), &isp_ops);
    assert_eq!(r.status, 200, "{r:?}");
    forbidden(
        &api.post(&format!("/api/v1/facilities/{in_tokyo}/suspend"), &json!({ "reason": "x" }), &isp_ops),
        outside,
    );
    let tokyo_app = json!({ "name": "新宿診療所", "kind": "clinic", "medical_code": code(13, 5) });
    assert_eq!(api.post("/api/v1/applications", &tokyo_app, &tokyo_ops).status, 201);
    let isp_app = json!({ "name": "A接続の診療所", "kind": "clinic" });
    let r = api.post("/api/v1/applications", &isp_app, &isp_ops);
    assert_eq!(r.status, 201, "{r:?}");
    let isp_new = r.json["id"].as_str().unwrap().to_owned();
    assert_eq!(queue(&api, &isp_ops), [isp_new.as_str()], "its own registration is in its scope");
    assert_eq!(api.post(&format!("/api/v1/facilities/{in_osaka}/approve"), &json!({}), &ops).status, 200);
    let ras = api.get("/api/v1/ras", &tokyo_ops);
    assert_eq!(ras.json["ras"].as_array().map(Vec::len), Some(2), "{ras:?}");
    server.stop();

    // The audit: every action with the scope in its actor; the refusals with the facility they aimed at.
    let trail = h.audit_list();
    let has = |actor: &str, action: &str, target: &str, outcome: &str| {
        trail
            .iter()
            .any(|e| e["actor"] == actor && e["action"] == action && e["target"] == target && e["outcome"] == outcome)
    };
    let (tokyo, isp) = ("ra:tokyo:operator:tokyo-ops", "ra:isp-a:operator:isp-ops");
    assert!(has(tokyo, "admin.facility.approve", &in_osaka, "denied"), "{trail:#?}");
    assert!(has(isp, "admin.facility.approve", &in_tokyo, "denied"));
    assert!(has(isp, "admin.facility.suspend", &in_tokyo, "denied"));
    assert!(has(tokyo, "admin.facility.read", &in_osaka, "denied"));
    assert!(has(tokyo, "admin.facility.apply", "-", "denied"));
    assert!(has(isp, "ra.assign", &isp_new, "ok"), "a provider's registration is assigned to it, audited");
    let changed = |actor: &str, target: &str, to: &str| {
        trail.iter().any(|e| {
            e["actor"] == actor
                && e["target"] == target
                && e["action"].as_str().is_some_and(|a| a.starts_with("facility."))
                && e["detail"].to_string().contains(to)
        })
    };
    assert!(changed(tokyo, &in_tokyo, "approved"), "{trail:#?}");
    assert!(changed(isp, &with_isp, "suspended"));
    assert!(changed("operator:ops", &in_osaka, "approved"));
    h.ok(&["audit", "verify"]);
}

/// A valid 医療機関コード of prefecture `pref` (医科), numbered `n` (also `vetting`'s).
pub(crate) fn code(pref: u8, n: u32) -> String {
    let body = format!("{pref:02}1{n:06}");
    (0..=9)
        .map(|d| format!("{body}{d}"))
        .find(|c| hcpki_ca::MedicalInstitutionCode::parse(c).is_ok())
        .expect("one check digit fits")
}

/// The IDs of the applied facilities the caller sees.
fn queue(api: &Api, who: &As) -> Vec<String> {
    let r = api.get("/api/v1/facilities?state=applied", who);
    assert_eq!(r.status, 200, "{r:?}");
    r.json["facilities"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap().to_owned()).collect()
}

fn state(api: &Api, id: &str, who: &As) -> String {
    api.get(&format!("/api/v1/facilities/{id}"), who).json["state"].as_str().unwrap_or("?").to_owned()
}
