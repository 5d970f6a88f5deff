//! The console's bulk re-issue (D38), operators only: choose certificates by CA, profile, facility, issue date
//! and expiry, see the list (the CLI's `--dry-run`), start the job, and watch it on its job page. The
//! selection and the work are `crate::jobs::reissue`, the code `hcpki cert reissue` runs.

use super::i18n::M;
use super::problem::Problem;
use super::view::{self, csrf_field, input, select, table};
use super::{OrPage, Viewer, see_other};
use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::jobs::{self, Kind, reissue};
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_ca::access::Action;
use maud::{Markup, html};
use serde::Deserialize;

type Page = Result<Response, Response>;

const ACTION: &str = "admin.job.run";
/// Most certificates the preview lists (the job takes them all).
const PREVIEW_ROWS: usize = 500;

/// The selection form's fields (empty = any).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReissueForm {
    ca: Option<String>,
    profile: Option<String>,
    facility: Option<String>,
    /// `YYYY-MM-DD` (UTC).
    issued_before: Option<String>,
    /// Days.
    expiring_within: Option<String>,
    revoke_old: Option<String>,
}

/// `GET /console/reissue`.
pub async fn form(viewer: Viewer) -> Page {
    viewer.caller.may(Action::RunJobs).await.or_page(&viewer)?;
    Ok(form_page(&viewer, &ReissueForm::default(), None))
}

/// The selection form with `f` in its fields and, after a refusal, what to fix (in the operator's words, issue
/// #45 item 1) and the status to answer with.
fn form_page(viewer: &Viewer, f: &ReissueForm, problem: Option<(M, StatusCode)>) -> Response {
    let t = |m: M| m.text(viewer.lang);
    let body = html! {
        @if let Some((words, _)) = problem {
            div class="error" role="alert" id="problem" { p { (t(words)) " " (t(M::NothingStarted)) } }
        }
        p { (t(M::ReissueHelp)) }
        form method="post" action="/console/reissue" {
            (csrf_field(&viewer.csrf()))
            (fields(viewer, f))
        }
    };
    let status = problem.map_or(StatusCode::OK, |(_, s)| s);
    view::page(viewer.lang, viewer.principal(), status, t(M::Reissue), body)
}

/// `POST /console/reissue`: what would be re-issued, and the button that starts it.
pub async fn preview(State(state): State<AppState>, viewer: Viewer, body: Body) -> Page {
    let (f, selection) = read(&viewer, body).await?;
    let t = |m: M| m.text(viewer.lang);
    let chosen = match reissue::select(&state.admin, &selection).await {
        Ok(c) => c,
        Err(e) => return Err(refuse_selection(&viewer, &f, &e).await),
    };
    let rows: Vec<Vec<Markup>> = chosen
        .iter()
        .take(PREVIEW_ROWS)
        .map(|c| {
            vec![
                html! { (c.serial) },
                html! { (c.ca) },
                html! { (super::labels::profile(c.profile, viewer.lang)) },
                html! { (c.facility.as_ref().map_or("-", |f| f.as_str())) },
                html! { (c.subject) },
                view::jst(c.not_after, viewer.lang),
            ]
        })
        .collect();
    let head = [t(M::Serial), t(M::CaCol), t(M::Profile), t(M::Facility), t(M::Subject), t(M::Expires)];
    let body = html! {
        p { (t(M::WouldReissue)) ": " (chosen.len()) }
        @if !rows.is_empty() {
            (table(t(M::WouldReissue), &head, &rows))
            form method="post" action="/console/reissue/run" {
                (csrf_field(&viewer.csrf()))
                (hidden_fields(&f))
                button { (t(M::StartReissue)) }
            }
        }
    };
    Ok(view::page(viewer.lang, viewer.principal(), StatusCode::OK, t(M::Reissue), body))
}

/// `POST /console/reissue/run`: choose again (certificates may have changed since the preview), start the job,
/// and show its page.
pub async fn run(State(state): State<AppState>, viewer: Viewer, body: Body) -> Page {
    let (f, selection) = read(&viewer, body).await?;
    let chosen = match reissue::select(&state.admin, &selection).await {
        Ok(c) => c,
        Err(e) => return Err(refuse_selection(&viewer, &f, &e).await),
    };
    if chosen.is_empty() {
        let e =
            ApiError::new(StatusCode::CONFLICT, "nothing to re-issue", "no certificate matches any more".to_owned());
        viewer.caller.refuse(ACTION, "-", e).await;
        return Err(form_page(&viewer, &f, Some((M::ReissueNothingLeft, StatusCode::CONFLICT))));
    }
    let (params, items) = reissue::job_parts(&selection, &chosen);
    let actor = viewer.caller.actor();
    let job = jobs::create(&state.admin, Kind::CertReissue, params, items, &actor)
        .await
        .map_err(|e| super::jobs::store_error(&viewer, &e))?;
    jobs::spawn(state.admin.clone(), job.id.clone(), actor);
    Ok(see_other(&format!("/console/jobs/{}", job.id)))
}

