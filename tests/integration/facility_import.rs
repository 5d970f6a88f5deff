//! `hcpki facility import --csv`: Japanese names, BOM and CRLF, every bad row named with its line, nothing
//! imported by default when a row is bad, `--valid-only`, re-import reporting what is already registered, and a
//! 10,000-row file (no timing assertion: the summary's rows/s figure is only checked to be there); an import
//! with `--approve` killed between a facility's registration and its approval (crash point `HCPKI_FAULT`, an
//! abort as a power loss would do) and resumed: every row registered and approved exactly once.

use crate::fixtures::medical_code;
use crate::harness::{Backend, Hcpki, describe};

on_both_backends!(
    japanese_names_import_and_list,
    bad_rows_are_named_and_nothing_is_imported,
    valid_only_imports_exactly_the_good_rows,
    reimport_reports_already_registered,
    ten_thousand_rows_import_with_a_summary,
    a_crash_between_registration_and_approval_resumes_to_every_row_approved_once,
);

const HEADER: &str = "name,kind,medical_code,address,contact";

/// Write `text` to a file in the test's scratch directory; returns its path.
fn csv_file(h: &Hcpki, name: &str, text: &[u8]) -> String {
    let path = h.scratch().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

fn import(h: &Hcpki, file: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["facility", "import", "--csv", file];
    args.extend_from_slice(extra);
    h.run(&args)
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn listed(h: &Hcpki) -> Vec<String> {
    h.ok(&["facility", "list"]).lines().map(str::to_owned).collect()
}

/// A file with a UTF-8 BOM and CRLF line ends (as Excel writes), Japanese names: all imported, all listed.
fn japanese_names_import_and_list(b: Backend) {
    let h = Hcpki::initialized(b);
    let text = format!(
        "\u{feff}{HEADER}\r\nさくら内科クリニック,clinic,{},東京都千代田区1-1,03-0000-0000\r\n\
         みどり薬局,pharmacy,,大阪府大阪市2-2,\r\n\"株式会社, 訪問看護\",care,,,\r\n",
        medical_code(1)
    );
    let out = import(&h, &csv_file(&h, "good.csv", text.as_bytes()), &[]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(stderr(&out).contains("imported 3,"), "{}", describe(&out));
    let list = listed(&h).join("\n");
    for name in ["さくら内科クリニック", "みどり薬局", "株式会社, 訪問看護"] {
        assert!(list.contains(name), "{name} is not listed:\n{list}");
    }
    h.ok(&["audit", "verify"]);
}

/// The bad rows of the file, each with what must be in its message.
fn bad_file(h: &Hcpki) -> (String, Vec<(u64, &'static str)>) {
    let mut text = format!("{HEADER}\n");
    text.push_str("良い病院,hospital,,,\n"); // line 2: good
    text.push_str(",clinic,,,\n"); // line 3: empty name
    text.push_str("城,castle,,,\n"); // line 4: unknown kind
    text.push_str(&format!("{},clinic,,,\n", "長".repeat(201))); // line 5: name too long
    text.push_str("短い,clinic,123,,\n"); // line 6: malformed code
    text.push_str("列が少ない,clinic\n"); // line 7: too few columns
    text.push_str(&format!("一番目,clinic,{},,\n", medical_code(2))); // line 8: good
    text.push_str(&format!("二番目,clinic,{},,\n", medical_code(2))); // line 9: code twice in the file
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(b"bad \xff utf8,clinic,,,\n"); // line 10: invalid UTF-8
    bytes.extend_from_slice("良い薬局,pharmacy,,,\n".as_bytes()); // line 11: good
    let bad = vec![
        (3, "facility name must be 1 to 200 characters (got 0)"),
        (4, "castle"),
        (5, "(got 201)"),
        (6, "医療機関コード"),
        (7, "2 columns where the header has 5"),
        (9, "also on line 8"),
        (10, "not valid UTF-8"),
    ];
    (csv_file(h, "bad.csv", &bytes), bad)
}

fn bad_rows_are_named_and_nothing_is_imported(b: Backend) {
    let h = Hcpki::initialized(b);
    let (file, bad) = bad_file(&h);
    for extra in [&[][..], &["--dry-run"][..]] {
        let out = import(&h, &file, extra);
        assert!(!out.status.success(), "{}", describe(&out));
        let err = stderr(&out);
        for (line, why) in &bad {
            assert!(
                err.lines().any(|l| l.contains(&format!(":{line}: ")) && l.contains(why)),
                "line {line} ({why}) not reported:\n{err}"
            );
        }
        assert_eq!(err.lines().filter(|l| l.contains(".csv:")).count(), bad.len(), "{err}");
        assert!(err.contains("imported 0,") && err.contains("refused 7,"), "{err}");
    }
    assert!(listed(&h).is_empty());
    // A wrong header is refused as a whole.
    let unknown = csv_file(&h, "unknown.csv", "name,kind,colour\nA,clinic,red\n".as_bytes());
    assert!(stderr(&import(&h, &unknown, &[])).contains("unknown column \"colour\""));
    let missing = csv_file(&h, "missing.csv", "name,address\nA,x\n".as_bytes());
    assert!(stderr(&import(&h, &missing, &[])).contains("must have the columns name and kind"));
    assert!(listed(&h).is_empty());
}

fn valid_only_imports_exactly_the_good_rows(b: Backend) {
    let h = Hcpki::initialized(b);
    let (file, _) = bad_file(&h);
    let out = import(&h, &file, &["--valid-only", "--approve"]);
    assert!(!out.status.success(), "bad rows still make the exit status non-zero\n{}", describe(&out));
    assert!(stderr(&out).contains("imported 3,"), "{}", describe(&out));
    let list = listed(&h);
    assert_eq!(list.len(), 3, "{list:?}");
    for name in ["良い病院", "一番目", "良い薬局"] {
        assert!(
            list.iter().any(|l| l.contains(name) && l.contains("approved")),
            "{name} missing or not approved: {list:?}"
        );
    }
}

fn reimport_reports_already_registered(b: Backend) {
    let h = Hcpki::initialized(b);
    let text = format!("{HEADER}\nA病院,hospital,{},,\nB医院,clinic,{},,\n", medical_code(3), medical_code(4));
    let file = csv_file(&h, "again.csv", text.as_bytes());
    assert!(import(&h, &file, &[]).status.success());
    let out = import(&h, &file, &[]);
    assert!(out.status.success(), "a re-run is not an error\n{}", describe(&out));
    let err = stderr(&out);
    assert!(err.contains("imported 0, already registered 2,"), "{err}");
    assert!(err.contains(&format!("line 2: 医療機関コード {} is already registered", medical_code(3))), "{err}");
    assert_eq!(listed(&h).len(), 2);
}

fn ten_thousand_rows_import_with_a_summary(b: Backend) {
    let h = Hcpki::initialized(b);
    let mut text = format!("{HEADER}\n");
    for i in 0..10_000 {
        text.push_str(&format!("医療法人 第{i}クリニック,clinic,{},,\n", medical_code(10_000 + i)));
    }
    let out = import(&h, &csv_file(&h, "big.csv", text.as_bytes()), &[]);
    assert!(out.status.success(), "{}", describe(&out));
    let err = stderr(&out);
    assert!(err.contains("imported 10000, already registered 0, refused 0") && err.contains("rows/s"), "{err}");
    // `facility list` pages at 1,000; count in the database, and one audit entry per facility (D29).
    let db = h.db();
    assert_eq!(db.scalar_i64("SELECT COUNT(*) FROM facilities"), 10_000);
    assert_eq!(db.scalar_i64("SELECT COUNT(*) FROM audit_log WHERE action = 'facility.register'"), 10_000);
    h.ok(&["audit", "verify"]);
}

/// D38 addendum: `facility import --approve` dies (the process aborts, nothing unwinds) in its second batch,
/// after registering facility 1,500 and before approving it. The first batch stays whole, the second is not
/// there at all; `hcpki job resume` then registers and approves each remaining row once. Half the rows have no
/// 医療機関コード, so a second registration of them could not be caught by the code's uniqueness.
fn a_crash_between_registration_and_approval_resumes_to_every_row_approved_once(b: Backend) {
    const ROWS: i64 = 2500;
    let h = Hcpki::initialized(b);
    let mut text = format!("{HEADER}\n");
    for i in 0..ROWS {
        let code = if i % 2 == 0 { medical_code(30_000 + u32::try_from(i).unwrap()) } else { String::new() };
        text.push_str(&format!("承認待ち診療所 {i},clinic,{code},,\n"));
    }
    let file = csv_file(&h, "crash.csv", text.as_bytes());
    let out =
        h.run_with_env("HCPKI_FAULT", "import.registered:1500", &["facility", "import", "--csv", &file, "--approve"]);
    assert!(!out.status.success(), "the crash point was not reached\n{}", describe(&out));
    assert!(stderr(&out).contains("HCPKI_FAULT: aborting at import.registered"), "{}", describe(&out));
    let db = h.db();
    let count = |sql: &str| db.scalar_i64(sql);
    assert_eq!(count("SELECT COUNT(*) FROM facilities"), 1000, "the first batch, whole; the second, rolled back");
    assert_eq!(count("SELECT COUNT(*) FROM facilities WHERE state = 'approved'"), 1000);
    assert_eq!(count("SELECT COUNT(*) FROM job_items WHERE state = 'pending'"), ROWS - 1000);
    h.ok(&["audit", "verify"]);

    // The worker is dead; its heartbeat would be stale after a minute. Age it rather than wait.
    let id = db.strings("SELECT id FROM jobs").pop().unwrap();
    db.execute("UPDATE jobs SET heartbeat_at = 0");
    assert!(h.ok(&["job", "list"]).contains("interrupted"));
    h.ok(&["job", "resume", &id]);

    every_row_registered_and_approved_once(&h, ROWS);
    assert_eq!(count(&format!("SELECT COUNT(*) FROM audit_log WHERE action = 'job.resume' AND target = '{id}'")), 1);
    assert!(h.ok(&["job", "show", &id]).contains("done"));
    h.ok(&["audit", "verify"]);
}

/// After an import of `rows` rows with approval into an empty installation: `rows` facilities, all approved,
/// each with exactly one `facility.register` and one `facility.approve`, every job item done.
pub(crate) fn every_row_registered_and_approved_once(h: &Hcpki, rows: i64) {
    let db = h.db();
    let count = |sql: &str| db.scalar_i64(sql);
    assert_eq!(count("SELECT COUNT(*) FROM facilities"), rows, "no row registered twice, none left out");
    assert_eq!(count("SELECT COUNT(*) FROM facilities WHERE state = 'approved'"), rows, "none left applied");
    for action in ["facility.register", "facility.approve"] {
        assert_eq!(count(&format!("SELECT COUNT(*) FROM audit_log WHERE action = '{action}'")), rows, "{action}");
        let twice = format!(
            "SELECT COUNT(*) FROM (SELECT target FROM audit_log WHERE action = '{action}' GROUP BY target \
             HAVING COUNT(*) > 1) t"
        );
        assert_eq!(count(&twice), 0, "{action} once per facility");
    }
    assert_eq!(count("SELECT COUNT(*) FROM job_items WHERE state = 'done'"), rows);
}
