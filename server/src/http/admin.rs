//! The admin API (`/api/v1/…`, HTTPS only): facility applications, the approval queue and lifecycle,
//! enrollment credentials and a facility's certificates, as JSON. Handlers only adapt: [`Caller`] says who
//! is calling, `hcpki_ca::access::decide` (through [`Caller::may`]) whether they may, `Authority` does it
//! and its store audits it. Every refusal — authentication, authorization, bad input, conflicts — is
//! audited with the caller as actor before it is answered.

use super::AppState;
use super::api_error::ApiError;
use super::auth::Caller;
use crate::output::{credential_json, facility_json};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hcpki_ca::access::{Action, AdminBasis, Principal};
use hcpki_ca::enroll::NewCredential;
use hcpki_ca::enroll::credential::{self, DEFAULT_VALIDITY_SECS, Protocol};
use hcpki_ca::facility::{Facility, FacilityId, FacilityKind, FacilityState, NewFacility, Transition};
use hcpki_ca::profile::ProfileKind;
use hcpki_ca::store::{CertificateFilter, FacilityFilter};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::str::FromStr;

/// Largest JSON body accepted; the largest legitimate request (an application) is well under 2 KiB.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Per-field limits (characters), so no field can fill a row or a log line.
const MAX_NAME: usize = 200;
const MAX_ADDRESS: usize = 300;
const MAX_CONTACT: usize = 200;
const MAX_SHORT: usize = 32;
const MAX_REASON: usize = 500;
const MAX_PROFILES: usize = 4;
/// Facilities per page of the list: the default, and the most one request may ask for.
const DEFAULT_PAGE: i64 = 100;
const MAX_PAGE: i64 = 1000;

type ApiResult = Result<Response, ApiError>;

/// `POST /api/v1/applications` (anyone): a facility applies; the answer carries its ID and state `applied`.
pub async fn apply(State(state): State<AppState>, caller: Caller, body: Body) -> ApiResult {
    caller.may(Action::Apply).await?;
    let action = Action::Apply.name();
    let a: Application = read_json(&caller, &action, "-", body).await?;
    let new = application(&a).map_err(|e| ApiError::bad_request("invalid application", e));
    let new = match new {
        Ok(n) => n,
        Err(e) => return Err(caller.refuse(&action, "-", e).await),
    };
    let f = match state.admin.register_facility(&new, &caller.actor()).await {
        Ok(f) => f,
        Err(e) => return Err(refused(&caller, &action, "-", e.into()).await),
    };
    Ok((StatusCode::CREATED, Json(facility_body(&state, &f))).into_response())
}

/// What an applicant sends.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Application {
    name: String,
    kind: String,
    medical_code: Option<String>,
    address: Option<String>,
    contact: Option<String>,
}

fn application(a: &Application) -> Result<NewFacility, String> {
    limit("name", Some(&a.name), MAX_NAME)?;
    limit("kind", Some(&a.kind), MAX_SHORT)?;
    limit("medical_code", a.medical_code.as_deref(), MAX_SHORT)?;
    limit("address", a.address.as_deref(), MAX_ADDRESS)?;
    limit("contact", a.contact.as_deref(), MAX_CONTACT)?;
    let kind = FacilityKind::from_str(&a.kind).map_err(|e| e.to_string())?;
    NewFacility::new(&a.name, kind, a.medical_code.as_deref(), a.address.as_deref(), a.contact.as_deref())
        .map_err(|e| e.to_string())
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
    let list = state.admin.store().list_facilities(&filter).await.map_err(ApiError::unavailable)?;
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
            .map_err(|e| format!("{e}: use applied, approved, active, suspended or retired"))?;
        let after = self.after.as_deref().map(FacilityId::parse).transpose().map_err(|e| format!("after: {e}"))?;
        let limit = match self.limit {
            None => DEFAULT_PAGE,
            Some(n) if (1..=MAX_PAGE).contains(&n) => n,
            Some(n) => return Err(format!("limit {n} is outside 1–{MAX_PAGE}")),
        };
        Ok(FacilityFilter { state, after, limit: Some(limit), ..FacilityFilter::default() })
    }
}

