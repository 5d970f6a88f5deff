//! The OpenID Connect provider of the SSO portal (issue #6, D24): discovery, JWKS, authorization code flow
//! with PKCE (S256 only) and PAR, tokens (ID token, RFC 9068 JWT access tokens bound to the client
//! certificate per RFC 8705, rotating refresh tokens), userinfo, introspection, revocation, RP-initiated
//! and back-channel logout.
//!
//! Who may open which service is `policy::decide`'s; this module only turns its answer into protocol.
//! Tokens are signed through a `KeySource` ([`jws::Signer`]), so the key can live on a PKCS#11 token.

pub mod authorize;
pub mod backchannel;
pub mod bound_certificate;
pub mod break_glass;
pub mod break_glass_webhook;
pub mod claims;
pub mod client;
pub mod client_credentials;
pub mod client_secret;
pub mod discovery;
pub mod dpop;
pub mod endpoints;
mod error;
pub mod exchange;
mod grant;
pub mod grant_type;
pub mod iua;
pub mod jws;
pub mod keys;
pub mod refused;
pub mod registration;
mod secret;
pub mod token;
pub mod web_origins;

pub use error::{ErrorStatus, OAuthError};
pub use grant::GrantData;
pub use secret::{hash_secret, random_token, sid};

use crate::catalog::Catalog;
use crate::policy::Claims;
use crate::refusals::Refusals;
use crate::secret::PortalSecret;
use hcpki_ca::store::Store;
use hcpki_model::OidcClientId;
use hcpki_pkix::time::Clock;
use hcpki_pkix::time::UnixTime;
use serde_json::{Value, json};
use std::sync::Arc;

/// How long an authorization code lives, in seconds: single use, and within IHE IUA's 5 minutes
/// ([`iua::MAX_CODE_SECS`]).
pub const CODE_SECS: i64 = 60;
const _: () = assert!(CODE_SECS <= iua::MAX_CODE_SECS, "IHE IUA: authorization codes live at most 5 minutes");

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
    /// The POST client of back-channel logout endpoints (https ones verified against the WebPKI roots and
    /// `[oidc] backchannel_ca_file`).
    pub logout: Arc<dyn crate::outbound::HttpPost>,
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
    /// `[oidc] dpop_nonce`: DPoP proofs must carry a server nonce (RFC 9449 §8).
    pub dpop_nonce: bool,
    /// The process's clock (the authority's): what the provider does on its own, outside a request (logout
    /// tokens and their deliveries' audit entries), is stamped by it.
    pub clock: Arc<dyn Clock>,
    /// `[oidc] home_community_id`: IHE IUA's `home_community_id` of this deployment, when configured.
    pub home_community_id: Option<iua::HomeCommunityId>,
    /// `[monitor] break_glass_webhook`: told of every break-glass use (D94), when configured.
    pub break_glass_webhook: Option<break_glass_webhook::BreakGlassWebhook>,
    /// Told of every session or grant end (the Shared Signals transmitter, D162).
    pub signals: Arc<dyn SessionSignals>,
    /// Woken when a pushed Shared Signals SET is queued (D162): the server's push worker waits on it.
    pub ssf_wake: Arc<tokio::sync::Notify>,
}

impl Provider {
    /// The client an authorization request names: the web console's built-in one (D42, never a row of
    /// `oidc_clients`) or a registered one. `/authorize` and the login page's CSP (the origins its form's
    /// redirects reach) resolve a client the same way, so they cannot disagree on who it is.
    pub async fn authorizing_client(&self, id: &OidcClientId) -> Result<Option<Arc<client::Client>>, OAuthError> {
        if id.as_str() == client::CONSOLE_CLIENT_ID {
            return Ok(Some(Arc::new(client::Client::console())));
        }
        self.clients.load(id).await
    }

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

    /// The URLs of endpoint `path` on either listener (a DPoP proof's `htu`).
    pub fn endpoint_urls(&self, path: &str) -> Vec<String> {
        std::iter::once(&self.issuer).chain(self.mtls_base.as_ref()).map(|base| format!("{base}{path}")).collect()
    }

