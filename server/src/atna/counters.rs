//! The forwarder's figures in `/metrics` (per process: each replica's forwarder counts what it sent).

use super::transport::DeliveryError;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

/// The metric labels of failed attempts, in counting order.
const REASONS: [&str; 6] = ["connect", "certificate", "handshake", "unconfirmed", "timeout", "database"];

/// Counters and gauges of the ATNA forwarder.
#[derive(Debug, Default)]
pub struct Counters {
    running: AtomicBool,
    sent: AtomicU64,
    failures: [AtomicU64; REASONS.len()],
    lost: AtomicU64,
    acknowledged: AtomicI64,
    head: AtomicI64,
}

impl Counters {
    /// The forwarder runs: render the figures.
    pub fn start(&self) {
        self.running.store(true, Ordering::Relaxed);
    }

    /// Messages the repository confirmed, the last of them entry `through`.
    pub fn count_sent(&self, messages: u64, through: i64) {
        self.sent.fetch_add(messages, Ordering::Relaxed);
        self.acknowledged.fetch_max(through, Ordering::Relaxed);
    }

    /// A failed attempt.
    pub fn count_failure(&self, e: &DeliveryError) {
        self.count_reason(e.reason());
    }

    /// A failed attempt because the database could not be read or the mark written.
    pub fn count_database_failure(&self) {
        self.count_reason("database");
    }

    fn count_reason(&self, reason: &str) {
        if let Some(n) = REASONS.iter().position(|r| *r == reason).and_then(|i| self.failures.get(i)) {
            n.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Entries pruned from the log before they were forwarded.
    pub fn count_lost(&self, entries: u64) {
        self.lost.fetch_add(entries, Ordering::Relaxed);
    }

    /// What the forwarder last saw: the log's head and the mark.
    pub fn observe(&self, head: i64, acknowledged: i64) {
        self.head.store(head, Ordering::Relaxed);
        self.acknowledged.fetch_max(acknowledged, Ordering::Relaxed);
    }

    /// The Prometheus lines, when the forwarder runs.
    pub fn render(&self, out: &mut String) {
        if !self.running.load(Ordering::Relaxed) {
            return;
        }
        let acknowledged = self.acknowledged.load(Ordering::Relaxed);
        let head = self.head.load(Ordering::Relaxed);
        let _ = writeln!(out, "# HELP hcpki_atna_sent_total Audit messages the ATNA repository confirmed.");
        let _ = writeln!(out, "# TYPE hcpki_atna_sent_total counter");
        let _ = writeln!(out, "hcpki_atna_sent_total {}", self.sent.load(Ordering::Relaxed));
        let _ = writeln!(
            out,
            "# HELP hcpki_atna_failures_total Failed delivery attempts to the ATNA repository, by reason."
        );
        let _ = writeln!(out, "# TYPE hcpki_atna_failures_total counter");
        for (reason, n) in REASONS.iter().zip(&self.failures) {
            let _ = writeln!(out, "hcpki_atna_failures_total{{reason=\"{reason}\"}} {}", n.load(Ordering::Relaxed));
        }
        let _ = writeln!(out, "# HELP hcpki_atna_lost_total Audit entries pruned before they were forwarded.");
        let _ = writeln!(out, "# TYPE hcpki_atna_lost_total counter");
        let _ = writeln!(out, "hcpki_atna_lost_total {}", self.lost.load(Ordering::Relaxed));
        let _ = writeln!(out, "# HELP hcpki_atna_acknowledged_seq The last audit entry the ATNA repository confirmed.");
        let _ = writeln!(out, "# TYPE hcpki_atna_acknowledged_seq gauge");
        let _ = writeln!(out, "hcpki_atna_acknowledged_seq {acknowledged}");
        let _ = writeln!(out, "# HELP hcpki_atna_backlog Audit entries not yet confirmed by the ATNA repository.");
        let _ = writeln!(out, "# TYPE hcpki_atna_backlog gauge");
        let _ = writeln!(out, "hcpki_atna_backlog {}", (head - acknowledged).max(0));
    }
}
