//! The anonymous application form: `POST /api/v1/applications`'s operation behind an HTML form. A refusal the
//! applicant can fix comes back on the same form, in their words, with what they typed and the field to fix
//! focused (issue #45 items 1 and 4).

use super::i18n::M;
use super::problem::Problem;
use super::view::{self, csrf_field};
use super::{Viewer, labels};
use crate::app::AppState;
use crate::app::operations::{self, Application, ApplicationProblem, MAX_ADDRESS, MAX_CONTACT, MAX_NAME, MAX_SHORT};
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_ca::access::Action;
use hcpki_ca::facility::FacilityKind;
use maud::html;

/// `GET /console/apply`.
pub async fn form(viewer: Viewer) -> Response {
    let blank =
        Application { name: String::new(), kind: String::new(), medical_code: None, address: None, contact: None };
    page(&viewer, &blank, None, StatusCode::OK)
}

/// The form with `typed` in its fields and, after a refusal, what to fix (`problem`).
fn page(viewer: &Viewer, typed: &Application, problem: Option<ApplicationProblem>, status: StatusCode) -> Response {
    use ApplicationProblem as P;
    let t = |m: M| m.text(viewer.lang);
    // No kind chosen beforehand: the applicant picks theirs from the words (issue #45 item 4).
    let kinds: Vec<(&str, &str)> = FacilityKind::ALL.iter().map(|k| (k.as_str(), t(labels::kind(*k)))).collect();
    let fix = |p: &[P]| problem.is_some_and(|q| p.contains(&q));
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let (code, address, contact) = (text(&typed.medical_code), text(&typed.address), text(&typed.contact));
    let body = html! {
        @if let Some(p) = problem {
            div class="error" role="alert" id="problem" { p { (t(words(p))) " " (t(M::NothingRegistered)) } }
        }
        p { (t(M::ApplyHelp)) }
        form method="post" action="/console/apply" {
            (csrf_field(&viewer.csrf()))
            (view::input("name", "name", t(M::Name), &typed.name, MAX_NAME).size(40).required()
                .autocomplete("organization").hint(t(M::ApplyNameHint)).focus_if(fix(&[P::Name])))
            (view::choose_with_hint("kind", "kind", t(M::Kind), &kinds, t(M::ChooseKind), &typed.kind, Some(t(M::ApplyKindHint))))
            // Digits, typed through an IME or not: full-width digits and hyphens are the same code.
            (view::input("medical_code", "medical_code", t(M::MedicalCode), &code, MAX_SHORT).numeric().size(16)
                .autocomplete("off").hint(t(M::ApplyCodeHint))
                .focus_if(fix(&[P::MedicalCode, P::CodeKindMismatch, P::CodeTaken])))
            (view::input("address", "address", t(M::Address), &address, MAX_ADDRESS).size(40)
                .autocomplete("street-address").hint(t(M::ApplyAddressHint)).focus_if(fix(&[P::Address])))
            (view::input("contact", "contact", t(M::Contact), &contact, MAX_CONTACT).size(40)
                .hint(t(M::ApplyContactHint)).focus_if(fix(&[P::Contact])))
            p { button type="submit" { (t(M::Submit)) } }
        }
    };
    view::page(viewer.lang, viewer.principal(), status, t(M::Apply), body)
}

/// What to fix, in the applicant's words: the field and its rule. The taken code names no facility (the audit
/// entry does, for the operators).
fn words(p: ApplicationProblem) -> M {
    use ApplicationProblem as P;
    match p {
        P::Name => M::ApplyProblemName,
        P::Kind => M::ApplyProblemKind,
        P::MedicalCode => M::ApplyProblemCode,
        P::CodeKindMismatch => M::ApplyProblemCodeKind,
        P::CodeTaken => M::ApplyProblemCodeTaken,
        P::Address => M::ApplyProblemAddress,
        _ => M::ApplyProblemContact,
    }
}

/// `POST /console/apply`: the facility is registered as `applied`.
pub async fn submit(State(state): State<AppState>, viewer: Viewer, body: Body) -> Result<Response, Response> {
    let typed: Application = viewer.form(&Action::Apply.name(), "-", body).await?;
    // An empty optional field in a form means "not given", as an absent key does in JSON.
    let given = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    let a = Application {
        name: typed.name.clone(),
        kind: typed.kind.clone(),
        // The 医療機関コード as typed through an IME: full-width digits, hyphens and spaces are the same code
        // (issue #45 item 4); its own rule (ten digits, the check digit) still decides.
        medical_code: given(&typed.medical_code).map(|code| crate::typed_input::digits(&code)),
        address: given(&typed.address),
        contact: given(&typed.contact),
    };
    let f = match operations::apply(&state, &viewer.caller, &a).await {
        Ok(f) => f,
        // The form again, as typed (not as normalised), under what to fix.
        Err(operations::Refusal { error, problem: Some(p) }) => {
            return Ok(page(&viewer, &typed, Some(p), error.status));
        }
        Err(r) => return Err(viewer.refusal(Problem::of(&r.error, Problem::NotFound))),
    };
    let t = |m: M| m.text(viewer.lang);
    let body = html! {
        div class="notice" role="status" {
            p { (t(M::AppliedHelp)) }
            p {
                (t(M::Id)) ": " strong id="facility-id" { (f.id.as_str()) }
                " (" (f.name) " " (labels::state_badge(f.state, viewer.lang)) ")"
            }
        }
    };
    Ok(view::page(viewer.lang, viewer.principal(), StatusCode::CREATED, t(M::Applied), body))
}
