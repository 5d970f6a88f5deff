//! `/scim/v2/…` (RFC 7644; issue #51 item 3, D158): the HTTP adapter of `hcpki_sso::scim`. It reads the
//! bearer token (a SCIM token from `/token`'s client-credentials grant), finds the facility the client is bound
//! to (read again on every request, so removing a binding takes effect at once), reads the query, the JSON body
//! and `If-Match`, calls the core, and writes `application/scim+json` with the resource's `ETag`. Refused writes
//! are audited with the client as actor; the writes themselves are audited by the store.

use crate::portal::PortalState;
use crate::web::headers::bearer_token;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hcpki_ca::facility::FacilityId;
use hcpki_ca::store::Actor;
use hcpki_sso::oidc::client_credentials::{self, BearerKind, CallerRefused, SCIM_PATH};
use hcpki_sso::scim::error::{ScimError, ScimType};
use hcpki_sso::scim::list::ListQuery;
use hcpki_sso::scim::{Provisioning, Written, discovery, version};
use serde_json::Value;

/// The SCIM media type (RFC 7644 §3.1).
const SCIM_JSON: &str = "application/scim+json";

/// The routes under [`SCIM_PATH`].
pub fn routes() -> Router<PortalState> {
    let at = |p: &str| format!("{SCIM_PATH}{p}");
    Router::new()
        .route(&at("/ServiceProviderConfig"), get(service_provider_config))
        .route(&at("/ResourceTypes"), get(resource_types))
        .route(&at("/ResourceTypes/{id}"), get(resource_type))
        .route(&at("/Schemas"), get(schemas))
        .route(&at("/Schemas/{id}"), get(schema))
        .route(&at("/Users"), get(list_users).post(create_user))
        .route(&at("/Users/.search"), axum::routing::post(search_users))
        .route(&at("/Users/{id}"), get(get_user).put(replace_user).patch(patch_user).delete(delete_user))
        .route(&at("/Groups"), get(list_groups).post(create_group))
        .route(&at("/Groups/.search"), axum::routing::post(search_groups))
        .route(&at("/Groups/{id}"), get(get_group).put(replace_group).patch(patch_group).delete(delete_group))
        .route(&at("/Bulk"), axum::routing::post(bulk))
        .route(&at("/.search"), axum::routing::post(search_all))
        // Anything else under the base is a SCIM 404, not the portal's page (RFC 7644 §3.12).
        .route(&at("/{*rest}"), axum::routing::any(no_such_endpoint))
}

/// The base URL resources are located under.
fn base(state: &PortalState) -> String {
    format!("{}{SCIM_PATH}", state.oidc.issuer)
}

/// A SCIM answer: the JSON with its status, `ETag` when it is one resource, `Location` when it was created
/// (RFC 7644 §3.3).
fn answer(status: StatusCode, body: Value) -> Response {
    let etag = version::current(&body).map(str::to_owned);
    let location = (status == StatusCode::CREATED)
        .then(|| body.pointer("/meta/location").and_then(Value::as_str).map(str::to_owned))
        .flatten();
    let mut response = (status, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
    if let Some(tag) = etag.and_then(|t| HeaderValue::from_str(&t).ok()) {
        headers.insert(header::ETAG, tag);
    }
    if let Some(l) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        headers.insert(header::LOCATION, l);
    }
    response
}

/// A SCIM error's answer (RFC 7644 §3.12).
fn error(e: &ScimError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status.is_server_error() {
        tracing::error!(detail = %e.detail, "SCIM request failed");
    }
    let mut response = answer(status, e.body());
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"scim\", error=\"invalid_token\""),
        );
    }
    response
}

/// The calling client and its facility, or the 401 to answer.
struct Caller {
    client_id: String,
    facility: FacilityId,
}

impl Caller {
    async fn of(state: &PortalState, headers: &HeaderMap) -> Result<Self, Response> {
        let unauthorized = |why: String| error(&ScimError::status(401, why));
        let Some(token) = bearer_token(headers) else {
            return Err(unauthorized(
                "no bearer token: get one from /token with grant_type=client_credentials and scope=scim".to_owned(),
            ));
        };
        let now = state.clock.now_unix();
        let client_id = client_credentials::registered_caller(&state.oidc, token, now, BearerKind::Scim)
            .await
            .map_err(|e| match e {
                CallerRefused::Registry(_) => error(&ScimError::status(500, e.to_string())),
                refused => unauthorized(refused.to_string()),
            })?;
        // The binding is read on every request: a client unbound (or moved) loses access at once.
        match state.store.scim_client(&client_id).await {
            Ok(Some(bound)) => Ok(Self { client_id, facility: bound.facility }),
            Ok(None) => Err(unauthorized(format!(
                "client {client_id} is no longer bound to a facility for SCIM: ask the operator (hcpki scim client add)"
            ))),
            Err(e) => Err(error(&ScimError::status(500, format!("the store failed ({e}); retry later")))),
        }
    }

