//! JWKS, userinfo, introspection (RFC 7662) and revocation (RFC 7009), HTTP-free: each takes what
//! its request carried and `now`, and answers a value; the axum adapters are `server::http::oidc::endpoints`. Discovery is
//! [`super::discovery`].

use super::client::{self, ClientCredentials, Endpoint, Presented};
use super::dpop::{self, DpopError};
use super::{Context, GrantData, OAuthError, Provider, hash_secret};
use crate::audit::audit;
use crate::policy::ClientRule;
use crate::refusals::named;
use hcpki_ca::audit::Outcome;
use hcpki_pkix::time::CLOCK_LEEWAY_SECS;
use serde_json::{Value, json};
use std::collections::HashMap;

/// `GET /jwks`.
pub fn jwks(provider: &Provider) -> Value {
    json!({ "keys": provider.keys.get().published().map(|s| s.jwk.clone()).collect::<Vec<_>>() })
}

/// `GET|POST /userinfo`'s answer: the claims as JSON, or as a JWT signed for a client registered for it
/// (`application/jwt`, OIDC Core §5.3.2).
#[derive(Debug)]
pub enum Userinfo {
    /// Plain JSON.
    Json(Value),
    /// A signed JWT.
    Jwt(String),
}

/// Why userinfo answers no claims.
#[derive(Debug)]
pub enum UserinfoError {
    /// The bearer token is missing or not taken: 401 with `WWW-Authenticate: Bearer error="…"` (RFC 6750 §3).
    Bearer {
        /// `error`.
        error: &'static str,
        /// `error_description`.
        description: &'static str,
    },
    /// A DPoP presentation refused, or a DPoP-bound token presented as a bearer one: 401 with
    /// `WWW-Authenticate: DPoP error="…"` (RFC 9449 §7.1), and a fresh `DPoP-Nonce` for `use_dpop_nonce`.
    Dpop {
        /// `error`: `invalid_token`, `invalid_dpop_proof` or `use_dpop_nonce`.
        error: &'static str,
        /// `error_description`.
        description: String,
    },
    /// The provider cannot answer.
    Failed(OAuthError),
}

impl From<OAuthError> for UserinfoError {
    fn from(e: OAuthError) -> Self {
        Self::Failed(e)
    }
}

/// How an access token came to a resource: `Authorization: Bearer` (RFC 6750 §2.1) or `Authorization: DPoP`
/// with the request's `DPoP` proof (RFC 9449 §7.1).
#[derive(Debug)]
pub struct AccessPresented<'a> {
    /// The access token, when the request sent one.
    pub token: Option<&'a str>,
    /// The DPoP presentation, when the scheme was `DPoP`.
    pub dpop: Option<DpopPresented<'a>>,
}

/// The DPoP part of a presentation.
#[derive(Debug)]
pub struct DpopPresented<'a> {
    /// The `DPoP` header's proof, when sent, or why it cannot be one.
    pub proof: Option<Result<String, DpopError>>,
    /// The request's method (`htm`).
    pub method: &'a str,
}

impl<'a> AccessPresented<'a> {
    /// A bearer token (none when the request sent none).
    pub fn bearer(token: Option<&'a str>) -> Self {
        Self { token, dpop: None }
    }
}

