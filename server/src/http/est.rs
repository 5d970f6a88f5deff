//! EST over HTTPS: adapts requests to `hcpki_ca::enroll::est` and its answers and refusals to HTTP
//! (RFC 7030 §4). No decision is made here: labels, credentials, CSRs and names are the CA module's.

use crate::app::AppState;
use axum::body::Body;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_server::tls::TlsInfo;
use hcpki_ca::enroll::EnrollError;
use hcpki_ca::enroll::est::{self, EstRequest, EstResponse};
use hcpki_ca::profile::ProfileKind;
use std::sync::Arc;

/// The label segment, present on `/.well-known/est/<label>/…` only.
type Label = Option<Path<String>>;
/// What axum-server knows of the TLS connection (the client certificate chain, if one was offered).
type Tls = Option<Extension<Arc<TlsInfo>>>;

/// `GET /.well-known/est/[<label>/]cacerts`.
pub async fn cacerts(State(state): State<AppState>, label: Label) -> Response {
    match profile(label) {
        Ok(p) => answer(est::cacerts(&*state.est, p), state.halt.retry_after_secs),
        Err(r) => r,
    }
}

/// `GET /.well-known/est/[<label>/]csrattrs`.
pub async fn csrattrs(State(state): State<AppState>, label: Label) -> Response {
    match profile(label) {
        Ok(p) => answer(est::csrattrs(&*state.est, p), state.halt.retry_after_secs),
        Err(r) => r,
    }
}

/// `POST /.well-known/est/[<label>/]simpleenroll`.
pub async fn simpleenroll(
    State(state): State<AppState>,
    label: Label,
    tls: Tls,
    headers: HeaderMap,
    body: Body,
) -> Response {
    enroll(state, label, tls, headers, body, Operation::Enroll).await
}

/// `POST /.well-known/est/[<label>/]simplereenroll`.
pub async fn simplereenroll(
    State(state): State<AppState>,
    label: Label,
    tls: Tls,
    headers: HeaderMap,
    body: Body,
) -> Response {
    enroll(state, label, tls, headers, body, Operation::Reenroll).await
}

/// `POST /.well-known/est/[<label>/]serverkeygen`.
pub async fn serverkeygen(
    State(state): State<AppState>,
    label: Label,
    tls: Tls,
    headers: HeaderMap,
    body: Body,
) -> Response {
    enroll(state, label, tls, headers, body, Operation::ServerKeygen).await
}

#[derive(Clone, Copy)]
enum Operation {
    Enroll,
    Reenroll,
    ServerKeygen,
}

async fn enroll(state: AppState, label: Label, tls: Tls, headers: HeaderMap, body: Body, op: Operation) -> Response {
    let label = match profile(label) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let name = match op {
        Operation::Enroll => "simpleenroll",
        Operation::Reenroll => "simplereenroll",
        Operation::ServerKeygen => "serverkeygen",
    };
    let Ok(body) = crate::web::body::read_limited(body, est::MAX_BODY_BYTES).await else {
        return refusal(est::too_large(&*state.est, name).await, state.halt.retry_after_secs);
    };
    let request = EstRequest {
        label,
        authorization: headers.get(header::AUTHORIZATION).map(HeaderValue::as_bytes),
        client_certificate: tls.as_ref().and_then(|Extension(info)| info.peer_certificates.first()).map(Vec::as_slice),
        body: &body,
    };
    let result = match op {
        Operation::Enroll => est::simpleenroll(&*state.est, &request).await,
        Operation::Reenroll => est::simplereenroll(&*state.est, &request).await,
        Operation::ServerKeygen => est::serverkeygen(&*state.est, &request).await,
    };
    answer(result, state.halt.retry_after_secs)
}

/// The label's profile; an unknown label is 404, like any path the server does not have.
#[allow(clippy::result_large_err)] // the Err is the finished 404 response, built once on a cold path
fn profile(label: Label) -> Result<Option<ProfileKind>, Response> {
    match label {
        None => Ok(None),
        Some(Path(text)) => est::label(&text).map(Some).ok_or_else(|| unknown_label(&text)),
    }
}

fn unknown_label(text: &str) -> Response {
    (StatusCode::NOT_FOUND, format!("no EST label {text:?}: use router or pc\n")).into_response()
}

/// `retry_after`: the seconds a client is told to wait while issuance is halted (`[ca] halt_retry_after_secs`).
fn answer(result: Result<EstResponse, EnrollError>, retry_after: u64) -> Response {
    match result {
        Ok(r) => {
            let mut response = (StatusCode::OK, [(header::CONTENT_TYPE, r.content_type)]).into_response();
            if r.is_base64() {
                response.headers_mut().insert(
                    header::HeaderName::from_static("content-transfer-encoding"),
                    HeaderValue::from_static("base64"),
                );
            } else {
                // serverkeygen: a private key is in the body; no cache may keep it.
                response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            }
            *response.body_mut() = Body::from(r.body.as_str().to_owned());
            response
        }
        Err(e) => refusal(e, retry_after),
    }
}

/// RFC 7030 §4.2.3 / §3.2.3: 401 with a Basic challenge, 403, 400, 413 or 503 (with `Retry-After` when the CA
/// cannot sign now — its signing device away, D154 — and while issuance
/// is halted, D135), with the reason in plain text.
fn refusal(e: EnrollError, retry_after: u64) -> Response {
    let status = match &e {
        EnrollError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        EnrollError::Forbidden(_) => StatusCode::FORBIDDEN,
        EnrollError::BadRequest(_) => StatusCode::BAD_REQUEST,
        EnrollError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    tracing::info!(status = status.as_u16(), reason = %e, "EST request refused");
    let mut response = (status, format!("{e}\n")).into_response();
    if matches!(e, EnrollError::Halted(_) | EnrollError::Unavailable(_)) {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    }
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"hcpki EST\""));
    }
    response
}
