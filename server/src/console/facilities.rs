//! Facility pages: the home page by role (operators: the approval queue; a facility admin: its facility),
//! facility search and detail, lifecycle transitions, devices (certificates) and enrollment credentials.
//! Every page and form calls `app::operations`, the admin API's own operations.

use super::audit::readable;
use super::i18n::{Lang, M};
use super::notice::{self, Done, DoneQuery};
use super::problem::Problem;
use super::view::{self, csrf_field, section, table, table_or_none};
use super::{OrPage, Viewer, labels, lifecycle, see_other};
use crate::app::AppState;
use crate::app::operations::{self, CredentialRequest, MAX_SHORT};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_ca::access::{Action, Principal};
use hcpki_ca::enroll::CredentialRecord;
use hcpki_ca::facility::{DeviceName, Facility, FacilityId, FacilityState, PhoneDigits, PhoneError, Transition};
use hcpki_ca::profile::ProfileKind;
use hcpki_ca::store::router::RouterAuth;
use hcpki_ca::store::{CertStatus, CertificateRecord, FacilityFilter};
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::HashMap;
use std::str::FromStr;

type Page = Result<Response, Response>;

/// Most rows a list page shows.
const PAGE_ROWS: i64 = 200;
/// The revocation reasons a facility admin picks from: RFC 5280's names, and the words the form shows.
pub(super) const DEVICE_REASONS: [(&str, M); 4] = [
    ("keyCompromise", M::ReasonKeyCompromise),
    ("cessationOfOperation", M::ReasonCessation),
    ("superseded", M::ReasonSuperseded),
    ("unspecified", M::ReasonUnspecified),
];

/// `GET /console/`: operators see the approval queue, a facility admin its facility, anyone else how to
/// sign in or apply.
pub async fn home(State(state): State<AppState>, viewer: Viewer) -> Page {
    let t = |m: M| m.text(viewer.lang);
    match viewer.principal().clone() {
        Principal::Operator { .. } | Principal::Person { .. } => {
            let filter =
                FacilityFilter { state: Some(FacilityState::Applied), limit: Some(PAGE_ROWS), ..Default::default() };
            let queue = operations::list_facilities(&state, &viewer.caller, &filter).await.or_page(&viewer)?;
            let table = facility_table(&viewer, t(M::Queue), &queue, true);
            // An RA's staff see its own queue, and are told so (D167).
            let note = viewer.principal().ra().map(|ra| super::ras::queue_note(viewer.lang, ra));
            let body = html! { @if let Some(n) = note { (n) } (table) };
            Ok(view::page(viewer.lang, viewer.principal(), StatusCode::OK, t(M::Applications), body))
        }
        Principal::FacilityAdmin { facility, .. } => facility_page(&state, &viewer, facility.as_str(), None).await,
        _ => {
            let body = html! { p { (t(M::Welcome)) } p { a href="/console/apply" { (t(M::Apply)) } } };
            Ok(view::page(viewer.lang, viewer.principal(), StatusCode::OK, t(M::Console), body))
        }
    }
}

/// The query of [`search`].
#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
    state: Option<String>,
    phone: Option<String>,
}

