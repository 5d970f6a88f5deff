//! What `/metrics` reports of the admission gate (D138): requests admitted and refused per kind of work, how
//! full the gate is, and its bounds. Plain atomics the middleware updates; rendered with the other metrics.

use super::gate::{Bounds, Load, Why, Work};
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// The gate's counters and gauges, per kind of work in [`Work::ALL`] order.
#[derive(Debug, Default)]
pub struct Counters {
    admitted: [AtomicU64; 4],
    /// Admitted after waiting in the line.
    queued: [AtomicU64; 4],
    refused_full: [AtomicU64; 4],
    refused_waited: [AtomicU64; 4],
    /// Admitted, then abandoned at the per-request deadline (D142).
    overdue: [AtomicU64; 4],
    running: AtomicU64,
    waiting: [AtomicU64; 4],
    running_limit: AtomicU64,
    waiting_limit: AtomicU64,
    /// 0 until a gate is in force (the gate off: no series).
    on: AtomicU64,
}

fn at(counters: &[AtomicU64; 4], work: Work) -> Option<&AtomicU64> {
    Work::ALL.iter().position(|w| *w == work).and_then(|i| counters.get(i))
}

fn add(counters: &[AtomicU64; 4], work: Work) {
    if let Some(n) = at(counters, work) {
        n.fetch_add(1, Ordering::Relaxed);
    }
}

fn gauge(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

impl Counters {
    /// The gate is in force with `bounds`.
    pub fn set_bounds(&self, bounds: Bounds) {
        self.running_limit.store(gauge(bounds.running), Ordering::Relaxed);
        self.waiting_limit.store(gauge(bounds.waiting), Ordering::Relaxed);
        self.on.store(1, Ordering::Relaxed);
    }

    /// A request of `work` got a slot (`queued`: after waiting in its line).
    pub fn admitted(&self, work: Work, queued: bool) {
        add(&self.admitted, work);
        if queued {
            add(&self.queued, work);
        }
    }

    /// A request of `work` was refused.
    pub fn refused(&self, work: Work, why: Why) {
        match why {
            Why::Full => add(&self.refused_full, work),
            Why::Waited => add(&self.refused_waited, work),
        }
    }

    /// An admitted request of `work` ran past the per-request deadline and was answered 503.
    pub fn overdue(&self, work: Work) {
        add(&self.overdue, work);
    }

    /// How full the gate is now.
    pub fn set_load(&self, load: Load) {
        self.running.store(gauge(load.running), Ordering::Relaxed);
        for (n, waiting) in self.waiting.iter().zip(load.waiting) {
            n.store(gauge(waiting), Ordering::Relaxed);
        }
    }

    /// The Prometheus text of the gate, appended to `out`; nothing while no gate is in force.
    pub fn render(&self, out: &mut String) {
        if self.on.load(Ordering::Relaxed) == 0 {
            return;
        }
        let load = |n: &AtomicU64| n.load(Ordering::Relaxed);
        // Writing to a String cannot fail; the results are ignored for that reason.
        let _ =
            writeln!(out, "# HELP hcpki_admission_admitted_total Expensive requests given a slot, by kind of work.");
        let _ = writeln!(out, "# TYPE hcpki_admission_admitted_total counter");
        for (n, work) in self.admitted.iter().zip(Work::ALL) {
            let _ = writeln!(out, "hcpki_admission_admitted_total{{work=\"{}\"}} {}", work.as_str(), load(n));
        }
        let _ =
            writeln!(out, "# HELP hcpki_admission_queued_total Of those, the ones that waited in their line first.");
        let _ = writeln!(out, "# TYPE hcpki_admission_queued_total counter");
        for (n, work) in self.queued.iter().zip(Work::ALL) {
            let _ = writeln!(out, "hcpki_admission_queued_total{{work=\"{}\"}} {}", work.as_str(), load(n));
        }
        let _ = writeln!(
            out,
            "# HELP hcpki_admission_refused_total Expensive requests refused with 503 and Retry-After: the line was \
             full on arrival (full), or no slot came within max_wait_ms (waited)."
        );
        let _ = writeln!(out, "# TYPE hcpki_admission_refused_total counter");
        for (reason, counts) in [("full", &self.refused_full), ("waited", &self.refused_waited)] {
            for (n, work) in counts.iter().zip(Work::ALL) {
                let _ = writeln!(
                    out,
                    "hcpki_admission_refused_total{{work=\"{}\",reason=\"{reason}\"}} {}",
                    work.as_str(),
                    load(n)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP hcpki_admission_overdue_total Admitted requests abandoned with 503 at [admission] \
             request_deadline_secs."
        );
        let _ = writeln!(out, "# TYPE hcpki_admission_overdue_total counter");
        for (n, work) in self.overdue.iter().zip(Work::ALL) {
            let _ = writeln!(out, "hcpki_admission_overdue_total{{work=\"{}\"}} {}", work.as_str(), load(n));
        }
        let _ = writeln!(out, "# HELP hcpki_admission_running Expensive requests running now.");
        let _ = writeln!(out, "# TYPE hcpki_admission_running gauge");
        let _ = writeln!(out, "hcpki_admission_running {}", load(&self.running));
        let _ = writeln!(out, "# HELP hcpki_admission_waiting Expensive requests waiting for a slot now, by kind.");
        let _ = writeln!(out, "# TYPE hcpki_admission_waiting gauge");
        for (n, work) in self.waiting.iter().zip(Work::ALL) {
            let _ = writeln!(out, "hcpki_admission_waiting{{work=\"{}\"}} {}", work.as_str(), load(n));
        }
        let _ = writeln!(out, "# HELP hcpki_admission_running_limit [admission] running: slots, all kinds together.");
        let _ = writeln!(out, "# TYPE hcpki_admission_running_limit gauge");
        let _ = writeln!(out, "hcpki_admission_running_limit {}", load(&self.running_limit));
        let _ = writeln!(out, "# HELP hcpki_admission_waiting_limit [admission] waiting: the line of each kind.");
        let _ = writeln!(out, "# TYPE hcpki_admission_waiting_limit gauge");
        let _ = writeln!(out, "hcpki_admission_waiting_limit {}", load(&self.waiting_limit));
    }
}
