//! A facility's rule on passkeys (issue #48 item 1, D170), for the admin API: anyone who may read the facility
//! reads it; its own admins (card, or password + TOTP where accepted) and operators set it. The registrar
//! audits the change and its refusals; refusals before it (authorization, a malformed ID) are audited here.

use super::allowed_facility;
use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::app::auth::Caller;
use hcpki_ca::access::Action;
use hcpki_ca::store::FacilityPasskeyRule;
use serde_json::{Value, json};

/// The rule as the API and `hcpki facility passkey-rule --json` show it; `none` when never set.
pub fn json(facility: &str, rule: Option<&FacilityPasskeyRule>) -> Value {
    match rule {
        Some(r) => json!({
            "facility": facility,
            "rule": r.rule.name(),
            "models": r.rule.models().iter().map(ToString::to_string).collect::<Vec<_>>(),
            "set_by": r.set_by,
            "set_at": hcpki_pkix::time::rfc3339(r.set_at),
        }),
        None => json!({ "facility": facility, "rule": "none", "models": [], "set_by": null, "set_at": null }),
    }
}

/// The facility's rule.
pub async fn show(state: &AppState, caller: &Caller, id: &str) -> Result<Value, ApiError> {
    let name = "admin.facility.read";
    let id = allowed_facility(state, caller, name, id, |f| Action::ReadFacility(f)).await?;
    let rule = state.admin.registrar().passkey_rule(&id).await.map_err(ApiError::from)?;
    Ok(json(id.as_str(), rule.as_ref()))
}

/// Set the facility's rule `rule` (`none`, `any`, `models`) with `models`.
pub async fn set(
    state: &AppState,
    caller: &Caller,
    id: &str,
    rule: &str,
    models: &[String],
) -> Result<Value, ApiError> {
    let name = "admin.facility.rules";
    let id = allowed_facility(state, caller, name, id, |f| Action::ManageFacilityRules(f)).await?;
    let set = state
        .admin
        .registrar()
        .set_passkey_rule(id.as_str(), rule, models, &caller.actor())
        .await
        .map_err(ApiError::from)?;
    Ok(json(id.as_str(), Some(&set)))
}
