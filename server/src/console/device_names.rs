//! Naming a facility's PC (受付PC, 診察室1; issue #45 item 8, D134): a page with one field, reached from the
//! facility's device list, and the POST that stores the name through `operations::devices::name`. A name the
//! rules refuse comes back on the same page in the admin's words with what was typed kept; nothing is stored.

use super::i18n::M;
use super::notice::Done;
use super::problem::Problem;
use super::view::{self, csrf_field};
use super::{OrPage, Viewer, see_other};
use crate::app::AppState;
use crate::app::operations::devices::{self, NameRefused};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_ca::access::Action;
use hcpki_ca::facility::device_name::MAX_CHARS;
use hcpki_ca::facility::{DeviceNameError, FacilityId};
use maud::html;
use serde::Deserialize;

type Page = Result<Response, Response>;

/// `GET /console/facilities/{id}/devices/{device}/name`: the form, with the device's name if it has one.
pub async fn form(State(state): State<AppState>, viewer: Viewer, Path((id, device)): Path<(String, String)>) -> Page {
    let fid = crate::app::operations::facility_id(&viewer.caller, "admin.device.name", &id).await.or_page(&viewer)?;
    viewer.caller.may(Action::IssueDeviceKey(&fid)).await.or_page(&viewer)?;
    let names = devices::names(&state, &viewer.caller, &fid).await.or_page(&viewer)?;
    let current = names.get(&device).map(|n| n.as_str().to_owned()).unwrap_or_default();
    Ok(page(&viewer, &fid, &device, &current, None))
}

/// The naming form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameForm {
    name: String,
}

/// `POST /console/facilities/{id}/devices/{device}/name`.
pub async fn save(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, device)): Path<(String, String)>,
    body: Body,
) -> Page {
    let form: NameForm = viewer.form("admin.device.name", "-", body).await?;
    match devices::name(&state, &viewer.caller, &id, &device, &form.name).await {
        Ok(_) => Ok(see_other(&Done::DeviceNamed.location(&format!("/console/facilities/{id}"), "#devices"))),
        Err(NameRefused::Name(rule, error)) => {
            let problem = match rule {
                DeviceNameError::Empty => M::DeviceNameEmpty,
                DeviceNameError::TooLong(_) => M::DeviceNameTooLong,
                _ => M::DeviceNameControl,
            };
            let fid = FacilityId::parse(&id).map_err(|_| viewer.refusal(Problem::NoSuchFacility))?;
            let mut r = page(&viewer, &fid, &device, &form.name, Some(problem));
            *r.status_mut() = error.status;
            Ok(r)
        }
        Err(NameRefused::Other(e)) => Err(viewer.refusal(Problem::of(&e, Problem::NoSuchCertificate))),
    }
}

/// The naming page of `device`, with `typed` in the field and `problem` when the last try was refused.
fn page(viewer: &Viewer, fid: &FacilityId, device: &str, typed: &str, problem: Option<M>) -> Response {
    let t = |m: M| m.text(viewer.lang);
    let back = format!("/console/facilities/{}#devices", fid.as_str());
    let action = format!("/console/facilities/{}/devices/{device}/name", fid.as_str());
    let body = html! {
        @if let Some(p) = problem {
            div class="error" role="alert" id="problem" { p { (t(p)) " " (t(M::NothingChanged)) } }
        }
        dl { dt { (t(M::Id)) } dd { (fid.as_str()) } dt { (t(M::DeviceId)) } dd { code { (device) } } }
        form method="post" action=(action) {
            (csrf_field(&viewer.csrf()))
            label for="name" { (t(M::DeviceName)) }
            p class="hint" id="name-hint" { (t(M::DeviceNameHint)) }
            input id="name" name="name" value=(typed) maxlength=(MAX_CHARS * 2) required autocomplete="off"
                aria-describedby="name-hint" aria-invalid=[problem.map(|_| "true")];
            p {
                button type="submit" id="save" { (t(M::SaveDeviceName)) }
                " "
                a href=(back) id="cancel" { (t(M::Cancel)) }
            }
        }
    };
    view::page(viewer.lang, viewer.principal(), StatusCode::OK, t(M::NameDevice), body)
}
