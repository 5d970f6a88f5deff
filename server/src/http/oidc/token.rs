//! `POST /token`: the form and the connection's certificate into a [`TokenCall`], the answer as JSON with
//! `Cache-Control: no-store` (RFC 6749 §5.1).

use super::{Tls, certificate, context};
use crate::portal::PortalState;
use crate::web::oauth::{OAuthReply, OAuthResponse};
use axum::Json;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use hcpki_sso::token_endpoint::{self, Answer, TokenCall};
use std::collections::HashMap;

/// `POST /token`.
pub async fn token(
    State(state): State<PortalState>,
    tls: Tls,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, OAuthReply> {
    let dpop = super::dpop_proof(&headers);
    let with_nonce = dpop.is_some();
    let now = state.clock.now_unix();
    let call = TokenCall::parse(form, certificate(&tls)).with_credentials(super::authorization(&headers), dpop);
    let answer = match token_endpoint::token(context(&state), call, now).await {
        Ok(Answer::Issued(issued)) => no_store(Json(issued.body())),
        // RFC 8693 §2.2.1: no refresh or ID token.
        Ok(Answer::Exchanged(exchanged)) => no_store(Json(exchanged.body())),
        Ok(Answer::Scim(token)) => no_store(Json(token.body())),
        Err(e) => e.into_response(),
    };
    Ok(if with_nonce { super::with_dpop_nonce(&state, answer) } else { answer })
}

/// A token answer, which no cache may keep (RFC 6749 §5.1).
fn no_store(body: impl IntoResponse) -> Response {
    let mut response = body.into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
