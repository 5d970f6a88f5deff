//! The token endpoint: `authorization_code` (single use; a second use revokes everything issued from it)
//! and `refresh_token` (rotated on every use; an old one presented again revokes the grant), and the
//! tokens themselves: the ID token and the RFC 9068 JWT access token, bound to the client certificate
//! (`cnf.x5t#S256`, RFC 8705 §3) when the client called over mutual TLS.
//!
//! HTTP-free: `crate::token_endpoint` reads the form's `grant_type` and dispatches every grant from there; a code
//! or refresh token comes here as a [`TokenCall`] with its typed [`TokenRequest`] and the client's
//! [`ClientCredentials`], and [`token`] answers it at `now`.

use super::claims::{AccessClaims, Confirmation, IdClaims, ServiceClaims, TokenResponse};
use super::client::{self, Client, ClientCredentials, Endpoint, Presented};
use super::dpop::{DpopError, Proof};
use super::exchange::{Exchange, GrantRequest, Granted, Refusal};
use super::{Context, GrantData, OAuthError, Provider, random_token};
use crate::audit::audit;
use crate::policy::ClientRule;
use crate::refusals::named;
use crate::session::REFRESH_REUSED;
use base64::Engine as _;
use hcpki_ca::audit::Outcome;
use hcpki_ca::store::GrantRecord;
use serde_json::json;
use std::collections::HashMap;

/// The grant a token request presents (RFC 6749 §4.1.3, §6). An empty parameter counts as absent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenRequest {
    /// `grant_type=authorization_code`.
    AuthorizationCode {
        /// `code`.
        code: String,
        /// `redirect_uri`, which must be the authorization request's.
        redirect_uri: Option<String>,
        /// `code_verifier` (PKCE S256).
        code_verifier: Option<String>,
    },
    /// `grant_type=refresh_token`.
    RefreshToken {
        /// `refresh_token`.
        refresh_token: String,
    },
}

impl TokenRequest {
    /// The code or refresh token presented.
    pub fn token(&self) -> &str {
        match self {
            Self::AuthorizationCode { code, .. } => code,
            Self::RefreshToken { refresh_token } => refresh_token,
        }
    }

    /// The grant the code or refresh token names (`<grant id>.<secret>`), for the audit entry of a refusal.
    pub fn grant_id(&self) -> Option<&str> {
        self.token().split_once('.').map(|(id, _)| id)
    }
}

/// Why a token request's grant parameters are refused; the client fixes its request as the message says.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenRequestError {
    /// No `grant_type`.
    #[error("grant_type is missing")]
    NoGrantType,
    /// A grant type this provider does not offer (`crate::oidc::grant_type::GrantType` lists those it does).
    #[error("grant_type {0} is not supported")]
    UnsupportedGrantType(String),
    /// `grant_type=authorization_code` without its `code`.
    #[error("code is missing")]
    NoCode,
    /// `grant_type=refresh_token` without its `refresh_token`.
    #[error("refresh_token is missing")]
    NoRefreshToken,
}

impl TokenRequestError {
    /// The OAuth error answered (RFC 6749 §5.2).
    pub fn oauth(&self) -> OAuthError {
        match self {
            Self::UnsupportedGrantType(_) => OAuthError::new("unsupported_grant_type", self.to_string()),
            _ => OAuthError::invalid_request(self.to_string()),
        }
    }
}

/// Everything the token endpoint reads from a request: the client's credentials, its TLS certificate (mTLS
/// listener), and its grant. A malformed grant is kept as its error: the client is authenticated (and its
/// assertion's jti spent) before the grant is refused.
#[derive(Debug)]
pub struct TokenCall<'a> {
    /// The client's credentials in the form.
    pub credentials: ClientCredentials,
    /// The TLS client certificate (DER), when the client presented one.
    pub certificate: Option<&'a [u8]>,
    /// `grant_type` as sent, named in a refusal's audit entry.
    pub grant_type: Option<String>,
    /// The grant, or why its parameters are refused.
    pub request: Result<TokenRequest, TokenRequestError>,
    /// `consent`: the patient's consent the access token is for (issue #28), when the client names one.
    pub consent: Option<String>,
    /// The `DPoP` header's proof (RFC 9449), when the request carried one, or why it cannot be one.
    pub dpop: Option<Result<String, DpopError>>,
    /// `patient_presence`: a patient-presence proof for the client's service (issue #49, D148).
    pub patient_presence: Option<String>,
}

