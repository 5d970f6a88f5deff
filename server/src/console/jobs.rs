//! Job pages (D38): the list of long operations and one job's progress, which refreshes itself with
//! `<meta http-equiv="refresh">` while the job works (no JavaScript), and resume / cancel. Progress is read
//! from the database, so any replica shows it; a job whose worker died shows as interrupted and can be resumed
//! here, on whichever replica serves the request. Operators run jobs; auditors may watch them.

use super::i18n::{Lang, M};
use super::problem::Problem;
use super::view::{self, badge, csrf_field, table, table_or_none};
use super::{OrPage, Viewer, see_other};
use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::jobs::{self, Kind, import};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_ca::access::Action;
use hcpki_ca::store::{JobRecord, JobState};
use hcpki_model::JobId;
use maud::{Markup, html};
use serde::Deserialize;

type Page = Result<Response, Response>;

/// Most jobs the list shows; most items of one state a job page lists.
const ROWS: i64 = 200;
/// Seconds between refreshes of a working job's page.
const REFRESH_SECS: u32 = 2;

/// `GET /console/jobs`: the newest jobs.
pub async fn list(State(state): State<AppState>, viewer: Viewer) -> Page {
    viewer.caller.may(Action::ReadJobs).await.or_page(&viewer)?;
    let t = |m: M| m.text(viewer.lang);
    let all = state.admin.jobs().list_jobs(ROWS).await.map_err(|e| store_error(&viewer, &e))?;
    let now = state.clock.now();
    let rows: Vec<Vec<Markup>> = all
        .iter()
        .map(|j| {
            vec![
                html! { a href={ "/console/jobs/" (j.id) } { (j.id) } },
                html! { (j.kind) },
                badge(jobs::shown_state(j, now)),
                html! { (j.done) " / " (j.total) },
                html! { (j.failed) },
                html! { (j.started_by) },
                view::jst(j.created_at, viewer.lang),
            ]
        })
        .collect();
    let head =
        [t(M::Job), t(M::JobKind), t(M::State), t(M::Progress), t(M::FailedCount), t(M::StartedBy), t(M::JobStarted)];
    let body = html! {
        @if viewer.can(&Action::RunJobs) {
            p { a href="/console/import" { (t(M::Import)) } " · " a href="/console/reissue" { (t(M::Reissue)) } }
        }
        (table_or_none(viewer.lang, t(M::Jobs), &head, &rows))
    };
    Ok(view::page(viewer.lang, viewer.principal(), StatusCode::OK, t(M::Jobs), body))
}

