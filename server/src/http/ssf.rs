//! `/.well-known/ssf-configuration` and `/ssf/...` (OpenID SSF 1.0, RFC 8936; issue #51 item 2, D162): the HTTP
//! adapter of `hcpki_sso::ssf::management`. It reads the bearer token (a client-credentials token of scope
//! `ssf`, which only confidential clients get), checks the client is still registered, and hands the body and
//! the query to the core; refusals are audited `ssf.refused` with the client as actor.

use crate::portal::PortalState;
use crate::web::headers::bearer_token;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hcpki_sso::oidc::client_credentials::{self, BearerKind, CallerRefused};
use hcpki_sso::ssf::management::{Answer, ManagementError, Receiver};
use hcpki_sso::ssf::{self, CONFIGURATION_PATH, POLL_PATH, STATUS_PATH, STREAM_PATH, VERIFY_PATH};
use serde_json::{Value, json};

/// The caller, or return its 401.
macro_rules! caller {
    ($state:expr, $headers:expr) => {
        match caller(&$state, &$headers).await {
            Ok(c) => c,
            Err(refused) => return refused,
        }
    };
}

/// The routes of the transmitter.
pub fn routes() -> Router<PortalState> {
    Router::new()
        .route(CONFIGURATION_PATH, get(configuration))
        .route(STREAM_PATH, get(read).post(create).patch(update).put(replace).delete(delete))
        .route(STATUS_PATH, get(status).post(set_status))
        .route(VERIFY_PATH, post(verify))
        .route(&format!("{POLL_PATH}/{{stream_id}}"), post(poll))
}

/// `?stream_id=…`.
#[derive(Debug, serde::Deserialize)]
struct StreamQuery {
    stream_id: Option<String>,
}

async fn configuration(State(state): State<PortalState>) -> Response {
    json_answer(StatusCode::OK, &ssf::configuration(&state.oidc.issuer))
}

async fn create(State(state): State<PortalState>, headers: HeaderMap, body: Bytes) -> Response {
    let client = caller!(state, headers);
    let receiver = Receiver { provider: &state.oidc, client_id: &client };
    respond(&state, &client, "create", receiver.create(&body).await).await
}

async fn read(State(state): State<PortalState>, headers: HeaderMap, Query(q): Query<StreamQuery>) -> Response {
    let client = caller!(state, headers);
    let receiver = Receiver { provider: &state.oidc, client_id: &client };
    respond(&state, &client, "read", receiver.read(q.stream_id.as_deref()).await).await
}

async fn update(State(state): State<PortalState>, headers: HeaderMap, body: Bytes) -> Response {
    let client = caller!(state, headers);
    let receiver = Receiver { provider: &state.oidc, client_id: &client };
    respond(&state, &client, "update", receiver.update(&body, false).await).await
}

async fn replace(State(state): State<PortalState>, headers: HeaderMap, body: Bytes) -> Response {
    let client = caller!(state, headers);
    let receiver = Receiver { provider: &state.oidc, client_id: &client };
    respond(&state, &client, "replace", receiver.update(&body, true).await).await
}

async fn delete(State(state): State<PortalState>, headers: HeaderMap, Query(q): Query<StreamQuery>) -> Response {
    let client = caller!(state, headers);
    let receiver = Receiver { provider: &state.oidc, client_id: &client };
    let result = match q.stream_id.as_deref() {
        Some(id) => receiver.delete(id).await,
        None => Err(ManagementError::Invalid("stream_id is missing: DELETE /ssf/stream?stream_id=…".into())),
    };
    respond(&state, &client, "delete", result).await
}

async fn status(State(state): State<PortalState>, headers: HeaderMap, Query(q): Query<StreamQuery>) -> Response {
    let client = caller!(state, headers);
    let receiver = Receiver { provider: &state.oidc, client_id: &client };
    let result = match q.stream_id.as_deref() {
        Some(id) => receiver.status(id).await,
        None => Err(ManagementError::Invalid("stream_id is missing: GET /ssf/status?stream_id=…".into())),
    };
    respond(&state, &client, "status", result).await
}

async fn set_status(State(state): State<PortalState>, headers: HeaderMap, body: Bytes) -> Response {
    let client = caller!(state, headers);
    let receiver = Receiver { provider: &state.oidc, client_id: &client };
    respond(&state, &client, "set_status", receiver.set_status(&body).await).await
}

async fn verify(State(state): State<PortalState>, headers: HeaderMap, body: Bytes) -> Response {
    let client = caller!(state, headers);
    let receiver = Receiver { provider: &state.oidc, client_id: &client };
    respond(&state, &client, "verify", receiver.verify(&body).await).await
}

async fn poll(
    State(state): State<PortalState>,
    headers: HeaderMap,
    Path(stream_id): Path<String>,
    body: Bytes,
) -> Response {
    let client = caller!(state, headers);
    let receiver = Receiver { provider: &state.oidc, client_id: &client };
    respond(&state, &client, "poll", receiver.poll(&stream_id, &body).await).await
}

/// The calling client of `headers`, or the 401 to answer.
async fn caller(state: &PortalState, headers: &HeaderMap) -> Result<String, Response> {
    let Some(token) = bearer_token(headers) else {
        return Err(unauthorized(
            "no bearer token: get one from /token with grant_type=client_credentials and scope=ssf (confidential \
             clients only)",
        ));
    };
    let now = state.clock.now_unix();
    client_credentials::registered_caller(&state.oidc, token, now, BearerKind::Ssf).await.map_err(|e| match e {
        CallerRefused::Registry(why) => error_answer(&ManagementError::Store(why)),
        refused => unauthorized(&refused.to_string()),
    })
}

/// The core's answer; a refusal (4xx) audited `ssf.refused`.
async fn respond(
    state: &PortalState,
    client: &str,
    request: &str,
    result: Result<Answer, ManagementError>,
) -> Response {
    match result {
        Ok(Answer { status, body }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            match body {
                Some(body) => json_answer(status, &body),
                None => status.into_response(),
            }
        }
        Err(e) => {
            if (400..500).contains(&e.status()) {
                let detail = json!({ "request": request, "status": e.status(), "reason": e.to_string() });
                state.refusals.record(&format!("ssf:{client}"), "ssf.refused", client, detail).await;
            }
            error_answer(&e)
        }
    }
}

fn error_answer(e: &ManagementError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status.is_server_error() {
        tracing::error!(error = %e, "SSF request failed");
    }
    json_answer(status, &e.body())
}

fn unauthorized(why: &str) -> Response {
    let mut response =
        json_answer(StatusCode::UNAUTHORIZED, &json!({ "error": "invalid_token", "error_description": why }));
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"ssf\", error=\"invalid_token\""));
    response
}

fn json_answer(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
