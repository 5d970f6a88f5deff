//! `grant_type=client_credentials` with `scope=scim` (RFC 6749 §4.4; issue #51 item 3, D158): a confidential
//! client that an operator bound to one facility (`hcpki scim client add`) gets a short-lived bearer token for
//! the SCIM API, and nothing else. With `scope=ssf` (issue #51 item 2, D162) any confidential client gets one
//! for its own Shared Signals event stream (`/ssf/...`), built the same way with its own `typ` and audience.
//!
//! A new way in must not open the old doors, so the token is its own kind: its JWS `typ` is [`SCIM_TYP`], not
//! `at+jwt`, so every access-token check (`/userinfo`, `/introspect`, signing requests, token exchange,
//! consents) refuses it as "not an access token" (RFC 8725 §3.11); it names no grant and no subject person; and
//! its audience is the SCIM base URL only. No other scope is granted through this grant, and no client without a
//! facility binding gets one. [`verify`] is the SCIM adapter's check of it.

use super::client::{self, Endpoint, Presented};
use super::{Context, OAuthError, Provider};
use crate::policy::ClientRule;
use serde_json::{Value, json};

/// `/token`'s client-credentials grant: confidential clients only (a public client has no credentials to
/// present; RFC 6749 §4.4).
pub const CLIENT_CREDENTIALS: Endpoint = Endpoint { path: "/token", callers: ClientRule::Confidential };
/// The one scope this grant gives.
pub const SCIM_SCOPE: &str = "scim";
/// The JWS `typ` of a SCIM token.
pub const SCIM_TYP: &str = "scim+jwt";
/// How long a SCIM token lives: an HR system asks again (it holds its credentials), and an unbound client's
/// last token ends soon (its binding is also checked on every request).
pub const LIFETIME_SECS: i64 = 300;
/// Where the SCIM API is, under the issuer (the token's audience).
pub const SCIM_PATH: &str = "/scim/v2";
/// The scope of a Shared Signals receiver's token (D162): it manages its own event stream and polls it.
pub const SSF_SCOPE: &str = "ssf";
/// The JWS `typ` of a Shared Signals receiver's token.
pub const SSF_TYP: &str = "ssf+jwt";
/// Where the Shared Signals endpoints are, under the issuer (the token's audience).
pub const SSF_PATH: &str = "/ssf";

/// A client-credentials request: the client's credentials (as the other grants read them) and `scope`.
#[derive(Debug)]
pub struct ClientCredentialsCall<'a> {
    /// The client's credentials.
    pub credentials: client::ClientCredentials,
    /// The TLS client certificate (DER), when the client presented one.
    pub certificate: Option<&'a [u8]>,
    /// `scope`, as sent.
    pub scope: Option<String>,
}

/// Where the grant reads which clients may provision, and for which facility: the SCIM store area, passed in by
/// `/token`'s dispatch.
#[async_trait::async_trait]
pub trait ScimBinding: Send + Sync {
    /// The facility `client_id` provisions, if it is a SCIM client.
    async fn facility_of(&self, provider: &Provider, client_id: &str) -> Result<Option<String>, OAuthError>;
}

/// The store's SCIM clients as the binding.
#[derive(Debug)]
pub struct StoredBinding;

#[async_trait::async_trait]
impl ScimBinding for StoredBinding {
    async fn facility_of(&self, provider: &Provider, client_id: &str) -> Result<Option<String>, OAuthError> {
        let bound = provider.store.scim_client(client_id).await.map_err(OAuthError::server)?;
        Ok(bound.map(|b| b.facility.as_str().to_owned()))
    }
}

/// The token answer (RFC 6749 §5.1): no refresh token, no ID token.
#[derive(Debug)]
pub struct ScimToken {
    /// The signed token.
    pub access_token: String,
    /// Its lifetime.
    pub expires_in: i64,
    /// The scope it gives.
    pub scope: &'static str,
}

impl ScimToken {
    /// The JSON body.
    pub fn body(&self) -> Value {
        json!({ "access_token": self.access_token, "token_type": "Bearer", "expires_in": self.expires_in, "scope": self.scope })
    }
}

