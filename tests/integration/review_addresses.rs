//! Issue #24, item 2: router IP identities are owned. A facility's router certificate carries only addresses
//! inside that facility's allocations, whichever path asks (CLI issue, EST); allocations of two facilities
//! never overlap (CLI, admin API, CSV import, concurrent adds); `hcpki cert check-addresses` lists live
//! certificates whose addresses are no longer their facility's. Each refusal names what to do, is audited as
//! denied, and changes nothing; the audit chain verifies.

use crate::admin::{Api, As, issued, operator};
use crate::console::{Console, form};
use crate::est::{Auth, Est, base64_of};
use crate::fixtures::{Key, csr, csr_der, run_ok};
use crate::harness::{Backend, Hcpki, describe};
use crate::serve::Served;
use serde_json::json;
use std::path::PathBuf;
use std::process::Command;

on_both_backends!(
    another_facilitys_addresses_are_refused_on_the_cli,
    another_facilitys_addresses_are_refused_over_est,
    overlapping_allocations_are_refused_naming_the_holder,
    the_api_manages_allocations_for_operators_only,
    concurrent_overlapping_adds_allocate_once,
    csv_import_allocates_and_names_bad_and_overlapping_rows,
    check_lists_live_certificates_outside_their_allocations,
    the_console_lists_and_operators_change_allocations,
);

/// What the victim facility B holds, and an address nobody holds. Facility A (the installation's first, through
/// `approved_facility`) holds the harness's documentation ranges.
const B_V6: &str = "2001:db8:b::/48";
const B_V4: &str = "198.51.100.7";
const B_V6_HOST: &str = "2001:db8:b::1";
const NOBODYS: &str = "198.51.100.99";
const WHAT_TO_DO: &str = "ask the network operator to allocate it to your facility";

/// A (attacker, holding the harness's ranges) and B (victim, holding [`B_V6`] and [`B_V4`]), both approved.
fn two_facilities(h: &Hcpki) -> (String, String) {
    let a = h.approved_facility("Attacker clinic");
    let b = h.approved_facility("Victim hospital");
    h.allocate(&b, B_V6);
    h.allocate(&b, B_V4);
    (a, b)
}

/// An OpenSSL P-256 CSR whose extensionRequest asks for `sans` (e.g. `IP:198.51.100.7`).
fn csr_asking(h: &Hcpki, name: &str, sans: &str) -> PathBuf {
    let path = h.path(&format!("{name}.csr"));
    run_ok(
        Command::new("openssl")
            .args(["req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"])
            .args(["-subj", "/CN=router", "-addext", &format!("subjectAltName={sans}")])
            .arg("-keyout")
            .arg(h.path(&format!("{name}.key")))
            .arg("-out")
            .arg(&path),
    );
    path
}

fn denied(h: &Hcpki, action: &str) -> Vec<serde_json::Value> {
    h.audit_entries().into_iter().filter(|e| e["action"] == action && e["outcome"] == "denied").collect()
}

fn count(h: &Hcpki, sql: &str) -> i64 {
    h.db().scalar_i64(sql)
}

/// `hcpki issue` for facility A with B's IPv6 and IPv4 address, and with an address in no allocation: each
/// refused naming the address and what to do, audited as a denied `cert.issue`, nothing issued or reserved.
/// A's own address is issued, and its CN is that checked address.
fn another_facilitys_addresses_are_refused_on_the_cli(b: Backend) {
    let h = Hcpki::initialized(b);
    let (a, _victim) = two_facilities(&h);
    let request = csr(h.scratch(), "router", Key::P256, "router");
    let rows = count(&h, "SELECT COUNT(*) FROM certificates");
    for (san, held) in [(B_V6_HOST, true), (B_V4, true), (NOBODYS, false)] {
        let dns = h.router_dns_name(&a);
        // The address is asked for first: it would have become the CN.
        let args = ["issue", "--profile", "router", "--facility", &a, "--csr", request.to_str().unwrap()];
        let err = h.fails(&[&args[..], &["--san", san, "--san", &dns]].concat());
        assert!(err.contains(san) && err.contains(WHAT_TO_DO), "{san}: {err}");
        assert!(err.contains(&format!("not allocated to facility {a}")), "{san} (held elsewhere: {held}): {err}");
        let refusals = denied(&h, "cert.issue");
        assert!(
            refusals.iter().any(|e| e["target"] == a.as_str() && e["detail"]["reason"].as_str().unwrap().contains(san)),
            "no denied cert.issue naming {san}: {refusals:?}"
        );
    }
    assert_eq!(count(&h, "SELECT COUNT(*) FROM certificates"), rows, "nothing issued or even reserved");
    assert!(h.cert_list(Some(&a)).is_empty());

    let out = h.path("own.pem");
    h.ok(&[
        "issue",
        "--profile",
        "router",
        "--facility",
        &a,
        "--csr",
        request.to_str().unwrap(),
        "--san",
        "192.0.2.9",
        "--out",
        out.to_str().unwrap(),
    ]);
    let text = String::from_utf8(
        run_ok(Command::new("openssl").args(["x509", "-noout", "-subject", "-ext", "subjectAltName", "-in"]).arg(&out))
            .stdout,
    )
    .unwrap();
    assert!(text.contains("CN = 192.0.2.9") && text.contains("IP Address:192.0.2.9"), "{text}");
    h.ok(&["audit", "verify"]);
}

