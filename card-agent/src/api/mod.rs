//! The local HTTP API on 127.0.0.1, for the portal's pages in the browser.
//!
//! | route | what |
//! |---|---|
//! | `GET /v1/cards` | readers, card kinds, certificates (public data only) |
//! | `POST /v1/sign` | `{challenge, kind, role?: "auth", purpose?: "login" \| "identification", lang?: "ja" \| "en", reader?, allow_last_try?}` → 202 `{id, status_url, pin_url}`: a login or a patient's identification, always with the authentication key; the card signs `purpose`'s message ([`AuthPurpose`]) |
//! | `POST /v1/documents` | `{format, title, file_name?, content (base64), kind, level?, lang?, reader?, allow_last_try?}` → 202 `{id, status_url, pin_url}`: a document signature with the signature key ([`crate::document`]); ≤ 10 MiB, else 413 |
//! | `POST /v1/documents/batch` | `{documents: [{format, title, file_name?, content}], kind, level?, lang?, reader?, allow_last_try?, session?}` → 202: listed on one page, confirmed once, each signed on its own (D163) |
//! | `POST /v1/signing-session/end` | `{binding}` → `{ended}`: the portal's logout ends its signing sessions (D163) |
//! | `GET /v1/sign/{id}?wait=S&seen=P` | the operation: `running`, `pin_required`, `done` (signature + chain, and a `Server-Timing` header: card, PIN wait, agent), `failed`; long-polls while it is still `P` |
//! | `POST /v1/sign/{id}/cancel` | → the operation's state: its open PIN question answered "cancel" (no try spent), one not yet asked never asked — the page saw its PIN window closed by hand (issue #45 item 5) |
//! | `GET /v1/events` | server-sent events: card inserted / removed, reader added / removed |
//! | `POST /v1/presence` | `{token, card_id}` → 202: keep that portal session alive while the card is in, end it when it leaves (reported to the request's `Origin` only, [`crate::presence`]) |
//! | `GET/POST /pin/{id}` | the agent's own PIN page (never the portal's) |
//! | `GET /healthz` | liveness |
//!
//! Guards, in order: the `Host` must be this listener (DNS rebinding); `/v1/*` needs an `Origin` from
//! the allow-list, and CORS answers only those origins (with Private Network Access); the PIN page
//! accepts form posts only from its own origin, with the operation's page token. Bodies are capped
//! at 8 KiB (documents: 10 MiB). The card signs [`login_message`](crate::service::login_message)(origin, challenge), never
//! the caller's bytes as they are.

mod documents;
mod listener;
mod operations;
mod pin_page;
mod reply;
mod run;
mod session;
mod state;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::config::PinEntry;
use crate::presence::Token;
use crate::service::{CardKind, KeyRole, PinQuestion, SignRequest};
use hcpki_agent_protocol::AuthPurpose;
use hcpki_agent_protocol::presence as contract;
pub use listener::OwnPrograms;
pub use operations::{ApiFailure, OpState, OpTiming, Operations, Purpose};
use reply::{agent_failure, decode_challenge, failure, json_body, request_origin, requested_lang};
use run::run_operation;
pub use state::AppState;

const BODY_LIMIT: usize = 8 * 1024;
const LONG_POLL_MAX: u64 = 30;

/// The router with every guard. Inside a runtime, signing sessions end when their card leaves a reader (D163).
pub fn router(state: AppState) -> Router {
    state.end_sessions_on_removal();
    let v1 = Router::new()
        .route("/v1/cards", get(cards))
        .route("/v1/sign", post(sign))
        .route("/v1/documents", post(documents::start).layer(DefaultBodyLimit::max(documents::BODY_LIMIT)))
        .route("/v1/documents/batch", post(documents::start_batch).layer(DefaultBodyLimit::max(documents::BODY_LIMIT)))
        .route("/v1/signing-session/end", post(session_end))
        .route("/v1/sign/{id}", get(sign_status))
        .route("/v1/sign/{id}/cancel", post(sign_cancel))
        .route("/v1/events", get(events))
        .route("/v1/presence", post(presence_register))
        .layer(middleware::from_fn_with_state(state.clone(), origin_guard));
    Router::new()
        .merge(v1)
        .route("/pin/{id}", get(pin_page::show).post(pin_page::submit))
        .route("/healthz", get(|| async { "ok" }))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(state.clone(), host_guard))
        .with_state(state)
}

