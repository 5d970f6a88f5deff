//! Prometheus metrics, hand-written (decision D14): request counts by listener, route and status, a latency
//! histogram per route, build info, and the number of issued certificates per profile read from the database
//! at scrape time (so every replica reports the same, and restarts lose nothing).
//!
//! The middleware [`track`] also writes the one log line per request.

use super::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Upper bounds (seconds) of the latency buckets: from a cached health check to a slow database write.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// The route label of requests no route matched: one label for all of them, so scanners cannot blow up the
/// number of series.
const UNMATCHED: &str = "unmatched";

/// Counters and histograms of this process.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// (listener, route, status) → requests.
    requests: BTreeMap<(&'static str, String, u16), u64>,
    /// (listener, route) → latency histogram.
    latency: BTreeMap<(&'static str, String), Histogram>,
}

#[derive(Debug, Default)]
struct Histogram {
    /// Observations per bucket (not cumulative; rendering adds them up).
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        if let Some((_, n)) = BUCKETS.iter().zip(self.buckets.iter_mut()).find(|(bound, _)| seconds <= **bound) {
            *n += 1;
        }
        self.count += 1;
        self.sum += seconds;
    }
}

impl Metrics {
    /// Count one finished request.
    pub fn observe(&self, listener: &'static str, route: &str, status: StatusCode, elapsed: Duration) {
        let mut inner = self.lock();
        *inner.requests.entry((listener, route.to_owned(), status.as_u16())).or_default() += 1;
        inner.latency.entry((listener, route.to_owned())).or_default().observe(elapsed.as_secs_f64());
    }

    /// The Prometheus text exposition format (version 0.0.4). `issued` is `None` when the database could not
    /// be read; the scrape then still reports the process metrics.
    pub fn render(&self, issued: Option<&[(String, i64)]>) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail; the results are ignored for that reason.
        let _ = writeln!(out, "# HELP hcpki_build_info hcpki version of this process.");
        let _ = writeln!(out, "# TYPE hcpki_build_info gauge");
        let _ = writeln!(out, "hcpki_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"));
        let inner = self.lock();
        let _ =
            writeln!(out, "# HELP hcpki_http_requests_total HTTP requests answered, by listener, route and status.");
        let _ = writeln!(out, "# TYPE hcpki_http_requests_total counter");
        for ((listener, route, status), n) in &inner.requests {
            let _ = writeln!(
                out,
                "hcpki_http_requests_total{{listener=\"{listener}\",route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        let _ = writeln!(out, "# HELP hcpki_http_request_duration_seconds Time to answer an HTTP request.");
        let _ = writeln!(out, "# TYPE hcpki_http_request_duration_seconds histogram");
        for ((listener, route), h) in &inner.latency {
            let labels = format!("listener=\"{listener}\",route=\"{route}\"");
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(h.buckets.iter()) {
                cumulative += n;
                let _ =
                    writeln!(out, "hcpki_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}");
            }
            let _ = writeln!(out, "hcpki_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(out, "hcpki_http_request_duration_seconds_sum{{{labels}}} {}", h.sum);
            let _ = writeln!(out, "hcpki_http_request_duration_seconds_count{{{labels}}} {}", h.count);
        }
        drop(inner);
        if let Some(issued) = issued {
            let _ =
                writeln!(out, "# HELP hcpki_certificates_issued Certificates in state issued, by profile (database).");
            let _ = writeln!(out, "# TYPE hcpki_certificates_issued gauge");
            for (profile, n) in issued {
                let _ = writeln!(out, "hcpki_certificates_issued{{profile=\"{profile}\"}} {n}");
            }
        }
        out
    }

    /// The lock; a panic elsewhere while it was held leaves counters that are still worth reporting.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// `/metrics`.
pub async fn scrape(State(state): State<AppState>) -> Response {
    let issued = match state.store.issued_counts().await {
        Ok(counts) => Some(counts),
        Err(e) => {
            tracing::warn!(error = %e, "metrics: cannot count issued certificates");
            None
        }
    };
    let body = state.metrics.render(issued.as_deref());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}

/// The middleware's state: where to count, and which listener this is.
#[derive(Clone, Debug)]
pub struct Tracker {
    metrics: Arc<Metrics>,
    listener: &'static str,
}

impl Tracker {
    /// A tracker for the listener named `listener` (`https` or `http`).
    pub fn new(state: &AppState, listener: &'static str) -> Self {
        Self { metrics: state.metrics.clone(), listener }
    }
}

/// Time the request, count it, and log one line: method, route, status, latency.
pub async fn track(State(tracker): State<Tracker>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    // The route template, never the raw path: labels and log fields stay bounded and free of caller data.
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    let route = route.as_deref().unwrap_or(UNMATCHED).to_owned();
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status();
    tracker.metrics.observe(tracker.listener, &route, status, elapsed);
    tracing::info!(
        listener = tracker.listener,
        %method,
        route,
        status = status.as_u16(),
        latency_ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_cumulative_buckets_and_issued() {
        let m = Metrics::default();
        m.observe("https", "/healthz", StatusCode::OK, Duration::from_micros(500));
        m.observe("https", "/healthz", StatusCode::OK, Duration::from_millis(30));
        m.observe("http", UNMATCHED, StatusCode::NOT_FOUND, Duration::from_secs(20));
        let text = m.render(Some(&[("server".to_owned(), 3)]));
        assert!(text.contains("hcpki_http_requests_total{listener=\"https\",route=\"/healthz\",status=\"200\"} 2"));
        assert!(text.contains("hcpki_http_requests_total{listener=\"http\",route=\"unmatched\",status=\"404\"} 1"));
        let b = "hcpki_http_request_duration_seconds_bucket{listener=\"https\",route=\"/healthz\",le=";
        assert!(text.contains(&format!("{b}\"0.001\"}} 1")));
        assert!(text.contains(&format!("{b}\"0.05\"}} 2")));
        assert!(text.contains(&format!("{b}\"+Inf\"}} 2")));
        // Slower than the last bound: only in +Inf.
        assert!(text.contains("le=\"10\"} 0"));
        assert!(text.contains("hcpki_certificates_issued{profile=\"server\"} 3"));
        assert!(text.contains("hcpki_build_info{version="));
    }

    #[test]
    fn without_the_database_the_process_metrics_remain() {
        let text = Metrics::default().render(None);
        assert!(text.contains("hcpki_build_info"));
        assert!(!text.contains("hcpki_certificates_issued"));
    }
}
