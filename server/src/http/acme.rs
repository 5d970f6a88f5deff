//! ACME over HTTPS under `/acme/`: adapts requests to `hcpki_ca::enroll::acme` and its answers and problem
//! documents to HTTP (RFC 8555 §6–§7). No decision is made here. Every response carries a fresh
//! `Replay-Nonce` and `Link: <directory>;rel="index"`.

use crate::app::AppState;
use axum::body::Body as HttpBody;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use hcpki_ca::enroll::acme::order::{AuthzId, ChallengeId};
use hcpki_ca::enroll::acme::{self, AcmeRequest, AcmeResponse, Body, Chain, Endpoint, Problem};
use hcpki_model::{AcmeAccountId, AcmeOrderId};

/// `GET /acme/directory`.
pub async fn directory(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let base = base_url(&headers, &uri);
    finish(
        &state,
        &base,
        Ok(AcmeResponse {
            status: 200,
            location: None,
            up: None,
            alternate: None,
            body: Body::Json(acme::directory(&base)),
        }),
    )
    .await
}

/// `HEAD` / `GET /acme/new-nonce` (RFC 8555 §7.2): 200 for HEAD, 204 for GET.
pub async fn new_nonce(State(state): State<AppState>, method: Method, headers: HeaderMap, uri: Uri) -> Response {
    let base = base_url(&headers, &uri);
    let status = if method == Method::HEAD { 200 } else { 204 };
    let mut response = finish(
        &state,
        &base,
        Ok(AcmeResponse { status, location: None, up: None, alternate: None, body: Body::Empty }),
    )
    .await;
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `POST /acme/new-account`.
pub async fn new_account(State(s): State<AppState>, h: HeaderMap, u: Uri, b: HttpBody) -> Response {
    post(s, h, u, b, Endpoint::NewAccount).await
}

/// `POST /acme/new-order`.
pub async fn new_order(State(s): State<AppState>, h: HeaderMap, u: Uri, b: HttpBody) -> Response {
    post(s, h, u, b, Endpoint::NewOrder).await
}

/// `POST /acme/revoke-cert`.
pub async fn revoke_cert(State(s): State<AppState>, h: HeaderMap, u: Uri, b: HttpBody) -> Response {
    post(s, h, u, b, Endpoint::RevokeCert).await
}

/// `POST /acme/key-change`.
pub async fn key_change(State(s): State<AppState>, h: HeaderMap, u: Uri, b: HttpBody) -> Response {
    post(s, h, u, b, Endpoint::KeyChange).await
}

/// `POST /acme/acct/{id}`.
pub async fn account(State(s): State<AppState>, Path(id): Path<String>, h: HeaderMap, u: Uri, b: HttpBody) -> Response {
    post(s, h, u, b, Endpoint::Account(AcmeAccountId::parse(&id).ok())).await
}

/// `POST /acme/order/{id}`.
pub async fn order(State(s): State<AppState>, Path(id): Path<String>, h: HeaderMap, u: Uri, b: HttpBody) -> Response {
    post(s, h, u, b, Endpoint::Order(AcmeOrderId::parse(&id).ok())).await
}

/// `POST /acme/order/{id}/finalize`.
pub async fn finalize(
    State(s): State<AppState>,
    Path(id): Path<String>,
    h: HeaderMap,
    u: Uri,
    b: HttpBody,
) -> Response {
    post(s, h, u, b, Endpoint::Finalize(AcmeOrderId::parse(&id).ok())).await
}

/// `POST /acme/authz/{id}`.
pub async fn authz(State(s): State<AppState>, Path(id): Path<String>, h: HeaderMap, u: Uri, b: HttpBody) -> Response {
    post(s, h, u, b, Endpoint::Authz(AuthzId::parse(&id))).await
}

/// `POST /acme/chall/{id}`.
pub async fn challenge(
    State(s): State<AppState>,
    Path(id): Path<String>,
    h: HeaderMap,
    u: Uri,
    b: HttpBody,
) -> Response {
    post(s, h, u, b, Endpoint::Challenge(ChallengeId::parse(&id))).await
}

/// `POST /acme/cert/{serial}`.
pub async fn cert(State(s): State<AppState>, Path(id): Path<String>, h: HeaderMap, u: Uri, b: HttpBody) -> Response {
    post(s, h, u, b, Endpoint::Cert(id, Chain::Default)).await
}

/// `POST /acme/cert/{serial}/alternate`: the other chain, to the other root generation, during a root rollover
/// (D165).
pub async fn chain(State(s): State<AppState>, Path(id): Path<String>, h: HeaderMap, u: Uri, b: HttpBody) -> Response {
    post(s, h, u, b, Endpoint::Cert(id, Chain::Alternate)).await
}

async fn post(state: AppState, headers: HeaderMap, uri: Uri, body: HttpBody, endpoint: Endpoint) -> Response {
    let base = base_url(&headers, &uri);
    let Ok(body) = crate::web::body::read_limited(body, acme::MAX_BODY_BYTES).await else {
        return finish(&state, &base, Err(acme::too_large(&*state.acme, &endpoint).await)).await;
    };
    let url = format!("{}{}", base.trim_end_matches("/acme"), uri.path());
    let request = AcmeRequest {
        base: &base,
        url: &url,
        content_type: headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()),
        body: &body,
    };
    let result = acme::post(&*state.acme, &*state.acme_validator, &endpoint, &request).await;
    if let Err(p) = &result {
        tracing::info!(status = p.status, operation = endpoint.operation(), problem = %p, "ACME request refused");
    }
    finish(&state, &base, result).await
}

