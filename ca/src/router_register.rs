//! The router register (issue #50 item 2, D168): each facility's routers — model, firmware, how they
//! authenticate (certificate or pre-shared key), the addresses they use — and the operating body's list of
//! approved models with what was tested. A router's addresses must lie inside its facility's allocations
//! (the registry, not the facility, says who owns an address); with `approved_models_only` on, hcpki issues
//! no router certificate or PSK for a model off the list, nor for a method the list does not approve.
//!
//! HTTP-free: the CLI, the admin API and the console call [`register`], [`remove`] and the checks here. Every
//! change is audited by the store; every refusal here is audited as denied with what was asked.

use crate::audit::{AuditEvent, Outcome};
use crate::facility::FacilityId;
use crate::store::router::{RouterAuth, RouterModelRecord, RouterRecord};
use crate::store::{Actor, Store, StoreError};
use hcpki_model::UnixTime;
use std::net::IpAddr;

/// Longest router name, model id and firmware text (characters).
pub const MAX_FIELD: usize = 64;
/// Most addresses one router may list.
pub const MAX_ADDRESSES: usize = 16;

/// What a facility's administrator or an operator registers.
#[derive(Debug, Clone)]
pub struct RouterRequest {
    /// The facility.
    pub facility: FacilityId,
    /// The router's name inside the facility (`gw1`): letters, digits, `.`, `-`, `_`.
    pub name: String,
    /// Its model (`hcpki router models`).
    pub model: String,
    /// Its firmware version.
    pub firmware: String,
    /// How it authenticates.
    pub auth: RouterAuth,
    /// The addresses it uses (IPv4 or IPv6), each inside the facility's allocations.
    pub addresses: Vec<String>,
}

/// Register a router after checking its fields, its addresses against the facility's allocations and, with
/// `approved_models_only` on, its model and method against the list. Refusals are audited as `router.add`
/// denied; nothing is kept.
pub async fn register(
    store: &dyn Store,
    req: &RouterRequest,
    actor: &Actor,
    at: UnixTime,
) -> Result<RouterRecord, RegisterError> {
    let checked = check_new(store, req).await;
    let addresses = match checked {
        Ok(a) => a,
        Err(e) => return Err(audit_refusal(store, "router.add", req.facility.as_str(), &req.name, e, actor, at).await),
    };
    let record = RouterRecord {
        facility_id: req.facility.clone(),
        name: req.name.clone(),
        model: req.model.clone(),
        firmware: req.firmware.trim().to_owned(),
        auth: req.auth,
        addresses,
        created_by: actor.as_str().to_owned(),
        created_at: at.as_secs(),
    };
    match store.add_router(&record, actor, at).await {
        Ok(()) => Ok(record),
        Err(e @ (StoreError::RouterExists { .. } | StoreError::UnknownFacility(_))) => {
            Err(audit_refusal(store, "router.add", req.facility.as_str(), &req.name, e.into(), actor, at).await)
        }
        Err(e) => Err(e.into()),
    }
}

/// Approve `model` (or replace its entry) after checking its fields (audited `router.model.approve` by the store).
pub async fn approve_model(
    store: &dyn Store,
    model: &RouterModelRecord,
    actor: &Actor,
    at: UnixTime,
) -> Result<(), RegisterError> {
    let ok = |v: &str, id: bool| {
        !v.trim().is_empty()
            && v.chars().count() <= 4 * MAX_FIELD
            && v.chars().all(|c| if id { c.is_ascii_alphanumeric() || ".-_".contains(c) } else { !c.is_control() })
    };
    if !ok(&model.model, true) || model.model.chars().count() > MAX_FIELD {
        return Err(RegisterError::Field { field: "model" });
    }
    for (field, v) in [("name", &model.name), ("tested", &model.tested), ("guide", &model.guide)] {
        if !ok(v, false) {
            return Err(RegisterError::Field { field });
        }
    }
    if model.auth_methods.is_empty() {
        return Err(RegisterError::Field { field: "auth_methods" });
    }
    Ok(store.approve_router_model(model, actor, at).await?)
}

/// Remove a facility's router (audited `router.remove` by the store).
pub async fn remove(
    store: &dyn Store,
    facility: &FacilityId,
    name: &str,
    actor: &Actor,
    at: UnixTime,
) -> Result<RouterRecord, RegisterError> {
    Ok(store.remove_router(facility, name, actor, at).await?)
}

/// What a router credential may be issued for: the facility's router `router` (by name) must be registered for
/// `method` (a PSK for a PSK router, a certificate for a certificate router) and, with `approved_models_only`
/// on, be of a model approved for it; with the setting on, a credential for no registered router is refused.
/// Returns the router, if one was named. Refusals are audited as denied `psk.issue` or `cert.issue`.
pub async fn check(
    store: &dyn Store,
    facility: &FacilityId,
    router: Option<&str>,
    method: RouterAuth,
    actor: &Actor,
    at: UnixTime,
) -> Result<Option<RouterRecord>, RegisterError> {
    let action = match method {
        RouterAuth::Psk => "psk.issue",
        _ => "cert.issue",
    };
    match check_issue(store, facility, router, method).await {
        Ok(r) => Ok(r),
        Err(e) => Err(audit_refusal(store, action, facility.as_str(), router.unwrap_or("-"), e, actor, at).await),
    }
}

