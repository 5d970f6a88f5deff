//! Running an operation: on a blocking thread, with the PIN prompt the agent is configured for, its result kept
//! on the operation for `GET /v1/sign/{id}`.

use std::sync::Arc;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::operations::{ObservedPrompt, Operation, WebPrompt};
use super::state::AppState;
use crate::config::PinEntry;
use crate::service::{AgentError, PinPrompt, Signed};

/// Runs `work` on a blocking thread (PC/SC blocks) with the operation's PIN prompt — the agent's page, or its
/// terminal with `pin_entry = "terminal"` — records the result on the operation, and answers 202 with where to
/// follow it (and the PIN page when PINs are typed there).
pub(super) fn run_operation(
    state: &AppState,
    op: Arc<Operation>,
    work: impl FnOnce(&dyn PinPrompt) -> Result<Signed, AgentError> + Send + 'static,
) -> Response {
    let worker_op = Arc::clone(&op);
    let (pin_entry, timeout, terminal) = (state.pin_entry, state.pin_timeout, state.terminal.clone());
    tokio::task::spawn_blocking(move || {
        let result = match (pin_entry, terminal) {
            (PinEntry::Terminal, Some(t)) => work(&ObservedPrompt { op: Arc::clone(&worker_op), inner: t.as_ref() }),
            _ => work(&WebPrompt { op: Arc::clone(&worker_op), timeout }),
        };
        match &result {
            Ok(s) => tracing::info!(op = %worker_op.id, card_id = %s.card_id, apdus = s.apdus, "signed"),
            Err(e) => tracing::info!(op = %worker_op.id, error = %e, "signing failed: nothing was signed"),
        }
        worker_op.finish(result);
    });
    let mut reply = serde_json::Map::new();
    reply.insert("id".into(), op.id.clone().into());
    reply.insert("status_url".into(), format!("/v1/sign/{}", op.id).into());
    if state.pin_entry == PinEntry::Web {
        reply.insert("pin_url".into(), format!("{}/pin/{}", state.own_origin, op.id).into());
    }
    (StatusCode::ACCEPTED, Json(reply)).into_response()
}
