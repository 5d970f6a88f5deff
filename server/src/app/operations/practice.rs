//! The CP/CPS draft (issue #50 item 6, D150) for the admin API and the console: the same facts and the same
//! rendering as `hcpki cps`, for operators and auditors (refusals audited by [`Caller::may`]).

use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::app::auth::Caller;
use crate::config::Config;
use hcpki_ca::Authority;
use hcpki_ca::access::Action;
use hcpki_ca::cps::{self, CpsError, PracticeFacts};

/// The facts of this installation, as `hcpki cps` and `hcpki serve` both read them.
pub fn facts(config: &Config, authority: &Authority) -> Result<PracticeFacts, CpsError> {
    PracticeFacts::installed(
        env!("CARGO_PKG_VERSION"),
        authority,
        config.serve.ocsp.settings(&config.profiles),
        config.ca.root_crl_days,
    )
}

/// The draft (Markdown) of the serving installation; 503 (logged) when its facts could not be read at start.
pub async fn draft(state: &AppState, caller: &Caller) -> Result<String, ApiError> {
    caller.may(Action::ReadPractice).await?;
    let facts = state.practice.as_ref().as_ref().map_err(ApiError::unavailable)?;
    cps::render(facts).map_err(ApiError::unavailable)
}
