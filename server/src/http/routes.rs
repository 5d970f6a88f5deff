//! The URL map: the only place that knows which path is served on which listener.

use super::{AppState, admin, auth, est, health, metrics};
use axum::Router;
use axum::routing::{get, post};

/// The HTTPS listener: everything that is not required to be plain HTTP.
pub fn https(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(metrics::scrape))
        // EST (RFC 7030 §3.2.2): the unlabelled paths and one label per facility profile (router, pc).
        .route("/.well-known/est/cacerts", get(est::cacerts))
        .route("/.well-known/est/csrattrs", get(est::csrattrs))
        .route("/.well-known/est/simpleenroll", post(est::simpleenroll))
        .route("/.well-known/est/simplereenroll", post(est::simplereenroll))
        .route("/.well-known/est/{label}/cacerts", get(est::cacerts))
        .route("/.well-known/est/{label}/csrattrs", get(est::csrattrs))
        .route("/.well-known/est/{label}/simpleenroll", post(est::simpleenroll))
        .route("/.well-known/est/{label}/simplereenroll", post(est::simplereenroll))
        .merge(admin_api(state.clone()))
        .layer(axum::middleware::from_fn_with_state(metrics::Tracker::new(&state, "https"), metrics::track))
        .with_state(state)
}

/// The admin API (JSON, mutual TLS or credentials; see `admin.rs`), behind the cross-site request guard.
fn admin_api(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/whoami", get(admin::whoami))
        .route("/api/v1/applications", post(admin::apply))
        .route("/api/v1/facilities", get(admin::list_facilities))
        .route("/api/v1/facilities/{id}", get(admin::facility))
        .route("/api/v1/facilities/{id}/credentials", get(admin::list_credentials).post(admin::create_credential))
        .route("/api/v1/facilities/{id}/certificates", get(admin::certificates))
        .route("/api/v1/facilities/{id}/{action}", post(admin::transition))
        .route("/api/v1/credentials/{id}/revoke", post(admin::revoke_credential))
        .layer(axum::middleware::from_fn_with_state(state, auth::browser_guard))
}

/// The plain-HTTP listener: only what a protocol needs unencrypted (SCEP and CRL download later, #4).
pub fn http(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .layer(axum::middleware::from_fn_with_state(metrics::Tracker::new(&state, "http"), metrics::track))
        .with_state(state)
}