/// `GET /console/facilities?q=&state=&phone=` (operators and auditors): by name, or straight to an ID, and by the
/// telephone number a caller gives (issue #45 item 3; a number the search cannot read is said on the same page,
/// the values kept).
pub async fn search(State(state): State<AppState>, viewer: Viewer, Query(q): Query<SearchQuery>) -> Page {
    let t = |m: M| m.text(viewer.lang);
    let text = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if let Some(id) = text.and_then(|s| FacilityId::parse(s).ok()) {
        return Ok(see_other(&format!("/console/facilities/{id}")));
    }
    let wanted = q.state.as_deref().filter(|s| !s.is_empty());
    let filter_state = match wanted.map(FacilityState::from_str).transpose() {
        Ok(s) => s,
        Err(e) => {
            let e = crate::app::api_error::ApiError::bad_request("invalid query", e.to_string());
            return Err(viewer.refused(Problem::BadSearch, "admin.facility.list", "-", e).await);
        }
    };
    if let Err(detail) = operations::limit("q", text, operations::MAX_NAME) {
        let e = crate::app::api_error::ApiError::bad_request("invalid query", detail);
        return Err(viewer.refused(Problem::BadSearch, "admin.facility.list", "-", e).await);
    }
    let typed_phone = q.phone.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let phone = match typed_phone.map(PhoneDigits::parse).transpose() {
        Ok(p) => p,
        Err(e) => {
            let problem = match e {
                PhoneError::Character(_) => M::PhoneBadCharacter,
                _ => M::PhoneBadLength,
            };
            let error = crate::app::api_error::ApiError::bad_request("invalid query", format!("phone: {e}"));
            let error = viewer.caller.refuse("admin.facility.list", "-", error).await;
            let form = search_form(&viewer, text.unwrap_or(""), wanted.unwrap_or(""), typed_phone.unwrap_or(""));
            let body = html! {
                div class="error" role="alert" id="problem" { p { (t(problem)) } }
                (form)
            };
            return Ok(view::page(viewer.lang, viewer.principal(), error.status, t(M::Facilities), body));
        }
    };
    let filter = FacilityFilter {
        state: filter_state,
        name_contains: text.map(str::to_owned),
        phone,
        limit: Some(PAGE_ROWS),
        ..Default::default()
    };
    let list = operations::list_facilities(&state, &viewer.caller, &filter).await.or_page(&viewer)?;
    let body = html! {
        (search_form(&viewer, text.unwrap_or(""), wanted.unwrap_or(""), typed_phone.unwrap_or("")))
        (facility_table(&viewer, t(M::Facilities), &list, false))
    };
    Ok(view::page(viewer.lang, viewer.principal(), StatusCode::OK, t(M::Facilities), body))
}

/// The search form with what was typed.
fn search_form(viewer: &Viewer, text: &str, state: &str, phone: &str) -> Markup {
    let t = |m: M| m.text(viewer.lang);
    let mut states = vec![("", t(M::AnyState))];
    states.extend(FacilityState::ALL.iter().map(|s| (s.as_str(), t(labels::state(*s)))));
    html! {
        form method="get" action="/console/facilities" role="search" {
            (view::input("q", "q", t(M::NameContains), text, operations::MAX_NAME))
            label for="phone" { (t(M::Phone)) }
            p class="hint" id="phone-hint" { (t(M::PhoneHint)) }
            input id="phone" name="phone" value=(phone) maxlength="40" type="tel" inputmode="tel" autocomplete="off"
                aria-describedby="phone-hint";
            (view::select("state", "state", t(M::State), &states, state))
            p { button type="submit" { (t(M::Search)) } }
        }
    }
}

/// Facilities as a table; with `decide`, approve and reject forms per row (the approval queue).
fn facility_table(viewer: &Viewer, caption: &str, list: &[Facility], decide: bool) -> Markup {
    let t = |m: M| m.text(viewer.lang);
    if list.is_empty() {
        return html! { h2 { (caption) } p { (t(M::NoneFound)) } };
    }
    let mut head = vec![t(M::Id), t(M::Name), t(M::Kind), t(M::MedicalCode), t(M::State), t(M::Registered)];
    if decide {
        head.push(t(M::Lifecycle));
    }
    let rows: Vec<Vec<Markup>> = list
        .iter()
        .map(|f| {
            let mut row = vec![
                html! { a href={ "/console/facilities/" (f.id.as_str()) } { (f.id.as_str()) } },
                html! { (f.name) },
                html! { (t(labels::kind(f.kind))) },
                html! { (f.medical_code.as_ref().map(|c| c.as_str()).unwrap_or("")) },
                labels::state_badge(f.state, viewer.lang),
                view::jst(f.created_at, viewer.lang),
            ];
            if decide {
                row.push(lifecycle::buttons(
                    viewer,
                    f,
                    &allowed(viewer, f, &[Transition::Approve, Transition::Reject]),
                ));
            }
            row
        })
        .collect();
    table(caption, &head, &rows)
}

/// The transitions of `which` the caller may make and the facility's state allows.
fn allowed(viewer: &Viewer, f: &Facility, which: &[Transition]) -> Vec<Transition> {
    which
        .iter()
        .copied()
        .filter(|tr| viewer.can(&Action::Transition(*tr, &f.id)) && f.state.apply(*tr).is_ok())
        .collect()
}

