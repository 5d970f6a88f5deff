//! The axum adapters of the signing-request API (issue #27 item 3): read the client's credentials (form or
//! JSON body, or the query of a GET), the bearer access token and the connection's certificate, call
//! [`hcpki_sso::signing_requests`], answer JSON (errors in the OAuth shape). No decision is made here.

use super::oidc::{Tls, certificate, context};
use super::tsa_client::TimeStamps;
use crate::portal::PortalState;
use crate::web::oauth::OAuthResponse;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hcpki_docsig::timestamp::client::Stamp;
use hcpki_model::SigningRequestId;
use hcpki_sso::desk::signature::SignatureTimeStamps;
use hcpki_sso::oidc::OAuthError;
use hcpki_sso::oidc::client::ClientCredentials;
use hcpki_sso::signing_requests;
use serde_json::{Value, json};
use std::collections::HashMap;

/// `POST /api/v1/signing-requests`: 201 `{id, sign_url, status_url, expires_at}` with `Location`.
pub async fn create(State(state): State<PortalState>, tls: Tls, headers: HeaderMap, body: Bytes) -> Response {
    let fields = match fields(&headers, &body) {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let credentials = ClientCredentials::from_form(&fields);
    let bearer = crate::web::headers::bearer_token(&headers);
    let now_ms = state.clock.now_unix_ms();
    match signing_requests::create(context(&state), &credentials, certificate(&tls), bearer, &fields, now_ms).await {
        Ok(c) => {
            let body = json!({ "id": c.id, "sign_url": c.page_url, "status_url": c.status_url,
                "expires_at": c.expires_at, "state": "pending" });
            let mut response = (StatusCode::CREATED, Json(body)).into_response();
            if let Ok(v) = HeaderValue::from_str(&c.status_url) {
                response.headers_mut().insert(header::LOCATION, v);
            }
            no_store(response)
        }
        Err(e) => e.into_response(),
    }
}

/// `GET /api/v1/signing-requests/{id}` with the client's credentials in the query.
pub async fn status_get(
    State(state): State<PortalState>,
    tls: Tls,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    status(&state, &tls, &id, &query).await
}

/// `POST /api/v1/signing-requests/{id}` with the client's credentials as a form (or JSON) body: the same answer
/// as the GET, for clients that keep assertions out of URLs.
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
    // The path's id is parsed once, here: a text that is no request id is malformed (400), not unknown (404).
    let id = match SigningRequestId::parse(id) {
        Ok(id) => id,
        Err(e) => return OAuthError::invalid_request(e.to_string()).into_response(),
    };
    let credentials = ClientCredentials::from_form(fields);
    let now_ms = state.clock.now_unix_ms();
    match signing_requests::status(context(state), &credentials, certificate(tls), &id, now_ms).await {
        Ok(s) => no_store(Json(s.to_json()).into_response()),
        Err(e) => e.into_response(),
    }
}

/// A body's fields: a JSON object of strings, or a form.
pub(super) fn fields(headers: &HeaderMap, body: &[u8]) -> Result<HashMap<String, String>, OAuthError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.trim_start().to_ascii_lowercase().starts_with("application/json"));
    if !json {
        return serde_urlencoded::from_bytes(body).map_err(|_| {
            OAuthError::invalid_request("the body is not a form: send application/x-www-form-urlencoded or JSON")
        });
    }
    let value: Value =
        serde_json::from_slice(body).map_err(|e| OAuthError::invalid_request(format!("the body is not JSON: {e}")))?;
    let Value::Object(map) = value else {
        return Err(OAuthError::invalid_request("the JSON body must be an object of strings"));
    };
    map.into_iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k, s)),
            _ => Err(OAuthError::invalid_request(format!("{k} must be a string"))),
        })
        .collect()
}

pub(super) fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The signers' TSA list serves signing requests' B-T time stamps.
#[async_trait::async_trait]
impl SignatureTimeStamps for TimeStamps {
    async fn stamp(&self, digest: &[u8; 32]) -> Result<(Stamp, String), String> {
        match TimeStamps::stamp(self, digest).await {
            Ok(stamped) => {
                for failed in &stamped.failed {
                    tracing::warn!(tsa = %failed, "a TSA gave no valid time stamp; the next one was asked");
                }
                Ok((stamped.stamp, stamped.url))
            }
            Err(e) => Err(e.to_string()),
        }
    }
}
