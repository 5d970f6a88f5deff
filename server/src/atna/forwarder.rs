//! The forwarder `hcpki serve` runs when `[atna]` is configured (D98): it reads the hash-chained audit log after
//! the forwarding mark (the last entry the repository confirmed, a store row), sends the next batch as ITI-20
//! messages, and moves the mark once the repository confirmed the batch. After a restart, or while the
//! repository is down, it resumes from the mark: no entry is skipped, and an entry may be sent twice (a batch
//! confirmed but not yet marked when the process stopped): delivery is at least once, each message naming its
//! entry (`seq`, `hash` in its structured data) so a repository can drop the repeats.
//!
//! Failures wait before the next attempt, doubling from one second up to `[atna] retry_max_secs`. Only the
//! change of state is audited (`atna.forward`: failing, with the reason; resumed, with what was waiting), since
//! an entry per failed attempt would grow the backlog it is waiting to send.

use super::counters::Counters;
use super::event::map;
use super::message::{AuditSource, dicom_xml};
use super::transport::{DeliveryError, Repository};
use hcpki_ca::audit::{AuditEntry, AuditEvent, Outcome};
use hcpki_ca::store::AuditLog;
use hcpki_pkix::time::Clock;
use std::sync::Arc;
use std::time::Duration;

/// The forwarding mark's destination name in the store.
pub const DESTINATION: &str = "atna";

/// The first pause after a failure.
const FIRST_RETRY: Duration = Duration::from_secs(1);

/// How the forwarder works, from `[atna]`.
#[derive(Debug)]
pub struct Forwarder {
    /// The repository.
    pub repository: Repository,
    /// Who sends.
    pub source: AuditSource,
    /// Entries per batch (one connection each).
    pub batch: i64,
    /// How often to look for new entries when there is nothing to send.
    pub poll: Duration,
    /// The longest pause between failed attempts.
    pub retry_max: Duration,
}

/// What one round did.
#[derive(Debug, PartialEq, Eq)]
enum Round {
    /// Nothing new.
    Idle,
    /// A batch confirmed; maybe more waiting.
    Sent,
}

/// Why a round failed.
#[derive(Debug, thiserror::Error)]
enum RoundError {
    #[error(transparent)]
    Delivery(#[from] DeliveryError),
    #[error("the audit log or the forwarding mark cannot be read or written: {0}")]
    Store(#[from] hcpki_ca::store::StoreError),
}

impl Forwarder {
    /// Start forwarding in the background, for as long as the process runs, counting in `counters` (the
    /// metrics page renders them).
    pub fn spawn(self, store: Arc<dyn AuditLog>, clock: Arc<dyn Clock>, counters: Arc<super::Counters>) {
        counters.start();
        tokio::spawn(async move { self.run(store.as_ref(), clock.as_ref(), &counters).await });
    }

    async fn run(&self, store: &dyn AuditLog, clock: &dyn Clock, counters: &Counters) {
        tracing::info!(repository = self.repository.address(), "ATNA: forwarding the audit log");
        let mut retry = FIRST_RETRY;
        // `None`: not known yet (start); the first failure is then audited, a first success is not news.
        let mut failing: Option<bool> = None;
        loop {
            match self.round(store, clock, counters).await {
                Ok(round) => {
                    if failing == Some(true) {
                        tracing::info!(repository = self.repository.address(), "ATNA: the repository is back");
                        self.audit_state(store, clock, Outcome::Ok, "resumed").await;
                    }
                    failing = Some(false);
                    retry = FIRST_RETRY;
                    if round == Round::Idle {
                        tokio::time::sleep(self.poll).await;
                    }
                }
                Err(e) => {
                    match &e {
                        RoundError::Delivery(d) => counters.count_failure(d),
                        RoundError::Store(_) => counters.count_database_failure(),
                    }
                    tracing::warn!(
                        repository = self.repository.address(),
                        error = %e,
                        retry_secs = retry.as_secs(),
                        "ATNA: audit messages not delivered; they stay queued in the audit log"
                    );
                    if failing != Some(true) {
                        self.audit_state(store, clock, Outcome::Failed, &e.to_string()).await;
                    }
                    failing = Some(true);
                    tokio::time::sleep(retry).await;
                    retry = (retry * 2).min(self.retry_max.max(FIRST_RETRY));
                }
            }
        }
    }

    /// One batch after the mark, or nothing.
    async fn round(&self, store: &dyn AuditLog, clock: &dyn Clock, counters: &Counters) -> Result<Round, RoundError> {
        let head = store.audit_head().await?;
        let mark = match store.audit_forwarded(DESTINATION).await? {
            Some(seq) => seq,
            // Never forwarded: from the start of what the log still holds.
            None => store.audit_anchor().await?.map_or(0, |a| a.seq),
        };
        counters.observe(head.seq, mark);
        if mark >= head.seq {
            return Ok(Round::Idle);
        }
        let entries = store.audit_entries(mark, self.batch.min(head.seq - mark)).await?;
        let (Some(first), Some(last)) = (entries.first(), entries.last()) else { return Ok(Round::Idle) };
        if first.seq > mark + 1 {
            // Pruned (archived) before they were forwarded: they are in the archive, not here.
            let lost = first.seq - mark - 1;
            counters.count_lost(u64::try_from(lost).unwrap_or(0));
            tracing::error!(
                after = mark,
                lost,
                "ATNA: audit entries were pruned before they were forwarded; send them from the archive \
                 (hcpki audit verify-archive names it)"
            );
        }
        let frames = frames(&entries, &self.source);
        self.repository.deliver(frames.as_bytes()).await?;
        // Confirmed. Should the mark's write fail, the batch is sent again: at least once.
        store.set_audit_forwarded(DESTINATION, last.seq, clock.now()).await?;
        counters.count_sent(u64::try_from(entries.len()).unwrap_or(0), last.seq);
        counters.observe(head.seq, last.seq);
        Ok(Round::Sent)
    }

    async fn audit_state(&self, store: &dyn AuditLog, clock: &dyn Clock, outcome: Outcome, what: &str) {
        let event = AuditEvent {
            actor: "system".into(),
            action: "atna.forward".into(),
            target: self.repository.address().to_owned(),
            outcome,
            detail: if outcome == Outcome::Ok {
                serde_json::json!({ "state": what })
            } else {
                serde_json::json!({ "state": "failing", "reason": what })
            },
        };
        if let Err(e) = store.append_audit(&event, clock.now()).await {
            tracing::warn!(error = %e, "ATNA: cannot audit the forwarder's state");
        }
    }
}

/// The batch's messages, octet-counted, back to back.
pub fn frames(entries: &[AuditEntry], source: &AuditSource) -> String {
    let mut out = String::new();
    for entry in entries {
        let xml = dicom_xml(entry, &map(entry), source);
        out.push_str(&crate::syslog::frame(&crate::syslog::atna(entry, &source.hostname, &xml)));
    }
    out
}
