//! CA key rollover (issue #47, D145) for the admin API: the same `Authority` operations `hcpki ca rollover`
//! calls, with the caller as actor. Who may is `hcpki_ca::access::decide`'s: operators step, auditors read.
//! Starting needs the root key on the replica that answers (as for the CLI); a replica without it answers 503
//! with the key error, so an installation whose root is offline starts rollovers at the ceremony with the CLI.

use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::app::auth::Caller;
use axum::http::StatusCode;
use hcpki_ca::CaName;
use hcpki_ca::access::Action;
use hcpki_ca::authority::{RolloverError, RolloverOptions, RolloverStatus};
use hcpki_ca::store::rollover::{RolloverRecord, RolloverStep};

/// Where `ca`'s rollover stands and who holds the old generation (operators and auditors).
pub async fn status(state: &AppState, caller: &Caller, ca: CaName) -> Result<RolloverStatus, ApiError> {
    caller.may(Action::ReadRollover).await?;
    state.admin.rollover_status(ca).await.map_err(answer)
}

/// Start a rollover of `ca` with the new key beside the old one, its algorithm (operators).
pub async fn start(state: &AppState, caller: &Caller, ca: CaName) -> Result<RolloverRecord, ApiError> {
    caller.may(Action::ManageRollover).await?;
    match state.admin.rollover_start(ca, &RolloverOptions::default(), &caller.actor()).await {
        Ok(r) => Ok(r),
        Err(e) => Err(caller.refuse(&Action::ManageRollover.name(), ca.as_str(), answer(e)).await),
    }
}

/// Take `step` on `ca`'s rollover (operators). The store audits its own refusals; the others are audited here.
pub async fn step(
    state: &AppState,
    caller: &Caller,
    ca: CaName,
    step: RolloverStep,
) -> Result<RolloverRecord, ApiError> {
    caller.may(Action::ManageRollover).await?;
    match state.admin.rollover_step(ca, step, &caller.actor()).await {
        Ok(r) => Ok(r),
        Err(e @ RolloverError::Refused(_)) => Err(answer(e)),
        Err(e) => Err(caller.refuse(&Action::ManageRollover.name(), ca.as_str(), answer(e)).await),
    }
}

/// The rollover's error as the API answers it: what to do, 409 for a step the state does not allow, 503 for the
/// CA's own trouble.
fn answer(e: RolloverError) -> ApiError {
    match e {
        e @ (RolloverError::Refused(_) | RolloverError::OldStillValid { .. }) => {
            ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string())
        }
        RolloverError::Authority(e) => e.into(),
        other => ApiError::unavailable(other),
    }
}
