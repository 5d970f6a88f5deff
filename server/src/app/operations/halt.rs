//! The issuance stop switch (issue #46 item 5, D135) for the admin API (and the console, when it has its page):
//! the same [`IssuanceSwitch`] operation `hcpki ca halt` / `hcpki ca resume` call, with the caller as actor.
//! Who may is `hcpki_ca::access::decide`'s: operators halt and approve, auditors read. That the two approvals
//! to resume are two different named people is the switch's rule, not this adapter's.

use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::app::auth::Caller;
use axum::http::StatusCode;
use hcpki_ca::access::Action;
use hcpki_ca::halt::{HaltError, IssuanceSwitch};
use hcpki_ca::store::halt::{ApprovalOutcome, Halt, HaltReason, HaltRefusal};

/// The switch over this server's shared store: a halt ordered on any replica holds on all.
fn switch(state: &AppState) -> IssuanceSwitch {
    IssuanceSwitch::new(state.store.clone(), state.store.clone(), state.admin.clock().clone())
}

/// The halt in force, if any (operators and auditors).
pub async fn status(state: &AppState, caller: &Caller) -> Result<Option<Halt>, ApiError> {
    caller.may(Action::ReadIssuanceHalt).await?;
    switch(state).halt_in_force().await.map_err(refused)
}

/// Halt all issuance for `reason` (operators). A refusal (already halted, no reason) is audited by the store.
pub async fn halt(state: &AppState, caller: &Caller, reason: &str) -> Result<Halt, ApiError> {
    caller.may(Action::HaltIssuance).await?;
    let reason = match HaltReason::parse(reason) {
        Ok(r) => r,
        Err(e) => {
            let name = Action::HaltIssuance.name();
            return Err(caller.refuse(&name, "issuance", ApiError::bad_request("bad reason", e.to_string())).await);
        }
    };
    switch(state).halt(&reason, &caller.actor()).await.map_err(refused)
}

/// Approve resuming as the caller (operators; a named person, once per halt). The refusals are audited by the
/// switch and the store.
pub async fn approve_resume(state: &AppState, caller: &Caller) -> Result<ApprovalOutcome, ApiError> {
    caller.may(Action::HaltIssuance).await?;
    switch(state).approve_resume(&caller.actor()).await.map_err(refused)
}

/// The switch's refusal as the API answers it: what to do, 409 for a state the request does not fit.
fn refused(e: HaltError) -> ApiError {
    match e {
        HaltError::Refused(r @ HaltRefusal::Reason) => ApiError::bad_request("bad reason", r.to_string()),
        HaltError::Refused(r @ HaltRefusal::Unnamed(_)) => {
            ApiError::new(StatusCode::FORBIDDEN, "a named person must approve", r.to_string())
        }
        HaltError::Refused(r) => ApiError::new(StatusCode::CONFLICT, "conflict", r.to_string()),
        other => ApiError::unavailable(other),
    }
}
