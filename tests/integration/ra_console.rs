//! Scoped registration authorities on the console (issue #50 item 3, D174 after D167). First the central
//! operators' forms on `/console/ras` — create an RA, assign a facility to a provider RA, place a member of
//! staff — each the same operation as `hcpki ra` and `/api/v1/ras…`, behind the CSRF token, audited; bad input
//! shown in words with nothing made; an RA's own operator refused at every form (403, audited with the scope).
//! Then a person of an RA end to end: a physician signs in to the console with the virtual HPKI card through the
//! real agent and pcscd, holds an operator's console grant and is a member of a prefecture RA; the console's
//! home is the RA's queue only; a facility outside the scope is refused (its page, its approval with a valid
//! token: 403, audited as `ra:<ra>:person:<key>`, nothing changed); the facility inside is approved.

use crate::admin::{Api, As, operator};
use crate::console::Console;
use crate::console_card::{
    card_console, console_of, console_sign_in, csrf, person_key_of, post_with_cookie, session_cookie, with_cookie,
};
use crate::harness::{Backend, Hcpki};
use crate::portal_card::card_session;
use crate::ra_scope::code;
use crate::serve::Served;

on_both_backends!(central_operators_manage_ras_on_the_console, an_ra_person_on_the_console_sees_only_its_scope);

fn central_operators_manage_ras_on_the_console(b: Backend) {
    let h = Hcpki::initialized(b);
    let ops = operator(&h, "ops", "operator");
    let ra_ops = operator(&h, "ra-ops", "operator");
    let clinic = h.add_facility("大阪クリニック", Some(&code(27, 1)));
    let server = Served::start(&h, &[]);
    let c = Console::new(&h, &server);
    let page = c.get("/console/ras", &ops);
    assert!(page.status == 200 && page.text.contains("id=\"create\"") && page.text.contains("id=\"member\""));
    let submit = |fields: &[(&str, &str)], who: &As| c.submit("/console/ras", fields, &page, who);

    // Bad input: a prefecture that does not exist, in words on the page; nothing made.
    let r =
        submit(&[("op", "create"), ("name", "x"), ("kind", "prefecture"), ("label", "x"), ("prefectures", "48")], &ops);
    assert!(r.status == 400 && r.text.contains("何も変更していません") && r.text.contains("1–47"), "{r:?}");
    // Create a provider RA, assign the facility, place the RA's operator.
    let r = submit(
        &[("op", "create"), ("name", "isp-a"), ("kind", "provider"), ("label", "A接続株式会社"), ("prefectures", "")],
        &ops,
    );
    assert_eq!(r.status, 303, "{r:?}");
    let r = submit(
        &[("op", "create"), ("name", "osaka"), ("kind", "prefecture"), ("label", "大阪府"), ("prefectures", "27")],
        &ops,
    );
    assert_eq!(r.status, 303, "{r:?}");
    assert_eq!(submit(&[("op", "assign"), ("facility", &clinic), ("ra", "isp-a")], &ops).status, 303);
    let r = submit(&[("op", "assign"), ("facility", &clinic), ("ra", "osaka")], &ops);
    assert!(r.status == 400 && r.text.contains("prefecture RA"), "a prefecture RA is not assigned: {r:?}");
    let r = submit(&[("op", "member"), ("kind", "operator"), ("who", "ra-ops"), ("ra", "isp-a")], &ops);
    assert_eq!(r.status, 303, "{r:?}");
    let r = submit(&[("op", "member"), ("kind", "person"), ("who", "not a key"), ("ra", "isp-a")], &ops);
    assert_eq!(r.status, 400, "{r:?}");
    let listed = h.ok(&["ra", "list"]);
    assert!(listed.contains("isp-a\tprovider\tA接続株式会社\t-\toperator:ra-ops"), "{listed}");
    assert!(listed.contains("osaka\tprefecture\t大阪府\t27"), "{listed}");
    assert!(!listed.contains("\nx\t"), "nothing made: {listed}");

    // The RA's operator: the page without forms; every form refused with a valid token, audited with the scope.
    let own = c.get("/console/ras", &ra_ops);
    assert!(own.status == 200 && !own.text.contains("id=\"create\""), "{own:?}");
    for fields in [
        &[("op", "create"), ("name", "own"), ("kind", "provider"), ("label", "自称"), ("prefectures", "")][..],
        &[("op", "assign"), ("facility", &clinic), ("ra", "")],
        &[("op", "member"), ("kind", "operator"), ("who", "ra-ops"), ("ra", "")],
    ] {
        // A valid token of theirs (the approval page of the facility in their scope): the decision refuses.
        let with_form = c.get(&format!("/console/facilities/{clinic}/transition?verb=approve"), &ra_ops);
        let r = c.submit("/console/ras", fields, &with_form, &ra_ops);
        assert_eq!(r.status, 403, "{fields:?}: {r:?}");
    }
    // A forged token: refused before anything is read.
    let forged =
        crate::console::form(&[("csrf", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), ("op", "create")]);
    let origin = format!("Origin: https://127.0.0.1:{}", server.https_port);
    assert_eq!(c.post_raw("/console/ras", &forged, &ops, &["-H", &origin]).status, 403);
    assert_eq!(h.ok(&["ra", "list"]).lines().count(), 2, "still two RAs, the provider still holds the clinic");
    server.stop();

    let trail = h.audit_list();
    let has = |actor: &str, action: &str, outcome: &str| {
        trail.iter().any(|e| e["actor"] == actor && e["action"] == action && e["outcome"] == outcome)
    };
    assert!(has("operator:ops", "ra.create", "ok") && has("operator:ops", "ra.assign", "ok"), "{trail:#?}");
    assert!(has("operator:ops", "ra.member", "ok"));
    assert!(has("ra:isp-a:operator:ra-ops", "admin.ra.manage", "denied"));
    h.ok(&["audit", "verify"]);
}

