//! The audit entries of refusals that anyone on the network can cause, group-committed (D28 addendum, session
//! 21): a bad client assertion at `/token`, `/par`, `/introspect` or `/revoke`, an unregistered redirect URI or
//! unknown client at `/authorize`, a malformed bearer token at `/userinfo`, a cross-site POST; and since issue
//! #24 item 5 the sign-in's: a malformed form, an oversized body on any route, a wrong password, a throttled
//! account.
//!
//! Every audit entry is a commit serialised on the audit head (D5), and none of these endpoints is rate
//! limited: written one by one, a flood of bad requests would be a flood of durable commits that every other
//! audited write waits behind. A [`GroupCommit`] worker instead takes every refusal waiting (up to
//! [`MAX_BATCH`]) and appends them in one transaction ([`AuditLog::append_audits`]), each its own chain entry, in
//! arrival order: an idle server writes each at once, a flooded one shares each commit among the batch.
//!
//! The caller waits for the commit, so the entry exists when the refusal is answered. A failed write is
//! logged and never changes the answer.

use hcpki_ca::audit::{AuditEvent, Outcome};
use hcpki_ca::group_commit::GroupCommit;
use hcpki_ca::store::AuditLog;
use hcpki_pkix::time::Clock;
use hcpki_pkix::time::UnixTime;
use std::sync::Arc;

/// Most entries in one transaction.
const MAX_BATCH: usize = 256;
/// Entries waiting beyond this make callers wait to enqueue (back-pressure on a flood, not unbounded memory).
const QUEUE_DEPTH: usize = 4096;
/// Longest text taken from a request into an entry's actor or target (client ids are far shorter).
const MAX_TEXT: usize = 128;

/// The worker's handle.
pub struct Refusals(GroupCommit<AuditEvent, ()>);

impl std::fmt::Debug for Refusals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl Refusals {
    /// Start the worker on the current tokio runtime; each batch is stamped with `clock`'s time when it is written.
    pub fn start(store: Arc<dyn AuditLog>, clock: Arc<dyn Clock>) -> Self {
        Self(GroupCommit::start("refusal audit", MAX_BATCH, QUEUE_DEPTH, move |batch: Vec<AuditEvent>| {
            let store = store.clone();
            let at_ms = clock.now_unix_ms();
            async move {
                let n = batch.len();
                write(store.as_ref(), batch, at_ms).await;
                vec![(); n]
            }
        }))
    }

    /// Audit a refusal (outcome `denied`) with whatever else is waiting, and wait for its commit.
    pub async fn record(&self, actor: &str, action: &str, target: &str, detail: serde_json::Value) {
        let event = AuditEvent {
            actor: actor.to_owned(),
            action: action.to_owned(),
            target: target.to_owned(),
            outcome: Outcome::Denied,
            detail,
        };
        if let Err(e) = self.0.submit(event).await {
            tracing::error!(error = %e, action, "cannot write the audit entry of a refusal");
        }
    }
}

/// A value the request named (a client id, a redirect URI), made fit for an entry's actor or target: at most
/// [`MAX_TEXT`] characters, control characters replaced (PostgreSQL text refuses NUL, and one bad entry must
/// not cost the batch its commit), `-` when absent or empty.
pub fn named(value: Option<&str>) -> String {
    match value.filter(|v| !v.is_empty()) {
        Some(v) => v.chars().take(MAX_TEXT).map(|c| if c.is_control() { '\u{FFFD}' } else { c }).collect(),
        None => "-".to_owned(),
    }
}

/// Append the batch in one transaction. Should that fail, each entry is tried on its own, so that one entry the
/// database refuses does not lose the others; the failures are logged once for the batch (an outage would
/// otherwise log a batch's worth of identical lines).
async fn write(store: &dyn AuditLog, batch: Vec<AuditEvent>, at_ms: i64) {
    let Err(first) = store.append_audits(&batch, UnixTime::from_millis(at_ms)).await else { return };
    if batch.len() == 1 {
        tracing::error!(error = %first, "cannot write the audit entry of a refusal");
        return;
    }
    let mut lost = 0usize;
    let mut last = None;
    for event in &batch {
        if let Err(e) = store.append_audit(event, UnixTime::from_millis(at_ms)).await {
            lost += 1;
            last = Some(e);
        }
    }
    if let Some(e) = last {
        tracing::error!(error = %e, batch_error = %first, lost, of = batch.len(), "cannot write refusal audit entries");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_values_are_bounded_and_free_of_control_characters() {
        assert_eq!(named(None), "-");
        assert_eq!(named(Some("")), "-");
        assert_eq!(named(Some("rp1")), "rp1");
        assert_eq!(named(Some("a\0b\nc")), "a\u{FFFD}b\u{FFFD}c");
        assert_eq!(named(Some(&"é".repeat(500))).chars().count(), MAX_TEXT);
    }
}