impl<'a> TokenCall<'a> {
    /// The call of a token request's form and certificate whose grant `crate::token_endpoint` has read.
    pub fn new(
        form: &HashMap<String, String>,
        certificate: Option<&'a [u8]>,
        request: Result<TokenRequest, TokenRequestError>,
    ) -> Self {
        Self {
            credentials: ClientCredentials::from_form(form),
            certificate,
            grant_type: form.get("grant_type").cloned(),
            request,
            consent: form.get("consent").filter(|c| !c.is_empty()).cloned(),
            dpop: None,
            patient_presence: form.get("patient_presence").filter(|p| !p.is_empty()).cloned(),
        }
    }
}

/// The tokens of an accepted token request (RFC 6749 §5.1).
#[derive(Debug)]
pub struct Issued {
    /// The RFC 9068 access token.
    pub access_token: String,
    /// Its lifetime in seconds.
    pub expires_in: i64,
    /// The ID token.
    pub id_token: String,
    /// The next refresh token.
    pub refresh_token: String,
    /// The granted scope.
    pub scope: String,
    /// `Bearer`, or `DPoP` for an access token bound to the DPoP key the request proved.
    pub token_type: &'static str,
}

impl Issued {
    /// The JSON body of the answer.
    pub fn body(&self) -> TokenResponse<'_> {
        TokenResponse {
            access_token: &self.access_token,
            expires_in: self.expires_in,
            id_token: &self.id_token,
            refresh_token: &self.refresh_token,
            scope: &self.scope,
            token_type: self.token_type,
        }
    }
}

/// The claims a live consent adds to an access token (issue #28 step 7): IHE IUA's BPPC extension and hcpki's
/// `consent` claim.
#[derive(Clone, Debug, PartialEq)]
pub struct ConsentClaims {
    /// `extensions` (`ihe_bppc`).
    pub extensions: serde_json::Value,
    /// `consent`.
    pub consent: serde_json::Value,
}

/// Where the consent a code or refresh token request names (`consent=<id>`) is read: the consent core, a floor
/// above this one. `/token`'s dispatch (`crate::token_endpoint`) passes it in, so the OIDC core knows the claims a
/// consent adds and not how consents are kept (issue #43 item 1).
#[async_trait::async_trait]
pub trait ConsentClaimSource: Send + Sync {
    /// The claims of consent `id` for a token of `client_id` at `now_ms`, or the refusal (audited by the caller as
    /// the token endpoint's).
    async fn claims(
        &self,
        provider: &Provider,
        client_id: &str,
        id: &str,
        now_ms: i64,
    ) -> Result<ConsentClaims, OAuthError>;
}

/// Where a token request's patient-presence proof is checked and spent (issue #49 item 1, D148): the presence
/// core, a floor above this one, passed in by `/token`'s dispatch as the consents are.
#[async_trait::async_trait]
pub trait PresenceGate: Send + Sync {
    /// The `patient_presence` claim for a token of `client` at `now` (`None`: no proof sent and none required), or
    /// the refusal, audited by the caller as the token endpoint's.
    async fn check(
        &self,
        ctx: Context<'_>,
        client: &Client,
        proof: Option<&str>,
        now: i64,
    ) -> Result<Option<serde_json::Value>, OAuthError>;
}

/// `/token` for codes and refresh tokens: public clients too (D102), since PKCE binds a code to the app that asked
/// for it and rotation with reuse detection its refresh token. (Token exchange, where the caller acts on its own
/// authority, declares its own: [`crate::token_exchange::EXCHANGE`].)
pub const TOKEN: Endpoint = Endpoint { path: "/token", callers: ClientRule::Any };

