//! `GET /api/v1/compliance/report`: the safety-guideline compliance report (D164) over the same operation as
//! `hcpki compliance report` and the console's page (`app::operations::compliance`). JSON by default; HTML when
//! `?format=html` or when the request's `Accept` prefers `text/html` (a browser). `?lang=ja|en` (default ja),
//! `?facility=ID` (a facility admin: only their own, the default).

use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::app::auth::Caller;
use crate::app::operations::compliance as ops;
use crate::compliance::render;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use hcpki_html::Lang;
use std::collections::HashMap;

/// `GET /api/v1/compliance/report[?facility=&lang=&format=]` (operators, auditors; a facility admin for their own
/// facility): the report, its generation audited; a refusal (another facility, a bad value) audited too.
pub async fn report(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    caller.authenticated(&hcpki_ca::access::Action::ReadCompliance(None).name()).await?;
    let lang = match query.get("lang").map(String::as_str) {
        None => Lang::Ja,
        Some(code) => match Lang::parse(code) {
            Some(lang) => lang,
            None => return Err(refused(&caller, "lang", "give lang=ja or lang=en").await),
        },
    };
    let html = match query.get("format").map(String::as_str) {
        Some("html") => true,
        Some("json") => false,
        Some(_) => return Err(refused(&caller, "format", "give format=html or format=json").await),
        None => prefers_html(&headers),
    };
    let facility = ops::facility_param(&caller, query.get("facility").map(String::as_str)).await?;
    let report = ops::report(&state, &caller, facility, lang).await?;
    Ok(if html {
        ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], render::document(&report, lang)).into_response()
    } else {
        Json(render::json(&report)).into_response()
    })
}

/// Whether `Accept` names `text/html` before `application/json` (browsers do; API clients name JSON or nothing).
fn prefers_html(headers: &HeaderMap) -> bool {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    match (accept.find("text/html"), accept.find("application/json")) {
        (Some(h), Some(j)) => h < j,
        (Some(_), None) => true,
        _ => false,
    }
}

async fn refused(caller: &Caller, field: &str, what: &str) -> ApiError {
    let name = hcpki_ca::access::Action::ReadCompliance(None).name();
    caller.refuse(&name, "-", ApiError::bad_request(&format!("invalid {field}"), what)).await
}
