//! `hcpki backup` / `hcpki restore` (issue #9): a backup restored into a fresh directory (and, on PostgreSQL,
//! a pg_dump restored into a fresh database with pg_restore) verifies its audit chain up to the backup's head,
//! issues with the restored keys, and signs CRLs listing the same revocations under the next CRL number, which
//! OpenSSL honours; `hcpki serve` on it serves that CRL at the certificates' CRL URL and answers OCSP with the
//! same revocations. Damaged, incomplete or mismatched backups are refused with a message naming the problem.

use crate::fixtures::{Key, run_ok};
use crate::harness::{Backend, Hcpki, describe};
use crate::revocation::{crl, crl_check, crl_number, crl_text, crl_text_der, issue, serial_of};
use std::path::Path;
use std::process::Command;

on_both_backends!(restored_backup_verifies_and_serves_the_same_revocations, damaged_or_mismatched_backups_are_refused);

/// The serials and reasons a CRL lists, from `openssl crl -text`.
fn revoked_entries(text: &str) -> Vec<(String, String)> {
    let mut entries = Vec::new();
    let mut lines = text.lines().map(str::trim).peekable();
    while let Some(line) = lines.next() {
        if let Some(serial) = line.strip_prefix("Serial Number: ") {
            let mut reason = String::new();
            while let Some(next) = lines.peek() {
                if next.starts_with("Serial Number: ") || next.starts_with("Signature Algorithm") {
                    break;
                }
                if next.contains("CRL Reason Code") {
                    lines.next();
                    reason = lines.next().unwrap_or_default().to_owned();
                    continue;
                }
                lines.next();
            }
            entries.push((serial.to_ascii_lowercase(), reason));
        }
    }
    entries.sort();
    entries
}

/// Dump the source's PostgreSQL database with pg_dump and restore it into the target's with pg_restore.
pub(crate) fn copy_postgres(from: &Hcpki, to: &Hcpki) {
    let dump = from.path("hcpki.pgdump");
    run_ok(Command::new("pg_dump").args(["-Fc", "--no-owner", "-f"]).arg(&dump).arg(from.database_url()));
    run_ok(Command::new("pg_restore").args(["--no-owner", "-d", &to.database_url()]).arg(&dump));
}

fn restore(target: &Hcpki, backup: &Path) -> std::process::Output {
    target.run(&["restore", "--from", backup.to_str().unwrap()])
}

fn restored_backup_verifies_and_serves_the_same_revocations(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("Backed-up clinic");
    let kept = issue(&h, "router", &id, "kept", Key::P256);
    let gone = issue(&h, "router", &id, "gone", Key::Rsa2048);
    let held = issue(&h, "pc", &id, "held", Key::P256);
    h.ok(&["revoke", "--serial", &serial_of(&gone), "--reason", "keyCompromise"]);
    h.ok(&["revoke", "--serial", &serial_of(&held), "--reason", "certificateHold"]);
    let before = crl_text(&h, &crl(&h, "router", "before.crl"));

    let backup = h.path("backup");
    let said = h.ok(&["backup", "--out", backup.to_str().unwrap(), "--include-secrets"]);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(backup.join("manifest.json")).unwrap()).unwrap();
    let head = format!("{}:{}", manifest["audit_head"]["seq"], manifest["audit_head"]["hash"].as_str().unwrap());
    assert!(said.contains(&head), "the backup names its audit head\n{said}");
    assert!(manifest["files"]["keys/router.p8"].is_string(), "sealed keys are in the backup\n{manifest}");
    match b {
        Backend::Sqlite => assert!(manifest["files"]["hcpki.db"].is_string(), "{manifest}"),
        Backend::Postgres => assert!(said.contains("pg_dump"), "PostgreSQL is dumped with its own tools\n{said}"),
    }
    // Activity after the backup is not in it.
    issue(&h, "router", &id, "later", Key::P256);

    let r = Hcpki::new(b);
    if b == Backend::Postgres {
        copy_postgres(&h, &r);
    }
    let out = restore(&r, &backup);
    assert!(out.status.success(), "restore\n{}", describe(&out));
    assert!(describe(&out).contains(&format!("backup head {head} found")), "{}", describe(&out));
    r.ok(&["audit", "verify", "--expect-head", &head]);

    // The restored installation signs with the restored keys: same revocations, next CRL number.
    let after_pem = crl(&r, "router", "after.crl");
    let after = crl_text(&r, &after_pem);
    assert_eq!(revoked_entries(&after), revoked_entries(&before), "same revoked serials and reasons\n{after}");
    assert!(!revoked_entries(&after).is_empty());
    assert!(crl_number(&after) > crl_number(&before), "CRL numbers go on from the backup\n{after}");
    let refused = crl_check(&r, &after_pem, &gone);
    assert!(describe(&refused).contains("certificate revoked"), "{}", describe(&refused));
    let accepted = crl_check(&r, &after_pem, &kept);
    assert!(accepted.status.success(), "{}", describe(&accepted));
    let pc = crl_text_pc(&r);
    assert!(pc.contains(&serial_of(&held).to_uppercase()) && pc.contains("Certificate Hold"), "{pc}");
    serves_the_same_revocations(&r, &before, crl_number(&after), (&kept, &gone));

    // It goes on issuing, with serials never used before.
    let new = issue(&r, "router", &id, "new", Key::P256);
    assert!(![&kept, &gone, &held].iter().any(|c| serial_of(c) == serial_of(&new)));
    r.ok(&["audit", "verify"]);
}

