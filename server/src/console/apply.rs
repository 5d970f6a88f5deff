//! The anonymous application form: `POST /api/v1/applications`'s operation behind an HTML form.

use super::i18n::M;
use super::view::{self, csrf_field};
use super::{OrPage, Viewer, labels};
use crate::app::AppState;
use crate::app::operations::{self, Application, MAX_ADDRESS, MAX_CONTACT, MAX_NAME, MAX_SHORT};
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_ca::access::Action;
use hcpki_ca::facility::FacilityKind;
use maud::html;

/// `GET /console/apply`.
pub async fn form(viewer: Viewer) -> Response {
    let t = |m: M| m.text(viewer.lang);
    // No kind chosen beforehand: the applicant picks theirs from the words (issue #45 item 4).
    let kinds: Vec<(&str, &str)> = FacilityKind::ALL.iter().map(|k| (k.as_str(), t(labels::kind(*k)))).collect();
    let field = |name: &'static str, label: M, max: usize| view::input(name, name, t(label), "", max).size(40);
    let body = html! {
        p { (t(M::ApplyHelp)) }
        form method="post" action="/console/apply" {
            (csrf_field(&viewer.csrf()))
            (field("name", M::Name, MAX_NAME).required())
            (view::choose("kind", "kind", t(M::Kind), &kinds, t(M::ChooseKind)))
            (field("medical_code", M::MedicalCode, MAX_SHORT))
            (field("address", M::Address, MAX_ADDRESS))
            (field("contact", M::Contact, MAX_CONTACT))
            p { button type="submit" { (t(M::Submit)) } }
        }
    };
    view::page(viewer.lang, viewer.principal(), StatusCode::OK, t(M::Apply), body)
}

/// `POST /console/apply`: the facility is registered as `applied`.
pub async fn submit(State(state): State<AppState>, viewer: Viewer, body: Body) -> Result<Response, Response> {
    let mut a: Application = viewer.form(&Action::Apply.name(), "-", body).await?;
    // An empty optional field in a form means "not given", as an absent key does in JSON.
    for v in [&mut a.medical_code, &mut a.address, &mut a.contact] {
        if v.as_deref().is_some_and(|s| s.trim().is_empty()) {
            *v = None;
        }
    }
    // The 医療機関コード as typed through an IME: full-width digits, hyphens and spaces are the same code (issue #45
    // item 4); its own rule (ten digits, the check digit) still decides.
    a.medical_code = a.medical_code.map(|code| crate::typed_input::digits(&code));
    let f = operations::apply(&state, &viewer.caller, &a).await.or_page(&viewer)?;
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
