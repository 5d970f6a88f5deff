//! Facilities (registration, lifecycle, address allocations) and the CAs recorded beside them.

use crate::error::StoreError;
use crate::facility::{Allocation, Facility, FacilityId, NewFacility, Transition};
use crate::records::{Actor, AllocationRecord, AuthorityRecord, FacilityChange, FacilityFilter, Registration};
use hcpki_model::UnixTime;

/// Facilities (registration, lifecycle, address allocations) and the CAs recorded beside them.
#[async_trait::async_trait]
pub trait Facilities: Send + Sync {
    /// Register a facility: assigns the next [`FacilityId`] from a never-reset
    /// counter, state `applied`, audited as `facility.register`.
    /// A duplicate 医療機関コード is [`StoreError::DuplicateMedicalCode`].
    async fn register_facility(&self, new: &NewFacility, actor: &Actor, at: UnixTime) -> Result<Facility, StoreError>;

    /// Register many facilities in one transaction (bulk import, D29): each exactly as
    /// [`Self::register_facility`] does, with its own `facility.register` audit entry, one result per
    /// application in order. A 医療機関コード already registered is [`Registration::AlreadyRegistered`] and
    /// adds nothing; any other error rolls the whole batch back.
    async fn register_facilities(
        &self,
        batch: &[NewFacility],
        actor: &Actor,
        at: UnixTime,
    ) -> Result<Vec<Registration>, StoreError>;

    /// Apply a lifecycle transition (checked against the state read inside the
    /// transaction), audited as `facility.<verb>` with the reason.
    async fn transition_facility(
        &self,
        id: &FacilityId,
        transition: Transition,
        reason: Option<&str>,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<Facility, StoreError> {
        let change =
            FacilityChange { id: id.clone(), transition, reason: reason.map(str::to_owned), actor: actor.clone() };
        self.transition_facilities(std::slice::from_ref(&change), at)
            .await?
            .pop()
            .unwrap_or_else(|| Err(StoreError::Corrupt("a one-change batch answered nothing".into())))
    }

    /// Apply many lifecycle transitions in one transaction (group commit, D35 addendum): each exactly as
    /// [`Self::transition_facility`] would one after another, in order, with its own audit entry; a change
    /// that is refused (an unknown facility, a transition not allowed from the state the earlier changes of
    /// the batch left) is that change's error and does not stop the others. The outer error means the whole
    /// batch was rolled back (the database failed).
    async fn transition_facilities(
        &self,
        batch: &[FacilityChange],
        at: UnixTime,
    ) -> Result<Vec<Result<Facility, StoreError>>, StoreError>;

    /// One facility.
    async fn facility(&self, id: &FacilityId) -> Result<Option<Facility>, StoreError>;

    /// The facilities among `ids` that exist, in any order (one round trip per batch).
    async fn facilities(&self, ids: &[FacilityId]) -> Result<Vec<Facility>, StoreError> {
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            found.extend(self.facility(id).await?);
        }
        Ok(found)
    }

    /// Allocate `allocation` to `facility` (issue #24, item 2), audited as `facility.address.add`. Refused with
    /// [`StoreError::AllocationHeld`] when any facility's allocation (this one's too) shares an address with it:
    /// checked inside the transaction after the audit head lock, so of two concurrent overlapping adds exactly
    /// one wins; on PostgreSQL an exclusion constraint guards the table as well.
    async fn add_allocation(
        &self,
        facility: &FacilityId,
        allocation: &Allocation,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<AllocationRecord, StoreError>;

    /// Take an allocation back from `facility`, audited as `facility.address.remove`;
    /// [`StoreError::UnknownAllocation`] when the facility does not hold exactly that prefix.
    async fn remove_allocation(
        &self,
        facility: &FacilityId,
        allocation: &Allocation,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<AllocationRecord, StoreError>;

    /// The allocations of one facility, or of all, by facility then address.
    async fn allocations(&self, facility: Option<&FacilityId>) -> Result<Vec<AllocationRecord>, StoreError>;

    /// The allocation sharing an address with `allocation` (for a single address: the one holding it), if any.
    async fn allocation_overlapping(&self, allocation: &Allocation) -> Result<Option<AllocationRecord>, StoreError>;

    /// The allocations of the facilities among `ids`, in any order (one round trip per issuance batch).
    async fn allocations_of(&self, ids: &[FacilityId]) -> Result<Vec<AllocationRecord>, StoreError>;

    /// Facilities matching a filter, by ID.
    async fn list_facilities(&self, filter: &FacilityFilter) -> Result<Vec<Facility>, StoreError>;

    /// Record a CA (root or issuing) and its key URI, audited as `ca.create`.
    async fn put_authority(&self, record: &AuthorityRecord, actor: &Actor, at: UnixTime) -> Result<(), StoreError>;

    /// All recorded CAs.
    async fn authorities(&self) -> Result<Vec<AuthorityRecord>, StoreError>;
}