/// `GET /console/facilities/{id}`.
pub async fn detail(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Page {
    facility_page(&state, &viewer, &id, q.done()).await
}

/// A facility's page, with the notice of what was just `done` to it.
async fn facility_page(state: &AppState, viewer: &Viewer, id: &str, done: Option<Done>) -> Page {
    let t = |m: M| m.text(viewer.lang);
    let f = operations::facility(state, &viewer.caller, id).await.or_missing(viewer, Problem::NoSuchFacility)?;
    let certs = operations::certificates(state, &viewer.caller, id).await.or_page(viewer)?;
    let creds = operations::credentials(state, &viewer.caller, id).await.or_page(viewer)?;
    let names = operations::devices::names(state, &viewer.caller, &f.id).await.or_page(viewer)?;
    let router_dns = state.admin.settings().router_dns_name(&f.id);
    let opt = |v: Option<&str>| html! { (v.unwrap_or("-")) };
    let mut facts = labels::identity_facts(&f, viewer.lang);
    facts.extend([
        (M::State, html! { span id="facility-state" { (labels::state_badge(f.state, viewer.lang)) } }),
        (M::StateReason, opt(f.state_reason.as_deref())),
        (
            M::Changed,
            html! {
                (view::jst(f.state_changed_at, viewer.lang)) " (" (t(M::ChangedBy)) " "
                (readable::actor(viewer.lang, &f.state_changed_by)) ")"
            },
        ),
        (M::Registered, view::jst(f.created_at, viewer.lang)),
        (M::RouterDns, html! { code { (router_dns) } }),
    ]);
    let changes = allowed(viewer, &f, &lifecycle::OFFERED);
    let session_lifetime = super::lifetime::section(state, viewer, &f).await?;
    let addresses = super::addresses::section(state, viewer, &f).await?;
    let vetting = super::vetting::section(state, viewer, &f).await?;
    let body = html! {
        (notice::render(done, viewer.lang))
        dl { @for (k, v) in &facts { dt { (t(*k)) } dd { (v) } } }
        (read_only_notice(viewer, &f))
        (vetting)
        @if !changes.is_empty() {
            (section("lc", t(M::Lifecycle), html! {
                p { (t(M::LifecycleHelp)) " " (t(M::ReasonHelp)) }
                (lifecycle::buttons(viewer, &f, &changes))
            }))
        }
        (session_lifetime)
        (addresses)
        (devices(viewer, &f, &certs, &names))
        (credential_table(viewer, &f, &creds))
        (credential_form(viewer, &f))
        (pkcs12_form(viewer, &f, &operations::DeviceRequest::default(), &cert_routers(state, viewer, &f).await?))
        (super::routers::section(viewer.lang, state, &f, &viewer.origin))
        (super::facility_rules::link(viewer, f.id.as_str()))
    };
    Ok(view::page(viewer.lang, viewer.principal(), StatusCode::OK, &f.name, body))
}

/// Why a facility admin sees no forms: a bare PC certificate, or a password sign-in where the facility takes
/// changes from cards only (issue #24 item 7); the decision table's own words, which say what to do.
fn read_only_notice(viewer: &Viewer, f: &Facility) -> Markup {
    if !matches!(viewer.principal(), Principal::FacilityAdmin { .. }) || !f.state.may_enroll() {
        return html! {};
    }
    match hcpki_ca::access::decide(viewer.principal(), &Action::CreateCredential(&f.id), None) {
        Ok(()) => html! {},
        Err(why) => html! { div class="notice warn" id="read-only" role="note" { p { (why.to_string()) } } },
    }
}

/// The facility's certificates with status and expiry, and a revoke form on each live one; a PC by the name staff
/// gave it (D134), with a link to name or rename it for whoever may issue the facility's device keys.
fn devices(viewer: &Viewer, f: &Facility, certs: &[CertificateRecord], names: &HashMap<String, DeviceName>) -> Markup {
    let t = |m: M| m.text(viewer.lang);
    let now = viewer.now();
    let may_revoke = viewer.can(&Action::RevokeCertificate(&f.id));
    let may_name = viewer.can(&Action::IssueDeviceKey(&f.id));
    let rows: Vec<Vec<Markup>> = certs
        .iter()
        .filter(|c| matches!(c.status, CertStatus::Issued | CertStatus::Revoked))
        .map(|c| {
            let issued = c.status == CertStatus::Issued;
            let live = issued && c.not_after > now;
            let device = operations::devices::device_of(c);
            let name = device.as_ref().and_then(|d| names.get(d));
            vec![
                html! {
                    @if let Some(n) = name { strong class="device-name" { (n) } }
                    @if let (Some(d), true) = (&device, may_name) {
                        " " a href={ "/console/facilities/" (f.id.as_str()) "/devices/" (d) "/name" }
                            aria-label={ (t(M::Rename)) " " (d) } { (t(M::Rename)) }
                    }
                },
                html! { code { (c.serial) } @if issued { (super::download::links(c.serial.as_str())) } },
                html! { (labels::profile(c.profile, viewer.lang)) },
                html! { span class="wrap" { (c.subject) } },
                html! { span class="wrap" { (c.sans.join(", ")) } },
                html! { span data-serial=(c.serial) { (labels::cert_badge(c.status, viewer.lang)) } },
                html! {
                    (view::jst(c.not_after, viewer.lang))
                    @if c.not_after <= now { " " (labels::badge("expired", t(M::Expired))) }
                },
                html! {
                    @if may_revoke && live {
                        // The confirmation page (a GET), which names the device and what revoking does to it.
                        form class="inline" method="get" action={ "/console/certificates/" (c.serial) "/revoke" } {
                            button type="submit" class="danger" aria-label={ (t(M::Revoke)) " " (c.serial) } {
                                (t(M::Revoke)) "…"
                            }
                        }
                    }
                },
            ]
        })
        .collect();
    let head = [
        t(M::DeviceName),
        t(M::Serial),
        t(M::Profile),
        t(M::Subject),
        t(M::Names),
        t(M::Status),
        t(M::Expires),
        t(M::Revoke),
    ];
    section("devices", t(M::Devices), table_or_none(viewer.lang, t(M::Devices), &head, &rows))
}

/// The facility's credentials (never secrets), with a revoke form on each active one.
fn credential_table(viewer: &Viewer, f: &Facility, creds: &[CredentialRecord]) -> Markup {
    let t = |m: M| m.text(viewer.lang);
    let now = viewer.at();
    let may_revoke = viewer.can(&Action::RevokeCredential(&f.id));
    let rows: Vec<Vec<Markup>> = creds
        .iter()
        .map(|c| {
            let status = c.status(now);
            vec![
                html! { code { (c.id) } },
                html! { (c.protocol.as_str()) },
                html! { (c.profiles.iter().map(|p| labels::profile((*p).into(), viewer.lang)).collect::<Vec<_>>().join(", ")) },
                labels::badge(status, labels::credential_status(status, viewer.lang)),
                view::jst(c.expires_at, viewer.lang),
                readable::actor(viewer.lang, &c.created_by),
                html! {
                    @if may_revoke && status == "active" {
                        // The confirmation page (a GET), which names the credential and what revoking does.
                        form class="inline" method="get" action={ "/console/credentials/" (c.id) "/revoke" } {
                            button type="submit" class="danger" aria-label={ (t(M::Revoke)) " " (c.id) } {
                                (t(M::Revoke)) "…"
                            }
                        }
                    }
                },
            ]
        })
        .collect();
    let head = ["ID", t(M::Protocol), t(M::Profile), t(M::Status), t(M::Expires), t(M::CreatedBy), t(M::Revoke)];
    section("credentials", t(M::Credentials), table_or_none(viewer.lang, t(M::Credentials), &head, &rows))
}

/// The form that mints a credential, if the caller may.
fn credential_form(viewer: &Viewer, f: &Facility) -> Markup {
    credential_form_with(viewer, f, &CredentialForm::default(), None)
}

/// [`credential_form`] with `typed` in its fields and, after a refusal, what to fix (issue #45 item 1).
fn credential_form_with(
    viewer: &Viewer,
    f: &Facility,
    typed: &CredentialForm,
    problem: Option<operations::CredentialProblem>,
) -> Markup {
    use operations::CredentialProblem as P;
    if !viewer.can(&Action::CreateCredential(&f.id)) || !f.state.may_enroll() {
        return html! {};
    }
    let t = |m: M| m.text(viewer.lang);
    let valid_for = if typed.protocol.is_empty() { "7d" } else { typed.valid_for.as_deref().unwrap_or("") };
    let inner = html! {
        @if let Some(p) = problem {
            @let words = match p { P::Protocol => M::CredProblemProtocol, P::Profile => M::CredProblemProfile, _ => M::CredProblemValidity };
            div class="error" role="alert" id="problem" { p { (t(words)) " " (t(M::NothingMade)) } }
        }
        p { (t(M::NewCredentialHelp)) }
        form method="post" action={ "/console/facilities/" (f.id.as_str()) "/credentials" } {
            (csrf_field(&viewer.csrf()))
            (view::select("protocol", "protocol", t(M::Protocol), &view::same(&["est", "scep", "acme"]), &typed.protocol))
            (view::select("profile", "profile", t(M::Profile), &profiles(viewer, &[ProfileKind::Pc, ProfileKind::Router]), &typed.profile))
            (view::input("valid_for", "valid_for", t(M::ValidFor), valid_for, MAX_SHORT).autocomplete("off")
                .focus_if(problem == Some(P::Validity)))
            p { button type="submit" { (t(M::Create)) } }
        }
    };
    section("new-credential", t(M::NewCredential), inner)
}

/// The facility's routers registered for certificates, which the PKCS#12 form offers (D174).
async fn cert_routers(state: &AppState, viewer: &Viewer, f: &Facility) -> Result<Vec<String>, Response> {
    if !viewer.can(&Action::IssueDeviceKey(&f.id)) {
        return Ok(Vec::new());
    }
    let routers = operations::routers::list(state, &viewer.caller, f.id.as_str()).await.or_page(viewer)?;
    Ok(routers.into_iter().filter(|r| r.auth == RouterAuth::Certificate).map(|r| r.name).collect())
}

/// The form that makes a PKCS#12 for a device, if the caller may; a router's is for one of the facility's
/// registered certificate `routers` (or, where the register is not enforced, none).
fn pkcs12_form(viewer: &Viewer, f: &Facility, typed: &operations::DeviceRequest, routers: &[String]) -> Markup {
    if !viewer.can(&Action::IssueDeviceKey(&f.id)) || !f.state.may_enroll() {
        return html! {};
    }
    let t = |m: M| m.text(viewer.lang);
    let mut vendors = vec![("", "-")];
    vendors.extend(view::same(&[
        "strongswan",
        "libreswan",
        "cisco",
        "juniper",
        "fortigate",
        "mikrotik",
        "yamaha",
        "windows",
    ]));
    let inner = html! {
        p { (t(M::Pkcs12Help)) }
        form method="post" action={ "/console/facilities/" (f.id.as_str()) "/pkcs12" } {
            (csrf_field(&viewer.csrf()))
            @let kinds = profiles(viewer, &[ProfileKind::Router, ProfileKind::Pc]);
            (view::select("p12-profile", "profile", t(M::Profile), &kinds, &typed.profile))
            @let san = typed.san.as_deref().unwrap_or("");
            (view::input("p12-san", "san", t(M::ExtraName), san, operations::MAX_NAME))
            (view::select("p12-vendor", "vendor", t(M::VendorOptional), &vendors, typed.vendor.as_deref().unwrap_or("")))
            @let choices: Vec<(&str, &str)> = std::iter::once(("", "-"))
                .chain(routers.iter().map(|r| (r.as_str(), r.as_str()))).collect();
            (view::select("p12-router", "router", t(M::RouterName), &choices, typed.router.as_deref().unwrap_or("")))
            p { a href={ "/console/facilities/" (f.id.as_str()) "/routers" } { (t(M::RouterRegister)) } }
            p { button type="submit" { (t(M::Create)) } }
        }
    };
    section("pkcs12", t(M::Pkcs12), inner)
}

/// The PKCS#12 form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pkcs12Form {
    profile: String,
    san: Option<String>,
    vendor: Option<String>,
    router: Option<String>,
}

