//! The facility's routers and their pre-shared keys on one console page (issue #50 items 1 and 2, D156, D168):
//! the register (add, remove) and the keys (issue, shown once on the answer page; withdraw, operators) through
//! the operations behind `/api/v1/facilities/{id}/routers` and `/psks`, with the same CSRF token and origin
//! check as every console form.

use super::i18n::M;
use super::problem::Problem;
use super::view::{self, csrf_field, table_or_none};
use super::{OrPage, Viewer, see_other};
use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::app::operations::routers::{self as ops, PskBody, RouterBody};
use crate::app::operations::{self};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hcpki_ca::access::Action;
use hcpki_ca::psk::VENDORS;
use hcpki_ca::store::router_psk::RouterPskRecord;
use maud::{Markup, html};
use serde::Deserialize;

/// `GET /console/facilities/{id}/routers`.
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
    let routers = ops::list(state, &viewer.caller, id).await.or_page(viewer)?;
    let keys = ops::keys(state, &viewer.caller, id).await.or_page(viewer)?;
    let (models, only) = ops::models(&viewer.caller, state).await.or_page(viewer)?;
    let manage = viewer.can(&Action::ManageRouters(&f.id));
    let issue = viewer.can(&Action::IssueRouterKey(&f.id)) && f.state.may_enroll();
    let withdraw = viewer.can(&Action::WithdrawRouterKey(&f.id));
    let base = format!("/console/facilities/{}", f.id.as_str());
    let router_rows: Vec<Vec<Markup>> = routers
        .iter()
        .map(|r| {
            vec![
                html! { (r.name) },
                html! { (r.model) },
                html! { (r.firmware) },
                html! { (r.auth.as_str()) },
                html! { code { (r.addresses.join(" ")) } },
                html! {
                    @if manage {
                        form method="post" action={ (base) "/routers" } {
                            (csrf_field(&viewer.csrf()))
                            input type="hidden" name="name" value=(r.name);
                            button type="submit" name="op" value="remove" { (t(M::RemoveRouter)) }
                        }
                    }
                },
            ]
        })
        .collect();
    let now = viewer.now();
    let key_rows: Vec<Vec<Markup>> = keys.iter().map(|k| key_row(viewer, &base, k, now, withdraw)).collect();
    let model_options: Vec<(&str, &str)> = models.iter().map(|m| (m.model.as_str(), m.name.as_str())).collect();
    let model_rows: Vec<Vec<Markup>> = models
        .iter()
        .map(|m| {
            let methods = m.auth_methods.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", ");
            vec![html! { code { (m.model) } " " (m.name) }, html! { (methods) }, html! { (m.tested) }]
        })
        .collect();
    let psk_routers: Vec<(&str, &str)> = std::iter::once(("", t(M::NoRouterChosen)))
        .chain(routers.iter().filter(|r| r.auth.as_str() == "psk").map(|r| (r.name.as_str(), r.name.as_str())))
        .collect();
    let vendors: Vec<(&str, &str)> = VENDORS.iter().map(|v| (v.as_str(), v.as_str())).collect();
    let dns = state.admin.settings().router_dns_name(&f.id);
    let body = html! {
        p { a href=(base) { (M::Back.text(viewer.lang)) } }
        @if let Some(e) = refused {
            div class="error" role="alert" id="problem" {
                p { (t(M::RouterRefused)) " " (t(M::NothingChanged)) }
                p { (e.detail) }
            }
        }
        (view::section("router-register", t(M::Routers), html! {
            p { (t(M::RouterRegisterHelp)) }
            p id="approved-only" { (t(if only { M::ApprovedOnlyOn } else { M::ApprovedOnlyOff })) }
            (table_or_none(viewer.lang, t(M::Routers),
                &[t(M::RouterName), t(M::RouterModel), t(M::Firmware), t(M::AuthMethod), t(M::RouterAddresses), ""],
                &router_rows))
            @if manage {
                form method="post" action={ (base) "/routers" } id="add-router" {
                    (csrf_field(&viewer.csrf()))
                    (view::input("router-name", "name", t(M::RouterName), "", 64).required().autocomplete("off"))
                    (view::select("router-model", "model", t(M::RouterModel), &model_options, ""))
                    (view::input("router-firmware", "firmware", t(M::Firmware), "", 64).required().autocomplete("off"))
                    (view::select("router-auth", "auth", t(M::AuthMethod), &view::same(&["certificate", "psk"]), "psk"))
                    (view::input("router-addresses", "addresses", t(M::RouterAddresses), "", 400).required().autocomplete("off"))
                    p { button type="submit" name="op" value="add" { (t(M::AddRouter)) } }
                }
            }
        }))
        (view::section("pre-shared-keys", t(M::PreSharedKeys), html! {
            p { (t(M::PskHelp)) }
            (table_or_none(viewer.lang, t(M::PreSharedKeys),
                &[t(M::KeyId), t(M::Hub), t(M::RemoteId), t(M::Vendor), t(M::KeyState), ""], &key_rows))
            @if issue {
                form method="post" action={ (base) "/psks" } id="issue-psk" {
                    (csrf_field(&viewer.csrf()))
                    (view::select("psk-router", "router", t(M::RouterName), &psk_routers, ""))
                    (view::input("psk-peer", "peer", t(M::Hub), "hub1", 253).required().autocomplete("off"))
                    (view::input("psk-remote-id", "remote_id", t(M::RemoteId), &dns, 253).required().autocomplete("off"))
                    (view::select("psk-vendor", "vendor", t(M::Vendor), &vendors, "strongswan"))
                    (view::input("psk-overlap", "overlap_hours", t(M::OverlapHours), "24", 3).numeric())
                    (view::input("psk-hub-id", "hub_id", t(M::HubId), "hub.example.jp", 253).autocomplete("off"))
                    (view::input("psk-hub-address", "hub_address", t(M::HubAddress), "192.0.2.1", 253).autocomplete("off"))
                    p { button type="submit" name="op" value="issue" { (t(M::IssuePsk)) } }
                }
            }
        }))
        (view::section("approved-models", t(M::ApprovedModels), html! {
            (table_or_none(viewer.lang, t(M::ApprovedModels), &[t(M::RouterModel), t(M::AuthMethod), t(M::Tested)], &model_rows))
            (super::router_models::link(viewer.lang))
        }))
    };
    let title = format!("{} — {}", f.name, t(M::RouterRegister));
    Ok(view::page(viewer.lang, viewer.principal(), status, &title, body))
}

