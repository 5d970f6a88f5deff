//! The hash-chained audit log: `hcpki audit verify` passes after real actions, and fails, naming the
//! entry, when someone with write access to the database edits, deletes or reorders entries.

use crate::db::Db;
use crate::fixtures::{self, Key, csr};
use crate::harness::{Backend, Hcpki, describe};
use crate::issue::path;

on_both_backends!(
    export_reaches_rsyslog_as_rfc5424,
    verify_passes_after_actions,
    edited_entry_is_detected,
    deleted_entry_is_detected,
    reordered_entries_are_detected,
    retention_archives_prunes_and_the_rest_still_verifies
);

/// An installation with a history: CA creation, registration, approval, issuance, a refusal, a suspension.
pub(crate) fn with_history(b: Backend) -> Hcpki {
    let h = Hcpki::initialized(b);
    let id = h.add_facility("Audited clinic", Some(&fixtures::medical_code(7)));
    h.ok(&["facility", "approve", &id]);
    let dns = h.router_dns_name(&id);
    let request = csr(h.scratch(), "audited", Key::P256, "router");
    let out = h.path("audited.pem");
    h.ok(&[
        "issue",
        "--profile",
        "router",
        "--facility",
        &id,
        "--csr",
        path(&request),
        "--san",
        &dns,
        "--out",
        path(&out),
    ]);
    h.fails(&["issue", "--profile", "router", "--facility", &id, "--csr", path(&request), "--san", "nope.example.com"]);
    h.ok(&["facility", "suspend", &id, "--reason", "audit test"]);
    h.ok(&["audit", "verify"]);
    h
}

/// Picks an entry in the middle of the chain (not the first, not the last) and readies the database
/// for tampering.
fn middle_entry(h: &Hcpki) -> (Db, i64, i64) {
    let db = h.db();
    let last = db.scalar_i64("SELECT MAX(seq) FROM audit_log");
    assert!(last >= 4, "expected at least 4 audit entries after init, register, approve, issue, suspend; got {last}");
    db.drop_audit_log_guards();
    // Dropping the guards changes no entry.
    h.ok(&["audit", "verify"]);
    (db, last / 2, last)
}

fn verify_passes_after_actions(b: Backend) {
    let h = with_history(b);
    let entries = h.db().scalar_i64("SELECT COUNT(*) FROM audit_log");
    assert!(entries >= 4, "every action is audited; got {entries} entries");
}

fn edited_entry_is_detected(b: Backend) {
    let h = with_history(b);
    let (db, seq, _) = middle_entry(&h);
    let changed = db.execute(&format!("UPDATE audit_log SET actor = 'cli:mallory' WHERE seq = {seq}"));
    assert_eq!(changed, 1, "the tampering UPDATE must hit one row");
    tampering_detected(&h, &[seq], "an edited entry");
}

fn deleted_entry_is_detected(b: Backend) {
    let h = with_history(b);
    let (db, seq, _) = middle_entry(&h);
    assert_eq!(db.execute(&format!("DELETE FROM audit_log WHERE seq = {seq}")), 1);
    // The gap is at `seq`; the first entry that no longer chains is `seq + 1`.
    tampering_detected(&h, &[seq, seq + 1], "a deleted entry");
}

fn reordered_entries_are_detected(b: Backend) {
    let h = with_history(b);
    let (db, seq, last) = middle_entry(&h);
    let parked = last + 1000;
    for sql in [
        format!("UPDATE audit_log SET seq = {parked} WHERE seq = {seq}"),
        format!("UPDATE audit_log SET seq = {seq} WHERE seq = {}", seq + 1),
        format!("UPDATE audit_log SET seq = {} WHERE seq = {parked}", seq + 1),
    ] {
        assert_eq!(db.execute(&sql), 1, "{sql}");
    }
    tampering_detected(&h, &[seq, seq + 1], "swapped entries");
}

/// `hcpki audit verify` exits non-zero (cleanly) and names one of `seqs` in its output.
fn tampering_detected(h: &Hcpki, seqs: &[i64], what: &str) {
    let out = h.run(&["audit", "verify"]);
    let code = out.status.code();
    assert!(
        code.is_some_and(|c| c != 0 && c != 101),
        "audit verify must fail cleanly on {what} (got {:?})\n{}",
        out.status,
        describe(&out)
    );
    let text = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(
        seqs.iter().any(|s| mentions_number(&text, *s)),
        "audit verify must name the entry ({seqs:?}) on {what}:\n{}",
        describe(&out)
    );
}

