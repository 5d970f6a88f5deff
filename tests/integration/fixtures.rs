//! Inputs made at run time with OpenSSL: CSRs of every key type, broken CSRs, valid 医療機関コード.
//! Nothing is checked in; see tests/README.md.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Key types a CSR can carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    /// RSA 2048 (accepted).
    Rsa2048,
    /// ECDSA P-256 (accepted).
    P256,
    /// RSA 1024 (must be refused: too small).
    Rsa1024,
    /// ECDSA P-192 / prime192v1 (must be refused: curve not allowed).
    P192,
}

impl Key {
    fn label(self) -> &'static str {
        match self {
            Self::Rsa2048 => "rsa2048",
            Self::P256 => "p256",
            Self::Rsa1024 => "rsa1024",
            Self::P192 => "p192",
        }
    }
}

/// Makes a PEM CSR in `dir` with `openssl req -new -newkey … -nodes -subj /CN=cn`; returns its path.
/// The private key is written next to it (`NAME.key`).
pub fn csr(dir: &Path, name: &str, key: Key, cn: &str) -> PathBuf {
    let csr = dir.join(format!("{name}-{}.csr", key.label()));
    let keyfile = dir.join(format!("{name}-{}.key", key.label()));
    let subj = format!("/CN={cn}");
    let mut cmd = Command::new("openssl");
    cmd.args(["req", "-new", "-nodes", "-subj", &subj]);
    match key {
        Key::Rsa2048 => cmd.args(["-newkey", "rsa:2048"]),
        Key::Rsa1024 => cmd.args(["-newkey", "rsa:1024"]),
        Key::P256 => cmd.args(["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]),
        Key::P192 => {
            // `-newkey ec -pkeyopt ec_paramgen_curve:prime192v1` works too; an explicit key file keeps the
            // curve choice visible in the fixture.
            run_ok(
                Command::new("openssl")
                    .args(["ecparam", "-name", "prime192v1", "-genkey", "-noout", "-out"])
                    .arg(&keyfile),
            );
            cmd.arg("-key").arg(&keyfile);
            &mut cmd
        }
    };
    if key != Key::P192 {
        cmd.arg("-keyout").arg(&keyfile);
    }
    cmd.arg("-out").arg(&csr);
    run_ok(&mut cmd);
    csr
}

/// The DER form of a PEM CSR, written next to it; returns its path.
pub fn csr_der(pem_csr: &Path) -> PathBuf {
    let der = pem_csr.with_extension("der");
    run_ok(Command::new("openssl").args(["req", "-outform", "DER", "-in"]).arg(pem_csr).arg("-out").arg(&der));
    der
}

/// Ways to break a CSR file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Broken {
    /// The first half of the DER bytes.
    TruncatedDer,
    /// A PEM file cut in the middle of the base64, no END line.
    TruncatedPem,
    /// Well-formed PEM armour around the first half of the DER.
    PemOfTruncatedDer,
    /// Bytes that are not DER at all.
    GarbageDer,
    /// PEM armour around text that is not base64.
    GarbagePem,
    /// An empty file.
    Empty,
    /// A well-formed DER CSR whose signature has one byte flipped (proof of possession fails).
    BadSignatureDer,
    /// The same, PEM-armoured.
    BadSignaturePem,
}

/// Writes a broken variant of the good PEM CSR `good`; returns its path.
pub fn broken_csr(good: &Path, how: Broken) -> PathBuf {
    let der = std::fs::read(csr_der(good)).expect("read DER CSR");
    let pem = std::fs::read_to_string(good).expect("read PEM CSR");
    let path = good.with_file_name(format!("broken-{how:?}.csr"));
    let bytes: Vec<u8> = match how {
        Broken::TruncatedDer => der[..der.len() / 2].to_vec(),
        Broken::TruncatedPem => pem.as_bytes()[..pem.len() / 2].to_vec(),
        Broken::PemOfTruncatedDer => pem_armour("CERTIFICATE REQUEST", &der[..der.len() / 2]).into_bytes(),
        Broken::GarbageDer => b"\x30\x82\xff\xff\x02\x01\x00this is not a certificate request".to_vec(),
        Broken::GarbagePem => {
            b"-----BEGIN CERTIFICATE REQUEST-----\nthis is *not* base64!\n-----END CERTIFICATE REQUEST-----\n".to_vec()
        }
        Broken::Empty => Vec::new(),
        Broken::BadSignatureDer => flip_last_byte(der),
        Broken::BadSignaturePem => pem_armour("CERTIFICATE REQUEST", &flip_last_byte(der)).into_bytes(),
    };
    std::fs::write(&path, bytes).expect("write broken CSR");
    path
}

/// The signature BIT STRING is the last element of a CertificationRequest, so its last byte is a
/// signature byte: flipping it keeps the DER well-formed and breaks only the signature (for ECDSA it
/// changes `s`, for RSA the signature value).
fn flip_last_byte(mut der: Vec<u8>) -> Vec<u8> {
    if let Some(b) = der.last_mut() {
        *b ^= 0x01;
    }
    der
}

fn pem_armour(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let body: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).expect("base64 is ASCII")).collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", body.join("\n"))
}

