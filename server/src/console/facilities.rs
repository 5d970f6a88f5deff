//! Facility pages: the home page by role (operators: the approval queue; a facility admin: its facility),
//! facility search and detail, lifecycle transitions, devices (certificates) and enrollment credentials.
//! Every page and form calls `http::operations`, the admin API's own operations.

use super::i18n::{Lang, M};
use super::view::{self, badge, csrf_field, table, when};
use super::{OrPage, Viewer, see_other};
use crate::html::esc;
use crate::http::AppState;
use crate::http::operations::{self, CredentialRequest, MAX_REASON, MAX_SHORT};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_ca::access::{Action, Principal};
use hcpki_ca::enroll::CredentialRecord;
use hcpki_ca::facility::{Facility, FacilityId, FacilityState, Transition};
use hcpki_ca::store::{CertStatus, CertificateRecord, FacilityFilter};
use serde::Deserialize;
use std::str::FromStr;

type Page = Result<Response, Response>;

/// Most rows a list page shows.
const PAGE_ROWS: i64 = 200;
/// The revocation reasons a facility admin picks from (RFC 5280 names).
const DEVICE_REASONS: [&str; 4] = ["keyCompromise", "cessationOfOperation", "superseded", "unspecified"];

/// `GET /console/`: operators see the approval queue, a facility admin its facility, anyone else how to
/// sign in or apply.
pub async fn home(State(state): State<AppState>, viewer: Viewer) -> Page {
    let t = |m: M| m.text(viewer.lang);
    match viewer.principal().clone() {
        Principal::Operator { .. } | Principal::Person { .. } => {
            let filter =
                FacilityFilter { state: Some(FacilityState::Applied), limit: Some(PAGE_ROWS), ..Default::default() };
            let queue = operations::list_facilities(&state, &viewer.caller, &filter).await.or_page(&viewer)?;
            let body = facility_table(&viewer, t(M::Queue), &queue, true);
            Ok(view::page(viewer.lang, viewer.principal(), StatusCode::OK, t(M::Applications), &body))
        }
        Principal::FacilityAdmin { facility, .. } => facility_page(&state, &viewer, facility.as_str()).await,
        _ => {
            let body = format!("<p>{}</p><p><a href=\"/console/apply\">{}</a></p>", t(M::Welcome), t(M::Apply));
            Ok(view::page(viewer.lang, viewer.principal(), StatusCode::OK, t(M::Console), &body))
        }
    }
}

/// The query of [`search`].
#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
    state: Option<String>,
}

/// `GET /console/facilities?q=&state=` (operators and auditors): by name, or straight to an ID.
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
            let e = crate::http::api_error::ApiError::bad_request("invalid query", e.to_string());
            return Err(viewer.refusal(&viewer.caller.refuse("admin.facility.list", "-", e).await));
        }
    };
    if let Err(detail) = operations::limit("q", text, operations::MAX_NAME) {
        let e = crate::http::api_error::ApiError::bad_request("invalid query", detail);
        return Err(viewer.refusal(&viewer.caller.refuse("admin.facility.list", "-", e).await));
    }
    let filter = FacilityFilter {
        state: filter_state,
        name_contains: text.map(str::to_owned),
        limit: Some(PAGE_ROWS),
        ..Default::default()
    };
    let list = operations::list_facilities(&state, &viewer.caller, &filter).await.or_page(&viewer)?;
    let states = [
        ("", t(M::AnyState)),
        ("applied", "applied"),
        ("approved", "approved"),
        ("active", "active"),
        ("suspended", "suspended"),
        ("retired", "retired"),
    ];
    let body = format!(
        "<form method=\"get\" action=\"/console/facilities\" role=\"search\">{q}{state}\
         <p><button type=\"submit\">{search}</button></p></form>{table}",
        q = view::input("q", "q", t(M::NameContains), text.unwrap_or(""), operations::MAX_NAME, ""),
        state = view::select("state", "state", t(M::State), &states, wanted.unwrap_or("")),
        search = t(M::Search),
        table = facility_table(&viewer, t(M::Facilities), &list, false),
    );
    Ok(view::page(viewer.lang, viewer.principal(), StatusCode::OK, t(M::Facilities), &body))
}