/// Refuses requests whose `Host` is not this listener: a DNS-rebinding page reaches 127.0.0.1 under a
/// foreign name.
async fn host_guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    if !state.own_hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
        return failure(
            StatusCode::MISDIRECTED_REQUEST,
            "bad_host",
            "this agent answers only to 127.0.0.1 and localhost",
        );
    }
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    response
}

/// `/v1/*`: the request's `Origin` must be allowed; CORS preflights are answered for allowed origins
/// only.
async fn origin_guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let origin = request.headers().get(header::ORIGIN).and_then(|o| o.to_str().ok()).map(str::to_ascii_lowercase);
    let Some(origin) = origin.filter(|o| state.allowed_origins.contains(o)) else {
        tracing::warn!(path = %request.uri().path(), "refused a request without an allowed Origin");
        return failure(StatusCode::FORBIDDEN, "origin_not_allowed", "this origin may not use the card agent");
    };
    let preflight = request.method() == Method::OPTIONS;
    let wants_private_network = request.headers().contains_key("access-control-request-private-network");
    let mut response = if preflight { StatusCode::NO_CONTENT.into_response() } else { next.run(request).await };
    let h = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&origin) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
    }
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    if preflight {
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST"));
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("content-type"));
        h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        if wants_private_network {
            h.insert("access-control-allow-private-network", HeaderValue::from_static("true"));
        }
    }
    response
}

async fn cards(State(state): State<AppState>) -> Response {
    let service = Arc::clone(&state.service);
    match tokio::task::spawn_blocking(move || service.readers()).await {
        Ok(Ok(readers)) => Json(serde_json::json!({ "readers": readers })).into_response(),
        Ok(Err(e)) => agent_failure(&e),
        Err(e) => failure(StatusCode::INTERNAL_SERVER_ERROR, "internal", &e.to_string()),
    }
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SignBody {
    /// base64url (padding optional).
    challenge: String,
    kind: CardKind,
    #[serde(default = "default_role")]
    role: KeyRole,
    #[serde(default)]
    reader: Option<String>,
    #[serde(default)]
    allow_last_try: bool,
    /// What the signature is for: `login` (the default) or `identification` (a patient at reception). The agent's
    /// page names it, and it is bound into the signed message, so a page cannot show one and use the other.
    #[serde(default)]
    purpose: AuthPurpose,
    /// The portal page's language (`ja`, `en`): the agent's page speaks it.
    #[serde(default)]
    lang: Option<String>,
}

fn default_role() -> KeyRole {
    KeyRole::Auth
}

async fn sign(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<SignBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let body = match json_body(body, BODY_LIMIT) {
        Ok(b) => b,
        Err((status, code, message)) => return failure(status, code, &message),
    };
    // A login never reaches the signature key: that key signs only documents the agent has shown
    // (`POST /v1/documents`).
    if body.role != KeyRole::Auth {
        return failure(
            StatusCode::BAD_REQUEST,
            "sign_key_not_for_login",
            "a login uses the card's authentication key only: drop \"role\" or set it to \"auth\"; documents are signed \
             through POST /v1/documents",
        );
    }
    // A consent is agreed to only over a document the agent shows (`POST /v1/documents` with `role: "auth"`):
    // here a page could have the card agree to a consent nobody read.
    if body.purpose == AuthPurpose::Consent {
        return failure(
            StatusCode::BAD_REQUEST,
            "consent_needs_document",
            "a consent is agreed to over the document the agent shows: send it to POST /v1/documents with \
             \"role\": \"auth\" and the challenge",
        );
    }
    let challenge = match decode_challenge(&body.challenge) {
        Ok(c) => c,
        Err(why) => return failure(StatusCode::BAD_REQUEST, "bad_challenge", &why),
    };
    let lang = match requested_lang(body.lang.as_deref()) {
        Ok(l) => l,
        Err((status, code, message)) => return failure(status, code, &message),
    };
    let origin = request_origin(&headers);
    let purpose = Purpose::Login { origin: origin.clone(), what: body.purpose };
    let Some(op) = state.ops.start(&origin, purpose, body.kind, KeyRole::Auth, lang) else {
        return failure(
            StatusCode::TOO_MANY_REQUESTS,
            "busy",
            "too many signing operations are waiting; finish or cancel one",
        );
    };
    let request = SignRequest {
        reader: body.reader,
        kind: body.kind,
        message: body.purpose.message(&origin, &challenge),
        allow_last_try: body.allow_last_try,
    };
    tracing::info!(op = %op.id, %origin, kind = ?request.kind, purpose = body.purpose.as_str(), "signing requested");
    let service = Arc::clone(&state.service);
    run_operation(&state, op, move |prompt| service.sign(&request, prompt))
}

/// What a portal page hands the agent: its session's presence token and the card it logged in with.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PresenceBody {
    token: String,
    card_id: String,
}