    fn actor(&self) -> Actor {
        Actor(format!("scim:{}", self.client_id))
    }
}

/// A request's caller, its view of the provisioning core's inputs, and the time.
struct Ctx {
    caller: Caller,
    base: String,
    now_ms: i64,
    /// De-provisioning announced by the Shared Signals transmitter (D162).
    signals: hcpki_sso::ssf::Deprovisioning,
}

impl Ctx {
    /// The caller of `headers`, or the 401 to answer.
    async fn of(state: &PortalState, headers: &HeaderMap) -> Result<Self, Response> {
        let caller = Caller::of(state, headers).await?;
        let signals = hcpki_sso::ssf::Deprovisioning { provider: state.oidc.clone() };
        Ok(Self { caller, base: base(state), now_ms: state.clock.now().as_millis(), signals })
    }

    /// The provisioning core as this caller sees it.
    fn core<'a>(&'a self, state: &'a PortalState) -> Provisioning<'a> {
        Provisioning {
            store: state.store.as_ref(),
            secret: &state.secret,
            facility: &self.caller.facility,
            actor: self.caller.actor(),
            base: &self.base,
            signals: &self.signals,
        }
    }

    /// A write's answer; a refusal (4xx) audited `scim.refused` with the client as actor (the writes themselves
    /// are audited by the store).
    async fn written(
        &self,
        state: &PortalState,
        request: &str,
        target: &str,
        result: Result<(StatusCode, Value), ScimError>,
    ) -> Response {
        if let Err(e) = &result
            && (400..500).contains(&e.status)
        {
            let detail = serde_json::json!({
                "request": request,
                "status": e.status,
                "scimType": e.scim_type.map(ScimType::as_str),
                "reason": e.detail.chars().take(512).collect::<String>(),
            });
            state.refusals.record(self.caller.actor().as_str(), "scim.refused", target, detail).await;
        }
        respond(result)
    }
}

/// The core's answer as a response.
fn respond(result: Result<(StatusCode, Value), ScimError>) -> Response {
    match result {
        Ok((StatusCode::NO_CONTENT, _)) => StatusCode::NO_CONTENT.into_response(),
        Ok((status, body)) => answer(status, body),
        Err(e) => error(&e),
    }
}

/// The caller's context, or return its 401.
macro_rules! ctx {
    ($state:expr, $headers:expr) => {
        match Ctx::of(&$state, &$headers).await {
            Ok(c) => c,
            Err(refused) => return refused,
        }
    };
}

fn query(raw: Option<String>) -> Result<ListQuery, ScimError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.as_deref().unwrap_or_default())
        .map_err(|e| ScimError::bad(ScimType::InvalidValue, format!("the query does not read: {e}")))?;
    ListQuery::parse(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())))
}

fn json(body: &Bytes) -> Result<Value, ScimError> {
    serde_json::from_slice(body).map_err(|e| {
        ScimError::bad(ScimType::InvalidSyntax, format!("the body is not JSON ({e}): send a SCIM message"))
    })
}

