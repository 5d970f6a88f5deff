//! Verifying the stored audit chain by paging through the store: `hcpki audit verify`, `hcpki restore` and the
//! compliance report (D164) run this one check. A leaf, so that both the commands and the serving side reach it.

use anyhow::Result;
use hcpki_ca::audit::{AuditHead, ChainError, ChainVerifier};
use hcpki_ca::store::AuditLog;

/// Entries read per page.
const PAGE: i64 = 10_000;

/// Check the whole hash chain up to the head as it is now, and that the entry at `expected`'s sequence number
/// (a head recorded earlier: `hcpki audit verify`, a backup manifest) has that hash. `Ok(Err(why))` is a
/// tampered or truncated log, `why` starting with ": " or " (truncated): "; `Err` is a database error.
pub async fn verify_chain(store: &dyn AuditLog, expected: Option<&(i64, String)>) -> Result<Result<AuditHead, String>> {
    // Read the head first: entries appended while we page are beyond it and ignored. Entries up to the anchor
    // were pruned (archived); the rest link to it.
    let head = store.audit_head().await?;
    let anchor = store.audit_anchor().await?;
    let mut verifier = ChainVerifier::after(anchor.as_ref());
    let mut seen_expected = false;
    let mut after = anchor.as_ref().map_or(0, |a| a.seq);
    if let (Some((seq, hash)), Some(a)) = (expected, &anchor)
        && *seq <= a.seq
    {
        if *seq < a.seq || !a.hash.eq_ignore_ascii_case(hash) {
            return Ok(Err(format!(
                ": the expected head {seq}:{hash} is in the pruned part (entries up to {} are archived); check it \
                 with `hcpki audit verify-archive`",
                a.seq
            )));
        }
        seen_expected = true;
    }
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
