//! `hcpki bench national` at a tiny size: its output is well formed, and the dataset it leaves in the
//! installation has the promised shape — as many facilities as asked, all active, of several kinds across
//! prefectures, about six certificates each, about 5 % of them revoked — and is real: the audit chain
//! verifies and a randomly drawn certificate verifies with OpenSSL against its CA chain. Nothing is timed:
//! every figure and every same-run reference only has to be present and positive.

use crate::harness::{Backend, Hcpki, describe};

on_both_backends!(bench_national_grows_a_real_dataset_and_reports_every_figure);

fn bench_national_grows_a_real_dataset_and_reports_every_figure(b: Backend) {
    let h = Hcpki::initialized(b);
    let out_dir = h.path("national");
    let out =
        h.ok(&["bench", "national", "--facilities", "100,200", "--lookups", "50", "--out", out_dir.to_str().unwrap()]);
    let backend = match b {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };

    // The Markdown table: one row per point.
    let rows: Vec<&str> = out.lines().filter(|l| l.starts_with(&format!("| {backend} |"))).collect();
    assert_eq!(rows.len(), 2, "one table row per point:\n{out}");

    // national.json: every figure present and positive; the CSV has a header and the same two points.
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("national.json")).unwrap()).unwrap();
    let points = json.as_array().expect("a JSON array of points");
    assert_eq!(points.len(), 2, "{json:#}");
    for (p, facilities) in points.iter().zip([100, 200]) {
        assert_eq!(p["backend"], backend, "{p:#}");
        assert_eq!(p["facilities"], facilities, "{p:#}");
        assert_eq!(p["added_facilities"], 100, "{p:#}");
        for (key, value) in p.as_object().unwrap() {
            if key == "backend" || key == "load_average" {
                continue;
            }
            let n = value.as_f64().unwrap_or_else(|| panic!("{key} is not a number: {p:#}"));
            assert!(n > 0.0, "{key} must be positive: {p:#}");
        }
    }
    let csv = std::fs::read_to_string(out_dir.join("national.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "header and two points:\n{csv}");
    assert!(lines[0].starts_with("backend,facilities,certificates,revoked,"), "{csv}");

    // The dataset in the database matches what the bench reports and the shape issue #9 asks for.
    let last = &points[1];
    let db = h.db();
    assert_eq!(db.scalar_i64("SELECT COUNT(*) FROM facilities"), 200);
    assert_eq!(db.scalar_i64("SELECT COUNT(*) FROM facilities WHERE state = 'active'"), 200);
    let certificates = db.scalar_i64("SELECT COUNT(*) FROM certificates WHERE facility_id IS NOT NULL");
    let revoked =
        db.scalar_i64("SELECT COUNT(*) FROM certificates WHERE facility_id IS NOT NULL AND status = 'revoked'");
    assert_eq!(certificates, last["certificates"].as_i64().unwrap(), "{last:#}");
    assert_eq!(revoked, last["revoked"].as_i64().unwrap(), "{last:#}");
    assert_eq!(
        revoked,
        last["router_crl_entries"].as_i64().unwrap() + last["pc_crl_entries"].as_i64().unwrap(),
        "{last:#}"
    );
    // ~6 certificates per facility and ~5 % revoked, with room for the draw of 200 facilities.
    assert!((4 * 200..=9 * 200).contains(&certificates), "{certificates} certificates for 200 facilities");
    assert!(revoked * 100 >= certificates && revoked * 100 <= 10 * certificates, "{revoked} of {certificates} revoked");
    assert!(db.scalar_i64("SELECT COUNT(DISTINCT kind) FROM facilities") >= 4, "a mix of kinds");
    assert!(
        db.scalar_i64("SELECT COUNT(DISTINCT substr(medical_code, 1, 2)) FROM facilities") >= 15,
        "facilities across prefectures"
    );
    assert!(db.scalar_i64("SELECT COUNT(*) FROM certificates WHERE profile = 'router'") >= 200, "a router each");

    // The references of the write rates are real audited commits: two sets of 100 bare entries per point.
    assert_eq!(db.scalar_i64("SELECT COUNT(*) FROM audit_log WHERE action = 'bench.reference'"), 400);
    // The size's reference is the DER held (a certificate is several hundred bytes), which the database exceeds.
    let der = last["der_bytes"].as_f64().unwrap();
    assert!(der >= 300.0 * certificates as f64, "{der} DER bytes for {certificates} certificates");
    assert!(last["db_vs_der"].as_f64().unwrap() > 1.0, "{last:#}");

    // Real: the audit chain verifies, and a random certificate verifies against its CA chain.
    h.ok(&["audit", "verify"]);
    let drawn = db.strings(
        "SELECT serial || ' ' || ca FROM certificates WHERE facility_id IS NOT NULL ORDER BY random() LIMIT 1",
    );
    let (serial, ca) = drawn[0].split_once(' ').unwrap();
    let pem = h.path("drawn.pem");
    std::fs::write(&pem, h.ok(&["cert", "show", serial, "--pem"])).unwrap();
    let root = h.ca_cert_file("root");
    let issuing = h.ca_cert_file(ca);
    let verify = std::process::Command::new("openssl")
        .arg("verify")
        .arg("-CAfile")
        .arg(&root)
        .arg("-untrusted")
        .arg(&issuing)
        .arg(&pem)
        .output()
        .expect("openssl runs");
    assert!(verify.status.success(), "openssl verify of {serial} ({ca})\n{}", describe(&verify));
}
