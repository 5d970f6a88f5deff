//! Per-client-address rate limits (issue #9): sliding-window counts per (class, address) in front of enrollment
//! (EST, SCEP, ACME, facility applications), OCSP and CRL downloads, and the portal's sign-in posts, shared by
//! every replica on one database (D31 and its addendum).
//!
//! * **Shared, without a write per request.** Each replica counts in memory ([`limiter`]) and, every `[limits]
//!   sync_secs` (default 1), adds what it allowed since its last sync to per-window totals in the database in
//!   one batched statement and reads back the totals of the addresses it was asked about, plus how many
//!   replicas are alive. Between syncs a replica may allow an address `1/n` of what the totals leave of its
//!   budget, so N replicas behind a load balancer give an address about the limit, not N times it. A replica
//!   that cannot reach the database limits alone (each replica the full limit: availability first), says so
//!   once in the log, and shares again after its next successful sync.
//! * **Windows**: per-minute counts judged on a sliding estimate (previous minute weighted by what the last 60 s
//!   still cover, plus this minute): a burst of a whole minute's worth passes after a quiet minute (ACME makes
//!   ~10 requests per order; a clinic behind one NAT address renews its PCs together), a loop or flood does not.
//! * **Addresses**: the TCP peer, or — when the peer is one of `trusted_proxies` — the right-most address of
//!   `X-Forwarded-For` that is not itself a trusted proxy ([`address`]).
//! * **Memory**: at most 100,000 entries; beyond that, idle entries are dropped first, then all — forgetting
//!   an entry only ever lets an address through.
//! * **Refusal**: 429 with `Retry-After`; ACME gets its `rateLimited` problem document (RFC 8555 §6.7).
//!   Each refusal is counted (`hcpki_rate_limited_total{class}`); the audit log gets one `ratelimit.engaged`
//!   entry when an address starts being limited in a class, across all replicas (the database's claim on the
//!   window decides), not one per refused request: a flood must not become audit writes. Refusals in
//!   consecutive minutes belong to one engagement.

use super::metrics::Metrics;
use crate::config::LimitsConfig;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hcpki_ca::audit::{AuditEvent, Outcome};
use hcpki_ca::store::{AuditLog, RateLimits, RateSync};
use hcpki_pkix::time::Clock;
use hcpki_pkix::time::UnixTime;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

mod address;
mod class;
mod limiter;
pub use address::{Network, client_address};
pub use class::Class;
pub use limiter::{Decision, Engagement, Limiter};

/// `[limits]` as the server uses it: requests per minute per address for each class (0: unlimited), how often
/// the replicas share their counts, and the proxies whose `X-Forwarded-For` is believed.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Enrollment requests per minute per address.
    pub enroll_per_minute: u32,
    /// OCSP requests and CRL downloads per minute per address.
    pub revocation_per_minute: u32,
    /// Sign-in posts per minute per address.
    pub login_per_minute: u32,
    /// Seconds between syncs of the counts with the database; `None`: each replica limits alone.
    pub sync_secs: Option<u64>,
    /// Networks of the reverse proxies in front of the server.
    pub trusted_proxies: Vec<Network>,
}

impl Settings {
    /// The settings of `[limits]`; an unparsable proxy address names itself.
    pub fn from_config(config: &LimitsConfig) -> anyhow::Result<Self> {
        let trusted_proxies = config
            .trusted_proxies
            .iter()
            .map(|n| n.parse().map_err(|e: String| anyhow::anyhow!("[limits] trusted_proxies: {e}")))
            .collect::<anyhow::Result<_>>()?;
        Ok(Self {
            enroll_per_minute: config.enroll_per_minute,
            revocation_per_minute: config.revocation_per_minute,
            login_per_minute: config.login_per_minute,
            sync_secs: (config.sync_secs > 0).then_some(u64::from(config.sync_secs)),
            trusted_proxies,
        })
    }
}

