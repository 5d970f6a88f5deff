//! The relying service's side of a desk: each call authenticated as a registered confidential OIDC client exactly
//! as `/introspect` authenticates one (`private_key_jwt` assertion, `tls_client_auth` /
//! `self_signed_tls_client_auth` on the mTLS listener, or a `client_secret_post` secret; never a public client's
//! bare `client_id`), the physician it acts for known from their access token, each refusal audited by
//! `oidc:<client>`.

use crate::oidc::client::{self, Client, ClientCredentials, Endpoint, Presented};
use crate::oidc::endpoints::{Inactive, active_access_token};
use crate::oidc::{Context, ErrorStatus, OAuthError};
use serde_json::{Value, json};
use std::sync::Arc;

/// A request just stored at a desk: what the 201 answer says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Created {
    /// The request's id.
    pub id: String,
    /// The portal page where the physician takes it (signs the document, has the patient sign the consent).
    pub page_url: String,
    /// Where the service follows it.
    pub status_url: String,
    /// The physician must act before then (Unix seconds).
    pub expires_at: i64,
}

impl Created {
    /// Request `id`'s answer: its page at `page_path/{id}` and its status at `api_path/{id}` under the issuer.
    pub fn new(ctx: Context<'_>, page_path: &str, api_path: &str, id: String, expires_at: i64) -> Self {
        let issuer = &ctx.provider.issuer;
        Self {
            page_url: format!("{issuer}{page_path}/{id}"),
            status_url: format!("{issuer}{api_path}/{id}"),
            id,
            expires_at,
        }
    }
}

/// The client of a request to the API `endpoint`, as `/introspect` authenticates one (the assertion's audience
/// may be the issuer, its token endpoint or the endpoint's URL) and only one `endpoint` admits; a failure audited
/// `oidc.client.authenticate`.
pub(crate) async fn authenticate(
    ctx: Context<'_>,
    endpoint: Endpoint,
    credentials: &ClientCredentials,
    certificate: Option<&[u8]>,
    now: i64,
) -> Result<Arc<Client>, OAuthError> {
    let provider = ctx.provider;
    let presented = Presented { credentials, certificate, audiences: provider.audiences(endpoint.path), now };
    match client::authenticate(&provider.clients, &presented, endpoint.callers).await {
        Ok(c) => Ok(c),
        Err(e) => Err(crate::oidc::refused::client(ctx.refusals, endpoint.path, credentials, e).await),
    }
}

/// A refusal of an API request and what its audit entry adds.
pub(crate) type Refusal = (OAuthError, Value);

/// The claims of the physician's access token `bearer` (active at `now`, issued to `client_id`, certificate-bound
/// only with its `certificate`) and the portal session its grant was made in, while that session's row is kept;
/// otherwise the refusal for the caller to audit. The signing requests' and the consents' one way of knowing
/// which physician a service acts for.
pub(crate) async fn physician_session(
    ctx: Context<'_>,
    client_id: &str,
    bearer: Option<&str>,
    certificate: Option<&[u8]>,
    now: i64,
) -> Result<Result<(Value, hcpki_ca::store::SessionRecord), Refusal>, OAuthError> {
    let Some(token) = bearer else {
        let e = invalid_token("send the physician's access token as Authorization: Bearer");
        return Ok(Err((e, json!({ "reason": "no bearer token" }))));
    };
    let (claims, _) = match active_access_token(ctx.provider, token, certificate, now).await? {
        Ok(active) => active,
        Err(Inactive { why, .. }) => {
            let e = invalid_token("the physician's access token is invalid, expired or revoked: sign them in again");
            return Ok(Err((e, json!({ "reason": crate::oidc::refused::reason(&why) }))));
        }
    };
    if claims.get("client_id").and_then(Value::as_str) != Some(client_id) {
        let e = invalid_token("the access token was issued to another client: send a token issued to you");
        return Ok(Err((e, json!({ "reason": "another client's access token" }))));
    }
    let gid = claims.get("gid").and_then(Value::as_str).unwrap_or_default().to_owned();
    let store = &ctx.provider.store;
    let session = match store.oidc_grant(&gid).await? {
        Some(grant) => store.portal_session_record(&grant.session_hash).await?,
        None => None,
    };
    match session {
        Some(s) => Ok(Ok((claims, s))),
        None => {
            let e = invalid_token("the access token's sign-in has ended: sign the physician in again");
            Ok(Err((e, json!({ "reason": "the grant's session is gone", "grant": gid }))))
        }
    }
}

/// A refused API request of an authenticated client, audited (denied) by `oidc:<client>` at `action`.
pub(crate) async fn refused(ctx: Context<'_>, client_id: &str, action: &str, e: OAuthError, more: Value) -> OAuthError {
    crate::oidc::refused::request(ctx.refusals, client_id, action, e, more).await
}

/// 401 `invalid_token` (RFC 6750 §3.1).
fn invalid_token(description: &str) -> OAuthError {
    OAuthError { status: ErrorStatus::Unauthorized, error: "invalid_token", description: description.into() }
}

/// 403 `access_denied`.
pub(crate) fn forbidden(description: &str) -> OAuthError {
    OAuthError { status: ErrorStatus::Forbidden, error: "access_denied", description: description.into() }
}

/// 404 `not_found`: no request of the client's has that id (another client's is answered the same).
pub(crate) fn not_found(description: &str) -> OAuthError {
    OAuthError { status: ErrorStatus::NotFound, error: "not_found", description: description.into() }
}
