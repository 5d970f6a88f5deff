//! `scripts/fault` (issue #9) in a short mode: SIGKILL of the server under concurrent EST load and facility
//! churn (SQLite), and PostgreSQL stopped under the same load (its own throwaway cluster). The script's own
//! checks make it exit non-zero on any loss: a certificate answered 200 but missing from the registry, a serial
//! handed out twice, an issued certificate without exactly one `cert.issue` audit entry, a broken audit chain,
//! held certificates of a facility left active, or no success after the last fault.

#[test]
fn kill9_and_database_outage_lose_nothing() {
    let out = std::process::Command::new(crate::harness::repo_root().join("scripts/fault"))
        .args(["--rounds", "2", "--clients", "3"])
        .env("HCPKI_BIN", crate::harness::hcpki_bin())
        .output()
        .expect("scripts/fault runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "scripts/fault failed\n{}", crate::harness::describe(&out));
    for scenario in ["kill9", "pgstop"] {
        let row = text
            .lines()
            .find(|l| l.starts_with(&format!("| {scenario} |")))
            .unwrap_or_else(|| panic!("no {scenario} row:\n{text}"));
        let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
        let number = |i: usize| -> u64 { cells[i].parse().unwrap_or_else(|_| panic!("cell {i} of {row}")) };
        assert!(number(2) > 0, "{scenario}: nothing was answered: {row}");
        assert!(number(4) > 0, "{scenario}: nothing succeeded after the last fault: {row}");
        assert_eq!(number(5), 0, "{scenario}: certificates lost: {row}");
    }
}

/// Issue #9 "disk full / read-only database: clear errors, no corruption" (SQLite; PostgreSQL reports its own
/// SQLSTATE 53100 / 25006, mapped the same way). In a private mount namespace the hcpki directory sits on a
/// 24 MB tmpfs: one certificate is issued, the disk is filled, then issuing and registering fail with the
/// disk-full advice and exit non-zero; after space is freed the audit chain verifies, nothing half-written
/// exists and issuance goes on. Then the directory is remounted read-only: the same commands fail with the
/// read-only or file advice, not "check the URL". Skipped (passing, with a note) where mount namespaces are unavailable.
#[test]
fn disk_full_and_read_only_storage_give_clear_errors_and_lose_nothing() {
    let root = tempfile::tempdir().unwrap();
    let d = root.path().join("disk");
    std::fs::create_dir(&d).unwrap();
    let probe = std::process::Command::new("unshare")
        .args(["-m", "sh", "-c", &format!("mount -t tmpfs -o size=1m tmpfs {}", d.display())])
        .output();
    if !probe.as_ref().is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: no mount namespace here ({probe:?})");
        return;
    }
    let csr = crate::fixtures::csr(root.path(), "router", crate::fixtures::Key::P256, "router");
    let script = format!(
        r#"set -u
H={bin}; D={d}; CSR={csr}
mount -t tmpfs -o size=24m tmpfs "$D"
"$H" --dir "$D/h" init >/dev/null 2>&1 || {{ echo "init failed"; exit 2; }}
ID=$("$H" --dir "$D/h" facility add --name "Full clinic" --kind clinic 2>/dev/null)
"$H" --dir "$D/h" facility approve "$ID" >/dev/null 2>&1
"$H" --dir "$D/h" issue --profile router --facility "$ID" --csr "$CSR" --out "$D/one.pem" >/dev/null 2>&1 || exit 3
dd if=/dev/zero of="$D/filler" bs=64k >/dev/null 2>&1
for i in 1 2 3; do
  "$H" --dir "$D/h" issue --profile router --facility "$ID" --csr "$CSR" --out "$D/two-$i.pem" 2>&1; echo "full-issue rc=$?"
  "$H" --dir "$D/h" facility add --name "Another clinic $i" --kind clinic 2>&1; echo "full-add rc=$?"
done
rm "$D/filler"
"$H" --dir "$D/h" audit verify 2>&1; echo "verify rc=$?"
echo "certs $("$H" --dir "$D/h" cert list --facility "$ID" | grep -c ' issued ')"
echo "other $("$H" --dir "$D/h" cert list --facility "$ID" | grep -vc -e ' issued ' -e ' failed ' -e ' reserved ')"
echo "facilities $("$H" --dir "$D/h" facility list | grep -c clinic)"
"$H" --dir "$D/h" issue --profile router --facility "$ID" --csr "$CSR" --out "$D/three.pem" >/dev/null 2>&1; echo "after-issue rc=$?"
mount --bind "$D" "$D" && mount -o remount,ro,bind "$D"
"$H" --dir "$D/h" facility add --name "Read-only clinic" --kind clinic 2>&1; echo "ro-add rc=$?"
"#,
        bin = crate::harness::hcpki_bin().display(),
        d = d.display(),
        csr = csr.display(),
    );
    let out = std::process::Command::new("unshare").args(["-m", "bash", "-c", &script]).output().unwrap();
    let text = crate::harness::describe(&out);
    assert!(out.status.success(), "{text}");
    // Three issuances and three registrations on the full disk. A write may fit into pages SQLite freed when an
    // earlier one rolled back, or into WAL space reused after a checkpoint: each write either fails with the
    // advice or is complete (recorded and audited), never half-written; at least one must fail.
    let mut failed = 0;
    let mut rest = text.as_str();
    let (mut issued, mut added) = (0, 0);
    while let Some(at) = rest.find(" rc=") {
        let (said, after) = rest.split_at(at);
        let ok = after.starts_with(" rc=0");
        let what = said.rsplit('\n').next().unwrap_or_default();
        if what == "full-issue" || what == "full-add" {
            if ok {
                if what == "full-issue" { issued += 1 } else { added += 1 }
            } else {
                failed += 1;
                assert!(said.contains("the disk holding the database is full or failing"), "{said}\n---\n{text}");
            }
        }
        rest = after.get(4..).unwrap_or_default();
        rest = rest.split_once('\n').map_or("", |(_, r)| r);
        if what == "verify" {
            break;
        }
    }
    assert!(failed > 0, "no write failed on the full disk\n{text}");
    assert!(!text.contains("check the URL"), "a full disk is not a URL problem\n{text}");
    assert!(text.contains("audit log intact") && text.contains("verify rc=0"), "{text}");
    // A refused issuance may leave its write-ahead intent (reserved, or failed: the serial is burnt), never
    // an issued certificate without its audit entry (the chain verifies) or one the client was not told of.
    assert!(text.contains(&format!("certs {}\n", 1 + issued)), "nothing half-issued\n{text}");
    assert!(text.contains("other 0\n"), "a certificate in an unexpected state\n{text}");
    assert!(text.contains(&format!("facilities {}\n", 1 + added)), "nothing half-registered\n{text}");
    assert!(text.contains("after-issue rc=0"), "issuance goes on once there is space\n{text}");
    let read_only = text.split("after-issue rc=0").nth(1).unwrap_or_default();
    assert!(read_only.contains("ro-add rc=1"), "{text}");
    // SQLite says "read-only" or, when it cannot create its -shm file, "cannot be opened": either names the file.
    assert!(
        read_only.contains("the database is read-only") || read_only.contains("check that it and its directory exist"),
        "{text}"
    );
}