/// Whether `n` appears in `text` as a number of its own (not inside a hash or a longer number).
fn mentions_number(text: &str, n: i64) -> bool {
    let n = n.to_string();
    text.split(|c: char| !c.is_ascii_alphanumeric()).any(|token| token == n)
}

#[test]
fn mentions_number_ignores_hashes_and_longer_numbers() {
    assert!(mentions_number("entry 3: hash mismatch", 3));
    assert!(mentions_number("seq=3", 3));
    assert!(mentions_number("entry #3 was edited", 3));
    assert!(!mentions_number("hash a3f0 at 13, 30", 3));
}

/// `hcpki audit export --send` delivers every entry to a real syslog collector (rsyslog's imtcp, octet-counted
/// framing), which parses each as RFC 5424: MSGID the action, PRI by outcome, the fields in structured data,
/// the detail as message. `--after` continues where the last run stopped; JSON lines equal `audit list`; an
/// unreachable collector is a clear error.
fn export_reaches_rsyslog_as_rfc5424(b: Backend) {
    let h = with_history(b);
    let entries = h.audit_list();
    let rsyslog = Rsyslog::start(h.scratch());
    let out = h.run(&["audit", "export", "--send", &rsyslog.addr(), "--hostname", "ca1.example", "--after", "0"]);
    assert!(out.status.success(), "{}", describe(&out));
    // Appended after the first export: the continuation must carry it, and only what is new.
    h.add_facility("Later clinic", None);
    let first_stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let next: i64 = first_stderr.rsplit("--after ").next().unwrap().trim().trim_end_matches(')').parse().unwrap();
    assert_eq!(next as usize, entries.len(), "{first_stderr}");
    h.ok(&["audit", "export", "--send", &rsyslog.addr(), "--hostname", "ca1.example", "--after", &next.to_string()]);
    let all = h.audit_list();
    assert_eq!(all.len(), entries.len() + 1);
    let received = rsyslog.wait_for(all.len());
    for (sent, got) in all.iter().zip(&received) {
        let outcome = sent["outcome"].as_str().unwrap();
        let severity = match outcome {
            "ok" => 6,
            "denied" => 4,
            _ => 3,
        };
        assert_eq!(got["pri"], (13 * 8 + severity).to_string(), "{got}");
        assert_eq!(got["version"], "1");
        assert_eq!(got["host"], "ca1.example");
        assert_eq!(got["app"], "hcpki");
        assert_eq!(got["msgid"], sent["action"], "{got}");
        let sd = got["sd"].as_str().unwrap();
        assert!(sd.starts_with("[hcpki@32473 "), "{sd}");
        assert!(sd.contains(&format!("seq=\"{}\"", sent["seq"])), "{sd}");
        assert!(sd.contains(&format!("outcome=\"{outcome}\"")), "{sd}");
        assert!(sd.contains(&format!("hash=\"{}\"", sent["hash"].as_str().unwrap())), "{sd}");
        assert_eq!(got["msg"].as_str().unwrap().trim_start_matches('\u{feff}'), sent["detail"].as_str().unwrap());
    }
    assert!(received.iter().any(|r| r["pri"] == "108"), "the refused issuance arrives as a warning");

    let jsonl = h.ok(&["audit", "export", "--format", "jsonl"]);
    let listed = h.ok(&["audit", "list", "--limit", "100000"]);
    assert_eq!(jsonl, listed);

    let unreachable = h.fails(&["audit", "export", "--send", "127.0.0.1:1"]);
    assert!(unreachable.contains("cannot reach the syslog collector at 127.0.0.1:1"), "{unreachable}");
}

/// rsyslogd in the foreground with only a TCP input on a free loopback port, writing every message's parsed
/// RFC 5424 fields as one JSON object per line.
struct Rsyslog {
    child: std::process::Child,
    port: u16,
    out: std::path::PathBuf,
}

