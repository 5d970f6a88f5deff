//! `hcpki bench issue`, `bench sso` and `scripts/bench-ocsp` run end to end and report every figure
//! docs/benchmarks.md records. Nothing is timed here: the figures only have to be present and positive.

use crate::harness::{Backend, Hcpki};

on_both_backends!(
    bench_issue_reports_rates_and_ratios,
    bench_login_reports_full_login_and_parts,
    bench_sso_logs_in_over_https_and_reports_rates_and_reference,
);

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

/// `scripts/bench-ocsp` in a tiny mode (SQLite only: the script has no PostgreSQL option) runs end to end
/// and prints every figure docs/benchmarks.md records: its own checks (each kind of answer verified by
/// OpenSSL, the nonce echoed, the revocation seen by OCSP and on the CRL) make it exit non-zero otherwise.
/// The script drives the load with wrk (Debian package, installed by scripts/deps).
#[test]
fn bench_ocsp_reports_rates_ratios_and_revocation_latency() {
    let out = std::process::Command::new(crate::harness::repo_root().join("scripts/bench-ocsp"))
        .args(["--certs", "3", "--duration", "1s", "--connections", "2", "--revocations", "1"])
        .env("HCPKI_BIN", crate::harness::hcpki_bin())
        .output()
        .expect("scripts/bench-ocsp runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "bench-ocsp failed\n{}", crate::harness::describe(&out));
    let numbers = |row: &str| -> Vec<f64> {
        row.trim_matches('|')
            .split('|')
            .filter_map(|cell| {
                let cell = cell.trim().trim_matches('*');
                cell.trim_end_matches(" ms").trim_end_matches('×').parse().ok()
            })
            .collect()
    };
    for request in ["GET, pre-signed", "POST, pre-signed", "POST + nonce, signed"] {
        let row = text
            .lines()
            .find(|l| l.contains(&format!("| {request} |")))
            .unwrap_or_else(|| panic!("no {request} row:\n{text}"));
        // connections, then rate, p50, p99, failed for hcpki and for OpenSSL, then the ratio.
        let n = numbers(row);
        assert_eq!(n.len(), 10, "row {row:?}");
        for i in [1, 5, 9] {
            assert!(n[i] > 0.0, "rate or ratio {} not positive in {row:?}", n[i]);
        }
        assert_eq!(n[4], 0.0, "hcpki failed requests in {row:?}");
    }
    for what in ["OCSP revoked", "CRL lists it"] {
        let row = text
            .lines()
            .find(|l| l.starts_with(&format!("| {what} |")))
            .unwrap_or_else(|| panic!("no {what} row:\n{text}"));
        assert_eq!(numbers(row).len(), 3, "min, median, max in {row:?}");
    }
}

/// `hcpki bench login` with a few logins: each full login runs `portal::card_login::complete` (challenge,
/// card verification, `login.card` audit entry, SSO session), so the row's figures are all present and
/// positive, and with `--database` the kept database holds one session per full login (the bytes-per-session
/// measurement of docs/benchmarks.md reads that table), with `--at-facility` in a facility-PC login's shape.
fn bench_login_reports_full_login_and_parts(b: Backend) {
    let h = Hcpki::new(b);
    let url = h.database_url();
    let out = h.ok(&["bench", "login", "--iterations", "3", "--crl-entries", "10", "--database", &url]);
    let backend = if b == Backend::Postgres { "postgres" } else { "sqlite" };
    let row: Vec<&str> = out
        .lines()
        .find(|l| l.starts_with(&format!("| {backend} |")))
        .unwrap_or_else(|| panic!("no {backend} row:\n{out}"))
        .trim_matches('|')
        .split('|')
        .map(str::trim)
        .collect();
    assert_eq!(row.len(), 10, "{row:?}");
    assert_eq!(row[1], "3", "logins counted (warm-up excluded) in {row:?}");
    for cell in &row[3..] {
        for part in cell.split(" / ") {
            let number: f64 = part
                .trim_matches('*')
                .trim_end_matches(" ms")
                .parse()
                .unwrap_or_else(|_| panic!("{part:?} is not a number in {row:?}\n{out}"));
            assert!(number > 0.0, "{part:?} must be positive in {row:?}");
        }
    }
    // 3 counted + 20 warm-up logins, each with its session and its audit entry.
    let sessions = h.db().scalar_i64("SELECT count(*) FROM portal_sessions");
    assert_eq!(sessions, 23, "one session per full login");
    let audited = h.db().scalar_i64("SELECT count(*) FROM audit_log WHERE action = 'login.card'");
    assert_eq!(audited, 23, "one login.card audit entry per full login");
    // `--at-facility` (what scripts/bench-sessions measures): every row has a real card session's shape.
    h.ok(&["bench", "login", "--iterations", "3", "--crl-entries", "10", "--at-facility", "--database", &url]);
    let shaped = h.db().scalar_i64(
        "SELECT count(*) FROM portal_sessions WHERE facility_id IS NOT NULL AND presence_hash IS NOT NULL \
         AND presence_until IS NOT NULL AND length(card_id) = 64 AND data LIKE '%\"facility_certificate\"%'",
    );
    assert_eq!(shaped, 23, "one facility-PC session per full login of the second run");
    let listed = h.db().scalar_i64(
        "SELECT count(*) FROM audit_log WHERE action = 'login.card' AND detail LIKE '%\"listed\":[\"emr\"]%'",
    );
    assert_eq!(listed, 46, "each login's entry records the home page's listing");
}

/// `scripts/bench-oidc` in a tiny mode (SQLite): codes through the real `/authorize`, exchanged at `/token` by
/// wrk for each variant — private_key_jwt (the reference), the same with the IUA claims (the script checks the
/// access token carries them), client_secret_basic, the reference's client with a DPoP proof per request (the
/// script checks the first answer's token is bound to the proofs' key, and wrk that every answer says
/// `token_type` DPoP); every exchange answered 200 with an ID token, each row with its ratio to the reference, and
/// the RSS rows present.
#[test]
fn bench_oidc_reports_exchange_rate_and_rss() {
    let out = std::process::Command::new(crate::harness::repo_root().join("scripts/bench-oidc"))
        .args(["--codes", "12", "--runs", "1", "--connections", "2", "--variants", "key,iua,secret,dpop"])
        .env("HCPKI_BIN", crate::harness::hcpki_bin())
        .env("BENCH_OIDC_QUIET", "1")
        .output()
        .expect("scripts/bench-oidc runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "bench-oidc failed\n{}", crate::harness::describe(&out));
    // One row per variant: the key-based reference, the IUA claims' client, the client secret, DPoP (issues #29,
    // #30).
    let rows: Vec<Vec<&str>> = text
        .lines()
        .filter(|l| l.starts_with("| sqlite | 1 |"))
        .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
        .collect();
    let clients: Vec<&str> = rows.iter().map(|r| r[2]).collect();
    assert_eq!(clients, ["bench-rp", "bench-iua", "bench-secret", "bench-rp + DPoP"], "{text}");
    for (i, row) in rows.iter().enumerate() {
        // One code of the 12 is exchanged by curl as a check before the load.
        assert_eq!(row[4], "11", "exchanges in {row:?}");
        assert_eq!(row[10], "0", "non-200 answers in {row:?}");
        let rate: f64 = row[5].trim_matches('*').parse().unwrap_or_else(|_| panic!("rate in {row:?}"));
        assert!(rate > 0.0, "{row:?}");
        if i == 0 {
            assert_eq!(row[6], "1 (reference)", "{row:?}");
        } else {
            let ratio: f64 = row[6].trim_end_matches('×').parse().unwrap_or_else(|_| panic!("ratio in {row:?}"));
            assert!(ratio > 0.0, "{row:?}");
        }
    }
    for what in ["idle, after start-up", "idle, 2 s after the load", "idle, 15 s after the load", "idle, 16 s after"] {
        let line =
            text.lines().find(|l| l.starts_with(&format!("| {what}"))).unwrap_or_else(|| panic!("{what}:\n{text}"));
        // VmRSS, then its anonymous and file-backed parts.
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        assert!(
            cells.len() == 4 && cells[1].ends_with(" kB)") && cells[2..].iter().all(|c| c.ends_with(" MB")),
            "{line}"
        );
    }
}

/// `hcpki bench sso` at a tiny size: it configures card login on the installation, starts `hcpki serve`, and
/// every login of every row is a complete journey over HTTPS (login page, challenge, card signature, session,
/// code, tokens). One row per concurrency with its figures present and positive and no failed login; the
/// database holds one card session and one `login.card` entry per login (the first, the 20 warm-up logins
/// and the rows'), the client's codes were all redeemed, and the audit chain verifies.
fn bench_sso_logs_in_over_https_and_reports_rates_and_reference(b: Backend) {
    let h = Hcpki::initialized(b);
    let out = h.ok(&["bench", "sso", "--concurrency", "1,3", "--logins", "6", "--cards", "2"]);
    let backend = if b == Backend::Postgres { "postgres" } else { "sqlite" };
    let rows: Vec<Vec<&str>> = out
        .lines()
        .filter(|l| l.starts_with(&format!("| {backend} |")))
        .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
        .collect();
    assert_eq!(rows.len(), 2, "one row per concurrency:\n{out}");
    for (row, in_flight) in rows.iter().zip(["1", "3"]) {
        assert_eq!(row.len(), 13, "{row:?}");
        assert_eq!((row[1], row[2], row[6]), (in_flight, "6", "0"), "in flight, logins, failed in {row:?}");
        // The server's and the load client's CPU per login (issue #52): measured in clock ticks, so a few logins
        // may count none, but never a negative or missing figure.
        for cell in &row[7..9] {
            let ms: f64 = cell.trim_end_matches(" ms").parse().unwrap_or_else(|_| panic!("{cell:?} in {row:?}"));
            assert!(ms >= 0.0, "{cell:?} in {row:?}");
        }
        // logins/s, p50, p99, reference journeys/s, its p50 and p99, the ratio.
        for cell in [&row[3..6], &row[9..]].concat() {
            let number: f64 = cell
                .trim_matches('*')
                .trim_end_matches(" ms")
                .trim_end_matches('×')
                .parse()
                .unwrap_or_else(|_| panic!("{cell:?} is not a number in {row:?}\n{out}"));
            assert!(number > 0.0, "{cell:?} must be positive in {row:?}");
        }
    }
    let logins = 1 + 20 + 2 * 6;
    let db = h.db();
    let ok = "SELECT COUNT(*) FROM audit_log WHERE action = 'login.card' AND outcome = 'ok'";
    assert_eq!(db.scalar_i64(ok), logins, "one login.card entry per login");
    assert_eq!(db.scalar_i64("SELECT COUNT(*) FROM portal_sessions"), logins, "one SSO session per login");
    let redeemed = "SELECT COUNT(*) FROM oidc_grants WHERE client_id = 'hcpki-bench-sso' AND state = 'active'";
    assert_eq!(db.scalar_i64(redeemed), logins, "every login's code redeemed for a refresh token");
    h.ok(&["audit", "verify"]);
}

/// Issue #25: `hcpki bench` and the virtual-card test PKI stay out of a production build. The server's normal
/// dependency tree (what `cargo build --release -p server` links) has no `hcpki-vcard`; with the `bench` feature,
/// as the tests and the bench scripts build it, it has. Read from Cargo's own resolution, offline.
#[test]
fn production_builds_leave_the_test_pki_out() {
    let tree = |features: &[&str]| {
        let out = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["tree", "--offline", "-e", "normal", "-p", "server", "--prefix", "none"])
            .args(features)
            .current_dir(crate::harness::repo_root())
            .output()
            .unwrap();
        assert!(out.status.success(), "cargo tree: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let production = tree(&[]);
    assert!(production.contains("hcpki-ca"), "the tree was read: {production}");
    assert!(!production.contains("hcpki-vcard"), "a release build links the test PKI:\n{production}");
    assert!(tree(&["--features", "bench"]).contains("hcpki-vcard"), "the bench feature brings the test PKI");
}
