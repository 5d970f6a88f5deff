//! A facility's limit on signing sessions (issue #48 item 3, D172), for the admin API: anyone who may read the
//! facility reads it; its own admins (card, or password + TOTP where accepted) and operators set it. The
//! registrar audits the change and its refusals; refusals before it (authorization, a malformed ID) are audited
//! here.

use super::allowed_facility;
use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::app::auth::Caller;
use hcpki_ca::access::Action;
use hcpki_ca::store::FacilitySigningLimit;
use serde_json::{Value, json};

/// The limit as the API and `hcpki facility signing-limit --json` show it; `null` limits when never set (the
/// card agents' own apply).
pub fn json(facility: &str, limit: Option<&FacilitySigningLimit>) -> Value {
    match limit {
        Some(l) => json!({
            "facility": facility,
            "max_signatures": l.limit.max_signatures(),
            "max_hours": l.limit.max_hours(),
            "sessions": if l.limit.is_off() { "off" } else { "on" },
            "set_by": l.set_by,
            "set_at": hcpki_pkix::time::rfc3339(l.set_at),
        }),
        None => json!({
            "facility": facility, "max_signatures": null, "max_hours": null, "sessions": "agent", "set_by": null,
            "set_at": null,
        }),
    }
}

/// The facility's limit.
pub async fn show(state: &AppState, caller: &Caller, id: &str) -> Result<Value, ApiError> {
    let name = "admin.facility.read";
    let id = allowed_facility(state, caller, name, id, |f| Action::ReadFacility(f)).await?;
    let limit = state.admin.registrar().signing_limit(&id).await.map_err(ApiError::from)?;
    Ok(json(id.as_str(), limit.as_ref()))
}

/// Limit the facility's signing sessions to `max_signatures` within `max_hours` (0: off).
pub async fn set(
    state: &AppState,
    caller: &Caller,
    id: &str,
    max_signatures: u32,
    max_hours: u32,
) -> Result<Value, ApiError> {
    let name = "admin.facility.rules";
    let id = allowed_facility(state, caller, name, id, |f| Action::ManageFacilityRules(f)).await?;
    let set = state
        .admin
        .registrar()
        .set_signing_limit(id.as_str(), max_signatures, max_hours, &caller.actor())
        .await
        .map_err(ApiError::from)?;
    Ok(json(id.as_str(), Some(&set)))
}
