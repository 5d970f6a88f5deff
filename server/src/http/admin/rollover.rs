//! `/api/v1/ca/{ca}/rollover[/{verb}]`: CA key rollover (issue #47, D145) as JSON, over the same operations as
//! `hcpki ca rollover` (`app::operations::rollover`).

use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::app::auth::Caller;
use crate::app::operations::rollover as ops;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hcpki_ca::CaName;
use hcpki_ca::store::rollover::{RolloverRecord, RolloverStep};
use serde::Deserialize;
use std::str::FromStr;

type ApiResult = Result<Response, ApiError>;

/// `GET /api/v1/ca/{ca}/rollover` (operators, auditors): the latest rollover of the CA (null if none) and the
/// certificates still on the old generation by facility, and each generation's CRL (D151).
pub async fn status(State(state): State<AppState>, caller: Caller, Path(ca): Path<String>) -> ApiResult {
    let status = ops::status(&state, &caller, ca_name(&ca)?).await?;
    let holders: Vec<_> =
        status.old_holders.iter().map(|(f, n)| serde_json::json!({ "facility": f, "certificates": n })).collect();
    let body = serde_json::json!({ "ca": status.ca.as_str(), "rollover": status.latest.as_ref().map(record_json),
        "old_certificates": status.old_certificates(), "old_holders": holders, "crls": status.crls });
    Ok(Json(body).into_response())
}

/// `?compromised=true` on retire.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepQuery {
    #[serde(default)]
    compromised: bool,
}

/// `POST /api/v1/ca/{ca}/rollover/{start|switch|retire|abort}` (operators): 201 with the rollover for start, 200
/// for the other steps; 409 with what to do for a step its state does not allow.
pub async fn step(
    State(state): State<AppState>,
    caller: Caller,
    Path((ca, verb)): Path<(String, String)>,
    Query(q): Query<StepQuery>,
) -> ApiResult {
    let ca = ca_name(&ca)?;
    let step = match verb.as_str() {
        "start" => {
            let record = ops::start(&state, &caller, ca).await?;
            return Ok((StatusCode::CREATED, Json(record_json(&record))).into_response());
        }
        "switch" => RolloverStep::Switch,
        "retire" => RolloverStep::Retire { compromised: q.compromised },
        "abort" => RolloverStep::Abort,
        other => {
            return Err(ApiError::not_found(format!("no rollover step {other:?}: use start, switch, retire or abort")));
        }
    };
    let record = ops::step(&state, &caller, ca, step).await?;
    Ok(Json(record_json(&record)).into_response())
}

fn ca_name(text: &str) -> Result<CaName, ApiError> {
    CaName::from_str(text).map_err(|e| ApiError::not_found(e.to_string()))
}

fn record_json(r: &RolloverRecord) -> serde_json::Value {
    serde_json::json!({ "ca": r.ca.as_str(), "generation": r.generation, "state": r.state.as_str(),
        "key_uri": r.key_uri, "old_key_uri": r.old_key_uri, "started_at": r.started_at, "started_by": r.started_by,
        "switched_at": r.switched_at, "ended_at": r.ended_at, "ended_by": r.ended_by, "compromised": r.compromised,
        "cert_pem": hcpki_ca::issuer::der_to_pem("CERTIFICATE", &r.cert_der), "links": links_json(r) })
}

/// A root rollover's link certificates as PEM (D160), `null` for an issuing CA's; the CLI's `status --json` too.
pub fn links_json(r: &RolloverRecord) -> serde_json::Value {
    let pem = |der: &[u8]| hcpki_ca::issuer::der_to_pem("CERTIFICATE", der);
    r.links.as_ref().map_or(
        serde_json::Value::Null,
        |l| serde_json::json!({ "new_with_old_pem": pem(&l.new_with_old), "old_with_new_pem": pem(&l.old_with_new) }),
    )
}
