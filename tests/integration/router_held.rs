//! Router certificates held to the router register on every front end (issue #50 item 2, D174), on one server per
//! database with the real peers the enrollment tests use: with `approved_models_only` on, strongSwan's `pki --est`
//! and `pki --scep`, certbot over ACME and the console's PKCS#12 form each ask for a certificate for a router the
//! facility registered for pre-shared keys, for one of a model off the approved list, and for one it never
//! registered: refused (the EST/SCEP/ACME answers, the console's page in words saying what to register or
//! choose), audited as `cert.issue` denied with the reason, nothing issued; the registered certificate router of
//! an approved model gets its certificate on each. Then the approved-model list over the admin API and the
//! console: the facility's own administrator and an RA's operator are refused (403, audited); a central operator
//! approves the model, and the router that was refused gets its certificate; a status change and a withdrawal.

use crate::acme::Acme;
use crate::admin::{Api, issued, operator};
use crate::console::{Console, pkcs12_of};
use crate::est::Est;
use crate::harness::{Backend, Hcpki, describe};
use crate::scep::Scep;
use serde_json::json;

on_both_backends!(router_certificates_are_held_to_the_register_on_every_front_end);

fn router_certificates_are_held_to_the_register_on_every_front_end(b: Backend) {
    let h = Hcpki::initialized(b);
    let f = h.approved_facility("台帳クリニック");
    let dns = h.router_dns_name(&f);
    h.ok(&["facility", "address", "add", &f, "198.51.100.0/28"]);
    let add = |name: &str, model: &str, auth: &str, address: &str| {
        h.ok(&["router", "add", &f, name, "--model", model, "--firmware", "1.0", "--auth", auth, "--address", address])
    };
    add("gw1", "strongswan", "certificate", "198.51.100.5");
    add("gw2", "yamaha-rtx", "psk", "198.51.100.6");
    // Registered while the list was not enforced: a model the operating body has not approved.
    add("gw3", "netgear-x", "certificate", "198.51.100.7");
    h.ok(&["router", "approved-only", "on"]);
    let ops = operator(&h, "ops", "operator");
    let ra_ops = operator(&h, "ra-ops", "operator");
    h.ok(&["ra", "create", "isp-a", "--kind", "provider", "--label", "A接続株式会社"]);
    h.ok(&["ra", "member", "--operator", "ra-ops", "--ra", "isp-a"]);
    h.ok(&["ra", "assign", &f, "--ra", "isp-a"]);
    let pc = issued(&h, "pc", &f, &[]);
    let acme = Acme::start(&h, &f);
    let server = &acme.server;
    let issued_before = h.cert_list(Some(&f)).len();

    // EST: strongSwan `pki --est` with one credential (given back after each refusal).
    let est = Est::new(&h, server);
    let cred = est.credential(&f, "router");
    let key = est.pki_key("est-router", "ecdsa", "256");
    for san in ["198.51.100.6", "198.51.100.7", "198.51.100.9", &format!("gw2.{dns}")] {
        let req = est.pki_req(&key, &["--san", san]);
        let out = est.pki_est_output(&req, &["--userpass", &format!("{}:{}", cred.id, cred.secret)]);
        assert!(!out.status.success(), "EST {san} must be refused\n{}", describe(&out));
    }
    assert_eq!(h.cert_list(Some(&f)).len(), issued_before, "EST issued nothing");
    let req = est.pki_req(&key, &["--san", "198.51.100.5"]);
    let cert = est.pki_est(&req, &["--userpass", &format!("{}:{}", cred.id, cred.secret)], "est-gw1.pem");
    let san = crate::fixtures::x509_text(&cert, &["-ext", "subjectAltName"]);
    assert!(san.contains("IP Address:198.51.100.5"), "{san}");

    // SCEP: strongSwan `pki --scep` with a challenge: the PSK router's name refused, the certificate router's
    // issued.
    let scep = Scep::new(&h, server, "router");
    let challenge = scep.challenge(&f, "router");
    let skey = scep.pki_key("scep-router");
    let out = h.path("scep.pem");
    let refused =
        scep.pki_scep("router", &skey, "CN=r", &["--password", &challenge, "--san", &format!("gw2.{dns}")], &out);
    assert!(!refused.status.success(), "SCEP for the PSK router must be refused\n{}", describe(&refused));
    let done =
        scep.pki_scep("router", &skey, "CN=r", &["--password", &challenge, "--san", &format!("gw1.{dns}")], &out);
    assert!(done.status.success(), "{}", describe(&done));

    // ACME: certbot orders the PSK router's name (refused, the problem's detail says why), then the
    // certificate router's on the same account.
    let eab = acme.credential("router");
    let gw2 = format!("gw2.{dns}");
    let err = acme.certbot_fails("held", &eab, &["certonly", "-d", &gw2, "--key-type", "ecdsa"]);
    assert!(err.contains("registered to authenticate with a psk"), "{err}");
    let gw1 = format!("gw1.{dns}");
    let cfg = acme.certbot("held", &eab, &["certonly", "-d", &gw1, "--key-type", "ecdsa"]);
    assert!(acme.live(&cfg, &gw1, "cert.pem").exists());

    // The console's PKCS#12 form offers the facility's certificate routers only; the PSK router and the model
    // off the list are refused in words, nothing made.
    let c = Console::new(&h, server);
    let facility_page = format!("/console/facilities/{f}");
    let page = c.get(&facility_page, &ops);
    assert!(page.status == 200 && page.text.contains("id=\"p12-router\""), "{page:?}");
    assert!(page.text.contains("value=\"gw1\"") && !page.text.contains("value=\"gw2\""), "{page:?}");
    let p12 = format!("/console/facilities/{f}/pkcs12");
    let ask = |router: &str, san: &str, page: &crate::admin::Reply| {
        c.submit(&p12, &[("profile", "router"), ("san", san), ("vendor", ""), ("router", router)], page, &ops)
    };
    let r = ask("gw2", "", &page);
    assert!(r.status == 403 && r.text.contains("ルータ台帳にないルータ"), "{r:?}");
    assert!(r.text.contains("registered to authenticate with a psk"), "{r:?}");
    let r = ask("gw3", "", &page);
    assert!(r.status == 403 && r.text.contains("netgear-x") && r.text.contains("is not on the approved list"), "{r:?}");
    let r = ask("", "198.51.100.9", &page);
    assert!(r.status == 403 && r.text.contains("register the router for certificates"), "{r:?}");
    let r = ask("gw1", "198.51.100.5", &page);
    assert_eq!(r.status, 201, "{r:?}");
    pkcs12_of(&h, &r);
    let issued_now = h.cert_list(Some(&f)).len();
    assert_eq!(issued_now, issued_before + 4, "one certificate per front end, for gw1 only");

    // The approved-model list: neither the facility's administrator nor an RA's operator may widen it (403,
    // audited); a central operator approves netgear-x for certificates, and gw3 then gets its certificate.
    let api = Api::new(&h, server);
    let netgear = json!({ "model": "netgear-x", "name": "Netgear X", "vendor": "Netgear", "firmware": "2.1 以降",
        "auth_methods": ["certificate"], "tested": "ベンダー資料のみ" });
    for who in [&pc, &ra_ops] {
        let r = api.post("/api/v1/router-models", &netgear, who);
        assert_eq!(r.status, 403, "{r:?}");
    }
    let bad = json!({ "model": "bad model!", "name": "x", "auth_methods": ["certificate"], "tested": "x" });
    let r = api.post("/api/v1/router-models", &bad, &ops);
    assert!(r.status == 400 && r.text.contains("model"), "{r:?}");
    let r = api.post(
        "/api/v1/router-models",
        &json!({ "model": "m", "name": "x", "auth_methods": ["ipsec"],
        "tested": "x" }),
        &ops,
    );
    assert!(r.status == 400 && r.text.contains("use certificate or psk"), "{r:?}");
    let r = api.post("/api/v1/router-models", &netgear, &ops);
    assert!(r.status == 201 && r.json["vendor"] == "Netgear" && r.json["firmware"] == "2.1 以降", "{r:?}");
    let page = c.get(&facility_page, &ops);
    assert_eq!(ask("gw3", "198.51.100.7", &page).status, 201, "approved now");

    // The console's models page: linked from the routers page; forms for central operators only; a status change
    // and a withdrawal through the forms; the RA's operator refused at the POST (audited).
    let routers_page = c.get(&format!("/console/facilities/{f}/routers"), &ops);
    assert!(routers_page.text.contains("href=\"/console/router-models\""), "{routers_page:?}");
    let models = c.get("/console/router-models", &ops);
    assert!(models.status == 200 && models.text.contains("id=\"approve\"") && models.text.contains("Netgear"));
    let ra_view = c.get("/console/router-models", &ra_ops);
    assert!(ra_view.status == 200 && !ra_view.text.contains("id=\"approve\""), "{ra_view:?}");
    // A valid token of the RA operator's (from a form of the facility in its scope): the refusal is the decision.
    let with_form = c.get(&facility_page, &ra_ops);
    let forged = c.submit("/console/router-models", &[("op", "withdraw"), ("model", "netgear-x")], &with_form, &ra_ops);
    assert_eq!(forged.status, 403, "{forged:?}");
    let r = c.submit(
        "/console/router-models",
        &[("op", "status"), ("model", "netgear-x"), ("tested", "ここで検証済み")],
        &models,
        &ops,
    );
    assert_eq!(r.status, 303, "{r:?}");
    assert!(h.ok(&["router", "models"]).contains("netgear-x\tNetgear X\tcertificate\tここで検証済み"));
    let r = c.submit("/console/router-models", &[("op", "withdraw"), ("model", "netgear-x")], &models, &ops);
    assert_eq!(r.status, 303, "{r:?}");
    let again = api.request("DELETE", "/api/v1/router-models/netgear-x", None, &ops, &[]);
    assert_eq!(again.status, 404, "already withdrawn: {again:?}");
    let r = api.post("/api/v1/router-models/nope/status", &json!({ "tested": "x" }), &ops);
    assert_eq!(r.status, 404, "{r:?}");
    let page = c.get(&facility_page, &ops);
    assert_eq!(ask("gw3", "", &page).status, 403, "withdrawn: refused again");
    acme.server.stop();

    // The audit: each front end's refusal with its reason and actor; the list's changes and refusals.
    let trail = h.audit_entries();
    let refused_by = |actor_prefix: &str, words: &str| {
        trail.iter().any(|e| {
            e["action"] == "cert.issue"
                && e["outcome"] == "denied"
                && e["actor"].as_str().is_some_and(|a| a.starts_with(actor_prefix))
                && e["detail"]["reason"].as_str().is_some_and(|r| r.contains(words))
        })
    };
    assert!(refused_by("est:credential:", "registered to authenticate with a psk"), "{trail:#?}");
    assert!(refused_by("est:credential:", "is not on the approved list"));
    assert!(refused_by("est:credential:", "has registered no router"));
    assert!(refused_by("scep:", "registered to authenticate with a psk"));
    assert!(refused_by("acme:account:", "registered to authenticate with a psk"));
    assert!(refused_by("operator:ops", "is not on the approved list"));
    let count =
        |action: &str, outcome: &str| trail.iter().filter(|e| e["action"] == action && e["outcome"] == outcome).count();
    assert!(count("admin.router.model.manage", "denied") >= 3, "the PC, the RA's operator ×2");
    assert_eq!(count("router.model.approve", "ok"), 2, "approved, then its status changed");
    assert_eq!(count("router.model.remove", "ok"), 1);
    let denied_ra = trail.iter().any(|e| {
        e["action"] == "admin.router.model.manage"
            && e["outcome"] == "denied"
            && e["actor"] == "ra:isp-a:operator:ra-ops"
    });
    assert!(denied_ra, "the RA's refusal carries its scope");
    h.ok(&["audit", "verify"]);
}