/// EST with facility A's credential: a CSR asking for B's IPv6 and IPv4 addresses is refused (400) naming the
/// address and what to do, audited as denied, nothing issued, the credential given back and still good for a
/// request with A's own address.
fn another_facilitys_addresses_are_refused_over_est(b: Backend) {
    let h = Hcpki::initialized(b);
    let (a, victim) = two_facilities(&h);
    let server = Served::start(&h, &[]);
    let est = Est::new(&h, &server);
    let enroll = "/.well-known/est/simpleenroll";
    let cred = est.credential(&a, "router");

    for (name, sans, shown) in [
        ("v6", format!("IP:{B_V6_HOST}"), B_V6_HOST),
        ("v4", format!("IP:{B_V4}"), B_V4),
        ("both", format!("IP:{B_V4},IP:{B_V6_HOST}"), B_V4),
        ("nobody", format!("IP:{NOBODYS}"), NOBODYS),
    ] {
        let stolen = csr_asking(&h, name, &sans);
        let r = est.post(enroll, &base64_of(&csr_der(&stolen)), &Auth::Basic(&cred));
        assert_eq!(r.status, 400, "{name}: {}", r.body);
        assert!(r.body.contains(shown) && r.body.contains(WHAT_TO_DO), "{name}: {}", r.body);
    }
    assert!(h.cert_list(Some(&a)).is_empty() && h.cert_list(Some(&victim)).is_empty(), "nothing issued");
    let refusals = denied(&h, "cert.issue");
    for address in [B_V6_HOST, B_V4, NOBODYS] {
        assert!(
            refusals.iter().any(|e| e["detail"]["reason"].as_str().unwrap().contains(address)),
            "no denied cert.issue naming {address}: {refusals:?}"
        );
    }

    let own = csr_asking(&h, "own", "IP:2001:db8::7");
    let r = est.post(enroll, &base64_of(&csr_der(&own)), &Auth::Basic(&cred));
    assert_eq!(r.status, 200, "the credential was given back each time: {}", r.body);
    assert_eq!(h.cert_list(Some(&a)).len(), 1);
    h.ok(&["audit", "verify"]);
    server.stop();
}

