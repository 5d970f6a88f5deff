//! `POST /token`: the form and the connection's certificate into a [`TokenCall`], the answer as JSON with
//! `Cache-Control: no-store` (RFC 6749 §5.1).

use super::{Tls, certificate, context};
use crate::delegation::exchange::{self, ExchangeCall};
use crate::oidc::OAuthError;
use crate::oidc::token::{self, TokenCall};
use crate::portal::PortalState;
use axum::Json;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;

/// `POST /token`.
pub async fn token(
    State(state): State<PortalState>,
    tls: Tls,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, OAuthError> {
    let dpop = super::dpop_proof(&headers);
    let with_nonce = dpop.is_some();
    let now = state.clock.now_unix();
    // RFC 8693 token exchange (D96): its own core, its own answer (no refresh or ID token).
    let answer = if form.get("grant_type").map(String::as_str) == Some(exchange::GRANT_TYPE) {
        let mut call = ExchangeCall::parse(form, certificate(&tls));
        call.credentials = call.credentials.with_authorization(super::authorization(&headers));
        call.dpop = dpop;
        exchange::token_exchange(context(&state), call, now).await.map(|exchanged| no_store(Json(exchanged.body())))
    } else {
        let mut call = TokenCall::parse(&form, certificate(&tls));
        call.credentials = call.credentials.with_authorization(super::authorization(&headers));
        call.dpop = dpop;
        token::token(context(&state), call, now).await.map(|issued| no_store(Json(issued.body())))
    };
    let answer = answer.unwrap_or_else(IntoResponse::into_response);
    Ok(if with_nonce { super::with_dpop_nonce(&state, answer) } else { answer })
}

/// A token answer, which no cache may keep (RFC 6749 §5.1).
fn no_store(body: impl IntoResponse) -> Response {
    let mut response = body.into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
