//! The issuance stop switch (D135): the halt in force and the approvals to end it.

use crate::error::StoreError;
use crate::halt::{ApprovalOutcome, Approver, Halt, HaltReason};
use crate::records::Actor;
use hcpki_model::UnixTime;
use std::time::Duration;

/// The issuance stop switch (D135), shared by every replica through the database.
#[async_trait::async_trait]
pub trait IssuanceHalts: Send + Sync {
    /// The halt in force with its approvals, or `None` while issuance runs. One indexed read: the issuance
    /// pipeline calls it before every batch.
    async fn issuance_halt(&self) -> Result<Option<Halt>, StoreError>;

    /// Halt issuance, audited as `ca.issuance.halt`. Refused with [`crate::halt::HaltRefusal::AlreadyHalted`]
    /// (as [`StoreError::Halt`], audited as denied) while a halt is in force.
    async fn halt_issuance(&self, reason: &HaltReason, actor: &Actor, at: UnixTime) -> Result<Halt, StoreError>;

    /// Approve resuming the halt in force as `approver` (also the audit actor), counting approvals younger than `ttl` (the rule is
    /// [`crate::halt::decide`], applied under the audit head lock). Audited as `ca.issuance.resume.approve`, and
    /// `ca.issuance.resume` when it is the last approval needed; a refusal (no halt, the same person again) is
    /// audited as denied and returned as [`StoreError::Halt`].
    async fn approve_resume(
        &self,
        approver: &Approver,
        ttl: Duration,
        at: UnixTime,
    ) -> Result<ApprovalOutcome, StoreError>;
}
