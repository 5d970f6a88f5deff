//! The CP/CPS draft for operators and auditors (D150): a download of the same document `hcpki cps` and
//! `GET /api/v1/ca/cps` give (`operations::practice`), linked from the CA's stop-switch page.

use super::download::attachment;
use super::{OrPage, Viewer};
use crate::app::AppState;
use crate::app::operations::practice;
use axum::extract::State;
use axum::response::Response;

/// The download's address.
pub const PATH: &str = "/console/ca/cps";

/// `GET /console/ca/cps`: `cp-cps.md`, or the refusal page (facility admins: operators' only; audited).
pub async fn download(State(state): State<AppState>, viewer: Viewer) -> Result<Response, Response> {
    let doc = practice::draft(&state, &viewer.caller).await.or_page(&viewer)?;
    Ok(attachment("text/markdown; charset=utf-8", "cp-cps.md", doc.into_bytes()))
}