/// `POST /console/facilities/{id}/pkcs12`: the file as a download link and its passphrase, on this page
/// only (`Cache-Control: no-store`).
pub async fn pkcs12(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>, body: Body) -> Page {
    let form: Pkcs12Form = viewer.form("admin.device.issue", &id, body).await?;
    let fid = operations::authorize_device(&viewer.caller, &id).await.or_page(&viewer)?;
    let blank = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let request = operations::DeviceRequest {
        profile: form.profile,
        san: blank(form.san),
        vendor: blank(form.vendor),
        router: blank(form.router),
    };
    let made = match operations::issue_pkcs12(&state, &viewer.caller, &fid, &request).await {
        Ok(made) => made,
        Err(refusal) => return pkcs12_refused(&state, &viewer, &fid, &request, &refusal).await,
    };
    let t = |m: M| m.text(viewer.lang);
    let data = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &made.file);
    let body = html! {
        div class="notice warn" role="alert" { p { (t(M::PassphraseOnce)) } }
        dl {
            dt { (t(M::Passphrase)) } dd { code class="secret" id="p12-passphrase" { (made.passphrase.as_str()) } }
            dt { (t(M::Serial)) } dd { code id="p12-serial" { (made.record.serial) } }
            dt { (t(M::Names)) } dd { (made.record.sans.join(", ")) }
            dt { (t(M::Expires)) } dd { (view::jst(made.record.not_after, viewer.lang)) }
        }
        p {
            a id="p12-download" href={ "data:application/x-pkcs12;base64," (data) }
                download={ (made.record.serial) ".p12" } {
                (t(M::Download))
            }
        }
        // A PC is named as staff call it on its own page (D134), right from here.
        @if let Some(device) = operations::devices::device_of(&made.record) {
            p { a id="p12-name" href={ "/console/facilities/" (fid.as_str()) "/devices/" (device) "/name" } {
                (t(M::NameThisDevice))
            } }
        }
        p { a href={ "/console/facilities/" (fid.as_str()) } { (t(M::Back)) } }
    };
    Ok(view::page(viewer.lang, viewer.principal(), StatusCode::CREATED, t(M::Pkcs12Made), body))
}

