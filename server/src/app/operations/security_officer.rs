//! A facility's security officer (セキュリティ責任者; issue #50 item 5, D155), for the admin API: anyone who may
//! read the facility reads it; its own admins (card, or password + TOTP where accepted) and operators name it.
//! The registrar audits the change and its refusals; refusals before it (authorization, a malformed ID) are
//! audited here.

use super::allowed_facility;
use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::app::auth::Caller;
use hcpki_ca::access::Action;
use hcpki_ca::facility::NamedSecurityOfficer;

/// The facility's officer, if one was named.
pub async fn show(state: &AppState, caller: &Caller, id: &str) -> Result<Option<NamedSecurityOfficer>, ApiError> {
    let name = "admin.facility.read";
    let id = allowed_facility(state, caller, name, id, |f| Action::ReadFacility(f)).await?;
    state.admin.registrar().security_officer(&id).await.map_err(ApiError::from)
}

/// Name the facility's officer.
pub async fn set(
    state: &AppState,
    caller: &Caller,
    id: &str,
    officer: &str,
    contact: &str,
) -> Result<NamedSecurityOfficer, ApiError> {
    let name = "admin.facility.security_officer";
    let id = allowed_facility(state, caller, name, id, |f| Action::ManageSecurityOfficer(f)).await?;
    state
        .admin
        .registrar()
        .set_security_officer(id.as_str(), officer, contact, &caller.actor())
        .await
        .map_err(ApiError::from)
}