/// `GET|POST /userinfo` at `now` with the access token as `presented` (none when the request sent none): a
/// DPoP-bound token only as `Authorization: DPoP` with a proof by its key (RFC 9449 §7), a certificate-bound one
/// only with its `certificate`.
pub async fn userinfo(
    ctx: Context<'_>,
    presented: AccessPresented<'_>,
    certificate: Option<&[u8]>,
    now: i64,
) -> Result<Userinfo, UserinfoError> {
    let provider = ctx.provider;
    let Some(token) = presented.token else {
        let why = "send the access token as Authorization: Bearer";
        return Err(userinfo_refused(ctx, None, "invalid_request", why, "no bearer token").await);
    };
    let proven = match &presented.dpop {
        Some(d) => match userinfo_proof(ctx, token, d, now).await {
            Ok(jkt) => Some(jkt),
            Err(e) => return Err(userinfo_dpop_refused(ctx, token, e).await),
        },
        None => None,
    };
    let (claims, grant) = match active_access_token_proven(provider, token, certificate, proven.as_deref(), now).await?
    {
        Ok(active) => active,
        Err(Inactive { client, why, dpop_bound }) => {
            let answer = "the access token is invalid, expired or revoked";
            if dpop_bound || proven.is_some() {
                let detail = json!({ "error": "invalid_token", "reason": super::refused::reason(&why) });
                ctx.refusals.record("oidc:anonymous", "oidc.userinfo", &named(client.as_deref()), detail).await;
                return Err(UserinfoError::Dpop { error: "invalid_token", description: answer.into() });
            }
            return Err(userinfo_refused(ctx, client.as_deref(), "invalid_token", answer, &why).await);
        }
    };
    let mut body = json!({ "sub": grant.sub });
    if let (Some(map), Some(extra)) = (body.as_object_mut(), grant.claims.as_object()) {
        map.extend(extra.clone());
        map.insert("acr".into(), json!(grant.acr));
        map.insert("auth_time".into(), json!(grant.auth_time));
    }
    // A client registered for signed userinfo gets the same claims as a JWT naming it as the audience.
    let client_id = claims.get("client_id").and_then(Value::as_str).unwrap_or_default();
    let client = provider.clients.load_recorded(client_id).await?;
    let Some(alg) = client.and_then(|c| c.config.userinfo_signed_response_alg) else {
        return Ok(Userinfo::Json(body));
    };
    if let Some(map) = body.as_object_mut() {
        map.insert("iss".into(), json!(provider.issuer));
        map.insert("aud".into(), json!(client_id));
        map.insert("iat".into(), json!(now));
    }
    Ok(Userinfo::Jwt(provider.sign(alg, "JWT", &body)?))
}

/// A refused userinfo request, audited `oidc.userinfo` by `oidc:anonymous` (a bearer token proves no one) on
/// the client the token was issued to when our signature on it verified, with the precise reason (the answer
/// stays vague: RFC 6750 §3.1 wants no help for a guesser); the 401 answer.
async fn userinfo_refused(
    ctx: Context<'_>,
    client: Option<&str>,
    error: &'static str,
    description: &'static str,
    why: &str,
) -> UserinfoError {
    let detail = json!({ "error": error, "reason": super::refused::reason(why) });
    ctx.refusals.record("oidc:anonymous", "oidc.userinfo", &named(client), detail).await;
    UserinfoError::Bearer { error, description }
}

/// The DPoP proof of a userinfo request (RFC 9449 §7.1): for this method and URL, with the token's hash, by
/// a key used once per jti; the key's thumbprint.
async fn userinfo_proof(ctx: Context<'_>, token: &str, d: &DpopPresented<'_>, now: i64) -> Result<String, DpopError> {
    let Some(sent) = &d.proof else { return Err(DpopError::Missing) };
    let htu = ctx.provider.endpoint_urls("/userinfo");
    let ath = dpop::token_hash(token);
    let expected = dpop::Expected { htm: d.method, htu: &htu, ath: Some(&ath) };
    Ok(ctx.provider.dpop_proof(ctx.secret, sent, &expected, now).await?.jkt)
}

/// A refused DPoP proof at userinfo, audited `oidc.userinfo` like a refused token (on the client the token
/// names when our signature on it verifies); the 401 answer.
async fn userinfo_dpop_refused(ctx: Context<'_>, token: &str, e: DpopError) -> UserinfoError {
    if let DpopError::Store(cause) = &e {
        return UserinfoError::Failed(OAuthError::server(cause));
    }
    let client = ctx.provider.verify_own(token).ok().and_then(|(_, c)| {
        ["client_id", "azp"].iter().find_map(|n| c.get(*n).and_then(Value::as_str)).map(str::to_owned)
    });
    let detail = json!({ "error": e.error(), "reason": super::refused::reason(&e.to_string()) });
    ctx.refusals.record("oidc:anonymous", "oidc.userinfo", &named(client.as_deref()), detail).await;
    UserinfoError::Dpop { error: e.error(), description: e.to_string() }
}

/// Why a bearer token was not taken: for the audit entry, not for the caller.
pub(crate) struct Inactive {
    /// The client the token was issued to, when our signature on it verified.
    pub(crate) client: Option<String>,
    /// The reason.
    pub(crate) why: String,
    /// The token is bound to a DPoP key (its refusal is a `DPoP` challenge, RFC 9449 §7.1).
    pub(crate) dpop_bound: bool,
}

/// A valid access token's claims and its grant's data: our signature, `at+jwt`, unexpired, grant active, and
/// for a bound token the same certificate; a DPoP-bound token is refused (it is not a bearer token). Also the
/// check of the physician's token a signing request carries (`crate::signing_requests`).
pub(crate) async fn active_access_token(
    provider: &Provider,
    token: &str,
    certificate: Option<&[u8]>,
    now: i64,
) -> Result<Result<(Value, GrantData), Inactive>, OAuthError> {
    active_access_token_proven(provider, token, certificate, None, now).await
}