impl Rsyslog {
    fn start(dir: &std::path::Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let work = dir.join("rsyslog");
        std::fs::create_dir_all(&work).unwrap();
        let out = work.join("received.jsonl");
        let conf = work.join("rsyslog.conf");
        std::fs::write(
            &conf,
            format!(
                r#"global(workDirectory="{work}")
module(load="imtcp")
input(type="imtcp" port="{port}" address="127.0.0.1" ruleset="audit")
template(name="fields" type="list" option.jsonf="on") {{
  property(outname="pri" name="pri" format="jsonf")
  property(outname="version" name="protocol-version" format="jsonf")
  property(outname="host" name="hostname" format="jsonf")
  property(outname="app" name="app-name" format="jsonf")
  property(outname="msgid" name="msgid" format="jsonf")
  property(outname="sd" name="structured-data" format="jsonf")
  property(outname="msg" name="msg" format="jsonf")
}}
ruleset(name="audit") {{ action(type="omfile" file="{out}" template="fields") }}
"#,
                work = work.display(),
                out = out.display()
            ),
        )
        .unwrap();
        let mut child = std::process::Command::new("rsyslogd")
            .args(["-n", "-f"])
            .arg(&conf)
            .arg("-i")
            .arg(work.join("pid"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("rsyslogd (scripts/deps installs rsyslog)");
        // Ready when the port accepts.
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Self { child, port, out };
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("rsyslogd did not listen on {port}");
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The first `n` messages received (polled: rsyslog writes asynchronously).
    fn wait_for(&self, n: usize) -> Vec<serde_json::Value> {
        for _ in 0..400 {
            let text = std::fs::read_to_string(&self.out).unwrap_or_default();
            let lines: Vec<serde_json::Value> =
                text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect();
            if lines.len() >= n {
                return lines;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("rsyslog did not receive {n} messages:\n{}", std::fs::read_to_string(&self.out).unwrap_or_default());
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Issue #8 retention: `hcpki audit prune` writes the entries older than the retention period to an archive,
/// deletes them, and the remaining log still verifies (linked to the last archived entry); a second prune
/// writes an archive that continues the first; `verify-archive` checks each and finds an edited line; an
/// existing archive file or a missing retention period prunes nothing; editing a remaining entry is still
/// caught.
fn retention_archives_prunes_and_the_rest_still_verifies(b: Backend) {
    let h = with_history(b);
    let err = h.fails(&["audit", "prune", "--archive", path(&h.path("never.jsonl"))]);
    assert!(err.contains("retention_days"), "{err}");
    let head_before = h.ok(&["audit", "verify"]);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let later = |days: i64| hcpki_pkix::time::rfc3339(now + days * 86_400);

    // Keep one day, counted from two days ahead: everything but the newest entry is older.
    let first = h.path("audit-1.jsonl");
    let out = h.ok(&["audit", "prune", "--archive", path(&first), "--keep-days", "1", "--at", &later(2)]);
    assert!(out.contains("archived and pruned entries 1.."), "{out}");
    let archived = std::fs::read_to_string(&first).unwrap().lines().count();
    let total: usize = head_before.split(": ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert_eq!(archived, total - 1, "all but the newest of {total}: {head_before}");
    let verified = h.ok(&["audit", "verify"]);
    assert!(verified.contains("audit log intact"), "{verified}");
    let checked = h.ok(&["audit", "verify-archive", path(&first)]);
    assert!(checked.contains("intact") && checked.contains("continue it"), "{checked}");
    let listed = h.ok(&["audit", "list", "--limit", "1000"]);
    assert!(listed.contains("\"audit.prune\""), "{listed}");
    assert!(!listed.contains("\"seq\":1,"), "entry 1 is still in the database:\n{listed}");

    // The archive may not be overwritten; nothing changes.
    let err = h.fails(&["audit", "prune", "--archive", path(&first), "--keep-days", "1", "--at", &later(2)]);
    assert!(err.contains("must not exist"), "{err}");

    // More history, then a second archive continuing the first.
    h.add_facility("Later clinic", Some(&fixtures::medical_code(8)));
    let second = h.path("audit-2.jsonl");
    h.ok(&["audit", "prune", "--archive", path(&second), "--keep-days", "1", "--at", &later(3)]);
    let checked = h.ok(&["audit", "verify-archive", path(&first)]);
    assert!(checked.contains("a later archive continues"), "{checked}");
    let checked = h.ok(&["audit", "verify-archive", path(&second)]);
    assert!(checked.contains("continue it"), "{checked}");
    assert!(h.ok(&["audit", "verify"]).contains("audit log intact"));

    // An edited archive line is found.
    let text = std::fs::read_to_string(&second).unwrap();
    let forged = h.path("forged.jsonl");
    std::fs::write(&forged, text.replacen("\"actor\":\"", "\"actor\":\"x", 1)).unwrap();
    let err = h.fails(&["audit", "verify-archive", path(&forged)]);
    assert!(err.contains("TAMPERED"), "{err}");

    // Tampering with what is left is still caught.
    let db = h.db();
    let seq = db.scalar_i64("SELECT MAX(seq) FROM audit_log") - 1;
    assert_eq!(db.execute(&format!("UPDATE audit_log SET actor = 'cli:mallory' WHERE seq = {seq}")), 1);
    let err = h.fails(&["audit", "verify"]);
    assert!(err.contains("TAMPERED"), "{err}");
}
