//! Housekeeping of the portal's tables (D26), run by every `hcpki serve` replica in the background and by
//! `hcpki portal sweep`: sessions past their limits ended, back-channel logout and Shared Signals for sessions
//! other processes ended and the person events they recorded, then deletion, in bounded
//! batches, of rows nothing needs any more (ended or expired sessions, grants past their deadline, spent
//! single-use values and card-login challenges, and the shared rate-limit windows no replica reads any more).
//! Replicas sharing one PostgreSQL database may run it at the same time: a session's logout is claimed by one
//! replica, and deleting a row twice deletes it once. Without `[portal]` only the sweep runs (the rate-limit
//! rows need it all the same).

use super::PortalState;
use hcpki_ca::store::{Sessions, StoreError, SweepCounts};
use hcpki_pkix::time::Clock;
use hcpki_pkix::time::UnixTime;
use hcpki_sso::session::KEPT_AFTER_END_SECS;
use std::sync::Arc;
use std::time::Duration;

/// Sessions and grants stay this long past their end (see [`KEPT_AFTER_END_SECS`]).
pub const GRACE_SECS: i64 = KEPT_AFTER_END_SECS;
/// Rows per table per statement: short transactions that never hold the write lock for long.
pub const BATCH: i64 = 500;
/// Batches per round at most; whatever is left waits for the next round.
const MAX_BATCHES: usize = 20;

/// Where the rows a round deleted are counted: the server's metrics (`/metrics`), passed in by the command that
/// runs the rounds, so the portal's housekeeping knows nothing of the HTTP adapter that reports them.
pub trait SweepCounter: Send + Sync {
    /// Count rows a round deleted.
    fn count_swept(&self, counts: &SweepCounts);
}

/// Delete what nothing needs at `now`, batch after batch until a batch comes back short (or
/// [`MAX_BATCHES`]).
pub async fn sweep(store: &dyn Sessions, now: i64) -> Result<SweepCounts, StoreError> {
    let mut total = SweepCounts::default();
    for _ in 0..MAX_BATCHES {
        let c = store.portal_sweep(UnixTime::from_secs(now), GRACE_SECS, BATCH).await?;
        total += c;
        if c.by_table().iter().all(|(_, n)| *n < BATCH.unsigned_abs()) {
            break;
        }
    }
    Ok(total)
}

/// Run a round every `every` at the time `clock` gives: end lapsed sessions and notify (with a portal), then
/// sweep `store`; rows swept are counted in `metrics`.
pub fn spawn(
    portal: Option<PortalState>,
    store: Arc<dyn Sessions>,
    metrics: Arc<dyn SweepCounter>,
    clock: Arc<dyn Clock>,
    every: Duration,
) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let now = clock.now_unix();
            if let Some(state) = &portal {
                end_and_notify(state, now).await;
                sweep_consents(state, now).await;
            }
            match sweep(store.as_ref(), now).await {
                Ok(c) => {
                    metrics.count_swept(&c);
                    if c.total() > 0 {
                        tracing::info!(
                            sessions = c.sessions,
                            grants = c.grants,
                            once = c.once,
                            challenges = c.challenges,
                            login_failures = c.login_failures,
                            rate_limit_counts = c.rate_limit_counts,
                            "portal tables swept"
                        );
                    }
                }
                Err(e) => tracing::warn!(error = %e, "portal tables not swept; retrying next round"),
            }
        }
    });
}

/// Sessions whose lend of the reader ran out (D91), whose presence lease lapsed, or past their absolute or idle
/// limit (D175) end; sessions other processes ended get their back-channel logout and Shared Signals, and the
/// person events any process recorded are announced.
async fn end_and_notify(state: &PortalState, now: i64) {
    // Before the lapsed leases: a lent session's lease is held until its lend ends, which decides.
    match state.store.portal_end_lapsed_lends(UnixTime::from_secs(now), None).await {
        Ok(ended) if ended.is_empty() => {}
        Ok(ended) => tracing::info!(sessions = ended.len(), "card sessions ended: lend of the reader ran out"),
        Err(e) => tracing::warn!(error = %e, "run-out lends not ended; retrying next round"),
    }
    match state.store.portal_end_lapsed_sessions(UnixTime::from_secs(now)).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(sessions = n, "card sessions ended: presence lease lapsed"),
        Err(e) => tracing::warn!(error = %e, "lapsed card sessions not ended; retrying next round"),
    }
    // The session limits (D175): past the absolute deadline, or idle with nobody back to be locked at their next
    // request; announced with the other ends below.
    let idle_before = hcpki_sso::session::idle::idle_before(state.sessions.idle_limit(), now).map(UnixTime::from_secs);
    let since = UnixTime::from_secs(now - GRACE_SECS);
    match state.store.portal_end_spent_sessions(UnixTime::from_secs(now), since, idle_before, BATCH).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(sessions = n, "sessions ended: past their absolute or idle limit"),
        Err(e) => tracing::warn!(error = %e, "spent sessions not ended; retrying next round"),
    }
    match state.notify_ended_sessions(now, BATCH).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(sessions = n, "back-channel logout sent for sessions ended elsewhere"),
        Err(e) => tracing::warn!(error = %e, "ended sessions not notified; retrying next round"),
    }
    // Accounts disabled and second factors reset by any process (the CLI included), announced (D175).
    match hcpki_sso::ssf::emit::person_events(&state.oidc, BATCH).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(events = n, "Shared Signals: person events announced"),
        Err(e) => tracing::warn!(error = %e, "person events not announced; retrying next round"),
    }
}

/// Consents the retention lets go (`[consent]`: unsigned requests 30 days after their deadline, refused and
/// withdrawn ones 5 years after they ended; a live one never), with their documents.
async fn sweep_consents(state: &PortalState, now: i64) {
    match hcpki_sso::consent::record::sweep(state.store.as_ref(), &state.consent, now, BATCH).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(consents = n, "consents past their retention deleted"),
        Err(e) => tracing::warn!(error = %e, "consents not swept; retrying next round"),
    }
}
