//! SCEP over plain HTTP: adapts `GET|POST …?operation=…` to `hcpki_ca::enroll::scep` (RFC 8894 §4). No
//! decision is made here: messages, challenges and failInfos are the CA module's.
//!
//! URLs: `/scep/<endpoint>` (`router`, `pc`, and any `[serve.scep.<name>]`), the same with Cisco's
//! `/cgi-bin/pkiclient.exe` or `/pkiclient.exe` appended, and `/cgi-bin/pkiclient.exe` alone for the router
//! endpoint. `PKIOperation` by POST (the body) or by GET (`message=` base64, old Cisco IOS over HTTP/1.0).

use crate::app::AppState;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use hcpki_ca::enroll::EnrollError;
use hcpki_ca::enroll::scep;

/// `?operation=…&message=…`.
#[derive(Debug, serde::Deserialize)]
pub struct Params {
    operation: Option<String>,
    message: Option<String>,
}

/// `/scep/<endpoint>[/cgi-bin/pkiclient.exe|/pkiclient.exe]`.
pub async fn named(
    State(state): State<AppState>,
    Path(name): Path<String>,
    method: Method,
    Query(params): Query<Params>,
    body: Body,
) -> Response {
    serve(&state, &name, method, params, body).await
}

/// `/cgi-bin/pkiclient.exe`: the router endpoint, where Cisco IOS looks by default.
pub async fn cisco_default(
    State(state): State<AppState>,
    method: Method,
    Query(params): Query<Params>,
    body: Body,
) -> Response {
    serve(&state, "router", method, params, body).await
}

async fn serve(state: &AppState, name: &str, method: Method, params: Params, body: Body) -> Response {
    let scep = &state.scep;
    let Some(endpoint) = scep.endpoints.get(name) else {
        let names: Vec<&str> = scep.endpoints.keys().map(String::as_str).collect();
        return (StatusCode::NOT_FOUND, format!("no SCEP endpoint {name:?}: use /scep/{}\n", names.join(" or /scep/")))
            .into_response();
    };
    let authority = scep.authority.as_ref();
    match params.operation.as_deref() {
        Some("GetCACaps") => {
            let next = authority.next_ca(endpoint.profile).is_some();
            ([(header::CONTENT_TYPE, scep::CAPS)], scep::caps(endpoint, next)).into_response()
        }
        Some("GetNextCACert") => match scep::next_ca_certificate(authority, endpoint) {
            Ok(Some(der)) => ([(header::CONTENT_TYPE, scep::NEXT_CA_CERT)], der).into_response(),
            Ok(None) => {
                (StatusCode::NOT_FOUND, "no next CA certificate: no rollover of this CA is published\n").into_response()
            }
            Err(e) => refusal(e, state.halt.retry_after_secs),
        },
        Some("GetCACert") => match scep::ca_certificates(authority, endpoint) {
            Ok(der) => ([(header::CONTENT_TYPE, scep::CA_RA_CERT)], der).into_response(),
            Err(e) => refusal(e, state.halt.retry_after_secs),
        },
        Some("PKIOperation") => {
            let message = if method == Method::POST {
                match crate::web::body::read_limited(body, scep::MAX_BODY_BYTES).await {
                    Ok(b) => b.to_vec(),
                    Err(_) => return refusal(scep::too_large(authority).await, state.halt.retry_after_secs),
                }
            } else {
                match get_message(params.message.as_deref()) {
                    Ok(m) => m,
                    Err(GetMessage::TooLarge) => {
                        return refusal(scep::too_large(authority).await, state.halt.retry_after_secs);
                    }
                    Err(GetMessage::Bad(why)) => {
                        return refusal(scep::undecodable(authority, &why).await, state.halt.retry_after_secs);
                    }
                }
            };
            match scep::pki_operation(authority, endpoint, &message).await {
                Ok(der) => ([(header::CONTENT_TYPE, scep::PKI_MESSAGE)], der).into_response(),
                Err(e) => refusal(e, state.halt.retry_after_secs),
            }
        }
        Some(other) => (
            StatusCode::BAD_REQUEST,
            format!(
                "SCEP operation {other:?} is not supported: use GetCACaps, GetCACert, GetNextCACert or PKIOperation\n"
            ),
        )
            .into_response(),
        None => (StatusCode::BAD_REQUEST, "no ?operation=: this is a SCEP endpoint (RFC 8894)\n").into_response(),
    }
}

/// Why a GET PKIOperation's `message=` gives no message.
enum GetMessage {
    TooLarge,
    Bad(String),
}

/// The `message=` of a GET PKIOperation: base64, where a `+` may have arrived as a space.
fn get_message(message: Option<&str>) -> Result<Vec<u8>, GetMessage> {
    let text = message.ok_or_else(|| GetMessage::Bad("PKIOperation by GET needs message=<base64>".into()))?;
    if text.len() > scep::MAX_BODY_BYTES * 4 / 3 + 4 {
        return Err(GetMessage::TooLarge);
    }
    let compact: String = text
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('+'),
            c if c.is_ascii_whitespace() => None,
            c => Some(c),
        })
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|e| GetMessage::Bad(format!("message= is not base64: {e}")))
}

/// 400, 413 or 503 with the reason in plain text: only for what cannot be answered with a CertRep (a halt of
/// issuance included, D141, with `Retry-After: retry_after`, `[ca] halt_retry_after_secs`).
fn refusal(e: EnrollError, retry_after: u64) -> Response {
    // A halted CA (D141) and one whose signing device is away (D154) both say when to come back.
    let halted = matches!(e, EnrollError::Halted(_) | EnrollError::Unavailable(_));
    let status = match &e {
        EnrollError::BadRequest(_) => StatusCode::BAD_REQUEST,
        EnrollError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        EnrollError::Unauthenticated(_) | EnrollError::Forbidden(_) => StatusCode::FORBIDDEN,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    tracing::info!(status = status.as_u16(), reason = %e, "SCEP request refused");
    let mut response = (status, format!("{e}\n")).into_response();
    if halted {
        response.headers_mut().insert(header::RETRY_AFTER, axum::http::HeaderValue::from(retry_after));
    }
    response
}
