//! The Shared Signals push worker (RFC 8935; D162), like the ATNA forwarder: it takes the pushed SETs due from
//! the store's outbox (claimed for a while, so one replica sends each), POSTs each to its stream's endpoint as
//! `application/secevent+jwt`, and removes it once the receiver answered 202 (or 200). A failure leaves it in
//! the outbox for the next attempt, the pause doubling from one second up to an hour; a receiver's 400 (it
//! refused the SET itself, RFC 8935 §2.3) drops it, since sending it again cannot help. The outbox is a table,
//! so a restart loses nothing: delivery is at least once, each SET naming its `jti` for the receiver to drop
//! repeats. Sessions end without waiting for any of this (emission only writes the outbox), and each delivery
//! runs in its own task with a timeout, so a slow receiver holds up nobody else.

use hcpki_ca::store::SsfOutboxRecord;
use hcpki_pkix::time::UnixTime;
use hcpki_sso::oidc::Provider;
use hcpki_sso::ssf::stream::{Delivery, StreamConfig};
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// SETs per round.
const BATCH: i64 = 50;
/// One POST's limit.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How long a claimed SET is this replica's (longer than [`TIMEOUT`]).
const LEASE_SECS: i64 = 60;
/// How often to look without being woken (SETs queued by another replica, retries coming due).
const IDLE: Duration = Duration::from_secs(1);
/// The longest pause between attempts at one SET.
const MAX_RETRY_SECS: i64 = 3600;
/// Deliveries in flight at once.
const IN_FLIGHT: usize = 16;
/// The media type of a pushed SET (RFC 8935 §2).
const SECEVENT_JWT: &str = "application/secevent+jwt";
/// The metric labels of failed attempts.
const REASONS: [&str; 5] = ["connect", "status", "timeout", "refused", "database"];

/// Start the worker for as long as the process runs, POSTing with `tls`'s roots, counting in `counters`.
pub fn spawn(provider: Arc<Provider>, tls: Arc<rustls::ClientConfig>, counters: Arc<Counters>) {
    counters.running.store(true, Ordering::Relaxed);
    tokio::spawn(async move { run(provider, tls, counters).await });
}

async fn run(provider: Arc<Provider>, tls: Arc<rustls::ClientConfig>, counters: Arc<Counters>) {
    let slots = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    loop {
        let now = provider.clock.now();
        let lease = UnixTime::from_secs(now.as_secs().saturating_add(LEASE_SECS));
        let due = match provider.store.ssf_due(now, lease, BATCH).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "SSF push: cannot read the outbox");
                counters.count("database");
                Vec::new()
            }
        };
        if let Ok(waiting) = provider.store.ssf_waiting().await {
            counters.waiting.store(waiting, Ordering::Relaxed);
        }
        let full = i64::try_from(due.len()).unwrap_or(i64::MAX) >= BATCH;
        for (set, config) in due {
            let Ok(permit) = slots.clone().acquire_owned().await else { return };
            let (provider, tls, counters) = (provider.clone(), tls.clone(), counters.clone());
            tokio::spawn(async move {
                deliver(&provider, &tls, &counters, set, &config).await;
                drop(permit);
            });
        }
        if !full {
            // Woken by a new SET, or look again soon (retries coming due, other replicas' SETs).
            let _ = tokio::time::timeout(IDLE, provider.ssf_wake.notified()).await;
        }
    }
}

/// One attempt at one SET.
async fn deliver(
    provider: &Provider,
    tls: &Arc<rustls::ClientConfig>,
    counters: &Counters,
    set: SsfOutboxRecord,
    config: &str,
) {
    let Ok(StreamConfig { delivery: Delivery::Push { endpoint_url, authorization_header }, .. }) =
        serde_json::from_str::<StreamConfig>(config)
    else {
        // The stream changed to poll delivery since: the SET waits for the receiver's poll.
        return;
    };
    let attempt = crate::outbound::post::exchange_authorized(
        &endpoint_url,
        SECEVENT_JWT,
        "hcpki-ssf",
        authorization_header.as_deref(),
        set.set_jwt.clone().into_bytes(),
        tls,
        0,
    );
    let (failure, reason) = match tokio::time::timeout(TIMEOUT, attempt).await {
        Ok(Ok((200 | 202, _))) => {
            counters.delivered.fetch_add(1, Ordering::Relaxed);
            if let Err(e) = provider.store.ssf_delivered(&set.jti).await {
                // Delivered but not removed: sent again later (at least once).
                tracing::warn!(error = %e, jti = set.jti, "SSF push: cannot remove a delivered SET");
                counters.count("database");
            }
            return;
        }
        Ok(Ok((400, _))) => {
            tracing::warn!(
                jti = set.jti,
                endpoint = endpoint_url,
                "SSF push: the receiver refused a SET (HTTP 400); dropped"
            );
            counters.count("refused");
            let _ = provider.store.ssf_delivered(&set.jti).await;
            return;
        }
        Ok(Ok((status, _))) => (format!("HTTP {status}"), "status"),
        Ok(Err(e)) => (e, "connect"),
        Err(_) => ("timed out".to_owned(), "timeout"),
    };
    counters.count(reason);
    let pause = 1_i64.checked_shl(u32::try_from(set.attempts.clamp(0, 12)).unwrap_or(12)).unwrap_or(MAX_RETRY_SECS);
    let next = provider.clock.now().as_secs().saturating_add(pause.min(MAX_RETRY_SECS));
    tracing::info!(
        jti = set.jti,
        endpoint = endpoint_url,
        error = failure,
        retry_in = pause,
        "SSF push: attempt failed"
    );
    if let Err(e) = provider.store.ssf_failed(&set.jti, &failure, UnixTime::from_secs(next)).await {
        tracing::warn!(error = %e, "SSF push: cannot record a failed attempt");
        counters.count("database");
    }
}

/// The push worker's figures in `/metrics` (per process).
#[derive(Debug, Default)]
pub struct Counters {
    running: AtomicBool,
    delivered: AtomicU64,
    failures: [AtomicU64; REASONS.len()],
    waiting: AtomicI64,
}

impl Counters {
    fn count(&self, reason: &str) {
        if let Some(n) = REASONS.iter().position(|r| *r == reason).and_then(|i| self.failures.get(i)) {
            n.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The Prometheus lines, when the worker runs.
    pub fn render(&self, out: &mut String) {
        if !self.running.load(Ordering::Relaxed) {
            return;
        }
        let _ = writeln!(out, "# HELP hcpki_ssf_delivered_total Shared Signals SETs a push receiver accepted.");
        let _ = writeln!(out, "# TYPE hcpki_ssf_delivered_total counter");
        let _ = writeln!(out, "hcpki_ssf_delivered_total {}", self.delivered.load(Ordering::Relaxed));
        let _ = writeln!(out, "# HELP hcpki_ssf_failures_total Failed SET push attempts, by reason.");
        let _ = writeln!(out, "# TYPE hcpki_ssf_failures_total counter");
        for (reason, n) in REASONS.iter().zip(&self.failures) {
            let _ = writeln!(out, "hcpki_ssf_failures_total{{reason=\"{reason}\"}} {}", n.load(Ordering::Relaxed));
        }
        let _ = writeln!(out, "# HELP hcpki_ssf_waiting SETs waiting in the outbox (push and poll), at the last look.");
        let _ = writeln!(out, "# TYPE hcpki_ssf_waiting gauge");
        let _ = writeln!(out, "hcpki_ssf_waiting {}", self.waiting.load(Ordering::Relaxed));
    }
}
