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
    // Vendor and firmware range may be empty (not given: any firmware).
    for (field, v) in [("vendor", &model.vendor), ("firmware", &model.firmware)] {
        if !v.is_empty() && !ok(v, false) {
            return Err(RegisterError::Field { field });
        }
    }
    if model.auth_methods.is_empty() {
        return Err(RegisterError::Field { field: "auth_methods" });
    }
    Ok(store.approve_router_model(model, actor, at).await?)
}

/// Change an approved model's tested status (`tested`), keeping the rest of its entry (audited
/// `router.model.approve` with `replaced`, by the store): what the CLI's `model-status`, the admin API and the
/// console's models page do when a model was tested here, or a test found it wanting.
pub async fn set_model_tested(
    store: &dyn Store,
    model: &str,
    tested: &str,
    actor: &Actor,
    at: UnixTime,
) -> Result<RouterModelRecord, RegisterError> {
    let found = store.router_models().await?.into_iter().find(|m| m.model == model);
    let mut entry = found.ok_or_else(|| StoreError::UnknownRouterModel(model.to_owned()))?;
    entry.tested = tested.trim().to_owned();
    entry.approved_by = actor.as_str().to_owned();
    entry.approved_at = at.as_secs();
    approve_model(store, &entry, actor, at).await?;
    Ok(entry)
}

