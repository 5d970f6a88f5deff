//! Prometheus metrics, hand-written (decision D14): request counts by listener, route and status, a latency
//! histogram per route, build info, and from the database at scrape time (so every replica reports the same,
//! and restarts lose nothing) the number of issued certificates per profile and of those expiring within 7 and
//! 30 days (expiry monitoring: alert when a device certificate is about to lapse unrenewed), and how long the
//! imported root CRL (the offline root's ARL) has left: when it lapses, every chain through the root fails.
//!
//! The middleware [`track`] also writes the one log line per request. Counting is on the hot path of the OCSP
//! responder (tens of thousands of requests a second), so a known route costs one shared read lock and a few
//! atomic additions: no allocation and no exclusive lock.

use super::rate_limit::Class;
use crate::portal::housekeeping::SweepCounter;
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use hcpki_ca::profile::CertProfile;
use hcpki_ca::store::{Issuance, Revocations, StoreError, SweepCounts};
use hcpki_pkix::time::UnixTime;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

mod endpoint;
pub use endpoint::scrape;

/// Upper bounds (seconds) of the latency buckets: from a cached health check to a slow database write.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// The route label of requests no route matched: one label for all of them, so scanners cannot blow up the
/// number of series.
const UNMATCHED: &str = "unmatched";

/// HTTP status codes are three digits from 100 to 599; one counter each.
const STATUS_MIN: u16 = 100;
const STATUSES: usize = 500;

/// Counters and histograms of this process.
#[derive(Debug, Default)]
pub struct Metrics {
    /// listener → route → its counters. Routes are the router's templates, so the map stops growing after
    /// each route has been asked once.
    routes: RwLock<BTreeMap<&'static str, BTreeMap<String, Arc<RouteStats>>>>,
    /// Rows the housekeeping sweep deleted, per table in [`SweepCounts::by_table`] order.
    swept: [AtomicU64; SweepCounts::TABLES],
    /// Requests refused by the per-address rate limits, per class in [`Class::ALL`] order.
    rate_limited: [AtomicU64; Class::ALL.len()],
    /// Replicas sharing the rate limits at this replica's last sync (0: not shared).
    rate_limit_replicas: AtomicU64,
    /// Time-stamp answers per outcome, in [`TIME_STAMP_OUTCOMES`] order.
    time_stamps: [AtomicU64; TIME_STAMP_OUTCOMES.len()],
    /// The ATNA forwarder's (`[atna]`): rendered only while it runs.
    pub atna: Arc<crate::atna::Counters>,
    /// The Shared Signals push worker's (D162): rendered while the portal runs.
    pub ssf: Arc<crate::outbound::ssf_push::Counters>,
    /// The admission gate's (D138): rendered only while a gate is in force.
    pub admission: Arc<super::admission::counters::Counters>,
}

/// What a time-stamp answer can be: granted, or rejected with one of RFC 3161's failInfo bits.
const TIME_STAMP_OUTCOMES: [&str; 7] =
    ["granted", "badAlg", "badRequest", "badDataFormat", "unacceptedPolicy", "unacceptedExtension", "systemFailure"];

/// One route's request counts per status and its latency histogram.
#[derive(Debug)]
struct RouteStats {
    statuses: [AtomicU64; STATUSES],
    /// Observations per bucket (not cumulative; rendering adds them up).
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl Default for RouteStats {
    fn default() -> Self {
        Self {
            statuses: std::array::from_fn(|_| AtomicU64::new(0)),
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            count: AtomicU64::new(0),
            sum_nanos: AtomicU64::new(0),
        }
    }
}

impl RouteStats {
    fn observe(&self, status: StatusCode, elapsed: Duration) {
        let index = usize::from(status.as_u16().saturating_sub(STATUS_MIN));
        if let Some(n) = self.statuses.get(index).or(self.statuses.last()) {
            n.fetch_add(1, Ordering::Relaxed);
        }
        let seconds = elapsed.as_secs_f64();
        if let Some((_, n)) = BUCKETS.iter().zip(&self.buckets).find(|(bound, _)| seconds <= **bound) {
            n.fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }
}

/// Rows the portal's housekeeping deleted, by table.
impl SweepCounter for Metrics {
    fn count_swept(&self, counts: &SweepCounts) {
        for (n, (_, rows)) in self.swept.iter().zip(counts.by_table()) {
            n.fetch_add(rows, Ordering::Relaxed);
        }
    }
}

impl Metrics {
    /// Count one finished request.
    pub fn observe(&self, listener: &'static str, route: &str, status: StatusCode, elapsed: Duration) {
        let known = {
            let routes = self.routes.read().unwrap_or_else(PoisonError::into_inner);
            routes.get(listener).and_then(|r| r.get(route)).cloned()
        };
        let stats = match known {
            Some(stats) => stats,
            None => {
                let mut routes = self.routes.write().unwrap_or_else(PoisonError::into_inner);
                routes.entry(listener).or_default().entry(route.to_owned()).or_default().clone()
            }
        };
        stats.observe(status, elapsed);
    }

