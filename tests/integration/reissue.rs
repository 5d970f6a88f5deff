//! `hcpki cert reissue` (D38): a dry run changes nothing; successors keep the subject, names and public key
//! (`openssl x509 -pubkey` equal) and verify under the CA (`openssl verify`); one audited `cert.issue` each and
//! the audit chain verifies; a rerun re-issues nothing; `--revoke-old` revokes the predecessor as superseded;
//! a job interrupted after a successor was stored but before the job recorded it, resumed, re-issues no
//! certificate twice.

use crate::fixtures::{Key, csr, x509_text};
use crate::harness::{Backend, Hcpki, describe};
use crate::peers;
use std::path::{Path, PathBuf};

on_both_backends!(
    dry_run_changes_nothing_then_successors_keep_key_and_names,
    revoke_old_revokes_the_predecessor_as_superseded,
    resume_after_interruption_reissues_nothing_twice,
);

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Issue a certificate with `hcpki issue`; returns its serial.
fn issue(h: &Hcpki, args: &[&str], key: Key) -> String {
    let n = uuid::Uuid::new_v4().simple().to_string();
    let csr = csr(h.scratch(), &format!("r{n}"), key, "device");
    let out = h.path(&format!("c{n}.pem"));
    let mut all = vec!["issue", "--csr", path(&csr), "--out", path(&out)];
    all.extend_from_slice(args);
    h.ok(&all);
    serial_of(&out)
}

fn serial_of(pem: &Path) -> String {
    x509_text(pem, &["-serial", "-noout"]).trim().trim_start_matches("serial=").to_ascii_lowercase()
}

/// The certificate's PEM written to a file.
fn pem(h: &Hcpki, serial: &str) -> PathBuf {
    let file = h.path(&format!("show-{serial}.pem"));
    std::fs::write(&file, h.ok(&["cert", "show", serial, "--pem"])).unwrap();
    file
}

fn count(h: &Hcpki, sql: &str) -> i64 {
    h.db().scalar_i64(sql)
}

const ISSUED_OK: &str = "SELECT COUNT(*) FROM audit_log WHERE action = 'cert.issue' AND outcome = 'ok'";

fn successors(h: &Hcpki, serial: &str) -> Vec<String> {
    h.db().strings(&format!("SELECT serial FROM certificates WHERE replaces = '{serial}' AND status <> 'reserved'"))
}

fn dry_run_changes_nothing_then_successors_keep_key_and_names(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("再発行クリニック");
    let dns = h.router_dns_name(&id);
    let gw = format!("gw1.{dns}");
    let router = issue(
        &h,
        &["--profile", "router", "--facility", &id, "--san", &gw, "--san", "192.0.2.7", "--eku", "ike"],
        Key::P256,
    );
    let pc = issue(&h, &["--profile", "pc", "--facility", &id, "--device", "pc-01"], Key::Rsa2048);
    let other = h.approved_facility("別の薬局");
    let untouched = issue(&h, &["--profile", "pc", "--facility", &other], Key::P256);
    let (certs, audit) = (count(&h, "SELECT COUNT(*) FROM certificates"), count(&h, "SELECT COUNT(*) FROM audit_log"));
    let issued_before = count(&h, ISSUED_OK);

    let out = h.run(&["cert", "reissue", "--facility", &id, "--dry-run"]);
    assert!(out.status.success(), "{}", describe(&out));
    let listed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(listed.lines().filter(|l| l.starts_with("would re-issue")).count(), 2, "{listed}");
    assert!(listed.contains(&router) && listed.contains(&pc) && !listed.contains(&untouched), "{listed}");
    assert_eq!(count(&h, "SELECT COUNT(*) FROM certificates"), certs, "a dry run issues nothing");
    assert_eq!(count(&h, "SELECT COUNT(*) FROM audit_log"), audit, "a dry run records nothing");
    assert_eq!(count(&h, "SELECT COUNT(*) FROM jobs"), 0, "a dry run makes no job");

    let out = h.run(&["cert", "reissue", "--facility", &id]);
    assert!(out.status.success(), "{}", describe(&out));
    let (chains, purposes) = ([("router", None), ("pc", Some("sslclient"))], [router.clone(), pc.clone()]);
    for ((profile, purpose), old) in chains.into_iter().zip(purposes) {
        let new = successors(&h, &old);
        assert_eq!(new.len(), 1, "{old} has exactly one successor: {new:?}");
        let (old_pem, new_pem) = (pem(&h, &old), pem(&h, &new[0]));
        peers::openssl_verify(&h.chain_file(profile), &new_pem, purpose);
        peers::pkilint(&new_pem);
        for what in [
            &["-pubkey", "-noout"][..],
            &["-subject", "-noout"],
            &["-ext", "subjectAltName,extendedKeyUsage", "-noout"],
        ] {
            assert_eq!(x509_text(&old_pem, what), x509_text(&new_pem, what), "{what:?} differs for {old}");
        }
        assert_ne!(old, new[0]);
    }
    assert!(successors(&h, &untouched).is_empty(), "another facility's certificate is not chosen");
    // Kept valid by default: the old certificates are still issued, not revoked.
    assert_eq!(
        count(
            &h,
            &format!("SELECT COUNT(*) FROM certificates WHERE serial IN ('{router}', '{pc}') AND status = 'issued'")
        ),
        2
    );
    assert_eq!(count(&h, ISSUED_OK) - issued_before, 2, "two re-issues, each audited as cert.issue");
    assert_eq!(count(&h, "SELECT COUNT(*) FROM audit_log WHERE action IN ('job.create', 'job.finish')"), 2);

    // A rerun chooses nothing: both have a successor, and the successors are not chosen twice over.
    let again = h.run(&["cert", "reissue", "--facility", &id, "--issued-before", "2000-01-01T00:00:00Z"]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("nothing to re-issue"), "{}", describe(&again));
    let out = h.run(&["cert", "reissue", "--facility", &id, "--dry-run"]);
    let listed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        !listed.contains(&router) && !listed.contains(&pc),
        "re-issued certificates are not chosen again:\n{listed}"
    );
    h.ok(&["audit", "verify"]);
}