/// `hcpki facility address add` of a range overlapping another facility's allocation (inside it, or around
/// it), of one already held, of malformed and non-unicast text: refused naming the holder or the problem,
/// audited as denied with the operator named; the allocations unchanged. Removing takes one back.
fn overlapping_allocations_are_refused_naming_the_holder(b: Backend) {
    let h = Hcpki::initialized(b);
    let (a, victim) = two_facilities(&h);
    let before = h.ok(&["facility", "address", "list", "--json"]);

    for (facility, prefix, says) in [
        (&a, "2001:db8:b:1::/64", vec![format!("allocated to facility {victim}"), B_V6.to_owned()]),
        (&a, "2001:db8::/32", vec![format!("allocated to facility {a}")]),
        (&a, "198.51.100.0/29", vec![format!("allocated to facility {victim}"), B_V4.to_owned()]),
        (&victim, "192.0.2.128/25", vec![format!("allocated to facility {a}"), "192.0.2.0/24".into()]),
        (&victim, B_V4, vec![format!("allocated to facility {victim}")]),
        (&victim, "192.0.2.1/24", vec!["host bits".into(), "192.0.2.0/24".into()]),
        (&victim, "127.0.0.1", vec!["loopback".into()]),
        (&victim, "ff02::1", vec!["multicast".into()]),
        (&victim, "::", vec!["unspecified".into()]),
        (&victim, "gw.example", vec!["not an IP address".into()]),
    ] {
        let err = h.fails(&["facility", "address", "add", facility, prefix]);
        for s in &says {
            assert!(err.contains(s.as_str()), "{prefix} for {facility}: {err}");
        }
    }
    assert_eq!(h.ok(&["facility", "address", "list", "--json"]), before, "nothing allocated");
    let refusals = denied(&h, "facility.address.add");
    assert_eq!(refusals.len(), 10, "{refusals:?}");
    assert!(refusals.iter().all(|e| e["actor"].as_str().unwrap().starts_with("cli:")), "{refusals:?}");
    assert!(refusals.iter().any(|e| e["detail"]["reason"].as_str().unwrap().contains(&victim.to_string())));

    let err = h.fails(&["facility", "address", "remove", &a, B_V6]);
    assert!(err.contains("holds no allocation"), "{err}");
    h.ok(&["facility", "address", "remove", &victim, B_V6]);
    h.ok(&["facility", "address", "add", &a, "2001:db8:b::/56"]);
    let listed = h.ok(&["facility", "address", "list", &a]);
    assert!(listed.contains("2001:db8:b::/56"), "{listed}");
    let audit = h.audit_entries();
    assert!(audit.iter().any(|e| e["action"] == "facility.address.remove" && e["outcome"] == "ok"));
    h.ok(&["audit", "verify"]);
}