/// Facilities as a table; with `decide`, approve and reject forms per row (the approval queue).
fn facility_table(viewer: &Viewer, caption: &str, list: &[Facility], decide: bool) -> String {
    let t = |m: M| m.text(viewer.lang);
    if list.is_empty() {
        return format!("<h2>{caption}</h2><p>{}</p>", t(M::NoneFound));
    }
    let mut head = vec![t(M::Id), t(M::Name), t(M::Kind), t(M::MedicalCode), t(M::State), t(M::Registered)];
    if decide {
        head.push(t(M::Lifecycle));
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|f| {
            let mut row = vec![
                format!("<a href=\"/console/facilities/{id}\">{id}</a>", id = esc(f.id.as_str())),
                esc(&f.name),
                esc(f.kind.as_str()),
                esc(f.medical_code.as_ref().map(|c| c.as_str()).unwrap_or("")),
                badge(f.state.as_str()),
                when(f.created_at),
            ];
            if decide {
                row.push(transition_forms(viewer, f, &[Transition::Approve, Transition::Reject]));
            }
            row
        })
        .collect();
    table(caption, &head, &rows)
}

/// A form per transition the caller may make and the facility's state allows.
fn transition_forms(viewer: &Viewer, f: &Facility, which: &[Transition]) -> String {
    let t = |m: M| m.text(viewer.lang);
    let token = viewer.csrf();
    which
        .iter()
        .filter(|tr| viewer.can(&Action::Transition(**tr, &f.id)) && f.state.apply(**tr).is_ok())
        .map(|tr| {
            let (label, danger) = match tr {
                Transition::Approve => (M::Approve, false),
                Transition::Reject => (M::Reject, true),
                Transition::Suspend => (M::Suspend, true),
                Transition::Resume => (M::Resume, false),
                _ => (M::Retire, true),
            };
            let needs_reason = matches!(tr, Transition::Reject | Transition::Suspend | Transition::Retire);
            let field = format!("reason-{}-{}", tr.verb(), f.id.as_str());
            let reason = if needs_reason {
                let text = format!("{} ({})", t(M::Reason), t(label));
                view::input(&field, "reason", &text, "", MAX_REASON, " required")
            } else {
                String::new()
            };
            format!(
                "<form class=\"inline\" method=\"post\" action=\"/console/facilities/{id}/transition\">{csrf}\
                 <input type=\"hidden\" name=\"verb\" value=\"{verb}\">{reason}\
                 <button type=\"submit\"{class}>{text}</button></form> ",
                id = esc(f.id.as_str()),
                csrf = csrf_field(&token),
                verb = tr.verb(),
                class = if danger { " class=\"danger\"" } else { "" },
                text = t(label),
            )
        })
        .collect()
}

