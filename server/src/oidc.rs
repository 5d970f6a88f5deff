//! The OpenID Connect provider of the SSO portal (issue #6, D24): discovery, JWKS, authorization code flow
//! with PKCE (S256 only) and PAR, tokens (ID token, RFC 9068 JWT access tokens bound to the client
//! certificate per RFC 8705, rotating refresh tokens), userinfo, introspection, revocation, RP-initiated
//! and back-channel logout.
//!
//! Who may open which service is `policy::decide`'s; this module only turns its answer into protocol.
//! Tokens are signed through a `KeySource` ([`jws::Signer`]), so the key can live on a PKCS#11 token.

pub mod authorize;
pub mod backchannel;
pub mod claims;
pub mod client;
pub mod endpoints;
pub mod exchange;
pub mod jws;
pub mod keys;
pub mod refused;
pub mod registration;
pub mod token;

use crate::policy::Claims;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hcpki_ca::store::{GrantRecord, Store, StoreError};
use serde_json::{Value, json};
use std::sync::Arc;

/// Lifetimes, in seconds.
#[derive(Clone, Copy, Debug)]
pub struct Lifetimes {
    /// Authorization codes (RFC 6749 §4.1.2 recommends at most 10 minutes).
    pub code: i64,
    /// ID tokens.
    pub id_token: i64,
    /// Access tokens.
    pub access_token: i64,
    /// Refresh tokens (each rotation keeps the grant's deadline).
    pub refresh_token: i64,
    /// Pushed authorization requests (RFC 9126 §2.2: short).
    pub par: i64,
    /// A pushed request kept while the person logs in, under a new single-use `request_uri` (the login's
    /// return trip): long enough to find the card and type the PIN.
    pub par_login: i64,
}

/// The provider: issuer, signing key, database.
#[derive(Debug)]
pub struct Provider {
    /// `iss`, `https://host:port`.
    pub issuer: String,
    /// Base URL of the mTLS endpoint aliases (RFC 8705 §5), if the mTLS listener runs.
    pub mtls_base: Option<String>,
    /// The signing keys: the current generation's and retired ones whose tokens may still be alive.
    pub keys: Arc<keys::KeyRing>,
    /// The database.
    pub store: Arc<dyn Store>,
    /// The registered clients.
    pub clients: client::Registry,
    /// The TLS client of https back-channel logout endpoints.
    pub logout_tls: Arc<rustls::ClientConfig>,
    /// Lifetimes.
    pub lifetimes: Lifetimes,
    /// The token endpoint's exchanges, group-committed.
    pub exchanges: exchange::Exchanges,
    /// The web console's one redirect URI, `[console] url` + `/console/login/callback`: the console's built-in
    /// client redirects only there (D42, issue #24 item 12); none when `[console] url` is unset, and then
    /// console sign-in through the portal is refused.
    pub console_callback: Option<String>,
    /// `[oidc] require_pushed_authorization_requests`: every client's requests must be pushed (RFC 9126 §5).
    pub require_par: bool,
}

impl Provider {
    /// Verify a JWS this provider signed with any published key: its `typ` and claims.
    pub fn verify_own(&self, token: &str) -> Result<(Option<String>, Value), jws::JwsError> {
        let mut last = jws::JwsError::Signature;
        for signer in self.keys.get().published() {
            match signer.verify_own(token) {
                Ok(found) => return Ok(found),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Sign `claims` (a JWS of type `typ`) with the current key of `alg`.
    pub fn sign(&self, alg: jws::SigningAlg, typ: &str, claims: &impl serde::Serialize) -> Result<String, OAuthError> {
        let keys = self.keys.get();
        let signer =
            keys.current(alg).ok_or_else(|| OAuthError::server(format!("no current {} signing key", alg.as_str())))?;
        signer.sign(typ, claims).map_err(OAuthError::server)
    }
}

/// What a grant's tokens say, fixed when the user was authorized (`oidc_grants.data`).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct GrantData {
    /// Pairwise subject.
    pub sub: String,
    /// The service's claims, as JSON.
    pub claims: Value,
    /// `acr`.
    pub acr: String,
    /// `amr`.
    pub amr: Value,
    /// `auth_time`.
    pub auth_time: i64,
    /// `nonce`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Granted scope.
    pub scope: String,
    /// PKCE S256 challenge.
    pub code_challenge: String,
    /// The redirect URI of the authorization request.
    pub redirect_uri: String,
    /// `sid`: the session as this provider names it to clients.
    pub sid: String,
    /// When the session ends by itself: the grant's refresh tokens do not outlive it (and so not the card's
    /// or the facility PC's certificate either). Absent in grants made before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_expires_at: Option<i64>,
}

impl GrantData {
    /// Decode a grant's data.
    pub fn of(grant: &GrantRecord) -> Result<Self, OAuthError> {
        serde_json::from_str(&grant.data).map_err(|e| OAuthError::server(format!("grant {}: {e}", grant.id)))
    }
}

/// The service's claims from the policy, without `acr`/`amr`: tokens always carry those two (they say how
/// strong the login was), from [`GrantData`].
pub fn service_claims(claims: &Claims) -> Value {
    let mut value = serde_json::to_value(claims).unwrap_or_else(|_| json!({}));
    if let Some(map) = value.as_object_mut() {
        map.remove("acr");
        map.remove("amr");
    }
    value
}

/// An OAuth error response (RFC 6749 §5.2), the one shape every back-channel endpoint refuses with.
#[derive(Debug)]
pub struct OAuthError {
    /// HTTP status.
    pub status: StatusCode,
    /// `error`.
    pub error: &'static str,
    /// `error_description`.
    pub description: String,
}

impl OAuthError {
    /// 400 with `error`.
    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, error, description: description.into() }
    }