/// The selection's fields, to choose.
fn fields(viewer: &Viewer, f: &ReissueForm) -> Markup {
    let t = |m: M| m.text(viewer.lang);
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    let (ca, profile, facility) = (v(&f.ca), v(&f.profile), v(&f.facility));
    let (issued_before, expiring_within) = (v(&f.issued_before), v(&f.expiring_within));
    let cas = [("", t(M::AnyCa)), ("router", "router"), ("pc", "pc"), ("server", "server")];
    let profiles = [("", t(M::AnyProfile)), ("router", "router"), ("pc", "pc"), ("server", "server")];
    html! {
        (select("ca", "ca", t(M::CaCol), &cas, &ca))
        (select("profile", "profile", t(M::Profile), &profiles, &profile))
        (input("facility", "facility", t(M::Facility), &facility, 32))
        (input("issued_before", "issued_before", t(M::IssuedBefore), &issued_before, 10).date())
        (input("expiring_within", "expiring_within", t(M::ExpiringWithin), &expiring_within, 5).numeric())
        p {
            input type="checkbox" id="revoke_old" name="revoke_old" value="1";
            label for="revoke_old" { (t(M::RevokeOld)) }
        }
        button { (t(M::Preview)) }
    }
}

/// The selection's fields, hidden, to carry the choice to the start button.
fn hidden_fields(f: &ReissueForm) -> Markup {
    let pairs = [
        ("ca", &f.ca),
        ("profile", &f.profile),
        ("facility", &f.facility),
        ("issued_before", &f.issued_before),
        ("expiring_within", &f.expiring_within),
    ];
    html! {
        @for (name, value) in pairs { input type="hidden" name=(name) value=(value.as_deref().unwrap_or("")); }
        @if f.revoke_old.is_some() { input type="hidden" name="revoke_old" value="1"; }
    }
}

/// The form, authorized, as a selection; malformed fields are a 400 naming the field.
async fn read(viewer: &Viewer, body: Body) -> Result<(ReissueForm, reissue::Selection), Response> {
    viewer.caller.may(Action::RunJobs).await.or_page(viewer)?;
    let f: ReissueForm = viewer.form(ACTION, "-", body).await?;
    let blank = |o: &Option<String>| o.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let bad = |detail: String, words: M| {
        let f = &f;
        async move {
            let e = ApiError::bad_request("invalid selection", detail);
            viewer.caller.refuse(ACTION, "-", e).await;
            form_page(viewer, f, Some((words, StatusCode::BAD_REQUEST)))
        }
    };
    let issued_before = match blank(&f.issued_before) {
        None => None,
        Some(d) => match hcpki_pkix::time::parse_rfc3339(&format!("{d}T00:00:00Z")) {
            Some(t) => Some(t),
            None => {
                let detail = format!("issued_before {d:?}: give a date as YYYY-MM-DD");
                return Err(bad(detail, M::ReissueBadDate).await);
            }
        },
    };
    // Full-width digits typed through an IME are the same days (issue #45 item 4).
    let expiring_within_days = match blank(&f.expiring_within).map(|d| crate::typed_input::digits(&d)) {
        None => None,
        Some(d) => match d.parse::<i64>() {
            Ok(n) if (1..=36_500).contains(&n) => Some(n),
            _ => {
                let detail = format!("expiring_within {d:?}: give a number of days from 1 to 36500");
                return Err(bad(detail, M::ReissueBadDays).await);
            }
        },
    };
    let selection = reissue::Selection {
        ca: blank(&f.ca),
        profile: blank(&f.profile),
        facility: blank(&f.facility),
        issued_before,
        expiring_within_days,
        revoke_old: f.revoke_old.is_some(),
    };
    Ok((f, selection))
}

/// A selection the job code refused: audited in its words, the form again in the operator's.
async fn refuse_selection(viewer: &Viewer, f: &ReissueForm, e: &reissue::SelectionError) -> Response {
    use reissue::SelectionError as E;
    let words = match e {
        E::Ca(_) => M::ReissueBadCa,
        E::Profile(_) => M::ReissueBadProfile,
        E::Facility(_) => M::ReissueBadFacility,
        E::Unbounded => M::ReissueUnbounded,
        _ => {
            return viewer.refused(Problem::Unavailable, ACTION, "-", ApiError::unavailable(e)).await;
        }
    };
    viewer.caller.refuse(ACTION, "-", ApiError::bad_request("invalid selection", e.to_string())).await;
    form_page(viewer, f, Some((words, StatusCode::BAD_REQUEST)))
}
