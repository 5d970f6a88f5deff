//! The hash-chained audit log: `hcpki audit verify` passes after real actions, and fails, naming the
//! entry, when someone with write access to the database edits, deletes or reorders entries.

use crate::db::Db;
use crate::fixtures::{self, Key, csr};
use crate::harness::{Backend, Hcpki, describe};
use crate::issue::path;

on_both_backends!(
    verify_passes_after_actions,
    edited_entry_is_detected,
    deleted_entry_is_detected,
    reordered_entries_are_detected
);

/// An installation with a history: CA creation, registration, approval, issuance, a refusal, a suspension.
fn with_history(b: Backend) -> Hcpki {
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
