//! Per-client-address rate limits (issue #9): token buckets per (class, address) in front of enrollment
//! (EST, SCEP, ACME, facility applications), OCSP and CRL downloads, and the portal's sign-in forms.
//!
//! * **Per replica, on purpose.** These limits protect each replica's capacity (CPU for signatures and TLS,
//!   audit writes serialised on the chain head) from one noisy or hostile address; N replicas have N times
//!   the capacity, so N times the total is right. The one limit whose *total* matters for security — password
//!   guesses per account — is counted in the database (`portal::throttle`, migration 0010). Counting these in
//!   the database too would cost a write per OCSP request, more than answering it.
//! * **Buckets**: each holds up to `per_minute` tokens and refills at `per_minute / 60` per second, so a
//!   burst of a whole minute's worth is allowed after a quiet minute (ACME makes ~10 requests per order; a
//!   clinic behind one NAT address renews its PCs together).
//! * **Addresses**: the TCP peer, or — when the peer is one of `trusted_proxies` — the right-most address of
//!   `X-Forwarded-For` that is not itself a trusted proxy (what a reverse proxy appends cannot be forged by
//!   the client; what the client sent to the left of it can).
//! * **Memory**: at most [`MAX_KEYS`] buckets; beyond that, full (idle) buckets are dropped first, then the
//!   map is cleared — forgetting a bucket only ever lets an address through.
//! * **Refusal**: 429 with `Retry-After`; ACME gets its `rateLimited` problem document (RFC 8555 §6.7).
//!   Each refusal is counted (`hcpki_rate_limited_total{class}`); the audit log gets one entry when an
//!   address starts being limited in a class, not one per refused request (that would turn a flood into
//!   audit writes).

use super::metrics::Metrics;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hcpki_ca::audit::{AuditEvent, Outcome};
use hcpki_ca::store::Store;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

mod address;
pub use address::{Network, client_address};

/// Buckets kept at most.
const MAX_KEYS: usize = 100_000;

/// What is limited, each with its own per-address budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    /// EST, SCEP, ACME and facility applications.
    Enroll,
    /// OCSP requests and CRL downloads.
    Revocation,
    /// The portal's password and card sign-in posts.
    Login,
}

impl Class {
    /// All classes, in metric order.
    pub const ALL: [Class; 3] = [Class::Enroll, Class::Revocation, Class::Login];

    /// The metric label and audit target.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enroll => "enroll",
            Self::Revocation => "revocation",
            Self::Login => "login",
        }
    }
}

/// `[limits]` as the server uses it: requests per minute per address for each class (0: unlimited), and the
/// proxies whose `X-Forwarded-For` is believed.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Enrollment requests per minute per address.
    pub enroll_per_minute: u32,
    /// OCSP requests and CRL downloads per minute per address.
    pub revocation_per_minute: u32,
    /// Sign-in posts per minute per address.
    pub login_per_minute: u32,
    /// Networks of the reverse proxies in front of the server.
    pub trusted_proxies: Vec<Network>,
}