/// `POST /token` at `now`: authenticate the client, exchange its code or refresh token (group-committed,
/// [`super::exchange`]), sign the tokens. A refusal is audited here and returned as the OAuth error to answer.
pub async fn token(
    ctx: Context<'_>,
    call: TokenCall<'_>,
    consents: &dyn ConsentClaimSource,
    presence: &dyn PresenceGate,
    now: i64,
) -> Result<Issued, OAuthError> {
    let provider = ctx.provider;
    let presented = Presented {
        credentials: &call.credentials,
        certificate: call.certificate,
        audiences: provider.audiences(TOKEN.path),
        now,
    };
    let verified = match client::verify(&provider.clients, &presented, TOKEN.callers).await {
        Ok(v) => v,
        Err(e) => return Err(super::refused::client(ctx.refusals, TOKEN.path, &call.credentials, e).await),
    };
    let client = verified.client;
    // The consent is checked before the grant is used: a refused one leaves the refresh token as it was.
    let consent = match &call.consent {
        Some(id) => match consents.claims(provider, &client.id, id, now.saturating_mul(1000)).await {
            Ok(c) => Some(c),
            Err(e) => return Err(refused(ctx, &client, &call, e).await),
        },
        None => None,
    };
    // So is the patient-presence proof (its spend is final: a grant refused after it needs a fresh proof).
    let patient_presence = match presence.check(ctx, &client, call.patient_presence.as_deref(), now).await {
        Ok(p) => p,
        Err(e) => return Err(refused(ctx, &client, &call, e).await),
    };
    // What the client presented; a malformed request still spends the assertion's jti (below).
    let (mut request, mut early) =
        match call.request.as_ref().map_err(TokenRequestError::oauth).and_then(presented_grant) {
            Ok(p) => (Some(p), None),
            Err(e) => (None, Some(e)),
        };
    // A refused DPoP proof is a malformed request too: nothing issued, the assertion's jti spent. A verified one's
    // jti is recorded by the exchange, in its batch's transaction with the assertion's (D107).
    let proof = match provider.dpop_post_proof(ctx.secret, call.dpop.as_ref(), call.certificate, TOKEN.path, now) {
        Ok(proof) => proof,
        Err(e) => {
            (request, early) = (None, Some(e));
            None
        }
    };
    let refresh = match &request {
        Some(GrantRequest::Code { refresh, .. }) => Some(refresh.clone()),
        Some(GrantRequest::Refresh { new, .. }) => Some(new.clone()),
        None => None,
    };
    let exchange = Exchange { client_id: client.id.clone(), once: verified.once, request, dpop: proof.clone() };
    let grant = match provider.exchanges.exchange(exchange).await {
        Ok(grant) => grant,
        Err(Refusal::AssertionReplayed) => {
            let e = client::assertion_replayed();
            return Err(super::refused::client(ctx.refusals, TOKEN.path, &call.credentials, e).await);
        }
        Err(Refusal::DpopReplayed) => return Err(refused(ctx, &client, &call, DpopError::Replayed.oauth()).await),
        Err(Refusal::Replayed { grant, what, ends_session, error }) => {
            replayed(provider, &client, &grant, what).await;
            if ends_session {
                end_family_session(provider, &grant, now).await;
            }
            return Err(error);
        }
        Err(Refusal::Refused(e)) => return Err(refused(ctx, &client, &call, e).await),
    };
    let (Some(Granted { grant, data }), Some(refresh)) = (grant, refresh) else {
        let e = early.unwrap_or_else(|| OAuthError::invalid_request("no grant was presented"));
        return Err(refused(ctx, &client, &call, e).await);
    };
    // Bound to the DPoP key, or to the certificate of an mTLS call; never both ([`dpop_post_proof`] refuses both).
    let cnf = match (&proof, call.certificate) {
        (Some(Proof { jkt, .. }), _) => Some(Confirmation::dpop(jkt)),
        (None, Some(c)) => Some(Confirmation::certificate(c)),
        (None, None) => None,
    };
    let token_type = if proof.is_some() { "DPoP" } else { "Bearer" };
    let access = access_token(provider, &client, &grant, &data, cnf, (consent, patient_presence), now)?;
    let id_token = id_token(provider, &client, &data, Some(&access), now)?;
    Ok(Issued {
        access_token: access,
        expires_in: access_lifetime(provider, &client),
        id_token,
        refresh_token: refresh,
        scope: data.scope,
        token_type,
    })
}

/// Audit a refused grant request of an authenticated client as `oidc.token` (a wrong redirect URI or PKCE
/// verifier, an unknown, expired or malformed code or refresh token, an unsupported grant type), with the
/// grant the code or refresh token names (its id, never its secret); the refusal to send.
async fn refused(ctx: Context<'_>, client: &Client, call: &TokenCall<'_>, e: OAuthError) -> OAuthError {
    let grant_type = call.grant_type.as_deref().map(|g| named(Some(g)));
    let grant = call.request.as_ref().ok().and_then(TokenRequest::grant_id).map(|id| named(Some(id)));
    super::refused::request(
        ctx.refusals,
        &client.id,
        "oidc.token",
        e,
        json!({ "grant_type": grant_type, "grant": grant }),
    )
    .await
}

