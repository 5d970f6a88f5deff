//! `hcpki bench p384`: ECDSA P-384 / SHA-384 signature verifications per second — what reception and the
//! verifier do for every login, identification and consent of the next My Number card generation (D153) — through
//! hcpki's own path (`hcpki_pkix::card_signature::verify`: the key's algorithm from the certificate, the strict
//! DER read of the signature, aws-lc-rs's verification), against `openssl speed ecdsap384` on the same machine in
//! the same run. Both single-threaded; each measured `--rounds` times, interleaved, and the best run of each kept,
//! so a burst of other work on a shared machine does not decide the ratio.

use anyhow::{Context, Result, bail};
use clap::Args;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct BenchP384Args {
    /// Seconds per measurement.
    #[arg(long, default_value_t = 2)]
    pub seconds: u64,
    /// Interleaved rounds; each side's best round is reported.
    #[arg(long, default_value_t = 4)]
    pub rounds: u32,
}

pub fn run(args: &BenchP384Args) -> Result<ExitCode> {
    let (spki, message, signature) = fixture()?;
    let window = Duration::from_secs(args.seconds.max(1));
    let mut ours = 0f64;
    let mut rust_crypto = 0f64;
    let mut openssl = None::<f64>;
    for _ in 0..args.rounds.max(1) {
        ours = ours.max(hcpki_rate(&spki, &message, &signature, window)?);
        rust_crypto = rust_crypto.max(rust_crypto_rate(&spki, &message, &signature, window)?);
        if let Some(rate) = openssl_rate(args.seconds.max(1))? {
            openssl = Some(openssl.map_or(rate, |o: f64| o.max(rate)));
        }
    }
    eprintln!(
        "bench p384: {} s per measurement, best of {} interleaved rounds, one thread each",
        window.as_secs(),
        args.rounds.max(1)
    );
    println!("| ECDSA P-384 / SHA-384 verify | verifications/s | ÷ OpenSSL |");
    println!("|---|---:|---:|");
    let ratio = |r: f64| openssl.map_or_else(|| "-".to_owned(), |o| format!("{:.2}", r / o));
    println!("| hcpki (`card_signature::verify`, aws-lc-rs) | {ours:.0} | {} |", ratio(ours));
    println!("| RustCrypto `p384` 0.14 (pure Rust, for reference) | {rust_crypto:.0} | {} |", ratio(rust_crypto));
    match openssl {
        Some(o) => println!("| `openssl speed ecdsap384` ({}) | {o:.0} | 1.00 |", openssl_version()),
        None => println!("| `openssl speed ecdsap384` | (openssl not found) | - |"),
    }
    Ok(ExitCode::SUCCESS)
}

/// A P-384 card's key, its certificate's SubjectPublicKeyInfo, a login message and its DER signature, made as the
/// virtual P-384 My Number card makes them.
fn fixture() -> Result<(x509_cert::spki::SubjectPublicKeyInfoOwned, Vec<u8>, Vec<u8>)> {
    use der::Decode as _;
    use hcpki_vcard::key::CardAlgorithm;
    use hcpki_vcard::testpki::{JpkiSubject, issue_jpki_for};
    let card = issue_jpki_for(&JpkiSubject::default(), CardAlgorithm::P384).context("test P-384 card")?;
    let certificate = x509_cert::Certificate::from_der(&card.auth.cert)?;
    let spki = certificate.tbs_certificate().subject_public_key_info().clone();
    let message = hcpki_agent_protocol::login_message("https://portal.example", &[7; 32]);
    let signature = card.auth.key.sign_message(&message).context("P-384 signature")?;
    Ok((spki, message, signature))
}

/// Verifications per second through hcpki's path over `window`.
fn hcpki_rate(
    spki: &x509_cert::spki::SubjectPublicKeyInfoOwned,
    message: &[u8],
    signature: &[u8],
    window: Duration,
) -> Result<f64> {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < window {
        for _ in 0..64 {
            hcpki_pkix::card_signature::verify(spki, message, signature)
                .map_err(|e| anyhow::anyhow!("the benchmark's own signature did not verify: {e}"))?;
        }
        n += 64;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// Verifications per second with RustCrypto's `p384` (the DER signature and the SEC1 point parsed once, as a
/// verifier holding the key would).
fn rust_crypto_rate(
    spki: &x509_cert::spki::SubjectPublicKeyInfoOwned,
    message: &[u8],
    signature: &[u8],
    window: Duration,
) -> Result<f64> {
    use p384::ecdsa::signature::Verifier as _;
    let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(spki.subject_public_key.raw_bytes())
        .map_err(|e| anyhow::anyhow!("p384 key: {e}"))?;
    let signature = p384::ecdsa::Signature::from_der(signature).map_err(|e| anyhow::anyhow!("p384 signature: {e}"))?;
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < window {
        for _ in 0..16 {
            key.verify(message, &signature).map_err(|e| anyhow::anyhow!("p384 verify: {e}"))?;
        }
        n += 16;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// `openssl speed -seconds S ecdsap384`'s verify/s; None without OpenSSL.
fn openssl_rate(seconds: u64) -> Result<Option<f64>> {
    let out = match std::process::Command::new("openssl")
        .args(["speed", "-seconds", &seconds.to_string(), "ecdsap384"])
        .output()
    {
        Ok(out) => out,
        Err(_) => return Ok(None),
    };
    if !out.status.success() {
        bail!("openssl speed failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(Some(parse_openssl_speed(&String::from_utf8_lossy(&out.stdout))?))
}

/// The verify/s column of the `nistp384` row: ` 384 bits ecdsa (nistp384)   0.0008s   0.0007s   1264.9   1509.5`.
fn parse_openssl_speed(text: &str) -> Result<f64> {
    let line = text.lines().find(|l| l.contains("(nistp384)")).context("no nistp384 row in openssl speed's output")?;
    let last = line.split_whitespace().last().context("an empty nistp384 row")?;
    last.parse::<f64>().with_context(|| format!("openssl speed's verify/s {last:?}"))
}

fn openssl_version() -> String {
    std::process::Command::new("openssl")
        .arg("version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|v| v.split_whitespace().take(2).collect::<Vec<_>>().join(" ").into())
        .unwrap_or_else(|| "OpenSSL".to_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_openssl_speed_output() {
        let text = "                              sign    verify    sign/s verify/s\n \
                    384 bits ecdsa (nistp384)   0.0008s   0.0007s   1264.9   1509.5\n";
        assert_eq!(super::parse_openssl_speed(text).unwrap(), 1509.5);
        assert!(super::parse_openssl_speed("nothing").is_err());
    }
}