    /// 401 `invalid_client`.
    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self { status: StatusCode::UNAUTHORIZED, error: "invalid_client", description: description.into() }
    }

    /// 400 `invalid_grant`.
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new("invalid_grant", description)
    }

    /// 400 `invalid_request`.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new("invalid_request", description)
    }

    /// 500 `server_error`; the cause is logged, the client learns only that it is ours.
    pub fn server(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "OIDC provider failure");
        Self::server_logged()
    }

    /// [`OAuthError::server`] for a cause logged already (one failure answered to many requests).
    pub fn server_logged() -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            error: "server_error",
            description: "the provider cannot answer now; retry later".into(),
        }
    }

    /// 503 `temporarily_unavailable` (RFC 6749 §4.1.2.1; the token endpoint answers it too, with the status
    /// saying the same): the database cannot be reached or written now (down, disk full, read-only). The cause
    /// is logged; the client learns that the same request may succeed later.
    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "OIDC provider: the database is unavailable");
        Self::unavailable_logged()
    }

    /// [`OAuthError::unavailable`] for a cause logged already.
    pub fn unavailable_logged() -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            error: "temporarily_unavailable",
            description: "the provider cannot answer now (its database is unavailable); retry later".into(),
        }
    }

    /// A store failure: [`OAuthError::unavailable`] when the database is unavailable, [`OAuthError::server`]
    /// for anything else.
    pub fn store(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => Self::unavailable(e),
            e => Self::server(e),
        }
    }
}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        Self::store(e)
    }
}

impl From<crate::portal::session::SessionError> for OAuthError {
    fn from(e: crate::portal::session::SessionError) -> Self {
        match e {
            crate::portal::session::SessionError::Store(e) => Self::store(e),
            e => Self::server(e),
        }
    }
}

impl From<crate::portal::catalog::CatalogError> for OAuthError {
    fn from(e: crate::portal::catalog::CatalogError) -> Self {
        match e {
            crate::portal::catalog::CatalogError::Store(e) => Self::store(e),
            e => Self::server(e),
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut response =
            (self.status, Json(json!({ "error": self.error, "error_description": self.description }))).into_response();
        if self.status == StatusCode::UNAUTHORIZED
            && let Ok(v) = axum::http::HeaderValue::from_str("Bearer error=\"invalid_client\"")
        {
            response.headers_mut().insert(axum::http::header::WWW_AUTHENTICATE, v);
        }
        response
            .headers_mut()
            .insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
        response
    }
}

/// A random base64url token of `n` bytes.
pub fn random_token(n: usize) -> Result<String, OAuthError> {
    use base64::Engine as _;
    let bytes = hcpki_ca::keys::random_secret(n).map_err(OAuthError::server)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes.as_slice()))
}

/// SHA-256 hex of a secret, as the store keeps codes and refresh tokens.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(jws::sha256(secret.as_bytes()))
}

/// The `sid` clients see for a session: derived from its id hash, never the hash itself.
pub fn sid(session_hash: &str) -> String {
    hash_secret(&format!("sid:{session_hash}")).chars().take(32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The database being unavailable (down, full, read-only) is a 503 the client may retry; anything else the
    /// store reports stays a 500.
    #[test]
    fn an_unavailable_database_is_a_503_and_other_store_failures_a_500() {
        let down = OAuthError::store(StoreError::Unavailable("disk full".into()));
        assert_eq!((down.status, down.error), (StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable"));
        assert!(down.description.contains("retry later"), "{}", down.description);
        let broken = OAuthError::store(StoreError::Database("no such table".into()));
        assert_eq!((broken.status, broken.error), (StatusCode::INTERNAL_SERVER_ERROR, "server_error"));
    }
}
