//! The token endpoint: `authorization_code` (single use; a second use revokes everything issued from it)
//! and `refresh_token` (rotated on every use; an old one presented again revokes the grant), and the
//! tokens themselves: the ID token and the RFC 9068 JWT access token, bound to the client certificate
//! (`cnf.x5t#S256`, RFC 8705 §3) when the client called over mutual TLS.

use super::claims::{AccessClaims, Confirmation, IdClaims, ServiceClaims, TokenResponse};
use super::client::{self, Client, Presented};
use super::exchange::{Exchange, GrantRequest, Granted, Refusal};
use super::{GrantData, OAuthError, Provider, random_token};
use crate::portal::refusals::named;
use crate::portal::{self, PortalState};
use axum::Json;
use axum::extract::{Extension, Form, State};
use axum::response::{IntoResponse, Response};
use axum_server::tls::TlsInfo;
use base64::Engine as _;
use hcpki_ca::audit::Outcome;
use hcpki_ca::store::GrantRecord;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

/// `POST /token`.
pub async fn token(
    State(state): State<PortalState>,
    tls: Option<Extension<Arc<TlsInfo>>>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, OAuthError> {
    let audiences = super::endpoints::audiences(&state.oidc, "/token");
    let certificate = tls.as_ref().and_then(|t| t.0.peer_certificates.first()).map(|c| c.as_ref());
    let verified = match client::verify(&state.oidc.clients, &Presented { form: &form, certificate, audiences }).await {
        Ok(v) => v,
        Err(e) => return Err(super::refused::client(&state, "/token", &form, e).await),
    };
    let client = verified.client;
    // What the client presented; a malformed request still spends the assertion's jti (below).
    let presented = presented(&form);
    let (request, early) = match presented {
        Ok(p) => (Some(p), None),
        Err(e) => (None, Some(e)),
    };
    let refresh = match &request {
        Some(GrantRequest::Code { refresh, .. }) => Some(refresh.clone()),
        Some(GrantRequest::Refresh { new, .. }) => Some(new.clone()),
        None => None,
    };
    let exchange = Exchange { client_id: client.id.clone(), once: verified.once, request };
    let grant = match state.oidc.exchanges.exchange(exchange).await {
        Ok(grant) => grant,
        Err(Refusal::AssertionReplayed) => {
            return Err(super::refused::client(&state, "/token", &form, client::assertion_replayed()).await);
        }
        Err(Refusal::Replayed { grant, what, error }) => {
            replayed(&state, &client, &grant, what).await;
            return Err(error);
        }
        Err(Refusal::Refused(e)) => return Err(refused(&state, &client, &form, e).await),
    };
    let (Some(Granted { grant, data }), Some(refresh)) = (grant, refresh) else {
        let e = early.unwrap_or_else(|| OAuthError::invalid_request("no grant was presented"));
        return Err(refused(&state, &client, &form, e).await);
    };
    let now = hcpki_ca::time::now_unix();
    let cnf = certificate.map(|c| Confirmation { x5t_s256: super::jws::sha256_b64(c) });
    let access = access_token(&state.oidc, &client, &grant, &data, cnf, now)?;
    let id_token = id_token(&state.oidc, &client, &data, Some(&access), now)?;
    let body = TokenResponse {
        access_token: &access,
        expires_in: state.oidc.lifetimes.access_token,
        id_token: &id_token,
        refresh_token: &refresh,
        scope: &data.scope,
        token_type: "Bearer",
    };
    let mut response = Json(body).into_response();
    response.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Audit a refused grant request of an authenticated client as `oidc.token` (a wrong redirect URI or PKCE
/// verifier, an unknown, expired or malformed code or refresh token, an unsupported grant type), with the
/// grant the code or refresh token names (its id, never its secret); the refusal to send.
async fn refused(state: &PortalState, client: &Client, form: &HashMap<String, String>, e: OAuthError) -> OAuthError {
    let grant_type = form.get("grant_type").map(|g| named(Some(g)));
    let token = match grant_type.as_deref() {
        Some("authorization_code") => form.get("code"),
        Some("refresh_token") => form.get("refresh_token"),
        _ => None,
    };
    let grant = token.and_then(|t| t.split_once('.')).map(|(id, _)| named(Some(id)));
    super::refused::request(state, &client.id, "oidc.token", e, json!({ "grant_type": grant_type, "grant": grant }))
        .await
}

/// A new refresh token for the grant `token` (a code or refresh token) names: `<grant id>.<secret>`.
pub fn successor(token: &str) -> Result<String, OAuthError> {
    let id = token.split_once('.').map_or(token, |(id, _)| id);
    Ok(format!("{id}.{}", random_token(32)?))
}

/// The grant request in the form, with the refresh token to hand out if it is accepted.
fn presented(form: &HashMap<String, String>) -> Result<GrantRequest, OAuthError> {
    let get = |k: &str| form.get(k).map(String::as_str).filter(|v| !v.is_empty());
    match get("grant_type") {
        Some("authorization_code") => {
            let code = get("code").ok_or_else(|| OAuthError::invalid_request("code is missing"))?;
            Ok(GrantRequest::Code {
                code: code.to_owned(),
                redirect_uri: get("redirect_uri").map(str::to_owned),
                verifier: get("code_verifier").map(str::to_owned),
                refresh: successor(code)?,
            })
        }
        Some("refresh_token") => {
            let old = get("refresh_token").ok_or_else(|| OAuthError::invalid_request("refresh_token is missing"))?;
            Ok(GrantRequest::Refresh { old: old.to_owned(), new: successor(old)? })
        }
        Some(other) => Err(OAuthError::new("unsupported_grant_type", format!("grant_type {other} is not supported"))),
        None => Err(OAuthError::invalid_request("grant_type is missing")),
    }
}

async fn replayed(state: &PortalState, client: &Client, grant: &GrantRecord, what: &str) {
    let detail = json!({ "grant": grant.id, "reason": what });
    portal::audit(&state.store, &format!("oidc:{}", client.id), "oidc.token", &client.id, Outcome::Denied, detail)
        .await;
}

/// An RFC 9068 access token.
fn access_token(
    provider: &Provider,
    client: &Client,
    grant: &GrantRecord,
    data: &GrantData,
    cnf: Option<Confirmation>,
    now: i64,
) -> Result<String, OAuthError> {
    let claims = AccessClaims {
        acr: &data.acr,
        aud: &client.id,
        auth_time: data.auth_time,
        client_id: &client.id,
        cnf,
        exp: now + provider.lifetimes.access_token,
        gid: &grant.id,
        iat: now,
        iss: &provider.issuer,
        jti: random_token(16)?,
        scope: &data.scope,
        sub: &data.sub,
    };
    provider.sign(client.config.id_token_signed_response_alg, "at+jwt", &claims)
}

/// The ID token (OIDC Core §2), with `at_hash` when an access token goes with it.
pub fn id_token(
    provider: &Provider,
    client: &Client,
    data: &GrantData,
    access: Option<&str>,
    now: i64,
) -> Result<String, OAuthError> {
    let at_hash = access.map(|at| {
        let hash = super::jws::sha256(at.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hash.get(..16).unwrap_or_default())
    });
    let claims = IdClaims {
        acr: &data.acr,
        amr: &data.amr,
        at_hash,
        aud: &client.id,
        auth_time: data.auth_time,
        azp: &client.id,
        exp: now + provider.lifetimes.id_token,
        iat: now,
        iss: &provider.issuer,
        nonce: data.nonce.as_deref(),
        sid: &data.sid,
        sub: &data.sub,
        service: ServiceClaims(&data.claims),
    };
    provider.sign(client.config.id_token_signed_response_alg, "JWT", &claims)
}