async fn check_issue(
    store: &dyn Store,
    facility: &FacilityId,
    router: Option<&str>,
    method: RouterAuth,
) -> Result<Option<RouterRecord>, RegisterError> {
    let strict = store.approved_models_only().await?;
    let Some(name) = router else {
        return if strict { Err(RegisterError::RouterRequired { method }) } else { Ok(None) };
    };
    let found = store.routers(Some(facility)).await?.into_iter().find(|r| r.name == name);
    let Some(r) = found else {
        return Err(StoreError::UnknownRouter { facility: facility.clone(), name: name.to_owned() }.into());
    };
    if r.auth != method {
        return Err(RegisterError::WrongMethod { router: r.name, registered: r.auth, asked: method });
    }
    if strict {
        approved(&store.router_models().await?, &r.model, method)?;
    }
    Ok(Some(r))
}

/// The fields checked, and the addresses in canonical form.
async fn check_new(store: &dyn Store, req: &RouterRequest) -> Result<Vec<String>, RegisterError> {
    let plain = |field: &'static str, v: &str, name: bool| {
        let ok = !v.trim().is_empty()
            && v.chars().count() <= MAX_FIELD
            && v.chars().all(|c| if name { c.is_ascii_alphanumeric() || ".-_".contains(c) } else { !c.is_control() });
        if ok { Ok(()) } else { Err(RegisterError::Field { field }) }
    };
    plain("name", &req.name, true)?;
    plain("model", &req.model, true)?;
    plain("firmware", &req.firmware, false)?;
    if req.addresses.is_empty() || req.addresses.len() > MAX_ADDRESSES {
        return Err(RegisterError::Field { field: "addresses" });
    }
    if store.approved_models_only().await? {
        approved(&store.router_models().await?, &req.model, req.auth)?;
    }
    let allocations = store.allocations(Some(&req.facility)).await?;
    let mut out = Vec::new();
    for text in &req.addresses {
        let ip: IpAddr = text.trim().parse().map_err(|_| RegisterError::Address(text.trim().to_owned()))?;
        if !allocations.iter().any(|a| a.allocation.contains(ip)) {
            let held = allocations.iter().map(|a| a.allocation.to_string()).collect::<Vec<_>>().join(", ");
            return Err(RegisterError::OutsideAllocations {
                address: ip.to_string(),
                facility: req.facility.clone(),
                allocations: if held.is_empty() { "none".into() } else { held },
            });
        }
        out.push(ip.to_string());
    }
    Ok(out)
}

/// The model's entry, when it is on the list and approved for `method`.
fn approved<'m>(
    models: &'m [RouterModelRecord],
    model: &str,
    method: RouterAuth,
) -> Result<&'m RouterModelRecord, RegisterError> {
    let m = models.iter().find(|m| m.model == model).ok_or_else(|| RegisterError::ModelNotApproved(model.into()))?;
    if !m.auth_methods.contains(&method) {
        return Err(RegisterError::MethodNotApproved { model: model.into(), method });
    }
    Ok(m)
}

async fn audit_refusal(
    store: &dyn Store,
    action: &str,
    facility: &str,
    router: &str,
    e: RegisterError,
    actor: &Actor,
    at: UnixTime,
) -> RegisterError {
    let failed = matches!(&e, RegisterError::Store(s) if !matches!(s, StoreError::RouterExists { .. } | StoreError::UnknownRouter { .. } | StoreError::UnknownFacility(_)));
    let event = AuditEvent {
        actor: actor.as_str().to_owned(),
        action: action.to_owned(),
        target: facility.to_owned(),
        outcome: if failed { Outcome::Failed } else { Outcome::Denied },
        detail: serde_json::json!({ "router": router, "reason": e.to_string() }),
    };
    if let Err(audit_err) = store.append_audit(&event, at).await {
        tracing::error!(error = %audit_err, "could not audit a refused router register action");
    }
    e
}

/// Why a router was not registered, or a key or certificate not issued for it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegisterError {
    /// A field is empty, too long or holds characters it may not.
    #[error(
        "the router's {field} is empty, longer than {MAX_FIELD} characters or holds characters it may not (a name and a model: letters, digits, '.', '-', '_'; at most {MAX_ADDRESSES} addresses)"
    )]
    Field {
        /// Which.
        field: &'static str,
    },
    /// Not an IPv4 or IPv6 address.
    #[error("{0:?} is not an IPv4 or IPv6 address: give one address per value, e.g. 192.0.2.7 or 2001:db8::7")]
    Address(String),
    /// An address outside the facility's allocations.
    #[error(
        "address {address} is not in facility {facility}'s allocations ({allocations}): use an address the network operator allocated to the facility (hcpki facility address list {facility}), or ask for the allocation first"
    )]
    OutsideAllocations {
        /// The address.
        address: String,
        /// The facility.
        facility: FacilityId,
        /// What it holds.
        allocations: String,
    },
    /// The model is not on the approved list while only approved models are accepted.
    #[error(
        "router model {0:?} is not on the approved list, and this installation issues router certificates and pre-shared keys only for approved models: choose a model from `hcpki router models`, or ask the operating body to approve it (hcpki router model-approve)"
    )]
    ModelNotApproved(String),
    /// The model is on the list, but not for this method.
    #[error(
        "router model {model:?} is approved for other methods than {method}: register the router with a method the list approves for it (hcpki router models)"
    )]
    MethodNotApproved {
        /// The model.
        model: String,
        /// The method asked.
        method: RouterAuth,
    },
    /// A key for a certificate router, or a certificate for a PSK router.
    #[error(
        "router {router:?} is registered to authenticate with a {registered}, not a {asked}: issue what it is registered for, or register it again with the other method"
    )]
    WrongMethod {
        /// The router.
        router: String,
        /// How it is registered.
        registered: RouterAuth,
        /// What was asked for.
        asked: RouterAuth,
    },
    /// Only approved models are accepted and no router was named.
    #[error(
        "this installation issues a router {method} only for a registered router of an approved model: register the router (hcpki router add) and name it (--router NAME)"
    )]
    RouterRequired {
        /// What was asked for.
        method: RouterAuth,
    },
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