/// A valid 医療機関コード for a 医科 facility in prefecture 01, distinct for distinct `n`
/// (the check digit is found by asking the ca crate's own parser, so this never drifts from it).
pub fn medical_code(n: u32) -> String {
    let body = format!("0110{:05}", n % 100_000);
    (0..=9)
        .map(|d| format!("{body}{d}"))
        .find(|c| hcpki_ca::MedicalInstitutionCode::parse(c).is_ok())
        .expect("one check digit fits")
}

/// A facility ID that is well-formed and correctly checked but belongs to nobody (never assigned in a
/// fresh installation).
pub fn unassigned_facility_id() -> String {
    hcpki_ca::FacilityId::from_number(9_999_999).expect("in range").as_str().to_owned()
}

/// `id` with its check character replaced by another one, so only the check fails.
pub fn with_wrong_check_char(id: &str) -> String {
    let (body, check) = id.split_at(id.len() - 1);
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        .chars()
        .filter(|c| c.to_string() != check.to_ascii_uppercase())
        .map(|c| format!("{body}{c}"))
        .find(|cand| matches!(hcpki_ca::FacilityId::parse(cand), Err(hcpki_ca::facility::FacilityIdError::Check(_))))
        .expect("another check character")
}

/// `openssl x509 -noout ARGS -in cert`; returns stdout.
pub fn x509_text(cert: &Path, args: &[&str]) -> String {
    let out =
        run_ok(Command::new("openssl").args(["x509", "-noout", "-nameopt", "RFC2253"]).args(args).arg("-in").arg(cert));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Unix seconds of a time as OpenSSL prints it (`Nov 24 03:10:00 2026 GMT`), read by `date`.
pub fn unix_of(openssl_time: &str) -> i64 {
    let out = run_ok(Command::new("date").args(["-u", "+%s", "-d", openssl_time.trim()]));
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim().parse().unwrap_or_else(|_| panic!("date printed {text:?} for {openssl_time:?}"))
}

/// Runs a command that must succeed; panics with its output otherwise.
pub fn run_ok(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed ({})\n{}", out.status, crate::harness::describe(&out));
    out
}

#[test]
fn broken_csr_fixtures_are_what_they_claim() {
    let dir = tempfile::tempdir().expect("temp dir");
    for key in [Key::Rsa2048, Key::P256] {
        let good = csr(dir.path(), "fixture", key, "fixture");
        // OpenSSL 3.0's `req -verify` exits 0 even on "verify failure", so read its verdict.
        let verify = |path: &Path, form: &str| {
            let out = Command::new("openssl")
                .args(["req", "-noout", "-verify", "-inform", form, "-in"])
                .arg(path)
                .output()
                .expect("run openssl");
            out.status.success() && String::from_utf8_lossy(&out.stderr).contains("verify OK")
        };
        assert!(verify(&good, "PEM"), "good {key:?} CSR must verify");
        let bad_sig = broken_csr(&good, Broken::BadSignatureDer);
        assert!(!verify(&bad_sig, "DER"), "flipped-signature {key:?} CSR must not verify");
        assert!(!verify(&broken_csr(&good, Broken::BadSignaturePem), "PEM"), "PEM flipped-signature CSR");
        // …but must still parse: the break is in the signature, not in the encoding.
        let parsed = Command::new("openssl")
            .args(["req", "-noout", "-subject", "-inform", "DER", "-in"])
            .arg(&bad_sig)
            .output()
            .expect("run openssl");
        assert!(parsed.status.success(), "flipped-signature {key:?} CSR must still parse");
        for how in [Broken::TruncatedDer, Broken::GarbageDer] {
            assert!(!verify(&broken_csr(&good, how), "DER"), "{how:?} must not parse");
        }
        for how in [Broken::TruncatedPem, Broken::PemOfTruncatedDer, Broken::GarbagePem, Broken::Empty] {
            assert!(!verify(&broken_csr(&good, how), "PEM"), "{how:?} must not parse");
        }
    }
}

#[test]
fn weak_key_fixtures_have_the_weak_keys() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rsa = csr(dir.path(), "weak", Key::Rsa1024, "weak");
    let text = run_ok(Command::new("openssl").args(["req", "-noout", "-text", "-in"]).arg(&rsa));
    assert!(String::from_utf8_lossy(&text.stdout).contains("(1024 bit)"));
    let ec = csr(dir.path(), "weak", Key::P192, "weak");
    let text = run_ok(Command::new("openssl").args(["req", "-noout", "-text", "-in"]).arg(&ec));
    assert!(String::from_utf8_lossy(&text.stdout).contains("prime192v1"));
}

#[test]
fn generated_ids_and_codes_are_valid() {
    let a = medical_code(1);
    let b = medical_code(2);
    assert_ne!(a, b);
    assert!(hcpki_ca::MedicalInstitutionCode::parse(&a).is_ok());
    let unassigned = unassigned_facility_id();
    assert!(hcpki_ca::FacilityId::parse(&unassigned).is_ok());
    assert!(hcpki_ca::FacilityId::parse(&with_wrong_check_char(&unassigned)).is_err());
}