/// `GET /console/facilities/{id}`.
pub async fn detail(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Page {
    facility_page(&state, &viewer, &id).await
}

async fn facility_page(state: &AppState, viewer: &Viewer, id: &str) -> Page {
    let t = |m: M| m.text(viewer.lang);
    let f = operations::facility(state, &viewer.caller, id).await.or_page(viewer)?;
    let certs = operations::certificates(state, &viewer.caller, id).await.or_page(viewer)?;
    let creds = operations::credentials(state, &viewer.caller, id).await.or_page(viewer)?;
    let router_dns = state.admin.settings().router_dns_name(&f.id);
    let opt = |v: Option<&str>| esc(v.unwrap_or("-"));
    let facts = [
        (M::Id, esc(f.id.as_str())),
        (M::Name, esc(&f.name)),
        (M::Kind, esc(f.kind.as_str())),
        (M::MedicalCode, opt(f.medical_code.as_ref().map(|c| c.as_str()))),
        (M::Address, opt(f.address.as_deref())),
        (M::Contact, opt(f.contact.as_deref())),
        (M::State, format!("<span id=\"facility-state\">{}</span>", badge(f.state.as_str()))),
        (M::StateReason, opt(f.state_reason.as_deref())),
        (M::Changed, format!("{} ({})", when(f.state_changed_at), esc(&f.state_changed_by))),
        (M::Registered, when(f.created_at)),
        (M::RouterDns, format!("<code>{}</code>", esc(&router_dns))),
    ];
    let dl: String = facts.iter().map(|(k, v)| format!("<dt>{}</dt><dd>{v}</dd>", t(*k))).collect();
    let lifecycle = transition_forms(
        viewer,
        &f,
        &[Transition::Approve, Transition::Reject, Transition::Suspend, Transition::Resume, Transition::Retire],
    );
    let lifecycle = if lifecycle.is_empty() {
        String::new()
    } else {
        format!(
            "<section aria-labelledby=\"lc\"><h2 id=\"lc\">{}</h2><p>{} {}</p>{lifecycle}</section>",
            t(M::Lifecycle),
            t(M::LifecycleHelp),
            t(M::ReasonHelp)
        )
    };
    let session_lifetime = super::lifetime::section(state, viewer, &f).await?;
    let addresses = super::addresses::section(state, viewer, &f).await?;
    let body = format!(
        "<dl>{dl}</dl>{read_only}{lifecycle}{session_lifetime}{addresses}{devices}{credentials}{new_credential}{pkcs12}{routers}",
        read_only = read_only_notice(viewer, &f),
        devices = devices(viewer, &f, &certs),
        credentials = credential_table(viewer, &f, &creds),
        new_credential = credential_form(viewer, &f),
        pkcs12 = pkcs12_form(viewer, &f),
        routers = super::routers::section(viewer.lang, state, &f, &viewer.origin),
    );
    Ok(view::page(viewer.lang, viewer.principal(), StatusCode::OK, &f.name, &body))
}

/// Why a facility admin sees no forms: a bare PC certificate, or a password sign-in where the facility takes
/// changes from cards only (issue #24 item 7); the decision table's own words, which say what to do.
fn read_only_notice(viewer: &Viewer, f: &Facility) -> String {
    if !matches!(viewer.principal(), Principal::FacilityAdmin { .. }) || !f.state.may_enroll() {
        return String::new();
    }
    match hcpki_ca::access::decide(viewer.principal(), &Action::CreateCredential(&f.id)) {
        Ok(()) => String::new(),
        Err(why) => {
            format!("<div class=\"notice\" id=\"read-only\" role=\"note\"><p>{}</p></div>", esc(&why.to_string()))
        }
    }
}

/// The facility's certificates with status and expiry, and a revoke form on each live one.
fn devices(viewer: &Viewer, f: &Facility, certs: &[CertificateRecord]) -> String {
    let t = |m: M| m.text(viewer.lang);
    let now = hcpki_ca::time::now_unix();
    let may_revoke = viewer.can(&Action::RevokeCertificate(&f.id));
    let token = viewer.csrf();
    let rows: Vec<Vec<String>> = certs
        .iter()
        .filter(|c| matches!(c.status, CertStatus::Issued | CertStatus::Revoked))
        .map(|c| {
            let expired = if c.not_after <= now { format!(" {}", badge(t(M::Expired))) } else { String::new() };
            let revoke = if may_revoke && c.status == CertStatus::Issued && c.not_after > now {
                let field = format!("why-{}", c.serial);
                let reasons = view::select(&field, "reason", t(M::RevokeReason), &view::same(&DEVICE_REASONS), "");
                format!(
                    "<form class=\"inline\" method=\"post\" action=\"/console/certificates/{s}/revoke\">{csrf}\
                     {reasons}<button type=\"submit\" class=\"danger\">{rv}</button></form>",
                    s = esc(&c.serial),
                    csrf = csrf_field(&token),
                    rv = t(M::Revoke),
                )
            } else {
                String::new()
            };
            let download =
                if c.status == CertStatus::Issued { super::download::links(&c.serial) } else { String::new() };
            vec![
                format!("<code>{}</code>{download}", esc(&c.serial)),
                esc(&c.profile),
                format!("<span class=\"wrap\">{}</span>", esc(&c.subject)),
                format!("<span class=\"wrap\">{}</span>", esc(&c.sans.join(", "))),
                format!("<span data-serial=\"{}\">{}</span>", esc(&c.serial), badge(c.status.as_str())),
                format!("{}{expired}", when(c.not_after)),
                revoke,
            ]
        })
        .collect();
    let head = [t(M::Serial), t(M::Profile), t(M::Subject), t(M::Names), t(M::Status), t(M::Expires), t(M::Revoke)];
    section(
        "devices",
        t(M::Devices),
        if rows.is_empty() { format!("<p>{}</p>", t(M::NoneFound)) } else { table(t(M::Devices), &head, &rows) },
    )
}

fn section(id: &str, title: &str, inner: String) -> String {
    format!("<section aria-labelledby=\"{id}\"><h2 id=\"{id}\">{title}</h2>{inner}</section>")
}

/// The facility's credentials (never secrets), with a revoke form on each active one.
fn credential_table(viewer: &Viewer, f: &Facility, creds: &[CredentialRecord]) -> String {
    let t = |m: M| m.text(viewer.lang);
    let now = hcpki_ca::time::now_unix();
    let may_revoke = viewer.can(&Action::RevokeCredential(&f.id));
    let token = viewer.csrf();
    let rows: Vec<Vec<String>> = creds
        .iter()
        .map(|c| {
            let status = c.status(now);
            let revoke = if may_revoke && status == "active" {
                format!(
                    "<form class=\"inline\" method=\"post\" action=\"/console/credentials/{id}/revoke\">{csrf}\
                     <button type=\"submit\" class=\"danger\" aria-label=\"{rv} {id}\">{rv}</button></form>",
                    id = esc(&c.id),
                    csrf = csrf_field(&token),
                    rv = t(M::Revoke),
                )
            } else {
                String::new()
            };
            vec![
                format!("<code>{}</code>", esc(&c.id)),
                esc(c.protocol.as_str()),
                esc(&c.profiles_text()),
                badge(status),
                when(c.expires_at),
                esc(&c.created_by),
                revoke,
            ]
        })
        .collect();
    let head = ["ID", t(M::Protocol), t(M::Profile), t(M::Status), t(M::Expires), t(M::CreatedBy), t(M::Revoke)];
    section(
        "credentials",
        t(M::Credentials),
        if rows.is_empty() { format!("<p>{}</p>", t(M::NoneFound)) } else { table(t(M::Credentials), &head, &rows) },
    )
}

/// The form that mints a credential, if the caller may.
fn credential_form(viewer: &Viewer, f: &Facility) -> String {
    if !viewer.can(&Action::CreateCredential(&f.id)) || !f.state.may_enroll() {
        return String::new();
    }
    let t = |m: M| m.text(viewer.lang);
    let inner = format!(
        "<p>{help}</p><form method=\"post\" action=\"/console/facilities/{id}/credentials\">{csrf}\
         {protocol}{profile}{valid_for}<p><button type=\"submit\">{create}</button></p></form>",
        help = t(M::NewCredentialHelp),
        id = esc(f.id.as_str()),
        csrf = csrf_field(&viewer.csrf()),
        protocol = view::select("protocol", "protocol", t(M::Protocol), &view::same(&["est", "scep", "acme"]), ""),
        profile = view::select("profile", "profile", t(M::Profile), &view::same(&["pc", "router"]), ""),
        valid_for = view::input("valid_for", "valid_for", t(M::ValidFor), "7d", MAX_SHORT, ""),
        create = t(M::Create),
    );
    section("new-credential", t(M::NewCredential), inner)
}

/// The form that makes a PKCS#12 for a device, if the caller may.
fn pkcs12_form(viewer: &Viewer, f: &Facility) -> String {
    if !viewer.can(&Action::IssueDeviceKey(&f.id)) || !f.state.may_enroll() {
        return String::new();
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
    let inner = format!(
        "<p>{help}</p><form method=\"post\" action=\"/console/facilities/{id}/pkcs12\">{csrf}\
         {profile}{san}{vendor}<p><button type=\"submit\">{create}</button></p></form>",
        help = t(M::Pkcs12Help),
        id = esc(f.id.as_str()),
        csrf = csrf_field(&viewer.csrf()),
        profile = view::select("p12-profile", "profile", t(M::Profile), &view::same(&["router", "pc"]), ""),
        san = view::input("p12-san", "san", t(M::ExtraName), "", operations::MAX_NAME, ""),
        vendor = view::select("p12-vendor", "vendor", t(M::VendorOptional), &vendors, ""),
        create = t(M::Create),
    );
    section("pkcs12", t(M::Pkcs12), inner)
}

/// The PKCS#12 form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pkcs12Form {
    profile: String,
    san: Option<String>,
    vendor: Option<String>,
}

/// `POST /console/facilities/{id}/pkcs12`: the file as a download link and its passphrase, on this page
/// only (`Cache-Control: no-store`).
pub async fn pkcs12(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>, body: Body) -> Page {
    let form: Pkcs12Form = viewer.form("admin.device.issue", &id, body).await?;
    let fid = operations::authorize_device(&viewer.caller, &id).await.or_page(&viewer)?;
    let blank = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let request = operations::DeviceRequest { profile: form.profile, san: blank(form.san), vendor: blank(form.vendor) };
    let made = operations::issue_pkcs12(&state, &viewer.caller, &fid, &request).await.or_page(&viewer)?;
    let t = |m: M| m.text(viewer.lang);
    let data = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &made.file);
    let body = format!(
        "<div class=\"notice\" role=\"alert\"><p>{once}</p></div><dl><dt>{pp}</dt>\
         <dd><code class=\"secret\" id=\"p12-passphrase\">{pass}</code></dd><dt>{serial}</dt>\
         <dd><code id=\"p12-serial\">{sn}</code></dd><dt>{names}</dt><dd>{sans}</dd><dt>{exp}</dt><dd>{until}</dd></dl>\
         <p><a id=\"p12-download\" href=\"data:application/x-pkcs12;base64,{data}\" download=\"{file}.p12\">{dl}</a></p>\
         <p><a href=\"/console/facilities/{id}\">{back}</a></p>",
        once = t(M::PassphraseOnce),
        pp = t(M::Passphrase),
        pass = esc(made.passphrase.as_str()),
        serial = t(M::Serial),
        sn = esc(&made.record.serial),
        names = t(M::Names),
        sans = esc(&made.record.sans.join(", ")),
        exp = t(M::Expires),
        until = when(made.record.not_after),
        file = esc(&made.record.serial),
        dl = t(M::Download),
        id = esc(fid.as_str()),
        back = t(M::Back),
    );
    Ok(view::page(viewer.lang, viewer.principal(), StatusCode::CREATED, t(M::Pkcs12Made), &body))
}

