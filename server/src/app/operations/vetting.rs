//! Vetting evidence before approval (issue #50 item 4, D173), for the admin API and the console alike: the
//! register of medical institutions (import and look-up), each facility's evidence, the requirements, the overdue
//! list and its warnings. Each call asks `access::decide` (an RA's staff held to their scope), then the registrar
//! method the CLI's `hcpki register` and `hcpki facility vetting` call; the registrar and the store audit every
//! change and the refusals they make, refusals before them are audited here.

use super::allowed_facility;
use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::app::auth::Caller;
use hcpki_ca::access::{Action, Principal};
use hcpki_ca::registrar::vetting::{Imported, OverdueList};
use hcpki_ca::vetting::{
    Assessment, CodeCheck, FacilityVetting, RegisterEntry, RegisterImport, RulesAcceptance, RulesBasis,
    ScopedRequirements, Shortfall, VettingWarning,
};
use serde::Deserialize;
use serde_json::{Value, json};

/// The default window of the overdue list and of a warning: due within 30 days.
pub const DEFAULT_WITHIN_DAYS: u32 = 30;

/// An acceptance of the security rules (a JSON body, or form fields of the same names).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesBody {
    /// The version accepted; the current one when absent.
    pub version: Option<String>,
    /// The day signed (YYYY-MM-DD); today when absent.
    pub accepted_on: Option<String>,
    /// Who accepted for the facility (the name as signed).
    pub accepted_by: String,
}

/// An assessment (a JSON body, or form fields of the same names).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessmentBody {
    /// The day of the last assessment (YYYY-MM-DD).
    pub last: String,
    /// The day the next is due; a year after `last` when absent.
    pub next_due: Option<String>,
    /// Who assessed.
    pub assessor: Option<String>,
}

/// A facility's evidence as the API, `hcpki facility vetting show --json` and the console read it: what is
/// recorded, what an approval by this caller would lack, and the warnings sent.
pub fn evidence_json(
    facility: &str,
    evidence: &FacilityVetting,
    scope: &str,
    required: &str,
    missing: &[Shortfall],
    warnings: &[VettingWarning],
) -> Value {
    json!({
        "facility": facility,
        "code_check": evidence.code,
        "security_rules": evidence.rules,
        "assessment": evidence.assessment,
        "approval": {
            "requirements_of": scope,
            "required": required,
            "missing": missing.iter().map(|m| json!({ "what": m, "how": m.to_string() })).collect::<Vec<_>>(),
        },
        "warnings": warnings,
    })
}

/// What `evidence_json` is built of, read once.
pub struct Evidence {
    /// The recorded evidence.
    pub recorded: FacilityVetting,
    /// Whose requirements an approval by this caller meets.
    pub scope: String,
    /// Those requirements, as listed.
    pub required: String,
    /// What an approval by this caller would lack now.
    pub missing: Vec<Shortfall>,
    /// The warnings sent, newest first.
    pub warnings: Vec<VettingWarning>,
}

impl Evidence {
    /// As JSON.
    pub fn json(&self, facility: &str) -> Value {
        evidence_json(facility, &self.recorded, &self.scope, &self.required, &self.missing, &self.warnings)
    }
}

/// The facility's evidence (whoever may read the facility: its own admins see their warnings here).
pub async fn show(state: &AppState, caller: &Caller, id: &str) -> Result<Evidence, ApiError> {
    let id = allowed_facility(state, caller, "admin.facility.read", id, |f| Action::ReadFacility(f)).await?;
    let registrar = state.admin.registrar();
    let recorded = registrar.vetting(&id).await.map_err(ApiError::from)?;
    let (scope, required, missing) =
        registrar.vetting_shortfalls(&id, &caller.actor()).await.map_err(ApiError::from)?;
    let warnings = registrar.vetting_warnings(&id).await.map_err(ApiError::from)?;
    Ok(Evidence { recorded, scope: scope.to_string(), required: required.list(), missing, warnings })
}

/// Check the facility's 医療機関コード against the register and record what was found (operators, its RA).
pub async fn check_code(
    state: &AppState,
    caller: &Caller,
    id: &str,
    note: Option<&str>,
) -> Result<CodeCheck, ApiError> {
    let id = allowed_facility(state, caller, "admin.facility.vetting.record", id, |f| Action::RecordVetting(f)).await?;
    state.admin.registrar().check_code(id.as_str(), note, &caller.actor()).await.map_err(ApiError::from)
}

/// Record the facility's acceptance of the security rules: its own admin accepting (online), or staff recording a
/// signed paper.
pub async fn accept_rules(
    state: &AppState,
    caller: &Caller,
    id: &str,
    body: &RulesBody,
) -> Result<RulesAcceptance, ApiError> {
    let name = "admin.facility.vetting.accept_rules";
    let id = allowed_facility(state, caller, name, id, |f| Action::AcceptSecurityRules(f)).await?;
    let registrar = state.admin.registrar();
    let version = match body.version.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => v.to_owned(),
        None => match registrar.rules_version().await.map_err(ApiError::from)? {
            Some(v) => v,
            None => {
                let e = ApiError::bad_request(
                    "invalid request",
                    "no current security rules version is set: give the version accepted (or ask the operating body \
                     to set it: hcpki facility vetting rules-version VERSION)",
                );
                return Err(caller.refuse(name, id.as_str(), e).await);
            }
        },
    };
    let basis = if matches!(caller.principal, Principal::FacilityAdmin { .. }) {
        RulesBasis::Online
    } else {
        RulesBasis::Paper
    };
    let today = hcpki_ca::vetting::Day::of_unix(state.clock.now_unix());
    let on = body
        .accepted_on
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map_or_else(|| today.to_string(), str::to_owned);
    registrar
        .accept_rules(id.as_str(), &version, &on, &body.accepted_by, basis, &caller.actor())
        .await
        .map_err(ApiError::from)
}