/// A new refresh token for the grant `token` (a code or refresh token) names: `<grant id>.<secret>`.
pub fn successor(token: &str) -> Result<String, OAuthError> {
    let id = token.split_once('.').map_or(token, |(id, _)| id);
    Ok(format!("{id}.{}", random_token(32)?))
}

/// The exchange's request for a parsed grant, with the refresh token to hand out if it is accepted.
fn presented_grant(request: &TokenRequest) -> Result<GrantRequest, OAuthError> {
    Ok(match request {
        TokenRequest::AuthorizationCode { code, redirect_uri, code_verifier } => GrantRequest::Code {
            code: code.clone(),
            redirect_uri: redirect_uri.clone(),
            verifier: code_verifier.clone(),
            refresh: successor(code)?,
        },
        TokenRequest::RefreshToken { refresh_token } => {
            GrantRequest::Refresh { old: refresh_token.clone(), new: successor(refresh_token)? }
        }
    })
}

async fn replayed(provider: &Provider, client: &Client, grant: &GrantRecord, what: &str) {
    let (actor, detail) = (format!("oidc:{}", client.id), json!({ "grant": grant.id, "reason": what }));
    audit(
        provider.store.as_ref(),
        provider.clock.now_unix_ms(),
        &actor,
        "oidc.token",
        &client.id,
        Outcome::Denied,
        detail,
    )
    .await;
}

/// A refresh token rotated out came back (RFC 9700 §4.14.2): the thief or the owner holds a copy, and which one
/// is presenting cannot be told, so the grant (revoked by the exchange) and the sign-in session it belongs to end,
/// with every other grant of that session (back-channel logout to their clients), audited as `portal.logout` with
/// [`REFRESH_REUSED`]. A session that had ended already still has its grants revoked.
async fn end_family_session(provider: &Provider, grant: &GrantRecord, now: i64) {
    // The replayed grant was revoked by the exchange, so the session's end below no longer finds it: its client
    // hears of its own grant's end here (D162).
    provider.signals.grants_ended(provider, std::slice::from_ref(grant), REFRESH_REUSED).await;
    let at = hcpki_pkix::time::UnixTime::from_secs(now);
    match provider.store.portal_end_session(&grant.session_hash, REFRESH_REUSED, at).await {
        Ok(Some(ended)) => {
            super::backchannel::session_ended_audited(provider, &ended.person_key, &ended.id_hash, REFRESH_REUSED)
                .await;
        }
        Ok(None) => super::backchannel::session_ended(provider, &grant.session_hash, REFRESH_REUSED).await,
        Err(e) => tracing::error!(error = %e, grant = %grant.id, "cannot end the session of a reused refresh token"),
    }
}

/// An RFC 9068 access token.
fn access_token(
    provider: &Provider,
    client: &Client,
    grant: &GrantRecord,
    data: &GrantData,
    cnf: Option<Confirmation>,
    (consent, patient_presence): (Option<ConsentClaims>, Option<serde_json::Value>),
    now: i64,
) -> Result<String, OAuthError> {
    let (bppc, consent) = consent.map_or((None, None), |c| (Some(c.extensions), Some(c.consent)));
    let extensions = super::iua::extensions(&data.claims, bppc);
    let claims = AccessClaims {
        acr: &data.acr,
        act: data.claims.get("act"),
        aud: &client.id,
        auth_time: data.auth_time,
        break_glass: data.break_glass.as_ref().map(Into::into),
        client_id: &client.id,
        cnf,
        exp: now + access_lifetime(provider, client),
        gid: &grant.id,
        iat: now,
        iss: &provider.issuer,
        jti: random_token(16)?,
        purpose_of_use: data.purpose_of_use,
        scope: &data.scope,
        sub: &data.sub,
        extensions,
        consent,
        patient_presence,
    };
    provider.sign(client.config.id_token_signed_response_alg, "at+jwt", &claims)
}

/// Most seconds a public client's access token lives (issue #30: stricter lifetimes): it cannot be bound to a
/// credential the client holds, so a stolen one is good for a short while only.
pub const PUBLIC_CLIENT_ACCESS_SECS: i64 = 300;

/// The access token lifetime for `client`: the configured one, at most [`PUBLIC_CLIENT_ACCESS_SECS`] for a public
/// client.
fn access_lifetime(provider: &Provider, client: &Client) -> i64 {
    match client.config.auth {
        super::client::AuthMethod::None => provider.lifetimes.access_token.min(PUBLIC_CLIENT_ACCESS_SECS),
        _ => provider.lifetimes.access_token,
    }
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
        break_glass: data.break_glass.as_ref().map(Into::into),
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
