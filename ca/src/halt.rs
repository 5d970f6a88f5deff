//! The issuance stop switch (issue #46 item 5, D135): `hcpki ca halt` stops every issuance on every replica at
//! once; resuming takes two different named people's approvals, each valid for the approval window
//! ([`HaltSettings`], `[ca] resume_approval_minutes`, one hour by default). OCSP, CRLs and
//! the SSO are not issuance and keep running.
//!
//! The state is a row in the shared database (`issuance_halts`, migration 0030), not a flag in a process, so a
//! halt ordered on one replica holds on all of them. [`Pipeline`](crate::pipeline::Pipeline) reads it before every
//! batch, uncached: every issuance path (EST, SCEP, ACME, the admin API and console,
//! re-issue jobs, OCSP responder and SCEP RA certificates, the server's own TLS certificate) passes that one
//! check, and a halt applies to the next batch any replica starts after it commits. Each refused request is
//! audited by the pipeline as `cert.issue` denied, with the halt's reason.
//!
//! This module is the one operation the CLI, the admin API and the console call; it knows nothing of HTTP.

use crate::audit::{AuditEvent, Outcome};
use crate::error::SigningError;
use crate::store::halt::{ApprovalOutcome, Approver, Halt, HaltReason, HaltRefusal};
use crate::store::{Actor, AuditLog, IssuanceHalts, StoreError};
use hcpki_model::Clock;
use std::sync::Arc;
use std::time::Duration;

/// How long an approval to resume counts by default: long enough for the second operator to be reached and read
/// the incident, short enough that a forgotten approval from last week is not half of a resume today.
pub const APPROVAL_TTL: Duration = Duration::from_secs(3600);

/// What a halted front end tells clients to wait before retrying by default (`Retry-After`, seconds): a halt is an
/// incident that takes people, not a blip, so clients are not invited to hammer the CA.
pub const RETRY_AFTER_SECS: u64 = 600;

/// The stop switch's two tunings (`[ca] resume_approval_minutes` and `halt_retry_after_secs`, D141): how long
/// an approval to resume counts, and the `Retry-After` halted front ends answer. Both differ by installation
/// (how fast a second operator is reached at night; how soon an installation's clients should come back), so
/// they are configuration, with the constants above as defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HaltSettings {
    /// How long an approval to resume counts.
    pub approval_window: Duration,
    /// What a refused client is told to wait before retrying, in seconds.
    pub retry_after_secs: u64,
}

impl Default for HaltSettings {
    fn default() -> Self {
        Self { approval_window: APPROVAL_TTL, retry_after_secs: RETRY_AFTER_SECS }
    }
}

/// The stop switch over the shared store.
pub struct IssuanceSwitch {
    halts: Arc<dyn IssuanceHalts>,
    audit: Arc<dyn AuditLog>,
    clock: Arc<dyn Clock>,
    approval_window: Duration,
}

/// Why the switch could not be thrown or an approval was not taken. Each message says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HaltError {
    /// The halt or approval was refused (already halted, nothing to resume, the same person again, no named
    /// person); the refusal is in the audit log.
    #[error(transparent)]
    Refused(#[from] HaltRefusal),
    /// The database could not be read or written: nothing changed; retry when it is back.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for HaltError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Halt(refusal) => Self::Refused(refusal),
            other => Self::Store(other),
        }
    }
}

impl std::fmt::Debug for IssuanceSwitch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuanceSwitch").finish_non_exhaustive()
    }
}

impl IssuanceSwitch {
    /// The switch over `halts` (the shared state) and `audit` (for refusals that never reach the store).
    pub fn new(halts: Arc<dyn IssuanceHalts>, audit: Arc<dyn AuditLog>, clock: Arc<dyn Clock>) -> Self {
        Self { halts, audit, clock, approval_window: APPROVAL_TTL }
    }

    /// The switch counting approvals for `window` instead of [`APPROVAL_TTL`] (`[ca] resume_approval_minutes`).
    pub fn with_approval_window(self, window: Duration) -> Self {
        Self { approval_window: window, ..self }
    }

    /// How long an approval to resume counts.
    pub fn approval_window(&self) -> Duration {
        self.approval_window
    }

    /// Halt all issuance now, for `reason`, ordered by `actor` (anyone who may operate the CA may halt it: stopping
    /// is the safe direction).
    pub async fn halt(&self, reason: &HaltReason, actor: &Actor) -> Result<Halt, HaltError> {
        Ok(self.halts.halt_issuance(reason, actor, self.clock.now()).await?)
    }

    /// Approve resuming as `actor`, who must be a named person ([`Approver::named`]); the second different
    /// person's approval within the approval window resumes issuance.
    pub async fn approve_resume(&self, actor: &Actor) -> Result<ApprovalOutcome, HaltError> {
        let at = self.clock.now();
        let approver = match Approver::named(actor) {
            Ok(a) => a,
            Err(refusal) => {
                let event = AuditEvent {
                    actor: actor.as_str().to_owned(),
                    action: "ca.issuance.resume.approve".into(),
                    target: "issuance".into(),
                    outcome: Outcome::Denied,
                    detail: serde_json::json!({ "refused": refusal.to_string() }),
                };
                self.audit.append_audit(&event, at).await.map_err(HaltError::Store)?;
                return Err(refusal.into());
            }
        };
        Ok(self.halts.approve_resume(&approver, self.approval_window, at).await?)
    }

    /// The halt in force, if any.
    pub async fn halt_in_force(&self) -> Result<Option<Halt>, HaltError> {
        Ok(self.halts.issuance_halt().await?)
    }
}

/// What the pipeline answers each request while `halt` is in force.
pub(crate) fn refusal(halt: &Halt) -> SigningError {
    SigningError::Halted { id: halt.id, reason: halt.reason.clone(), since: halt.halted_at }
}
