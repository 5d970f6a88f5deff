//! `hcpki audit …`.

use crate::args::value;
pub use crate::audit_chain::verify_chain;
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use hcpki_ca::audit::{AuditHead, ChainVerifier};
use hcpki_ca::store::AuditLog;
use hcpki_pkix::time::UnixTime;
use sha2::Digest as _;
use std::io::Write;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the whole hash chain; non-zero exit on any tampering.
    Verify {
        /// A head (SEQ:HASH, as `hcpki audit verify` prints it) recorded elsewhere earlier; also catches
        /// truncation.
        #[arg(long, value_parser = value::audit_head)]
        expect_head: Option<(i64, String)>,
    },
    /// Print entries as JSON lines.
    List {
        #[arg(long, default_value_t = 0)]
        after: i64,
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Export every entry after a sequence number for a SIEM: RFC 5424 syslog or JSON lines, to standard
    /// output or to a syslog collector over TCP. Prints the last exported sequence number on stderr, for the
    /// next run's --after.
    Export {
        /// `syslog` (RFC 5424) or `jsonl`.
        #[arg(long, value_enum, default_value_t = ExportFormat::Syslog)]
        format: ExportFormat,
        /// Export entries after this sequence number (0: from the start).
        #[arg(long, default_value_t = 0)]
        after: i64,
        /// Send to a syslog collector (`HOST:PORT`, TCP, RFC 6587 octet counting) instead of standard output.
        #[arg(long, value_name = "HOST:PORT")]
        send: Option<String>,
        /// HOSTNAME field of syslog messages (default: this machine's name).
        #[arg(long)]
        hostname: Option<String>,
    },
    /// Retention: write the entries older than the retention period to an archive file (JSON lines, checked
    /// after writing), then delete them from the database; the rest still verify, linked to the last one
    /// archived. Audited as `audit.prune`.
    Prune {
        /// The archive to write (must not exist yet); keep it where audit records are kept.
        #[arg(long)]
        archive: std::path::PathBuf,
        /// Keep the entries of the last N days (default: `[audit] retention_days` in hcpki.toml).
        #[arg(long)]
        keep_days: Option<u32>,
        /// Count the retention period back from this RFC 3339 time instead of now.
        #[arg(long, value_parser = value::rfc3339)]
        at: Option<i64>,
    },
    /// Check an archive written by `audit prune`: its own hash chain, and whether the database's remaining
    /// entries continue it.
    VerifyArchive {
        /// The archive file.
        file: std::path::PathBuf,
    },
}

/// `hcpki audit export --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// RFC 5424 syslog messages.
    Syslog,
    /// One JSON object per line (the `audit list` form).
    Jsonl,
}

const PAGE: i64 = 10_000;

