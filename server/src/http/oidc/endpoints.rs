//! Discovery, JWKS, userinfo, introspection and revocation: extract, call the core
//! ([`crate::oidc::endpoints`]), answer.

use super::{Tls, certificate, context};
use crate::http::headers::with_header;
use crate::oidc::OAuthError;
use crate::oidc::endpoints::{self, TokenQuery, Userinfo, UserinfoError};
use crate::portal::PortalState;
use axum::Json;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;

/// `GET /.well-known/openid-configuration`.
pub async fn discovery(State(state): State<PortalState>) -> Json<Value> {
    Json(endpoints::discovery(&state.oidc))
}

/// `GET /jwks`.
pub async fn jwks(State(state): State<PortalState>) -> Json<Value> {
    Json(endpoints::jwks(&state.oidc))
}

/// `GET|POST /userinfo` with a bearer access token (RFC 6750 §2.1).
pub async fn userinfo(State(state): State<PortalState>, tls: Tls, headers: HeaderMap) -> Response {
    let token = crate::http::headers::bearer_token(&headers);
    match endpoints::userinfo(context(&state), token, certificate(&tls), state.clock.now_unix()).await {
        Ok(Userinfo::Json(body)) => Json(body).into_response(),
        Ok(Userinfo::Jwt(jwt)) => ([(header::CONTENT_TYPE, "application/jwt")], jwt).into_response(),
        Err(UserinfoError::Bearer { error, description }) => bearer_error(error, description),
        Err(UserinfoError::Failed(e)) => e.into_response(),
    }
}

/// A 401 with `WWW-Authenticate: Bearer error="…"` (RFC 6750 §3).
fn bearer_error(error: &str, description: &str) -> Response {
    let response =
        (StatusCode::UNAUTHORIZED, Json(json!({ "error": error, "error_description": description }))).into_response();
    with_header(response, header::WWW_AUTHENTICATE, &format!("Bearer error=\"{error}\""))
}

/// `POST /introspect` (RFC 7662).
pub async fn introspect(
    State(state): State<PortalState>,
    tls: Tls,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Json<Value>, OAuthError> {
    let mut query = TokenQuery::parse(&form, certificate(&tls));
    query.credentials = query.credentials.with_authorization(super::authorization(&headers));
    Ok(Json(endpoints::introspect(context(&state), query, state.clock.now_unix()).await?))
}

/// `POST /revoke` (RFC 7009).
pub async fn revoke(
    State(state): State<PortalState>,
    tls: Tls,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<StatusCode, OAuthError> {
    let mut query = TokenQuery::parse(&form, certificate(&tls));
    query.credentials = query.credentials.with_authorization(super::authorization(&headers));
    endpoints::revoke(context(&state), query, state.clock.now_unix()).await?;
    Ok(StatusCode::OK)
}