/// Withdraw a model from the list (audited `router.model.remove` by the store). Its routers stay registered;
/// while only approved models are accepted, no new certificate or key is issued for them.
pub async fn withdraw_model(store: &dyn Store, model: &str, actor: &Actor, at: UnixTime) -> Result<(), RegisterError> {
    Ok(store.remove_router_model(model, actor, at).await?)
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

/// What the register knows when a batch of router certificates is planned: the setting, the list and each
/// facility's routers, read once per batch by the pipeline (D174).
#[derive(Debug, Default)]
pub struct RegisterView {
    /// `approved_models_only`.
    pub strict: bool,
    /// The approved models.
    pub models: Vec<RouterModelRecord>,
    /// The routers of the facilities the batch names.
    pub routers: std::collections::HashMap<FacilityId, Vec<RouterRecord>>,
}

impl RegisterView {
    /// The router a router certificate for `facility` is for, held to the register (D174). Every front end
    /// (`hcpki issue`, the admin API and the console's PKCS#12, EST, SCEP, ACME, re-issue) comes through here,
    /// since the pipeline asks: the router is the one `named` (`--router`, the API's or the console's
    /// `router`), or the one the certificate's identities belong to — an IP address among a router's
    /// registered addresses, or a DNS name `<router>.<facility zone>` (or below it). A named or identified
    /// router must be registered for certificates; identities of two routers are refused. With
    /// `approved_models_only` on, the certificate must be for a registered router of a model approved for
    /// certificates, and every address it carries must be that router's.
    pub fn router_for<'v>(
        &'v self,
        facility: &FacilityId,
        named: Option<&str>,
        sans: &[String],
        zone: &str,
    ) -> Result<Option<&'v RouterRecord>, RegisterError> {
        let routers = self.routers.get(facility).map(Vec::as_slice).unwrap_or_default();
        let mut found: Option<&RouterRecord> = match named {
            Some(name) => Some(routers.iter().find(|r| r.name == name).ok_or_else(|| RegisterError::Unregistered {
                facility: facility.clone(),
                identity: name.to_owned(),
            })?),
            None => None,
        };
        let zone = zone.trim_end_matches('.').to_ascii_lowercase();
        let mut unmatched = Vec::new();
        for value in sans {
            let value = value.trim().trim_end_matches('.');
            let owner = match value.parse::<IpAddr>() {
                Ok(ip) => routers.iter().find(|r| r.addresses.iter().any(|a| a.parse::<IpAddr>() == Ok(ip))),
                Err(_) => {
                    let dns = value.to_ascii_lowercase();
                    if dns == zone {
                        continue; // the facility's own name names no router
                    }
                    routers.iter().find(|r| {
                        let own = format!("{}.{zone}", r.name.to_ascii_lowercase());
                        dns == own || dns.ends_with(&format!(".{own}"))
                    })
                }
            };
            match (owner, found) {
                (Some(o), Some(f)) if o.name != f.name => {
                    return Err(RegisterError::SeveralRouters { first: f.name.clone(), second: o.name.clone() });
                }
                (Some(o), _) => found = Some(o),
                (None, _) => unmatched.push(value.to_owned()),
            }
        }
        let Some(router) = found else {
            return if self.strict {
                Err(RegisterError::Unregistered {
                    facility: facility.clone(),
                    identity: sans.first().cloned().unwrap_or_else(|| zone.clone()),
                })
            } else {
                Ok(None)
            };
        };
        if router.auth != RouterAuth::Certificate {
            return Err(RegisterError::WrongMethod {
                router: router.name.clone(),
                registered: router.auth,
                asked: RouterAuth::Certificate,
            });
        }
        if self.strict {
            if let Some(identity) = unmatched.into_iter().next() {
                return Err(RegisterError::NotTheRouters { router: router.name.clone(), identity });
            }
            approved(&self.models, &router.model, RouterAuth::Certificate)?;
        }
        Ok(Some(router))
    }
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
    /// A router certificate for a router the facility has not registered (by name or by identity).
    #[error(
        "facility {facility} has registered no router {identity:?} for this certificate: register the router for certificates with an approved model (the facility's administrator, on the console's routers page, or hcpki router add {facility} NAME --model MODEL --auth certificate --address ADDR), then ask for the certificate with the router's registered address or <router>.<facility name> in the request, or name the router (--router, the console's router field, \"router\" in the API)"
    )]
    Unregistered {
        /// The facility.
        facility: FacilityId,
        /// The router's name or the identity asked for.
        identity: String,
    },
    /// Identities of two registered routers in one certificate.
    #[error(
        "the request names two registered routers, {first:?} and {second:?}: a router certificate is for one router — ask for one per router, each with its own addresses"
    )]
    SeveralRouters {
        /// One.
        first: String,
        /// The other.
        second: String,
    },
    /// An identity of the certificate that is not its router's.
    #[error(
        "{identity:?} is not registered for router {router:?}: add the address to the router's registration (the console's routers page: remove and add it again with all its addresses), or leave it out of the request"
    )]
    NotTheRouters {
        /// The router.
        router: String,
        /// The identity.
        identity: String,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn router(name: &str, model: &str, auth: RouterAuth, addresses: &[&str]) -> RouterRecord {
        RouterRecord {
            facility_id: FacilityId::from_number(1).unwrap(),
            name: name.into(),
            model: model.into(),
            firmware: "1".into(),
            auth,
            addresses: addresses.iter().map(|a| (*a).to_owned()).collect(),
            created_by: "t".into(),
            created_at: 0,
        }
    }

    fn view(strict: bool) -> RegisterView {
        let f = FacilityId::from_number(1).unwrap();
        let model = |id: &str, methods: Vec<RouterAuth>| RouterModelRecord {
            model: id.into(),
            name: id.into(),
            vendor: String::new(),
            firmware: String::new(),
            auth_methods: methods,
            psk_vendor: None,
            tested: "t".into(),
            guide: "g".into(),
            approved_by: "t".into(),
            approved_at: 0,
        };
        RegisterView {
            strict,
            models: vec![
                model("strongswan", vec![RouterAuth::Certificate, RouterAuth::Psk]),
                model("yamaha-rtx", vec![RouterAuth::Psk]),
            ],
            routers: [(
                f,
                vec![
                    router("gw1", "strongswan", RouterAuth::Certificate, &["198.51.100.5", "2001:db8::5"]),
                    router("gw2", "yamaha-rtx", RouterAuth::Psk, &["198.51.100.6"]),
                    router("gw3", "netgear-x", RouterAuth::Certificate, &["198.51.100.7"]),
                    router("gw4", "yamaha-rtx", RouterAuth::Certificate, &["198.51.100.8"]),
                ],
            )]
            .into(),
        }
    }

    /// Which router a certificate request names, and what the register says, with the setting off and on.
    #[test]
    fn router_certificates_are_held_to_the_register() {
        let f = FacilityId::from_number(1).unwrap();
        let zone = "f1.routers.example";
        let ask = |strict: bool, named: Option<&str>, sans: &[&str]| {
            let v = view(strict);
            let sans: Vec<String> = sans.iter().map(|s| (*s).to_owned()).collect();
            v.router_for(&f, named, &sans, zone).map(|r| r.map(|r| r.name.clone()))
        };
        // Off: nothing named is allowed as before; what is named must be a certificate router.
        assert_eq!(ask(false, None, &[]).unwrap(), None);
        assert_eq!(ask(false, None, &["203.0.113.1"]).unwrap(), None);
        assert_eq!(ask(false, None, &["198.51.100.5"]).unwrap().as_deref(), Some("gw1"));
        assert_eq!(ask(false, None, &["2001:db8:0::5"]).unwrap().as_deref(), Some("gw1"), "canonical compare");
        assert_eq!(ask(false, None, &["vpn.gw1.f1.routers.example"]).unwrap().as_deref(), Some("gw1"));
        assert_eq!(ask(false, Some("gw3"), &[]).unwrap().as_deref(), Some("gw3"), "any model while off");
        assert!(matches!(ask(false, None, &["198.51.100.6"]), Err(RegisterError::WrongMethod { .. })));
        assert!(matches!(ask(false, Some("gw9"), &[]), Err(RegisterError::Unregistered { .. })));
        assert!(matches!(
            ask(false, None, &["198.51.100.5", "gw3.f1.routers.example"]),
            Err(RegisterError::SeveralRouters { .. })
        ));
        assert!(matches!(ask(false, Some("gw3"), &["198.51.100.5"]), Err(RegisterError::SeveralRouters { .. })));
        // On: a registered certificate router of a model approved for certificates, and only its addresses.
        assert_eq!(ask(true, None, &["198.51.100.5", zone]).unwrap().as_deref(), Some("gw1"));
        assert_eq!(ask(true, Some("gw1"), &[]).unwrap().as_deref(), Some("gw1"));
        assert!(matches!(ask(true, None, &[]), Err(RegisterError::Unregistered { .. })));
        assert!(matches!(ask(true, None, &[zone]), Err(RegisterError::Unregistered { .. })));
        assert!(matches!(ask(true, None, &["203.0.113.1"]), Err(RegisterError::Unregistered { .. })));
        assert!(matches!(ask(true, Some("gw1"), &["198.51.100.9"]), Err(RegisterError::NotTheRouters { .. })));
        assert!(matches!(ask(true, Some("gw3"), &[]), Err(RegisterError::ModelNotApproved(_))));
        assert!(matches!(ask(true, Some("gw4"), &[]), Err(RegisterError::MethodNotApproved { .. })));
        assert!(matches!(ask(true, Some("gw2"), &[]), Err(RegisterError::WrongMethod { .. })));
        // The words say what the facility's administrator does.
        let e = ask(true, None, &[]).unwrap_err().to_string();
        assert!(e.contains("register the router for certificates with an approved model"), "{e}");
    }
}
