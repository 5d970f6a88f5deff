//! `hcpki compliance report` (D164) on one server per database: real sign-ins through the portal give the
//! report's numbers; the CLI, the admin API (JSON, HTML by `Accept`) and each scope give the same report, every
//! generation audited; a facility admin asking for another facility's report is refused and audited (attack
//! test). The console page (Japanese first, axe-core, screenshots) is walked in `console_browser::`.

use serde_json::Value;

use crate::admin::{Api, As, operator};
use crate::harness::Backend;
use crate::oidc::{PASSWORD, Portal, issue_pc, totp};

on_both_backends!(the_report_counts_real_sign_ins_and_keeps_each_facility_to_its_own);

fn the_report_counts_real_sign_ins_and_keeps_each_facility_to_its_own(b: Backend) {
    let p = Portal::start(b);
    let h = &*p.h;
    let ops = operator(h, "ops", "operator");
    let (clinic, cert, key) = issue_pc(h, "Clinic A");
    let (other, other_cert, other_key) = issue_pc(h, "Clinic B");
    // Two sign-in attempts at Clinic A's PC: one good password + TOTP (two factors), one with a wrong code
    // (refused, so no sign-in). An account whose TOTP was never confirmed cannot show a second factor.
    let pc = p.with_client_cert(cert, key);
    assert_eq!(pc.login("alice", PASSWORD, &totp(&p.totp_secret, 0), None).status, 303);
    assert_eq!(pc.other_browser("wrong-code").login("alice", PASSWORD, "000000", None).status, 401);
    p.totp_user("bob", "Bob Unready");

    let api = Api::new(h, p.served());
    let whole = api.get("/api/v1/compliance/report?lang=en", &ops);
    assert_eq!(whole.status, 200, "{}", whole.text);
    let logins = &whole.json["evidence"]["logins"];
    assert_eq!((logins["total"].as_u64(), logins["two_factor"].as_u64()), (Some(1), Some(1)), "{logins}");
    assert_eq!(logins["by_credential"]["password-totp"], 1, "{logins}");
    assert_eq!(item(&whole.json, "auth.two-factor")["status"], "met");
    assert!(item(&whole.json, "auth.two-factor")["evidence"][0].as_str().unwrap().contains("(100.0%)"));
    let unready = &whole.json["evidence"]["accounts"]["without_second_factor"];
    assert_eq!(unready, &serde_json::json!(["bob"]), "alice confirmed her code by signing in");
    assert_eq!(item(&whole.json, "auth.second-factor-enrolment")["status"], "not-met");
    assert_eq!(whole.json["evidence"]["audit_chain"]["state"], "intact");
    assert_eq!(item(&whole.json, "ops.backup")["status"], "not-met", "no backup taken yet");
    assert_eq!(whole.json["evidence"]["backup"]["state"], "none-recorded");
    let signing = &whole.json["evidence"]["signing_sessions"];
    assert_eq!(signing["state"], "agent-limits", "{signing}");
    assert_eq!((signing["max_signatures"].as_u64(), signing["max_hours"].as_u64()), (Some(250), Some(18)));
    assert_eq!(signing["facilities_lower"], 0);
    let admins = whole.json["evidence"]["admins"].to_string();
    assert!(admins.contains("\"ops\"") && admins.contains("operator-certificate"), "{admins}");

    // A backup taken while the server runs is recorded (D176): the report names it, the audit log has it.
    let backup = h.path("backup-1");
    let said = h.ok(&["backup", "--out", backup.to_str().unwrap()]);
    let manifest = std::fs::read(backup.join("manifest.json")).unwrap();
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&manifest));
    assert!(said.contains(&format!("recorded as backup {sha}")), "{said}");
    // A facility sets its own, lower, signing-session limit (D172); its report says so.
    h.ok(&["facility", "signing-limit", &clinic, "--max-signatures", "5", "--max-hours", "8"]);
    let whole = api.get("/api/v1/compliance/report?lang=en", &ops);
    assert_eq!(item(&whole.json, "ops.backup")["status"], "met", "{}", whole.text);
    let recorded = &whole.json["evidence"]["backup"];
    assert_eq!(recorded["state"], "last");
    assert_eq!(recorded["location"], backup.canonicalize().unwrap().to_str().unwrap(), "{recorded}");
    assert_eq!(recorded["database"], if b == Backend::Sqlite { "sqlite" } else { "postgresql" });
    assert!(recorded["taken_by"].as_str().unwrap().starts_with("cli:"), "{recorded}");
    assert!(item(&whole.json, "ops.backup")["evidence"][0].as_str().unwrap().contains("last backup: "));
    assert_eq!(whole.json["evidence"]["signing_sessions"]["facilities_lower"], 1);

    // A facility's report counts its own PCs' sign-ins only, and shows its own signing limit.
    let a = api.get(&format!("/api/v1/compliance/report?facility={clinic}"), &ops);
    assert_eq!(a.json["evidence"]["logins"]["total"], 1, "{}", a.text);
    assert_eq!(a.json["evidence"]["scope"]["facility"], clinic.as_str());
    let own_limit = &a.json["evidence"]["signing_sessions"];
    assert_eq!(own_limit["state"], "facility-limit", "{own_limit}");
    assert_eq!((own_limit["max_signatures"].as_u64(), own_limit["max_hours"].as_u64()), (Some(5), Some(8)));
    // Clinic B's admin (its PC certificate): their own report by default, in Japanese; Clinic A's is refused.
    let admin_b = As::Cert(other_cert, other_key);
    let own = api.get("/api/v1/compliance/report", &admin_b);
    assert_eq!(own.status, 200, "{}", own.text);
    assert_eq!(own.json["evidence"]["scope"]["facility"], other.as_str());
    assert_eq!(own.json["evidence"]["logins"]["total"], 0);
    assert_eq!(own.json["lang"], "ja");
    let stolen = api.get(&format!("/api/v1/compliance/report?facility={clinic}"), &admin_b);
    assert_eq!(stolen.status, 403, "{}", stolen.text);
    assert!(stolen.text.contains(&format!("you act for facility {other} only")), "{}", stolen.text);
    assert_eq!(api.get("/api/v1/compliance/report?facility=HF-nonsense", &ops).status, 400);
    // A browser's Accept gets the page.
    let page = api.request("GET", "/api/v1/compliance/report", None, &ops, &["-H", "Accept: text/html"]);
    assert!(page.headers.to_ascii_lowercase().contains("content-type: text/html"), "{}", page.headers);
    assert!(page.text.contains("<html lang=\"ja\"") && page.text.contains("安全管理ガイドライン適合レポート"));

    // The CLI: the same numbers, and a file.
    let cli: Value =
        serde_json::from_str(&h.ok(&["compliance", "report", "--format", "json", "--lang", "en"])).unwrap();
    for count in ["total", "two_factor", "by_credential"] {
        assert_eq!(cli["evidence"]["logins"][count], whole.json["evidence"]["logins"][count], "{count}");
    }
    let file = h.path("report.html");
    h.ok(&["compliance", "report", "--out", file.to_str().unwrap()]);
    assert!(std::fs::read_to_string(&file).unwrap().contains("二要素認証によるログイン"));
    assert!(h.fails(&["compliance", "report", "--facility", "HF-nonsense"]).contains("facility"));

    let trail = h.audit_list();
    let generated = |actor: &str| {
        trail
            .iter()
            .filter(|e| e["action"] == "compliance.report" && e["actor"].as_str().unwrap().contains(actor))
            .count()
    };
    assert_eq!(generated("ops"), 4, "the API's four reports for the operator");
    assert_eq!(generated("cli:"), 2, "the CLI's two");
    let refusal = trail
        .iter()
        .find(|e| {
            e["action"] == "admin.compliance.report" && e["outcome"] == "denied" && e["target"] == clinic.as_str()
        })
        .unwrap_or_else(|| panic!("the refusal is audited: {trail:?}"));
    assert!(refusal["actor"].as_str().unwrap().contains(&other) || refusal["detail"].to_string().contains(&other));
    let taken = trail.iter().find(|e| e["action"] == "backup.taken").expect("the backup is audited");
    assert_eq!(taken["target"], sha.as_str());
    h.ok(&["audit", "verify"]);
}

fn item<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["items"].as_array().unwrap().iter().find(|i| i["id"] == id).unwrap_or_else(|| panic!("no {id}: {report}"))
}
