//! The anonymous application form: `POST /api/v1/applications`'s operation behind an HTML form.

use super::i18n::M;
use super::view::{self, csrf_field};
use super::{OrPage, Viewer};
use crate::html::esc;
use crate::http::AppState;
use crate::http::operations::{self, Application, MAX_ADDRESS, MAX_CONTACT, MAX_NAME, MAX_SHORT};
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_ca::access::Action;
use hcpki_ca::facility::FacilityKind;

/// `GET /console/apply`.
pub async fn form(viewer: Viewer) -> Response {
    let t = |m: M| m.text(viewer.lang);
    let kinds: Vec<&str> = FacilityKind::ALL.iter().map(|k| k.as_str()).collect();
    let field = |name: &str, label: M, max: usize, required: bool| {
        view::input(name, name, t(label), "", max, if required { " size=\"40\" required" } else { " size=\"40\"" })
    };
    let body = format!(
        "<p>{help}</p><form method=\"post\" action=\"/console/apply\">{csrf}\
         {name}{kind}{code}{address}{contact}<p><button type=\"submit\">{submit}</button></p></form>",
        help = t(M::ApplyHelp),
        csrf = csrf_field(&viewer.csrf()),
        name = field("name", M::Name, MAX_NAME, true),
        kind = view::select("kind", "kind", t(M::Kind), &view::same(&kinds), ""),
        code = field("medical_code", M::MedicalCode, MAX_SHORT, false),
        address = field("address", M::Address, MAX_ADDRESS, false),
        contact = field("contact", M::Contact, MAX_CONTACT, false),
        submit = t(M::Submit),
    );
    view::page(viewer.lang, viewer.principal(), StatusCode::OK, t(M::Apply), &body)
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
    let f = operations::apply(&state, &viewer.caller, &a).await.or_page(&viewer)?;
    let t = |m: M| m.text(viewer.lang);
    let body = format!(
        "<div class=\"notice\" role=\"status\"><p>{}</p><p>{}: <strong id=\"facility-id\">{}</strong> ({} {})</p></div>",
        t(M::AppliedHelp),
        t(M::Id),
        esc(f.id.as_str()),
        esc(&f.name),
        view::badge(f.state.as_str()),
    );
    Ok(view::page(viewer.lang, viewer.principal(), StatusCode::CREATED, t(M::Applied), &body))
}
