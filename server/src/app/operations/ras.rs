//! Registration authorities (issue #50 item 3, D167), for the admin API and the console: who may is
//! `hcpki_ca::access::decide`'s (central operators manage, any staff lists); the registrar checks, changes and
//! audits (its refusals too). What an RA's own staff register is held to its scope here: a prefecture RA
//! registers facilities of its prefectures only, and what a provider RA registers is assigned to it.

use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::app::auth::Caller;
use hcpki_ca::access::Action;
use hcpki_ca::console_grant::parse_person_key;
use hcpki_ca::facility::{Facility, NewFacility};
use hcpki_ca::operator::OperatorName;
use hcpki_ca::ra::{Member, Placement, Prefecture, Ra, RaKind, RaName};
use hcpki_ca::registrar::ra::NewRa;

/// Every RA and every member, by name.
pub async fn list(state: &AppState, caller: &Caller) -> Result<(Vec<Ra>, Vec<(Member, RaName)>), ApiError> {
    caller.may(Action::ListRas).await?;
    let registrar = state.admin.registrar();
    Ok((registrar.ras().await.map_err(ApiError::from)?, registrar.ra_members().await.map_err(ApiError::from)?))
}

/// Create an RA (central operators).
pub async fn create(state: &AppState, caller: &Caller, new: &NewRa) -> Result<Ra, ApiError> {
    caller.may(Action::ManageRas).await?;
    state.admin.registrar().create_ra(new, &caller.actor()).await.map_err(ApiError::from)
}

/// Assign a facility to a provider RA, or take it from its provider (`None`) (central operators).
pub async fn assign(
    state: &AppState,
    caller: &Caller,
    facility: &str,
    ra: Option<&str>,
) -> Result<Placement, ApiError> {
    caller.may(Action::ManageRas).await?;
    state.admin.registrar().assign_to_ra(facility, ra, &caller.actor()).await.map_err(ApiError::from)
}

/// Put an operator or a console person in an RA, or make them central (`None`) (central operators).
pub async fn set_member(state: &AppState, caller: &Caller, member: &Member, ra: Option<&str>) -> Result<(), ApiError> {
    caller.may(Action::ManageRas).await?;
    state.admin.registrar().set_ra_member(member, ra, &caller.actor()).await.map_err(ApiError::from)
}

/// The member a request names: one of an operator's name or a console person's key (the API's `operator` or
/// `person`, the console's form); anything else refused, audited as `ra.member`.
pub async fn member(caller: &Caller, operator: Option<&str>, person: Option<&str>) -> Result<Member, ApiError> {
    let bad = |detail: String| ApiError::bad_request("bad request", detail);
    let named = match (operator.map(str::trim), person.map(str::trim)) {
        (Some(o), None) => OperatorName::parse(o).map(|n| Member::operator(&n)).map_err(|e| bad(e.to_string())),
        (None, Some(p)) => parse_person_key(p).map(|k| Member::person(&k)).map_err(|e| bad(e.to_string())),
        _ => Err(bad("name one member: \"operator\": NAME or \"person\": KEY".into())),
    };
    match named {
        Ok(m) => Ok(m),
        Err(e) => Err(caller.refuse("ra.member", "-", e).await),
    }
}

/// Refuse (audited) an RA's staff registering a facility a prefecture RA could not then see: one without a
/// 医療機関コード or of another prefecture. Anyone else applies as before.
pub(super) async fn may_register(caller: &Caller, new: &NewFacility) -> Result<(), ApiError> {
    let Some(ra) = caller.principal.ra().filter(|r| r.kind == RaKind::Prefecture) else { return Ok(()) };
    let prefecture = new.medical_code.as_ref().and_then(Prefecture::of_code);
    if prefecture.is_some_and(|p| ra.prefectures.contains(&p)) {
        return Ok(());
    }
    let e = ApiError::forbidden(
        "outside your registration authority's scope",
        format!(
            "registration authority {} registers facilities of prefectures {} only: give the facility's \
             医療機関コード (its first two digits are the prefecture), or ask a central operator",
            ra.name,
            ra.prefecture_list()
        ),
    );
    Err(caller.refuse(&Action::Apply.name(), "-", e).await)
}

/// A facility a provider RA's staff registered is assigned to that RA (audited `ra.assign`), so it is in their
/// scope from the start.
pub(super) async fn registered(state: &AppState, caller: &Caller, f: Facility) -> Result<Facility, ApiError> {
    let Some(ra) = caller.principal.ra().filter(|r| r.kind == RaKind::Provider) else { return Ok(f) };
    let registrar = state.admin.registrar();
    registrar.assign_to_ra(f.id.as_str(), Some(ra.name.as_str()), &caller.actor()).await.map_err(ApiError::from)?;
    Ok(f)
}