/// One key's row: never the key, only its id, hub, identity, vendor and state; a withdraw form for operators.
fn key_row(viewer: &Viewer, base: &str, k: &RouterPskRecord, now: i64, withdraw: bool) -> Vec<Markup> {
    let t = |m: M| m.text(viewer.lang);
    let state = match (k.withdrawn_at, k.retires_at) {
        (Some(_), _) => html! { (t(M::PskWithdrawn)) },
        (None, Some(at)) if now >= at => html! { (t(M::PskRetired)) },
        (None, Some(at)) => html! { (t(M::PskOverlap)) " " (view::jst(at, viewer.lang)) },
        (None, None) => html! { (t(M::PskCurrent)) },
    };
    let action = html! {
        @if withdraw && k.works_at(now) {
            form method="post" action={ (base) "/psks" } {
                (csrf_field(&viewer.csrf()))
                input type="hidden" name="key_id" value=(k.key_id);
                (view::input(&format!("reason-{}", k.key_id), "reason", t(M::Reason), "", 253).required())
                button type="submit" name="op" value="withdraw" { (t(M::WithdrawPsk)) }
            }
        }
    };
    vec![
        html! { code { (k.key_id) } },
        html! { (k.peer) },
        html! { (k.remote_id) },
        html! { (k.vendor) },
        state,
        action,
    ]
}

/// The register's form: `op` is `add` (all fields) or `remove` (`name`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouterForm {
    op: String,
    name: String,
    model: Option<String>,
    firmware: Option<String>,
    auth: Option<String>,
    addresses: Option<String>,
}

/// `POST /console/facilities/{id}/routers` (the facility's admins, operators).
pub async fn change_router(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, Response> {
    let form: RouterForm = viewer.form("admin.router.manage", &id, body).await?;
    let done = match form.op.as_str() {
        "add" => {
            let b = RouterBody {
                name: form.name,
                model: form.model.unwrap_or_default(),
                firmware: form.firmware.unwrap_or_default(),
                auth: form.auth.unwrap_or_default(),
                addresses: form.addresses.unwrap_or_default().split_whitespace().map(str::to_owned).collect(),
            };
            ops::add(&state, &viewer.caller, &id, &b).await.map(|_| ())
        }
        "remove" => ops::remove(&state, &viewer.caller, &id, &form.name).await.map(|_| ()),
        op => {
            let e = ApiError::bad_request("invalid form", format!("op {op:?}: use add or remove"));
            return Err(viewer.refused(Problem::UnknownOperation, "admin.router.manage", &id, e).await);
        }
    };
    answer(&state, &viewer, &id, done, "#router-register").await
}

/// The keys' form: `op` is `issue` (the key fields) or `withdraw` (`key_id`, `reason`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PskForm {
    op: String,
    router: Option<String>,
    peer: Option<String>,
    remote_id: Option<String>,
    vendor: Option<String>,
    overlap_hours: Option<String>,
    hub_id: Option<String>,
    hub_address: Option<String>,
    key_id: Option<String>,
    reason: Option<String>,
}

