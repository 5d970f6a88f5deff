//! `/api/v1/facilities/{id}/routers`, `/api/v1/facilities/{id}/psks` and `/api/v1/router-models`: the router
//! register and routers' pre-shared keys (issue #50 items 1 and 2, D156, D168) as JSON, over the same
//! operations as `hcpki router` and `hcpki psk` (`app::operations::routers`).

use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::app::auth::Caller;
use crate::app::operations::routers::{self as ops, ModelBody, PskBody, RouterBody};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

type ApiResult = Result<Response, ApiError>;

/// `GET /api/v1/router-models` (anyone authenticated): the approved models with what was tested, and whether
/// only they are accepted.
pub async fn models(State(state): State<AppState>, caller: Caller) -> ApiResult {
    let (models, only) = ops::models(&caller, &state).await?;
    Ok(Json(serde_json::json!({ "approved_models_only": only, "models": models })).into_response())
}

/// `POST /api/v1/router-models` (operators only), body `{"model", "name", "vendor"?, "firmware"?,
/// "auth_methods": ["certificate"|"psk", …], "psk_vendor"?, "tested", "guide"?}`: the model approved or its
/// entry replaced, 201 (audited `router.model.approve`); 400 for a bad field.
pub async fn approve_model(State(state): State<AppState>, caller: Caller, body: Body) -> ApiResult {
    let name = hcpki_ca::access::Action::ManageRouterModels.name();
    caller.authenticated(&name).await?;
    let b: ModelBody = super::read_json(&caller, &name, "-", body).await?;
    let m = ops::approve_model(&state, &caller, &b).await?;
    Ok((StatusCode::CREATED, Json(m)).into_response())
}

/// What `POST /api/v1/router-models/{model}/status` takes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    /// What was tested, and where.
    tested: String,
}

/// `POST /api/v1/router-models/{model}/status` (operators only), body `{"tested": "…"}`: the model's tested
/// status changed; 404 when it is not on the list.
pub async fn model_status(
    State(state): State<AppState>,
    caller: Caller,
    Path(model): Path<String>,
    body: Body,
) -> ApiResult {
    let name = hcpki_ca::access::Action::ManageRouterModels.name();
    caller.authenticated(&name).await?;
    let b: StatusBody = super::read_json(&caller, &name, &model, body).await?;
    let m = ops::set_model_tested(&state, &caller, &model, &b.tested).await?;
    Ok(Json(m).into_response())
}

/// `DELETE /api/v1/router-models/{model}` (operators only): the model withdrawn from the list (its routers stay
/// registered); 404 when it is not on it.
pub async fn withdraw_model(State(state): State<AppState>, caller: Caller, Path(model): Path<String>) -> ApiResult {
    ops::withdraw_model(&state, &caller, &model).await?;
    Ok(Json(serde_json::json!({ "model": model, "withdrawn": true })).into_response())
}

/// `GET /api/v1/facilities/{id}/routers` (whoever may read the facility).
pub async fn list(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult {
    let routers = ops::list(&state, &caller, &id).await?;
    Ok(Json(serde_json::json!({ "facility": id, "routers": routers })).into_response())
}

/// `POST /api/v1/facilities/{id}/routers` (its admins, operators), body `{"name", "model", "firmware", "auth":
/// "certificate"|"psk", "addresses": [...]}`: 201; 400 for an address outside the facility's allocations, a
/// model off the list while only approved models are accepted, a bad field; 409 for a name taken.
pub async fn add(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, body: Body) -> ApiResult {
    let name = "admin.router.manage";
    caller.authenticated(name).await?;
    let b: RouterBody = super::read_json(&caller, name, &id, body).await?;
    let r = ops::add(&state, &caller, &id, &b).await?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

/// `DELETE /api/v1/facilities/{id}/routers/{name}` (its admins, operators).
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, router)): Path<(String, String)>,
) -> ApiResult {
    let r = ops::remove(&state, &caller, &id, &router).await?;
    Ok(Json(r).into_response())
}

/// `GET /api/v1/facilities/{id}/psks` (whoever may read the facility): ids, peers, states, never a key.
pub async fn keys(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult {
    let keys = ops::keys(&state, &caller, &id).await?;
    Ok(Json(serde_json::json!({ "facility": id, "keys": keys })).into_response())
}

/// `POST /api/v1/facilities/{id}/psks` (its admins, operators), body `{"peer", "remote_id", "vendor", "router"?,
/// "length"?, "overlap_hours"?, "hub_id"?, "hub_address"?}`: 201 with the key and the router's configuration
/// lines — the only time the key is shown (audited `psk.issue` / `psk.rotate`).
pub async fn issue(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, body: Body) -> ApiResult {
    let name = "admin.psk.issue";
    caller.authenticated(name).await?;
    let b: PskBody = super::read_json(&caller, name, &id, body).await?;
    let issued = ops::issue(&state, &caller, &id, &b).await?;
    let vendor =
        b.vendor.parse().map_err(|e: hcpki_ca::psk::PskError| ApiError::bad_request("bad vendor", e.to_string()))?;
    let body = serde_json::json!({
        "key_id": issued.record.key_id,
        "facility": issued.record.facility_id,
        "peer": issued.record.peer,
        "vendor": issued.record.vendor,
        "key": issued.key.secret.as_str(),
        "configuration": b.snippet(vendor, &issued.key.secret),
    });
    Ok((StatusCode::CREATED, [(axum::http::header::CACHE_CONTROL, "no-store")], Json(body)).into_response())
}

/// What `POST /api/v1/facilities/{id}/psks/{key}/withdraw` takes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WithdrawBody {
    /// Why (kept in the audit log).
    reason: String,
}

/// `POST /api/v1/facilities/{id}/psks/{key}/withdraw` (operators), body `{"reason": "…"}`: the key withdrawn
/// at once; 404 when it is not a working key of the facility.
pub async fn withdraw(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, key)): Path<(String, String)>,
    body: Body,
) -> ApiResult {
    let name = "admin.psk.withdraw";
    caller.authenticated(name).await?;
    let b: WithdrawBody = super::read_json(&caller, name, &id, body).await?;
    let k = ops::withdraw(&state, &caller, &id, &key, &b.reason).await?;
    Ok(Json(k).into_response())
}
