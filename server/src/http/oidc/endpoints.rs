//! Discovery, JWKS, userinfo, introspection and revocation: extract, call the core
//! ([`hcpki_sso::oidc::endpoints`]), answer.

use super::{Tls, certificate, context};
use crate::portal::PortalState;
use crate::web::headers::with_header;
use crate::web::oauth::{OAuthReply, OAuthResponse};
use axum::Json;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hcpki_sso::oidc::endpoints::{self, AccessPresented, DpopPresented, TokenQuery, Userinfo, UserinfoError};
use serde_json::{Value, json};
use std::collections::HashMap;

/// `GET /.well-known/openid-configuration`.
pub async fn discovery(State(state): State<PortalState>) -> Json<Value> {
    Json(hcpki_sso::oidc::discovery::discovery(&state.oidc))
}

/// `GET /jwks`.
pub async fn jwks(State(state): State<PortalState>) -> Json<Value> {
    Json(endpoints::jwks(&state.oidc))
}

/// `GET|POST /userinfo` with a bearer access token (RFC 6750 §2.1), or a DPoP-bound one with its proof
/// (`Authorization: DPoP`, RFC 9449 §7.1).
pub async fn userinfo(State(state): State<PortalState>, method: Method, tls: Tls, headers: HeaderMap) -> Response {
    let dpop_token = dpop_token(&headers);
    let presented = match dpop_token {
        Some(token) => AccessPresented {
            token: Some(token),
            dpop: Some(DpopPresented { proof: super::dpop_proof(&headers), method: method.as_str() }),
        },
        None => AccessPresented::bearer(crate::web::headers::bearer_token(&headers)),
    };
    let answer = match endpoints::userinfo(context(&state), presented, certificate(&tls), state.clock.now_unix()).await
    {
        Ok(Userinfo::Json(body)) => Json(body).into_response(),
        Ok(Userinfo::Jwt(jwt)) => ([(header::CONTENT_TYPE, "application/jwt")], jwt).into_response(),
        Err(UserinfoError::Bearer { error, description }) => bearer_error(error, description),
        Err(UserinfoError::Dpop { error, description }) => dpop_error(error, &description),
        Err(UserinfoError::Failed(e)) => e.into_response(),
    };
    if dpop_token.is_some() { super::with_dpop_nonce(&state, answer) } else { answer }
}

/// The access token of `Authorization: DPoP <token>` (RFC 9449 §7.1); the scheme name is case-insensitive.
fn dpop_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim_start_matches(' ');
    (scheme.eq_ignore_ascii_case("dpop") && !token.is_empty()).then_some(token)
}

/// A 401 with `WWW-Authenticate: DPoP error="…", algs="…"` (RFC 9449 §7.1).
fn dpop_error(error: &str, description: &str) -> Response {
    let response =
        (StatusCode::UNAUTHORIZED, Json(json!({ "error": error, "error_description": description }))).into_response();
    let algs = hcpki_sso::oidc::dpop::ALGS.join(" ");
    with_header(response, header::WWW_AUTHENTICATE, &format!("DPoP error=\"{error}\", algs=\"{algs}\""))
}

/// A 401 with `WWW-Authenticate: Bearer error="…"` (RFC 6750 §3).
fn bearer_error(error: &str, description: &str) -> Response {
    let response =
        (StatusCode::UNAUTHORIZED, Json(json!({ "error": error, "error_description": description }))).into_response();
    with_header(response, header::WWW_AUTHENTICATE, &format!("Bearer error=\"{error}\""))
}

/// What `/introspect`, `/presence/introspect` and `/revoke` read alike: the form and the client's credentials
/// (form, `Authorization` header, mutual-TLS certificate).
fn client_query<'a>(form: &HashMap<String, String>, tls: &'a Tls, headers: &HeaderMap) -> TokenQuery<'a> {
    let mut query = TokenQuery::parse(form, certificate(tls));
    query.credentials = query.credentials.with_authorization(super::authorization(headers));
    query
}

/// `POST /introspect` (RFC 7662).
pub async fn introspect(
    State(state): State<PortalState>,
    tls: Tls,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Json<Value>, OAuthReply> {
    let query = client_query(&form, &tls, &headers);
    Ok(Json(endpoints::introspect(context(&state), query, state.clock.now_unix()).await?))
}

/// `POST /presence/introspect`: a service asks about a patient-presence proof (D148), authenticated as for
/// `/introspect`.
pub async fn presence_introspect(
    State(state): State<PortalState>,
    tls: Tls,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Json<Value>, OAuthReply> {
    let query = client_query(&form, &tls, &headers);
    let asked = hcpki_sso::presence::Asked::parse(&form);
    Ok(Json(hcpki_sso::presence::introspect(context(&state), query, asked, state.clock.now_unix()).await?))
}

/// `POST /revoke` (RFC 7009).
pub async fn revoke(
    State(state): State<PortalState>,
    tls: Tls,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<StatusCode, OAuthReply> {
    let query = client_query(&form, &tls, &headers);
    endpoints::revoke(context(&state), query, state.clock.now_unix()).await?;
    Ok(StatusCode::OK)
}
