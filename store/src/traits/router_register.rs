//! The router register (issue #50 item 2, D168).

use crate::error::StoreError;
use crate::facility::FacilityId;
use crate::records::Actor;
use crate::router::{RouterModelRecord, RouterRecord};
use hcpki_model::UnixTime;

/// Each facility's routers, the approved models, and whether issuance is held to them. Every change is audited
/// in its own transaction; checking a router against its facility and the list is the caller's
/// (`hcpki_ca::router_register`).
#[async_trait::async_trait]
pub trait RouterRegister: Send + Sync {
    /// The approved models, by id.
    async fn router_models(&self) -> Result<Vec<RouterModelRecord>, StoreError>;

    /// Approve `model` (replacing its entry), audited as `router.model.approve`.
    async fn approve_router_model(
        &self,
        model: &RouterModelRecord,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<(), StoreError>;

    /// Take `model` off the list, audited as `router.model.remove`; [`StoreError::UnknownRouterModel`] when it is
    /// not on it. Routers of the model stay registered.
    async fn remove_router_model(&self, model: &str, actor: &Actor, at: UnixTime) -> Result<(), StoreError>;

    /// The routers of `facility` (all facilities' when none), by facility and name.
    async fn routers(&self, facility: Option<&FacilityId>) -> Result<Vec<RouterRecord>, StoreError>;

    /// Register `router`, audited as `router.add`; [`StoreError::RouterExists`] when its facility has one of
    /// that name, [`StoreError::UnknownFacility`] when there is no such facility.
    async fn add_router(&self, router: &RouterRecord, actor: &Actor, at: UnixTime) -> Result<(), StoreError>;

    /// Remove a facility's router, audited as `router.remove`; [`StoreError::UnknownRouter`] when there is none.
    async fn remove_router(
        &self,
        facility: &FacilityId,
        name: &str,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<RouterRecord, StoreError>;

    /// Whether router certificates and PSKs are issued only for approved models (off until an operator turns
    /// it on).
    async fn approved_models_only(&self) -> Result<bool, StoreError>;

    /// Turn [`Self::approved_models_only`] on or off, audited as `router.setting`.
    async fn set_approved_models_only(&self, on: bool, actor: &Actor, at: UnixTime) -> Result<(), StoreError>;
}
