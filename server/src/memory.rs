//! Idle memory release: once the server has answered nothing for a while after answering something, the
//! database layer drops its in-process caches ([`Maintenance::release_memory`]: SQLite's page caches) and the C
//! heap's free pages go back to the kernel ([`hcpki_malloc_trim`]), so an idle replica's resident memory falls
//! back near its start-up size instead of keeping the high-water mark of its last busy hour (issue #6's idle
//! RSS goal; docs/benchmarks.md, "What an idle server keeps"). Only when idle: the release takes each glibc
//! arena's lock in turn, which a busy SQLite connection would wait for, and the page caches refill on the
//! next requests (from the kernel's file cache, not the disk).

use crate::app::metrics::Metrics;
use hcpki_ca::store::Maintenance;
use std::sync::Arc;
use std::time::Duration;

/// How often the request count is read; a release follows the first whole interval without a request.
const EVERY: Duration = Duration::from_secs(10);

/// Watch the request count and release when idle, for as long as the server runs.
pub fn spawn_idle_release(metrics: Arc<Metrics>, store: Arc<dyn Maintenance>) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut watch = Watch::default();
        loop {
            ticks.tick().await;
            if watch.tick(metrics.requests_answered()) {
                // The caches first, so that the trim finds their pages free.
                let connections = store.release_memory().await.unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "idle: the database caches were not released");
                    0
                });
                match tokio::task::spawn_blocking(hcpki_malloc_trim::release_free_memory).await {
                    Ok(released) => tracing::debug!(connections, released, "idle: memory returned to the kernel"),
                    Err(e) => tracing::warn!(error = %e, "idle memory release did not run"),
                }
            }
        }
    });
}

/// What the releaser remembers between readings of the request count.
#[derive(Debug, Default)]
struct Watch {
    /// The previous reading.
    last: Option<u64>,
    /// The reading at the last release.
    released_at: Option<u64>,
}

impl Watch {
    /// Whether to release now: nothing was answered since the previous reading, and something was since the
    /// last release (start-up counts as something: its CRLs and pre-signed answers leave freed memory too).
    fn tick(&mut self, answered: u64) -> bool {
        let idle = self.last == Some(answered);
        self.last = Some(answered);
        if idle && self.released_at != Some(answered) {
            self.released_at = Some(answered);
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_once_per_quiet_spell_after_activity() {
        let mut w = Watch::default();
        let decisions: Vec<bool> = [0, 0, 0, 5, 9, 9, 9, 10, 10].into_iter().map(|n| w.tick(n)).collect();
        // First reading: no previous one, so not idle. Quiet after start-up: one release. Busy (5, 9): none.
        // Quiet at 9: one release, then none while it stays quiet. One request (10), quiet again: one more.
        assert_eq!(decisions, [false, true, false, false, false, true, false, false, true]);
    }

    #[test]
    fn a_busy_server_never_releases() {
        let mut w = Watch::default();
        assert!((1..100).all(|n| !w.tick(n)));
    }
}