/// The transition form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionForm {
    verb: String,
    reason: Option<String>,
}

/// `POST /console/facilities/{id}/transition` (operators).
pub async fn transition(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>, body: Body) -> Page {
    let form: TransitionForm = viewer.form("admin.facility.transition", &id, body).await?;
    let (fid, tr) = operations::authorize_transition(&viewer.caller, &id, &form.verb).await.or_page(&viewer)?;
    operations::transition(&state, &viewer.caller, &fid, tr, form.reason.as_deref()).await.or_page(&viewer)?;
    Ok(see_other(&format!("/console/facilities/{fid}")))
}

/// The credential form.
#[derive(Debug, Deserialize)]
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
        protocol: form.protocol,
        profiles: vec![form.profile],
        valid_for: form.valid_for.filter(|v| !v.trim().is_empty()),
    };
    let minted = operations::create_credential(&state, &viewer.caller, &fid, &request).await.or_page(&viewer)?;
    let t = |m: M| m.text(viewer.lang);
    let fields: String = minted
        .device_fields()
        .iter()
        .map(|(k, v)| format!("<dt>{k}</dt><dd><code class=\"secret\" id=\"cred-{k}\">{}</code></dd>", esc(v.as_str())))
        .collect();
    let endpoints = super::routers::endpoints(&state, &minted.record, &viewer.origin);
    let body = format!(
        "<div class=\"notice\" role=\"alert\"><p>{once}</p></div><dl>{fields}<dt>{exp}</dt><dd>{until}</dd></dl>\
         <h2>{ep}</h2>{endpoints}<p><a href=\"/console/facilities/{id}\">{back}</a></p>",
        once = t(M::ShownOnce),
        exp = t(M::Expires),
        until = when(minted.record.expires_at),
        ep = t(M::Endpoints),
        id = esc(fid.as_str()),
        back = t(M::Back),
    );
    Ok(view::page(viewer.lang, viewer.principal(), StatusCode::CREATED, t(M::CredentialMade), &body))
}