/// The admin API: an operator lists, adds (201), is refused an overlap (409 naming the holder) and removes;
/// an auditor and the facility's own admin (its PC certificate) may read but not add (403), anonymous 401;
/// every refusal audited.
fn the_api_manages_allocations_for_operators_only(b: Backend) {
    let h = Hcpki::initialized(b);
    let (a, victim) = two_facilities(&h);
    let ops = operator(&h, "ops", "operator");
    let aud = operator(&h, "aud", "auditor");
    let victim_admin = issued(&h, "pc", &victim, &[]);
    let server = Served::start(&h, &[]);
    let api = Api::new(&h, &server);
    let path = format!("/api/v1/facilities/{victim}/addresses");

    let r = api.post(&path, &json!({ "prefix": "192.0.2.64/26" }), &ops);
    assert_eq!(r.status, 409, "{r:?}");
    assert!(r.text.contains(&format!("allocated to facility {a}")) && r.text.contains("192.0.2.0/24"), "{r:?}");
    for (who, name) in [(&aud, "auditor"), (&victim_admin, "facility admin")] {
        let r = api.post(&path, &json!({ "prefix": "198.51.100.32/28" }), who);
        assert_eq!(r.status, 403, "{name}: {r:?}");
        let r = api.get(&path, who);
        assert_eq!(r.status, 200, "{name} reads: {r:?}");
    }
    let r = api.get(&format!("/api/v1/facilities/{a}/addresses"), &victim_admin);
    assert_eq!(r.status, 403, "another facility's allocations: {r:?}");
    let r = api.post(&path, &json!({ "prefix": "198.51.100.32/28" }), &As::Nobody);
    assert_eq!(r.status, 401, "{r:?}");
    let r = api.post(&path, &json!({ "prefix": "not an address" }), &ops);
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(api.get(&path, &ops).json["allocations"].as_array().unwrap().len(), 2, "nothing changed");

    let r = api.post(&path, &json!({ "prefix": "198.51.100.32/28" }), &ops);
    assert_eq!((r.status, r.json["prefix"].as_str()), (201, Some("198.51.100.32/28")), "{r:?}");
    let r = api.request("DELETE", &path, Some(&json!({ "prefix": B_V4 }).to_string()), &ops, &[]);
    assert_eq!(r.status, 200, "{r:?}");
    let r = api.request("DELETE", &path, Some(&json!({ "prefix": B_V4 }).to_string()), &ops, &[]);
    assert_eq!(r.status, 404, "{r:?}");
    let listed = api.get(&path, &victim_admin).json;
    let prefixes: Vec<&str> =
        listed["allocations"].as_array().unwrap().iter().map(|r| r["prefix"].as_str().unwrap()).collect();
    assert_eq!(prefixes, ["198.51.100.32/28", B_V6], "{listed}");

    // Who holds an address (issue #50 item 5): operators and auditors, across facilities; not a facility admin.
    for (who, name) in [(&ops, "operator"), (&aud, "auditor")] {
        let r = api.get("/api/v1/addresses?address=192.0.2.70", who);
        assert_eq!(r.status, 200, "{name}: {r:?}");
        assert_eq!(r.json["allocation"]["facility"], a.as_str(), "{name}: {r:?}");
    }
    let r = api.get("/api/v1/addresses?address=192.0.2.70", &victim_admin);
    assert_eq!(r.status, 403, "a facility admin may not look across facilities: {r:?}");
    let r = api.get("/api/v1/addresses?address=192.0.2.0/24", &ops);
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.text.contains("is a prefix, not one address"), "{r:?}");
    // The facility's security officer (D155): operators (and its card-signed-in admins) name one; its PC
    // certificate and auditors read only; a multi-line name is refused and changes nothing.
    let officer_path = format!("/api/v1/facilities/{victim}/security-officer");
    assert_eq!(api.get(&officer_path, &victim_admin).json["security_officer"], serde_json::Value::Null);
    let officer = json!({ "name": "情報 花子", "contact": "security@victim.example.jp" });
    for (who, name) in [(&aud, "auditor"), (&victim_admin, "facility PC certificate")] {
        let r = api.request("PUT", &officer_path, Some(&officer.to_string()), who, &[]);
        assert_eq!(r.status, 403, "{name}: {r:?}");
    }
    let r = api.request("PUT", &officer_path, Some(&json!({ "name": "a\nb", "contact": "x" }).to_string()), &ops, &[]);
    assert!(r.status == 400 && r.text.contains("one line"), "{r:?}");
    let r = api.request("PUT", &officer_path, Some(&officer.to_string()), &ops, &[]);
    assert_eq!((r.status, r.json["name"].as_str()), (200, Some("情報 花子")), "{r:?}");
    let r = api.get(&officer_path, &victim_admin);
    assert_eq!(r.json["security_officer"]["contact"], "security@victim.example.jp", "{r:?}");
    // The facility's rule on passkeys (D170) goes the same way: read by its PC, set by operators (or its own
    // card-signed-in admins); an unknown rule or a model that is no AAGUID is refused, audited, nothing set.
    let rule_path = format!("/api/v1/facilities/{victim}/passkey-rule");
    assert_eq!(api.get(&rule_path, &victim_admin).json["rule"], "none", "no rule set: any passkey");
    let hardware = json!({ "rule": "models", "models": ["CB69481E-8FF7-4039-93EC-0A2729A154A8"] }).to_string();
    for who in [&aud, &victim_admin] {
        assert_eq!(api.request("PUT", &rule_path, Some(&hardware), who, &[]).status, 403);
    }
    for (bad, says) in [
        (json!({ "rule": "strict" }), "unknown passkey rule"),
        (json!({ "rule": "models", "models": ["yubikey"] }), "AAGUID"),
    ] {
        let r = api.request("PUT", &rule_path, Some(&bad.to_string()), &ops, &[]);
        assert!(r.status == 400 && r.text.contains(says), "{r:?}");
    }
    let r = api.request("PUT", &rule_path, Some(&hardware), &ops, &[]);
    assert_eq!((r.status, r.json["models"][0].as_str()), (200, Some("cb69481e-8ff7-4039-93ec-0a2729a154a8")), "{r:?}");
    assert_eq!(api.get(&rule_path, &victim_admin).json["rule"], "models");
    // And its limit on signing sessions (D172): above the ceiling refused; the PC certificate reads only.
    let limit_path = format!("/api/v1/facilities/{victim}/signing-limit");
    assert_eq!(api.get(&limit_path, &victim_admin).json["sessions"], "agent", "none set: the agents' own");
    let r =
        api.request("PUT", &limit_path, Some(&json!({ "max_signatures": 251, "max_hours": 8 }).to_string()), &ops, &[]);
    assert!(r.status == 400 && r.text.contains("give 0 to 250"), "{r:?}");
    let limit = json!({ "max_signatures": 0, "max_hours": 8 }).to_string();
    assert_eq!(api.request("PUT", &limit_path, Some(&limit), &victim_admin, &[]).status, 403);
    let r = api.request("PUT", &limit_path, Some(&limit), &ops, &[]);
    assert_eq!((r.status, r.json["sessions"].as_str()), (200, Some("off")), "{r:?}");
    let audit = h.audit_entries();
    let rule_entries = |outcome: &str| {
        audit.iter().filter(|e| e["action"] == "facility.passkey_rule" && e["outcome"] == outcome).count()
    };
    assert_eq!((rule_entries("ok"), rule_entries("denied")), (1, 2), "the change and both refusals audited");

    let audit = h.audit_entries();
    // Every entry written while serving a request says where it came from (issue #50 item 5).
    let lookup = audit
        .iter()
        .find(|e| e["action"] == "facility.address.find" && e["actor"] == "operator:ops" && e["outcome"] == "ok")
        .unwrap_or_else(|| panic!("the lookup is audited: {audit:?}"));
    assert_eq!(lookup["detail"]["client"], "127.0.0.1", "{lookup}");
    let added = audit
        .iter()
        .find(|e| e["action"] == "facility.address.add" && e["outcome"] == "ok" && e["actor"] == "operator:ops");
    assert_eq!(added.map(|e| e["detail"]["client"].clone()), Some(json!("127.0.0.1")), "{added:?}");
    let by = |action: &str, outcome: &str| {
        audit.iter().filter(|e| e["action"] == action && e["outcome"] == outcome).cloned().collect::<Vec<_>>()
    };
    assert!(by("facility.address.add", "ok").iter().any(|e| e["actor"] == "operator:ops"), "{audit:?}");
    assert!(by("facility.address.remove", "ok").iter().any(|e| e["actor"] == "operator:ops"));
    assert!(by("facility.address.add", "denied").iter().any(|e| e["actor"] == "operator:ops"), "the 409 is audited");
    assert!(by("admin.facility.address.manage", "denied").len() >= 3, "the 403s and the 401 are audited");
    assert!(by("facility.security_officer", "ok").iter().any(|e| e["actor"] == "operator:ops"), "{audit:?}");
    assert_eq!(by("facility.security_officer", "denied").len(), 1, "the multi-line name");
    assert_eq!(by("admin.facility.security_officer", "denied").len(), 2, "the two 403s");
    h.ok(&["audit", "verify"]);
    server.stop();
}