/// The PKCS#12 form again, as it was typed, under what to fix in the admin's words (issue #45 item 1); what the
/// form cannot say (the server's own trouble) is the refusal page.
async fn pkcs12_refused(
    state: &AppState,
    viewer: &Viewer,
    fid: &FacilityId,
    typed: &operations::DeviceRequest,
    refusal: &operations::DeviceRefusal,
) -> Page {
    use operations::DeviceProblem as P;
    let problem = match refusal.problem {
        P::Profile => M::Pkcs12ChooseProfile,
        P::Vendor => M::Pkcs12UnknownVendor,
        P::NameNotAllowed => M::Pkcs12PcTakesNoName,
        P::BadName => M::Pkcs12BadName,
        P::NameOutsideFacility => M::Pkcs12NameOutside,
        P::AddressNotAllocated => M::Pkcs12AddressNotAllocated,
        P::Halted => M::Pkcs12Halted,
        P::Router => M::Pkcs12RouterRefused,
        _ => return Err(viewer.refusal(Problem::of(&refusal.error, Problem::NoSuchFacility))),
    };
    let f = operations::facility(state, &viewer.caller, fid.as_str()).await.or_page(viewer)?;
    let t = |m: M| m.text(viewer.lang);
    let body = html! {
        div class="error" role="alert" id="problem" {
            p { (t(problem)) " " (t(M::NothingMade)) }
            @if problem == M::Pkcs12RouterRefused { p { (refusal.error.detail) } }
        }
        (pkcs12_form(viewer, &f, typed, &cert_routers(state, viewer, &f).await?))
        p { a href={ "/console/facilities/" (f.id.as_str()) } { (t(M::Back)) } }
    };
    Ok(view::page(viewer.lang, viewer.principal(), refusal.error.status, t(M::Pkcs12), body))
}