/// [`active_access_token`] for a request that proved the DPoP key with thumbprint `proven`: a DPoP-bound token
/// only with its own key, and a token bound to none not through DPoP.
pub(crate) async fn active_access_token_proven(
    provider: &Provider,
    token: &str,
    certificate: Option<&[u8]>,
    proven: Option<&str>,
    now: i64,
) -> Result<Result<(Value, GrantData), Inactive>, OAuthError> {
    let (typ, claims) = match provider.verify_own(token) {
        Ok(verified) => verified,
        Err(e) => {
            let why = format!("not an access token of this provider: {e}");
            return Ok(Err(Inactive { client: None, why, dpop_bound: false }));
        }
    };
    // An access token names its client in `client_id`, an ID token (presented by mistake) in `azp`.
    let client = ["client_id", "azp"].iter().find_map(|c| claims.get(*c).and_then(Value::as_str)).map(str::to_owned);
    let bound_key = claims.pointer("/cnf/jkt").and_then(Value::as_str);
    let dpop_bound = bound_key.is_some();
    let inactive = |why: &str| Ok(Err(Inactive { client: client.clone(), why: why.to_owned(), dpop_bound }));
    if typ.as_deref() != Some("at+jwt") {
        return inactive("not an access token (typ is not at+jwt: an ID or logout token?)");
    }
    match (bound_key, proven) {
        (Some(_), None) => {
            return inactive(
                "the access token is bound to a DPoP key and was presented as a bearer token (RFC 9449 §7.1)",
            );
        }
        (Some(bound), Some(key)) if bound != key => {
            return inactive("the DPoP proof is made with another key than the one the access token is bound to");
        }
        (None, Some(_)) => {
            return inactive("the access token is not bound to a DPoP key: present it as Authorization: Bearer");
        }
        _ => {}
    }
    // Made by any replica: one whose clock runs behind this one's gave it an earlier exp.
    if claims.get("exp").and_then(Value::as_i64).is_none_or(|e| e + CLOCK_LEEWAY_SECS <= now) {
        return inactive("the access token has expired");
    }
    if let Some(bound) = claims.pointer("/cnf/x5t#S256").and_then(Value::as_str) {
        let Some(der) = certificate.filter(|c| super::jws::sha256_b64(c) == bound) else {
            return inactive(
                "the access token is bound to a client certificate this connection did not present (RFC 8705)",
            );
        };
        if let Some(why) = super::bound_certificate::withdrawn(provider.store.as_ref(), der, now).await? {
            return inactive(&why);
        }
    }
    let Some(gid) = claims.get("gid").and_then(Value::as_str) else {
        return inactive("the access token names no grant");
    };
    match provider.store.oidc_grant(gid).await? {
        Some(g) if g.state == "active" => Ok(Ok((claims, GrantData::of(&g)?))),
        _ => inactive("the access token's grant is revoked or gone (logout, reuse, revocation)"),
    }
}

/// `/introspect`: confidential clients only (RFC 7662 §2.1 asks its callers to authenticate; D102).
pub(super) const INTROSPECT: Endpoint = Endpoint { path: "/introspect", callers: ClientRule::Confidential };
/// `/revoke`: public clients too (RFC 7009 §2.1); a client revokes only tokens issued to it, which it holds.
pub(super) const REVOKE: Endpoint = Endpoint { path: "/revoke", callers: ClientRule::Any };

/// What `/introspect` and `/revoke` read from a request: the client's credentials, its certificate (mTLS
/// listener) and the `token` asked about.
#[derive(Debug)]
pub struct TokenQuery<'a> {
    /// The client's credentials in the form.
    pub credentials: ClientCredentials,
    /// The TLS client certificate (DER), when the client presented one.
    pub certificate: Option<&'a [u8]>,
    /// `token`, when sent.
    pub token: Option<String>,
}

impl<'a> TokenQuery<'a> {
    /// Read an introspection or revocation request's form and certificate.
    pub fn parse(form: &HashMap<String, String>, certificate: Option<&'a [u8]>) -> Self {
        Self { credentials: ClientCredentials::from_form(form), certificate, token: form.get("token").cloned() }
    }