/// `GET /api/v1/facilities/{id}` (operators, auditors, the facility's admin).
pub async fn facility(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult {
    let id = facility_id(&caller, "admin.facility.read", &id).await?;
    caller.may(Action::ReadFacility(&id)).await?;
    let f = existing(&state, &caller, "admin.facility.read", &id).await?;
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
    caller.authenticated("admin.facility.transition").await?;
    let t = match verb.as_str() {
        "approve" => Transition::Approve,
        "reject" => Transition::Reject,
        "suspend" => Transition::Suspend,
        "resume" => Transition::Resume,
        "retire" => Transition::Retire,
        _ => {
            let e = ApiError::not_found(format!("no action {verb:?}: use approve, reject, suspend, resume or retire"));
            return Err(caller.refuse("admin.facility.transition", &id, e).await);
        }
    };
    let name = format!("admin.facility.{}", t.verb());
    let id = facility_id(&caller, &name, &id).await?;
    let action = Action::Transition(t, &id);
    caller.may(action).await?;
    let r: Reason = read_json(&caller, &name, id.as_str(), body).await?;
    let needs_reason = matches!(t, Transition::Reject | Transition::Suspend | Transition::Retire);
    let reason = r.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
    let checked = limit("reason", reason, MAX_REASON).and_then(|()| match reason {
        None if needs_reason => Err(format!("a reason is required to {}: send {{\"reason\": \"…\"}}", t.verb())),
        _ => Ok(()),
    });
    if let Err(detail) = checked {
        return Err(caller.refuse(&name, id.as_str(), ApiError::bad_request("invalid request", detail)).await);
    }
    match state.admin.transition(&id, t, reason, &caller.actor()).await {
        Ok(f) => Ok(Json(facility_body(&state, &f)).into_response()),
        Err(e) => Err(refused(&caller, &name, id.as_str(), e.into()).await),
    }
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
    let name = "admin.credential.create";
    let id = facility_id(&caller, name, &id).await?;
    caller.may(Action::CreateCredential(&id)).await?;
    let c: CredentialRequest = read_json(&caller, name, id.as_str(), body).await?;
    let new = match credential_request(id.clone(), &c) {
        Ok(n) => n,
        Err(detail) => {
            return Err(caller.refuse(name, id.as_str(), ApiError::bad_request("invalid request", detail)).await);
        }
    };
    let minted = match state.admin.create_credential(&new, &caller.actor()).await {
        Ok(m) => m,
        Err(e) => return Err(refused(&caller, name, id.as_str(), e.into()).await),
    };
    let r = &minted.record;
    let mut body = credential_json(r, hcpki_ca::time::now_unix());
    if let Some(o) = body.as_object_mut() {
        let secret = minted.secret.as_str();
        let fields: &[(&str, &str)] = match r.protocol {
            Protocol::Est => &[("username", &r.id), ("password", secret)],
            Protocol::Scep => &[("challenge", secret)],
            Protocol::Acme => &[("eab_kid", &r.id), ("eab_hmac_key", secret)],
        };
        for (k, v) in fields {
            o.insert((*k).into(), (*v).into());
        }
    }
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialRequest {
    protocol: String,
    profiles: Vec<String>,
    valid_for: Option<String>,
}

fn credential_request(facility: FacilityId, c: &CredentialRequest) -> Result<NewCredential, String> {
    limit("protocol", Some(&c.protocol), MAX_SHORT)?;
    limit("valid_for", c.valid_for.as_deref(), MAX_SHORT)?;
    if c.profiles.len() > MAX_PROFILES {
        return Err(format!("profiles: at most {MAX_PROFILES} entries"));
    }
    for p in &c.profiles {
        limit("profiles", Some(p), MAX_SHORT)?;
    }
    let protocol = Protocol::from_str(&c.protocol).map_err(|e| e.to_string())?;
    let profiles = c
        .profiles
        .iter()
        .map(|p| ProfileKind::from_str(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let valid_for = match &c.valid_for {
        Some(v) => credential::parse_validity(v).map_err(|e| e.to_string())?,
        None => DEFAULT_VALIDITY_SECS,
    };
    NewCredential::new(facility, protocol, &profiles, valid_for).map_err(|e| e.to_string())
}

/// `GET /api/v1/facilities/{id}/credentials` (operators, auditors, the facility's admin): no secrets.
pub async fn list_credentials(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult {
    let name = "admin.credential.list";
    let id = facility_id(&caller, name, &id).await?;
    caller.may(Action::ListCredentials(&id)).await?;
    existing(&state, &caller, name, &id).await?;
    let list = state.admin.credentials(Some(&id)).await.map_err(ApiError::from)?;
    let now = hcpki_ca::time::now_unix();
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
    let well_formed = id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit());
    let record =
        if well_formed { state.admin.store().credential(&id).await.map_err(ApiError::unavailable)? } else { None };
    let Some(record) = record else {
        let e = ApiError::not_found(format!("no enrollment credential {id:?}: list them with GET …/credentials"));
        return Err(caller.refuse(name, "-", e).await);
    };
    caller.may(Action::RevokeCredential(&record.facility)).await?;
    match state.admin.revoke_credential(&record.id, &caller.actor()).await {
        Ok(c) => Ok(Json(credential_json(&c, hcpki_ca::time::now_unix())).into_response()),
        Err(e) => Err(refused(&caller, name, &record.id, e.into()).await),
    }
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
    let reason = match request.reason.as_deref().unwrap_or("unspecified").parse::<hcpki_ca::revocation::Reason>() {
        Ok(r) => r,
        Err(e) => return Err(caller.refuse(name, "-", ApiError::bad_request("bad reason", e.to_string())).await),
    };
    let record = match hcpki_ca::serial::normalise(&serial) {
        Some(s) => state.admin.store().certificate(&s).await.map_err(ApiError::unavailable)?,
        None => None,
    };
    let Some((record, facility)) = record.and_then(|r| r.facility.clone().map(|f| (r, f))) else {
        let e = ApiError::not_found(format!(
            "no facility certificate {serial:?}: list them with GET /api/v1/facilities/ID/certificates"
        ));
        return Err(caller.refuse(name, "-", e).await);
    };
    caller.may(Action::RevokeCertificate(&facility)).await?;
    match state.admin.revoke(&record.serial, reason, &caller.actor()).await {
        Ok(c) => Ok(Json(serde_json::to_value(&c).unwrap_or_default()).into_response()),
        Err(e) => Err(refused(&caller, name, &record.serial, e.into()).await),
    }
}

/// `GET /api/v1/facilities/{id}/certificates` (operators, auditors, the facility's admin): newest first,
/// with status and expiry.
pub async fn certificates(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult {
    let name = "admin.certificate.list";
    let id = facility_id(&caller, name, &id).await?;
    caller.may(Action::ListCertificates(&id)).await?;
    existing(&state, &caller, name, &id).await?;
    let filter = CertificateFilter { facility: Some(id.clone()), ..CertificateFilter::default() };
    let list = state.admin.store().list_certificates(&filter).await.map_err(ApiError::unavailable)?;
    let now = hcpki_ca::time::now_unix();
    let items: Vec<_> = list
        .iter()
        .map(|c| {
            let mut v = serde_json::to_value(c).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.insert("expired".into(), (c.not_after <= now).into());
                o.insert("not_after_rfc3339".into(), hcpki_ca::time::rfc3339(c.not_after).into());
            }
            v
        })
        .collect();
    Ok(Json(serde_json::json!({ "certificates": items })).into_response())
}

/// `GET /api/v1/whoami`: the caller's principal.
pub async fn whoami(caller: Caller) -> ApiResult {
    caller.may(Action::WhoAmI).await?;
    let body = match &caller.principal {
        Principal::Operator { name, role } => {
            serde_json::json!({ "principal": "operator", "name": name, "role": role })
        }
        Principal::FacilityAdmin { facility, basis } => {
            let by = match basis {
                AdminBasis::Certificate(_) => "certificate",
                AdminBasis::Credential(_) => "credential",
            };
            serde_json::json!({ "principal": "facility-admin", "facility": facility.as_str(), "authenticated_by": by })
        }
        _ => serde_json::json!({ "principal": "anonymous" }),
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
    let bytes = match super::body::read_limited(body, MAX_BODY_BYTES).await {
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

/// A facility ID from the path, or an audited 400. Anonymous callers are refused first: they learn nothing
/// from the API but how to apply.
async fn facility_id(caller: &Caller, action: &str, text: &str) -> Result<FacilityId, ApiError> {
    caller.authenticated(action).await?;
    match FacilityId::parse(text) {
        Ok(id) => Ok(id),
        Err(e) => Err(caller.refuse(action, "-", ApiError::bad_request("invalid facility ID", e.to_string())).await),
    }
}

/// The facility, or an audited 404.
async fn existing(state: &AppState, caller: &Caller, action: &str, id: &FacilityId) -> Result<Facility, ApiError> {
    match state.admin.store().facility(id).await.map_err(ApiError::unavailable)? {
        Some(f) => Ok(f),
        None => {
            let e = ApiError::not_found(format!("no facility {id}: check the ID"));
            Err(caller.refuse(action, id.as_str(), e).await)
        }
    }
}

/// Audit a refusal the CA gave (the CA's own trouble, 503, is logged instead).
async fn refused(caller: &Caller, action: &str, target: &str, e: ApiError) -> ApiError {
    if e.status == StatusCode::SERVICE_UNAVAILABLE { e } else { caller.refuse(action, target, e).await }
}

fn facility_body(state: &AppState, f: &Facility) -> serde_json::Value {
    facility_json(f, &state.admin.settings().router_dns_name(&f.id))
}

/// At most `max` characters and no control characters.
fn limit(field: &str, value: Option<&str>, max: usize) -> Result<(), String> {
    let Some(v) = value else { return Ok(()) };
    if v.chars().count() > max {
        return Err(format!("{field} is longer than {max} characters"));
    }
    if v.chars().any(char::is_control) {
        return Err(format!("{field} contains control characters"));
    }
    Ok(())
}