fn an_ra_person_on_the_console_sees_only_its_scope(b: Backend) {
    let card = card_console(b);
    let (p, agent) = (&card.p, &card.agent);
    let h = &*p.h;
    let api = Api::new(h, p.served());
    let console = console_of(p);
    h.ok(&["ra", "create", "tokyo", "--kind", "prefecture", "--label", "東京都", "--prefectures", "13"]);
    let in_tokyo = h.add_facility("東京クリニック", Some(&code(13, 1)));
    let in_osaka = h.add_facility("大阪クリニック", Some(&code(27, 2)));

    // The physician signs in with the card; the refusal names the person key, which an operator grants and
    // places in the RA (the CLI here; the console's form does the same, above).
    let browser = p.other_browser("jar-ra");
    card_session(&browser, agent);
    let person = person_key_of(&console_sign_in(&browser, &console));
    h.ok(&["console-grant", "add", &person, "--role", "operator"]);
    h.ok(&["ra", "member", "--person", &person, "--ra", "tokyo"]);
    let r = console_sign_in(&browser, &console);
    assert_eq!(r.status, 200, "{r:?}");
    let cookie = session_cookie(h, "jar-ra").expect("a console session");

    // The home is the RA's queue: its facility, not the other prefecture's.
    let home = with_cookie(&api, "/console/", &cookie, &As::Nobody);
    assert_eq!(home.status, 200, "{home:?}");
    assert!(home.text.contains(&in_tokyo) && !home.text.contains(&in_osaka), "{home:?}");
    assert!(home.text.contains("登録局の範囲内の施設だけです") && home.text.contains("東京都 (tokyo)"), "{home:?}");
    // Outside the scope: the page, and an approval with a valid token of this sign-in.
    let r = with_cookie(&api, &format!("/console/facilities/{in_osaka}"), &cookie, &As::Nobody);
    assert_eq!(r.status, 403, "{r:?}");
    let confirm =
        with_cookie(&api, &format!("/console/facilities/{in_tokyo}/transition?verb=approve"), &cookie, &As::Nobody);
    assert_eq!(confirm.status, 200, "{confirm:?}");
    let token = csrf(&confirm.text);
    let approve = |id: &str| {
        let fields = [("csrf", token.as_str()), ("verb", "approve")];
        post_with_cookie(&api, &console, &format!("/console/facilities/{id}/transition"), &fields, &cookie, &As::Nobody)
    };
    assert_eq!(approve(&in_osaka).status, 403);
    assert!(h.ok(&["facility", "show", &in_osaka]).contains("applied"), "nothing changed");
    // Central work: refused too.
    let r = post_with_cookie(
        &api,
        &console,
        "/console/ras",
        &[("csrf", token.as_str()), ("op", "create"), ("name", "own"), ("kind", "provider"), ("label", "x")],
        &cookie,
        &As::Nobody,
    );
    assert_eq!(r.status, 403, "{r:?}");
    // Inside: approved.
    assert_eq!(approve(&in_tokyo).status, 303);
    assert!(h.ok(&["facility", "show", &in_tokyo]).contains("approved"));

    let actor = format!("ra:tokyo:person:{person}");
    let trail = h.audit_list();
    let has = |action: &str, target: &str, outcome: &str| {
        trail.iter().any(|e| {
            e["actor"] == actor.as_str() && e["action"] == action && e["target"] == target && e["outcome"] == outcome
        })
    };
    assert!(has("admin.facility.read", &in_osaka, "denied"), "{trail:#?}");
    assert!(has("admin.facility.approve", &in_osaka, "denied"));
    assert!(has("admin.ra.manage", "-", "denied"));
    let approved = trail.iter().any(|e| {
        e["actor"] == actor.as_str() && e["target"] == in_tokyo.as_str() && e["detail"].to_string().contains("approved")
    });
    assert!(approved, "the approval carries the RA's scope: {trail:#?}");
    h.ok(&["audit", "verify"]);
}
