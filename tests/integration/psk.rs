//! Routers' managed pre-shared keys through `hcpki psk` (issue #50 item 1, D156), on both databases: a length
//! the vendor refuses is refused with nothing kept; a key is the vendor's longest, shown once, in the hub's
//! secrets file while working; a rotated-out key (no overlap) leaves the hub's file and cannot be fetched;
//! another facility cannot fetch it by id; suspending the facility withdraws its key from the hub's file; no
//! key appears on stderr or in the audit log, and every issue, rotation, view and export is audited.
//!
//! Then the router register (issue #50 item 2, D168) and the keys through the admin API and the console, on the
//! same installation and one server: a router's address outside its facility's allocations, a key for a
//! certificate router, an unknown model and a key for no router once only approved models are accepted are
//! refused with what to do, audited, nothing kept; operators issue (shown once) and withdraw through the API, a
//! facility's PC certificate reads only; the console page issues a key behind its CSRF token.
//!
//! The tunnels themselves (strongSwan ↔ libreswan with these keys) run in `ipsec::` (scripts/interop-ipsec).

use crate::admin::{Api, issued, operator};
use crate::console::{Console, form};
use crate::harness::{Backend, Hcpki};
use crate::serve::Served;
use serde_json::json;

on_both_backends!(a_psk_is_issued_rotated_exported_and_withdrawn_with_its_facility);