/// A form with nothing but its CSRF token.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

/// `POST /console/credentials/{id}/revoke`.
pub async fn revoke_credential(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    body: Body,
) -> Page {
    let _: Empty = viewer.form("admin.credential.revoke", "-", body).await?;
    let c = operations::revoke_credential(&state, &viewer.caller, &id).await.or_page(&viewer)?;
    Ok(see_other(&format!("/console/facilities/{}", c.facility)))
}

/// The certificate revocation form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeForm {
    reason: Option<String>,
}

/// `POST /console/certificates/{serial}/revoke`.
pub async fn revoke_certificate(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(serial): Path<String>,
    body: Body,
) -> Page {
    let form: RevokeForm = viewer.form("admin.certificate.revoke", "-", body).await?;
    let c = operations::revoke_certificate(&state, &viewer.caller, &serial, form.reason.as_deref())
        .await
        .or_page(&viewer)?;
    let back = c.facility.map(|f| format!("/console/facilities/{f}")).unwrap_or_else(|| "/console/".into());
    Ok(see_other(&back))
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
        None => String::new(),
        Some(list) => cert_rows(viewer.lang, &list.or_page(&viewer)?),
    };
    let body = format!(
        "<form method=\"get\" action=\"/console/certificates\" role=\"search\">{q}\
         <p><button type=\"submit\">{s}</button></p></form>{results}",
        q = view::input("q", "q", t(M::SerialOrFacility), text.unwrap_or(""), 64, ""),
        s = t(M::Search),
    );
    Ok(view::page(viewer.lang, viewer.principal(), StatusCode::OK, t(M::Certificates), &body))
}

fn cert_rows(lang: Lang, list: &[CertificateRecord]) -> String {
    let t = |m: M| m.text(lang);
    if list.is_empty() {
        return format!("<p>{}</p>", t(M::NoneFound));
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|c| {
            let facility = c
                .facility
                .as_ref()
                .map(|f| format!("<a href=\"/console/facilities/{f}\">{f}</a>", f = esc(f.as_str())))
                .unwrap_or_default();
            vec![
                format!("<code>{}</code>", esc(&c.serial)),
                facility,
                esc(&c.profile),
                esc(&c.subject),
                badge(c.status.as_str()),
                when(c.not_after),
            ]
        })
        .collect();
    table(
        t(M::Certificates),
        &[t(M::Serial), t(M::Facility), t(M::Profile), t(M::Subject), t(M::Status), t(M::Expires)],
        &rows,
    )
}
