//! Discovery, JWKS, userinfo, introspection (RFC 7662), revocation (RFC 7009) and RP-initiated logout.

use super::client::{self, Presented};
use super::{GrantData, OAuthError, Provider, hash_secret};
use crate::portal::refusals::named;
use crate::portal::{self, PortalState};
use axum::Json;
use axum::extract::{Extension, Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_server::tls::TlsInfo;
use hcpki_ca::audit::Outcome;
use hcpki_ca::store::{CertStatus, Store, StoreError};
use hcpki_ca::time::CLOCK_LEEWAY_SECS;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// The audiences a client assertion sent to `path` may name: the issuer, the token endpoint (RFC 7523 §3;
/// many clients use it for every endpoint) and the endpoint itself, on either listener.
pub fn audiences(provider: &Provider, path: &str) -> Vec<String> {
    let mut all = vec![provider.issuer.clone()];
    for base in std::iter::once(&provider.issuer).chain(provider.mtls_base.as_ref()) {
        all.push(format!("{base}/token"));
        all.push(format!("{base}{path}"));
    }
    all
}

/// `GET /.well-known/openid-configuration`.
pub async fn discovery(State(state): State<PortalState>) -> Json<Value> {
    let p = &state.oidc;
    let iss = &p.issuer;
    let algs: Vec<&str> = super::jws::SigningAlg::ALL.iter().map(|a| a.as_str()).collect();
    // The algorithms `jws::Jws::parse` accepts for client assertions (private_key_jwt), at every endpoint that
    // takes them: RFC 8414 §2 requires the list for each endpoint whose methods include private_key_jwt.
    let assertion_algs = ["ES256", "RS256", "PS256"];
    let mut doc = json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/authorize"),
        "token_endpoint": format!("{iss}/token"),
        "userinfo_endpoint": format!("{iss}/userinfo"),
        "jwks_uri": format!("{iss}/jwks"),
        "introspection_endpoint": format!("{iss}/introspect"),
        "revocation_endpoint": format!("{iss}/revoke"),
        "pushed_authorization_request_endpoint": format!("{iss}/par"),
        // RFC 9126 §5: the server-wide policy; a client registered to push is told by its registration.
        "require_pushed_authorization_requests": p.require_par,
        "end_session_endpoint": format!("{iss}/logout"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": algs,
        "userinfo_signing_alg_values_supported": algs,
        "scopes_supported": ["openid"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid", "name",
            "hc_role", "facility_id", "facility_name", "facility_kind"],
        "acr_values_supported": crate::policy::AssuranceLevel::ALL.iter().map(|l| l.acr()).collect::<Vec<_>>(),
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt", "tls_client_auth", "self_signed_tls_client_auth"],
        "token_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "introspection_endpoint_auth_methods_supported": ["private_key_jwt", "tls_client_auth", "self_signed_tls_client_auth"],
        "introspection_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "revocation_endpoint_auth_methods_supported": ["private_key_jwt", "tls_client_auth", "self_signed_tls_client_auth"],
        "revocation_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "tls_client_certificate_bound_access_tokens": true,
        "authorization_response_iss_parameter_supported": true,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "claims_parameter_supported": false,
        "prompt_values_supported": ["none", "login"],
    });
    if let (Some(m), Some(map)) = (&p.mtls_base, doc.as_object_mut()) {
        map.insert(
            "mtls_endpoint_aliases".into(),
            json!({
                "token_endpoint": format!("{m}/token"),
                "userinfo_endpoint": format!("{m}/userinfo"),
                "introspection_endpoint": format!("{m}/introspect"),
                "revocation_endpoint": format!("{m}/revoke"),
                "pushed_authorization_request_endpoint": format!("{m}/par"),
            }),
        );
    }
    Json(doc)
}

/// `GET /jwks`.
pub async fn jwks(State(state): State<PortalState>) -> Json<Value> {
    Json(json!({ "keys": state.oidc.keys.get().published().map(|s| s.jwk.clone()).collect::<Vec<_>>() }))
}

