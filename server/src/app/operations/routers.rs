//! The router register and routers' pre-shared keys (issue #50 items 1 and 2, D156, D168), for the admin API
//! and the console alike: whoever may read the facility sees its routers and keys (never a key itself); its own
//! admins and operators register routers and issue keys (each key shown once); operators withdraw a key. The
//! register and the store audit every change and the refusals they make; refusals before them
//! (authorization, a malformed ID, no portal secret) are audited here. Each call is the same operation the
//! CLI's `hcpki router` and `hcpki psk` make.

use super::{allowed_facility, facility_id};
use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::app::auth::Caller;
use axum::http::StatusCode;
use hcpki_ca::access::Action;
use hcpki_ca::psk::manage::{self, Issued, ManageError, PskRequest};
use hcpki_ca::psk::{PskError, Vendor};
use hcpki_ca::router_register::{self, RegisterError, RouterRequest};
use hcpki_ca::store::StoreError;
use hcpki_ca::store::router::{RouterAuth, RouterModelRecord, RouterRecord};
use hcpki_ca::store::router_psk::RouterPskRecord;
use serde::Deserialize;

/// Longest peer, IKE identity or reason text accepted (characters).
pub const MAX_TEXT: usize = 253;

/// A router to register (a JSON body, or form fields of the same names).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouterBody {
    /// Its name inside the facility.
    pub name: String,
    /// Its model.
    pub model: String,
    /// Its firmware version.
    pub firmware: String,
    /// `certificate` or `psk`.
    pub auth: String,
    /// Its addresses.
    pub addresses: Vec<String>,
}

/// A key to issue.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PskBody {
    /// The hub (peer).
    pub peer: String,
    /// The router's IKE identity.
    pub remote_id: String,
    /// The router vendor (`strongswan`, `yamaha-rtx`, …).
    pub vendor: String,
    /// The registered router it is for.
    pub router: Option<String>,
    /// Fewer characters than the vendor's longest.
    pub length: Option<usize>,
    /// Hours the key it replaces keeps working (default 24).
    pub overlap_hours: Option<i64>,
    /// The hub's IKE identity, for the configuration lines (default `hub.example.jp`).
    pub hub_id: Option<String>,
    /// The hub's address, for the configuration lines (default `192.0.2.1`).
    pub hub_address: Option<String>,
}

impl PskBody {
    /// The router's configuration lines for `secret`, as `hcpki psk issue` prints them.
    pub fn snippet(&self, vendor: Vendor, secret: &str) -> String {
        let hub_id = self.hub_id.as_deref().filter(|v| !v.trim().is_empty()).unwrap_or("hub.example.jp");
        let hub_address = self.hub_address.as_deref().filter(|v| !v.trim().is_empty()).unwrap_or("192.0.2.1");
        hcpki_ca::psk::router_snippet(vendor, self.remote_id.trim(), hub_id.trim(), hub_address.trim(), secret)
    }
}

/// The approved models and whether only they are accepted (anyone authenticated).
pub async fn models(caller: &Caller, state: &AppState) -> Result<(Vec<RouterModelRecord>, bool), ApiError> {
    caller.authenticated("admin.router.models").await?;
    let store = state.store.as_ref();
    let models = store.router_models().await.map_err(store_error)?;
    let only = store.approved_models_only().await.map_err(store_error)?;
    Ok((models, only))
}

/// An approved model to add or replace (D174): a JSON body, or the console form's fields of the same names.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelBody {
    /// Its id (`yamaha-rtx`): letters, digits, `.`, `-`, `_`.
    pub model: String,
    /// Its name for people.
    pub name: String,
    /// Who makes it.
    #[serde(default)]
    pub vendor: String,
    /// The firmware versions approved, as text (empty: any).
    #[serde(default)]
    pub firmware: String,
    /// `certificate`, `psk` or both.
    pub auth_methods: Vec<String>,
    /// Its pre-shared key syntax (`hcpki psk issue --vendor`).
    pub psk_vendor: Option<String>,
    /// What was tested, and where.
    pub tested: String,
    /// Its configuration guide (default `docs/routers/README.md`).
    pub guide: Option<String>,
}

