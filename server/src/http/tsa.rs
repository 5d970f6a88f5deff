//! The time-stamping authority's HTTP binding (RFC 3161 §3.4): `POST /tsa` with `Content-Type:
//! application/timestamp-query` and the DER `TimeStampReq` as body, answered with
//! `application/timestamp-reply`. Every decision is `hcpki_docsig::timestamp`'s; refusals of the request itself
//! are RFC 3161 rejections with HTTP 200, as clients expect, and HTTP errors are kept for what is not a
//! time-stamp request at all (wrong media type, oversize body, no TSA configured). Time stamps are not
//! privileged actions: not audited, counted in `/metrics` (`hcpki_tsa_answers_total`).

use crate::app::AppState;
use crate::web::body::{BodyError, read_limited};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Requests are about a hundred bytes (a SHA-512 imprint, a policy and a nonce stay under 200).
pub const MAX_REQUEST: usize = 4096;
const QUERY: &str = "application/timestamp-query";
const REPLY: &str = "application/timestamp-reply";

/// `POST /tsa`.
pub async fn post(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let Some(tsa) = state.tsa.as_ref().map(|served| served.current()) else {
        return (StatusCode::NOT_FOUND, "this server runs no time-stamping authority: configure [tsa] in hcpki.toml\n")
            .into_response();
    };
    let media = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !media.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case(QUERY)) {
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, format!("send the DER TimeStampReq with Content-Type: {QUERY}\n"))
            .into_response();
    }
    let der = match read_limited(body, MAX_REQUEST).await {
        Ok(der) => der,
        Err(BodyError::TooLarge(limit)) => {
            return (StatusCode::PAYLOAD_TOO_LARGE, format!("time-stamp requests are at most {limit} bytes\n"))
                .into_response();
        }
        Err(e) => return (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response(),
    };
    let now = state.clock.now_unix();
    // Signing may wait on a PKCS#11 token: off the async threads.
    let answer = match tokio::task::spawn_blocking(move || tsa.answer(&der, now)).await {
        Ok(answer) => answer,
        Err(e) => {
            tracing::error!(error = %e, "the time-stamp task failed");
            return (StatusCode::INTERNAL_SERVER_ERROR, "the time-stamping authority failed: try again\n")
                .into_response();
        }
    };
    let outcome = match &answer.outcome {
        Ok(()) => "granted",
        Err(refusal) => {
            tracing::info!(reason = %refusal, "time-stamp request refused");
            refusal.fail_info().name()
        }
    };
    state.metrics.count_time_stamp(outcome);
    ([(header::CONTENT_TYPE, REPLY)], answer.der).into_response()
}

/// `GET /tsa`: how to ask.
pub async fn usage(State(state): State<AppState>) -> Response {
    match &state.tsa {
        Some(tsa) => (
            StatusCode::METHOD_NOT_ALLOWED,
            format!(
                "this is an RFC 3161 time-stamping authority (policy {}): POST a DER TimeStampReq with Content-Type: \
                 {QUERY}, e.g. `openssl ts -query -data FILE -sha256 -cert | curl --data-binary @- -H 'Content-Type: \
                 {QUERY}' URL`\n",
                tsa.current().policy()
            ),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "this server runs no time-stamping authority: configure [tsa] in hcpki.toml\n")
            .into_response(),
    }
}
