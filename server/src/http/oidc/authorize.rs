//! `GET|POST /authorize` and `POST /par`: the parameters, the session cookie and the connection's certificate
//! into the core's call; its answer as a redirect (303), an error page, or the OAuth error of a failure.

use super::{Tls, certificate, context};
use crate::portal::{self, PortalState};
use crate::web::oauth::{OAuthReply, OAuthResponse};
use axum::Json;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use hcpki_sso::oidc::authorize::{self, AuthorizeAnswer, AuthorizeCall, PageStatus, ParCall, SessionLookup};
use std::collections::HashMap;

/// `GET /authorize`.
pub async fn authorize(
    State(state): State<PortalState>,
    tls: Tls,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    run(&state, &tls, &headers, query).await
}

/// `POST /authorize` (form-encoded parameters, OIDC Core §3.1.2.1).
pub async fn authorize_post(
    State(state): State<PortalState>,
    tls: Tls,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    run(&state, &tls, &headers, form).await
}

async fn run(state: &PortalState, tls: &Tls, headers: &HeaderMap, params: HashMap<String, String>) -> Response {
    let session = SessionLookup { sessions: &state.sessions, cookie: portal::cookie::session_cookie(headers) };
    // The portal pages' language switch, should the answer be a page (unknown to OAuth, ignored by it).
    let switch = params.get("lang").map(|l| format!("lang={l}"));
    let lang = portal::lang::negotiate(switch.as_deref(), headers);
    let call = AuthorizeCall { params, session, certificate: certificate(tls), confirmed: None };
    match authorize::authorize(context(state), call, state.clock.now_unix()).await {
        AuthorizeAnswer::Redirect(to) => Redirect::to(&to).into_response(),
        AuthorizeAnswer::Refused { status, message } => {
            let status = match status {
                PageStatus::BadRequest => StatusCode::BAD_REQUEST,
            };
            portal::refused_page(lang, status, &message)
        }
        AuthorizeAnswer::Problem { problem, detail } => portal::problem_page(lang, &problem, detail.as_deref()),
        AuthorizeAnswer::Failed(e) => e.into_response(),
    }
}

/// `POST /par` (RFC 9126): 201 with the `request_uri`.
pub async fn par(
    State(state): State<PortalState>,
    tls: Tls,
    headers: axum::http::HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, OAuthReply> {
    let mut call = ParCall::parse(form, certificate(&tls));
    call.credentials = call.credentials.with_authorization(super::authorization(&headers));
    call.dpop = super::dpop_proof(&headers);
    let dpop = call.dpop.is_some();
    let answer = match authorize::par(context(&state), call, state.clock.now_unix()).await {
        Ok(pushed) => (StatusCode::CREATED, Json(pushed)).into_response(),
        Err(e) => e.into_response(),
    };
    Ok(if dpop { super::with_dpop_nonce(&state, answer) } else { answer })
}