/// `POST /console/facilities/{id}/psks`: an issued key is shown on the answer (never stored in the page's
/// cache: `no-store`), once; a withdrawal returns to the page.
pub async fn change_psk(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, Response> {
    let form: PskForm = viewer.form("admin.psk.issue", &id, body).await?;
    match form.op.as_str() {
        "issue" => {
            let overlap = match form.overlap_hours.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                None => None,
                Some(v) => match v.parse::<i64>() {
                    Ok(h) => Some(h),
                    Err(_) => {
                        let e = ApiError::bad_request("invalid form", "overlap_hours: a number of hours, 0 to 720");
                        let e = viewer.caller.refuse("admin.psk.issue", &id, e).await;
                        return page(&state, &viewer, &id, Some(&e), StatusCode::BAD_REQUEST).await;
                    }
                },
            };
            let b = PskBody {
                peer: form.peer.unwrap_or_default(),
                remote_id: form.remote_id.unwrap_or_default(),
                vendor: form.vendor.unwrap_or_default(),
                router: form.router,
                length: None,
                overlap_hours: overlap,
                hub_id: form.hub_id,
                hub_address: form.hub_address,
            };
            match ops::issue(&state, &viewer.caller, &id, &b).await {
                Ok(issued) => {
                    let vendor = b.vendor.parse().map_err(|_| viewer.refusal(Problem::UnknownOperation))?;
                    Ok(shown_once(&viewer, &id, &issued, &b.snippet(vendor, &issued.key.secret)))
                }
                Err(e) => page(&state, &viewer, &id, Some(&e), status_of(&e)).await,
            }
        }
        "withdraw" => {
            let key = form.key_id.unwrap_or_default();
            let done = ops::withdraw(&state, &viewer.caller, &id, &key, &form.reason.unwrap_or_default()).await;
            answer(&state, &viewer, &id, done.map(|_| ()), "#pre-shared-keys").await
        }
        op => {
            let e = ApiError::bad_request("invalid form", format!("op {op:?}: use issue or withdraw"));
            Err(viewer.refused(Problem::UnknownOperation, "admin.psk.issue", &id, e).await)
        }
    }
}

/// The page again after a change (see-other), or with the refusal's words.
async fn answer(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    done: Result<(), ApiError>,
    anchor: &str,
) -> Result<Response, Response> {
    match done {
        Ok(()) => Ok(see_other(&format!("/console/facilities/{id}/routers{anchor}"))),
        Err(e)
            if e.status.is_client_error()
                && e.status != StatusCode::FORBIDDEN
                && e.status != StatusCode::UNAUTHORIZED =>
        {
            page(state, viewer, id, Some(&e), status_of(&e)).await
        }
        Err(e) => Err(viewer.refusal(Problem::of(&e, Problem::NoSuchFacility))),
    }
}

fn status_of(e: &ApiError) -> StatusCode {
    if e.status.is_client_error() { e.status } else { StatusCode::BAD_REQUEST }
}

/// The issued key, once, with the router's configuration lines; not cached by the browser.
fn shown_once(viewer: &Viewer, id: &str, issued: &hcpki_ca::psk::manage::Issued, snippet: &str) -> Response {
    let t = |m: M| m.text(viewer.lang);
    let body = html! {
        div class="notice warn" role="note" { p { (t(M::PskShownOnce)) } }
        dl {
            dt { (t(M::KeyId)) } dd { code { (issued.record.key_id) } }
            dt { (t(M::Hub)) } dd { (issued.record.peer) }
            dt { (t(M::PreSharedKeys)) } dd { code id="psk-secret" { (issued.key.secret.as_str()) } }
        }
        h2 { (t(M::Config)) }
        pre id="psk-config" { (snippet) }
        p { a href={ "/console/facilities/" (id) "/routers" } { (t(M::Back)) } }
    };
    let mut r = view::page(viewer.lang, viewer.principal(), StatusCode::OK, t(M::PskIssued), body);
    r.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    r.into_response()
}
