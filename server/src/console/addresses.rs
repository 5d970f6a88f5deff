//! A facility's address allocations (issue #24, item 2) on its console page: the list for whoever may read the
//! facility, and for operators a form to add one and a button per allocation to remove it, through the
//! operations behind `POST`/`DELETE /api/v1/facilities/{id}/addresses`.

use super::i18n::M;
use super::view::{self, csrf_field};
use super::{OrPage, Viewer, see_other};
use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::app::operations::addresses::{self, MAX_PREFIX};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::Response;
use hcpki_ca::access::Action;
use hcpki_ca::facility::Facility;
use maud::{Markup, html};
use serde::Deserialize;

/// The section of facility `f`'s page.
pub async fn section(state: &AppState, viewer: &Viewer, f: &Facility) -> Result<Markup, Response> {
    if !viewer.can(&Action::ListAllocations(&f.id)) {
        return Ok(html! {});
    }
    let t = |m: M| m.text(viewer.lang);
    let list = addresses::list(state, &viewer.caller, f.id.as_str()).await.or_page(viewer)?;
    let manage = viewer.can(&Action::ManageAllocations(&f.id));
    let action = format!("/console/facilities/{}/addresses", f.id.as_str());
    let inner = html! {
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
                (view::input("prefix", "prefix", t(M::Prefix), "", MAX_PREFIX).size(40).required())
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
            return Err(viewer.refusal(&viewer.caller.refuse(name, &id, e).await));
        }
    };
    let facility = done.or_page(&viewer)?;
    let page = format!("/console/facilities/{facility}");
    Ok(see_other(&super::notice::Done::Addresses.location(&page, "#address-allocations")))
}
