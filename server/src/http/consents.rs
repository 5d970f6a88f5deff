//! The axum adapters of the consent API (issue #28 steps 2, 6, 7): read the client's credentials (form or JSON
//! body, or the query of a GET), the bearer access token and the connection's certificate, call
//! [`hcpki_sso::consent::api`], answer JSON (errors in the OAuth shape). No decision is made here.

use super::oidc::{Tls, certificate, context};
use super::signing_requests::{fields, no_store};
use crate::portal::PortalState;
use crate::web::oauth::OAuthResponse;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hcpki_model::ConsentId;
use hcpki_sso::consent::{api, network_api};
use hcpki_sso::oidc::OAuthError;
use hcpki_sso::oidc::client::ClientCredentials;
use serde_json::json;
use std::collections::HashMap;

/// `POST /api/v1/consents`: 201 `{id, consent_url, status_url, expires_at, state}` with `Location`.
pub async fn create(State(state): State<PortalState>, tls: Tls, headers: HeaderMap, body: Bytes) -> Response {
    let fields = match fields(&headers, &body) {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let credentials = ClientCredentials::from_form(&fields);
    let bearer = crate::web::headers::bearer_token(&headers);
    let now_ms = state.clock.now_unix_ms();
    let ctx = context(&state);
    match api::create(ctx, &state.consent, &credentials, certificate(&tls), bearer, &fields, now_ms).await {
        Ok(c) => {
            let body = json!({ "id": c.id, "consent_url": c.page_url, "status_url": c.status_url,
                "expires_at": c.expires_at, "state": "requested" });
            let mut response = (StatusCode::CREATED, Json(body)).into_response();
            if let Ok(v) = HeaderValue::from_str(&c.status_url) {
                response.headers_mut().insert(header::LOCATION, v);
            }
            no_store(response)
        }
        Err(e) => e.into_response(),
    }
}

/// `GET /api/v1/consents?facility=&patient=&purpose=` (credentials in the query), or `POST` with a form: the
/// live consent.
pub async fn check_get(
    State(state): State<PortalState>,
    tls: Tls,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    check(&state, &tls, &q).await
}

/// `POST /api/v1/consents/check`: as [`check_get`], for clients that keep assertions and patient IDs out of URLs.
pub async fn check_post(State(state): State<PortalState>, tls: Tls, headers: HeaderMap, body: Bytes) -> Response {
    match fields(&headers, &body) {
        Ok(form) => check(&state, &tls, &form).await,
        Err(e) => e.into_response(),
    }
}

async fn check(state: &PortalState, tls: &Tls, fields: &HashMap<String, String>) -> Response {
    let credentials = ClientCredentials::from_form(fields);
    let now_ms = state.clock.now_unix_ms();
    match api::check(context(state), &credentials, certificate(tls), fields, now_ms).await {
        Ok(body) => no_store(Json(body).into_response()),
        Err(e) => e.into_response(),
    }
}

/// `GET /api/v1/consents/{id}` with the client's credentials in the query.
pub async fn status_get(
    State(state): State<PortalState>,
    tls: Tls,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    status(&state, &tls, &id, &query).await
}

/// `POST /api/v1/consents/{id}` with the client's credentials as a form (or JSON) body.
pub async fn status_post(
    State(state): State<PortalState>,
    tls: Tls,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match fields(&headers, &body) {
        Ok(form) => status(&state, &tls, &id, &form).await,
        Err(e) => e.into_response(),
    }
}

async fn status(state: &PortalState, tls: &Tls, id: &str, fields: &HashMap<String, String>) -> Response {
    // The path's id is parsed once, here: a text that is no consent id is malformed (400), not unknown (404).
    let id = match ConsentId::parse(id) {
        Ok(id) => id,
        Err(e) => return OAuthError::invalid_request(e.to_string()).into_response(),
    };
    let credentials = ClientCredentials::from_form(fields);
    let now_ms = state.clock.now_unix_ms();
    match api::status(context(state), &credentials, certificate(tls), &id, now_ms).await {
        Ok(body) => no_store(Json(body).into_response()),
        Err(e) => e.into_response(),
    }
}

/// `GET /api/v1/consent-events?since=` (credentials in the query), or `POST` with a form.
pub async fn events_get(
    State(state): State<PortalState>,
    tls: Tls,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    events(&state, &tls, &q).await
}

/// `POST /api/v1/consent-events`.
pub async fn events_post(State(state): State<PortalState>, tls: Tls, headers: HeaderMap, body: Bytes) -> Response {
    match fields(&headers, &body) {
        Ok(form) => events(&state, &tls, &form).await,
        Err(e) => e.into_response(),
    }
}

async fn events(state: &PortalState, tls: &Tls, fields: &HashMap<String, String>) -> Response {
    let credentials = ClientCredentials::from_form(fields);
    let now_ms = state.clock.now_unix_ms();
    match api::events(context(state), &credentials, certificate(tls), fields, now_ms).await {
        Ok(body) => no_store(Json(body).into_response()),
        Err(e) => e.into_response(),
    }
}

/// `POST /api/v1/network-consents/check` (D169): a regional network's member service asks whether the consent of
/// the patient it holds (its pairwise reference) is live or withdrawn.
pub async fn network_check(State(state): State<PortalState>, tls: Tls, headers: HeaderMap, body: Bytes) -> Response {
    let fields = match fields(&headers, &body) {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let credentials = ClientCredentials::from_form(&fields);
    let now_ms = state.clock.now_unix_ms();
    let answer = network_api::check(context(&state), &credentials, certificate(&tls), &fields, now_ms).await;
    match answer {
        Ok(body) => no_store(Json(body).into_response()),
        Err(e) => e.into_response(),
    }
}

/// `GET /api/v1/network-consent-events?network=&since=` (credentials in the query), the members' withdrawal feed.
pub async fn network_events_get(
    State(state): State<PortalState>,
    tls: Tls,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    network_events(&state, &tls, &q).await
}

/// `POST /api/v1/network-consent-events`.
pub async fn network_events_post(
    State(state): State<PortalState>,
    tls: Tls,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match fields(&headers, &body) {
        Ok(form) => network_events(&state, &tls, &form).await,
        Err(e) => e.into_response(),
    }
}

async fn network_events(state: &PortalState, tls: &Tls, fields: &HashMap<String, String>) -> Response {
    let credentials = ClientCredentials::from_form(fields);
    let now_ms = state.clock.now_unix_ms();
    match network_api::events(context(state), &credentials, certificate(tls), fields, now_ms).await {
        Ok(body) => no_store(Json(body).into_response()),
        Err(e) => e.into_response(),
    }
}
