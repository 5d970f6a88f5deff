//! `/healthz`: "ok" when the process serves requests and the database answers.

use crate::app::AppState;
use axum::extract::State;
use axum::http::StatusCode;

/// 200 "ok" after a database round trip; 503 when the database does not answer (the cause goes to the log,
/// not to the unauthenticated caller).
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok\n"),
        Err(e) => {
            tracing::warn!(error = %e, "health check: the database does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n")
        }
    }
}
