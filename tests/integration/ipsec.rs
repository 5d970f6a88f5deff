//! `scripts/interop-ipsec`: hcpki router certificates and pre-shared keys (issue #50 item 1) against two real
//! IKEv2 daemons (issue 7). The script
//! runs the whole matrix in its own network namespaces (strongSwan charon with kernel-libipsec, libreswan
//! pluto, `hcpki serve` as the CRL distribution point); this test runs it with the binary under test and checks
//! its table: every positive cell established (✓), every negative cell refused (✗, the script already
//! requires the reason tested in the responder's log). SQLite only: the script makes its own hcpki directory,
//! and the IKE side does not depend on the database. Where the machine cannot run it (not root, no
//! namespaces), the script prints `skipped: <reason>` and exits 0, and so does this test.

/// The rows of the table whose first cell is one of `firsts`, split into trimmed cells.
fn rows<'t>(text: &'t str, firsts: &[&str]) -> Vec<Vec<&'t str>> {
    text.lines()
        .map(|l| l.trim().trim_matches('|').split('|').map(str::trim).collect::<Vec<_>>())
        .filter(|cells| cells.first().is_some_and(|c| firsts.contains(c)))
        .collect()
}

#[test]
fn routers_interoperate_with_strongswan_and_libreswan() {
    let out = std::process::Command::new(crate::harness::repo_root().join("scripts/interop-ipsec"))
        .env("HCPKI_BIN", crate::harness::hcpki_bin())
        .output()
        .expect("scripts/interop-ipsec runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "interop-ipsec failed\n{}", crate::harness::describe(&out));
    if let Some(reason) = text.lines().find(|l| l.starts_with("skipped:")) {
        eprintln!("interop-ipsec {reason}");
        return;
    }
    assert!(text.contains("strongSwan 5.") && text.contains("Libreswan 4."), "peer versions missing:\n{text}");

    let positive = rows(&text, &["RSA-2048", "ECDSA P-256"]);
    assert_eq!(positive.len(), 2 * 3 * 3, "one row per key, identity and EKU variant:\n{text}");
    for row in &positive {
        assert!(["FQDN", "IPv4", "IPv6"].contains(&row[1]), "{row:?}");
        assert!(["`none`", "`ike`", "`ike-intermediate`"].contains(&row[2]), "{row:?}");
        assert_eq!(row[3..], ["✓", "✓", "✓"], "strongSwan→strongSwan, →libreswan, libreswan→ all pass: {row:?}");
    }
    // Negative rows: revoked, other facility, expired; one column per pairing, "—" where the pairing has no
    // such cell (libreswan fetches no CRL here, and will not send an expired certificate of its own).
    let negative: Vec<_> = text
        .lines()
        .filter(|l| l.starts_with("| A's certificate") || l.starts_with("| facility C's"))
        .map(|l| l.trim().trim_matches('|').split('|').map(str::trim).collect::<Vec<_>>())
        .collect();
    assert_eq!(negative.len(), 3, "revoked, other facility, expired:\n{text}");
    let refused: usize = negative.iter().map(|row| row[1..].iter().filter(|c| **c == "✗").count()).sum();
    for row in &negative {
        assert!(row[1..].iter().all(|c| *c == "✗" || *c == "—"), "negative cell not refused: {row:?}");
    }
    assert_eq!(refused, 7, "revoked ×2, mismatch ×3, expired ×2:\n{text}");

    // Pre-shared keys from `hcpki psk` (issue #50 item 1, D156): the current key through every pairing (the CHILD
    // SA and ping strongSwan → strongSwan), a rotated-out key and a suspended facility's key refused by both hubs.
    let psk = rows(
        &text,
        &[
            "PSK: A's current key",
            "PSK: A's key rotated out (no overlap), refused",
            "PSK: suspended facility D's key, refused",
        ],
    );
    assert_eq!(psk.len(), 3, "the PSK rows:\n{text}");
    assert_eq!(psk[0][1..], ["✓", "✓", "✓"], "{:?}", psk[0]);
    for row in &psk[1..] {
        assert_eq!(row[1..], ["✗", "✗", "—"], "refused at the strongSwan and the libreswan hub: {row:?}");
    }
    assert!(text.lines().any(|l| l.starts_with("time: ")), "the run time is reported:\n{text}");
}
