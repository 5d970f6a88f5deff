//! `hcpki bench issue` runs end to end and reports every figure docs/benchmarks.md records. Nothing is
//! timed here: the figures only have to be present and positive.

use crate::harness::{Backend, Hcpki};

on_both_backends!(bench_issue_reports_rates_and_ratios);

fn bench_issue_reports_rates_and_ratios(b: Backend) {
    let h = Hcpki::new(b);
    let mut args =
        vec!["bench", "issue", "--count", "24", "--batch", "8", "--concurrency", "2", "--keys", "p256,rsa2048"];
    let pg = std::env::var("HCPKI_TEST_PG_URL").ok();
    if b == Backend::Postgres {
        args.extend(["--postgres", pg.as_deref().expect("HCPKI_TEST_PG_URL (scripts/test sets it)")]);
    }
    let out = h.ok(&args);
    let rows: Vec<Vec<&str>> = out
        .lines()
        .filter(|l| l.starts_with("| sqlite") || l.starts_with("| postgres"))
        .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
        .collect();
    let backends: &[&str] = if b == Backend::Postgres { &["sqlite", "postgres"] } else { &["sqlite"] };
    assert_eq!(rows.len(), backends.len() * 2, "one row per backend and key:\n{out}");
    for row in &rows {
        assert!(backends.contains(&row[0]) && ["p256", "rsa2048"].contains(&row[1]), "row {row:?}");
        // raw 1 thread, raw N threads, single rate, p50, p99, ratio, batched rate, ratio: all positive numbers.
        for cell in &row[2..] {
            let number: f64 = cell
                .trim_end_matches(" ms")
                .trim_end_matches('%')
                .parse()
                .unwrap_or_else(|_| panic!("{cell:?} is not a number in {row:?}\n{out}"));
            assert!(number > 0.0, "{cell:?} must be positive in {row:?}");
        }
    }
}

/// `hcpki bench crl` with a small list: one row per key with positive times, ratios and sizes, and a size per
/// entry in the range RFC 5280 encoding allows (35 octets without a reason code, 49 with one, plus the
/// CRL's fixed part). No database: one case.
#[test]
fn bench_crl_reports_size_and_ratios() {
    let h = Hcpki::new(Backend::Sqlite);
    let out = h.ok(&["bench", "crl", "--entries", "2000", "--keys", "p256,rsa2048"]);
    let rows: Vec<Vec<&str>> = out
        .lines()
        .filter(|l| l.starts_with("| p256") || l.starts_with("| rsa2048"))
        .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
        .collect();
    assert_eq!(rows.len(), 2, "one row per key:\n{out}");
    for row in &rows {
        assert_eq!(row[1], "2000", "{row:?}");
        for cell in &row[1..] {
            let number: f64 = cell.parse().unwrap_or_else(|_| panic!("{cell:?} is not a number in {row:?}\n{out}"));
            assert!(number > 0.0, "{cell:?} must be positive in {row:?}");
        }
        let per_entry: f64 = row[6].parse().unwrap();
        assert!((35.0..60.0).contains(&per_entry), "{per_entry} bytes per entry in {row:?}");
    }
}
