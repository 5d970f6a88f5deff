//! How the API answers: the JSON error body every refusal has, a JSON body or its refusal, and the request's
//! origin as the guard checked it.

use axum::Json;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

use super::operations::ApiFailure;

/// The request's `Origin`, lower-cased.
pub(super) fn request_origin(headers: &HeaderMap) -> String {
    // The guard has checked it; repeat the lookup rather than thread it through extensions.
    headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()).unwrap_or_default().to_ascii_lowercase()
}

/// A refusal before any work: status, code, message.
pub(super) type Refusal = (StatusCode, &'static str, String);

/// A JSON body, or the refusal: 413 past the route's body `limit`, 400 otherwise.
pub(super) fn json_body<T>(
    body: Result<Json<T>, axum::extract::rejection::JsonRejection>,
    limit: usize,
) -> Result<T, Refusal> {
    match body {
        Ok(Json(b)) => Ok(b),
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err((
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the request body is larger than {} KiB", limit / 1024),
        )),
        Err(e) => Err((StatusCode::BAD_REQUEST, "bad_request", e.body_text())),
    }
}

/// An agent error as the API answers it: its code, and the HTTP status that fits.
pub(super) fn agent_failure(e: &crate::service::AgentError) -> Response {
    let f = ApiFailure::from(e);
    let status = match f.code {
        "no_service" => StatusCode::SERVICE_UNAVAILABLE,
        "no_card" | "no_such_reader" => StatusCode::NOT_FOUND,
        "bad_document" => StatusCode::BAD_REQUEST,
        _ => StatusCode::CONFLICT,
    };
    (status, Json(serde_json::json!({ "error": f }))).into_response()
}

/// The language a request asks the agent's page to speak (`ja`, `en`; none: the browser's), or the refusal.
pub(super) fn requested_lang(value: Option<&str>) -> Result<Option<hcpki_html::Lang>, Refusal> {
    match value {
        None => Ok(None),
        Some(v) => hcpki_html::Lang::parse(v).map(Some).ok_or_else(|| {
            (StatusCode::BAD_REQUEST, "bad_request", "lang must be \"ja\" or \"en\" (or left out)".to_owned())
        }),
    }
}

/// A refusal with its code and message, as every error body is written.
pub(super) fn failure(status: StatusCode, code: &'static str, message: &str) -> Response {
    let f = ApiFailure { code, message: message.to_owned(), ..Default::default() };
    (status, Json(serde_json::json!({ "error": f }))).into_response()
}

/// Challenges shorter than this cannot be single-use nonces; longer ones are not challenges.
const CHALLENGE_MIN: usize = 16;
const CHALLENGE_MAX: usize = 1024;

/// A portal's challenge (base64url, padding optional) of [`CHALLENGE_MIN`] to [`CHALLENGE_MAX`] bytes, or what is
/// wrong with it (refused `bad_challenge`).
pub(super) fn decode_challenge(text: &str) -> Result<Vec<u8>, String> {
    match base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')) {
        Ok(c) if (CHALLENGE_MIN..=CHALLENGE_MAX).contains(&c.len()) => Ok(c),
        Ok(c) => Err(format!("the challenge is {} bytes; it must be {CHALLENGE_MIN} to {CHALLENGE_MAX}", c.len())),
        Err(_) => Err("the challenge is not base64url".to_owned()),
    }
}
