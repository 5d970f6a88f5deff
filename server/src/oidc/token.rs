//! The token endpoint: `authorization_code` (single use; a second use revokes everything issued from it)
//! and `refresh_token` (rotated on every use; an old one presented again revokes the grant), and the
//! tokens themselves: the ID token and the RFC 9068 JWT access token, bound to the client certificate
//! (`cnf.x5t#S256`, RFC 8705 §3) when the client called over mutual TLS.

use super::client::{self, Client, Presented};
use super::{GrantData, OAuthError, Provider, hash_secret, random_token};
use crate::portal::{self, PortalState};
use axum::Json;
use axum::extract::{Extension, Form, State};
use axum::response::{IntoResponse, Response};
use axum_server::tls::TlsInfo;
use base64::Engine as _;
use hcpki_ca::audit::Outcome;
use hcpki_ca::store::{GrantRecord, GrantUse};
use serde_json::{Value, json};
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
    let client =
        match client::authenticate(&state.oidc.clients, &Presented { form: &form, certificate, audiences }).await {
            Ok(c) => c,
            Err(e) => {
                let who = form.get("client_id").cloned().unwrap_or_else(|| "-".into());
                portal::audit(
                    &state.store,
                    "oidc:anonymous",
                    "oidc.client.authenticate",
                    &who,
                    Outcome::Denied,
                    json!({ "reason": e.description }),
                )
                .await;
                return Err(e);
            }
        };
    let get = |k: &str| form.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let now = hcpki_ca::time::now_unix();
    let (grant, refresh) = match get("grant_type") {
        Some("authorization_code") => {
            let code = get("code").ok_or_else(|| OAuthError::invalid_request("code is missing"))?;
            redeem_code(&state, &client, code, get("redirect_uri"), get("code_verifier"), now).await?
        }
        Some("refresh_token") => {
            let old = get("refresh_token").ok_or_else(|| OAuthError::invalid_request("refresh_token is missing"))?;
            let (id, _) = old.split_once('.').ok_or_else(|| OAuthError::invalid_grant("malformed refresh token"))?;
            let grant = owned_grant(&state, &client, id).await?;
            let new = format!("{}.{}", grant.id, random_token(32)?);
            match state
                .store
                .oidc_rotate_refresh(&grant.id, &hash_secret(old), &hash_secret(&new), now)
                .await
                .map_err(OAuthError::server)?
            {
                GrantUse::Accepted(g) => (g, new),
                GrantUse::Replayed(g) => {
                    replayed(&state, &client, &g, "refresh token reused after rotation").await;
                    return Err(OAuthError::invalid_grant(
                        "refresh token already used: the grant is revoked, log in again",
                    ));
                }
                GrantUse::Refused => {
                    return Err(OAuthError::invalid_grant("refresh token unknown, expired or revoked"));
                }
            }
        }
        Some(other) => {
            return Err(OAuthError::new("unsupported_grant_type", format!("grant_type {other} is not supported")));
        }
        None => return Err(OAuthError::invalid_request("grant_type is missing")),
    };
    let data = GrantData::of(&grant)?;
    let cnf = certificate.map(|c| json!({ "x5t#S256": super::jws::sha256_b64(c) }));
    let access = access_token(&state.oidc, &client, &grant, &data, cnf.as_ref(), now)?;
    let id_token = id_token(&state.oidc, &client, &data, Some(&access), now)?;
    let body = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": state.oidc.lifetimes.access_token,
        "refresh_token": refresh,
        "id_token": id_token,
        "scope": data.scope,
    });
    let mut response = Json(body).into_response();
    response.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Check the code against its grant (client, redirect URI, PKCE), then redeem it once; the grant and its
/// first refresh token.
async fn redeem_code(
    state: &PortalState,
    client: &Client,
    code: &str,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
    now: i64,
) -> Result<(GrantRecord, String), OAuthError> {
    let (id, _) = code.split_once('.').ok_or_else(|| OAuthError::invalid_grant("malformed code"))?;
    let grant = owned_grant(state, client, id).await?;
    let data = GrantData::of(&grant)?;
    let refresh = format!("{}.{}", grant.id, random_token(32)?);
    if grant.state == "code" {
        if redirect_uri != Some(data.redirect_uri.as_str()) {
            return Err(OAuthError::invalid_grant("redirect_uri differs from the authorization request's"));
        }
        let verifier = verifier.ok_or_else(|| OAuthError::invalid_grant("code_verifier is missing (PKCE)"))?;
        let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(super::jws::sha256(verifier.as_bytes()));
        if computed != data.code_challenge {
            return Err(OAuthError::invalid_grant("code_verifier does not match the code_challenge (PKCE S256)"));
        }
    }
    let store = &state.store;
    let expires = (now + state.oidc.lifetimes.refresh_token).min(data.session_expires_at.unwrap_or(i64::MAX));
    match store
        .oidc_redeem_code(&grant.id, &hash_secret(code), &hash_secret(&refresh), expires, now)
        .await
        .map_err(OAuthError::server)?
    {
        GrantUse::Accepted(g) => Ok((g, refresh)),
        GrantUse::Replayed(g) => {
            replayed(state, client, &g, "authorization code reused").await;
            Err(OAuthError::invalid_grant("the code was already used: every token issued from it is revoked"))
        }
        GrantUse::Refused => Err(OAuthError::invalid_grant("the code is unknown, expired or revoked")),
    }
}

/// A grant of this client (another client's code or refresh token is `invalid_grant`, RFC 6749 §5.2).
async fn owned_grant(state: &PortalState, client: &Client, id: &str) -> Result<GrantRecord, OAuthError> {
    match state.store.oidc_grant(id).await.map_err(OAuthError::server)? {
        Some(g) if g.client_id == client.id => Ok(g),
        _ => Err(OAuthError::invalid_grant("unknown code or refresh token")),
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
    cnf: Option<&Value>,
    now: i64,
) -> Result<String, OAuthError> {
    let mut claims = json!({
        "iss": provider.issuer,
        "sub": data.sub,
        "aud": client.id,
        "client_id": client.id,
        "exp": now + provider.lifetimes.access_token,
        "iat": now,
        "jti": random_token(16)?,
        "scope": data.scope,
        "auth_time": data.auth_time,
        "acr": data.acr,
        "gid": grant.id,
    });
    if let (Some(cnf), Some(map)) = (cnf, claims.as_object_mut()) {
        map.insert("cnf".into(), cnf.clone());
    }
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
    let mut claims = json!({
        "iss": provider.issuer,
        "sub": data.sub,
        "aud": client.id,
        "azp": client.id,
        "exp": now + provider.lifetimes.id_token,
        "iat": now,
        "auth_time": data.auth_time,
        "acr": data.acr,
        "amr": data.amr,
        "sid": data.sid,
    });
    if let Some(map) = claims.as_object_mut() {
        if let Some(nonce) = &data.nonce {
            map.insert("nonce".into(), json!(nonce));
        }
        if let Some(at) = access {
            let hash = super::jws::sha256(at.as_bytes());
            let half = hash.get(..16).unwrap_or_default();
            map.insert("at_hash".into(), json!(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(half)));
        }
        if let Some(extra) = data.claims.as_object() {
            for (k, v) in extra {
                map.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
    }
    provider.sign(client.config.id_token_signed_response_alg, "JWT", &claims)
}
