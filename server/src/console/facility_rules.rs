//! A facility's own rules on one console page (D178): its named security officer (D155), its rule on passkeys
//! (D170) and its limit on signing sessions (D172), each read by whoever may read the facility and set, by its
//! own admins and operators, through the operation behind `PUT /api/v1/facilities/{id}/security-officer`,
//! `…/passkey-rule` and `…/signing-limit` — the same one `hcpki facility …` calls — with the CSRF token and
//! origin check every console form has.

use super::i18n::M;
use super::problem::Problem;
use super::view::{self, csrf_field};
use super::{OrPage, Viewer, see_other};
use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::app::operations::{self, passkey_rule, security_officer, signing_limit};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_ca::access::Action;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;

/// Where the page is, for facility `id`.
pub fn path(id: &str) -> String {
    format!("/console/facilities/{id}/rules")
}

/// The link on the facility's own page.
pub fn link(viewer: &Viewer, id: &str) -> Markup {
    let t = |m: M| m.text(viewer.lang);
    view::section(
        "facility-rules",
        t(M::FacilityRules),
        html! { p { a href=(path(id)) id="facility-rules-link" { (t(M::FacilityRulesLink)) } } },
    )
}

/// `GET /console/facilities/{id}/rules`.
pub async fn show(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Response, Response> {
    page(&state, &viewer, &id, None, StatusCode::OK).await
}

/// The page, with a refusal's words above the forms when there was one.
async fn page(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    refused: Option<&ApiError>,
    status: StatusCode,
) -> Result<Response, Response> {
    let t = |m: M| m.text(viewer.lang);
    let f = operations::facility(state, &viewer.caller, id).await.or_missing(viewer, Problem::NoSuchFacility)?;
    let officer = security_officer::show(state, &viewer.caller, id).await.or_page(viewer)?;
    let rule = passkey_rule::show(state, &viewer.caller, id).await.or_page(viewer)?;
    let limit = signing_limit::show(state, &viewer.caller, id).await.or_page(viewer)?;
    let name_officer = viewer.can(&Action::ManageSecurityOfficer(&f.id));
    let set_rules = viewer.can(&Action::ManageFacilityRules(&f.id));
    let csrf = viewer.csrf();
    let action = path(f.id.as_str());
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
    let number = |key: &str| limit.get(key).and_then(Value::as_u64).map(|n| n.to_string()).unwrap_or_default();
    let rule_name = text(&rule, "rule");
    let models: Vec<String> = rule
        .get("models")
        .and_then(Value::as_array)
        .map(|m| m.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    let set_by = |v: &Value| -> Markup {
        match (v.get("set_by").and_then(Value::as_str), v.get("set_at").and_then(Value::as_str)) {
            (Some(who), Some(at)) => html! { p class="set-by" { (t(M::RuleSetBy)) " " (who) " (" (at) ")" } },
            _ => html! {},
        }
    };
    let rules = [("none", t(M::PasskeyRuleNone)), ("any", t(M::PasskeyRuleAny)), ("models", t(M::PasskeyRuleModels))];
    let body = html! {
        p { a href={ "/console/facilities/" (f.id.as_str()) } { (t(M::Back)) } }
        @if let Some(e) = refused {
            div class="error" role="alert" id="problem" {
                p { (t(M::RouterRefused)) " " (t(M::NothingChanged)) }
                p { (e.detail) }
            }
        }
        (view::section("security-officer", t(M::SecurityOfficer), html! {
            p { (t(M::SecurityOfficerHelp)) }
            p id="officer-now" {
                @match &officer {
                    Some(o) => { strong { (o.officer.name()) } " — " (o.officer.contact()) },
                    None => { (t(M::NoneNamed)) },
                }
            }
            @if name_officer {
                form method="post" action=(action) id="officer-form" {
                    (csrf_field(&csrf))
                    (view::input("officer-name", "name", t(M::OfficerName),
                        officer.as_ref().map_or("", |o| o.officer.name()), 100).required().autocomplete("name"))
                    (view::input("officer-contact", "contact", t(M::OfficerContact),
                        officer.as_ref().map_or("", |o| o.officer.contact()), 200).required().autocomplete("off"))
                    p { button type="submit" name="op" value="officer" { (t(M::NameOfficer)) } }
                }
            }
        }))
        (view::section("passkey-rule", t(M::PasskeyRule), html! {
            p { (t(M::PasskeyRuleHelp)) }
            p id="passkey-rule-now" { (rules.iter().find(|(n, _)| *n == rule_name).map_or(rule_name.as_str(), |(_, w)| w)) }
            @if !models.is_empty() { ul id="passkey-models" { @for m in &models { li { code { (m) } } } } }
            (set_by(&rule))
            @if set_rules {
                form method="post" action=(action) id="passkey-rule-form" {
                    (csrf_field(&csrf))
                    (view::select("passkey-rule-choice", "rule", t(M::PasskeyRule), &rules, &rule_name))
                    (view::input("passkey-rule-models", "models", t(M::PasskeyModels), &models.join(" "), 2000)
                        .autocomplete("off"))
                    p { button type="submit" name="op" value="passkey" { (t(M::SetRule)) } }
                }
            }
        }))
        (view::section("signing-limit", t(M::SigningLimit), html! {
            p { (t(M::SigningLimitHelp)) }
            p id="signing-limit-now" {
                @match text(&limit, "sessions").as_str() {
                    "agent" => { (t(M::SigningLimitAgent)) },
                    "off" => { (t(M::SigningLimitOff)) },
                    _ => { (number("max_signatures")) " / " (number("max_hours")) " " (t(M::Hours)) },
                }
            }
            (set_by(&limit))
            @if set_rules {
                form method="post" action=(action) id="signing-limit-form" {
                    (csrf_field(&csrf))
                    (view::input("max-signatures", "max_signatures", t(M::MaxSignatures), &number("max_signatures"), 3)
                        .numeric().required())
                    (view::input("max-hours", "max_hours", t(M::MaxHours), &number("max_hours"), 2).numeric().required())
                    p { button type="submit" name="op" value="signing" { (t(M::SetRule)) } }
                }
            }
        }))
    };
    let title = format!("{} — {}", f.name, t(M::FacilityRules));
    Ok(view::page(viewer.lang, viewer.principal(), status, &title, body))
}

/// The page's forms: `op` is `officer` (`name`, `contact`), `passkey` (`rule`, `models` separated by spaces) or
/// `signing` (`max_signatures`, `max_hours`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesForm {
    op: String,
    name: Option<String>,
    contact: Option<String>,
    rule: Option<String>,
    models: Option<String>,
    max_signatures: Option<String>,
    max_hours: Option<String>,
}

/// `POST /console/facilities/{id}/rules` (the facility's admins, operators).
pub async fn change(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, Response> {
    let form: RulesForm = viewer.form("admin.facility.rules", &id, body).await?;
    let caller = &viewer.caller;
    let done = match form.op.as_str() {
        "officer" => {
            let (name, contact) = (form.name.unwrap_or_default(), form.contact.unwrap_or_default());
            security_officer::set(&state, caller, &id, &name, &contact).await.map(|_| "#security-officer")
        }
        "passkey" => {
            let models: Vec<String> = form.models.unwrap_or_default().split_whitespace().map(str::to_owned).collect();
            let rule = form.rule.unwrap_or_default();
            passkey_rule::set(&state, caller, &id, &rule, &models).await.map(|_| "#passkey-rule")
        }
        "signing" => match (count(form.max_signatures.as_deref()), count(form.max_hours.as_deref())) {
            (Some(n), Some(h)) => signing_limit::set(&state, caller, &id, n, h).await.map(|_| "#signing-limit"),
            _ => {
                let e = ApiError::bad_request(
                    "invalid form",
                    "max_signatures and max_hours: whole numbers (0 turns signing sessions off)",
                );
                Err(caller.refuse("admin.facility.rules", &id, e).await)
            }
        },
        op => {
            let e = ApiError::bad_request("invalid form", format!("op {op:?}: use officer, passkey or signing"));
            return Err(viewer.refused(Problem::UnknownOperation, "admin.facility.rules", &id, e).await);
        }
    };
    match done {
        Ok(anchor) => Ok(see_other(&format!("{}{anchor}", path(&id)))),
        Err(e)
            if e.status.is_client_error()
                && e.status != StatusCode::FORBIDDEN
                && e.status != StatusCode::UNAUTHORIZED =>
        {
            page(&state, &viewer, &id, Some(&e), e.status).await
        }
        Err(e) => Err(viewer.refusal(Problem::of(&e, Problem::NoSuchFacility))),
    }
}

/// A whole number as typed (surrounding space allowed), or `None`.
fn count(text: Option<&str>) -> Option<u32> {
    text.map(str::trim).and_then(|t| t.parse().ok())
}