/// `GET|POST /userinfo` with a bearer access token (RFC 6750 §2.1); a certificate-bound token only with its
/// certificate.
pub async fn userinfo(
    State(state): State<PortalState>,
    tls: Option<Extension<Arc<TlsInfo>>>,
    headers: HeaderMap,
) -> Result<Response, Response> {
    let Some(token) = crate::http::headers::bearer_token(&headers) else {
        let why = "send the access token as Authorization: Bearer";
        return Err(userinfo_refused(&state, None, "invalid_request", why, "no bearer token").await);
    };
    let certificate = tls.as_ref().and_then(|t| t.0.peer_certificates.first()).map(|c| c.as_ref());
    let (claims, grant) = match active_access_token(&state, token, certificate).await.map_err(|e| e.into_response())? {
        Ok(active) => active,
        Err(Inactive { client, why }) => {
            let answer = "the access token is invalid, expired or revoked";
            return Err(userinfo_refused(&state, client.as_deref(), "invalid_token", answer, &why).await);
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
    let client = state.oidc.clients.load(client_id).await.map_err(IntoResponse::into_response)?;
    let Some(alg) = client.and_then(|c| c.config.userinfo_signed_response_alg) else {
        return Ok(Json(body).into_response());
    };
    if let Some(map) = body.as_object_mut() {
        map.insert("iss".into(), json!(state.oidc.issuer));
        map.insert("aud".into(), json!(client_id));
        map.insert("iat".into(), json!(hcpki_ca::time::now_unix()));
    }
    let jwt = state.oidc.sign(alg, "JWT", &body).map_err(IntoResponse::into_response)?;
    Ok(([(header::CONTENT_TYPE, "application/jwt")], jwt).into_response())
}

/// A refused userinfo request, audited `oidc.userinfo` by `oidc:anonymous` (a bearer token proves no one) on
/// the client the token was issued to when our signature on it verified, with the precise reason (the answer
/// stays vague: RFC 6750 §3.1 wants no help for a guesser); the 401 answer.
async fn userinfo_refused(
    state: &PortalState,
    client: Option<&str>,
    error: &str,
    description: &str,
    why: &str,
) -> Response {
    let detail = json!({ "error": error, "reason": super::refused::reason(why) });
    state.refusals.record("oidc:anonymous", "oidc.userinfo", &named(client), detail).await;
    bearer_error(error, description)
}

fn bearer_error(error: &str, description: &str) -> Response {
    let mut response =
        (StatusCode::UNAUTHORIZED, Json(json!({ "error": error, "error_description": description }))).into_response();
    if let Ok(v) = header::HeaderValue::from_str(&format!("Bearer error=\"{error}\"")) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    response
}

/// Why a bearer token was not taken: for the audit entry, not for the caller.
struct Inactive {
    /// The client the token was issued to, when our signature on it verified.
    client: Option<String>,
    /// The reason.
    why: String,
}

/// A valid access token's claims and its grant's data: our signature, `at+jwt`, unexpired, grant active, and
/// for a bound token the same certificate.
async fn active_access_token(
    state: &PortalState,
    token: &str,
    certificate: Option<&[u8]>,
) -> Result<Result<(Value, GrantData), Inactive>, OAuthError> {
    let (typ, claims) = match state.oidc.verify_own(token) {
        Ok(verified) => verified,
        Err(e) => return Ok(Err(Inactive { client: None, why: format!("not an access token of this provider: {e}") })),
    };
    // An access token names its client in `client_id`, an ID token (presented by mistake) in `azp`.
    let client = ["client_id", "azp"].iter().find_map(|c| claims.get(*c).and_then(Value::as_str)).map(str::to_owned);
    let inactive = |why: &str| Ok(Err(Inactive { client: client.clone(), why: why.to_owned() }));
    let now = hcpki_ca::time::now_unix();
    if typ.as_deref() != Some("at+jwt") {
        return inactive("not an access token (typ is not at+jwt: an ID or logout token?)");
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
        if let Some(why) = withdrawn(state.store.as_ref(), der, now).await? {
            return inactive(&why);
        }
    }
    let Some(gid) = claims.get("gid").and_then(Value::as_str) else {
        return inactive("the access token names no grant");
    };
    match state.store.oidc_grant(gid).await? {
        Some(g) if g.state == "active" => Ok(Ok((claims, GrantData::of(&g)?))),
        _ => inactive("the access token's grant is revoked or gone (logout, reuse, revocation)"),
    }
}

/// Why a certificate a token is bound to no longer vouches for it: one this CA issued (a facility PC's, or a
/// `tls_client_auth` client's) that the registry holds as revoked, on hold or expired. Neither listener refuses
/// such a certificate at the handshake (the portal's answers with a page instead, the mTLS one authenticates
/// clients itself), so without this a token bound to a withdrawn PC certificate would keep working until it
/// expires. Certificates this CA did not issue (self-signed client keys) have no status here.
async fn withdrawn(store: &dyn Store, der: &[u8], now: i64) -> Result<Option<String>, StoreError> {
    let Ok(cert) = <x509_cert::Certificate as der::Decode>::from_der(der) else { return Ok(None) };
    let serial = hcpki_ca::serial::to_hex(cert.tbs_certificate().serial_number());
    Ok(match store.certificate(&serial).await? {
        Some(r) if r.der.as_deref() == Some(der) && r.status != CertStatus::Issued => {
            Some(format!("the client certificate {serial} the access token is bound to is {}", r.status.as_str()))
        }
        Some(r) if r.der.as_deref() == Some(der) && r.not_after <= now => {
            Some(format!("the client certificate {serial} the access token is bound to has expired"))
        }
        _ => None,
    })
}

/// `POST /introspect` (RFC 7662), client-authenticated; a client learns only about its own tokens.
pub async fn introspect(
    State(state): State<PortalState>,
    tls: Option<Extension<Arc<TlsInfo>>>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Json<Value>, OAuthError> {
    let certificate = tls.as_ref().and_then(|t| t.0.peer_certificates.first()).map(|c| c.as_ref());
    let presented = Presented { form: &form, certificate, audiences: audiences(&state.oidc, "/introspect") };
    let client = match client::authenticate(&state.oidc.clients, &presented).await {
        Ok(c) => c,
        Err(e) => return Err(super::refused::client(&state, "/introspect", &form, e).await),
    };
    let Some(token) = form.get("token") else {
        let e = OAuthError::invalid_request("token is missing");
        return Err(super::refused::request(&state, &client.id, "oidc.introspect", e, json!({})).await);
    };
    let inactive = Json(json!({ "active": false }));
    // The token's own certificate binding is not checked here: the caller is the client, asking about it.
    if let Ok((Some(typ), claims)) = state.oidc.verify_own(token)
        && typ == "at+jwt"
    {
        if claims.get("client_id").and_then(Value::as_str) != Some(&client.id) {
            return Ok(inactive);
        }
        let gid = claims.get("gid").and_then(Value::as_str).unwrap_or_default();
        let now = hcpki_ca::time::now_unix();
        let live = claims.get("exp").and_then(Value::as_i64).is_some_and(|e| e + CLOCK_LEEWAY_SECS > now);
        let grant = state.store.oidc_grant(gid).await?;
        if !live || grant.is_none_or(|g| g.state != "active") {
            return Ok(inactive);
        }
        let mut body = claims;
        if let Some(map) = body.as_object_mut() {
            map.insert("active".into(), json!(true));
            map.insert("token_type".into(), json!("Bearer"));
            map.remove("gid");
        }
        return Ok(Json(body));
    }
    if let Some((gid, _)) = token.split_once('.') {
        let grant = state.store.oidc_grant(gid).await?;
        if let Some(g) = grant
            && g.client_id == client.id
            && g.state == "active"
            && g.refresh_hash.as_deref() == Some(hash_secret(token).as_str())
            && g.expires_at > hcpki_ca::time::now_unix()
        {
            let data = GrantData::of(&g)?;
            return Ok(Json(json!({ "active": true, "token_type": "refresh_token", "client_id": client.id,
                "sub": data.sub, "scope": data.scope, "exp": g.expires_at, "iss": state.oidc.issuer })));
        }
    }
    Ok(inactive)
}

/// `POST /revoke` (RFC 7009): a refresh or access token revokes its grant (every token issued from it).
/// Unknown tokens are answered 200 as well (§2.2).
pub async fn revoke(
    State(state): State<PortalState>,
    tls: Option<Extension<Arc<TlsInfo>>>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<StatusCode, OAuthError> {
    let certificate = tls.as_ref().and_then(|t| t.0.peer_certificates.first()).map(|c| c.as_ref());
    let presented = Presented { form: &form, certificate, audiences: audiences(&state.oidc, "/revoke") };
    let client = match client::authenticate(&state.oidc.clients, &presented).await {
        Ok(c) => c,
        Err(e) => return Err(super::refused::client(&state, "/revoke", &form, e).await),
    };
    let Some(token) = form.get("token") else {
        let e = OAuthError::invalid_request("token is missing");
        return Err(super::refused::request(&state, &client.id, "oidc.revoke", e, json!({})).await);
    };
    let gid = match state.oidc.verify_own(token) {
        Ok((_, claims)) => claims.get("gid").and_then(Value::as_str).map(str::to_owned),
        Err(_) => token.split_once('.').map(|(g, _)| g.to_owned()),
    };
    if let Some(gid) = gid
        && let Some(g) = state.store.oidc_grant(&gid).await?
        && g.client_id == client.id
        && state.store.oidc_revoke_grant(&gid).await?.is_some()
    {
        let detail = json!({ "grant": gid });
        portal::audit(&state.store, &format!("oidc:{}", client.id), "oidc.revoke", &client.id, Outcome::Ok, detail)
            .await;
    }
    Ok(StatusCode::OK)
}

/// `GET /logout` (RP-initiated logout 1.0): with a valid `id_token_hint` and a registered
/// `post_logout_redirect_uri`, the session ends and the browser returns to the client; otherwise the user
/// confirms on a form (a cross-site link alone never ends a session without proof from the client).
pub async fn logout_get(
    State(state): State<PortalState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let current = match state.sessions.current(&headers).await {
        Ok(s) => s,
        Err(e) => return OAuthError::from(e).into_response(),
    };
    let actor =
        current.as_ref().map_or_else(|| "portal:anonymous".to_owned(), |(s, _)| format!("portal:{}", s.person_key));
    // A hint that does not verify is refused (audited) and the user asked to confirm, as without one.
    let hint = match query.get("id_token_hint").map(|t| state.oidc.verify_own(t)) {
        Some(Ok((_, claims))) => Some(claims),
        Some(Err(e)) => {
            let why = format!("id_token_hint does not verify ({e}): the user is asked to confirm");
            let detail = json!({ "reason": super::refused::reason(&why) });
            state.refusals.record(&actor, "oidc.logout", "-", detail).await;
            None
        }
        None => None,
    };
    let aud = hint.as_ref().and_then(|c| c.get("aud")).and_then(Value::as_str).map(str::to_owned);
    let target = match (&aud, query.get("post_logout_redirect_uri")) {
        (Some(aud), Some(uri)) => match state.oidc.clients.load(aud).await {
            Ok(Some(c)) if c.config.post_logout_redirect_uris.contains(uri) => Some(uri.clone()),
            Ok(_) => {
                let why = "post_logout_redirect_uri is not registered for this client";
                let detail = json!({ "reason": why, "post_logout_redirect_uri": named(Some(uri)) });
                state.refusals.record(&actor, "oidc.logout", &named(Some(aud)), detail).await;
                return portal::refused_page(StatusCode::BAD_REQUEST, why);
            }
            Err(e) => return e.into_response(),
        },
        _ => None,
    };
    let Some((session, csrf)) = current else {
        return portal::signed_out(target.map(|t| with_state(&t, query.get("state"))).as_deref());
    };
    let sid = hint.as_ref().and_then(|c| c.get("sid")).and_then(Value::as_str);
    let ours = super::sid(&session.id_hash);
    if hint.is_none() || sid != Some(ours.as_str()) {
        return portal::confirm_logout(&csrf);
    }
    portal::end_session(&state, &session).await;
    portal::signed_out(target.map(|t| with_state(&t, query.get("state"))).as_deref())
}

fn with_state(uri: &str, state: Option<&String>) -> String {
    match state {
        Some(s) => {
            let sep = if uri.contains('?') { '&' } else { '?' };
            format!("{uri}{sep}{}", super::authorize::encode(&[("state".into(), s.clone())]))
        }
        None => uri.to_owned(),
    }
}