/// `POST /v1/presence`: keep the page's session alive while `card_id` is in a reader and end it when it leaves,
/// reporting to the page's own origin (the guard has checked it is allowed) and nowhere else.
async fn presence_register(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<PresenceBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let body = match json_body(body, BODY_LIMIT) {
        Ok(b) => b,
        Err((status, code, message)) => return failure(status, code, &message),
    };
    let Some(presence) = state.presence.as_ref() else {
        return failure(
            StatusCode::SERVICE_UNAVAILABLE,
            "presence_off",
            "this agent does not report card presence: set portal_ca_file in agent.toml (docs/card-agent.md)",
        );
    };
    let origin = request_origin(&headers);
    if !origin.starts_with("https://") {
        return failure(StatusCode::BAD_REQUEST, "insecure_origin", "card presence is reported to https portals only");
    }
    if !contract::valid_token(&body.token) {
        return failure(
            StatusCode::BAD_REQUEST,
            "bad_token",
            &format!("the token must be {} base64url characters (the page's data-presence)", contract::TOKEN_LEN),
        );
    }
    if !contract::valid_card_id(&body.card_id) {
        return failure(
            StatusCode::BAD_REQUEST,
            "bad_card_id",
            &format!("the card id must be {} lower-case hex digits, as /v1/cards lists it", contract::CARD_ID_LEN),
        );
    }
    presence.register(&origin, Token::new(body.token), &body.card_id);
    let report_to = format!("{origin}{}", contract::PATH);
    (StatusCode::ACCEPTED, Json(serde_json::json!({ "status": "registered", "report_to": report_to }))).into_response()
}

#[derive(Debug, serde::Deserialize)]
struct WaitQuery {
    wait: Option<u64>,
    seen: Option<String>,
}

async fn sign_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<WaitQuery>,
) -> Response {
    let origin = request_origin(&headers);
    // Another origin's operation is answered exactly like a missing one.
    let Some(op) = state.ops.get(&id).filter(|op| op.origin == origin) else {
        return failure(StatusCode::NOT_FOUND, "no_operation", "no such signing operation (it may have expired)");
    };
    // Long poll: wait while the operation is still where the caller last saw it (`seen`, default
    // `running`), at most `wait` seconds. A page that opened the PIN window polls with
    // `seen=pin_required` and is answered when the PIN has been typed.
    let wait = Duration::from_secs(q.wait.unwrap_or(0).min(LONG_POLL_MAX));
    let seen = match q.seen.as_deref() {
        None | Some("running") => "running",
        Some("pin_required") => "pin_required",
        Some(_) => return failure(StatusCode::BAD_REQUEST, "bad_request", "seen must be running or pin_required"),
    };
    let current = if wait.is_zero() { op.state() } else { op.wait_while(seen, wait).await };
    let mut response = Json(status_json(&state, &op, &current)).into_response();
    // A finished signature says where its time went (the card's share, the PIN wait, the agent's own).
    if let Some(value) = op.timing().and_then(|t| HeaderValue::from_str(&t.header()).ok()) {
        response.headers_mut().insert("server-timing", value);
    }
    response
}

