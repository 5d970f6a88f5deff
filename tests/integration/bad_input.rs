//! Bad input: each refusal exits non-zero with an error that names the problem, writes no certificate,
//! adds no row, and leaves the audit chain verifiable (refusals may be audited, but never leave a gap).

use crate::fixtures::{self, Broken, Key, csr};
use crate::harness::{Backend, Hcpki};
use crate::issue::path;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

on_both_backends!(
    malformed_csr_files,
    csr_with_bad_signature,
    rsa_1024_key,
    p192_key,
    router_san_of_another_facility,
    router_san_outside_the_zone,
    unknown_facility,
    suspended_facility,
    duplicate_medical_code,
    facility_id_with_wrong_check_character,
);

/// An initialised installation with one approved facility that already holds one certificate, so
/// "nothing changed" is checked against a non-empty list.
struct Setup {
    h: Hcpki,
    facility: String,
    dns: String,
    /// A good P-256 CSR.
    good_csr: PathBuf,
}

impl Setup {
    fn new(b: Backend) -> Self {
        let h = Hcpki::initialized(b);
        let facility = h.approved_facility("Bad input clinic");
        let dns = h.router_dns_name(&facility);
        let good_csr = csr(h.scratch(), "good", Key::P256, "router");
        let before = h.cert_list(None);
        let first = h.path("first.pem");
        h.ok(&[
            "issue",
            "--profile",
            "router",
            "--facility",
            &facility,
            "--csr",
            path(&good_csr),
            "--san",
            &dns,
            "--out",
            path(&first),
        ]);
        assert_eq!(h.cert_list(None).len(), before.len() + 1, "cert list must show an issued certificate");
        Self { h, facility, dns, good_csr }
    }

    /// `hcpki issue ARGS --out X` must be refused with a message mentioning one of `hints`
    /// (case-insensitive), without writing X, adding a certificate row, or breaking the audit chain.
    fn refused_issue(&self, args: &[&str], hints: &[&str]) -> String {
        let out = self.h.path(&format!("refused-{}.pem", uuid::Uuid::new_v4().simple()));
        let before_facility = self.h.cert_list(Some(&self.facility));
        let before_all = self.h.cert_list(None);
        let mut full = vec!["issue"];
        full.extend(args);
        full.extend(["--out", path(&out)]);
        let stderr = self.h.fails(&full);
        assert_mentions(&stderr, hints, &full.join(" "));
        assert!(!out.exists(), "a refused issue must not write {}", out.display());
        assert_eq!(self.h.cert_list(Some(&self.facility)), before_facility, "a refused issue must add no row");
        assert_eq!(self.h.cert_list(None), before_all, "a refused issue must add no row");
        self.h.ok(&["audit", "verify"]);
        stderr
    }
}

/// Truncated and garbage DER and PEM, and an empty file.
fn malformed_csr_files(b: Backend) {
    let s = Setup::new(b);
    let cases: Vec<_> = [
        Broken::TruncatedDer,
        Broken::TruncatedPem,
        Broken::PemOfTruncatedDer,
        Broken::GarbageDer,
        Broken::GarbagePem,
        Broken::Empty,
    ]
    .into_iter()
    .map(|how| (format!("{how:?}"), fixtures::broken_csr(&s.good_csr, how)))
    .collect();
    each_case(&cases, |csr| {
        s.refused_issue(
            &["--profile", "router", "--facility", &s.facility, "--csr", path(csr), "--san", &s.dns],
            &["csr", "request", "der", "pem", "parse", "decod", "malformed", "truncat", "empty"],
        );
    });
}

/// A CSR whose signature does not verify: no proof of possession.
fn csr_with_bad_signature(b: Backend) {
    let s = Setup::new(b);
    let cases: Vec<_> = [Broken::BadSignatureDer, Broken::BadSignaturePem]
        .into_iter()
        .map(|how| (format!("{how:?}"), fixtures::broken_csr(&s.good_csr, how)))
        .collect();
    each_case(&cases, |csr| {
        s.refused_issue(
            &["--profile", "router", "--facility", &s.facility, "--csr", path(csr), "--san", &s.dns],
            &["signature", "proof of possession", "possession"],
        );
    });
}

fn rsa_1024_key(b: Backend) {
    let s = Setup::new(b);
    let weak = csr(s.h.scratch(), "weak", Key::Rsa1024, "router");
    weak_key(&s, &weak, &["1024", "2048", "key size", "too small", "rsa"]);
}

fn p192_key(b: Backend) {
    let s = Setup::new(b);
    let weak = csr(s.h.scratch(), "weak", Key::P192, "router");
    weak_key(&s, &weak, &["p-192", "p192", "prime192v1", "secp192r1", "1.2.840.10045.3.1.1", "curve", "p-256"]);
}

/// A key the profiles do not allow is refused for router and PC certificates alike.
fn weak_key(s: &Setup, csr: &std::path::Path, hints: &[&str]) {
    let cases = vec![("router".to_owned(), "router"), ("pc".to_owned(), "pc")];
    each_case(&cases, |profile| {
        let mut args = vec!["--profile", profile, "--facility", &s.facility, "--csr", path(csr)];
        if *profile == "router" {
            args.extend(["--san", &s.dns]);
        }
        s.refused_issue(&args, hints);
    });
}

