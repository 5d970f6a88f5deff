//! Facilities' named security officers (issue #50 item 5, D155).

use crate::error::StoreError;
use crate::facility::FacilityId;
use crate::facility::security_officer::{NamedSecurityOfficer, SecurityOfficer};
use crate::records::Actor;
use hcpki_model::UnixTime;

/// Each facility's security officer (セキュリティ責任者): at most one, replaced when named again.
#[async_trait::async_trait]
pub trait SecurityOfficers: Send + Sync {
    /// Name `officer` for `facility`, audited as `facility.security_officer` (with the one it replaces) in the
    /// same transaction. [`StoreError::UnknownFacility`] when there is no such facility.
    async fn set_security_officer(
        &self,
        facility: &FacilityId,
        officer: &SecurityOfficer,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<(), StoreError>;

    /// The facility's officer, if one was named.
    async fn security_officer(&self, facility: &FacilityId) -> Result<Option<NamedSecurityOfficer>, StoreError>;
}