    /// Requests answered so far on every listener: the idle-memory release compares two readings to tell that
    /// nothing was answered in between. A read lock and one atomic load per route: cheap every few seconds.
    pub fn requests_answered(&self) -> u64 {
        let routes = self.routes.read().unwrap_or_else(PoisonError::into_inner);
        routes.values().flat_map(BTreeMap::values).map(|s| s.count.load(Ordering::Relaxed)).sum()
    }

    /// Count a request refused by a rate limit.
    pub fn count_rate_limited(&self, class: Class) {
        if let Some(n) = Class::ALL.iter().position(|c| *c == class).and_then(|i| self.rate_limited.get(i)) {
            n.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Count one time-stamp answer by its outcome (`granted` or an RFC 3161 failInfo name).
    pub fn count_time_stamp(&self, outcome: &str) {
        if let Some(n) = TIME_STAMP_OUTCOMES.iter().position(|o| *o == outcome).and_then(|i| self.time_stamps.get(i)) {
            n.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Record how many replicas share the rate limits (0: this replica limits alone).
    pub fn set_rate_limit_replicas(&self, replicas: u64) {
        self.rate_limit_replicas.store(replicas, Ordering::Relaxed);
    }

    /// The Prometheus text exposition format (version 0.0.4). `registry` is `None` when the database could not
    /// be read; the scrape then still reports the process metrics.
    pub fn render(&self, registry: Option<&RegistryFigures>) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail; the results are ignored for that reason.
        let _ = writeln!(out, "# HELP hcpki_build_info hcpki version of this process.");
        let _ = writeln!(out, "# TYPE hcpki_build_info gauge");
        let _ = writeln!(out, "hcpki_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"));
        let routes: Vec<(&'static str, String, Arc<RouteStats>)> = {
            let map = self.routes.read().unwrap_or_else(PoisonError::into_inner);
            map.iter()
                .flat_map(|(listener, routes)| routes.iter().map(|(r, s)| (*listener, r.clone(), s.clone())))
                .collect()
        };
        let _ =
            writeln!(out, "# HELP hcpki_http_requests_total HTTP requests answered, by listener, route and status.");
        let _ = writeln!(out, "# TYPE hcpki_http_requests_total counter");
        for (listener, route, stats) in &routes {
            for (i, n) in stats.statuses.iter().enumerate() {
                let n = n.load(Ordering::Relaxed);
                if n > 0 {
                    let status = usize::from(STATUS_MIN) + i;
                    let _ = writeln!(
                        out,
                        "hcpki_http_requests_total{{listener=\"{listener}\",route=\"{route}\",status=\"{status}\"}} {n}"
                    );
                }
            }
        }
        let _ = writeln!(out, "# HELP hcpki_http_request_duration_seconds Time to answer an HTTP request.");
        let _ = writeln!(out, "# TYPE hcpki_http_request_duration_seconds histogram");
        for (listener, route, stats) in &routes {
            let labels = format!("listener=\"{listener}\",route=\"{route}\"");
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(stats.buckets.iter()) {
                cumulative += n.load(Ordering::Relaxed);
                let _ =
                    writeln!(out, "hcpki_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}");
            }
            let count = stats.count.load(Ordering::Relaxed);
            let sum = Duration::from_nanos(stats.sum_nanos.load(Ordering::Relaxed)).as_secs_f64();
            let _ = writeln!(out, "hcpki_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count}");
            let _ = writeln!(out, "hcpki_http_request_duration_seconds_sum{{{labels}}} {sum}");
            let _ = writeln!(out, "hcpki_http_request_duration_seconds_count{{{labels}}} {count}");
        }
        let _ = writeln!(out, "# HELP hcpki_portal_swept_rows_total Rows the housekeeping sweep deleted, by table.");
        let _ = writeln!(out, "# TYPE hcpki_portal_swept_rows_total counter");
        for (n, (table, _)) in self.swept.iter().zip(SweepCounts::default().by_table()) {
            let _ = writeln!(out, "hcpki_portal_swept_rows_total{{table=\"{table}\"}} {}", n.load(Ordering::Relaxed));
        }
        let _ = writeln!(out, "# HELP hcpki_rate_limited_total Requests refused by the per-address rate limits.");
        let _ = writeln!(out, "# TYPE hcpki_rate_limited_total counter");
        for (n, class) in self.rate_limited.iter().zip(Class::ALL) {
            let _ =
                writeln!(out, "hcpki_rate_limited_total{{class=\"{}\"}} {}", class.as_str(), n.load(Ordering::Relaxed));
        }
        let _ = writeln!(
            out,
            "# HELP hcpki_rate_limit_replicas Replicas sharing the per-address rate limits at this replica's last \
             sync (0: this replica limits alone: sharing off, or the database unreachable)."
        );
        let _ = writeln!(out, "# TYPE hcpki_rate_limit_replicas gauge");
        let _ = writeln!(out, "hcpki_rate_limit_replicas {}", self.rate_limit_replicas.load(Ordering::Relaxed));
        let _ = writeln!(
            out,
            "# HELP hcpki_tsa_answers_total Time-stamp answers of /tsa, by outcome (granted or the failInfo)."
        );
        let _ = writeln!(out, "# TYPE hcpki_tsa_answers_total counter");
        for (n, outcome) in self.time_stamps.iter().zip(TIME_STAMP_OUTCOMES) {
            let _ = writeln!(out, "hcpki_tsa_answers_total{{outcome=\"{outcome}\"}} {}", n.load(Ordering::Relaxed));
        }
        if let Some(registry) = registry {
            let _ =
                writeln!(out, "# HELP hcpki_certificates_issued Certificates in state issued, by profile (database).");
            let _ = writeln!(out, "# TYPE hcpki_certificates_issued gauge");
            for (profile, n) in &registry.issued {
                let _ = writeln!(out, "hcpki_certificates_issued{{profile=\"{profile}\"}} {n}");
            }
            let _ = writeln!(
                out,
                "# HELP hcpki_certificates_expiring Issued certificates whose notAfter is within the given number of days."
            );
            let _ = writeln!(out, "# TYPE hcpki_certificates_expiring gauge");
            for (days, counts) in &registry.expiring {
                for (profile, n) in counts {
                    let _ = writeln!(
                        out,
                        "hcpki_certificates_expiring{{profile=\"{profile}\",within_days=\"{days}\"}} {n}"
                    );
                }
            }
            if let Some(arl) = &registry.root_crl {
                let _ = writeln!(
                    out,
                    "# HELP hcpki_root_crl_seconds_left Seconds until the nextUpdate of the imported root CRL (ARL) \
                     served at /crl/root.crl; negative once it lapsed (absent while none is imported)."
                );
                let _ = writeln!(out, "# TYPE hcpki_root_crl_seconds_left gauge");
                let _ =
                    writeln!(out, "hcpki_root_crl_seconds_left{{crl_number=\"{}\"}} {}", arl.number, arl.seconds_left);
                let _ = writeln!(
                    out,
                    "# HELP hcpki_root_crl_next_update_timestamp_seconds nextUpdate of the served root CRL (ARL)."
                );
                let _ = writeln!(out, "# TYPE hcpki_root_crl_next_update_timestamp_seconds gauge");
                let _ = writeln!(
                    out,
                    "hcpki_root_crl_next_update_timestamp_seconds{{crl_number=\"{}\"}} {}",
                    arl.number, arl.next_update
                );
            }
        }
        self.atna.render(&mut out);
        self.ssf.render(&mut out);
        self.admission.render(&mut out);
        out
    }
}

/// What the metrics report from the database.
#[derive(Debug, Default)]
pub struct RegistryFigures {
    /// Issued certificates per profile.
    pub issued: Vec<(CertProfile, i64)>,
    /// (days, issued certificates per profile expiring within that many days).
    pub expiring: Vec<(i64, Vec<(CertProfile, i64)>)>,
    /// The imported root CRL served, if any.
    pub root_crl: Option<RootCrlFigures>,
}

/// The imported root CRL (ARL) as the metrics report it.
#[derive(Debug)]
pub struct RootCrlFigures {
    /// Its CRL number.
    pub number: i64,
    /// Its nextUpdate (Unix seconds).
    pub next_update: i64,
    /// Seconds from the scrape to its nextUpdate.
    pub seconds_left: i64,
}

impl RegistryFigures {
    /// The windows reported: a week (act now) and a month (renewal should already be under way).
    const EXPIRY_WINDOWS_DAYS: [i64; 2] = [7, 30];

    async fn read<S: Issuance + Revocations + ?Sized>(store: &S, now: UnixTime) -> Result<Self, StoreError> {
        let mut expiring = Vec::with_capacity(Self::EXPIRY_WINDOWS_DAYS.len());
        for days in Self::EXPIRY_WINDOWS_DAYS {
            let until = now.plus(Duration::from_secs(days.unsigned_abs() * 86_400));
            expiring.push((days, store.expiring_counts(now, until).await?));
        }
        let root_crl = store.imported_crl(hcpki_ca::CaName::Root).await?.map(|c| RootCrlFigures {
            number: c.number,
            next_update: c.next_update,
            seconds_left: c.next_update - now.as_secs(),
        });
        Ok(Self { issued: store.issued_counts().await?, expiring, root_crl })
    }
}

/// The middleware's state: where to count, and which listener this is.
#[derive(Clone, Debug)]
pub struct Tracker {
    metrics: Arc<Metrics>,
    listener: &'static str,
}

impl Tracker {
    /// A tracker for the listener named `listener` (`https`, `http`, `portal`, `portal-mtls`).
    pub fn new(metrics: &Arc<Metrics>, listener: &'static str) -> Self {
        Self { metrics: metrics.clone(), listener }
    }
}

/// Time the request, count it, and log one line: method, route, status, latency.
///
/// The revocation routes (OCSP, CRL) log at `debug`: relying parties ask them tens of thousands of times a
/// second, anonymously, so a line each would make the log the bottleneck and let anyone fill the disk. They
/// are counted in the metrics like every route; `HCPKI_LOG=debug` shows the lines.
pub async fn track(State(tracker): State<Tracker>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    // The route template, never the raw path: labels and log fields stay bounded and free of caller data.
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let route = matched.as_ref().map_or(UNMATCHED, MatchedPath::as_str);
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status();
    tracker.metrics.observe(tracker.listener, route, status, elapsed);
    macro_rules! request_line {
        ($level:expr) => {
            tracing::event!(
                $level,
                listener = tracker.listener,
                %method,
                route,
                status = status.as_u16(),
                latency_ms = elapsed.as_secs_f64() * 1000.0,
                "request"
            )
        };
    }
    if route.starts_with("/ocsp/") || route.starts_with("/crl/") {
        request_line!(tracing::Level::DEBUG);
    } else {
        request_line!(tracing::Level::INFO);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcpki_ca::profile::ProfileKind;

    #[test]
    fn renders_counts_cumulative_buckets_and_issued() {
        let m = Metrics::default();
        m.observe("https", "/healthz", StatusCode::OK, Duration::from_micros(500));
        m.observe("https", "/healthz", StatusCode::OK, Duration::from_millis(30));
        m.observe("http", UNMATCHED, StatusCode::NOT_FOUND, Duration::from_secs(20));
        let figures = RegistryFigures {
            issued: vec![(ProfileKind::Server.into(), 3)],
            expiring: vec![(7, vec![]), (30, vec![(ProfileKind::Ocsp.into(), 1)])],
            root_crl: Some(RootCrlFigures { number: 4, next_update: 1_831_536_000, seconds_left: 86_400 }),
        };
        let text = m.render(Some(&figures));
        assert!(text.contains("hcpki_root_crl_seconds_left{crl_number=\"4\"} 86400"));
        assert!(text.contains("hcpki_root_crl_next_update_timestamp_seconds{crl_number=\"4\"} 1831536000"));
        let without = m.render(Some(&RegistryFigures { root_crl: None, ..figures }));
        assert!(!without.contains("hcpki_root_crl"), "no ARL imported: no series");
        assert!(text.contains("hcpki_http_requests_total{listener=\"https\",route=\"/healthz\",status=\"200\"} 2"));
        assert!(text.contains("hcpki_http_requests_total{listener=\"http\",route=\"unmatched\",status=\"404\"} 1"));
        let b = "hcpki_http_request_duration_seconds_bucket{listener=\"https\",route=\"/healthz\",le=";
        assert!(text.contains(&format!("{b}\"0.001\"}} 1")));
        assert!(text.contains(&format!("{b}\"0.05\"}} 2")));
        assert!(text.contains(&format!("{b}\"+Inf\"}} 2")));
        // Slower than the last bound: only in +Inf.
        assert!(text.contains("le=\"10\"} 0"));
        assert!(text.contains("hcpki_certificates_issued{profile=\"server\"} 3"));
        assert!(text.contains("hcpki_certificates_expiring{profile=\"ocsp\",within_days=\"30\"} 1"));
        assert!(!text.contains("within_days=\"7\""));
        assert!(text.contains("hcpki_build_info{version="));
    }

    #[test]
    fn concurrent_requests_are_all_counted() {
        let m = Arc::new(Metrics::default());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let m = m.clone();
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        m.observe("http", "/ocsp/{ca}", StatusCode::OK, Duration::from_micros(200));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let text = m.render(None);
        assert!(text.contains("hcpki_http_requests_total{listener=\"http\",route=\"/ocsp/{ca}\",status=\"200\"} 4000"));
        assert!(
            text.contains("hcpki_http_request_duration_seconds_count{listener=\"http\",route=\"/ocsp/{ca}\"} 4000")
        );
        assert!(text.contains("route=\"/ocsp/{ca}\",le=\"0.001\"} 4000"), "{text}");
    }

    #[test]
    fn without_the_database_the_process_metrics_remain() {
        let text = Metrics::default().render(None);
        assert!(text.contains("hcpki_build_info"));
        assert!(!text.contains("hcpki_certificates_issued"));
    }
}