    /// The DPoP nonces proofs must carry (`[oidc] dpop_nonce`), from the portal secret; none when not required.
    pub fn dpop_nonces<'a>(&self, secret: &'a PortalSecret) -> Option<&'a crate::dpop_nonce::NonceKey> {
        self.dpop_nonce.then(|| secret.dpop_nonces())
    }

    /// Check a DPoP proof for the request `expected` describes at `now` (its nonce when `[oidc] dpop_nonce`) and
    /// record its jti (single use per key), or say why not.
    pub async fn dpop_proof(
        &self,
        secret: &PortalSecret,
        sent: &Result<String, dpop::DpopError>,
        expected: &dpop::Expected<'_>,
        now: i64,
    ) -> Result<dpop::Proof, dpop::DpopError> {
        let sent = sent.as_ref().map_err(Clone::clone)?;
        let proof = dpop::verify(sent, expected, self.dpop_nonces(secret), now)?;
        self.dpop_record(&proof, now).await?;
        Ok(proof)
    }

    /// The DPoP proof a `POST` to endpoint `path` carried, checked but not recorded: the token endpoint records
    /// [`dpop::Proof::once`] in its batch's transaction, with the client assertion's jti (D107). A
    /// certificate-bound token (RFC 8705) and a DPoP-bound one are two answers to one question: a request over a
    /// connection with a client certificate that also carries a proof is refused rather than one binding
    /// silently preferred.
    pub fn dpop_post_proof(
        &self,
        secret: &PortalSecret,
        sent: Option<&Result<String, dpop::DpopError>>,
        certificate: Option<&[u8]>,
        path: &str,
        now: i64,
    ) -> Result<Option<dpop::Proof>, OAuthError> {
        let Some(sent) = sent else { return Ok(None) };
        if certificate.is_some() {
            return Err(OAuthError::invalid_request(
                "a DPoP proof over a connection with a client certificate: a token is bound to one or the other; \
                 send the proof without a client certificate, or no proof over mutual TLS",
            ));
        }
        let htu = self.endpoint_urls(path);
        let expected = dpop::Expected { htm: "POST", htu: &htu, ath: None };
        let sent = sent.as_ref().map_err(dpop::DpopError::oauth)?;
        dpop::verify(sent, &expected, self.dpop_nonces(secret), now).map(Some).map_err(|e| e.oauth())
    }

    /// Record a verified proof's jti on its own (one autocommitted statement), where no batch does (`/par`,
    /// userinfo): [`dpop::DpopError::Replayed`] when the key used it before.
    pub async fn dpop_record(&self, proof: &dpop::Proof, now: i64) -> Result<(), dpop::DpopError> {
        let once = proof.once();
        let fresh = self
            .store
            .oidc_once_put(&once.kind, &once.key, "", UnixTime::from_secs(once.expires_at), UnixTime::from_secs(now))
            .await
            .map_err(|e| dpop::DpopError::Store(e.to_string()))?;
        if fresh { Ok(()) } else { Err(dpop::DpopError::Replayed) }
    }

    /// Sign `claims` (a JWS of type `typ`) with the current key of `alg`.
    pub fn sign(&self, alg: jws::SigningAlg, typ: &str, claims: &impl serde::Serialize) -> Result<String, OAuthError> {
        let keys = self.keys.get();
        let signer =
            keys.current(alg).ok_or_else(|| OAuthError::server(format!("no current {} signing key", alg.as_str())))?;
        signer.sign(typ, claims).map_err(OAuthError::signing)
    }
}

/// What the endpoints' cores reach besides their request: the provider and the portal's services they share.
/// The HTTP adapters (`server::http::oidc`) lend it from `PortalState`, which sits above both `oidc` and the
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

#[cfg(test)]
mod core_tests;

// Where the provider announces ended sessions and grants beyond back-channel logout: the hook the Shared Signals
// transmitter (`crate::ssf`, D162) implements, declared here so the provider needs nothing above it.

/// Told of every session or grant end, after the grants were revoked.
#[async_trait::async_trait]
pub trait SessionSignals: Send + Sync + std::fmt::Debug {
    /// `grants` (already revoked) ended for `why`: their session's end reason, or `revoke` when the client
    /// revoked its own grant at `/revoke`.
    async fn grants_ended(&self, provider: &Provider, grants: &[hcpki_ca::store::GrantRecord], why: &str);
}

/// Nothing beyond back-channel logout (tests of the provider alone).
#[derive(Debug)]
pub struct NoSignals;

#[async_trait::async_trait]
impl SessionSignals for NoSignals {
    async fn grants_ended(&self, _provider: &Provider, _grants: &[hcpki_ca::store::GrantRecord], _why: &str) {}
}