impl Settings {
    fn per_minute(&self, class: Class) -> u32 {
        match class {
            Class::Enroll => self.enroll_per_minute,
            Class::Revocation => self.revocation_per_minute,
            Class::Login => self.login_per_minute,
        }
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
    /// Whether the last request was refused (an audit entry marks the start of each refused stretch).
    limited: bool,
}

/// What the limiter decided.
#[derive(Debug, PartialEq)]
pub enum Decision {
    /// Go ahead.
    Allow,
    /// Refuse; retry after this many seconds. `first` for the first refusal of a stretch.
    Refuse { retry_after: u64, first: bool },
}

/// The token buckets of one replica.
#[derive(Debug)]
pub struct Limiter {
    settings: Settings,
    buckets: Mutex<HashMap<(Class, IpAddr), Bucket>>,
}

impl Limiter {
    /// A limiter with `settings`.
    pub fn new(settings: Settings) -> Self {
        Self { settings, buckets: Mutex::default() }
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Take a token for `class` from `ip`'s bucket at `now`.
    pub fn check(&self, class: Class, ip: IpAddr, now: Instant) -> Decision {
        let per_minute = self.settings.per_minute(class);
        if per_minute == 0 {
            return Decision::Allow;
        }
        let capacity = f64::from(per_minute);
        let per_second = capacity / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() >= MAX_KEYS && !buckets.contains_key(&(class, ip)) {
            buckets.retain(|(c, _), b| {
                let full = f64::from(self.settings.per_minute(*c));
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * full / 60.0 < full
            });
            if buckets.len() >= MAX_KEYS {
                buckets.clear();
            }
        }
        let bucket = buckets.entry((class, ip)).or_insert(Bucket { tokens: capacity, at: now, limited: false });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            bucket.limited = false;
            return Decision::Allow;
        }
        let retry_after = ((1.0 - bucket.tokens) / per_second).ceil().max(1.0) as u64;
        let first = !bucket.limited;
        bucket.limited = true;
        Decision::Refuse { retry_after, first }
    }
}

/// The limiter with what a refusal needs: the counter and the audit log. One per replica, shared by the
/// main and the portal listeners.
#[derive(Debug)]
pub struct Guard {
    /// The buckets.
    pub limiter: Limiter,
    /// Where the start of a refused stretch is audited.
    pub store: Arc<dyn Store>,
    /// Where refusals are counted.
    pub metrics: Arc<Metrics>,
}

/// Middleware: limit the routes it wraps as `class`, keyed by the client address.
pub async fn limit(State((guard, class)): State<(Arc<Guard>, Class)>, request: Request, next: Next) -> Response {
    let Some(peer) = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()) else {
        // Routers served without connection info (unit tests) are not limited.
        return next.run(request).await;
    };
    let state = &guard;
    let limiter = &guard.limiter;
    let ip = client_address(peer, request.headers(), &limiter.settings().trusted_proxies);
    match limiter.check(class, ip, Instant::now()) {
        Decision::Allow => next.run(request).await,
        Decision::Refuse { retry_after, first } => {
            state.metrics.count_rate_limited(class);
            if first {
                let event = AuditEvent {
                    actor: format!("ip:{ip}"),
                    action: "ratelimit.engaged".into(),
                    target: class.as_str().into(),
                    outcome: Outcome::Denied,
                    detail: serde_json::json!({
                        "per_minute": limiter.settings().per_minute(class),
                        "path": request.uri().path(),
                    }),
                };
                if let Err(e) = state.store.append_audit(&event).await {
                    tracing::error!(error = %e, "cannot write the rate-limit audit entry");
                }
            }
            tracing::debug!(%ip, class = class.as_str(), retry_after, "rate limited");
            let (parts, body) = request.into_parts();
            super::body::discard(body).await;
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn limiter(per_minute: u32) -> Limiter {
        Limiter::new(Settings {
            enroll_per_minute: per_minute,
            revocation_per_minute: 0,
            login_per_minute: per_minute,
            trusted_proxies: vec!["10.0.0.0/8".parse().unwrap(), "2001:db8::/32".parse().unwrap()],
        })
    }

    #[test]
    fn a_burst_of_a_minute_then_the_refill_rate() {
        let l = limiter(60);
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let t0 = Instant::now();
        for _ in 0..60 {
            assert_eq!(l.check(Class::Enroll, a, t0), Decision::Allow);
        }
        assert_eq!(l.check(Class::Enroll, a, t0), Decision::Refuse { retry_after: 1, first: true });
        assert_eq!(l.check(Class::Enroll, a, t0), Decision::Refuse { retry_after: 1, first: false });
        assert_eq!(l.check(Class::Enroll, b, t0), Decision::Allow, "per address");
        assert_eq!(l.check(Class::Login, a, t0), Decision::Allow, "per class");
        assert_eq!(l.check(Class::Revocation, a, t0), Decision::Allow, "0 is unlimited");
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(l.check(Class::Enroll, a, t1), Decision::Allow, "one token a second");
        assert!(matches!(l.check(Class::Enroll, a, t1), Decision::Refuse { first: true, .. }), "a new stretch");
        let later = t0 + Duration::from_secs(3600);
        for _ in 0..60 {
            assert_eq!(l.check(Class::Enroll, a, later), Decision::Allow, "full again, never more than a minute");
        }
        assert!(matches!(l.check(Class::Enroll, a, later), Decision::Refuse { .. }));
    }
}
