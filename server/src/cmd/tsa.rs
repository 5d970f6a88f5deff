//! `hcpki tsa …`: the time-stamping authorities signers ask (`[[signing.tsa]]`, D70), checked from the
//! operator's shell.

use crate::config::Loaded;
use crate::http::tsa_client::TimeStamps;
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use hcpki_docsig::timestamp::client::Stamped;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, Subcommand)]
pub enum TsaCommand {
    /// Ask each configured TSA, alone, for a time stamp over a test digest and check it as a signature would:
    /// print its time, policy and TSA, or what is wrong and what to do. Exits 1 when any TSA fails.
    Check,
    /// Time-stamp a file's SHA-256 through the configured list, as a signature would: the first valid token is
    /// written to --out (DER TimeStampToken, `openssl ts -verify -token_in` reads it), the TSAs that failed
    /// before it are printed. Exits 1, writing nothing, when none gives one.
    Stamp {
        /// The file whose SHA-256 is stamped.
        #[arg(long)]
        data: PathBuf,
        /// Where the token is written.
        #[arg(long)]
        out: PathBuf,
    },
}

pub async fn run(loaded: &Loaded, command: TsaCommand) -> Result<ExitCode> {
    let stamps = TimeStamps::from_config(loaded, Arc::new(hcpki_pkix::time::SystemClock))?;
    if stamps.endpoints().is_empty() {
        bail!("no time-stamping authority is configured: add [[signing.tsa]] entries to {}", crate::config::FILE);
    }
    match command {
        TsaCommand::Check => {
            let now = hcpki_pkix::time::now_unix();
            let digest = sha256(format!("hcpki tsa check {now}").as_bytes());
            let mut failures = 0;
            for (i, endpoint) in stamps.endpoints().iter().enumerate() {
                match stamps.stamp_with(endpoint, &digest).await {
                    Ok(stamped) => println!("{}. {}: OK, {}", i + 1, endpoint.url, summary(&stamped)),
                    Err(failed) => {
                        failures += 1;
                        let why = failed.0.iter().map(|a| a.error.to_string()).collect::<Vec<_>>().join("; ");
                        println!("{}. {}: FAILED: {why}", i + 1, endpoint.url);
                    }
                }
            }
            let total = stamps.endpoints().len();
            println!("{} of {total} TSAs gave a valid time stamp", total - failures);
            Ok(if failures == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        TsaCommand::Stamp { data, out } => {
            let bytes = std::fs::read(&data).with_context(|| format!("cannot read {}", data.display()))?;
            let stamped = stamps.stamp(&sha256(&bytes)).await?;
            for (i, attempt) in stamped.failed.iter().enumerate() {
                eprintln!("TSA {} failed: {attempt}", i + 1);
            }
            std::fs::write(&out, &stamped.stamp.token).with_context(|| format!("cannot write {}", out.display()))?;
            println!("time stamp from {}: {}", stamped.url, summary(&stamped));
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn summary(stamped: &Stamped) -> String {
    let s = &stamped.stamp;
    format!(
        "genTime {}, policy {}, TSA {}, serial {}",
        hcpki_pkix::time::rfc3339(s.gen_time),
        s.policy,
        s.tsa,
        s.serial
    )
}

fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data).as_ref());
    out
}
