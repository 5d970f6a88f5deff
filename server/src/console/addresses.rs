//! A facility's address allocations (issue #24, item 2) on its console page: the list for whoever may read the
//! facility, and for operators a form to add one and a button per allocation to remove it, through the
//! operations behind `POST`/`DELETE /api/v1/facilities/{id}/addresses`.

use super::i18n::M;
use super::problem::Problem;
use super::view::{self, csrf_field};
use super::{OrPage, Viewer, see_other};
use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::app::operations::addresses::{self, AddressProblem, MAX_PREFIX};
use crate::app::operations::{self, Refusal};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_ca::access::Action;
use hcpki_ca::facility::Facility;
use maud::{Markup, html};
use serde::Deserialize;

/// The section of facility `f`'s page.
pub async fn section(state: &AppState, viewer: &Viewer, f: &Facility) -> Result<Markup, Response> {
    section_with(state, viewer, f, None).await
}

/// [`section`] with the prefix as typed and what to fix, after a refused change (issue #45 item 1).
async fn section_with(
    state: &AppState,
    viewer: &Viewer,
    f: &Facility,
    refused: Option<(&str, &AddressProblem)>,
) -> Result<Markup, Response> {
    if !viewer.can(&Action::ListAllocations(&f.id)) {
        return Ok(html! {});
    }
    let t = |m: M| m.text(viewer.lang);
    let list = addresses::list(state, &viewer.caller, f.id.as_str()).await.or_page(viewer)?;
    let manage = viewer.can(&Action::ManageAllocations(&f.id));
    let action = format!("/console/facilities/{}/addresses", f.id.as_str());
    let typed = refused.map(|(typed, _)| typed).unwrap_or("");
    let inner = html! {
        @if let Some((_, problem)) = refused {
            div class="error" role="alert" id="problem" {
                p { (t(words(problem))) " " (t(M::NothingChanged)) }
                @if let AddressProblem::Held { held, holder } = problem {
                    p { (t(M::OverlapsWith)) " " code { (held) } " (" a href={ "/console/facilities/" (holder) } { (holder) } ")" }
                }
            }
        }
        p { (t(M::AddressAllocationsHelp)) }
        @if list.is_empty() {
            p id="no-addresses" { (t(M::NoAddresses)) }
        } @else {
            table id="addresses" {
                thead { tr { th { (t(M::Prefix)) } th { (t(M::AddedAt)) } th { (t(M::AddedBy)) } th {} } }
                tbody {
                    @for r in &list {
                        @let prefix = r.allocation.to_string();
                        tr {
                            td { code { (prefix) } }
                            td { (hcpki_pkix::time::rfc3339(r.added_at)) }
                            td { (r.added_by) }
                            td {
                                @if manage {
                                    form method="post" action=(action) {
                                        (csrf_field(&viewer.csrf()))
                                        input type="hidden" name="prefix" value=(prefix);
                                        button type="submit" name="op" value="remove" { (t(M::RemoveAddress)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if manage {
            form method="post" action=(action) {
                (csrf_field(&viewer.csrf()))
                (view::input("prefix", "prefix", t(M::Prefix), typed, MAX_PREFIX).size(40).required()
                    .autocomplete("off").hint(t(M::PrefixHint)).focus_if(refused.is_some()))
                p { button type="submit" name="op" value="add" { (t(M::AddAddress)) } }
            }
        }
    };
    Ok(view::section("address-allocations", t(M::AddressAllocations), inner))
}

/// The allocation form: `op` is `add` or `remove`, `prefix` the prefix or address.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressForm {
    op: String,
    prefix: String,
}

/// `POST /console/facilities/{id}/addresses` (operators).
pub async fn change(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, Response> {
    let name = "admin.facility.address.manage";
    let form: AddressForm = viewer.form(name, &id, body).await?;
    let done = match form.op.as_str() {
        "add" => addresses::add(&state, &viewer.caller, &id, &form.prefix).await.map(|r| r.facility),
        "remove" => addresses::remove(&state, &viewer.caller, &id, &form.prefix).await.map(|r| r.facility),
        op => {
            let e = ApiError::bad_request("invalid form", format!("op {op:?}: use add or remove"));
            return Err(viewer.refused(Problem::UnknownOperation, name, &id, e).await);
        }
    };
    let facility = match done {
        Ok(f) => f,
        Err(Refusal { error, problem: Some(problem) }) => {
            // The section again, with the prefix as typed and what to fix.
            let f =
                operations::facility(&state, &viewer.caller, &id).await.or_missing(&viewer, Problem::NoSuchFacility)?;
            let inner = section_with(&state, &viewer, &f, Some((&form.prefix, &problem))).await?;
            let back = html! { a href={ "/console/facilities/" (f.id.as_str()) } { (M::Back.text(viewer.lang)) } };
            let body = html! { (inner) p { (back) } };
            let status = if error.status.is_client_error() { error.status } else { StatusCode::BAD_REQUEST };
            return Ok(view::page(viewer.lang, viewer.principal(), status, &f.name, body));
        }
        Err(r) => return Err(viewer.refusal(Problem::of(&r.error, Problem::NoSuchFacility))),
    };
    let page = format!("/console/facilities/{facility}");
    Ok(see_other(&super::notice::Done::Addresses.location(&page, "#address-allocations")))
}

/// What to fix, in the operator's words.
fn words(problem: &AddressProblem) -> M {
    match problem {
        AddressProblem::Held { .. } => M::AddressHeld,
        AddressProblem::NotHeld => M::AddressNotHeld,
        _ => M::AddressBadPrefix,
    }
}
