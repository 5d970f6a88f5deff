//! The registration authority (Boulder's RA): facilities and their lifecycle, address allocations,
//! enrollment credentials, held SCEP requests, operators, console grants, and who a caller is. It issues
//! nothing and revokes nothing itself; what spans parts (an operator's certificate, an approved SCEP request)
//! is the authority's.

use crate::audit::Outcome;
use crate::batch::batch_failed;
use crate::error::{FacilityRefusal, RegistryError};
use crate::facility::{Facility, FacilityId, NewFacility, Transition};
use crate::group_commit::GroupCommit;
use crate::hierarchy::Hierarchy;
use crate::store::RegistrationAuthorities;
use crate::store::{
    Actor, AuditLog, ConsoleGrants, DeviceNames, Enrollment, Facilities, FacilityChange, Issuance, Operators, Passkeys,
    SecurityOfficers, SigningRequests, StoreError, Vetting,
};
use std::sync::{Arc, OnceLock};

/// A facility transition's answer.
pub(crate) type Changed = Result<Facility, RegistryError>;

/// The registrar, with the store areas it reads and writes.
pub struct Registrar {
    pub(crate) hierarchy: Arc<Hierarchy>,
    pub(crate) facilities: Arc<dyn Facilities>,
    pub(crate) enrollment: Arc<dyn Enrollment>,
    pub(crate) operators: Arc<dyn Operators>,
    pub(crate) grants: Arc<dyn ConsoleGrants>,
    /// The names people give a facility's PCs (its writes audit themselves).
    pub(crate) device_names: Arc<dyn DeviceNames>,
    /// Facilities' security officers (D155; its writes audit themselves).
    pub(crate) security_officers: Arc<dyn SecurityOfficers>,
    /// Facilities' rules on passkeys (D170; its writes audit themselves).
    pub(crate) passkey_rules: Arc<dyn Passkeys>,
    /// Facilities' limits on signing sessions (D172; its writes audit themselves).
    pub(crate) signing_limits: Arc<dyn SigningRequests>,
    /// Registration authorities, their facilities and staff (D167; its writes audit themselves).
    pub(crate) ras: Arc<dyn RegistrationAuthorities>,
    /// The register of medical institutions and the facilities' vetting evidence (D173; its writes audit
    /// themselves).
    pub(crate) vetting: Arc<dyn Vetting>,
    /// Read only: a presented certificate's row, the live router certificates an allocation change affects.
    pub(crate) certificates: Arc<dyn Issuance>,
    pub(crate) audit: Arc<dyn AuditLog>,
    /// Set by [`Registrar::start_group_commit`] (long-running servers).
    pub(crate) queue: OnceLock<GroupCommit<FacilityChange, Changed>>,
}

impl std::fmt::Debug for Registrar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registrar").field("hierarchy", &self.hierarchy).finish_non_exhaustive()
    }
}

impl Registrar {
    /// The facilities it registers, for listings and look-ups (its writes go through its methods, audited).
    pub fn facilities(&self) -> &dyn Facilities {
        self.facilities.as_ref()
    }

    /// The enrollment area (credentials, held requests), for look-ups (its writes go through its methods,
    /// audited).
    pub fn enrollment(&self) -> &dyn Enrollment {
        self.enrollment.as_ref()
    }

    /// The names of the facilities' PCs: naming one (audited by the store as `facility.device.name`) and reading them.
    pub fn device_names(&self) -> &dyn DeviceNames {
        self.device_names.as_ref()
    }

    /// Whether password + TOTP sign-ins are accepted for the facility admin's changes (besides a card).
    pub async fn admin_password_totp(&self, id: &FacilityId) -> Result<bool, RegistryError> {
        Ok(self.grants.facility_admin_password_totp(id).await?)
    }

    /// Accept (`true`) or refuse password + TOTP sign-ins for the facility admin's changes, audited as
    /// `facility.admin_login`; `false` (nothing audited) when it was so already.
    pub async fn set_admin_password_totp(
        &self,
        id: &FacilityId,
        allow: bool,
        actor: &Actor,
    ) -> Result<bool, RegistryError> {
        Ok(self.grants.set_facility_admin_password_totp(id, allow, actor, self.hierarchy.at()).await?)
    }

    /// Audit a refused change `action` of `facility` (as typed, bounded; `-` when empty) by `actor`: denied, or
    /// failed when the database failed.
    pub(crate) async fn audit_refused(&self, action: &str, facility: &str, actor: &Actor, e: &RegistryError) {
        let target: String = facility.trim().chars().take(64).collect();
        let target = if target.is_empty() { "-".to_owned() } else { target };
        let outcome = if matches!(e, RegistryError::Store(_)) { Outcome::Failed } else { Outcome::Denied };
        self.audit_not_done(actor, action, &target, outcome, &e.to_string()).await;
    }

    /// Register a facility (state `applied`).
    pub async fn register_facility(&self, new: &NewFacility, actor: &Actor) -> Result<Facility, RegistryError> {
        Ok(self.facilities.register_facility(new, actor, self.hierarchy.at()).await?)
    }

    /// Apply a lifecycle transition. When [`Registrar::start_group_commit`] has run, concurrent calls share
    /// transactions (each change still checked against the state the changes before it left, and audited).
    pub async fn transition(
        &self,
        id: &FacilityId,
        t: Transition,
        reason: Option<&str>,
        actor: &Actor,
    ) -> Result<Facility, RegistryError> {
        if let Some(queue) = self.queue.get() {
            let change = FacilityChange {
                id: id.clone(),
                transition: t,
                reason: reason.map(str::to_owned),
                actor: actor.clone(),
            };
            return queue.submit(change).await.map_err(|e| RegistryError::Batch(e.to_string()))?;
        }
        self.facilities.transition_facility(id, t, reason, actor, self.hierarchy.at()).await.map_err(transition_error)
    }

    /// Apply many lifecycle transitions in one transaction ([`Facilities::transition_facilities`]): one result per
    /// change, in order, each what it would have been one after another. A database failure fails them all.
    pub async fn transition_many(&self, changes: &[FacilityChange]) -> Vec<Result<Facility, RegistryError>> {
        match self.facilities.transition_facilities(changes, self.hierarchy.at()).await {
            Ok(results) => results.into_iter().map(|r| r.map_err(transition_error)).collect(),
            Err(e) => batch_failed("facility transitions", &e, changes.len()),
        }
    }
}

/// A store refusal of a transition as the authority's error: an unknown facility is named as such.
fn transition_error(e: StoreError) -> RegistryError {
    match e {
        StoreError::UnknownFacility(id) => FacilityRefusal::Unknown(id).into(),
        other => RegistryError::Store(other),
    }
}

pub mod addresses;
mod admin;
mod console_grants;
pub(crate) mod credentials;
mod held;
pub mod passkey_rule;
pub mod ra;
pub mod security_officer;
pub mod signing_limit;
pub mod vetting;
