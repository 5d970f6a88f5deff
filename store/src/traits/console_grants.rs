//! Console grants (D42): which person key may use the operator console, and the facility admin's second factor.

use crate::console_grant::ConsoleGrant;
use crate::error::StoreError;
use crate::facility::FacilityId;
use crate::records::Actor;
use hcpki_model::UnixTime;

/// Console grants (D42): which person key may use the operator console, and the facility admin's second factor.
#[async_trait::async_trait]
pub trait ConsoleGrants: Send + Sync {
    /// Grant `grant.person_key` console access (or change its grant), audited as `console.grant.add` in the same
    /// transaction (D42).
    async fn console_grant_put(&self, grant: &ConsoleGrant, actor: &Actor, at: UnixTime) -> Result<(), StoreError>;

    /// Whether facility `facility` accepts a password + TOTP sign-in for its admins' changes (otherwise a
    /// card sign-in only; issue #24 item 7).
    async fn facility_admin_password_totp(&self, facility: &FacilityId) -> Result<bool, StoreError>;

    /// Accept (`true`) or refuse password + TOTP sign-ins for a facility admin's changes, audited as
    /// `facility.admin_login` in the same transaction; `false` (nothing audited) when it was so already.
    async fn set_facility_admin_password_totp(
        &self,
        facility: &FacilityId,
        allowed: bool,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<bool, StoreError>;

    /// The console grant of a person, if any (read on every console request of a portal sign-in).
    async fn console_grant(&self, person_key: &str) -> Result<Option<ConsoleGrant>, StoreError>;

    /// Every console grant, by person key.
    async fn console_grants(&self) -> Result<Vec<ConsoleGrant>, StoreError>;

    /// Remove a person's console grant, audited as `console.grant.remove` in the same transaction; the grant as
    /// it was, or `None` (nothing audited) when there was none.
    async fn console_grant_remove(
        &self,
        person_key: &str,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<Option<ConsoleGrant>, StoreError>;
}
