//! `hcpki audit …`.

use crate::cli::{AuditCommand, ExportFormat};
use anyhow::Result;
use hcpki_ca::audit::{AuditHead, ChainError, ChainVerifier};
use hcpki_ca::store::Store;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

const PAGE: i64 = 10_000;

pub async fn run(store: &Arc<dyn Store>, command: AuditCommand) -> Result<ExitCode> {
    match command {
        AuditCommand::Verify { expect_head } => {
            let expected = expect_head.as_deref().map(parse_head).transpose()?;
            match verify_chain(store.as_ref(), expected.as_ref()).await? {
                Ok(head) => println!("audit log intact: {} entries, head {}:{}", head.seq, head.seq, head.hash),
                Err(tampered) => {
                    eprintln!("audit log TAMPERED{tampered}");
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
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

/// Check the whole hash chain up to the head as it is now, and that the entry at `expected`'s sequence number
/// (a head recorded earlier: `hcpki audit verify`, a backup manifest) has that hash. `Ok(Err(why))` is a
/// tampered or truncated log, `why` starting with ": " or " (truncated): "; `Err` is a database error.
pub async fn verify_chain(store: &dyn Store, expected: Option<&(i64, String)>) -> Result<Result<AuditHead, String>> {
    // Read the head first: entries appended while we page are beyond it and ignored.
    let head = store.audit_head().await?;
    let mut verifier = ChainVerifier::default();
    let mut seen_expected = false;
    let mut after = 0;
    while after < head.seq {
        let page = store.audit_entries(after, PAGE.min(head.seq - after)).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        if let Err(e) = verifier.feed(&page) {
            return Ok(Err(format!(": {e}")));
        }
        if let Some((seq, hash)) = expected
            && let Some(e) = page.iter().find(|e| e.seq == *seq)
        {
            if !e.hash.eq_ignore_ascii_case(hash) {
                let err = ChainError::ExpectedHead {
                    expected: format!("{seq}:{hash}"),
                    found: format!("{}:{}", e.seq, e.hash),
                };
                return Ok(Err(format!(": {err}")));
            }
            seen_expected = true;
        }
    }
    if let Some((seq, hash)) = expected
        && !seen_expected
        && *seq > 0
    {
        let err = ChainError::ExpectedHead {
            expected: format!("{seq}:{hash}"),
            found: format!("{}:{}", head.seq, head.hash),
        };
        return Ok(Err(format!(" (truncated): {err}")));
    }
    Ok(verifier.finish(&head).map_err(|e| format!(": {e}")))
}

/// `SEQ:HASH` as printed by an earlier `hcpki audit verify`.
pub fn parse_head(s: &str) -> Result<(i64, String)> {
    let (seq, hash) = s
        .split_once(':')
        .ok_or_else(|| anyhow::anyhow!("--expect-head takes SEQ:HASH as printed by `hcpki audit verify`"))?;
    let seq = seq.trim().parse().map_err(|_| anyhow::anyhow!("--expect-head: {seq:?} is not a sequence number"))?;
    Ok((seq, hash.trim().to_ascii_lowercase()))
}
