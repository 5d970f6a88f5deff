//! CA key rollovers (issue #47, D145): the rollover of each issuing CA, its steps, and who still holds the old
//! generation's certificates.

use crate::error::StoreError;
use crate::records::Actor;
use crate::rollover::{RolloverRecord, RolloverStep};
use hcpki_model::{CaName, UnixTime};

/// CA key rollovers, shared by every replica through the database.
#[async_trait::async_trait]
pub trait CaRollovers: Send + Sync {
    /// Every rollover ever recorded, by CA and generation.
    async fn rollovers(&self) -> Result<Vec<RolloverRecord>, StoreError>;

    /// Record a new generation as published (`record.state` is ignored), audited as `ca.rollover.start`.
    /// Refused with [`crate::rollover::RolloverRefusal::AlreadyOpen`] (as [`StoreError::Rollover`], audited as
    /// denied) while another rollover of the CA is under way.
    async fn start_rollover(&self, record: &RolloverRecord, actor: &Actor, at: UnixTime) -> Result<(), StoreError>;

    /// Take `step` on the CA's open rollover ([`crate::rollover::advance`], applied under the audit head lock),
    /// audited as the step's action; the switch also makes the new generation the `authorities` row, the CA that
    /// issues. A refusal is audited as denied and returned as [`StoreError::Rollover`].
    async fn advance_rollover(
        &self,
        ca: CaName,
        step: RolloverStep,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<RolloverRecord, StoreError>;

    /// The CA's certificates issued at or before `issued_before` (whole seconds: the switch's own second counts as
    /// old, so the count errs towards refusing a retirement), still valid at `now` and not revoked, counted by
    /// facility (`None`: certificates of no facility, e.g. hcpki's own).
    async fn old_generation_holders(
        &self,
        ca: CaName,
        issued_before: UnixTime,
        now: UnixTime,
    ) -> Result<Vec<(Option<String>, i64)>, StoreError>;
}