/// Record the facility's last vulnerability assessment (operators, its RA).
pub async fn assessment(
    state: &AppState,
    caller: &Caller,
    id: &str,
    body: &AssessmentBody,
) -> Result<Assessment, ApiError> {
    let id = allowed_facility(state, caller, "admin.facility.vetting.record", id, |f| Action::RecordVetting(f)).await?;
    state
        .admin
        .registrar()
        .record_assessment(id.as_str(), &body.last, body.next_due.as_deref(), body.assessor.as_deref(), &caller.actor())
        .await
        .map_err(ApiError::from)
}

/// Warn the facility of what is overdue (operators, its RA).
pub async fn warn(
    state: &AppState,
    caller: &Caller,
    id: &str,
    within_days: Option<u32>,
    message: Option<&str>,
) -> Result<VettingWarning, ApiError> {
    let id = allowed_facility(state, caller, "admin.facility.vetting.record", id, |f| Action::RecordVetting(f)).await?;
    state
        .admin
        .registrar()
        .warn_facility(id.as_str(), within_days.unwrap_or(DEFAULT_WITHIN_DAYS), message, &caller.actor())
        .await
        .map_err(ApiError::from)
}

/// The overdue list: the whole country's for central staff, the RA's scope for its staff.
pub async fn overdue(state: &AppState, caller: &Caller, within_days: Option<u32>) -> Result<OverdueList, ApiError> {
    caller.may(Action::ReadVettingLists).await?;
    state
        .admin
        .registrar()
        .overdue(within_days.unwrap_or(DEFAULT_WITHIN_DAYS), caller.principal.ra())
        .await
        .map_err(ApiError::from)
}

/// Import the register (central operators): the file whole, or nothing.
pub async fn import_register(
    state: &AppState,
    caller: &Caller,
    bytes: &[u8],
    source: &str,
) -> Result<Imported, ApiError> {
    caller.may(Action::ManageVetting).await?;
    state.admin.registrar().import_register(bytes, source, &caller.actor()).await.map_err(ApiError::from)
}

/// The register's state: the newest import, the requirements and the rules version.
pub async fn status(
    state: &AppState,
    caller: &Caller,
) -> Result<(Option<RegisterImport>, Vec<ScopedRequirements>, Option<String>), ApiError> {
    caller.may(Action::ReadVettingLists).await?;
    let registrar = state.admin.registrar();
    let import = registrar.register_import().await.map_err(ApiError::from)?;
    let requirements = registrar.vetting_requirements().await.map_err(ApiError::from)?;
    let version = registrar.rules_version().await.map_err(ApiError::from)?;
    Ok((import, requirements, version))
}

/// The status as JSON (`GET /api/v1/register`, `hcpki register show --json` without a code).
pub fn status_json(
    import: Option<&RegisterImport>,
    requirements: &[ScopedRequirements],
    version: Option<&str>,
) -> Value {
    json!({
        "import": import,
        "requirements": requirements.iter().map(|r| json!({
            "scope": r.scope.to_string(), "required": r.requirements.list(), "set_by": r.set_by, "set_at": r.set_at,
        })).collect::<Vec<_>>(),
        "rules_version": version,
    })
}

/// One register entry (operators, auditors, RA staff).
pub async fn register_entry(state: &AppState, caller: &Caller, code: &str) -> Result<RegisterEntry, ApiError> {
    caller.may(Action::ReadVettingLists).await?;
    match state.admin.registrar().register_entry(code).await {
        Ok(Some(e)) => Ok(e),
        Ok(None) => Err(ApiError::not_found(format!(
            "the register lists no {}: check the code, or import the current register",
            code.trim()
        ))),
        Err(e) => Err(caller.refuse("admin.vetting.read", code.trim(), ApiError::from(e)).await),
    }
}

/// Set whose requirements (`central` or an RA's name) are which (central operators).
pub async fn set_requirements(
    state: &AppState,
    caller: &Caller,
    scope: &str,
    list: &str,
) -> Result<ScopedRequirements, ApiError> {
    caller.may(Action::ManageVetting).await?;
    state.admin.registrar().set_vetting_requirements(scope, list, &caller.actor()).await.map_err(ApiError::from)
}

/// Set the network's current security rules version (central operators).
pub async fn set_rules_version(state: &AppState, caller: &Caller, version: &str) -> Result<String, ApiError> {
    caller.may(Action::ManageVetting).await?;
    state.admin.registrar().set_rules_version(version, &caller.actor()).await.map_err(ApiError::from)
}