/// Approve a model or replace its entry (operators only: the list holds every facility's router certificates
/// and keys, so neither an RA nor a facility may widen it). Audited `router.model.approve` by the store; a
/// refused body is audited here.
pub async fn approve_model(state: &AppState, caller: &Caller, b: &ModelBody) -> Result<RouterModelRecord, ApiError> {
    let name = Action::ManageRouterModels.name();
    caller.may(Action::ManageRouterModels).await?;
    let refuse = |detail: String| async move {
        let e = ApiError::bad_request("invalid router model", detail);
        Err(caller.refuse(&name, b.model.trim(), e).await)
    };
    let mut auth_methods = Vec::new();
    for m in &b.auth_methods {
        match m.trim().parse::<RouterAuth>() {
            Ok(a) if !auth_methods.contains(&a) => auth_methods.push(a),
            Ok(_) => {}
            Err(e) => return refuse(e).await,
        }
    }
    let psk_vendor = match b.psk_vendor.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => match v.parse::<Vendor>() {
            Ok(v) => Some(v.as_str().to_owned()),
            Err(e) => return refuse(e.to_string()).await,
        },
    };
    let at = state.clock.now();
    let record = RouterModelRecord {
        model: b.model.trim().to_owned(),
        name: b.name.trim().to_owned(),
        vendor: b.vendor.trim().to_owned(),
        firmware: b.firmware.trim().to_owned(),
        auth_methods,
        psk_vendor,
        tested: b.tested.trim().to_owned(),
        guide: b.guide.as_deref().map(str::trim).filter(|g| !g.is_empty()).unwrap_or("docs/routers/README.md").into(),
        approved_by: caller.actor().as_str().to_owned(),
        approved_at: at.as_secs(),
    };
    match router_register::approve_model(state.store.as_ref(), &record, &caller.actor(), at).await {
        Ok(()) => Ok(record),
        Err(RegisterError::Store(e)) => Err(store_error(e)),
        Err(e) => refuse(e.to_string()).await,
    }
}

/// Change an approved model's tested status (operators only), as `hcpki router model-status`.
pub async fn set_model_tested(
    state: &AppState,
    caller: &Caller,
    model: &str,
    tested: &str,
) -> Result<RouterModelRecord, ApiError> {
    let name = Action::ManageRouterModels.name();
    caller.may(Action::ManageRouterModels).await?;
    let (actor, at) = (caller.actor(), state.clock.now());
    match router_register::set_model_tested(state.store.as_ref(), model, tested, &actor, at).await {
        Ok(m) => Ok(m),
        Err(RegisterError::Store(e @ StoreError::UnknownRouterModel(_))) => {
            Err(caller.refuse(&name, model, ApiError::not_found(e.to_string())).await)
        }
        Err(RegisterError::Store(e)) => Err(store_error(e)),
        Err(e) => Err(caller.refuse(&name, model, ApiError::bad_request("invalid router model", e.to_string())).await),
    }
}

/// Withdraw a model from the list (operators only), as `hcpki router model-remove`: its routers stay
/// registered, and while only approved models are accepted nothing new is issued for them.
pub async fn withdraw_model(state: &AppState, caller: &Caller, model: &str) -> Result<(), ApiError> {
    let name = Action::ManageRouterModels.name();
    caller.may(Action::ManageRouterModels).await?;
    match router_register::withdraw_model(state.store.as_ref(), model, &caller.actor(), state.clock.now()).await {
        Ok(()) => Ok(()),
        Err(RegisterError::Store(e @ StoreError::UnknownRouterModel(_))) => {
            Err(caller.refuse(&name, model, ApiError::not_found(e.to_string())).await)
        }
        Err(RegisterError::Store(e)) => Err(store_error(e)),
        Err(e) => Err(ApiError::unavailable(e)),
    }
}

/// The facility's routers (whoever may read the facility).
pub async fn list(state: &AppState, caller: &Caller, id: &str) -> Result<Vec<RouterRecord>, ApiError> {
    let name = "admin.router.list";
    let id = allowed_facility(state, caller, name, id, |f| Action::ReadFacility(f)).await?;
    state.store.routers(Some(&id)).await.map_err(store_error)
}

/// Register a router of the facility (its admins, operators).
pub async fn add(state: &AppState, caller: &Caller, id: &str, b: &RouterBody) -> Result<RouterRecord, ApiError> {
    let name = "admin.router.manage";
    let id = facility_id(caller, name, id).await?;
    caller.may(Action::ManageRouters(&id)).await?;
    let auth = match b.auth.parse::<RouterAuth>() {
        Ok(a) => a,
        Err(e) => return Err(caller.refuse(name, id.as_str(), ApiError::bad_request("invalid router", e)).await),
    };
    let req = RouterRequest {
        facility: id,
        name: b.name.clone(),
        model: b.model.clone(),
        firmware: b.firmware.clone(),
        auth,
        addresses: b.addresses.clone(),
    };
    router_register::register(state.store.as_ref(), &req, &caller.actor(), state.clock.now())
        .await
        .map_err(register_error)
}

/// Remove a router of the facility (its admins, operators).
pub async fn remove(state: &AppState, caller: &Caller, id: &str, router: &str) -> Result<RouterRecord, ApiError> {
    let id = facility_id(caller, "admin.router.manage", id).await?;
    caller.may(Action::ManageRouters(&id)).await?;
    router_register::remove(state.store.as_ref(), &id, router, &caller.actor(), state.clock.now())
        .await
        .map_err(register_error)
}

