//! Revoking a facility's certificate from the console as a confirmation page and the POST that acts (issue #45
//! item 2): the page names the device and what revoking does to it (a router loses its VPN, a PC can no longer
//! sign in for the facility), asks for a reason with none chosen beforehand, and offers a way back; the POST
//! needs the page's CSRF token and a chosen reason, asks the access decision again through
//! `operations::revoke_certificate`, and returns to the facility's devices with a notice.

use super::facilities::DEVICE_REASONS;
use super::i18n::M;
use super::notice::Done;
use super::problem::Problem;
use super::view::{self, csrf_field};
use super::{OrPage, Viewer, labels, see_other};
use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::app::operations;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_ca::access::Action;
use hcpki_ca::facility::FacilityId;
use hcpki_ca::profile::ProfileKind;
use hcpki_ca::store::CertificateRecord;
use maud::html;
use serde::Deserialize;

type Page = Result<Response, Response>;

/// The audited action.
const ACTION: &str = "admin.certificate.revoke";

/// `GET /console/certificates/{serial}/revoke`: the confirmation page.
pub async fn confirm(State(state): State<AppState>, viewer: Viewer, Path(serial): Path<String>) -> Page {
    let (c, facility) = revocable(&state, &viewer, &serial).await?;
    let name = device_name(&state, &viewer, &c, &facility).await?;
    Ok(page(&viewer, &c, &facility, name.as_deref(), None))
}

/// The certificate revocation form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeForm {
    reason: Option<String>,
}

/// `POST /console/certificates/{serial}/revoke`: from the confirmation page, with a reason chosen.
pub async fn revoke(State(state): State<AppState>, viewer: Viewer, Path(serial): Path<String>, body: Body) -> Page {
    let form: RevokeForm = viewer.form(ACTION, "-", body).await?;
    let reason = form.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
    let Some(reason) = reason else {
        // Who may comes before what was sent; then the page again, nothing revoked.
        let (c, facility) = revocable(&state, &viewer, &serial).await?;
        let e = ApiError::bad_request("bad reason", "no revocation reason was chosen: choose one");
        viewer.caller.refuse(ACTION, c.serial.as_str(), e).await;
        let name = device_name(&state, &viewer, &c, &facility).await?;
        return Ok(page(&viewer, &c, &facility, name.as_deref(), Some(M::ChooseReasonFirst)));
    };
    let c = operations::revoke_certificate(&state, &viewer.caller, &serial, Some(reason)).await.or_page(&viewer)?;
    let back = match &c.facility {
        Some(f) => Done::CertificateRevoked.location(&format!("/console/facilities/{f}"), "#devices"),
        None => "/console/".into(),
    };
    Ok(see_other(&back))
}

/// The certificate `serial` and its facility, when the viewer may revoke it (refusals audited).
async fn revocable(
    state: &AppState,
    viewer: &Viewer,
    serial: &str,
) -> Result<(CertificateRecord, FacilityId), Response> {
    let c =
        operations::certificate(state, &viewer.caller, serial).await.or_missing(viewer, Problem::NoSuchCertificate)?;
    let Some(facility) = c.facility.clone() else {
        let e = ApiError::not_found(format!("no facility certificate {serial:?}: list the facility's certificates"));
        return Err(viewer.refused(Problem::NoSuchCertificate, ACTION, "-", e).await);
    };
    viewer.caller.may(Action::RevokeCertificate(&facility)).await.or_page(viewer)?;
    Ok((c, facility))
}

/// What staff call the PC `c` was issued to (D134), if it has a name.
async fn device_name(
    state: &AppState,
    viewer: &Viewer,
    c: &CertificateRecord,
    facility: &FacilityId,
) -> Result<Option<String>, Response> {
    let Some(device) = operations::devices::device_of(c) else { return Ok(None) };
    let names = operations::devices::names(state, &viewer.caller, facility).await.or_page(viewer)?;
    Ok(names.get(&device).map(|n| n.as_str().to_owned()))
}

/// The confirmation page of `c` (the PC's `name`, when it has one), with `problem` when the last try was refused.
fn page(
    viewer: &Viewer,
    c: &CertificateRecord,
    facility: &FacilityId,
    name: Option<&str>,
    problem: Option<M>,
) -> Response {
    let lang = viewer.lang;
    let t = |m: M| m.text(lang);
    let consequence = match c.profile.end_entity() {
        Some(ProfileKind::Router) => M::RevokeRouter,
        Some(ProfileKind::Pc) => M::RevokePc,
        _ => M::RevokeOther,
    };
    let reasons: Vec<(&str, &str)> = DEVICE_REASONS.iter().map(|(value, m)| (*value, t(*m))).collect();
    let back = format!("/console/facilities/{}#devices", facility.as_str());
    let body = html! {
        @if let Some(p) = problem {
            div class="error" role="alert" id="problem" { p { (t(p)) } }
        }
        dl id="certificate-facts" {
            @if let Some(n) = name { dt { (t(M::DeviceName)) } dd id="device-name" { strong { (n) } } }
            dt { (t(M::Profile)) } dd id="device-profile" { (labels::profile(c.profile, lang)) }
            dt { (t(M::Subject)) } dd { span class="wrap" { (c.subject) } }
            dt { (t(M::Names)) } dd { span class="wrap" { (c.sans.join(", ")) } }
            dt { (t(M::Serial)) } dd { code { (c.serial) } }
            dt { (t(M::Status)) } dd { (labels::cert_badge(c.status, lang)) }
            dt { (t(M::Expires)) } dd { (view::jst(c.not_after, lang)) }
        }
        div class="notice warn" role="note" id="consequence" {
            p { (t(consequence)) }
            p { strong { (t(M::CannotUndo)) } }
        }
        form method="post" action={ "/console/certificates/" (c.serial) "/revoke" } {
            (csrf_field(&viewer.csrf()))
            p { (view::choose("reason", "reason", t(M::RevokeReason), &reasons, t(M::ChooseReason), "")) }
            p {
                button type="submit" class="danger" id="confirm" { (t(M::ConfirmRevokeButton)) }
                " "
                a href=(back) id="cancel" { (t(M::Cancel)) }
            }
        }
    };
    let status = if problem.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    view::page(lang, viewer.principal(), status, t(M::ConfirmRevoke), body)
}