/// `POST /token` with `grant_type=client_credentials` at `now`: authenticate the confidential client, check the
/// scope and its facility binding, sign the token; audited `oidc.token.scim` (refusals as every `/token`
/// refusal).
pub async fn client_credentials(
    ctx: Context<'_>,
    call: ClientCredentialsCall<'_>,
    binding: &dyn ScimBinding,
    now: i64,
) -> Result<ScimToken, OAuthError> {
    let provider = ctx.provider;
    let presented = Presented {
        credentials: &call.credentials,
        certificate: call.certificate,
        audiences: provider.audiences(CLIENT_CREDENTIALS.path),
        now,
    };
    let client = match client::authenticate(&provider.clients, &presented, CLIENT_CREDENTIALS.callers).await {
        Ok(c) => c,
        Err(e) => {
            return Err(super::refused::client(ctx.refusals, CLIENT_CREDENTIALS.path, &call.credentials, e).await);
        }
    };
    let refuse = |e: OAuthError| {
        super::refused::request(ctx.refusals, &client.id, "oidc.token", e, json!({ "grant": "client_credentials" }))
    };
    let scopes: Vec<&str> = call.scope.as_deref().unwrap_or_default().split(' ').filter(|s| !s.is_empty()).collect();
    if scopes == [SSF_SCOPE] {
        // Any confidential client may receive the events about its own sessions: its stream is its own.
        return ssf_token(provider, &client, now).await;
    }
    if scopes != [SCIM_SCOPE] {
        let e = OAuthError::new(
            "invalid_scope",
            format!(
                "client_credentials gives scope {SCIM_SCOPE} or {SSF_SCOPE} only: send scope={SCIM_SCOPE} or \
                 scope={SSF_SCOPE}"
            ),
        );
        return Err(refuse(e).await);
    }
    let Some(facility) = binding.facility_of(provider, &client.id).await? else {
        let e = OAuthError::new(
            "unauthorized_client",
            format!(
                "client {} is not bound to a facility for SCIM: an operator runs `hcpki scim client add`",
                client.id
            ),
        );
        return Err(refuse(e).await);
    };
    let claims = json!({
        "iss": provider.issuer,
        "sub": client.id,
        "client_id": client.id,
        "aud": format!("{}{SCIM_PATH}", provider.issuer),
        "scope": SCIM_SCOPE,
        "facility": facility,
        "iat": now,
        "exp": now + LIFETIME_SECS,
        "jti": super::secret::random_token(16)?,
    });
    let access_token = provider.sign(client.config.id_token_signed_response_alg, SCIM_TYP, &claims)?;
    crate::audit::audit(
        provider.store.as_ref(),
        now.saturating_mul(1000),
        &format!("oidc:{}", client.id),
        "oidc.token.scim",
        &client.id,
        hcpki_ca::audit::Outcome::Ok,
        json!({ "facility": facility, "expires_in": LIFETIME_SECS }),
    )
    .await;
    Ok(ScimToken { access_token, expires_in: LIFETIME_SECS, scope: SCIM_SCOPE })
}

/// A Shared Signals receiver's token for `client` at `now`, audited `oidc.token.ssf`.
async fn ssf_token(provider: &Provider, client: &client::Client, now: i64) -> Result<ScimToken, OAuthError> {
    let claims = json!({
        "iss": provider.issuer,
        "sub": client.id,
        "client_id": client.id,
        "aud": format!("{}{}", provider.issuer, SSF_PATH),
        "scope": SSF_SCOPE,
        "iat": now,
        "exp": now + LIFETIME_SECS,
        "jti": super::secret::random_token(16)?,
    });
    let access_token = provider.sign(client.config.id_token_signed_response_alg, SSF_TYP, &claims)?;
    crate::audit::audit(
        provider.store.as_ref(),
        now.saturating_mul(1000),
        &format!("oidc:{}", client.id),
        "oidc.token.ssf",
        &client.id,
        hcpki_ca::audit::Outcome::Ok,
        json!({ "expires_in": LIFETIME_SECS }),
    )
    .await;
    Ok(ScimToken { access_token, expires_in: LIFETIME_SECS, scope: SSF_SCOPE })
}

/// Which client-credentials token a bearer caller must bring: SCIM's ([`SCIM_TYP`], the SCIM audience, scope
/// [`SCIM_SCOPE`]) or a Shared Signals receiver's ([`SSF_TYP`], the `/ssf` audience, scope [`SSF_SCOPE`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BearerKind {
    Scim,
    Ssf,
}

/// Why a bearer caller is refused before its request is read (the adapter answers 401, or 500 for the registry).
#[derive(Debug, thiserror::Error)]
pub enum CallerRefused {
    /// Not one of our tokens of this kind, expired, for another audience or scope: what to do is in the text.
    #[error("{0}")]
    Token(String),
    #[error("client {0} is no longer registered")]
    Unregistered(String),
    #[error("the client registry failed: {0}")]
    Registry(String),
}

/// The client a bearer token of `kind` was issued to, still in the registry: a client removed from it loses
/// access with it, whatever token it holds. One check for SCIM and Shared Signals alike.
pub async fn registered_caller(
    provider: &Provider,
    token: &str,
    now: i64,
    kind: BearerKind,
) -> Result<String, CallerRefused> {
    let claims = match kind {
        BearerKind::Scim => (SCIM_TYP, SCIM_PATH, SCIM_SCOPE),
        BearerKind::Ssf => (SSF_TYP, SSF_PATH, SSF_SCOPE),
    };
    let client = verify_kind(provider, token, now, claims).map_err(CallerRefused::Token)?;
    match provider.clients.load_recorded(&client).await {
        Ok(Some(_)) => Ok(client),
        Ok(None) => Err(CallerRefused::Unregistered(client)),
        Err(e) => Err(CallerRefused::Registry(e.description)),
    }
}

/// A client-credentials token of one kind: its `typ`, its audience's path under the issuer, its scope.
fn verify_kind(provider: &Provider, token: &str, now: i64, kind: (&str, &str, &str)) -> Result<String, String> {
    let (want_typ, path, scope) = kind;
    let (typ, claims) = provider.verify_own(token).map_err(|e| format!("not a token of this provider: {e}"))?;
    if typ.as_deref() != Some(want_typ) {
        return Err(format!(
            "not a {scope} token (typ is not {want_typ}): get one with grant_type=client_credentials and scope={scope}"
        ));
    }
    let aud = format!("{}{path}", provider.issuer);
    if claims.get("aud").and_then(Value::as_str) != Some(aud.as_str()) {
        return Err("the token is for another audience".to_owned());
    }
    if claims.get("scope").and_then(Value::as_str) != Some(scope) {
        return Err(format!("the token lacks scope {scope}"));
    }
    if claims.get("exp").and_then(Value::as_i64).is_none_or(|e| e <= now) {
        return Err("the token has expired: get a new one".to_owned());
    }
    claims
        .get("client_id")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| "the token names no client".to_owned())
}
