//! `/api/v1/register`, `/api/v1/facilities/{id}/vetting…` and `/api/v1/vetting/…`: vetting evidence before
//! approval (issue #50 item 4, D173) as JSON, over the same operations as `hcpki register` and `hcpki facility
//! vetting` (`app::operations::vetting`).

use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::app::auth::Caller;
use crate::app::operations::vetting::{self as ops, AssessmentBody, RulesBody};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hcpki_ca::register_file::MAX_FILE_BYTES;
use serde::Deserialize;

type ApiResult = Result<Response, ApiError>;

/// `?source=` of the import, `?within_days=` of the overdue list.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VettingQuery {
    /// The file's name, for the import's record.
    pub source: Option<String>,
    /// The window of the overdue list (days).
    pub within_days: Option<u32>,
}

/// `GET /api/v1/register` (operators, auditors, RA staff): the newest import, the requirements, the rules version.
pub async fn status(State(state): State<AppState>, caller: Caller) -> ApiResult {
    let (import, requirements, version) = ops::status(&state, &caller).await?;
    Ok(Json(ops::status_json(import.as_ref(), &requirements, version.as_deref())).into_response())
}

/// `GET /api/v1/register/{code}` (operators, auditors, RA staff): one institution; 404 when not listed.
pub async fn entry(State(state): State<AppState>, caller: Caller, Path(code): Path<String>) -> ApiResult {
    Ok(Json(ops::register_entry(&state, &caller, &code).await?).into_response())
}

/// `PUT /api/v1/register?source=NAME` (central operators), body the CSV file (UTF-8): 200 with the counts; 400
/// naming every bad row, nothing imported.
pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<VettingQuery>,
    body: Body,
) -> ApiResult {
    let name = "admin.vetting.manage";
    caller.authenticated(name).await?;
    let bytes = match crate::web::body::read_limited(body, MAX_FILE_BYTES).await {
        Ok(b) => b,
        Err(_) => return Err(caller.refuse(name, "medical-register", ApiError::too_large(MAX_FILE_BYTES)).await),
    };
    let done = ops::import_register(&state, &caller, &bytes, q.source.as_deref().unwrap_or("api")).await?;
    Ok(Json(done).into_response())
}

/// `GET /api/v1/facilities/{id}/vetting` (whoever may read the facility): the evidence, what an approval by the
/// caller would lack, the warnings.
pub async fn show(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult {
    Ok(Json(ops::show(&state, &caller, &id).await?.json(&id)).into_response())
}

/// A code check's body.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    /// What the documents show when something differs.
    pub note: Option<String>,
}

/// `POST /api/v1/facilities/{id}/vetting/code-check` (operators, its RA), body `{"note"?}`: 201 with what was
/// found; 409 for a facility without a code.
pub async fn check_code(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult {
    let name = "admin.facility.vetting.record";
    caller.authenticated(name).await?;
    let b: CodeBody = super::read_json(&caller, name, &id, body).await?;
    Ok((StatusCode::CREATED, Json(ops::check_code(&state, &caller, &id, b.note.as_deref()).await?)).into_response())
}

/// `PUT /api/v1/facilities/{id}/vetting/security-rules` (its admins online, operators and its RA on paper), body
/// `{"version"?, "accepted_on"?, "accepted_by"}`.
pub async fn accept_rules(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult {
    let name = "admin.facility.vetting.accept_rules";
    caller.authenticated(name).await?;
    let b: RulesBody = super::read_json(&caller, name, &id, body).await?;
    Ok(Json(ops::accept_rules(&state, &caller, &id, &b).await?).into_response())
}

/// `PUT /api/v1/facilities/{id}/vetting/assessment` (operators, its RA), body `{"last", "next_due"?, "assessor"?}`.
pub async fn assessment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult {
    let name = "admin.facility.vetting.record";
    caller.authenticated(name).await?;
    let b: AssessmentBody = super::read_json(&caller, name, &id, body).await?;
    Ok(Json(ops::assessment(&state, &caller, &id, &b).await?).into_response())
}

/// A warning's body.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarnBody {
    /// Count assessments due within this many days (default 30).
    pub within_days: Option<u32>,
    /// The words (default: the standard ones).
    pub message: Option<String>,
}

/// `POST /api/v1/facilities/{id}/vetting/warnings` (operators, its RA): 201 with the warning; 409 when nothing is
/// overdue.
pub async fn warn(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, body: Body) -> ApiResult {
    let name = "admin.facility.vetting.record";
    caller.authenticated(name).await?;
    let b: WarnBody = super::read_json(&caller, name, &id, body).await?;
    let w = ops::warn(&state, &caller, &id, b.within_days, b.message.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(w)).into_response())
}

/// `GET /api/v1/vetting/overdue?within_days=N` (operators, auditors; an RA's staff its scope).
pub async fn overdue(State(state): State<AppState>, caller: Caller, Query(q): Query<VettingQuery>) -> ApiResult {
    Ok(Json(ops::overdue(&state, &caller, q.within_days).await?).into_response())
}

/// A requirements body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequirementsBody {
    /// `central` or an RA's name.
    pub ra: String,
    /// `code,rules,assessment` or `none`.
    pub require: String,
}

/// `PUT /api/v1/vetting/requirements` (central operators), body `{"ra", "require"}`.
pub async fn set_requirements(State(state): State<AppState>, caller: Caller, body: Body) -> ApiResult {
    let name = "admin.vetting.manage";
    caller.authenticated(name).await?;
    let b: RequirementsBody = super::read_json(&caller, name, "-", body).await?;
    let r = ops::set_requirements(&state, &caller, &b.ra, &b.require).await?;
    Ok(Json(serde_json::json!({ "scope": r.scope.to_string(), "required": r.requirements.list() })).into_response())
}

/// A rules-version body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionBody {
    /// The version.
    pub version: String,
}

/// `PUT /api/v1/vetting/rules-version` (central operators), body `{"version"}`.
pub async fn set_rules_version(State(state): State<AppState>, caller: Caller, body: Body) -> ApiResult {
    let name = "admin.vetting.manage";
    caller.authenticated(name).await?;
    let b: VersionBody = super::read_json(&caller, name, "-", body).await?;
    let v = ops::set_rules_version(&state, &caller, &b.version).await?;
    Ok(Json(serde_json::json!({ "rules_version": v })).into_response())
}