fn revoke_old_revokes_the_predecessor_as_superseded(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("Supersede clinic");
    let old = issue(&h, &["--profile", "router", "--facility", &id], Key::P256);
    h.ok(&["cert", "reissue", "--ca", "router", "--revoke-old"]);
    let new = successors(&h, &old);
    assert_eq!(new.len(), 1);
    assert_eq!(
        count(&h, &format!("SELECT COUNT(*) FROM certificates WHERE serial = '{}' AND status = 'issued'", new[0])),
        1
    );
    // RFC 5280 CRLReason superseded (4), after the successor exists.
    assert_eq!(count(&h, &format!("SELECT reason FROM certificate_revocations WHERE serial = '{old}'")), 4);
    let revoked = count(&h, &format!("SELECT seq FROM audit_log WHERE action = 'cert.revoke' AND target = '{old}'"));
    let successor =
        count(&h, &format!("SELECT seq FROM audit_log WHERE action = 'cert.issue' AND target = '{}'", new[0]));
    assert!(successor < revoked, "the successor is stored before the predecessor is revoked");
    h.ok(&["audit", "verify"]);
}

fn resume_after_interruption_reissues_nothing_twice(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("Resume clinic");
    let old: Vec<String> = (0..3).map(|_| issue(&h, &["--profile", "pc", "--facility", &id], Key::P256)).collect();
    let issued_before = count(&h, ISSUED_OK);
    let first = h.run(&["cert", "reissue", "--facility", &id, "--stop-after", "1"]);
    assert!(first.status.success(), "{}", describe(&first));
    assert!(String::from_utf8_lossy(&first.stderr).contains("queued, 1 of 3 done"), "{}", describe(&first));
    assert_eq!(count(&h, "SELECT COUNT(*) FROM certificates WHERE replaces IS NOT NULL"), 1);

    // The worker dies after the first successor was stored but before the job recorded it: the job is left
    // running with a stale heartbeat and its first item pending again.
    let db = h.db();
    db.execute("UPDATE jobs SET state = 'running', owner = 'dead-worker', heartbeat_at = 0");
    db.execute("UPDATE job_items SET state = 'pending', result = NULL");
    let list = h.ok(&["job", "list"]);
    assert!(list.contains("interrupted"), "{list}");

    // Running the same command again continues that job.
    let out = h.run(&["cert", "reissue", "--facility", &id, "--stop-after", "1"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("continuing job"), "{}", describe(&out));
    let out = h.run(&["cert", "reissue", "--facility", &id, "--stop-after", "1"]);
    assert!(out.status.success(), "{}", describe(&out));
    let job = db.strings("SELECT id FROM jobs");
    assert_eq!(job.len(), 1, "one job throughout: {job:?}");
    let out = h.run(&["job", "resume", &job[0]]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("done, 3 of 3 done, 0 failed"), "{}", describe(&out));
    for serial in &old {
        assert_eq!(successors(&h, serial).len(), 1, "{serial} was re-issued exactly once");
    }
    assert_eq!(
        count(&h, "SELECT COUNT(*) FROM job_items WHERE state = 'skipped'"),
        1,
        "the stored successor was found"
    );
    assert_eq!(count(&h, ISSUED_OK) - issued_before, 3, "three re-issues audited, none twice");
    // Taking over the interrupted job and continuing the paused one are audited.
    assert_eq!(count(&h, "SELECT COUNT(*) FROM audit_log WHERE action = 'job.resume'"), 3);
    // A finished job cannot be resumed.
    let again = h.run(&["job", "resume", &job[0]]);
    assert!(
        !again.status.success() && String::from_utf8_lossy(&again.stderr).contains("has ended"),
        "{}",
        describe(&again)
    );
    h.ok(&["audit", "verify"]);
}