/// Four `facility address add` processes for four facilities race for overlapping ranges: exactly one wins,
/// the others are refused naming the winner.
fn concurrent_overlapping_adds_allocate_once(b: Backend) {
    let h = Hcpki::initialized(b);
    let facilities: Vec<String> = (0..4).map(|i| h.approved_facility(&format!("Racing clinic {i}"))).collect();
    // Every pair overlaps: all four contain 198.51.100.130.
    let prefixes = ["198.51.100.128/25", "198.51.100.128/26", "198.51.100.130", "198.51.100.0/24"];
    let outs: Vec<std::process::Output> = std::thread::scope(|s| {
        let handles: Vec<_> = facilities
            .iter()
            .zip(prefixes)
            .map(|(f, p)| {
                let h = &h;
                s.spawn(move || h.run(&["facility", "address", "add", f, p]))
            })
            .collect();
        handles.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let won: Vec<&std::process::Output> = outs.iter().filter(|o| o.status.success()).collect();
    assert_eq!(won.len(), 1, "{}", outs.iter().map(describe).collect::<Vec<_>>().join("\n"));
    for o in outs.iter().filter(|o| !o.status.success()) {
        assert!(String::from_utf8_lossy(&o.stderr).contains("which is allocated to facility"), "{}", describe(o));
    }
    let rows = h.ok(&["facility", "address", "list", "--json"]);
    assert_eq!(rows.lines().filter(|l| l.contains("198.51.100.")).count(), 1, "{rows}");
    h.ok(&["audit", "verify"]);
}

/// `facility import --csv` with the `allocations` column: a malformed address and two rows of the file
/// overlapping are named by line and import nothing; with `--valid-only`, a row whose allocation another
/// facility holds is skipped naming the holder (audited as denied), the others are registered with theirs.
fn csv_import_allocates_and_names_bad_and_overlapping_rows(b: Backend) {
    let h = Hcpki::initialized(b);
    let (a, _victim) = two_facilities(&h);
    let file = h.scratch().join("with-addresses.csv");
    let text = [
        "name,kind,allocations",
        "東診療所,clinic,2001:db8:e::/48 198.51.100.16/28",
        "壊れた行,clinic,2001:db8:f::1/48",
        "重なる薬局,pharmacy,2001:db8:e:1::/64",
        "奪う薬局,pharmacy,192.0.2.200",
        "西診療所,clinic,",
        "",
    ]
    .join("\n");
    std::fs::write(&file, text).unwrap();
    let path = file.to_str().unwrap();
    let listed = h.ok(&["facility", "list"]).lines().count();
    let out = h.run(&["facility", "import", "--csv", path]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(err.contains(":3: allocations:") && err.contains("host bits"), "{err}");
    assert!(err.contains(":4: allocations: 2001:db8:e:1::/64 overlaps 2001:db8:e::/48 on line 2"), "{err}");
    assert_eq!(h.ok(&["facility", "list"]).lines().count(), listed, "nothing imported");

    let out = h.run(&["facility", "import", "--csv", path, "--valid-only"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(err.contains(&format!("allocated to facility {a}")) && err.contains("192.0.2.200"), "{err}");
    let facilities = h.ok(&["facility", "list"]);
    assert!(facilities.contains("東診療所") && facilities.contains("西診療所"), "{facilities}");
    assert!(!facilities.contains("奪う薬局") && !facilities.contains("重なる薬局"), "{facilities}");
    let east = facilities.lines().find(|l| l.contains("東診療所")).unwrap().split_whitespace().next().unwrap();
    let held = h.ok(&["facility", "address", "list", east]);
    assert!(held.contains("2001:db8:e::/48") && held.contains("198.51.100.16/28"), "{held}");
    let refusals = denied(&h, "facility.address.add");
    assert!(refusals.iter().any(|e| e["target"] == "奪う薬局" && e["detail"]["holder"] == a.as_str()), "{refusals:?}");
    h.ok(&["audit", "verify"]);
}

/// A router certificate issued while its address was A's; the allocation is then taken back and given to B.
/// `hcpki cert check-addresses` (exit 0 before) lists it with the address and its new holder (exit 1, JSON
/// too); a certificate inside its allocations and a revoked one are not listed; after revocation it is clean.
fn check_lists_live_certificates_outside_their_allocations(b: Backend) {
    let h = Hcpki::initialized(b);
    let (a, victim) = two_facilities(&h);
    let request = csr(h.scratch(), "moved", Key::P256, "router");
    let issue = |san: &str| {
        let args = ["issue", "--profile", "router", "--facility", &a, "--csr", request.to_str().unwrap(), "--san", san];
        let out = h.run(&args);
        assert!(out.status.success(), "{}", describe(&out));
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        err.split_whitespace()
            .skip_while(|w| *w != "serial")
            .nth(1)
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("no serial printed:\n{err}"))
    };
    let moved = issue("192.0.2.20");
    let kept = issue("2001:db8::20");
    let clean = h.run(&["cert", "check-addresses"]);
    assert!(clean.status.success(), "{}", describe(&clean));

    h.ok(&["facility", "address", "remove", &a, "192.0.2.0/24"]);
    h.allocate(&victim, "192.0.2.16/28");
    let out = h.run(&["cert", "check-addresses"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains(&a) && text.contains(&format!("192.0.2.20 (allocated to {victim})")), "{text}");
    let listed: Vec<&str> = text.lines().collect();
    assert_eq!(listed.len(), 1, "only the moved certificate: {text}");
    assert!(text.contains(&moved) && !text.contains(&kept), "{text}");
    let json = h.run(&["cert", "check-addresses", "--json"]);
    let line: serde_json::Value = serde_json::from_slice(json.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(line["facility"], a.as_str());
    assert_eq!(line["addresses"], json!(["192.0.2.20"]));
    assert_eq!(line["held_by"], json!([["192.0.2.20", victim]]));
    assert_eq!(line["serial"], moved.as_str());

    h.ok(&["revoke", "--serial", &moved, "--reason", "superseded"]);
    let after = h.run(&["cert", "check-addresses"]);
    assert!(after.status.success(), "a revoked certificate is not live: {}", describe(&after));

    // Incident support (issue #50 item 5): who holds 192.0.2.20 now, and which certificate carried it before.
    let empty = h.fails(&["facility", "security-officer", &victim, "--name", " ", "--contact", "03-1234-5678"]);
    assert!(empty.contains("name is empty"), "{empty}");
    h.ok(&["facility", "security-officer", &victim, "--name", "山田 太郎", "--contact", "03-1234-5678"]);
    let text = h.ok(&["facility", "find", "--address", "192.0.2.20"]);
    assert!(text.contains("security officer: 山田 太郎 (03-1234-5678)"), "{text}");
    assert!(text.contains(&format!("allocated to:    {victim} Victim hospital")), "{text}");
    assert!(text.contains("192.0.2.16/28") && text.contains(&moved) && text.contains("revoked"), "{text}");
    assert!(text.contains(&a) && !text.contains(&kept), "the certificate's facility, not the other one: {text}");
    let found: serde_json::Value =
        serde_json::from_str(&h.ok(&["facility", "find", "--address", "192.0.2.20", "--json"])).unwrap();
    assert_eq!(found["allocation"]["facility"], victim.as_str(), "{found}");
    assert_eq!(found["facility"]["name"], "Victim hospital", "{found}");
    assert_eq!(found["certificates"].as_array().map(Vec::len), Some(1), "{found}");
    assert_eq!(found["certificates"][0]["serial"], moved.as_str());
    assert_eq!(found["security_officer"]["name"], "山田 太郎", "{found}");
    let v6 = h.ok(&["facility", "find", "--address", "2001:DB8:0::20"]);
    assert!(v6.contains(&kept) && v6.contains(&format!("allocated to:    {a}")), "the canonical text is matched: {v6}");
    let nobody = h.ok(&["facility", "find", "--address", NOBODYS]);
    assert!(nobody.contains("nobody") && nobody.contains("none ever carried it"), "{nobody}");
    for (bad, says) in
        [("192.0.2.0/24", "is a prefix, not one address"), ("not-an-ip", "not-an-ip"), ("127.0.0.1", "loopback")]
    {
        let out = h.run(&["facility", "find", "--address", bad]);
        assert!(!out.status.success(), "{bad}: {}", describe(&out));
        assert!(String::from_utf8_lossy(&out.stderr).contains(says), "{bad}: {}", describe(&out));
    }
    assert_eq!(denied(&h, "facility.address.find").len(), 3, "the malformed lookups are audited");
    let looked: Vec<_> = h
        .audit_entries()
        .into_iter()
        .filter(|e| e["action"] == "facility.address.find" && e["outcome"] == "ok")
        .collect();
    assert_eq!(looked.len(), 4, "{looked:?}");
    assert_eq!(looked[0]["detail"]["holder"], victim.as_str());
    h.ok(&["audit", "verify"]);
}

/// The console's facility page: the facility's admin and an auditor see the allocations but no form; an operator
/// allocates with the page's CSRF token and takes one back; an overlap is refused naming the holder; a forged
/// token and a foreign Origin are refused; a facility admin posting the form gets 403; each refusal audited,
/// nothing changed by them.
fn the_console_lists_and_operators_change_allocations(b: Backend) {
    let h = Hcpki::initialized(b);
    let (a, victim) = two_facilities(&h);
    let ops = operator(&h, "ops", "operator");
    let aud = operator(&h, "aud", "auditor");
    let victim_admin = issued(&h, "pc", &victim, &[]);
    let server = Served::start(&h, &[]);
    let c = Console::new(&h, &server);
    let page_path = format!("/console/facilities/{victim}");
    let action = format!("/console/facilities/{victim}/addresses");

    for (who, name) in [(&victim_admin, "facility admin"), (&aud, "auditor")] {
        let page = c.get(&page_path, who);
        assert_eq!(page.status, 200, "{name}: {page:?}");
        assert!(page.text.contains("2001:db8:b::/48") && page.text.contains(B_V4), "{name} sees the list");
        assert!(!page.text.contains(&format!("action=\"{action}\"")), "{name} gets no form");
    }
    let held = || h.ok(&["facility", "address", "list", &victim]);
    let before = held();

    let page = c.get(&page_path, &ops);
    assert!(page.text.contains(&format!("action=\"{action}\"")), "the operator gets the forms");
    // Refused on the same section in the operator's words (the holder named: operators may know it), the prefix
    // kept; a malformed one likewise, in English on request (issue #45 item 1).
    let r = c.submit(&action, &[("op", "add"), ("prefix", "192.0.2.64/26")], &page, &ops);
    assert!(r.status >= 400 && r.text.contains("重なっています") && r.text.contains(&a), "{r:?}");
    assert!(r.text.contains("value=\"192.0.2.64/26\"") && r.text.contains("何も変更していません"), "{r:?}");
    let r = c.submit(&format!("{action}?lang=en"), &[("op", "add"), ("prefix", "192.0.2.65/26")], &page, &ops);
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.text.contains("Give an address or a prefix") && r.text.contains("value=\"192.0.2.65/26\""), "{r:?}");
    let forged = form(&[
        ("csrf", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        ("op", "add"),
        ("prefix", "198.51.100.64/26"),
    ]);
    let origin = format!("Origin: https://127.0.0.1:{}", server.https_port);
    let r = c.post_raw(&action, &forged, &ops, &["-H", &origin]);
    assert_eq!(r.status, 403, "forged token: {r:?}");
    let r = c.post_raw(&action, &forged, &ops, &["-H", "Origin: https://evil.example"]);
    assert_eq!(r.status, 403, "foreign Origin: {r:?}");
    // The facility page holds no form for a bare PC certificate (item 7): its CSRF token comes from a page
    // that still has a form.
    let admin_page = c.get("/console/apply", &victim_admin);
    let r = c.submit(&action, &[("op", "add"), ("prefix", "198.51.100.64/26")], &admin_page, &victim_admin);
    assert_eq!(r.status, 403, "the facility's admin: {r:?}");
    assert_eq!(held(), before, "no refusal changed anything");

    let r = c.submit(&action, &[("op", "add"), ("prefix", "198.51.100.64/26")], &page, &ops);
    assert_eq!(r.status, 303, "{r:?}");
    let r = c.submit(&action, &[("op", "remove"), ("prefix", B_V4)], &page, &ops);
    assert_eq!(r.status, 303, "{r:?}");
    let now = held();
    assert!(now.contains("198.51.100.64/26") && !now.contains(B_V4), "{now}");
    let page = c.get(&page_path, &ops);
    assert!(page.text.contains("198.51.100.64/26"), "listed on the page");

    // The facility's rules page (D178), linked from its page: read by its PC and the auditor, set by the
    // operator through the same operations as the API; a limit above the ceiling and a model that is no AAGUID
    // are refused on the page in words, nothing changed.
    let rules = format!("/console/facilities/{victim}/rules");
    assert!(page.text.contains(&format!("href=\"{rules}\"")), "linked from the facility's page");
    for who in [&victim_admin, &aud] {
        let r = c.get(&rules, who);
        assert!(
            r.status == 200 && r.text.contains("カードエージェントの上限") && !r.text.contains("signing-limit-form")
        );
    }
    let rules_page = c.get(&rules, &ops);
    assert!(rules_page.text.contains("id=\"signing-limit-form\"") && rules_page.text.contains("id=\"officer-form\""));
    let r = c.submit(&rules, &[("op", "signing"), ("max_signatures", "300"), ("max_hours", "8")], &rules_page, &ops);
    assert!(r.status == 400 && r.text.contains("give 0 to 250") && r.text.contains("何も変更していません"), "{r:?}");
    let r = c.submit(&rules, &[("op", "passkey"), ("rule", "models"), ("models", "yubikey")], &rules_page, &ops);
    assert!(r.status == 400 && r.text.contains("AAGUID"), "{r:?}");
    let r = c.submit(&rules, &[("op", "signing"), ("max_signatures", "5"), ("max_hours", "8")], &rules_page, &ops);
    assert_eq!(r.status, 303, "{r:?}");
    let r =
        c.submit(&rules, &[("op", "officer"), ("name", "情報 花子"), ("contact", "03-0000-0000")], &rules_page, &ops);
    assert_eq!(r.status, 303, "{r:?}");
    let r = c.get(&rules, &victim_admin);
    assert!(r.text.contains("5 / 8") && r.text.contains("情報 花子"), "{r:?}");
    assert_eq!(h.ok(&["facility", "signing-limit", &victim]).trim(), "5\t8\ton", "the CLI reads the same");
    let forged = form(&[("csrf", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), ("op", "signing")]);
    assert_eq!(c.post_raw(&rules, &forged, &ops, &["-H", &origin]).status, 403, "forged token");

    let audit = h.audit_entries();
    let ok: Vec<_> = audit
        .iter()
        .filter(|e| e["action"].as_str().unwrap().starts_with("facility.address.") && e["outcome"] == "ok")
        .filter(|e| e["actor"] == "operator:ops")
        .collect();
    assert_eq!(ok.len(), 2, "{ok:?}");
    assert!(denied(&h, "facility.address.add").iter().any(|e| e["actor"] == "operator:ops"), "the overlap");
    h.ok(&["audit", "verify"]);
    server.stop();
}
