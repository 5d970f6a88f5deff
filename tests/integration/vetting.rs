//! Vetting evidence before approval (issue #50 item 4, D173) on one server per database, driven from the outside:
//! the register of medical institutions imported from a Regional Bureau's list (a bad file and a Shift_JIS file
//! refused whole with every bad row named, nothing imported; a good one; a re-import replacing it, counted);
//! the requirements, central and per RA; approvals refused with what is missing on every path that approves (the
//! CLI, the admin API, the console, the bulk import's job) and allowed once the evidence is recorded; the attacks
//! (an RA recording, warning or reading outside its scope, an RA or an auditor doing the operating body's part),
//! refused, audited, nothing changed; the overdue list (central and scoped) and a warning its facility's admin sees
//! on the facility's console page.

use crate::admin::{Api, As, issued, operator};
use crate::console::Console;
use crate::harness::{Backend, Hcpki};
use crate::ra_scope::code;
use crate::serve::Served;
use serde_json::{Value, json};

on_both_backends!(evidence_is_recorded_and_approvals_wait_for_it);

fn evidence_is_recorded_and_approvals_wait_for_it(b: Backend) {
    let h = Hcpki::initialized(b);
    let ops = operator(&h, "ops", "operator");
    let aud = operator(&h, "aud", "auditor");
    let tokyo_ops = operator(&h, "tokyo-ops", "operator");
    let isp_ops = operator(&h, "isp-ops", "operator");
    h.ok(&["ra", "create", "tokyo", "--kind", "prefecture", "--label", "東京都", "--prefectures", "13"]);
    h.ok(&["ra", "create", "isp-a", "--kind", "provider", "--label", "A接続株式会社"]);
    h.ok(&["ra", "member", "--operator", "tokyo-ops", "--ra", "tokyo"]);
    h.ok(&["ra", "member", "--operator", "isp-ops", "--ra", "isp-a"]);
    let (c1, c2, c3, c4) = (code(13, 1), code(27, 2), code(13, 3), code(27, 4));
    let sakura = add(&h, "さくら病院", &c1, "東京都千代田区千代田1-1");
    let osaka = add(&h, "大阪クリニック", &c2, "大阪府大阪市北区1-1");
    let minato = add(&h, "みなと診療所", &c3, "東京都港区芝1-1");
    let isp_clinic = add(&h, "なにわ医院", &c4, "大阪府堺市1-1");
    h.ok(&["ra", "assign", &isp_clinic, "--ra", "isp-a"]);

    // The register: a file with bad rows changes nothing and names each; Shift_JIS is refused with the fix.
    let header = "項番,医療機関コード,医療機関名称,都道府県,所在地,電話番号,備考\r\n";
    let good = format!(
        "\u{feff}{header}1,{c1},さくら病院,東京都,東京都千代田区千代田1-1,03-0000-0001,\r\n\
         2,{c2},大阪クリニック,27,大阪府大阪市北区1-1,,\r\n\
         3,{c3},\"医療法人 みなと会, みなと診療所\",13,東京都港区芝1-1,,\"備考 \"\"旧名\"\"\"\r\n\
         4,{c4},なにわ医院,大阪府,大阪府堺市1-1,,\r\n"
    );
    let bad = format!(
        "{header}1,{c1},さくら病院,東京都,東京都千代田区,,\r\n2,13100000,誤り,13,東京都,,\r\n3,{c2},大阪,東京都,大阪府,,\r\n"
    );
    std::fs::write(h.path("bad.csv"), &bad).unwrap();
    let refused = h.fails(&["register", "import", h.path("bad.csv").to_str().unwrap()]);
    assert!(refused.contains("2 row(s) are bad; nothing was imported"), "{refused}");
    assert!(
        refused.contains("row 3, column 医療機関コード") && refused.contains("row 4, column 都道府県"),
        "{refused}"
    );
    std::fs::write(h.path("sjis.csv"), b"\x88\xe3\x97\xc3\x8b\x40\x8a\xd6\x83\x52\x81\x5b\x83\x68\n").unwrap();
    assert!(h.fails(&["register", "import", h.path("sjis.csv").to_str().unwrap()]).contains("iconv -f CP932"));
    assert!(h.ok(&["register", "show"]).contains("never imported"), "nothing was imported");
    std::fs::write(h.path("register.csv"), &good).unwrap();
    let older = good
        .replace("さくら病院,東京都", "旧さくら病院,東京都")
        .replace(&format!("4,{c4},なにわ医院,大阪府,大阪府堺市1-1,,\r\n"), "");
    std::fs::write(h.path("older.csv"), &older).unwrap();
    let first = h.run(&["register", "import", h.path("older.csv").to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&first.stderr).contains("3 institutions (3 new, 0 removed, 0 changed)"));
    let out = h.run(&["register", "import", h.path("register.csv").to_str().unwrap()]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("4 institutions (1 new, 0 removed, 1 changed)") && said.contains("項番, 備考"), "{said}");
    assert!(h.ok(&["register", "show", &c3]).contains("医療法人 みなと会, みなと診療所\t東京都"));

    // The requirements: everything centrally; the Tokyo RA checks the code only; the rules' current version.
    h.ok(&["facility", "vetting", "requirements", "--ra", "central", "--require", "code,rules,assessment"]);
    h.ok(&["facility", "vetting", "requirements", "--ra", "tokyo", "--require", "code"]);
    assert!(
        h.fails(&["facility", "vetting", "requirements", "--ra", "nowhere", "--require", "code"]).contains("nowhere")
    );
    assert!(h.fails(&["facility", "vetting", "requirements", "--require", "codes"]).contains("not a requirement"));
    h.ok(&["facility", "vetting", "rules-version", "2026.1"]);

    // The CLI's approval is refused with what is missing and how to record it; nothing changes.
    let no = h.fails(&["facility", "approve", &minato]);
    assert!(no.contains("cannot be approved") && no.contains("check-code") && no.contains("accept-rules"), "{no}");
    assert!(no.contains("vulnerability assessment"), "{no}");

    let server = Served::start(&h, &[]);
    let api = Api::new(&h, &server);
    let console = Console::new(&h, &server);
    let outside = "outside the scope of registration authority";
    let forbidden = |r: &crate::admin::Reply, words: &str| {
        assert_eq!(r.status, 403, "{r:?}");
        assert!(r.text.contains(words), "{words:?} missing: {r:?}");
    };
    let vetting = |id: &str| format!("/api/v1/facilities/{id}/vetting");

    // Attacks: an RA outside its scope, an RA or an auditor doing the operating body's part.
    forbidden(&api.post(&format!("{}/code-check", vetting(&osaka)), &json!({}), &tokyo_ops), outside);
    forbidden(&put(&api, &format!("{}/assessment", vetting(&osaka)), &json!({ "last": day(-1) }), &tokyo_ops), outside);
    forbidden(
        &put(&api, &format!("{}/security-rules", vetting(&sakura)), &json!({ "accepted_by": "x" }), &isp_ops),
        outside,
    );
    forbidden(&api.post(&format!("{}/warnings", vetting(&sakura)), &json!({}), &isp_ops), outside);
    forbidden(&api.get(&vetting(&osaka), &tokyo_ops), outside);
    forbidden(
        &put(&api, "/api/v1/vetting/requirements", &json!({ "ra": "tokyo", "require": "none" }), &tokyo_ops),
        "central operators",
    );
    forbidden(&put(&api, "/api/v1/vetting/rules-version", &json!({ "version": "0" }), &isp_ops), "central operators");
    let r =
        api.request("PUT", "/api/v1/register?source=x.csv", Some(&good), &tokyo_ops, &["-H", "Content-Type: text/csv"]);
    forbidden(&r, "central operators");
    assert_eq!(api.post(&format!("{}/code-check", vetting(&sakura)), &json!({}), &aud).status, 403);
    let page = console.get(&format!("/console/facilities/{sakura}/vetting"), &tokyo_ops);
    assert_eq!(page.status, 200, "{page:?}");
    let r = console.submit(&format!("/console/facilities/{osaka}/vetting"), &[("op", "code")], &page, &tokyo_ops);
    assert_eq!(r.status, 403, "{r:?}");
    let untouched = api.get(&vetting(&osaka), &ops);
    assert!(untouched.json["code_check"].is_null() && untouched.json["assessment"].is_null(), "{untouched:?}");

    // Approvals refused on the API and the console, saying what is missing; the facilities stay applied.
    let r = api.post(&format!("/api/v1/facilities/{sakura}/approve"), &json!({}), &tokyo_ops);
    assert!(r.status == 409 && r.text.contains("tokyo") && r.text.contains("check-code"), "{r:?}");
    let confirm = console.get(&format!("/console/facilities/{minato}/transition?verb=approve"), &ops);
    let r = console.submit(&format!("/console/facilities/{minato}/transition"), &[("verb", "approve")], &confirm, &ops);
    assert!(r.status == 409 && r.text.contains("cannot be approved") && r.text.contains("/vetting"), "{r:?}");
    let r = api.post(&format!("/api/v1/facilities/{isp_clinic}/approve"), &json!({}), &isp_ops);
    assert!(
        r.status == 409 && r.text.contains("central requirements"),
        "an RA without its own: the central ones: {r:?}"
    );
    for id in [&sakura, &minato, &isp_clinic] {
        assert_eq!(api.get(&format!("/api/v1/facilities/{id}"), &ops).json["state"], "applied", "{id}");
    }

    // Recorded in scope, then approved: the Tokyo RA checks さくら病院's code (it matches) and approves (its own
    // requirement is the code alone), through the console's forms.
    let r = console.submit(&format!("/console/facilities/{sakura}/vetting"), &[("op", "code")], &page, &tokyo_ops);
    assert_eq!(r.status, 303, "{r:?}");
    let shown = api.get(&vetting(&sakura), &tokyo_ops);
    assert_eq!(shown.json["code_check"]["register_name"], "さくら病院", "{shown:?}");
    assert_eq!(
        (shown.json["code_check"]["name_matches"].as_bool(), shown.json["code_check"]["prefecture_matches"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(shown.json["approval"]["missing"], json!([]), "{shown:?}");
    let confirm = console.get(&format!("/console/facilities/{sakura}/transition?verb=approve"), &tokyo_ops);
    let r = console.submit(
        &format!("/console/facilities/{sakura}/transition"),
        &[("verb", "approve")],
        &confirm,
        &tokyo_ops,
    );
    assert_eq!(r.status, 303, "{r:?}");

    // Centrally: みなと診療所's name differs from the register's (found, not evidence until explained); the rules
    // on paper through the API, the assessment on the CLI; then the CLI approves.
    let r = api.post(&format!("{}/code-check", vetting(&minato)), &json!({}), &ops);
    assert_eq!((r.status, r.json["name_matches"].as_bool()), (201, Some(false)), "{r:?}");
    let r = api.post(&format!("/api/v1/facilities/{minato}/approve"), &json!({}), &ops);
    assert!(r.status == 409 && r.text.contains("differs") && r.text.contains("--note"), "{r:?}");
    let r = api.post(
        &format!("{}/code-check", vetting(&minato)),
        &json!({ "note": "法人名を含む正式名称(開設届で確認)" }),
        &ops,
    );
    assert_eq!(r.status, 201, "{r:?}");
    let bad_day = put(
        &api,
        &format!("{}/security-rules", vetting(&minato)),
        &json!({ "accepted_by": "院長 山田", "accepted_on": "2026-02-30" }),
        &ops,
    );
    assert!(bad_day.status == 400 && bad_day.text.contains("YYYY-MM-DD"), "{bad_day:?}");
    let r = put(
        &api,
        &format!("{}/security-rules", vetting(&minato)),
        &json!({ "accepted_by": "院長 山田", "accepted_on": day(-2) }),
        &ops,
    );
    assert_eq!((r.status, &r.json["version"], &r.json["basis"]), (200, &json!("2026.1"), &json!("paper")), "{r:?}");
    assert!(h.fails(&["facility", "vetting", "assessment", &minato, "--last", &day(3)]).contains("in the future"));
    h.ok(&[
        "facility",
        "vetting",
        "assessment",
        &minato,
        "--last",
        &day(-30),
        "--assessor",
        "セキュリティ診断株式会社",
    ]);
    h.ok(&["facility", "approve", &minato]);

    // The bulk import's job: a new facility is registered and waits for its evidence instead of being approved.
    std::fs::write(h.path("import.csv"), format!("name,kind,medical_code\n新規クリニック,clinic,{}\n", code(13, 9)))
        .unwrap();
    h.ok(&["facility", "import", "--csv", h.path("import.csv").to_str().unwrap(), "--approve"]);
    let listed = h.ok(&["facility", "list", "--state", "applied"]);
    assert!(listed.contains("新規クリニック"), "registered, not approved: {listed}");

    // The overdue list: さくら病院's assessment is past due, みなと診療所 accepted rules a version ago.
    h.ok(&["facility", "vetting", "assessment", &sakura, "--last", &day(-400), "--next-due", &day(-35)]);
    h.ok(&["facility", "vetting", "rules-version", "2027.1"]);
    let central = h.ok(&["facility", "vetting", "overdue"]);
    assert!(central.contains(&format!("{sakura}\tさくら病院\tassessment_overdue")), "{central}");
    assert!(central.contains(&format!("{minato}\tみなと診療所\trules_outdated")), "{central}");
    let tokyo_list = api.get("/api/v1/vetting/overdue", &tokyo_ops);
    assert_eq!(ids(&tokyo_list.json), [sakura.clone(), minato.clone()], "{tokyo_list:?}");
    assert_eq!(ids(&api.get("/api/v1/vetting/overdue", &isp_ops).json), Vec::<String>::new(), "the RA's scope only");
    let page = console.get("/console/vetting/overdue", &tokyo_ops);
    assert!(
        page.status == 200 && page.text.contains("さくら病院") && !page.text.contains("大阪クリニック"),
        "{page:?}"
    );

    // Warnings: from the overdue list's button; nothing overdue is refused; the facility's admin sees it.
    let r = console.submit(&format!("/console/facilities/{sakura}/vetting"), &[("op", "warn")], &page, &tokyo_ops);
    assert_eq!(r.status, 303, "{r:?}");
    let r = api.post(&format!("{}/warnings", vetting(&osaka)), &json!({}), &ops);
    assert!(r.status == 409 && r.text.contains("nothing overdue"), "{r:?}");
    let pc = issued(&h, "pc", &sakura, &[]);
    let own = console.get(&format!("/console/facilities/{sakura}"), &pc);
    assert!(
        own.status == 200 && own.text.contains("vetting-warning") && own.text.contains("脆弱性診断の期限"),
        "{own:?}"
    );
    let registry = console.get("/console/register", &ops);
    assert!(
        registry.status == 200 && registry.text.contains("2027.1") && registry.text.contains("register.csv"),
        "{registry:?}"
    );
    // An import through the API: all or nothing, the same file replaces the register with nothing changed.
    let r = api.request("PUT", "/api/v1/register?source=bad.csv", Some(&bad), &ops, &["-H", "Content-Type: text/csv"]);
    assert!(r.status == 400 && r.text.contains("row 3, column 医療機関コード"), "{r:?}");
    let r =
        api.request("PUT", "/api/v1/register?source=again.csv", Some(&good), &ops, &["-H", "Content-Type: text/csv"]);
    assert_eq!((r.status, &r.json["rows"], &r.json["changed"]), (200, &json!(4), &json!(0)), "{r:?}");
    server.stop();

    // The audit: each record with its actor and scope, every refusal.
    let trail = h.audit_list();
    let has = |actor: &str, action: &str, target: &str, outcome: &str| {
        trail.iter().any(|e| {
            e["actor"].as_str().is_some_and(|a| a.starts_with(actor))
                && e["action"] == action
                && e["target"] == target
                && e["outcome"] == outcome
        })
    };
    let tokyo = "ra:tokyo:operator:tokyo-ops";
    assert!(has(tokyo, "facility.vetting.code", &sakura, "ok"), "{trail:#?}");
    assert!(has(tokyo, "facility.approve", &sakura, "denied"), "the refused approval, in the transaction");
    assert!(has(tokyo, "admin.facility.vetting.record", &osaka, "denied"));
    assert!(has("ra:isp-a:operator:isp-ops", "admin.facility.vetting.accept_rules", &sakura, "denied"));
    assert!(has("ra:isp-a:operator:isp-ops", "admin.vetting.manage", "-", "denied"));
    assert!(has(tokyo, "facility.vetting.warn", &sakura, "ok"));
    assert!(has("cli:", "register.import", "medical-register", "denied"));
    assert!(has("cli:", "vetting.requirements", "central", "ok"));
    assert!(has("operator:ops", "facility.vetting.rules", &minato, "ok"));
    let imports: Vec<&Value> =
        trail.iter().filter(|e| e["action"] == "register.import" && e["outcome"] == "ok").collect();
    assert_eq!(imports.len(), 3, "{imports:#?}");
    let detail = match &imports[1]["detail"] {
        Value::String(text) => serde_json::from_str::<Value>(text).unwrap(),
        other => other.clone(),
    };
    assert_eq!(
        (&detail["added"], &detail["changed"], &detail["source"]),
        (&json!(1), &json!(1), &json!("register.csv"))
    );
    h.ok(&["audit", "verify"]);
}

/// `hcpki facility add` with a code and an address.
fn add(h: &Hcpki, name: &str, code: &str, address: &str) -> String {
    let out = h.ok(&["facility", "add", "--name", name, "--kind", "clinic", "--code", code, "--address", address]);
    out.trim().to_owned()
}

/// The day in Japan `offset` days from today, YYYY-MM-DD.
fn day(offset: i64) -> String {
    let at = time::OffsetDateTime::now_utc() + time::Duration::hours(9) + time::Duration::days(offset);
    format!("{:04}-{:02}-{:02}", at.year(), u8::from(at.month()), at.day())
}

fn put(api: &Api, path: &str, body: &Value, who: &As) -> crate::admin::Reply {
    api.request("PUT", path, Some(&body.to_string()), who, &[])
}

fn ids(list: &Value) -> Vec<String> {
    list["facilities"].as_array().unwrap().iter().map(|f| f["facility"].as_str().unwrap().to_owned()).collect()
}