/// The limiter with what a refusal and a sync need: the store (audit log, shared counts) and the counters.
/// One per replica, shared by the main and the portal listeners.
pub struct Guard {
    limiter: Limiter,
    trusted_proxies: Vec<Network>,
    /// The counts replicas share.
    counts: Arc<dyn RateLimits>,
    /// Where refusals are audited.
    audit: Arc<dyn AuditLog>,
    metrics: Arc<Metrics>,
    /// The process's clock: the windows are minutes of it.
    clock: Arc<dyn Clock>,
    /// This process in `rate_limit_replicas` (host:pid:random).
    replica: String,
    /// Held by each sync, so syncs never overlap (an outbox is given back before the next is taken); `true`
    /// once this replica left, after which the periodic syncs stop.
    syncing: tokio::sync::Mutex<bool>,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("limiter", &self.limiter)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("replica", &self.replica)
            .finish_non_exhaustive()
    }
}

impl Guard {
    /// A guard for `settings` counting by `clock`, sharing counts through `counts` and auditing refusals to
    /// `audit` (one store's two areas); it limits alone until [`Guard::share`] ran.
    pub fn new(
        settings: Settings,
        counts: Arc<dyn RateLimits>,
        audit: Arc<dyn AuditLog>,
        metrics: Arc<Metrics>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let per_minute = [settings.enroll_per_minute, settings.revocation_per_minute, settings.login_per_minute];
        Self {
            limiter: Limiter::new(per_minute, settings.sync_secs),
            trusted_proxies: settings.trusted_proxies,
            counts,
            audit,
            metrics,
            clock,
            // Named for operators reading the table; the random part tells restarts of one process apart.
            replica: format!(
                "{}:{}:{}",
                crate::jobs::hostname(),
                std::process::id(),
                hex::encode(rand::random::<[u8; 4]>())
            ),
            syncing: tokio::sync::Mutex::new(false),
        }
    }

    /// Share the counts with the other replicas: one sync now, so this replica counts itself and the others
    /// from its first request, then one every `sync_secs` in the background. Nothing when sharing is off or
    /// every class is unlimited.
    pub async fn share(self: &Arc<Self>) {
        let Some(secs) = self.limiter.sync_secs() else { return };
        let mut reachable = self.sync(Some(secs), true).await;
        let guard = self.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(Duration::from_secs(secs));
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let left = guard.syncing.lock().await;
                if *left {
                    break;
                }
                reachable = guard.sync(Some(secs), reachable).await;
                drop(left);
            }
        });
    }

    /// The last sync of a replica that stops: its unsent counts go to the database and it stops counting as
    /// alive at once, so the others' shares grow back without waiting for its deadline.
    pub async fn leave(&self) {
        if self.limiter.sync_secs().is_some() {
            let mut left = self.syncing.lock().await;
            self.sync(None, true).await;
            *left = true;
        }
    }

    /// One sync, alive for three more periods of `secs` (`None`: no longer alive); whether the database
    /// answered. The change between answering and not is logged, once.
    async fn sync(&self, secs: Option<u64>, reachable: bool) -> bool {
        let now = self.clock.now_unix_ms();
        let outbox = self.limiter.outbox(now);
        let now_secs = now / 1000;
        // Alive for three syncs: one late or failed sync does not halve the others' shares back.
        let alive_until = match secs {
            Some(secs) => now_secs.saturating_add(i64::try_from(secs.saturating_mul(3)).unwrap_or(i64::MAX)),
            None => now_secs - 1,
        };
        let sync = RateSync {
            replica: &self.replica,
            now: now_secs,
            alive_until,
            add: &outbox.add,
            watch: &outbox.watch,
            since: outbox.since,
        };
        match self.counts.rate_limit_sync(&sync).await {
            Ok(totals) => {
                self.limiter.synced(outbox, &totals, now);
                self.metrics.set_rate_limit_replicas(totals.replicas.unsigned_abs());
                if !reachable {
                    tracing::info!(replicas = totals.replicas, "rate limits shared again through the database");
                }
                true
            }
            Err(e) => {
                self.limiter.unsynced(outbox);
                self.metrics.set_rate_limit_replicas(0);
                if reachable {
                    tracing::warn!(
                        error = %e,
                        "rate limits not shared: the database cannot be reached; this replica limits alone until it can"
                    );
                }
                false
            }
        }
    }

    /// Whether a refusal's engagement starts and is audited: the database's claim on the window when the
    /// limits are shared (one replica wins, and only if the previous window was not refused), this replica's
    /// own view otherwise or when the claim cannot be made.
    async fn engagement_starts(&self, class: Class, ip: IpAddr, engagement: &Engagement) -> bool {
        if !engagement.shared {
            return engagement.starts;
        }
        match self
            .counts
            .rate_limit_engage(class.as_str(), &ip.to_string(), UnixTime::from_secs(engagement.window_start))
            .await
        {
            Ok(starts) => starts,
            Err(e) => {
                tracing::warn!(error = %e, "cannot claim the rate-limit engagement; judging it on this replica's counts");
                engagement.starts
            }
        }
    }
}

