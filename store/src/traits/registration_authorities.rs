//! Registration authorities, their facilities and their staff (issue #50 item 3, D167).

use crate::error::StoreError;
use crate::facility::FacilityId;
use crate::ra::{Member, Placement, Ra, RaName};
use crate::records::Actor;
use hcpki_model::UnixTime;

/// Registration authorities (`hcpki ra`): each write audited in its own transaction with the RA as detail.
#[async_trait::async_trait]
pub trait RegistrationAuthorities: Send + Sync {
    /// Create an RA, audited as `ra.create`; [`StoreError::RaExists`] when the name is taken.
    async fn create_ra(&self, ra: &Ra, actor: &Actor, at: UnixTime) -> Result<(), StoreError>;

    /// Every RA, by name.
    async fn list_ras(&self) -> Result<Vec<Ra>, StoreError>;

    /// One RA.
    async fn ra(&self, name: &RaName) -> Result<Option<Ra>, StoreError>;

    /// Assign `facility` to the provider RA `ra` (replacing its provider before, if any), or take it from its
    /// provider (`None`); audited as `ra.assign` with the RA before and after. [`StoreError::UnknownFacility`],
    /// [`StoreError::UnknownRa`] when either does not exist.
    async fn assign_facility(
        &self,
        facility: &FacilityId,
        ra: Option<&RaName>,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<(), StoreError>;

    /// Put `member` in the RA `ra`, or make it central (`None`); audited as `ra.member` with the RA before and
    /// after.
    async fn set_ra_member(
        &self,
        member: &Member,
        ra: Option<&RaName>,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<(), StoreError>;

    /// The RA `member` belongs to (`None`: central).
    async fn ra_of_member(&self, member: &Member) -> Result<Option<Ra>, StoreError>;

    /// Every RA member with its RA, by member.
    async fn ra_members(&self) -> Result<Vec<(Member, RaName)>, StoreError>;

    /// Where a facility stands for the RAs; `None` when there is no such facility.
    async fn placement(&self, facility: &FacilityId) -> Result<Option<Placement>, StoreError>;
}
