//! The issuance stop switch (issue #46 item 5, D135) for the admin API and the console's page
//! (`console::halt`): the same [`IssuanceSwitch`] operation `hcpki ca halt` / `hcpki ca resume` call, with the
//! caller as actor. Who may is `hcpki_ca::access::decide`'s: operators halt and approve, auditors read. That the
//! two approvals to resume are two different named people is the switch's rule, not this adapter's.
//!
//! Each operation answers in two layers: the outer error is the caller's (not allowed, the database down), the
//! inner one the switch's own refusal ([`HaltRefusal`], already audited), which the API turns into a status and
//! the console into words on its page.

use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::app::auth::Caller;
use axum::http::StatusCode;
use hcpki_ca::access::Action;
use hcpki_ca::halt::{HaltError, IssuanceSwitch};
use hcpki_ca::store::halt::{ApprovalOutcome, Halt, HaltReason, HaltRefusal};

/// An operation's answer: the outcome, or the switch's refusal (audited); the outer error is the caller's.
pub type Switched<T> = Result<Result<T, HaltRefusal>, ApiError>;

/// The switch over this server's shared store: a halt ordered on any replica holds on all.
fn switch(state: &AppState) -> IssuanceSwitch {
    IssuanceSwitch::new(state.store.clone(), state.store.clone(), state.admin.clock().clone())
        .with_approval_window(state.halt.approval_window)
}

/// The halt in force, if any (operators and auditors).
pub async fn status(state: &AppState, caller: &Caller) -> Result<Option<Halt>, ApiError> {
    caller.may(Action::ReadIssuanceHalt).await?;
    match settled(switch(state).halt_in_force().await)? {
        Ok(halt) => Ok(halt),
        Err(refusal) => Err(refused(refusal)),
    }
}

/// Halt all issuance for `reason` (operators). A refusal (already halted, no reason) is audited.
pub async fn halt(state: &AppState, caller: &Caller, reason: &str) -> Switched<Halt> {
    caller.may(Action::HaltIssuance).await?;
    let reason = match HaltReason::parse(reason) {
        Ok(r) => r,
        Err(e) => {
            let name = Action::HaltIssuance.name();
            caller.refuse(&name, "issuance", ApiError::bad_request("bad reason", e.to_string())).await;
            return Ok(Err(e));
        }
    };
    settled(switch(state).halt(&reason, &caller.actor()).await)
}

/// Approve resuming as the caller (operators; a named person, once per halt). The refusals are audited by the
/// switch and the store.
pub async fn approve_resume(state: &AppState, caller: &Caller) -> Switched<ApprovalOutcome> {
    caller.may(Action::HaltIssuance).await?;
    settled(switch(state).approve_resume(&caller.actor()).await)
}

/// The switch's answer in the two layers of [`Switched`].
fn settled<T>(r: Result<T, HaltError>) -> Switched<T> {
    match r {
        Ok(t) => Ok(Ok(t)),
        Err(HaltError::Refused(refusal)) => Ok(Err(refusal)),
        Err(other) => Err(ApiError::unavailable(other)),
    }
}

/// The switch's refusal as the API answers it: what to do, 409 for a state the request does not fit.
pub fn refused(e: HaltRefusal) -> ApiError {
    match e {
        r @ HaltRefusal::Reason => ApiError::bad_request("bad reason", r.to_string()),
        r @ HaltRefusal::Unnamed(_) => {
            ApiError::new(StatusCode::FORBIDDEN, "a named person must approve", r.to_string())
        }
        r => ApiError::new(StatusCode::CONFLICT, "conflict", r.to_string()),
    }
}
