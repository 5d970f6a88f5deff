//! A facility's SSO session lifetime (D26) on its console page: the current value for operators and
//! auditors, and for operators a form to set or clear it, through the operation behind
//! `POST /api/v1/facilities/{id}/session-lifetime`.

use super::i18n::M;
use super::problem::Problem;
use super::view::{self, csrf_field};
use super::{OrPage, Viewer, see_other};
use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::app::operations;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_ca::access::Action;
use hcpki_ca::facility::Facility;
use maud::{Markup, html};
use serde::Deserialize;

/// The section of facility `f`'s page (empty for facility admins, whom the lifetime is not theirs to set).
pub async fn section(state: &AppState, viewer: &Viewer, f: &Facility) -> Result<Markup, Response> {
    section_with(state, viewer, f, None).await
}

/// [`section`] with the hours as typed and what to fix, after a refused try.
async fn section_with(
    state: &AppState,
    viewer: &Viewer,
    f: &Facility,
    refused: Option<(&str, M)>,
) -> Result<Markup, Response> {
    if viewer.principal().staff_role().is_none() {
        return Ok(html! {});
    }
    let t = |m: M| m.text(viewer.lang);
    let secs = state.store.portal_session_lifetime(&f.id).await.map_err(|e| {
        tracing::error!(error = %e, "console: session lifetime unreadable");
        viewer.refusal(Problem::Unavailable)
    })?;
    let current = match secs {
        Some(s) => format!("{} {}", s / 3600, t(M::Hours)),
        None => t(M::DefaultLifetime).to_owned(),
    };
    let hours = match refused {
        Some((typed, _)) => typed.to_owned(),
        None => secs.map(|s| (s / 3600).to_string()).unwrap_or_default(),
    };
    let inner = html! {
        @if let Some((_, problem)) = refused {
            div class="error" role="alert" id="problem" { p { (t(problem)) " " (t(M::NothingChanged)) } }
        }
        p { (t(M::SessionLifetimeHelp)) }
        p { (t(M::CurrentLifetime)) ": " strong id="session-lifetime" { (current) } }
        @if viewer.can(&Action::SetSessionLifetime(&f.id)) {
            form method="post" action={ "/console/facilities/" (f.id.as_str()) "/session-lifetime" } {
                (csrf_field(&viewer.csrf()))
                (view::input("hours", "hours", t(M::Hours), &hours, 3).numeric().size(4))
                p {
                    button type="submit" name="op" value="set" { (t(M::SetLifetime)) }
                    " "
                    button type="submit" name="op" value="clear" formnovalidate { (t(M::ClearLifetime)) }
                }
            }
        }
    };
    Ok(view::section("lifetime", t(M::SessionLifetime), inner))
}

/// The lifetime form: `op` is `set` (with `hours`) or `clear`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LifetimeForm {
    op: String,
    hours: Option<String>,
}

/// `POST /console/facilities/{id}/session-lifetime` (operators).
pub async fn set(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, Response> {
    let name = "admin.facility.session_lifetime";
    let form: LifetimeForm = viewer.form(name, &id, body).await?;
    // Who may comes before what was sent: a facility admin learns nothing from the form's errors.
    let fid = operations::facility_id(&viewer.caller, name, &id).await.or_page(&viewer)?;
    viewer.caller.may(Action::SetSessionLifetime(&fid)).await.or_page(&viewer)?;
    // Full-width digits typed through an IME are the same hours (issue #45 item 4).
    let typed: String =
        unicode_normalization::UnicodeNormalization::nfkc(form.hours.as_deref().unwrap_or("")).collect();
    let hours = match (form.op.as_str(), typed.trim()) {
        ("clear", _) => Ok(None),
        ("set", "") => Err(("hours is empty: give 1 to 168 hours, or clear the setting".to_owned(), M::HoursEmpty)),
        ("set", h) => match h.parse::<u32>() {
            Ok(n) if operations::SESSION_HOURS.contains(&n) => Ok(Some(n)),
            Ok(n) => Err((format!("{n} hours: use 1 to 168 hours"), M::HoursRange)),
            Err(_) => Err((format!("hours {h:?}: give a whole number, 1 to 168"), M::HoursRange)),
        },
        (op, _) => {
            let e = ApiError::bad_request("invalid session lifetime", format!("op {op:?}: use set or clear"));
            return Err(viewer.refused(Problem::UnknownOperation, name, &id, e).await);
        }
    };
    let hours = match hours {
        Ok(h) => h,
        Err((detail, problem)) => {
            let e = ApiError::bad_request("invalid session lifetime", detail);
            viewer.caller.refuse(name, &id, e).await;
            // The form again, with what was typed and what to fix.
            let f = operations::facility(&state, &viewer.caller, fid.as_str()).await.or_page(&viewer)?;
            let inner = section_with(&state, &viewer, &f, Some((&typed, problem))).await?;
            let body = html! { (inner) p { a href={ "/console/facilities/" (fid.as_str()) } { (M::Back.text(viewer.lang)) } } };
            return Ok(view::page(viewer.lang, viewer.principal(), StatusCode::BAD_REQUEST, &f.name, body));
        }
    };
    operations::set_session_lifetime(&state, &viewer.caller, &id, hours).await.or_page(&viewer)?;
    Ok(see_other(&super::notice::Done::Lifetime.location(&format!("/console/facilities/{fid}"), "#lifetime")))
}
