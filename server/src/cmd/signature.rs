//! `hcpki signature …`: verify a document signature against `[signing]` (D73), or renew its archive time stamp
//! through `[[signing.tsa]]` (B-LTA, D74). CAdES detached signatures (`.p7s`) today; XAdES and PAdES join through
//! the same format-independent core (`hcpki_ca::signature::validation`).

use crate::config::Loaded;
use crate::http::tsa_client::TimeStamps;
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use hcpki_ca::signature::cades;
use hcpki_ca::signature::validation::{FetchRequest, Indication, Report};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, Subcommand)]
pub enum SignatureCommand {
    /// Verify a signature: prints the verdict (PASSED, INDETERMINATE/…, FAILED/…), why, the signer, the hcRole,
    /// the level and the time stamp's time. Exits 0 PASSED, 1 FAILED, 2 INDETERMINATE. Revocation data the
    /// signature does not embed is fetched from the certificate's CRL distribution points.
    Verify {
        /// The signature file (a detached CAdES `.p7s`).
        file: PathBuf,
        /// The signed document, for a detached signature.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Print the verdict as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Add a new archive time stamp (B-LTA) from the configured TSAs over the signature and everything it
    /// carries: run it before the last time stamp's TSA certificate or algorithms weaken.
    Renew {
        /// The signature file (a detached CAdES `.p7s`).
        file: PathBuf,
        /// The signed document.
        #[arg(long)]
        data: PathBuf,
        /// Where to write the renewed signature (default: replace FILE).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

pub async fn run(loaded: &Loaded, command: SignatureCommand) -> Result<ExitCode> {
    match command {
        SignatureCommand::Verify { file, data, json } => {
            let trust = loaded.config.signing.verifier_trust(&loaded.dir)?;
            let p7s = read(&file)?;
            let Some(data) = data else {
                bail!("{} is a detached signature: give the signed document with --data", file.display());
            };
            let document = read(&data)?;
            let now = hcpki_ca::time::now_unix();
            let handle = tokio::runtime::Handle::current();
            let report = tokio::task::spawn_blocking(move || {
                let fetch = |request: &FetchRequest<'_>| fetch(&handle, request);
                cades::validate(&p7s, &document, &trust, now, &fetch)
            })
            .await
            .context("the verifier stopped")?;
            if json {
                println!("{}", serde_json::to_string_pretty(&crate::http::signatures::json_report(&report))?);
            } else {
                print!("{}", text_report(&report));
            }
            Ok(ExitCode::from(match report.indication {
                Indication::Passed => 0,
                Indication::Failed => 1,
                Indication::Indeterminate => 2,
            }))
        }
        SignatureCommand::Renew { file, data, out } => {
            let p7s = read(&file)?;
            let document = read(&data)?;
            let stamps = TimeStamps::from_config(loaded, Arc::new(hcpki_ca::time::SystemClock))?;
            if stamps.endpoints().is_empty() {
                bail!(
                    "no time-stamping authority is configured: add [[signing.tsa]] entries to {}",
                    crate::config::FILE
                );
            }
            let digest = cades::archive_time_stamp_digest(&p7s, &document)?;
            let stamped = stamps.stamp(&digest).await?;
            let renewed = cades::with_archive_time_stamp(&p7s, &document, &stamped.stamp.token)?;
            let out = out.unwrap_or(file);
            std::fs::write(&out, renewed).with_context(|| format!("cannot write {}", out.display()))?;
            println!(
                "archive time stamp from {} at {} added: {}",
                stamped.url,
                hcpki_ca::time::rfc3339(stamped.stamp.gen_time),
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// CRLs from their distribution points over the login's bounded HTTP reader; OCSP responses from the
/// certificate's responder over the outbound client ([`ask_ocsp`]).
fn fetch(handle: &tokio::runtime::Handle, request: &FetchRequest<'_>) -> Result<Vec<u8>, String> {
    match request {
        FetchRequest::Crl { url } => handle.block_on(crate::login::crl_cache::fetch(url)).map_err(|e| e.to_string()),
        FetchRequest::Ocsp { url, request } => handle.block_on(ask_ocsp(url, request)),
    }
}

/// An OCSP answer is one response with, at most, the responder's certificate chain: a few kilobytes.
const MAX_OCSP_RESPONSE: usize = 64 * 1024;
/// Connect, send and answer together, per responder.
const OCSP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// RFC 6960 Appendix A.1: POST the DER OCSPRequest as `application/ocsp-request` to `url` and take an HTTP 200
/// body back: one request per connection, no redirects, at most [`MAX_OCSP_RESPONSE`] octets within
/// [`OCSP_TIMEOUT`]. The URL comes from the signer certificate (the verifier hands `http://` ones only; an
/// OCSP response is signed, as a CRL is); what comes back is judged by the verifier, which takes only a
/// response its CA or a responder it delegated signed for this certificate.
async fn ask_ocsp(url: &str, request: &[u8]) -> Result<Vec<u8>, String> {
    // The outbound client takes a TLS configuration for https://; an http:// responder never uses it.
    let tls = crate::http::outbound::tls_client(None, "[signing]").map_err(|e| format!("{e:#}"))?;
    let exchange = crate::http::outbound::exchange(
        url,
        "application/ocsp-request",
        "hcpki-signature-verify",
        request.to_vec(),
        &tls,
        MAX_OCSP_RESPONSE,
    );
    match tokio::time::timeout(OCSP_TIMEOUT, exchange).await {
        Err(_) => Err(format!("no answer within {} s", OCSP_TIMEOUT.as_secs())),
        Ok(Err(e)) => Err(e),
        Ok(Ok((200, body))) => Ok(body),
        Ok(Ok((status, _))) => Err(format!("HTTP status {status}")),
    }
}

fn text_report(report: &Report) -> String {
    let mut out = format!("verdict: {}\n{}\n", report.verdict(), report.detail);
    if let Some(signer) = &report.signer {
        out += &format!("signer: {}\n", signer.tbs_certificate().subject());
    }
    if !report.hc_roles.is_empty() {
        out += &format!("hcRole: {}\n", report.hc_roles.join(", "));
    }
    if let Some(level) = report.level {
        out += &format!("level: {level}\n");
    }
    if let Some(at) = report.time_stamp {
        out += &format!("time stamp: {}\n", hcpki_ca::time::rfc3339(at));
    }
    if let Some(at) = report.archive_time_stamp {
        out += &format!("archive time stamp: {}\n", hcpki_ca::time::rfc3339(at));
    }
    for note in &report.notes {
        out += &format!("note: {note}\n");
    }
    out
}
