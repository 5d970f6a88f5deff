//! `hcpki signature …`: verify a signed file against `[signing]` (D73): a CAdES `.p7s` with its document (beside
//! it or inside it), an XAdES e-prescription or a signed PDF, the format read from the file
//! (`hcpki_docsig::signature::verdict`); or renew its archive time stamp through `[[signing.tsa]]` (B-LTA, D74).

use crate::config::Loaded;
use crate::http::tsa_client::TimeStamps;
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use hcpki_docsig::signature::validation::{FetchRequest, Indication, Report};
use hcpki_docsig::signature::verdict::{self, Format, Verdict, VerdictError};
use hcpki_docsig::signature::{cades, pades};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use x509_cert::der::Encode as _;

#[derive(Debug, Subcommand)]
pub enum SignatureCommand {
    /// Verify a signed file: prints the verdict (PASSED, INDETERMINATE/…, FAILED/…), why, the signer, the
    /// hcRole, the level and the time stamp's time, for every signature in it (a PDF passes only when all do).
    /// Exits 0 PASSED, 1 FAILED, 2 INDETERMINATE, 3 when it cannot judge (a file it cannot read, a detached
    /// signature without --data, `[signing]` unusable: nothing was verified). Revocation data the file does not embed is fetched from the
    /// certificate's CRL distribution points and OCSP responders.
    Verify {
        /// The signed file: a CAdES `.p7s` (detached, or attached with the document inside), an XAdES
        /// e-prescription (XML) or a PDF; the format is read from the file.
        file: PathBuf,
        /// The signed document, for a detached CAdES signature (an attached one's must be the one it carries).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Print the verdict as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Add a new archive time stamp (B-LTA) from the configured TSAs over the signature and everything it
    /// carries (a PDF: the newest time stamp's TSA certificate into the DSS, then a document time stamp): run
    /// it before the last time stamp's TSA certificate or algorithms weaken.
    Renew {
        /// The signed file: a CAdES `.p7s` (with --data when detached) or a signed PDF.
        file: PathBuf,
        /// The signed document, for a detached CAdES signature.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Where to write the renewed signature (default: replace FILE).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

pub async fn run(loaded: &Loaded, command: SignatureCommand) -> Result<ExitCode> {
    match command {
        SignatureCommand::Verify { file, data, json } => match verify(loaded, &file, data.as_deref()).await {
            Ok(verdict) => {
                if json {
                    println!("{}", serde_json::to_string_pretty(&crate::http::signatures::json_verdict(&verdict))?);
                } else {
                    print!("{}", text_verdict(&verdict));
                }
                Ok(ExitCode::from(match verdict.overall().report.indication {
                    Indication::Passed => 0,
                    Indication::Failed => 1,
                    Indication::Indeterminate => 2,
                }))
            }
            // Not FAILED: nothing was judged, and a script must not read "cannot verify" as "forged".
            Err(e) => {
                eprintln!("error: {e:#}");
                Ok(ExitCode::from(3))
            }
        },
        SignatureCommand::Renew { file, data, out } => {
            let signed = read_signed(&file)?;
            let document = data.as_deref().map(read).transpose()?;
            let stamps = TimeStamps::from_config(loaded, Arc::new(hcpki_pkix::time::SystemClock))?;
            if stamps.endpoints().is_empty() {
                bail!(
                    "no time-stamping authority is configured: add [[signing.tsa]] entries to {}",
                    crate::config::FILE
                );
            }
            let (renewed, stamped) = match (verdict::detect(&signed), document) {
                (Format::Cades, document) => {
                    // An attached signature carries its document (`openssl cms -sign -stream`).
                    let carried = || cades::CadesSignature::from_ber(&signed).ok()?.carried_document().ok()?;
                    let document = document.or_else(carried).ok_or(VerdictError::DocumentMissing)?;
                    let digest = cades::archive_time_stamp_digest(&signed, &document)?;
                    let stamped = stamps.stamp(&digest).await?;
                    (cades::with_archive_time_stamp(&signed, &document, &stamped.stamp.token)?, stamped)
                }
                (Format::Pades, None) => {
                    let prepared = pades::renew(&signed, &newest_tsa(&signed)?)?;
                    let stamped = stamps.stamp(&prepared.digest()).await?;
                    (pades::assemble_document_time_stamp(prepared, &stamped.stamp.token)?, stamped)
                }
                (Format::XadesEprescription, _) => bail!(
                    "{} is an XAdES e-prescription: its format stops at B-T (a signature time stamp), there is no \
                     archive time stamp to renew",
                    file.display()
                ),
                (format, Some(_)) => return Err(VerdictError::DocumentNotUsed(format).into()),
            };
            let out = out.unwrap_or(file);
            std::fs::write(&out, renewed).with_context(|| format!("cannot write {}", out.display()))?;
            println!(
                "archive time stamp from {} at {} added: {}",
                stamped.url,
                hcpki_pkix::time::rfc3339(stamped.stamp.gen_time),
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Judge `file` (with its detached document `data`) against `[signing]`, fetching revocation data it does not
/// embed.
async fn verify(loaded: &Loaded, file: &Path, data: Option<&Path>) -> Result<Verdict> {
    let trust = loaded.config.signing.verifier_trust(&loaded.dir)?;
    let signed = read_signed(file)?;
    let document = data.map(read).transpose()?;
    let now = hcpki_pkix::time::now_unix();
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let fetch = |request: &FetchRequest<'_>| fetch(&handle, request);
        verdict::judge(&signed, document.as_deref(), &trust, now, &fetch)
    })
    .await
    .context("the verifier stopped")?
    .with_context(|| format!("cannot verify {}", file.display()))
}

/// The validation data a PDF's renewal adds before its new document time stamp: the certificate of the TSA
/// that made the newest time stamp, so the one about to cover it can still be checked once that TSA is gone.
/// The PDF must check first: renewing a broken signature would only time-stamp the damage.
fn newest_tsa(pdf: &[u8]) -> Result<pades::ValidationData> {
    let verified = pades::verify(pdf)?;
    let newest = verified
        .document_time_stamps
        .last()
        .map(|d| &d.time_stamp)
        .or_else(|| verified.signatures.iter().flat_map(|s| &s.time_stamps).max_by_key(|t| t.time));
    let certificates = newest.map(|t| t.tsa.to_der()).transpose()?.into_iter().collect();
    Ok(pades::ValidationData { certificates, ..Default::default() })
}

/// The signed file, refused before it is read when over the largest a format takes (a 50 MB file is not read
/// to be told it is over 20 MiB).
fn read_signed(path: &Path) -> Result<Vec<u8>> {
    Ok(hcpki_docsig::signature::file::read_at_most(path, hcpki_docsig::signature::file::MAX_SIGNED_FILE)?)
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// CRLs from their distribution points over the login's bounded HTTP reader; OCSP responses from the
/// certificate's responder over the outbound client ([`ask_ocsp`]).
fn fetch(handle: &tokio::runtime::Handle, request: &FetchRequest<'_>) -> Result<Vec<u8>, String> {
    match request {
        FetchRequest::Crl { url } => handle
            .block_on(hcpki_sso::login::crl_cache::fetch(url, Some(&crate::outbound::Hyper)))
            .map_err(|e| e.to_string()),
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
    let tls = crate::outbound::post::tls_client(None, "[signing]").map_err(|e| format!("{e:#}"))?;
    let exchange = crate::outbound::post::exchange(
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

/// The file's verdict first; then, for a PDF of several signatures, each one's; then a PDF's revisions.
fn text_verdict(verdict: &Verdict) -> String {
    let overall = verdict.overall();
    let mut out = format!("format: {}\n", verdict.format.family());
    if verdict.signatures.len() == 1 {
        out += &text_report(&overall.report);
    } else {
        out +=
            &format!("verdict: {} (the worst of {} signatures)\n", overall.report.verdict(), verdict.signatures.len());
        for one in &verdict.signatures {
            out += &format!("\nsignature {}:\n", one.field.as_deref().unwrap_or("-"));
            out += &text_report(&one.report);
        }
    }
    if let Some(history) = &verdict.revisions {
        out += "\nrevisions:\n";
        for revision in &history.revisions {
            out += &format!("  {revision}\n");
        }
        if let Some(tail) = &history.after_last_revision {
            out += &format!("  {tail}\n");
        }
    }
    out
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
        out += &format!("time stamp: {}\n", hcpki_pkix::time::rfc3339(at));
    }
    if let Some(at) = report.archive_time_stamp {
        out += &format!("archive time stamp: {}\n", hcpki_pkix::time::rfc3339(at));
    }
    for note in &report.notes {
        out += &format!("note: {note}\n");
    }
    out
}
