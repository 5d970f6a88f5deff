//! The console's facility import (D29, D38), operators only: paste the CSV, see every row's check first, then
//! choose "import only the valid rows" or "import nothing" (or "import all" when no row is bad); the import
//! runs as a job whose page shows its progress. The check and the import are `crate::jobs::import`, the code
//! `hcpki facility import` runs. The CSV travels back in the choice form and is checked again on submit: the
//! server keeps nothing between the two requests and trusts nothing of the first.

use super::i18n::M;
use super::view::{self, csrf_field};
use super::{OrPage, Viewer, see_other};
use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::jobs::{self, Kind, import};
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_ca::access::Action;
use maud::html;
use serde::Deserialize;

type Page = Result<Response, Response>;

/// Largest CSV the console takes (about 20,000 rows); larger files go through `hcpki facility import`.
pub const MAX_CSV_BYTES: usize = 2 * 1024 * 1024;
/// The form around the CSV: the CSRF token, the choice, URL-encoding's growth of Japanese text (×3).
const MAX_BODY_BYTES: usize = MAX_CSV_BYTES * 3 + 4096;
const ACTION: &str = "admin.job.run";

/// The import form's fields.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportForm {
    csv: String,
    approve: Option<String>,
    /// `all`, `valid` or `none` (the choice after the check).
    mode: Option<String>,
}

/// `GET /console/import`.
pub async fn form(viewer: Viewer) -> Page {
    viewer.caller.may(Action::RunJobs).await.or_page(&viewer)?;
    Ok(form_page(&viewer, "", false, None))
}

/// The import form with `csv` in it and, after a refusal, what to fix and the refusal's own detail (issue #45
/// item 1): `(words, detail, status)`.
fn form_page(viewer: &Viewer, csv: &str, approve: bool, problem: Option<(M, &str, StatusCode)>) -> Response {
    let t = |m: M| m.text(viewer.lang);
    let body = html! {
        @if let Some((words, detail, _)) = problem {
            div class="error" role="alert" id="problem" {
                p { (t(words)) " " (t(M::NothingImported)) }
                @if !detail.is_empty() { p { small { (t(M::Detail)) " " (detail) } } }
            }
        }
        p { (t(M::ImportHelp)) }
        form method="post" action="/console/import" {
            (csrf_field(&viewer.csrf()))
            label for="csv" { (t(M::CsvText)) }
            textarea id="csv" name="csv" rows="16" cols="80" required autofocus[problem.is_some()] { (csv) }
            p {
                input type="checkbox" id="approve" name="approve" value="1" checked[approve];
                label for="approve" { (t(M::ApproveEach)) }
            }
            button { (t(M::Check)) }
        }
    };
    let status = problem.map_or(StatusCode::OK, |(_, _, s)| s);
    view::page(viewer.lang, viewer.principal(), status, t(M::Import), body)
}

/// `POST /console/import`: the row-by-row report and the choice.
pub async fn check(viewer: Viewer, body: Body) -> Page {
    let (f, good, refused) = read(&viewer, body).await?;
    let t = |m: M| m.text(viewer.lang);
    let choices: &[(&str, M)] = match (good.is_empty(), refused.is_empty()) {
        (true, _) => &[("none", M::ImportNone)],
        (false, true) => &[("all", M::ImportAll), ("none", M::ImportNone)],
        (false, false) => &[("valid", M::ImportValid), ("none", M::ImportNone)],
    };
    let body = html! {
        h2 { (t(M::CheckReport)) }
        p { (t(M::ValidRows)) ": " (good.len()) }
        @if !refused.is_empty() { (super::jobs::refusal_table(viewer.lang, &refused)) }
        @for (mode, label) in choices {
            form method="post" action="/console/import/run" {
                (csrf_field(&viewer.csrf()))
                input type="hidden" name="csv" value=(f.csv);
                @if f.approve.is_some() { input type="hidden" name="approve" value="1"; }
                input type="hidden" name="mode" value=(mode);
                button { (t(*label)) }
            }
        }
    };
    Ok(view::page(viewer.lang, viewer.principal(), StatusCode::OK, t(M::Import), body))
}

/// `POST /console/import/run`: import as chosen (checked again), as a job; then its page.
pub async fn run(State(state): State<AppState>, viewer: Viewer, body: Body) -> Page {
    let (f, good, refused) = read(&viewer, body).await?;
    let t = |m: M| m.text(viewer.lang);
    let mode = f.mode.as_deref().unwrap_or("none");
    let go = match mode {
        "all" if refused.is_empty() => true,
        "valid" => true,
        "none" => false,
        _ => {
            let e = ApiError::bad_request(
                "invalid choice",
                "some rows are bad: choose \"import only the valid rows\" or \"import nothing\"",
            );
            viewer.caller.refuse(ACTION, "-", e).await;
            let problem = Some((M::ImportChooseAgain, "", StatusCode::BAD_REQUEST));
            return Err(form_page(&viewer, &f.csv, f.approve.is_some(), problem));
        }
    };
    if !go || good.is_empty() {
        let body = html! {
            p role="status" { (t(M::NothingImported)) }
            p { a href="/console/import" { (t(M::Import)) } }
        };
        return Ok(view::page(viewer.lang, viewer.principal(), StatusCode::OK, t(M::Import), body));
    }
    let (params, items) = import::job_parts("console", &good, &refused, f.approve.is_some());
    let actor = viewer.caller.actor();
    let job = jobs::create(&state.admin, Kind::FacilityImport, params, items, &actor)
        .await
        .map_err(|e| super::jobs::store_error(&viewer, &e))?;
    jobs::spawn(state.admin.clone(), job.id.clone(), actor);
    Ok(see_other(&format!("/console/jobs/{}", job.id)))
}

/// The form, authorized and checked: the fields, the good rows and the refused ones. A file the import cannot
/// read at all (its header) is a 400 naming the problem.
async fn read(
    viewer: &Viewer,
    body: Body,
) -> Result<(ImportForm, Vec<import::Checked>, Vec<import::Refusal>), Response> {
    viewer.caller.may(Action::RunJobs).await.or_page(viewer)?;
    let hint = format!(
        "the CSV is larger than the console takes ({} MiB): split it, or use `hcpki facility import --csv`",
        MAX_CSV_BYTES / (1024 * 1024)
    );
    let f: ImportForm = viewer.form_limited(ACTION, "-", body, MAX_BODY_BYTES, &hint, Some(M::CsvSplit)).await?;
    if f.csv.len() > MAX_CSV_BYTES {
        let e = ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "CSV too large", hint);
        viewer.caller.refuse(ACTION, "-", e).await;
        // Too large to send back: the form empty, and the page says so.
        let problem = Some((M::CsvTooLarge, "", StatusCode::PAYLOAD_TOO_LARGE));
        return Err(form_page(viewer, "", f.approve.is_some(), problem));
    }
    match import::parse(f.csv.as_bytes()) {
        Ok((good, refused)) => Ok((f, good, refused)),
        Err(e) => {
            let detail = e.to_string();
            viewer.caller.refuse(ACTION, "-", ApiError::bad_request("CSV refused", detail.clone())).await;
            let problem = Some((M::CsvUnreadable, detail.as_str(), StatusCode::BAD_REQUEST));
            Err(form_page(viewer, &f.csv, f.approve.is_some(), problem))
        }
    }
}