    /// The client, authenticated as one `endpoint` admits, and the token, or the refusal (audited) there
    /// ([`INTROSPECT`], [`REVOKE`], the presence proofs' `crate::presence::INTROSPECT`).
    pub(crate) async fn authenticated(
        &self,
        ctx: Context<'_>,
        endpoint: Endpoint,
        action: &str,
        now: i64,
    ) -> Result<(std::sync::Arc<client::Client>, &str), OAuthError> {
        let provider = ctx.provider;
        let presented = Presented {
            credentials: &self.credentials,
            certificate: self.certificate,
            audiences: provider.audiences(endpoint.path),
            now,
        };
        let client = match client::authenticate(&provider.clients, &presented, endpoint.callers).await {
            Ok(c) => c,
            Err(e) => return Err(super::refused::client(ctx.refusals, endpoint.path, &self.credentials, e).await),
        };
        let Some(token) = self.token.as_deref() else {
            let e = OAuthError::invalid_request("token is missing");
            return Err(super::refused::request(ctx.refusals, &client.id, action, e, json!({})).await);
        };
        Ok((client, token))
    }
}

/// `POST /introspect` (RFC 7662) at `now`, client-authenticated; a client learns only about its own tokens.
pub async fn introspect(ctx: Context<'_>, query: TokenQuery<'_>, now: i64) -> Result<Value, OAuthError> {
    let provider = ctx.provider;
    let (client, token) = query.authenticated(ctx, INTROSPECT, "oidc.introspect", now).await?;
    let inactive = json!({ "active": false });
    // The token's own certificate binding is not checked here: the caller is the client, asking about it.
    if let Ok((Some(typ), claims)) = provider.verify_own(token)
        && typ == "at+jwt"
    {
        if claims.get("client_id").and_then(Value::as_str) != Some(&client.id) {
            return Ok(inactive);
        }
        let gid = claims.get("gid").and_then(Value::as_str).unwrap_or_default();
        let live = claims.get("exp").and_then(Value::as_i64).is_some_and(|e| e + CLOCK_LEEWAY_SECS > now);
        let grant = provider.store.oidc_grant(gid).await?;
        if !live || grant.is_none_or(|g| g.state != "active") {
            return Ok(inactive);
        }
        // RFC 9449 §6.2: a DPoP-bound token is introspected as such, its cnf.jkt among its claims.
        let token_type = if claims.pointer("/cnf/jkt").is_some() { "DPoP" } else { "Bearer" };
        let mut body = claims;
        if let Some(map) = body.as_object_mut() {
            map.insert("active".into(), json!(true));
            map.insert("token_type".into(), json!(token_type));
            map.remove("gid");
        }
        return Ok(body);
    }
    if let Some((gid, _)) = token.split_once('.') {
        let grant = provider.store.oidc_grant(gid).await?;
        if let Some(g) = grant
            && g.client_id == client.id
            && g.state == "active"
            && g.refresh_hash.as_deref() == Some(hash_secret(token).as_str())
            && g.expires_at > now
        {
            let data = GrantData::of(&g)?;
            return Ok(json!({ "active": true, "token_type": "refresh_token", "client_id": client.id,
                "sub": data.sub, "scope": data.scope, "exp": g.expires_at, "iss": provider.issuer }));
        }
    }
    Ok(inactive)
}

/// `POST /revoke` (RFC 7009) at `now`: a refresh or access token revokes its grant (every token issued from it).
/// Unknown tokens are answered 200 as well (§2.2).
pub async fn revoke(ctx: Context<'_>, query: TokenQuery<'_>, now: i64) -> Result<(), OAuthError> {
    let provider = ctx.provider;
    let (client, token) = query.authenticated(ctx, REVOKE, "oidc.revoke", now).await?;
    let gid = match provider.verify_own(token) {
        Ok((_, claims)) => claims.get("gid").and_then(Value::as_str).map(str::to_owned),
        Err(_) => token.split_once('.').map(|(g, _)| g.to_owned()),
    };
    if let Some(gid) = gid
        && let Some(g) = provider.store.oidc_grant(&gid).await?
        && g.client_id == client.id
        && let Some(revoked) = provider.store.oidc_revoke_grant(&gid).await?
    {
        // The client ended its own grant: the session goes on, this client's part of it does not (D162).
        provider.signals.grants_ended(provider, std::slice::from_ref(&revoked), "revoke").await;
        let (actor, detail) = (format!("oidc:{}", client.id), json!({ "grant": gid }));
        audit(
            provider.store.as_ref(),
            provider.clock.now_unix_ms(),
            &actor,
            "oidc.revoke",
            &client.id,
            Outcome::Ok,
            detail,
        )
        .await;
    }
    Ok(())
}