/// The facility's keys: ids, peers, states (whoever may read the facility; never a key).
pub async fn keys(state: &AppState, caller: &Caller, id: &str) -> Result<Vec<RouterPskRecord>, ApiError> {
    let name = "admin.psk.list";
    let id = allowed_facility(state, caller, name, id, |f| Action::ReadFacility(f)).await?;
    state.store.psk_list(&id).await.map_err(store_error)
}

/// Issue (or rotate) a key of the facility (its admins, operators): the answer carries the key, once.
pub async fn issue(state: &AppState, caller: &Caller, id: &str, b: &PskBody) -> Result<Issued, ApiError> {
    let name = "admin.psk.issue";
    let id = facility_id(caller, name, id).await?;
    caller.may(Action::IssueRouterKey(&id)).await?;
    let bad = |detail: String| ApiError::bad_request("invalid pre-shared key request", detail);
    let text_ok = |v: &str| !v.trim().is_empty() && v.chars().count() <= MAX_TEXT && !v.chars().any(char::is_control);
    let optional_ok = |v: &Option<String>| v.as_deref().is_none_or(|v| v.is_empty() || text_ok(v));
    if !text_ok(&b.peer) || !text_ok(&b.remote_id) || !optional_ok(&b.hub_id) || !optional_ok(&b.hub_address) {
        let e = bad(format!("peer and remote_id are 1..={MAX_TEXT} characters without control characters"));
        return Err(caller.refuse(name, id.as_str(), e).await);
    }
    let vendor = match b.vendor.parse::<Vendor>() {
        Ok(v) => v,
        Err(e) => return Err(caller.refuse(name, id.as_str(), bad(e.to_string())).await),
    };
    let Some(portal) = state.portal.as_ref() else {
        let e = ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "pre-shared keys are sealed with the portal secret: configure [portal] (docs/operator-guide.md §4c)",
        );
        return Err(caller.refuse(name, id.as_str(), e).await);
    };
    let req = PskRequest {
        facility: id.clone(),
        peer: b.peer.trim().to_owned(),
        remote_id: b.remote_id.trim().to_owned(),
        vendor,
        len: b.length,
        overlap_secs: b.overlap_hours.unwrap_or(24).clamp(0, 720).saturating_mul(3600),
        router: b.router.clone().filter(|r| !r.trim().is_empty()),
    };
    let seal = portal.secret.psk_seal_key();
    match manage::issue(state.store.as_ref(), seal, &req, &caller.actor(), state.clock.now()).await {
        Ok(issued) => Ok(issued),
        // The register audited its own refusal; a length refused before anything was made is audited here.
        Err(ManageError::Register(e)) => Err(register_error(e)),
        Err(ManageError::Psk(e @ PskError::Length { .. })) => {
            Err(caller.refuse(name, id.as_str(), bad(e.to_string())).await)
        }
        Err(e) => Err(manage_error(e)),
    }
}

/// Withdraw a working key of the facility at once (operators), with the reason for the audit log.
pub async fn withdraw(
    state: &AppState,
    caller: &Caller,
    id: &str,
    key_id: &str,
    reason: &str,
) -> Result<RouterPskRecord, ApiError> {
    let name = "admin.psk.withdraw";
    let id = facility_id(caller, name, id).await?;
    caller.may(Action::WithdrawRouterKey(&id)).await?;
    if reason.trim().is_empty() || reason.chars().count() > MAX_TEXT || reason.chars().any(char::is_control) {
        let e = ApiError::bad_request("invalid reason", format!("a reason is 1..={MAX_TEXT} characters on one line"));
        return Err(caller.refuse(name, id.as_str(), e).await);
    }
    match manage::withdraw(state.store.as_ref(), &id, key_id, reason.trim(), &caller.actor(), state.clock.now()).await {
        Ok(k) => Ok(k),
        Err(e) => Err(caller.refuse(name, id.as_str(), manage_error(e)).await),
    }
}

fn register_error(e: RegisterError) -> ApiError {
    match e {
        RegisterError::Store(s) => store_error(s),
        other => ApiError::bad_request("refused by the router register", other.to_string()),
    }
}

fn manage_error(e: ManageError) -> ApiError {
    match e {
        ManageError::Store(s) => store_error(s),
        ManageError::Register(r) => register_error(r),
        ManageError::Psk(p @ (PskError::Length { .. } | PskError::UnknownVendor(_))) => {
            ApiError::bad_request("invalid pre-shared key request", p.to_string())
        }
        other => ApiError::unavailable(other),
    }
}

fn store_error(e: StoreError) -> ApiError {
    let detail = e.to_string();
    match e {
        StoreError::PskUnavailable(_) | StoreError::UnknownRouter { .. } | StoreError::UnknownFacility(_) => {
            ApiError::not_found(detail)
        }
        StoreError::RouterExists { .. } | StoreError::FacilityState { .. } => {
            ApiError::new(StatusCode::CONFLICT, "conflict", detail)
        }
        other => ApiError::unavailable(other),
    }
}