/// Facility A cannot get a router certificate for facility B's name.
fn router_san_of_another_facility(b: Backend) {
    let s = Setup::new(b);
    let other = s.h.approved_facility("Other clinic");
    let other_dns = s.h.router_dns_name(&other);
    let stderr = s.refused_issue(
        &["--profile", "router", "--facility", &s.facility, "--csr", path(&s.good_csr), "--san", &other_dns],
        &[&other_dns, "san", "dns"],
    );
    assert!(stderr.contains(&other_dns), "the error should name the refused SAN {other_dns}:\n{stderr}");
    // B's own certificate list is untouched too.
    assert!(s.h.cert_list(Some(&other)).is_empty());
}

/// Names outside the router zone entirely, and a wildcard (RFC 4945 §5.1.3.6 forbids them).
fn router_san_outside_the_zone(b: Backend) {
    let s = Setup::new(b);
    let wildcard = format!("*.{}", s.dns);
    let cases = vec![
        ("outside zone".to_owned(), "router.example.com".to_owned()),
        ("zone apex".to_owned(), s.dns.split_once('.').map(|(_, zone)| zone.to_owned()).unwrap_or_default()),
        ("wildcard".to_owned(), wildcard),
    ];
    each_case(&cases, |san| {
        s.refused_issue(
            &["--profile", "router", "--facility", &s.facility, "--csr", path(&s.good_csr), "--san", san],
            &[san, "san", "dns", "wildcard"],
        );
    });
}

fn unknown_facility(b: Backend) {
    let s = Setup::new(b);
    let nobody = fixtures::unassigned_facility_id();
    let san = format!("{}.{}", nobody.to_ascii_lowercase(), zone_of(&s));
    let cases = vec![("router".to_owned(), "router"), ("pc".to_owned(), "pc")];
    each_case(&cases, |profile| {
        let mut args = vec!["--profile", profile, "--facility", &nobody, "--csr", path(&s.good_csr)];
        if *profile == "router" {
            args.extend(["--san", &san]);
        }
        s.refused_issue(&args, &[&nobody, "unknown", "not found", "no facility", "not registered"]);
    });
    s.h.fails(&["facility", "show", &nobody]);
    s.h.fails(&["facility", "approve", &nobody]);
}

fn suspended_facility(b: Backend) {
    let s = Setup::new(b);
    s.h.ok(&["facility", "suspend", &s.facility, "--reason", "test"]);
    let cases = vec![("router".to_owned(), "router"), ("pc".to_owned(), "pc")];
    each_case(&cases, |profile| {
        let mut args = vec!["--profile", profile, "--facility", &s.facility, "--csr", path(&s.good_csr)];
        if *profile == "router" {
            args.extend(["--san", &s.dns]);
        }
        s.refused_issue(&args, &["suspended"]);
    });
}

/// A 医療機関コード belongs to one facility.
fn duplicate_medical_code(b: Backend) {
    let h = Hcpki::initialized(b);
    let code = fixtures::medical_code(42);
    h.add_facility("First clinic", Some(&code));
    let before = h.ok(&["facility", "list", "--json"]);
    let stderr = h.fails(&["facility", "add", "--name", "Second clinic", "--kind", "clinic", "--code", &code]);
    assert_mentions(&stderr, &[&code, "already", "duplicate", "exists", "registered"], "duplicate code");
    assert_eq!(h.ok(&["facility", "list", "--json"]), before, "a refused registration must add no row");
    h.ok(&["audit", "verify"]);
}

/// A mistyped ID is refused by its check character, not matched to another facility.
fn facility_id_with_wrong_check_character(b: Backend) {
    let s = Setup::new(b);
    let wrong = fixtures::with_wrong_check_char(&s.facility);
    s.refused_issue(
        &["--profile", "pc", "--facility", &wrong, "--csr", path(&s.good_csr)],
        &["check character", "check", "mistyped"],
    );
    for cmd in [["facility", "show"], ["facility", "approve"]] {
        let stderr = s.h.fails(&[cmd[0], cmd[1], &wrong]);
        assert_mentions(&stderr, &["check character", "check", "mistyped"], &format!("{} {} {wrong}", cmd[0], cmd[1]));
    }
    s.h.ok(&["audit", "verify"]);
}

/// The router zone: the facility's DNS name without its first label.
fn zone_of(s: &Setup) -> String {
    s.dns.split_once('.').map(|(_, z)| z.to_owned()).expect("router_dns_name has a zone")
}

/// The error message names the problem: it contains at least one of `hints` (case-insensitive).
fn assert_mentions(stderr: &str, hints: &[&str], what: &str) {
    let lower = stderr.to_lowercase();
    assert!(
        hints.iter().any(|h| !h.is_empty() && lower.contains(&h.to_lowercase())),
        "`{what}` failed, but its error should mention one of {hints:?}:\n{stderr}"
    );
}

/// Runs `check` on every case and reports all failing cases at the end, not just the first.
fn each_case<T>(cases: &[(String, T)], check: impl Fn(&T)) {
    let failed: Vec<&str> = cases
        .iter()
        .filter(|(_, input)| catch_unwind(AssertUnwindSafe(|| check(input))).is_err())
        .map(|(name, _)| name.as_str())
        .collect();
    assert!(failed.is_empty(), "failing cases (details above): {failed:?}");
}
