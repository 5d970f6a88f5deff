//! `POST /token`: the form and the connection's certificate into a [`TokenCall`], the answer as JSON with
//! `Cache-Control: no-store` (RFC 6749 §5.1).

use super::{Tls, certificate, context};
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
    // RFC 8693 token exchange (D96): its own core, its own answer (no refresh or ID token).
    if form.get("grant_type").map(String::as_str) == Some(crate::delegation::exchange::GRANT_TYPE) {
        let now = state.clock.now_unix();
        let credentials =
            crate::oidc::client::ClientCredentials::from_form(&form).with_authorization(super::authorization(&headers));
        let exchanged =
            crate::delegation::exchange::token_exchange(context(&state), credentials, &form, certificate(&tls), now)
                .await?;
        let mut response = Json(exchanged.body()).into_response();
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return Ok(response);
    }
    let mut call = TokenCall::parse(&form, certificate(&tls));
    call.credentials = call.credentials.with_authorization(super::authorization(&headers));
    call.dpop = super::dpop_proof(&headers);
    let dpop = call.dpop.is_some();
    let answer = match token::token(context(&state), call, state.clock.now_unix()).await {
        Ok(issued) => {
            let mut response = Json(issued.body()).into_response();
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(e) => e.into_response(),
    };
    Ok(if dpop { super::with_dpop_nonce(&state, answer) } else { answer })
}
