//! The admin API (`/api/v1/…`, HTTPS only): facility applications, the approval queue and lifecycle,
//! enrollment credentials and a facility's certificates, as JSON. Handlers only adapt JSON to
//! [`operations`], which the web console shares: [`Caller`] says who is calling, `hcpki_ca::access::decide`
//! (through [`Caller::may`]) whether they may, `Authority` does it and its store audits it. Every refusal — authentication, authorization, bad input, conflicts — is
//! audited with the caller as actor before it is answered.

pub mod compliance;
pub mod rollover;
pub mod routers;
pub mod vetting;

use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::app::auth::Caller;
use crate::app::operations::oidc_clients as oidc_ops;
use crate::app::operations::{self, Application, CredentialRequest};
use crate::output::{credential_json, facility_json};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hcpki_ca::access::{Action, AdminBasis, Principal};
use hcpki_ca::facility::{Facility, FacilityId, FacilityState, PhoneDigits};
use hcpki_ca::store::FacilityFilter;
use hcpki_ca::store::halt::ApprovalOutcome;
use hcpki_sso::oidc::client_secret;
use hcpki_sso::oidc::jws::SigningAlg;
use hcpki_sso::oidc::registration::Registration;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::str::FromStr;

/// Largest JSON body accepted; the largest legitimate request (an application) is well under 2 KiB.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Facilities per page of the list: the default, and the most one request may ask for.
const DEFAULT_PAGE: i64 = 100;
const MAX_PAGE: i64 = 1000;

type ApiResult = Result<Response, ApiError>;

/// `POST /api/v1/applications` (anyone): a facility applies; the answer carries its ID and state `applied`.
pub async fn apply(State(state): State<AppState>, caller: Caller, body: Body) -> ApiResult {
    let a: Application = read_json(&caller, &Action::Apply.name(), "-", body).await?;
    let f = operations::apply(&state, &caller, &a).await?;
    Ok((StatusCode::CREATED, Json(facility_body(&state, &f))).into_response())
}

/// `GET /api/v1/facilities?state=applied&after=ID&limit=N` (operators and auditors): facilities by ID, at
/// most `limit` (1–1000, default 100) after `after`; `next` is the `after` of the following page, if any.
pub async fn list_facilities(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult {
    caller.may(Action::ListFacilities).await?;
    let action = Action::ListFacilities.name();
    let filter = match query
        .map_err(|e| format!("{e}: the parameters are state, after and limit"))
        .and_then(|Query(q)| q.filter())
    {
        Ok(f) => f,
        Err(detail) => return Err(caller.refuse(&action, "-", ApiError::bad_request("invalid query", detail)).await),
    };
    let list = operations::list_facilities(&state, &caller, &filter).await?;
    let next = match (list.last(), filter.limit) {
        (Some(last), Some(limit)) if i64::try_from(list.len()).is_ok_and(|n| n >= limit) => Some(last.id.to_string()),
        _ => None,
    };
    let items: Vec<_> = list.iter().map(|f| facility_body(&state, f)).collect();
    Ok(Json(serde_json::json!({ "facilities": items, "next": next })).into_response())
}

/// The query of [`list_facilities`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    state: Option<String>,
    /// A telephone number the facility's contact holds (`PhoneDigits`: separators, full-width digits and +81
    /// folded), as the console's search takes it.
    phone: Option<String>,
    after: Option<String>,
    limit: Option<i64>,
}

impl ListQuery {
    fn filter(&self) -> Result<FacilityFilter, String> {
        let state = self
            .state
            .as_deref()
            .map(FacilityState::from_str)
            .transpose()
            .map_err(|e| format!("{e}: use applied, approved, active, suspended, retired or rejected"))?;
        let after = self.after.as_deref().map(FacilityId::parse).transpose().map_err(|e| format!("after: {e}"))?;
        let limit = match self.limit {
            None => DEFAULT_PAGE,
            Some(n) if (1..=MAX_PAGE).contains(&n) => n,
            Some(n) => return Err(format!("limit {n} is outside 1–{MAX_PAGE}")),
        };
        let phone = self.phone.as_deref().map(PhoneDigits::parse).transpose().map_err(|e| format!("phone: {e}"))?;
        Ok(FacilityFilter { state, phone, after, limit: Some(limit), ..FacilityFilter::default() })
    }
}