fn if_match(headers: &HeaderMap) -> Option<String> {
    headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

fn written(w: Written) -> (StatusCode, Value) {
    (StatusCode::OK, w.resource)
}

async fn service_provider_config(State(state): State<PortalState>) -> Response {
    let docs = "https://github.com/hcpki/hcpki/blob/main/docs/operator-guide.md#scim-provisioning";
    answer(StatusCode::OK, discovery::service_provider_config(&base(&state), docs))
}

async fn resource_types(State(state): State<PortalState>) -> Response {
    answer(StatusCode::OK, discovery::list(discovery::resource_types(&base(&state))))
}

async fn resource_type(State(state): State<PortalState>, Path(id): Path<String>) -> Response {
    one_of(discovery::resource_types(&base(&state)), &id, "ResourceType")
}

async fn schemas(State(state): State<PortalState>) -> Response {
    answer(StatusCode::OK, discovery::list(discovery::schemas(&base(&state))))
}

async fn schema(State(state): State<PortalState>, Path(id): Path<String>) -> Response {
    one_of(discovery::schemas(&base(&state)), &id, "Schema")
}

fn one_of(all: Vec<Value>, id: &str, kind: &str) -> Response {
    match all.into_iter().find(|r| r.get("id").and_then(Value::as_str) == Some(id)) {
        Some(r) => answer(StatusCode::OK, r),
        None => error(&ScimError::not_found(format!("no {kind} {id:?}: list them without an id"))),
    }
}

async fn list_users(State(state): State<PortalState>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let ctx = ctx!(state, headers);
    respond(async { Ok((StatusCode::OK, ctx.core(&state).list_users(&query(raw)?).await?)) }.await)
}

async fn search_users(State(state): State<PortalState>, headers: HeaderMap, body: Bytes) -> Response {
    let ctx = ctx!(state, headers);
    let q = |body: &Bytes| ListQuery::from_search(&json(body)?);
    respond(async { Ok((StatusCode::OK, ctx.core(&state).list_users(&q(&body)?).await?)) }.await)
}

async fn search_all(State(state): State<PortalState>, headers: HeaderMap, body: Bytes) -> Response {
    let ctx = ctx!(state, headers);
    let q = |body: &Bytes| ListQuery::from_search(&json(body)?);
    respond(async { Ok((StatusCode::OK, ctx.core(&state).search_all(&q(&body)?).await?)) }.await)
}

async fn get_user(
    State(state): State<PortalState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let ctx = ctx!(state, headers);
    respond(async { Ok((StatusCode::OK, ctx.core(&state).get_user(&id, &query(raw)?).await?)) }.await)
}

async fn create_user(State(state): State<PortalState>, headers: HeaderMap, body: Bytes) -> Response {
    let ctx = ctx!(state, headers);
    let result =
        async { Ok((StatusCode::CREATED, ctx.core(&state).create_user(&json(&body)?, ctx.now_ms).await?)) }.await;
    ctx.written(&state, "create User", "-", result).await
}

async fn replace_user(
    State(state): State<PortalState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let ctx = ctx!(state, headers);
    let tag = if_match(&headers);
    let result = async {
        let w = ctx.core(&state).replace_user(&id, &json(&body)?, tag.as_deref(), ctx.now_ms).await?;
        Ok(written(w))
    }
    .await;
    ctx.written(&state, "replace User", &id, result).await
}

async fn patch_user(
    State(state): State<PortalState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let ctx = ctx!(state, headers);
    let tag = if_match(&headers);
    let result = async {
        let w = ctx.core(&state).patch_user(&id, &json(&body)?, tag.as_deref(), ctx.now_ms).await?;
        Ok(written(w))
    }
    .await;
    ctx.written(&state, "patch User", &id, result).await
}

async fn delete_user(State(state): State<PortalState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let ctx = ctx!(state, headers);
    let tag = if_match(&headers);
    let result = async {
        ctx.core(&state).delete_user(&id, tag.as_deref(), ctx.now_ms).await?;
        Ok((StatusCode::NO_CONTENT, Value::Null))
    }
    .await;
    ctx.written(&state, "delete User", &id, result).await
}

async fn list_groups(State(state): State<PortalState>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let ctx = ctx!(state, headers);
    respond(async { Ok((StatusCode::OK, ctx.core(&state).list_groups(&query(raw)?).await?)) }.await)
}

async fn search_groups(State(state): State<PortalState>, headers: HeaderMap, body: Bytes) -> Response {
    let ctx = ctx!(state, headers);
    let q = |body: &Bytes| ListQuery::from_search(&json(body)?);
    respond(async { Ok((StatusCode::OK, ctx.core(&state).list_groups(&q(&body)?).await?)) }.await)
}

async fn get_group(
    State(state): State<PortalState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let ctx = ctx!(state, headers);
    respond(async { Ok((StatusCode::OK, ctx.core(&state).get_group(&id, &query(raw)?).await?)) }.await)
}

async fn replace_group(
    State(state): State<PortalState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let ctx = ctx!(state, headers);
    let tag = if_match(&headers);
    let result = async {
        Ok((StatusCode::OK, ctx.core(&state).replace_group(&id, &json(&body)?, tag.as_deref(), ctx.now_ms).await?))
    }
    .await;
    ctx.written(&state, "replace Group", &id, result).await
}

async fn patch_group(
    State(state): State<PortalState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let ctx = ctx!(state, headers);
    let tag = if_match(&headers);
    let result = async {
        Ok((StatusCode::OK, ctx.core(&state).patch_group(&id, &json(&body)?, tag.as_deref(), ctx.now_ms).await?))
    }
    .await;
    ctx.written(&state, "patch Group", &id, result).await
}

/// Groups are the console grants and the services' policy: none is made or removed over SCIM (D158).
async fn create_group(State(state): State<PortalState>, headers: HeaderMap) -> Response {
    let ctx = ctx!(state, headers);
    let e = ScimError::mutability(
        "Groups are the console administrators and the services file's services: none can be created here",
    );
    ctx.written(&state, "create Group", "-", Err(e)).await
}

async fn delete_group(State(state): State<PortalState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let ctx = ctx!(state, headers);
    let e = ScimError::mutability("Groups cannot be deleted: remove members from console-admin instead");
    ctx.written(&state, "delete Group", &id, Err(e)).await
}

async fn no_such_endpoint() -> Response {
    error(&ScimError::not_found(
        "no such SCIM endpoint: see /ResourceTypes for the resources (Users, Groups) and their endpoints",
    ))
}

async fn bulk() -> Response {
    error(&ScimError::status(
        501,
        "bulk operations are not supported (see /ServiceProviderConfig): send one request each",
    ))
}