/// The credential form.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialForm {
    protocol: String,
    profile: String,
    valid_for: Option<String>,
}

/// `POST /console/facilities/{id}/credentials`: the secret is shown on this page only.
pub async fn create_credential(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    body: Body,
) -> Page {
    let form: CredentialForm = viewer.form("admin.credential.create", &id, body).await?;
    let fid = operations::authorize_credential(&viewer.caller, &id).await.or_page(&viewer)?;
    let request = CredentialRequest {
        protocol: form.protocol.clone(),
        profiles: vec![form.profile.clone()],
        valid_for: form.valid_for.clone().filter(|v| !v.trim().is_empty()),
    };
    let minted = match operations::create_credential(&state, &viewer.caller, &fid, &request).await {
        Ok(m) => m,
        Err(operations::Refusal { error, problem: Some(problem) }) => {
            // The form again, as typed, under what to fix.
            let f = operations::facility(&state, &viewer.caller, fid.as_str()).await.or_page(&viewer)?;
            let t = |m: M| m.text(viewer.lang);
            let body = html! {
                (credential_form_with(&viewer, &f, &form, Some(problem)))
                p { a href={ "/console/facilities/" (f.id.as_str()) } { (t(M::Back)) } }
            };
            return Ok(view::page(viewer.lang, viewer.principal(), error.status, t(M::NewCredential), body));
        }
        Err(r) => return Err(viewer.refusal(Problem::of(&r.error, Problem::NoSuchFacility))),
    };
    let t = |m: M| m.text(viewer.lang);
    let fields = minted.device_fields();
    let endpoints = super::routers::endpoints(&state, &minted.record, &viewer.origin);
    let body = html! {
        div class="notice warn" role="alert" { p { (t(M::ShownOnce)) } }
        dl {
            @for (k, v) in &fields { dt { (k) } dd { code class="secret" id={ "cred-" (k) } { (v.as_str()) } } }
            dt { (t(M::Expires)) } dd { (view::jst(minted.record.expires_at, viewer.lang)) }
        }
        h2 { (t(M::Endpoints)) }
        (endpoints)
        p { a href={ "/console/facilities/" (fid.as_str()) } { (t(M::Back)) } }
    };
    Ok(view::page(viewer.lang, viewer.principal(), StatusCode::CREATED, t(M::CredentialMade), body))
}

