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