fn a_psk_is_issued_rotated_exported_and_withdrawn_with_its_facility(b: Backend) {
    let h = Hcpki::initialized(b);
    h.append_config("\n[portal]\nlisten = \"127.0.0.1:0\"\n");
    let f = h.approved_facility("PSK Clinic");
    let other = h.approved_facility("Other Clinic");
    let issue = |vendor: &str, extra: &[&str]| {
        let mut args = vec!["psk", "issue", &f, "--peer", "hub1", "--remote-id", "f.router.example.jp"];
        args.extend(["--vendor", vendor]);
        args.extend(extra);
        h.run(&args)
    };

    // Bad input: longer than Cisco IOS-XE accepts, an unknown vendor. Nothing kept.
    let out = issue("cisco-ios-xe", &["--length", "200"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("does not fit cisco-ios-xe"), "{err}");
    assert!(err.contains("44..=128"), "says what to ask for: {err}");
    let err = h.fails(&["psk", "issue", &f, "--peer", "hub1", "--remote-id", "x", "--vendor", "netgear"]);
    assert!(err.contains("unknown router vendor"), "{err}");
    assert_eq!(h.ok(&["psk", "list", &f]), "", "nothing was kept");

    // Issued at the vendor's longest, shown once on stdout with the configuration lines.
    let out = issue("yamaha-rtx", &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let first = stdout.lines().next().unwrap().to_owned();
    assert_eq!(first.len(), 128, "Yamaha RTX's longest");
    assert!(stdout.contains(&format!("ipsec ike pre-shared-key 1 text {first}")), "{stdout}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains(&first), "the key is never on stderr");
    let key_id = |list: &str, n: usize| list.lines().nth(n).unwrap().split('\t').next().unwrap().to_owned();
    let first_id = key_id(&h.ok(&["psk", "list", &f]), 0);

    let secrets = h.path("hub.secrets");
    let export = || {
        h.ok(&["psk", "hub-secrets", "--peer", "hub1", "--format", "libreswan", "--out", secrets.to_str().unwrap()]);
        std::fs::read_to_string(&secrets).unwrap()
    };
    assert!(export().contains(&format!("@f.router.example.jp : PSK \"{first}\"")));
    assert_eq!(h.ok(&["psk", "show", &f, &first_id]).trim(), first, "re-fetched by its facility");
    let err = h.fails(&["psk", "show", &other, &first_id]);
    assert!(err.contains("not available"), "another facility cannot fetch it: {err}");

    // Rotated with no overlap: the old key leaves the hub's file and cannot be fetched.
    let out = issue("strongswan", &["--overlap-hours", "0"]);
    let second = String::from_utf8(out.stdout).unwrap().lines().next().unwrap().to_owned();
    let file = export();
    assert!(file.contains(&second) && !file.contains(&first), "{file}");
    assert!(h.fails(&["psk", "show", &f, &first_id]).contains("not available"));
    let second_id = key_id(&h.ok(&["psk", "list", &f]), 0);

    // Suspended: the key is withdrawn in the same transaction; the hub's next file has none.
    h.ok(&["facility", "suspend", &f, "--reason", "psk test"]);
    assert!(!export().contains(&second));
    assert!(h.fails(&["psk", "show", &f, &second_id]).contains("not available"));
    assert!(
        h.fails(&["psk", "issue", &f, "--peer", "hub1", "--remote-id", "x", "--vendor", "mikrotik"])
            .contains("suspended")
    );

    let audit = h.ok(&["audit", "list", "--limit", "100000"]);
    assert!(!audit.contains(&first) && !audit.contains(&second), "no key in the audit log");
    for action in ["psk.issue", "psk.rotate", "psk.view", "psk.hub_export", "psk.withdraw"] {
        assert!(audit.contains(&format!("\"{action}\"")), "{action} audited");
    }
    h.ok(&["audit", "verify"]);
    the_router_register_and_the_keys_over_the_api_and_console(&h, &other);
}

/// The router register on the CLI, then the admin API and the console (D168), for facility `f` (approved).
fn the_router_register_and_the_keys_over_the_api_and_console(h: &Hcpki, f: &str) {
    h.ok(&["facility", "address", "add", f, "198.51.100.0/28"]);
    let add = |name: &str, model: &str, auth: &str, address: &str| {
        h.run(&["router", "add", f, name, "--model", model, "--firmware", "1.0", "--auth", auth, "--address", address])
    };
    assert!(add("gw1", "yamaha-rtx", "psk", "198.51.100.5").status.success());
    assert!(add("gw2", "strongswan", "certificate", "198.51.100.6").status.success());
    // Bad input: an address outside the facility's allocations, a key for a certificate router.
    let err = String::from_utf8_lossy(&add("gw3", "strongswan", "psk", "203.0.113.9").stderr).into_owned();
    assert!(err.contains("203.0.113.9 is not in facility") && err.contains("198.51.100.0/28"), "{err}");
    let psk = |extra: &[&str]| {
        let mut args =
            vec!["psk", "issue", f, "--peer", "hub1", "--remote-id", "r.example.jp", "--vendor", "yamaha-rtx"];
        args.extend(extra);
        h.run(&args)
    };
    let err = String::from_utf8_lossy(&psk(&["--router", "gw2"]).stderr).into_owned();
    assert!(err.contains("registered to authenticate with a certificate"), "{err}");
    // Only approved models: an unknown model, a key for no router refused; the register's router gets one.
    h.ok(&["router", "approved-only", "on"]);
    let err = String::from_utf8_lossy(&add("gw4", "netgear-x", "psk", "198.51.100.7").stderr).into_owned();
    assert!(err.contains("\"netgear-x\" is not on the approved list") && err.contains("hcpki router models"), "{err}");
    let err = String::from_utf8_lossy(&psk(&[]).stderr).into_owned();
    assert!(err.contains("register the router (hcpki router add)"), "{err}");
    // The same hold on router certificates from the CLI: for the certificate router only.
    let p12 = h.path("gw.p12");
    let cert = |router: &[&str]| {
        let mut args = vec!["issue", "--profile", "router", "--facility", f, "--p12", p12.to_str().unwrap()];
        args.extend(router);
        h.run(&args)
    };
    let err = String::from_utf8_lossy(&cert(&["--router", "gw1"]).stderr).into_owned();
    assert!(err.contains("registered to authenticate with a psk, not a certificate"), "{err}");
    assert!(String::from_utf8_lossy(&cert(&[]).stderr).contains("register the router"));
    let out = cert(&["--router", "gw2"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let routers = h.ok(&["router", "list", f]);
    assert_eq!(routers.lines().count(), 2, "nothing kept: {routers}");
    assert!(h.ok(&["psk", "list", f]).is_empty(), "no key kept");
    assert!(h.ok(&["router", "models"]).contains("yamaha-rtx\tYamaha RTX\tpsk\t"), "the seeded list");

    // The admin API: operators issue (the key once) and withdraw; the facility's PC certificate reads only.
    let ops = operator(h, "ops", "operator");
    let pc = issued(h, "pc", f, &[]);
    let server = Served::start(h, &[]);
    let api = Api::new(h, &server);
    let r = api.get("/api/v1/router-models", &pc);
    assert!(r.status == 200 && r.json["approved_models_only"] == true, "{r:?}");
    assert_eq!(r.json["models"].as_array().map(Vec::len), Some(7), "{r:?}");
    let routers_path = format!("/api/v1/facilities/{f}/routers");
    let gw5 = json!({ "name": "gw5", "model": "strongswan", "firmware": "5.9.8", "auth": "psk",
        "addresses": ["198.51.100.8"] });
    assert_eq!(api.post(&routers_path, &gw5, &pc).status, 403, "a PC certificate alone reads only");
    let outside = json!({ "name": "gw5", "model": "strongswan", "firmware": "5.9.8", "auth": "psk",
        "addresses": ["192.0.2.200"] });
    let r = api.post(&routers_path, &outside, &ops);
    assert!(r.status == 400 && r.text.contains("allocations"), "{r:?}");
    assert_eq!(api.post(&routers_path, &gw5, &ops).status, 201);
    assert_eq!(api.get(&routers_path, &pc).json["routers"].as_array().map(Vec::len), Some(3));
    let psks_path = format!("/api/v1/facilities/{f}/psks");
    let body = json!({ "peer": "hub1", "remote_id": "r.example.jp", "vendor": "strongswan", "router": "gw5" });
    assert_eq!(api.post(&psks_path, &body, &pc).status, 403);
    let r = api.post(&psks_path, &body, &ops);
    assert_eq!(r.status, 201, "{r:?}");
    let key = r.json["key"].as_str().unwrap().to_owned();
    assert_eq!(key.len(), 128);
    assert!(r.json["configuration"].as_str().unwrap().contains(&format!("secret = {key}")), "{r:?}");
    assert!(r.headers.to_lowercase().contains("cache-control: no-store"), "{r:?}");
    let listed = api.get(&psks_path, &pc);
    assert!(listed.status == 200 && !listed.text.contains(&key), "listed, never the key: {listed:?}");
    let key_id = r.json["key_id"].as_str().unwrap().to_owned();
    let withdraw = format!("{psks_path}/{key_id}/withdraw");
    assert_eq!(api.post(&withdraw, &json!({ "reason": "router lost" }), &pc).status, 403, "operators withdraw");
    assert_eq!(api.post(&withdraw, &json!({ "reason": "router lost" }), &ops).status, 200);
    assert_eq!(api.post(&withdraw, &json!({ "reason": "again" }), &ops).status, 404, "already withdrawn");

    // The console page: the forms behind the CSRF token; a refused router keeps nothing; a key shown once.
    let c = Console::new(h, &server);
    let page_path = format!("/console/facilities/{f}/routers");
    let page = c.get(&page_path, &ops);
    assert!(page.status == 200 && page.text.contains("id=\"issue-psk\"") && page.text.contains("gw5"), "{page:?}");
    let r = c.submit(
        &page_path,
        &[
            ("op", "add"),
            ("name", "gw6"),
            ("model", "strongswan"),
            ("firmware", "5.9"),
            ("auth", "psk"),
            ("addresses", "203.0.113.1"),
        ],
        &page,
        &ops,
    );
    assert!(r.status == 400 && r.text.contains("何も変更していません") && r.text.contains("203.0.113.1"), "{r:?}");
    let forged = form(&[("csrf", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), ("op", "issue")]);
    let origin = format!("Origin: https://127.0.0.1:{}", server.https_port);
    assert_eq!(c.post_raw(&format!("/console/facilities/{f}/psks"), &forged, &ops, &["-H", &origin]).status, 403);
    let r = c.submit(
        &format!("/console/facilities/{f}/psks"),
        &[
            ("op", "issue"),
            ("router", "gw1"),
            ("peer", "hub1"),
            ("remote_id", "r.example.jp"),
            ("vendor", "yamaha-rtx"),
            ("overlap_hours", "0"),
            ("hub_id", "hub1.example.jp"),
            ("hub_address", "192.0.2.1"),
        ],
        &page,
        &ops,
    );
    assert!(r.status == 200 && r.text.contains("ipsec ike pre-shared-key 1 text"), "{r:?}");
    assert!(r.text.contains("一度だけ表示"), "{r:?}");
    server.stop();

    let audit = h.audit_entries();
    let count =
        |action: &str, outcome: &str| audit.iter().filter(|e| e["action"] == action && e["outcome"] == outcome).count();
    assert_eq!(count("router.add", "denied"), 4, "outside ×2, unknown model, console");
    assert!(count("psk.issue", "denied") >= 2, "certificate router, no router");
    assert_eq!(count("cert.issue", "denied"), 2, "a PSK router, no router");
    let denied = (count("admin.psk.issue", "denied"), count("admin.psk.withdraw", "denied"));
    assert!(denied.0 >= 1 && denied.1 >= 2, "the 403s and the 404: {denied:?}");
    assert!(count("router.setting", "ok") == 1 && count("router.add", "ok") == 3);
    assert!(!serde_json::to_string(&audit).unwrap().contains(&key), "no key in the audit log");
    h.ok(&["audit", "verify"]);
}