/// `GET /console/jobs/{id}`: progress, then the result.
pub async fn show(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Page {
    viewer.caller.may(Action::ReadJobs).await.or_page(&viewer)?;
    let job = find(&state, &viewer, &id, "admin.job.read").await?;
    let t = |m: M| m.text(viewer.lang);
    let now = state.clock.now();
    let shown = jobs::shown_state(&job, now);
    let working = matches!(shown, "queued" | "running") && !(job.state == JobState::Queued && job.note.is_some());
    let interrupted = shown == "interrupted";
    let run = viewer.can(&Action::RunJobs);
    let resumable = run && (job.state == JobState::Queued || interrupted);
    let cancellable = run && matches!(job.state, JobState::Queued | JobState::Running);
    let csrf = if run { viewer.csrf() } else { String::new() };
    let finished = job.done + job.failed;
    let results = results(&state, &viewer, &job).await?;
    let body = html! {
        @if working {
            // A meta refresh inside <main> is honoured by browsers; the page needs no script.
            meta http-equiv="refresh" content=(REFRESH_SECS);
            p role="status" { (t(M::Refreshing)) }
        }
        @if interrupted { div class="error" role="alert" { p { (t(M::Interrupted)) } } }
        dl {
            dt { (t(M::JobKind)) } dd { (job.kind) }
            dt { (t(M::State)) } dd { (badge(shown)) }
            dt { (t(M::Progress)) }
            dd {
                progress max=(job.total) value=(finished) { (finished) " / " (job.total) }
                " " (finished) " / " (job.total)
            }
            dt { (t(M::DoneCount)) } dd { (job.done) }
            dt { (t(M::FailedCount)) } dd { (job.failed) }
            dt { (t(M::StartedBy)) } dd { (job.started_by) " (" (view::jst(job.created_at, viewer.lang)) ")" }
        }
        @if let Some(note) = &job.note {
            @match jobs::Note::read(note) {
                Some(jobs::Note::StoppedAfter) => p { (t(M::JobStoppedAfter)) },
                Some(jobs::Note::PausedHalted) => p { (t(M::JobPausedHalted)) },
                None => p { (note) },
            }
        }
        @if resumable {
            form method="post" action={ "/console/jobs/" (job.id) "/resume" } {
                (csrf_field(&csrf)) button { (t(M::ResumeJob)) }
            }
        }
        @if cancellable {
            form method="post" action={ "/console/jobs/" (job.id) "/cancel" } {
                (csrf_field(&csrf)) button { (t(M::CancelJob)) }
            }
        }
        (results)
    };
    let title = format!("{} {}", t(M::Job), job.id);
    Ok(view::page(viewer.lang, viewer.principal(), StatusCode::OK, &title, body))
}

/// The failed and finished items (and, for an import, the rows refused before it started).
async fn results(state: &AppState, viewer: &Viewer, job: &JobRecord) -> Result<Markup, Response> {
    let t = |m: M| m.text(viewer.lang);
    let store = state.admin.jobs();
    let mut tables = Vec::new();
    if job.kind == Kind::FacilityImport.as_str() {
        let refused = import::refusals(&job.params);
        if !refused.is_empty() {
            tables.push(refusal_table(viewer.lang, &refused));
        }
    }
    let reissue = job.kind == Kind::CertReissue.as_str();
    let item = if reissue { t(M::Serial) } else { t(M::Line) };
    let result = if reissue { t(M::Successor) } else { t(M::ResultCol) };
    for (wanted, caption) in [("failed", t(M::FailedCount)), ("skipped", "skipped"), ("done", t(M::DoneCount))] {
        let items = store.job_items(&job.id, Some(wanted), -1, ROWS).await.map_err(|e| store_error(viewer, &e))?;
        if items.is_empty() {
            continue;
        }
        let rows: Vec<Vec<Markup>> = items
            .iter()
            .map(|i| {
                let outcome = i.error.as_deref().or(i.result.as_deref()).unwrap_or("");
                // A successor's download links: what to hand a device without an enrollment client.
                let links = i.result.as_deref().filter(|_| reissue && i.error.is_none()).map(super::download::links);
                vec![html! { (i.key) }, badge(&i.state), html! { (outcome) @if let Some(l) = links { (l) } }]
            })
            .collect();
        tables.push(table(caption, &[item, t(M::Status), result], &rows));
    }
    Ok(html! { @for part in &tables { (part) } })
}

/// The rows of a CSV import refused by its check, by line.
pub fn refusal_table(lang: Lang, refused: &[import::Refusal]) -> Markup {
    let rows: Vec<Vec<Markup>> = refused.iter().map(|r| vec![html! { (r.line) }, html! { (r.why) }]).collect();
    table(M::BadRows.text(lang), &[M::Line.text(lang), M::Error.text(lang)], &rows)
}

/// The (empty) form of resume and cancel: the CSRF token only.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

/// `POST /console/jobs/{id}/resume`: claim an interrupted or stopped job on this replica and run it.
pub async fn resume(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>, body: Body) -> Page {
    viewer.caller.may(Action::RunJobs).await.or_page(&viewer)?;
    let _: Empty = viewer.form("admin.job.run", &id, body).await?;
    let job = find(&state, &viewer, &id, "admin.job.run").await?;
    let now = state.clock.now();
    if !(job.state == JobState::Queued || job.interrupted(now.minus(jobs::STALE))) {
        let e = ApiError::new(
            StatusCode::CONFLICT,
            "job not resumable",
            format!("job {id} is {}: only a stopped or interrupted job can be resumed", jobs::shown_state(&job, now)),
        );
        return Err(viewer.refused(Problem::JobNotResumable, "admin.job.run", &id, e).await);
    }
    jobs::spawn(state.admin.clone(), job.id, viewer.caller.actor());
    Ok(see_other(&format!("/console/jobs/{id}")))
}

/// `POST /console/jobs/{id}/cancel`: stop it; items not yet done stay undone (audited `job.cancel`).
pub async fn cancel(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>, body: Body) -> Page {
    viewer.caller.may(Action::RunJobs).await.or_page(&viewer)?;
    let _: Empty = viewer.form("admin.job.run", &id, body).await?;
    // A malformed ID names no job: refused as one that does not exist.
    let changed = match JobId::parse(&id) {
        Ok(job_id) => state
            .admin
            .jobs()
            .end_job(
                &job_id,
                None,
                JobState::Cancelled,
                Some("cancelled from the console"),
                &viewer.caller.actor(),
                state.clock.now(),
            )
            .await
            .map_err(|e| store_error(&viewer, &e))?,
        Err(_) => false,
    };
    if !changed {
        let e = ApiError::new(StatusCode::CONFLICT, "job not running", format!("job {id} has ended or does not exist"));
        return Err(viewer.refused(Problem::JobNotRunning, "admin.job.run", &id, e).await);
    }
    Ok(see_other(&format!("/console/jobs/{id}")))
}

async fn find(state: &AppState, viewer: &Viewer, id: &str, action: &str) -> Result<JobRecord, Response> {
    // A malformed ID names no job: refused as an unknown one.
    let found = match JobId::parse(id) {
        Ok(job_id) => state.admin.jobs().job(&job_id).await,
        Err(_) => Ok(None),
    };
    match found {
        Ok(Some(j)) => Ok(j),
        Ok(None) => {
            let e = ApiError::new(StatusCode::NOT_FOUND, "no such job", format!("no job {id}: see the jobs page"));
            Err(viewer.refused(Problem::NoSuchJob, action, id, e).await)
        }
        Err(e) => Err(store_error(viewer, &e)),
    }
}

/// A database failure as a 503 page (logged with its cause).
pub fn store_error(viewer: &Viewer, e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "console job page: store failed");
    viewer.refusal(Problem::Unavailable)
}