/// `GET /api/v1/facilities/{id}` (operators, auditors, the facility's admin).
pub async fn facility(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult {
    let f = operations::facility(&state, &caller, &id).await?;
    Ok(Json(facility_body(&state, &f)).into_response())
}

/// `POST /api/v1/facilities/{id}/{approve|reject|suspend|resume|retire}` (operators), body
/// `{"reason": "…"}` (required to reject, suspend and retire).
pub async fn transition(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, verb)): Path<(String, String)>,
    body: Body,
) -> ApiResult {
    let (id, t) = operations::authorize_transition(&caller, &id, &verb).await?;
    let r: Reason = read_json(&caller, &format!("admin.facility.{}", t.verb()), id.as_str(), body).await?;
    let f = operations::transition(&state, &caller, &id, t, r.reason.as_deref()).await?;
    Ok(Json(facility_body(&state, &f)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Reason {
    reason: Option<String>,
}

/// `POST /api/v1/facilities/{id}/credentials` (operators; the facility's admin with its PC certificate):
/// body `{"protocol": "est", "profiles": ["router"], "valid_for": "7d"}`; the secret is in this answer only.
pub async fn create_credential(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult {
    let id = operations::authorize_credential(&caller, &id).await?;
    let c: CredentialRequest = read_json(&caller, "admin.credential.create", id.as_str(), body).await?;
    let minted = operations::create_credential(&state, &caller, &id, &c).await?;
    let mut body = credential_json(&minted.record, state.clock.now());
    if let Some(o) = body.as_object_mut() {
        for (k, v) in minted.device_fields() {
            o.insert(k.into(), v.as_str().into());
        }
    }
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `GET /api/v1/facilities/{id}/credentials` (operators, auditors, the facility's admin): no secrets.
pub async fn list_credentials(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult {
    let list = operations::credentials(&state, &caller, &id).await?;
    let now = state.clock.now();
    let items: Vec<_> = list.iter().map(|c| credential_json(c, now)).collect();
    Ok(Json(serde_json::json!({ "credentials": items })).into_response())
}

/// `POST /api/v1/credentials/{id}/revoke` (operators; the facility's admin with its PC certificate).
pub async fn revoke_credential(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult {
    let name = "admin.credential.revoke";
    caller.authenticated(name).await?;
    let _: serde_json::Map<String, serde_json::Value> = read_json(&caller, name, "-", body).await?;
    let c = operations::revoke_credential(&state, &caller, &id).await?;
    Ok(Json(credential_json(&c, state.clock.now())).into_response())
}

/// What `POST /api/v1/facilities/{id}/session-lifetime` takes: hours (1–168), or null to clear.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LifetimeBody {
    /// The facility's SSO session lifetime in hours; `null` returns it to `[portal] session_hours`.
    hours: Option<u32>,
}

/// `POST /api/v1/facilities/{id}/session-lifetime` (operators): the facility's SSO session lifetime for new
/// sessions (D26; live sessions keep their deadline).
pub async fn session_lifetime(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult {
    let name = "admin.facility.session_lifetime";
    caller.authenticated(name).await?;
    let b: LifetimeBody = read_json(&caller, name, &id, body).await?;
    let changed = operations::set_session_lifetime(&state, &caller, &id, b.hours).await?;
    Ok(Json(serde_json::json!({ "facility": id, "hours": b.hours, "changed": changed })).into_response())
}

/// What `POST /api/v1/certificates/{serial}/revoke` takes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeBody {
    /// RFC 5280 reason name; `unspecified` when absent.
    reason: Option<String>,
}

/// `POST /api/v1/certificates/{serial}/revoke` (operators; the facility's admin by PC certificate): revoke a
/// facility certificate with an RFC 5280 reason. hcpki's own certificates (server, OCSP, operators) are
/// revoked with the CLI.
pub async fn revoke_certificate(
    State(state): State<AppState>,
    caller: Caller,
    Path(serial): Path<String>,
    body: Body,
) -> ApiResult {
    let name = "admin.certificate.revoke";
    caller.authenticated(name).await?;
    let request: RevokeBody = read_json(&caller, name, "-", body).await?;
    let c = operations::revoke_certificate(&state, &caller, &serial, request.reason.as_deref()).await?;
    Ok(Json(serde_json::to_value(&c).unwrap_or_default()).into_response())
}

/// `GET /api/v1/facilities/{id}/certificates` (operators, auditors, the facility's admin): newest first,
/// with status and expiry.
pub async fn certificates(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult {
    let list = operations::certificates(&state, &caller, &id).await?;
    let now = state.clock.now_unix();
    let items: Vec<_> = list
        .iter()
        .map(|c| {
            let mut v = serde_json::to_value(c).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.insert("expired".into(), (c.not_after <= now).into());
                o.insert("not_after_rfc3339".into(), hcpki_pkix::time::rfc3339(c.not_after).into());
            }
            v
        })
        .collect();
    Ok(Json(serde_json::json!({ "certificates": items })).into_response())
}

/// What `POST` and `DELETE /api/v1/facilities/{id}/addresses` take.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrefixBody {
    /// A prefix (`2001:db8:10::/48`) or a single address (`192.0.2.7`).
    prefix: String,
}

/// `GET /api/v1/facilities/{id}/addresses` (operators, auditors, the facility's admin): the facility's address
/// allocations, the only addresses its router certificates may carry (issue #24, item 2).
pub async fn addresses(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult {
    let list = operations::addresses::list(&state, &caller, &id).await?;
    Ok(Json(serde_json::json!({ "facility": id, "allocations": list })).into_response())
}

/// What `PUT /api/v1/facilities/{id}/security-officer` takes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityOfficerBody {
    /// The officer's name.
    name: String,
    /// How to reach them.
    contact: String,
}

/// `GET /api/v1/facilities/{id}/security-officer` (whoever may read the facility): the facility's security
/// officer (セキュリティ責任者, D155), or `null`.
pub async fn security_officer(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult {
    let officer = operations::security_officer::show(&state, &caller, &id).await?;
    Ok(Json(serde_json::json!({ "facility": id, "security_officer": officer })).into_response())
}

/// `PUT /api/v1/facilities/{id}/security-officer` (the facility's own admins, operators), body
/// `{"name": "…", "contact": "…"}`: 200 with the officer; 400 for an empty, too long or multi-line field.
pub async fn set_security_officer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult {
    let name = "admin.facility.security_officer";
    caller.authenticated(name).await?;
    let b: SecurityOfficerBody = read_json(&caller, name, &id, body).await?;
    let officer = operations::security_officer::set(&state, &caller, &id, &b.name, &b.contact).await?;
    Ok(Json(officer).into_response())
}

/// What `PUT /api/v1/facilities/{id}/passkey-rule` takes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasskeyRuleBody {
    /// `none` (any passkey), `any` (attested hardware keys) or `models`.
    rule: String,
    /// The admitted models' AAGUIDs, for `models`.
    #[serde(default)]
    models: Vec<String>,
}

/// `GET /api/v1/facilities/{id}/passkey-rule` (whoever may read the facility): which passkeys the facility
/// admits (D170).
pub async fn passkey_rule(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult {
    Ok(Json(operations::passkey_rule::show(&state, &caller, &id).await?).into_response())
}

/// `PUT /api/v1/facilities/{id}/passkey-rule` (the facility's own admins, operators), body
/// `{"rule": "models", "models": ["cb69481e-…"]}`: 200 with the rule; 400 for an unknown rule or model id.
pub async fn set_passkey_rule(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult {
    let name = "admin.facility.rules";
    caller.authenticated(name).await?;
    let b: PasskeyRuleBody = read_json(&caller, name, &id, body).await?;
    Ok(Json(operations::passkey_rule::set(&state, &caller, &id, &b.rule, &b.models).await?).into_response())
}

/// What `PUT /api/v1/facilities/{id}/signing-limit` takes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningLimitBody {
    /// At most this many signatures per session (0: off; at most 250).
    max_signatures: u32,
    /// Within this many hours (0: off; at most 24).
    max_hours: u32,
}

/// `GET /api/v1/facilities/{id}/signing-limit` (whoever may read the facility): the facility's limit on signing
/// sessions (D172).
pub async fn signing_limit(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult {
    Ok(Json(operations::signing_limit::show(&state, &caller, &id).await?).into_response())
}

/// `PUT /api/v1/facilities/{id}/signing-limit` (the facility's own admins, operators), body
/// `{"max_signatures": 50, "max_hours": 8}`: 200 with the limit; 400 above 250 signatures or 24 hours.
pub async fn set_signing_limit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult {
    let name = "admin.facility.rules";
    caller.authenticated(name).await?;
    let b: SigningLimitBody = read_json(&caller, name, &id, body).await?;
    let set = operations::signing_limit::set(&state, &caller, &id, b.max_signatures, b.max_hours).await?;
    Ok(Json(set).into_response())
}

/// `?address=` of `GET /api/v1/addresses`.
#[derive(Debug, Deserialize)]
pub struct AddressQuery {
    /// The address seen in an incident.
    address: String,
}

/// `GET /api/v1/addresses?address=192.0.2.7` (operators, auditors; issue #50 item 5): who holds the address now
/// (the allocation and its facility) and every certificate that carried it; audited.
pub async fn find_address(
    State(state): State<AppState>,
    caller: Caller,
    axum::extract::Query(q): axum::extract::Query<AddressQuery>,
) -> ApiResult {
    let found = operations::addresses::find(&state, &caller, &q.address).await?;
    Ok(Json(found).into_response())
}

/// `POST /api/v1/facilities/{id}/addresses` (operators), body `{"prefix": "2001:db8:10::/48"}`: 201, or 409
/// naming the facility that holds an overlapping allocation.
pub async fn add_address(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult {
    let prefix = prefix_body(&caller, &id, body).await?;
    let r = operations::addresses::add(&state, &caller, &id, &prefix).await?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

/// `POST /api/v1/facilities/{id}/devices/{device}/name` (operators, the facility's admin), body `{"name": "受付PC"}`:
/// the PC's display name (D134), `{"device": …, "name": …}`; 400 naming the rule, 404 for a device the facility
/// has no certificate for.
pub async fn name_device(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, device)): Path<(String, String)>,
    body: Body,
) -> ApiResult {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Named {
        name: String,
    }
    let named: Named = read_json(&caller, "admin.device.name", &id, body).await?;
    match operations::devices::name(&state, &caller, &id, &device, &named.name).await {
        Ok(name) => Ok(Json(serde_json::json!({ "device": device, "name": name })).into_response()),
        Err(operations::devices::NameRefused::Name(_, e) | operations::devices::NameRefused::Other(e)) => Err(e),
    }
}

/// `DELETE /api/v1/facilities/{id}/addresses` (operators), body `{"prefix": "…"}` as listed: 200, or 404.
pub async fn remove_address(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult {
    let prefix = prefix_body(&caller, &id, body).await?;
    let r = operations::addresses::remove(&state, &caller, &id, &prefix).await?;
    Ok(Json(r).into_response())
}

/// The prefix a change of allocations names, refusing the anonymous caller before reading anything.
async fn prefix_body(caller: &Caller, id: &str, body: Body) -> Result<String, ApiError> {
    let name = "admin.facility.address.manage";
    caller.authenticated(name).await?;
    let b: PrefixBody = read_json(caller, name, id, body).await?;
    Ok(b.prefix)
}

/// The query of [`users`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsersQuery {
    q: Option<String>,
}

/// `GET /api/v1/users?q=TEXT` (operators and auditors; help desk): the SSO portal's users whose account,
/// name or person key contains `TEXT`, with sign-ins, live sessions and throttle (`operations::users`).
pub async fn users(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<UsersQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult {
    caller.may(Action::SearchUsers).await?;
    let q = match query {
        Ok(Query(q)) => q.q,
        Err(e) => {
            let e = ApiError::bad_request("invalid query", format!("{e}: the parameter is q"));
            return Err(caller.refuse(&Action::SearchUsers.name(), "-", e).await);
        }
    };
    let text = operations::users::query(&caller, q.as_deref()).await?;
    let found = operations::users::search(&state, &caller, &text).await?;
    Ok(Json(found).into_response())
}

/// `GET /api/v1/users/not-ready` (operators and auditors; help desk): the active password accounts with no
/// confirmed second factor (`operations::users::not_ready`, D166).
pub async fn users_not_ready(State(state): State<AppState>, caller: Caller) -> ApiResult {
    let accounts = operations::users::not_ready(&state, &caller).await?;
    Ok(Json(serde_json::json!({ "accounts": accounts })).into_response())
}

/// What `POST /api/v1/users/end-sessions` takes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonBody {
    /// The person key (`pwd:<name>`, `hpki:…`, `jpki:…`), as `GET /api/v1/users` shows it.
    person: String,
}

/// `POST /api/v1/users/end-sessions` (operators): end every live SSO session of a person, with back-channel
/// logout, as the person's own "log out everywhere".
pub async fn end_user_sessions(State(state): State<AppState>, caller: Caller, body: Body) -> ApiResult {
    let name = Action::EndUserSessions.name();
    caller.may(Action::EndUserSessions).await?;
    let b: PersonBody = read_json(&caller, &name, "-", body).await?;
    let ended = operations::users::end_sessions(&state, &caller, &b.person).await?;
    Ok(Json(serde_json::json!({ "person": b.person.trim(), "sessions_ended": ended })).into_response())
}

/// What `POST /api/v1/users/clear-lockout` takes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountBody {
    /// The password account's name.
    account: String,
}

/// `POST /api/v1/users/clear-lockout` (operators): forget a password account's failed sign-ins, so its
/// throttle lets it try at once; `cleared` is false when none were on record.
pub async fn clear_lockout(State(state): State<AppState>, caller: Caller, body: Body) -> ApiResult {
    let name = Action::ClearLockout.name();
    caller.may(Action::ClearLockout).await?;
    let b: AccountBody = read_json(&caller, &name, "-", body).await?;
    let cleared = operations::users::clear_lockout(&state, &caller, &b.account).await?;
    Ok(Json(serde_json::json!({ "account": b.account.trim(), "cleared": cleared })).into_response())
}

/// `GET /api/v1/console-grants` (operators, auditors): who may use the console after a portal sign-in (D42).
pub async fn console_grants(State(state): State<AppState>, caller: Caller) -> ApiResult {
    caller.may(Action::ListConsoleGrants).await?;
    let grants = state.admin.registrar().console_grants().await.map_err(ApiError::from)?;
    Ok(Json(serde_json::json!({ "grants": grants })).into_response())
}

/// What `POST /api/v1/console-grants` takes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleGrantBody {
    /// The person key, as `GET /api/v1/users` shows it.
    person: String,
    /// `operator`, `auditor` or `facility-admin`.
    role: String,
    /// The facility of a facility admin.
    #[serde(default)]
    facility: Option<String>,
    /// A note for the list.
    #[serde(default)]
    note: String,
}

/// `POST /api/v1/console-grants` (operators): grant a person console access or change their role, audited
/// `console.grant.add`.
pub async fn add_console_grant(State(state): State<AppState>, caller: Caller, body: Body) -> ApiResult {
    let name = Action::ManageConsoleGrants.name();
    caller.may(Action::ManageConsoleGrants).await?;
    let b: ConsoleGrantBody = read_json(&caller, &name, "-", body).await?;
    let actor = caller.actor();
    match state.admin.registrar().grant_console(&b.person, &b.role, b.facility.as_deref(), &b.note, &actor).await {
        Ok(g) => Ok((StatusCode::CREATED, Json(g)).into_response()),
        Err(e) => Err(caller.refuse(&name, b.person.trim(), ApiError::from(e)).await),
    }
}

/// `POST /api/v1/console-grants/remove` (operators): take a person's console access away, audited
/// `console.grant.remove`; their console session ends at its next request. 404 when they had none.
pub async fn remove_console_grant(State(state): State<AppState>, caller: Caller, body: Body) -> ApiResult {
    let name = Action::ManageConsoleGrants.name();
    caller.may(Action::ManageConsoleGrants).await?;
    let b: PersonBody = read_json(&caller, &name, "-", body).await?;
    match state.admin.registrar().remove_console_grant(&b.person, &caller.actor()).await {
        Ok(Some(g)) => Ok(Json(g).into_response()),
        Ok(None) => {
            let e = ApiError::not_found(format!("{} has no console grant", b.person.trim()));
            Err(caller.refuse(&name, b.person.trim(), e).await)
        }
        Err(e) => Err(caller.refuse(&name, b.person.trim(), ApiError::from(e)).await),
    }
}

/// `GET /api/v1/regional-networks` (operators, auditors): the declared regional networks (D169).
pub async fn regional_networks(State(state): State<AppState>, caller: Caller) -> ApiResult {
    let list = operations::networks::list(&state, &caller).await?;
    let list: Vec<serde_json::Value> = list.iter().map(crate::output::network_json).collect();
    Ok(Json(serde_json::json!({ "networks": list })).into_response())
}

/// `POST /api/v1/regional-networks` (operators), a declaration as `hcpki network declare`'s file in JSON: 200
/// with the network; 400 with what to correct (the core audits the refusal).
pub async fn declare_regional_network(State(state): State<AppState>, caller: Caller, body: Body) -> ApiResult {
    let name = "network.declared";
    caller.authenticated(name).await?;
    let declaration: hcpki_sso::consent::network::Declaration = read_json(&caller, name, "-", body).await?;
    let n = operations::networks::declare(&state, &caller, &declaration).await?;
    Ok(Json(crate::output::network_json(&n)).into_response())
}

/// `GET /api/v1/oidc-clients` (operators, auditors): the registered relying parties, as `hcpki oidc client
/// list` shows them (their public keys included: nothing here is secret).
pub async fn oidc_clients(State(state): State<AppState>, caller: Caller) -> ApiResult {
    let clients = oidc_ops::list(&state, &caller).await?;
    Ok(Json(serde_json::json!({ "clients": clients })).into_response())
}

/// What `POST /api/v1/oidc-clients` takes: the options of `hcpki oidc client add` as fields, the keys inline
/// (`jwks`) rather than in a file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcClientBody {
    /// The client_id.
    id: String,
    /// Exact redirect URIs.
    redirect_uris: Vec<String>,
    /// `private_key_jwt`, `tls_client_auth` or `self_signed_tls_client_auth`.
    auth: String,
    /// The client's public keys (a JWKS).
    #[serde(default)]
    jwks: Option<serde_json::Value>,
    /// The certificate subject DN (`tls_client_auth`).
    #[serde(default)]
    tls_subject: Option<String>,
    /// The service whose rules and claims apply.
    service: String,
    /// Where RP-initiated logout may return.
    #[serde(default)]
    post_logout_redirect_uris: Vec<String>,
    /// Where back-channel logout tokens are POSTed.
    #[serde(default)]
    backchannel_logout_uri: Option<String>,
    /// ES256 (default), RS256 or PS256; anything else (`none`, HS*) fails to parse.
    #[serde(default)]
    id_token_signed_response_alg: SigningAlg,
    /// Signed userinfo: ES256, RS256 or PS256.
    #[serde(default)]
    userinfo_signed_response_alg: Option<SigningAlg>,
    /// Authorization requests only through PAR (RFC 9126 §6); false when absent, as the RFC says.
    #[serde(default)]
    require_pushed_authorization_requests: bool,
    /// The clients it may exchange tokens to (RFC 8693, D96).
    #[serde(default)]
    token_exchange_audiences: Vec<String>,
}

/// `POST /api/v1/oidc-clients` (operators): register a relying party, checked and audited (`oidc.client.add`)
/// exactly as `hcpki oidc client add` and the console; 409 when the id is taken.
pub async fn add_oidc_client(State(state): State<AppState>, caller: Caller, body: Body) -> ApiResult {
    caller.may(Action::ManageOidcClients).await?;
    let b: OidcClientBody = read_json(&caller, &Action::ManageOidcClients.name(), "-", body).await?;
    let r = Registration {
        id: b.id,
        redirect_uris: b.redirect_uris,
        auth: b.auth,
        jwks: b.jwks,
        tls_subject: b.tls_subject,
        service: b.service,
        post_logout_redirect_uris: b.post_logout_redirect_uris,
        backchannel_logout_uri: b.backchannel_logout_uri,
        id_token_signed_response_alg: b.id_token_signed_response_alg,
        userinfo_signed_response_alg: b.userinfo_signed_response_alg,
        require_pushed_authorization_requests: b.require_pushed_authorization_requests,
        token_exchange_audiences: b.token_exchange_audiences,
    };
    let c = oidc_ops::add(&state, &caller, r).await?;
    Ok((StatusCode::CREATED, Json(c)).into_response())
}

/// `DELETE /api/v1/oidc-clients/{id}` (operators): remove a relying party and revoke its grants, audited
/// (`oidc.client.remove`) exactly as `hcpki oidc client remove` and the console; 404 when there is none.
pub async fn remove_oidc_client(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult {
    oidc_ops::remove(&state, &caller, &id).await?;
    Ok(Json(serde_json::json!({ "removed": id })).into_response())
}

/// The body of [`rotate_oidc_client_secret`].
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RotateSecretBody {
    /// Seconds the previous secret keeps working (at most 30 days; default one day).
    overlap_secs: Option<i64>,
}

/// `POST /api/v1/oidc-clients/{id}/rotate-secret` (operators; JSON `{}` or `{"overlap_secs": N}`): a new secret
/// for a client registered with one, shown in this answer only, the previous one kept for the overlap
/// (`previous_until`, Unix seconds; null: it stopped at once); audited (`oidc.client.secret_rotate`) exactly as
/// `hcpki oidc client rotate-secret` and the console.
pub async fn rotate_oidc_client_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult {
    caller.may(Action::ManageOidcClients).await?;
    let b: RotateSecretBody = read_json(&caller, &Action::ManageOidcClients.name(), &id, body).await?;
    let overlap = b.overlap_secs.unwrap_or(client_secret::DEFAULT_OVERLAP_SECS);
    let rotated = oidc_ops::rotate_secret(&state, &caller, &id, overlap).await?;
    let answer =
        serde_json::json!({ "id": id, "client_secret": rotated.secret, "previous_until": rotated.previous_until });
    Ok(Json(answer).into_response())
}

// ---- registration authorities (D167) ----

/// `GET /api/v1/ras` (operators and auditors, an RA's too): every registration authority (name, kind, label,
/// prefectures) and every member (`operator:<name>` or `person:<key>`) with its RA.
pub async fn ras(State(state): State<AppState>, caller: Caller) -> ApiResult {
    let (ras, members) = operations::ras::list(&state, &caller).await?;
    let members: Vec<_> = members.iter().map(|(m, ra)| serde_json::json!({ "member": m, "ra": ra })).collect();
    Ok(Json(serde_json::json!({ "ras": ras, "members": members })).into_response())
}

/// `POST /api/v1/ras` (central operators), body `{"name", "kind": "provider"|"prefecture", "label",
/// "prefectures": ["13"]}`: 201 with the RA; 400 malformed, 409 the name taken.
pub async fn create_ra(State(state): State<AppState>, caller: Caller, body: Body) -> ApiResult {
    caller.may(Action::ManageRas).await?;
    let new: hcpki_ca::registrar::ra::NewRa = read_json(&caller, "ra.create", "-", body).await?;
    let ra = operations::ras::create(&state, &caller, &new).await?;
    Ok((StatusCode::CREATED, Json(ra)).into_response())
}

/// What `POST /api/v1/ras/assign` takes: the facility and its provider RA (`null`: none).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    facility: String,
    ra: Option<String>,
}

/// `POST /api/v1/ras/assign` (central operators), body `{"facility": ID, "ra": NAME|null}`: the facility's
/// placement after it (prefecture, provider).
pub async fn assign_ra(State(state): State<AppState>, caller: Caller, body: Body) -> ApiResult {
    caller.may(Action::ManageRas).await?;
    let b: AssignBody = read_json(&caller, "ra.assign", "-", body).await?;
    let p = operations::ras::assign(&state, &caller, &b.facility, b.ra.as_deref()).await?;
    let answer = serde_json::json!({
        "facility": p.facility.as_str(), "prefecture": p.prefecture, "provider": p.provider,
    });
    Ok(Json(answer).into_response())
}

/// What `POST /api/v1/ras/members` takes: one of `operator` (a name) or `person` (a person key), and the RA
/// (`null`: central).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberBody {
    operator: Option<String>,
    person: Option<String>,
    ra: Option<String>,
}

/// `POST /api/v1/ras/members` (central operators), body `{"operator": NAME, "ra": NAME|null}` or `{"person":
/// KEY, …}`: 204; the member acts for the RA from their next request.
pub async fn set_ra_member(State(state): State<AppState>, caller: Caller, body: Body) -> ApiResult {
    caller.may(Action::ManageRas).await?;
    let b: MemberBody = read_json(&caller, "ra.member", "-", body).await?;
    let member = operations::ras::member(&caller, b.operator.as_deref(), b.person.as_deref()).await?;
    operations::ras::set_member(&state, &caller, &member, b.ra.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /api/v1/whoami`: the caller's principal.
pub async fn whoami(caller: Caller) -> ApiResult {
    caller.may(Action::WhoAmI).await?;
    let body = match &caller.principal {
        Principal::Operator { name, role, .. } => {
            serde_json::json!({ "principal": "operator", "name": name, "role": role })
        }
        Principal::Person { person_key, name, role, .. } => {
            serde_json::json!({ "principal": "person", "person_key": person_key, "name": name, "role": role })
        }
        Principal::FacilityAdmin { facility, basis } => {
            let by = match basis {
                AdminBasis::Certificate(_) => "certificate",
                AdminBasis::Credential(_) => "credential",
                AdminBasis::Person { .. } => "portal",
            };
            serde_json::json!({ "principal": "facility-admin", "facility": facility.as_str(), "authenticated_by": by })
        }
        _ => serde_json::json!({ "principal": "anonymous" }),
    };
    // An RA's staff are told which RA they act for (D167); central staff's answer is as before.
    let mut body = body;
    if let (Some(ra), Some(map)) = (caller.principal.ra(), body.as_object_mut()) {
        map.insert("ra".into(), serde_json::json!(ra.name));
    }
    Ok(Json(body).into_response())
}

// ---- the issuance stop switch (D135) ----

/// `GET /api/v1/ca/halt` (operators, auditors): `{"halted": false}`, or `{"halted": true, "halt": …}` with the
/// reason, who halted and when, and the approvals to resume so far.
pub async fn issuance_halt(State(state): State<AppState>, caller: Caller) -> ApiResult {
    let halt = operations::halt::status(&state, &caller).await?;
    Ok(Json(serde_json::json!({ "halted": halt.is_some(), "halt": halt })).into_response())
}

/// `GET /api/v1/ca/cps` (operators, auditors): this installation's CP/CPS draft, Markdown (D150), as `hcpki cps`
/// writes it.
pub async fn practice(State(state): State<AppState>, caller: Caller) -> ApiResult {
    let doc = operations::practice::draft(&state, &caller).await?;
    Ok(([(axum::http::header::CONTENT_TYPE, "text/markdown; charset=utf-8")], doc).into_response())
}

/// What `POST /api/v1/ca/halt` takes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HaltBody {
    /// Why, shown to every refused requester (1–500 characters on one line).
    reason: String,
}

/// `POST /api/v1/ca/halt` (operators): halt all issuance on every replica now; 201 with the halt, 409 when one
/// is already in force.
pub async fn halt_issuance(State(state): State<AppState>, caller: Caller, body: Body) -> ApiResult {
    caller.may(Action::HaltIssuance).await?;
    let b: HaltBody = read_json(&caller, &Action::HaltIssuance.name(), "issuance", body).await?;
    let halt = operations::halt::halt(&state, &caller, &b.reason).await?.map_err(operations::halt::refused)?;
    Ok((StatusCode::CREATED, Json(halt)).into_response())
}

/// `POST /api/v1/ca/halt/approve` (operators, each a named person): approve resuming; `resumed` is true when this
/// was the second different person's approval within the hour, else `still_needed` says how many more.
pub async fn approve_resume(State(state): State<AppState>, caller: Caller) -> ApiResult {
    let body = match operations::halt::approve_resume(&state, &caller).await?.map_err(operations::halt::refused)? {
        ApprovalOutcome::Recorded { halt, still_needed } => {
            serde_json::json!({ "resumed": false, "still_needed": still_needed, "halt": halt })
        }
        ApprovalOutcome::Resumed { halt } => serde_json::json!({ "resumed": true, "halt": halt }),
    };
    Ok(Json(body).into_response())
}

// ---- helpers ----

/// The body as JSON of type `T` (an empty body reads as `{}`): 413 over [`MAX_BODY_BYTES`], 400 with serde's
/// message (which names the field and position) otherwise; both audited.
async fn read_json<T: DeserializeOwned>(
    caller: &Caller,
    action: &str,
    target: &str,
    body: Body,
) -> Result<T, ApiError> {
    let bytes = match crate::web::body::read_limited(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => return Err(caller.refuse(action, target, ApiError::too_large(MAX_BODY_BYTES)).await),
    };
    let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { &bytes };
    match serde_json::from_slice(text) {
        Ok(v) => Ok(v),
        Err(e) => {
            let e = ApiError::bad_request("invalid JSON", format!("{e}; see the admin API in docs/operator-guide.md"));
            Err(caller.refuse(action, target, e).await)
        }
    }
}

fn facility_body(state: &AppState, f: &Facility) -> serde_json::Value {
    facility_json(f, &state.admin.settings().router_dns_name(&f.id))
}