/// A form with nothing but its CSRF token.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

/// `GET /console/credentials/{id}/revoke`: the confirmation page, naming the credential and what revoking it does
/// (issue #45 item 2); cancel goes back to the facility's credentials.
pub async fn confirm_revoke_credential(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Page {
    let c = operations::revocable_credential(&state, &viewer.caller, &id).await.or_page(&viewer)?;
    let lang = viewer.lang;
    let t = |m: M| m.text(lang);
    let back = format!("/console/facilities/{}#credentials", c.facility.as_str());
    let status = c.status(viewer.at());
    let profiles: Vec<&str> = c.profiles.iter().map(|p| labels::profile((*p).into(), lang)).collect();
    let body = html! {
        dl id="credential-facts" {
            dt { "ID" } dd { code { (c.id) } }
            dt { (t(M::Protocol)) } dd { (c.protocol.as_str()) }
            dt { (t(M::Profile)) } dd { (profiles.join(", ")) }
            dt { (t(M::Status)) } dd { (labels::badge(status, labels::credential_status(status, lang))) }
            dt { (t(M::Expires)) } dd { (view::jst(c.expires_at, lang)) }
            dt { (t(M::CreatedBy)) } dd { (c.created_by) }
        }
        div class="notice warn" role="note" id="consequence" {
            p { (t(M::CredRevokeConsequence)) }
            p { strong { (t(M::CannotUndo)) } }
        }
        form method="post" action={ "/console/credentials/" (c.id) "/revoke" } {
            (csrf_field(&viewer.csrf()))
            p {
                button type="submit" class="danger" id="confirm" { (t(M::ConfirmCredRevokeButton)) }
                " "
                a href=(back) id="cancel" { (t(M::Cancel)) }
            }
        }
    };
    Ok(view::page(lang, viewer.principal(), StatusCode::OK, t(M::ConfirmCredRevoke), body))
}

/// `POST /console/credentials/{id}/revoke`: from the confirmation page (its CSRF token).
pub async fn revoke_credential(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    body: Body,
) -> Page {
    let _: Empty = viewer.form("admin.credential.revoke", "-", body).await?;
    let c = operations::revoke_credential(&state, &viewer.caller, &id).await.or_page(&viewer)?;
    Ok(see_other(&Done::CredentialRevoked.location(&format!("/console/facilities/{}", c.facility), "#credentials")))
}

/// The query of [`certificates`].
#[derive(Debug, Deserialize)]
pub struct CertificateQuery {
    q: Option<String>,
}

/// `GET /console/certificates?q=SERIAL|FACILITY`: a certificate by serial, or a facility's certificates.
pub async fn certificates(State(state): State<AppState>, viewer: Viewer, Query(q): Query<CertificateQuery>) -> Page {
    let t = |m: M| m.text(viewer.lang);
    let text = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let found = match text {
        None => None,
        Some(s) if FacilityId::parse(s).is_ok() => Some(operations::certificates(&state, &viewer.caller, s).await),
        Some(s) => Some(operations::certificate(&state, &viewer.caller, s).await.map(|c| vec![c])),
    };
    let results = match found {
        None => html! {},
        Some(list) => {
            let list = list.or_missing(&viewer, Problem::NoSuchCertificate)?;
            let names = pc_names(&state, &viewer, &list).await?;
            cert_rows(viewer.lang, &list, &names)
        }
    };
    let body = html! {
        form method="get" action="/console/certificates" role="search" {
            (view::input("q", "q", t(M::SerialOrFacility), text.unwrap_or(""), 64))
            p { button type="submit" { (t(M::Search)) } }
        }
        (results)
    };
    Ok(view::page(viewer.lang, viewer.principal(), StatusCode::OK, t(M::Certificates), body))
}

/// The names staff gave the PCs among `list` (issue #45 item 8), by facility and device ID: the certificate
/// search shows them as the facility page does, so the help desk hears "受付PC" and sees it.
async fn pc_names(
    state: &AppState,
    viewer: &Viewer,
    list: &[CertificateRecord],
) -> Result<HashMap<(FacilityId, String), DeviceName>, Response> {
    let mut names = HashMap::new();
    let mut facilities: Vec<&FacilityId> = list
        .iter()
        .filter(|c| operations::devices::device_of(c).is_some())
        .filter_map(|c| c.facility.as_ref())
        .collect();
    facilities.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    facilities.dedup();
    for f in facilities {
        let named = operations::devices::names(state, &viewer.caller, f).await.or_page(viewer)?;
        names.extend(named.into_iter().map(|(device, name)| ((f.clone(), device), name)));
    }
    Ok(names)
}

fn cert_rows(lang: Lang, list: &[CertificateRecord], names: &HashMap<(FacilityId, String), DeviceName>) -> Markup {
    let t = |m: M| m.text(lang);
    let rows: Vec<Vec<Markup>> = list
        .iter()
        .map(|c| {
            let device = operations::devices::device_of(c);
            let name = c.facility.clone().zip(device).and_then(|key| names.get(&key));
            vec![
                html! { @if let Some(n) = name { strong class="device-name" { (n) } } },
                html! { code { (c.serial) } },
                html! {
                    @if let Some(f) = &c.facility { a href={ "/console/facilities/" (f.as_str()) } { (f.as_str()) } }
                },
                html! { (labels::profile(c.profile, lang)) },
                html! { (c.subject) },
                labels::cert_badge(c.status, lang),
                view::jst(c.not_after, lang),
            ]
        })
        .collect();
    let head =
        [t(M::DeviceName), t(M::Serial), t(M::Facility), t(M::Profile), t(M::Subject), t(M::Status), t(M::Expires)];
    table_or_none(lang, t(M::Certificates), &head, &rows)
}

/// Profile options: the name as value, the words as text.
fn profiles(viewer: &Viewer, kinds: &[ProfileKind]) -> Vec<(&'static str, &'static str)> {
    kinds.iter().map(|k| (k.as_str(), labels::profile_kind(*k).text(viewer.lang))).collect()
}
