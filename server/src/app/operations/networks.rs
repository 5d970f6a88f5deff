//! Regional networks (地域医療連携ネットワーク, issue #49 item 2, D169) as the admin API
//! (`/api/v1/regional-networks`) and the console's `/console/networks` both manage them: the access decision (the
//! operators who register relying parties declare which of them share consents: `ManageOidcClients`; those who
//! may list relying parties read them), then the one declaring operation the CLI runs too
//! ([`hcpki_sso::consent::network::declare`], audited `network.declared`, refusals denied).

use super::super::AppState;
use super::super::api_error::ApiError;
use super::super::auth::Caller;
use axum::http::StatusCode;
use hcpki_ca::access::Action;
use hcpki_ca::store::NetworkRecord;
use hcpki_sso::consent::network::{Declaration, NetworkError, declare as declare_network};

/// Every declared network (operators and auditors).
pub async fn list(state: &AppState, caller: &Caller) -> Result<Vec<NetworkRecord>, ApiError> {
    caller.may(Action::ListOidcClients).await?;
    state.store.networks().await.map_err(ApiError::unavailable)
}

/// Declare `declaration` (operators): the stored network, or why not (400, audited by the core).
pub async fn declare(state: &AppState, caller: &Caller, declaration: &Declaration) -> Result<NetworkRecord, ApiError> {
    caller.may(Action::ManageOidcClients).await?;
    match declare_network(state.store.as_ref(), declaration, &caller.actor().0, state.clock.now()).await {
        Ok(n) => Ok(n),
        Err(NetworkError::Store(e)) => Err(ApiError::unavailable(e)),
        Err(e) => Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_network", e.to_string())),
    }
}