/// `https://<host>/acme`, from the Host header (HTTP/1.1) or the request's authority (HTTP/2).
fn base_url(headers: &HeaderMap, uri: &Uri) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| uri.authority().map(|a| a.to_string()))
        .unwrap_or_else(|| "localhost".into());
    format!("https://{host}/acme")
}

/// Headers every ACME response has, then the body.
async fn finish(state: &AppState, base: &str, result: Result<AcmeResponse, Problem>) -> Response {
    let mut response = match result {
        Ok(r) => success(r),
        Err(p) => problem(&p, state.halt.retry_after_secs),
    };
    stamp(state, base, &mut response).await;
    response
}

/// How long an answer made outside the ACME handlers waits for its nonce: such an answer is the admission
/// gate's refusal or the per-request deadline's, both 503s of a server under strain, and the second may be
/// one whose database is not answering; then the answer goes without a nonce rather than wait.
const NONCE_FOR_A_REFUSAL: std::time::Duration = std::time::Duration::from_secs(2);

/// Middleware outside the admission gate on the ACME POSTs (D142): an answer the handlers did not make (the
/// gate's 503, the per-request deadline's 503) gets the `Replay-Nonce` and `Link` every ACME response carries
/// (RFC 8555 §6.5: a client retrying a 503 needs a fresh nonce; without it, it must ask `new-nonce` first).
pub async fn stamped(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let base = base_url(request.headers(), request.uri());
    let mut response = next.run(request).await;
    if !response.headers().contains_key("replay-nonce")
        && tokio::time::timeout(NONCE_FOR_A_REFUSAL, stamp(&state, &base, &mut response)).await.is_err()
    {
        tracing::warn!("an ACME refusal went without a Replay-Nonce: the database did not give one within 2 s");
    }
    response
}

/// A fresh `Replay-Nonce` and the directory's `Link` on `response`.
async fn stamp(state: &AppState, base: &str, response: &mut Response) {
    let nonce = state.acme.new_nonce().await;
    let h = response.headers_mut();
    match nonce {
        Ok(nonce) => {
            if let Ok(v) = HeaderValue::from_str(&nonce) {
                h.insert("replay-nonce", v);
            }
        }
        Err(e) => tracing::error!(problem = %e, "no nonce for an ACME response"),
    }
    if let Ok(v) = HeaderValue::from_str(&format!("<{base}/directory>;rel=\"index\"")) {
        h.append(header::LINK, v);
    }
}

fn success(r: AcmeResponse) -> Response {
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK);
    let processing = matches!(&r.body, Body::Json(v) if v["status"] == "processing");
    let mut response = match r.body {
        Body::Json(v) => (status, [(header::CONTENT_TYPE, "application/json")], v.to_string()).into_response(),
        Body::PemChain(pem) => (status, [(header::CONTENT_TYPE, acme::PEM_CHAIN)], pem).into_response(),
        Body::Empty => status.into_response(),
    };
    let h = response.headers_mut();
    if let Some(v) = r.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        h.insert(header::LOCATION, v);
    }
    if let Some(v) = r.up.and_then(|u| HeaderValue::from_str(&format!("<{u}>;rel=\"up\"")).ok()) {
        h.append(header::LINK, v);
    }
    if let Some(v) = r.alternate.and_then(|a| HeaderValue::from_str(&format!("<{a}>;rel=\"alternate\"")).ok()) {
        h.append(header::LINK, v);
    }
    if processing {
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

/// RFC 8555 §6.7: `application/problem+json`.
fn problem(p: &Problem, retry_after: u64) -> Response {
    let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response =
        (status, [(header::CONTENT_TYPE, "application/problem+json")], p.to_json().to_string()).into_response();
    // A 503 is the CA declining for now (issuance halted, D135): RFC 8555 §6.6 lets the server say when to retry.
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    }
    response
}
