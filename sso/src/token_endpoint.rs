//! `POST /token`, HTTP-free: the one place a token request's `grant_type` is read and its grant dispatched
//! (issue #43 item 1). [`TokenCall::parse`] reads the form into the typed call of its grant — a code or refresh
//! token for the OIDC core ([`crate::oidc::token`]), or an RFC 8693 token exchange for the delegation core
//! ([`crate::token_exchange`], D96) — and [`token`] answers it at `now`. The grant types are
//! [`GrantType`]'s, which discovery lists too. The axum adapter is `server::http::oidc::token`.

use crate::consent::token_claim::TokenClaims;
use crate::oidc::client_credentials::{self, ClientCredentialsCall, ScimToken, StoredBinding};
use crate::oidc::dpop::DpopError;
use crate::oidc::grant_type::GrantType;
use crate::oidc::token::{self, Issued, TokenRequest, TokenRequestError};
use crate::oidc::{Context, OAuthError};
use crate::token_exchange::{self, ExchangeCall, Exchanged};
use std::collections::HashMap;

/// A token request, by its grant.
#[derive(Debug)]
pub enum TokenCall<'a> {
    /// `authorization_code` or `refresh_token`, or a grant whose parameters are refused (kept as its error: the
    /// client is authenticated, and its assertion's jti spent, before the grant is refused).
    Grant(token::TokenCall<'a>),
    /// `urn:ietf:params:oauth:grant-type:token-exchange` (RFC 8693).
    Exchange(ExchangeCall<'a>),
    /// `client_credentials` (RFC 6749 §4.4): a SCIM client's token (D158).
    ClientCredentials(ClientCredentialsCall<'a>),
}

impl<'a> TokenCall<'a> {
    /// Read a token request's form and the connection's certificate (the adapter adds the `Authorization`
    /// header's credentials and the `DPoP` proof with [`Self::with_credentials`]). An empty parameter counts as
    /// absent.
    pub fn parse(form: HashMap<String, String>, certificate: Option<&'a [u8]>) -> Self {
        let get = |k: &str| form.get(k).map(String::as_str).filter(|v| !v.is_empty());
        let request = match get("grant_type").map(|value| (value, GrantType::parse(value))) {
            None => Err(TokenRequestError::NoGrantType),
            Some((_, Some(GrantType::AuthorizationCode))) => {
                get("code").ok_or(TokenRequestError::NoCode).map(|code| TokenRequest::AuthorizationCode {
                    code: code.to_owned(),
                    redirect_uri: get("redirect_uri").map(str::to_owned),
                    code_verifier: get("code_verifier").map(str::to_owned),
                })
            }
            Some((_, Some(GrantType::RefreshToken))) => get("refresh_token")
                .ok_or(TokenRequestError::NoRefreshToken)
                .map(|refresh_token| TokenRequest::RefreshToken { refresh_token: refresh_token.to_owned() }),
            Some((_, Some(GrantType::TokenExchange))) => return Self::Exchange(ExchangeCall::parse(form, certificate)),
            Some((_, Some(GrantType::ClientCredentials))) => {
                return Self::ClientCredentials(ClientCredentialsCall {
                    credentials: crate::oidc::client::ClientCredentials::from_form(&form),
                    certificate,
                    scope: get("scope").map(str::to_owned),
                });
            }
            Some((value, None)) => Err(TokenRequestError::UnsupportedGrantType(value.to_owned())),
        };
        Self::Grant(token::TokenCall::new(&form, certificate, request))
    }

    /// The same call with the `Authorization` header's credentials (HTTP Basic) and the `DPoP` header's proof.
    pub fn with_credentials(self, authorization: Option<&str>, dpop: Option<Result<String, DpopError>>) -> Self {
        match self {
            Self::Grant(mut call) => {
                call.credentials = call.credentials.with_authorization(authorization);
                call.dpop = dpop;
                Self::Grant(call)
            }
            Self::Exchange(mut call) => {
                call.credentials = call.credentials.with_authorization(authorization);
                call.dpop = dpop;
                Self::Exchange(call)
            }
            // A DPoP proof is not read: a SCIM token is a bearer token for a server-to-server client.
            Self::ClientCredentials(mut call) => {
                call.credentials = call.credentials.with_authorization(authorization);
                Self::ClientCredentials(call)
            }
        }
    }
}

/// The tokens of an accepted token request.
#[derive(Debug)]
pub enum Answer {
    /// A code's or a refresh token's tokens (RFC 6749 §5.1).
    Issued(Issued),
    /// An exchanged access token (RFC 8693 §2.2.1).
    Exchanged(Exchanged),
    /// A SCIM client's token (RFC 6749 §4.4.3).
    Scim(ScimToken),
}

/// `POST /token` at `now`: the call's grant answered by its core, which authenticates the client, audits a
/// refusal and returns it as the OAuth error to answer. A code or refresh token's named consent is read by the
/// consent core, handed to the OIDC core here.
pub async fn token(ctx: Context<'_>, call: TokenCall<'_>, now: i64) -> Result<Answer, OAuthError> {
    match call {
        TokenCall::Grant(call) => {
            token::token(ctx, call, &TokenClaims, &crate::presence::Gate, now).await.map(Answer::Issued)
        }
        TokenCall::Exchange(call) => token_exchange::token_exchange(ctx, call, now).await.map(Answer::Exchanged),
        TokenCall::ClientCredentials(call) => {
            client_credentials::client_credentials(ctx, call, &StoredBinding, now).await.map(Answer::Scim)
        }
    }
}