/// Middleware on every listener: the request is served as coming from its client address (the peer, or the
/// address a trusted proxy names), so each audit entry written while serving it says so (issue #50 item 5,
/// `hcpki_ca::store::origin`).
pub async fn record_origin(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    let Some(peer) = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()) else {
        return next.run(request).await;
    };
    let client = client_address(peer, request.headers(), &guard.trusted_proxies);
    hcpki_ca::store::origin::serving(client, next.run(request)).await
}

/// Middleware: limit the routes it wraps as `class`, keyed by the client address.
pub async fn limit(State((guard, class)): State<(Arc<Guard>, Class)>, request: Request, next: Next) -> Response {
    let Some(peer) = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()) else {
        // Routers served without connection info (unit tests) are not limited.
        return next.run(request).await;
    };
    let ip = client_address(peer, request.headers(), &guard.trusted_proxies);
    let now = guard.clock.now_unix_ms();
    match guard.limiter.check(class, ip, now) {
        Decision::Allow => next.run(request).await,
        Decision::Refuse { retry_after, engagement } => {
            guard.metrics.count_rate_limited(class);
            if let Some(engagement) = engagement
                && guard.engagement_starts(class, ip, &engagement).await
            {
                let event = AuditEvent {
                    actor: format!("ip:{ip}"),
                    action: "ratelimit.engaged".into(),
                    target: class.as_str().into(),
                    outcome: Outcome::Denied,
                    detail: serde_json::json!({
                        "per_minute": guard.limiter.per_minute(class),
                        "path": request.uri().path(),
                        "replicas": guard.limiter.replicas(),
                    }),
                };
                if let Err(e) = guard.audit.append_audit(&event, UnixTime::from_millis(now)).await {
                    tracing::error!(error = %e, "cannot write the rate-limit audit entry");
                }
            }
            tracing::debug!(%ip, class = class.as_str(), retry_after, "rate limited");
            let (parts, body) = request.into_parts();
            crate::web::body::discard(body).await;
            refusal(parts.uri.path(), ip, retry_after)
        }
    }
}

/// Middleware for the portal's listeners: the sign-in posts (`POST /login…`: password, card challenge, card
/// signature) count as [`Class::Login`]; everything else passes (the portal module knows nothing of limits).
pub async fn limit_sign_in(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    if request.method() == axum::http::Method::POST && request.uri().path().starts_with("/login") {
        limit(State((guard, Class::Login)), request, next).await
    } else {
        next.run(request).await
    }
}

fn refusal(path: &str, ip: IpAddr, retry_after: u64) -> Response {
    let detail = format!("too many requests from {ip}: retry after {retry_after} s");
    let mut response = if path.starts_with("/acme/") {
        let problem =
            serde_json::json!({ "type": "urn:ietf:params:acme:error:rateLimited", "detail": detail, "status": 429 });
        (StatusCode::TOO_MANY_REQUESTS, [(header::CONTENT_TYPE, "application/problem+json")], problem.to_string())
            .into_response()
    } else {
        (StatusCode::TOO_MANY_REQUESTS, detail).into_response()
    };
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    response
}