/// `POST /v1/sign/{id}/cancel`: the page that started the operation ends it (its PIN window was closed by hand,
/// or it starts another login): the card is free at once rather than after the PIN timeout. Only the origin
/// that started it may, as only it may read it.
async fn sign_cancel(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let origin = request_origin(&headers);
    let Some(op) = state.ops.get(&id).filter(|op| op.origin == origin) else {
        return failure(StatusCode::NOT_FOUND, "no_operation", "no such signing operation (it may have expired)");
    };
    if op.cancel() {
        tracing::info!(op = %op.id, "cancelled by its page");
    }
    Json(status_json(&state, &op, &op.state())).into_response()
}

fn status_json(state: &AppState, op: &operations::Operation, s: &OpState) -> serde_json::Value {
    let id = op.id.as_str();
    match s {
        OpState::Running => serde_json::json!({ "id": id, "status": "running" }),
        OpState::PinRequired(PinQuestion { kind, role, tries_left, on_pad, .. }) => {
            let pin_url = (state.pin_entry == PinEntry::Web).then(|| format!("{}/pin/{id}", state.own_origin));
            serde_json::json!({
                "id": id, "status": "pin_required", "kind": kind, "role": role, "tries_left": tries_left, "pin_url": pin_url,
                "on_pad": on_pad, "confirm": op.confirms(),
            })
        }
        OpState::Done(signed) if op.purpose.is_document() => {
            serde_json::json!({ "id": id, "status": "done", "result": signed })
        }
        OpState::Done(signed) => serde_json::json!({
            "id": id,
            "status": "done",
            "result": signed,
            "message_format": "\"hcpki card login v1\" 00 origin 00 challenge, SHA-256, RSA PKCS#1 v1.5",
        }),
        OpState::Failed(f) => serde_json::json!({ "id": id, "status": "failed", "error": f }),
    }
}

/// What a portal page sends when it logs out: its sign-in's binding (and the key of the session it holds, if any).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionEndBody {
    binding: String,
}

/// `POST /v1/signing-session/end`: the page's origin ends its signing sessions under its sign-in (the portal's
/// logout). Answers how many ended; never says whether another origin or sign-in has one.
async fn session_end(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<SessionEndBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let body = match json_body(body, BODY_LIMIT) {
        Ok(b) => b,
        Err((status, code, message)) => return failure(status, code, &message),
    };
    let binding = crate::signing_session::Binding { origin: request_origin(&headers), portal: body.binding };
    let ended = state.sessions.end_binding(&binding);
    tracing::info!(origin = %binding.origin, ended, "signing sessions ended by their page (logout)");
    Json(serde_json::json!({ "ended": ended })).into_response()
}

async fn events(State(state): State<AppState>) -> impl IntoResponse {
    let rx = state.service.subscribe();
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        match rx.recv().await {
            Ok(event) => {
                let name = match &event {
                    crate::service::CardEvent::Inserted { .. } => "inserted",
                    crate::service::CardEvent::Removed { .. } => "removed",
                    crate::service::CardEvent::ReaderAdded { .. } => "reader_added",
                    crate::service::CardEvent::ReaderRemoved { .. } => "reader_removed",
                };
                Some((Event::default().event(name).json_data(&event), rx))
            }
            // A slow reader missed events: tell it to re-read /v1/cards rather than guess.
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                Some((Ok(Event::default().event("resync").data("{}")), rx))
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => None,
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

#[cfg(test)]
mod tests;