/// `forwarding`: `[atna]` is configured, so prune keeps what the audit repository has not confirmed yet.
pub async fn run(
    store: &dyn AuditLog,
    retention_days: Option<u32>,
    forwarding: bool,
    command: AuditCommand,
) -> Result<ExitCode> {
    match command {
        AuditCommand::Prune { archive, keep_days, at } => {
            let Some(days) = keep_days.or(retention_days) else {
                bail!("no retention period: set [audit] retention_days in hcpki.toml or pass --keep-days");
            };
            let now = at.map_or_else(hcpki_pkix::time::now, UnixTime::from_secs);
            return prune(store, &archive, days, now, forwarding).await;
        }
        AuditCommand::VerifyArchive { file } => return verify_archive(store, &file).await,
        AuditCommand::Verify { expect_head } => match verify_chain(store, expect_head.as_ref()).await? {
            Ok(head) => println!("audit log intact: {} entries, head {}:{}", head.seq, head.seq, head.hash),
            Err(tampered) => {
                eprintln!("audit log TAMPERED{tampered}");
                return Ok(ExitCode::FAILURE);
            }
        },
        AuditCommand::List { after, limit } => {
            for e in store.audit_entries(after, limit).await? {
                println!("{}", serde_json::to_string(&e)?);
            }
        }
        AuditCommand::Export { format, after, send, hostname } => {
            let hostname = hostname.unwrap_or_else(crate::syslog::local_hostname);
            let mut sink: Box<dyn Write> = match &send {
                Some(addr) => Box::new(std::io::BufWriter::new(std::net::TcpStream::connect(addr).map_err(|e| {
                    anyhow::anyhow!("cannot reach the syslog collector at {addr}: {e}; check --send HOST:PORT")
                })?)),
                None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            };
            // Up to the head as it is now: entries appended meanwhile are for the next run.
            let head = store.audit_head().await?;
            let mut last = after;
            while last < head.seq {
                let page = store.audit_entries(last, PAGE.min(head.seq - last)).await?;
                let Some(end) = page.last() else { break };
                last = end.seq;
                for e in &page {
                    match format {
                        ExportFormat::Jsonl => writeln!(sink, "{}", serde_json::to_string(e)?)?,
                        ExportFormat::Syslog if send.is_some() => {
                            write!(sink, "{}", crate::syslog::frame(&crate::syslog::format(e, &hostname)))?
                        }
                        ExportFormat::Syslog => writeln!(sink, "{}", crate::syslog::format(e, &hostname))?,
                    }
                }
            }
            sink.flush()?;
            eprintln!("exported entries {}..{last} (next run: --after {last})", after + 1);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Entries older than `keep_days` before `now` go to `archive` (written, synced and re-read for verification
/// first), then leave the database in batches, each moving the anchor.
async fn prune(
    store: &dyn AuditLog,
    archive: &std::path::Path,
    keep_days: u32,
    now: UnixTime,
    forwarding: bool,
) -> Result<ExitCode> {
    // Whole days back from the whole second, as the retention is given.
    let cutoff =
        UnixTime::from_secs(now.as_secs()).minus(std::time::Duration::from_secs(u64::from(keep_days) * 86_400));
    let cutoff_ms = cutoff.as_millis();
    let anchor = store.audit_anchor().await?;
    let mut head = store.audit_head().await?;
    // With [atna] on, entries the audit repository has not confirmed stay: the forwarder reads them from here
    // (D98). Nothing forwarded yet keeps everything.
    if forwarding {
        let mark = store
            .audit_forwarded(crate::atna::forwarder::DESTINATION)
            .await?
            .unwrap_or_else(|| anchor.as_ref().map_or(0, |a| a.seq));
        if mark < head.seq {
            eprintln!("keeping the entries after {mark}: the audit repository ([atna]) has not confirmed them yet");
            // +1: the loop below always keeps the newest entry it considers.
            head.seq = mark + 1;
        }
    }
    // The entries to archive: from the anchor up to the last one written before the cutoff.
    let mut entries = Vec::new();
    let mut after = anchor.as_ref().map_or(0, |a| a.seq);
    'pages: while after < head.seq {
        let page = store.audit_entries(after, PAGE.min(head.seq - after)).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for e in page {
            if e.at_ms >= cutoff_ms {
                break 'pages;
            }
            entries.push(e);
        }
    }
    // The newest entry always stays: the chain keeps a head to verify against.
    if entries.last().is_some_and(|e| e.seq == head.seq) {
        entries.pop();
    }
    let Some(through) = entries.last().map(|e| e.seq) else {
        println!("nothing older than {keep_days} days to prune");
        return Ok(ExitCode::SUCCESS);
    };
    let mut verifier = ChainVerifier::after(anchor.as_ref());
    verifier.feed(&entries).map_err(|e| anyhow::anyhow!("the audit log is damaged, nothing pruned: {e}"))?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(archive)
        .with_context(|| format!("cannot create the archive {} (it must not exist yet)", archive.display()))?;
    let mut text = String::new();
    for e in &entries {
        text.push_str(&serde_json::to_string(e)?);
        text.push('\n');
    }
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write the archive {}: nothing was pruned", archive.display()))?;
    drop(file);
    let (written, _) = read_archive(archive)?;
    if written.len() != entries.len() {
        bail!("the archive {} does not read back whole: nothing was pruned", archive.display());
    }
    let sha256 = hex::encode(sha2::Sha256::digest(text.as_bytes()));
    let mut last = None;
    while let Some(moved) = store.audit_prune(through, PAGE).await? {
        last = Some(moved);
    }
    let Some(anchor) = last else { bail!("nothing was pruned: another process pruned these entries meanwhile") };
    let event = hcpki_ca::audit::AuditEvent {
        actor: super::actor().as_str().to_owned(),
        action: "audit.prune".into(),
        target: format!("{}..{}", entries.first().map_or(0, |e| e.seq), anchor.seq),
        outcome: hcpki_ca::audit::Outcome::Ok,
        detail: serde_json::json!({
            "through": anchor.seq,
            "anchor_hash": anchor.hash,
            "archive": archive.display().to_string(),
            "archive_sha256": sha256,
            "keep_days": keep_days,
        }),
    };
    store.append_audit(&event, hcpki_pkix::time::now()).await?;
    println!(
        "archived and pruned entries {}..{} to {} (sha256 {sha256}); the log now starts after {}:{}",
        entries.first().map_or(0, |e| e.seq),
        anchor.seq,
        archive.display(),
        anchor.seq,
        anchor.hash
    );
    Ok(ExitCode::SUCCESS)
}

/// The entries of an archive and the anchor it starts from (the genesis for the first archive, else the
/// `prev_hash` of its first entry, which the previous archive's last entry must have).
fn read_archive(path: &std::path::Path) -> Result<(Vec<hcpki_ca::audit::AuditEntry>, Option<AuditHead>)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut entries = Vec::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let entry = serde_json::from_str(line)
            .with_context(|| format!("{} line {}: not an audit entry", path.display(), n + 1))?;
        entries.push(entry);
    }
    let start = entries
        .first()
        .filter(|e: &&hcpki_ca::audit::AuditEntry| e.seq > 1)
        .map(|e| AuditHead { seq: e.seq - 1, hash: e.prev_hash.clone() });
    Ok((entries, start))
}

async fn verify_archive(store: &dyn AuditLog, path: &std::path::Path) -> Result<ExitCode> {
    let (entries, start) = read_archive(path)?;
    let mut verifier = ChainVerifier::after(start.as_ref());
    if let Err(e) = verifier.feed(&entries) {
        eprintln!("archive {} TAMPERED: {e}", path.display());
        return Ok(ExitCode::FAILURE);
    }
    let end = verifier.last();
    let from = start.as_ref().map_or(0, |s| s.seq) + 1;
    println!("archive {} intact: entries {from}..{}, last hash {}", path.display(), end.seq, end.hash);
    match store.audit_anchor().await? {
        Some(anchor) if anchor.seq == end.seq && anchor.hash.eq_ignore_ascii_case(&end.hash) => {
            println!("the database's remaining entries continue it (anchor {}:{})", anchor.seq, anchor.hash);
        }
        Some(anchor) if anchor.seq == end.seq => {
            eprintln!("archive {} does NOT match the database's anchor {}:{}", path.display(), anchor.seq, anchor.hash);
            return Ok(ExitCode::FAILURE);
        }
        Some(anchor) => {
            println!("(the database's anchor is {}:{}: a later archive continues this one)", anchor.seq, anchor.hash)
        }
        None => println!("(nothing was pruned from this database)"),
    }
    Ok(ExitCode::SUCCESS)
}
