//! `hcpki audit …`.

use crate::cli::{AuditCommand, ExportFormat};
use anyhow::Result;
use hcpki_ca::audit::{ChainError, ChainVerifier};
use hcpki_ca::store::Store;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

const PAGE: i64 = 10_000;

pub async fn run(store: &Arc<dyn Store>, command: AuditCommand) -> Result<ExitCode> {
    match command {
        AuditCommand::Verify { expect_head } => {
            // Read the head first: entries appended while we page are beyond it and ignored.
            let head = store.audit_head().await?;
            let expected = expect_head.as_deref().map(parse_head).transpose()?;
            let mut verifier = ChainVerifier::default();
            let mut seen_expected = false;
            let mut after = 0;
            while after < head.seq {
                let page = store.audit_entries(after, PAGE.min(head.seq - after)).await?;
                let Some(last) = page.last() else { break };
                after = last.seq;
                if let Err(e) = verifier.feed(&page) {
                    eprintln!("audit log TAMPERED: {e}");
                    return Ok(ExitCode::FAILURE);
                }
                if let Some((seq, hash)) = &expected
                    && let Some(e) = page.iter().find(|e| e.seq == *seq)
                {
                    if !e.hash.eq_ignore_ascii_case(hash) {
                        let err = ChainError::ExpectedHead {
                            expected: format!("{seq}:{hash}"),
                            found: format!("{}:{}", e.seq, e.hash),
                        };
                        eprintln!("audit log TAMPERED: {err}");
                        return Ok(ExitCode::FAILURE);
                    }
                    seen_expected = true;
                }
            }
            if let Some((seq, hash)) = &expected
                && !seen_expected
                && *seq > 0
            {
                let err = ChainError::ExpectedHead {
                    expected: format!("{seq}:{hash}"),
                    found: format!("{}:{}", head.seq, head.hash),
                };
                eprintln!("audit log TAMPERED (truncated): {err}");
                return Ok(ExitCode::FAILURE);
            }
            let checked = match verifier.finish(&head) {
                Ok(h) => h,
                Err(e) => {
                    eprintln!("audit log TAMPERED: {e}");
                    return Ok(ExitCode::FAILURE);
                }
            };
            println!("audit log intact: {} entries, head {}:{}", checked.seq, checked.seq, checked.hash);
        }
        AuditCommand::List { after, limit } => {
            for e in store.audit_entries(after, limit).await? {
                println!("{}", serde_json::to_string(&e)?);
            }
        }
        AuditCommand::Export { format, after, send, hostname } => {
            let hostname = hostname.unwrap_or_else(this_host);
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

/// This machine's name for the syslog HOSTNAME field (`-` if unknown, as RFC 5424 allows).
fn this_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "-".to_owned())
}

/// `SEQ:HASH` as printed by an earlier `hcpki audit verify`.
fn parse_head(s: &str) -> Result<(i64, String)> {
    let (seq, hash) = s
        .split_once(':')
        .ok_or_else(|| anyhow::anyhow!("--expect-head takes SEQ:HASH as printed by `hcpki audit verify`"))?;
    let seq = seq.trim().parse().map_err(|_| anyhow::anyhow!("--expect-head: {seq:?} is not a sequence number"))?;
    Ok((seq, hash.trim().to_ascii_lowercase()))
}
