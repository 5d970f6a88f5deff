//! Facility address allocations (issue #24, item 2) through the authority, for the CLI, the admin API, the
//! console and the CSV import alike: the text parsed once, every change and every refusal audited with the
//! operator who asked.

use super::{Authority, AuthorityError};
use crate::audit::{AuditEvent, Outcome};
use crate::facility::{Allocation, FacilityId};
use crate::store::{Actor, AllocationRecord, StoreError};

impl Authority {
    /// Allocate `prefix` (`2001:db8:10::/48`, `192.0.2.7`) to `facility`, audited `facility.address.add`. A
    /// malformed prefix, an unknown facility or an overlap with any allocation (the holder named) is refused
    /// and audited as denied; nothing changes.
    pub async fn add_allocation(
        &self,
        facility: &str,
        prefix: &str,
        actor: &Actor,
    ) -> Result<AllocationRecord, AuthorityError> {
        let outcome = async {
            let id = FacilityId::parse(facility)?;
            let allocation = Allocation::parse(prefix)?;
            Ok(self.store.add_allocation(&id, &allocation, actor).await?)
        }
        .await;
        self.audit_allocation_refusal("add", facility, prefix, &outcome, actor).await;
        outcome.map_err(allocation_error)
    }

    /// Take `prefix` back from `facility`, audited `facility.address.remove`; refusals audited as denied.
    /// Certificates already issued with addresses inside it stay valid: `hcpki cert check-addresses` lists them.
    pub async fn remove_allocation(
        &self,
        facility: &str,
        prefix: &str,
        actor: &Actor,
    ) -> Result<AllocationRecord, AuthorityError> {
        let outcome = async {
            let id = FacilityId::parse(facility)?;
            let allocation = Allocation::parse(prefix)?;
            Ok(self.store.remove_allocation(&id, &allocation, actor).await?)
        }
        .await;
        self.audit_allocation_refusal("remove", facility, prefix, &outcome, actor).await;
        outcome.map_err(allocation_error)
    }

    /// The allocations of one facility (which must exist), or of every facility.
    pub async fn allocations(&self, facility: Option<&FacilityId>) -> Result<Vec<AllocationRecord>, AuthorityError> {
        if let Some(id) = facility
            && self.store.facility(id).await?.is_none()
        {
            return Err(AuthorityError::UnknownFacility(id.clone()));
        }
        Ok(self.store.allocations(facility).await?)
    }

    async fn audit_allocation_refusal(
        &self,
        verb: &str,
        facility: &str,
        prefix: &str,
        outcome: &Result<AllocationRecord, AuthorityError>,
        actor: &Actor,
    ) {
        let Err(e) = outcome else { return };
        let failed = matches!(e, AuthorityError::Store(s) if !is_refusal(s));
        let event = AuditEvent {
            actor: actor.as_str().to_owned(),
            action: format!("facility.address.{verb}"),
            target: facility.trim().to_owned(),
            outcome: if failed { Outcome::Failed } else { Outcome::Denied },
            detail: serde_json::json!({ "prefix": prefix.trim(), "reason": allocation_error_text(e) }),
        };
        if let Err(audit_err) = self.store.append_audit(&event).await {
            tracing::error!(error = %audit_err, "could not audit a refused address allocation change");
        }
    }
}

/// Store refusals (as opposed to the database failing).
fn is_refusal(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::AllocationHeld { .. } | StoreError::UnknownAllocation { .. } | StoreError::UnknownFacility(_)
    )
}

/// An unknown facility is the authority's own error, as everywhere else.
fn allocation_error(e: AuthorityError) -> AuthorityError {
    match e {
        AuthorityError::Store(StoreError::UnknownFacility(id)) => AuthorityError::UnknownFacility(id),
        other => other,
    }
}

fn allocation_error_text(e: &AuthorityError) -> String {
    match e {
        AuthorityError::Store(StoreError::UnknownFacility(id)) => AuthorityError::UnknownFacility(id.clone()).to_string(),
        other => other.to_string(),
    }
}