/// `hcpki serve` on the restored installation `r`: the CRL fetched from the URL in a certificate's CDP lists
/// the revocations of the CRL `before` the backup, under a CRL number ≥ `signed_since` (what `hcpki crl` signed
/// after the restore), and verifies under the CA; `openssl ocsp` at the URL in AIA verifies the answers, `good`
/// for `kept` and `revoked` (keyCompromise) for `gone`.
fn serves_the_same_revocations(r: &Hcpki, before: &str, signed_since: u64, (kept, gone): (&Path, &Path)) {
    let server = crate::serve::Served::start(r, &[]);
    let url_in = |ext: &str, label: &str| crate::revocation::url_on(kept, ext, label, server.http_port);
    let (status, headers, body) = crate::revocation::get(r, &url_in("crlDistributionPoints", "URI:"), &[]);
    assert_eq!(status, 200, "{headers}");
    let served = r.path("served.crl");
    std::fs::write(&served, body).unwrap();
    let text = crl_text_der(r, &served);
    assert_eq!(revoked_entries(&text), revoked_entries(before), "the served CRL: same serials and reasons\n{text}");
    assert!(crl_number(&text) >= signed_since && signed_since > crl_number(before), "CRL numbers\n{text}");

    let ocsp = url_in("authorityInfoAccess", "OCSP - URI:");
    let ask = crate::ocsp::Asker::new(r, &ocsp, "router");
    let (good, _) = ask.openssl(kept, &[], "restored-good");
    assert!(good.contains(&format!("{}: good", kept.display())) && good.contains("Response verify OK"), "{good}");
    let (revoked, _) = ask.openssl(gone, &[], "restored-revoked");
    assert!(revoked.contains(&format!("{}: revoked", gone.display())), "{revoked}");
    assert!(revoked.contains("Reason: keyCompromise") && revoked.contains("Response verify OK"), "{revoked}");
    server.stop();
}

fn crl_text_pc(h: &Hcpki) -> String {
    let path = crl(h, "pc", "pc.crl");
    crate::revocation::crl_text_under(h, "pc", &path)
}

fn damaged_or_mismatched_backups_are_refused(b: Backend) {
    let h = Hcpki::initialized(b);
    h.approved_facility("Careful clinic");
    let backup = h.path("backup");
    let said = h.ok(&["backup", "--out", backup.to_str().unwrap()]);
    assert!(said.contains("secrets/ not included"), "{said}");
    assert!(!backup.join("secrets").exists(), "secrets stay out unless asked for");

    // Into a non-empty directory, or inside the installation: refused before anything is written.
    assert!(h.fails(&["backup", "--out", backup.to_str().unwrap()]).contains("is not empty"));
    let inside = h.dir().join("backups");
    assert!(h.fails(&["backup", "--out", inside.to_str().unwrap()]).contains("inside the hcpki directory"));
    assert!(!inside.exists(), "nothing was created inside the installation");

    // A damaged file is named and nothing is restored.
    let damaged = h.path("damaged");
    run_ok(Command::new("cp").arg("-a").arg(&backup).arg(&damaged));
    let key = damaged.join("keys/router.p8");
    let mut bytes = std::fs::read(&key).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&key, bytes).unwrap();
    let r = Hcpki::new(b);
    let out = restore(&r, &damaged);
    assert!(!out.status.success() && describe(&out).contains("damaged: keys/router.p8"), "{}", describe(&out));
    assert!(!r.dir().join("hcpki.toml").exists(), "nothing restored from a damaged backup");

    // An interrupted backup (no manifest) is refused.
    std::fs::remove_file(damaged.join("manifest.json")).unwrap();
    let out = restore(&r, &damaged);
    assert!(describe(&out).contains("not a complete hcpki backup"), "{}", describe(&out));

    // A database that is not the one backed up: on PostgreSQL an empty database (the dump was never restored);
    // on SQLite another installation's snapshot with the manifest's digest forged to match.
    let r = Hcpki::new(b);
    match b {
        Backend::Postgres => {}
        Backend::Sqlite => {
            let other = Hcpki::initialized_afresh(b);
            let snapshot = other.path("other-backup");
            other.ok(&["backup", "--out", snapshot.to_str().unwrap()]);
            std::fs::copy(snapshot.join("hcpki.db"), backup.join("hcpki.db")).unwrap();
            let path = backup.join("manifest.json");
            let mut manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            let theirs: serde_json::Value =
                serde_json::from_slice(&std::fs::read(snapshot.join("manifest.json")).unwrap()).unwrap();
            manifest["files"]["hcpki.db"] = theirs["files"]["hcpki.db"].clone();
            std::fs::write(&path, manifest.to_string()).unwrap();
        }
    }
    let out = restore(&r, &backup);
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(describe(&out).contains("does not match the backup"), "{}", describe(&out));
}
