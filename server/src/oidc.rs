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
use crate::portal::catalog::Catalog;
use crate::portal::refusals::Refusals;
use crate::portal::secret::PortalSecret;
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

    /// The audiences a client assertion sent to `path` may name: the issuer, the token endpoint (RFC 7523 §3;
    /// many clients use it for every endpoint) and the endpoint itself, on either listener.
    pub fn audiences(&self, path: &str) -> Vec<String> {
        let mut all = vec![self.issuer.clone()];
        for base in std::iter::once(&self.issuer).chain(self.mtls_base.as_ref()) {
            all.push(format!("{base}/token"));
            all.push(format!("{base}{path}"));
        }
        all
    }

    /// Sign `claims` (a JWS of type `typ`) with the current key of `alg`.
    pub fn sign(&self, alg: jws::SigningAlg, typ: &str, claims: &impl serde::Serialize) -> Result<String, OAuthError> {
        let keys = self.keys.get();
        let signer =
            keys.current(alg).ok_or_else(|| OAuthError::server(format!("no current {} signing key", alg.as_str())))?;
        signer.sign(typ, claims).map_err(OAuthError::server)
    }
}

/// What the endpoints' cores reach besides their request: the provider and the portal's services they share.
/// The HTTP adapters (`crate::http::oidc`) lend it from `PortalState`, which sits above both `oidc` and the
/// portal's pages, so no file here imports the portal's handlers back (issue #25).
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// The provider (its store is the portal's).
    pub provider: &'a Provider,
    /// The audit entries of refusals anyone can cause, group-committed.
    pub refusals: &'a Refusals,
    /// The services of the policy.
    pub services: &'a Catalog,
    /// The portal secret (pairwise subjects).
    pub secret: &'a PortalSecret,
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

/// The HTTP status of an [`OAuthError`], without the HTTP crate: the core names the kind of failure, the
/// adapter the number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorStatus {
    /// 400: the request is wrong.
    BadRequest,
    /// 401: the client did not authenticate.
    Unauthorized,
    /// 413: the request body is over the endpoint's limit.
    PayloadTooLarge,
    /// 500: ours.
    Server,
    /// 503: the database is unavailable now.
    Unavailable,
}

impl ErrorStatus {
    /// The status code.
    pub fn code(self) -> u16 {
        match self {
            Self::BadRequest => 400,
            Self::Unauthorized => 401,
            Self::PayloadTooLarge => 413,
            Self::Server => 500,
            Self::Unavailable => 503,
        }
    }

    /// A failure of the provider (5xx), logged rather than audited.
    pub fn is_server_error(self) -> bool {
        matches!(self, Self::Server | Self::Unavailable)
    }
}

/// An OAuth error response (RFC 6749 §5.2), the one shape every back-channel endpoint refuses with.
#[derive(Debug)]
pub struct OAuthError {
    /// The HTTP status it is answered with (mapped at the edge, `crate::http::oidc`).
    pub status: ErrorStatus,
    /// `error`.
    pub error: &'static str,
    /// `error_description`.
    pub description: String,
}

impl OAuthError {
    /// 400 with `error`.
    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self { status: ErrorStatus::BadRequest, error, description: description.into() }
    }

    /// 401 `invalid_client`.
    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self { status: ErrorStatus::Unauthorized, error: "invalid_client", description: description.into() }
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
            status: ErrorStatus::Server,
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
            status: ErrorStatus::Unavailable,
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
mod core_tests;

#[cfg(test)]
mod tests {
    use super::*;

    /// The database being unavailable (down, full, read-only) is a 503 the client may retry; anything else the
    /// store reports stays a 500.
    #[test]
    fn an_unavailable_database_is_a_503_and_other_store_failures_a_500() {
        let down = OAuthError::store(StoreError::Unavailable("disk full".into()));
        assert_eq!((down.status.code(), down.error), (503, "temporarily_unavailable"));
        assert!(down.description.contains("retry later"), "{}", down.description);
        let broken = OAuthError::store(StoreError::Database("no such table".into()));
        assert_eq!((broken.status.code(), broken.error), (500, "server_error"));
    }
}
