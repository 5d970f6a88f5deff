//! `/healthz`: "ok" when the process serves requests and the database answers.

use crate::app::AppState;
use axum::extract::State;
use axum::http::StatusCode;

/// How long the database has to answer the health check (D139): a load balancer's check gives up after a few
/// seconds, and with the network to the database dropping packets the pool's own wait is 15 s.
const DATABASE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(3);

/// 200 "ok" after a database round trip; 503 when the database does not answer within [`DATABASE_DEADLINE`]
/// (the cause goes to the log, not to the unauthenticated caller).
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    let answered = tokio::time::timeout(DATABASE_DEADLINE, state.store.ping())
        .await
        .unwrap_or_else(|_| Err(hcpki_ca::store::StoreError::Unavailable("no answer within 3 s".into())));
    match answered {
        Ok(()) => (StatusCode::OK, "ok\n"),
        Err(e) => {
            tracing::warn!(error = %e, "health check: the database does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n")
        }
    }
}
