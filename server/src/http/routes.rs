//! The URL map: the only place that knows which path is served on which listener.

use super::{AppState, health, metrics};
use axum::Router;
use axum::routing::get;

/// The HTTPS listener: everything that is not required to be plain HTTP.
pub fn https(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(metrics::scrape))
        .layer(axum::middleware::from_fn_with_state(metrics::Tracker::new(&state, "https"), metrics::track))
        .with_state(state)
}

/// The plain-HTTP listener: only what a protocol needs unencrypted (SCEP and CRL download later, #4).
pub fn http(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .layer(axum::middleware::from_fn_with_state(metrics::Tracker::new(&state, "http"), metrics::track))
        .with_state(state)
}
