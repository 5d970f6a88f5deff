//! `/metrics`: the handler, over the server's state (the store for the registry's figures, the counters).

use super::RegistryFigures;
use crate::app::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// `/metrics`.
pub async fn scrape(State(state): State<AppState>) -> Response {
    let registry = match RegistryFigures::read(state.store.as_ref(), state.clock.now()).await {
        Ok(figures) => Some(figures),
        Err(e) => {
            tracing::warn!(error = %e, "metrics: cannot read the registry's figures");
            None
        }
    };
    let body = state.metrics.render(registry.as_ref());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}
