//! Job pages (D38): the list of long operations and one job's progress, which refreshes itself with
//! `<meta http-equiv="refresh">` while the job works (no JavaScript), and resume / cancel. Progress is read
//! from the database, so any replica shows it; a job whose worker died shows as interrupted and can be resumed
//! here, on whichever replica serves the request. Operators run jobs; auditors may watch them.

use super::i18n::M;
use super::view::{self, badge, csrf_field, table, when};
use super::{OrPage, Viewer, see_other};
use crate::html::esc;
use crate::http::AppState;
use crate::http::api_error::ApiError;
use crate::jobs::{self, Kind, import};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_ca::access::Action;
use hcpki_ca::store::{JobRecord, JobState};
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
    let all = state.admin.store().list_jobs(ROWS).await.map_err(|e| store_error(&viewer, &e))?;
    let now = hcpki_ca::time::now_unix();
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|j| {
            vec![
                format!("<a href=\"/console/jobs/{id}\">{id}</a>", id = esc(&j.id)),
                esc(&j.kind),
                badge(jobs::shown_state(j, now)),
                format!("{} / {}", j.done, j.total),
                j.failed.to_string(),
                esc(&j.started_by),
                when(j.created_at),
            ]
        })
        .collect();
    let mut body = String::new();
    if viewer.can(&Action::RunJobs) {
        body.push_str(&format!(
            "<p><a href=\"/console/import\">{}</a> · <a href=\"/console/reissue\">{}</a></p>",
            t(M::Import),
            t(M::Reissue)
        ));
    }
    if rows.is_empty() {
        body.push_str(&format!("<p>{}</p>", t(M::NoneFound)));
    } else {
        let head = [
            t(M::Job),
            t(M::JobKind),
            t(M::State),
            t(M::Progress),
            t(M::FailedCount),
            t(M::StartedBy),
            t(M::JobStarted),
        ];
        body.push_str(&table(t(M::Jobs), &head, &rows));
    }
    Ok(view::page(viewer.lang, viewer.principal(), StatusCode::OK, t(M::Jobs), &body))
}

/// `GET /console/jobs/{id}`: progress, then the result.
pub async fn show(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Page {
    viewer.caller.may(Action::ReadJobs).await.or_page(&viewer)?;
    let job = find(&state, &viewer, &id, "admin.job.read").await?;
    let t = |m: M| m.text(viewer.lang);
    let now = hcpki_ca::time::now_unix();
    let shown = jobs::shown_state(&job, now);
    let working = matches!(shown, "queued" | "running") && !(job.state == JobState::Queued && job.note.is_some());
    let mut body = String::new();
    if working {
        // A meta refresh inside <main> is honoured by browsers; the page needs no script.
        body.push_str(&format!(
            "<meta http-equiv=\"refresh\" content=\"{REFRESH_SECS}\"><p role=\"status\">{}</p>",
            t(M::Refreshing)
        ));
    }
    if shown == "interrupted" {
        body.push_str(&format!("<div class=\"error\" role=\"alert\"><p>{}</p></div>", t(M::Interrupted)));
    }
    let finished = job.done + job.failed;
    body.push_str(&format!(
        "<dl><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd><progress max=\"{total}\" value=\"{finished}\">\
         {finished} / {total}</progress> {finished} / {total}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd>\
         <dt>{}</dt><dd>{} ({})</dd></dl>",
        t(M::JobKind),
        esc(&job.kind),
        t(M::State),
        badge(shown),
        t(M::Progress),
        t(M::DoneCount),
        job.done,
        t(M::FailedCount),
        job.failed,
        t(M::StartedBy),
        esc(&job.started_by),
        when(job.created_at),
        total = job.total,
    ));
    if let Some(note) = &job.note {
        body.push_str(&format!("<p>{}</p>", esc(note)));
    }
    if viewer.can(&Action::RunJobs) {
        let csrf = csrf_field(&viewer.csrf());
        if job.state == JobState::Queued || shown == "interrupted" {
            body.push_str(&format!(
                "<form method=\"post\" action=\"/console/jobs/{id}/resume\">{csrf}<button>{}</button></form>",
                t(M::ResumeJob),
                id = esc(&job.id)
            ));
        }
        if matches!(job.state, JobState::Queued | JobState::Running) {
            body.push_str(&format!(
                "<form method=\"post\" action=\"/console/jobs/{id}/cancel\">{csrf}<button>{}</button></form>",
                t(M::CancelJob),
                id = esc(&job.id)
            ));
        }
    }
    body.push_str(&results(&state, &viewer, &job).await?);
    let title = format!("{} {}", t(M::Job), job.id);
    Ok(view::page(viewer.lang, viewer.principal(), StatusCode::OK, &title, &body))
}

/// The failed and finished items (and, for an import, the rows refused before it started).
async fn results(state: &AppState, viewer: &Viewer, job: &JobRecord) -> Result<String, Response> {
    let t = |m: M| m.text(viewer.lang);
    let store = state.admin.store();
    let mut html = String::new();
    if job.kind == Kind::FacilityImport.as_str() {
        let refused = import::refusals(&job.params);
        if !refused.is_empty() {
            let rows: Vec<Vec<String>> = refused.iter().map(|r| vec![r.line.to_string(), esc(&r.why)]).collect();
            html.push_str(&table(t(M::BadRows), &[t(M::Line), t(M::Error)], &rows));
        }
    }
    let item = if job.kind == Kind::CertReissue.as_str() { t(M::Serial) } else { t(M::Line) };
    let result = if job.kind == Kind::CertReissue.as_str() { t(M::Successor) } else { t(M::ResultCol) };
    for (wanted, caption) in [("failed", t(M::FailedCount)), ("skipped", "skipped"), ("done", t(M::DoneCount))] {
        let items = store.job_items(&job.id, Some(wanted), -1, ROWS).await.map_err(|e| store_error(viewer, &e))?;
        if items.is_empty() {
            continue;
        }
        let rows: Vec<Vec<String>> = items
            .iter()
            .map(|i| {
                let outcome = i.error.as_deref().or(i.result.as_deref()).unwrap_or("");
                // A successor's download links: what to hand a device without an enrollment client.
                let links = match (&i.result, job.kind == Kind::CertReissue.as_str() && i.error.is_none()) {
                    (Some(serial), true) => super::download::links(serial),
                    _ => String::new(),
                };
                vec![esc(&i.key), badge(&i.state), format!("{}{links}", esc(outcome))]
            })
            .collect();
        html.push_str(&table(caption, &[item, t(M::Status), result], &rows));
    }
    Ok(html)
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
    let now = hcpki_ca::time::now_unix();
    if !(job.state == JobState::Queued || job.interrupted(now - jobs::STALE_SECS)) {
        let e = ApiError::new(
            StatusCode::CONFLICT,
            "job not resumable",
            format!("job {id} is {}: only a stopped or interrupted job can be resumed", jobs::shown_state(&job, now)),
        );
        return Err(viewer.refusal(&viewer.caller.refuse("admin.job.run", &id, e).await));
    }
    jobs::spawn(state.admin.clone(), id.clone(), viewer.caller.actor());
    Ok(see_other(&format!("/console/jobs/{id}")))
}

/// `POST /console/jobs/{id}/cancel`: stop it; items not yet done stay undone (audited `job.cancel`).
pub async fn cancel(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>, body: Body) -> Page {
    viewer.caller.may(Action::RunJobs).await.or_page(&viewer)?;
    let _: Empty = viewer.form("admin.job.run", &id, body).await?;
    let store = state.admin.store();
    let changed = store
        .end_job(
            &id,
            None,
            JobState::Cancelled,
            Some("cancelled from the console"),
            &viewer.caller.actor(),
            hcpki_ca::time::now_unix_ms(),
        )
        .await
        .map_err(|e| store_error(&viewer, &e))?;
    if !changed {
        let e = ApiError::new(StatusCode::CONFLICT, "job not running", format!("job {id} has ended or does not exist"));
        return Err(viewer.refusal(&viewer.caller.refuse("admin.job.run", &id, e).await));
    }
    Ok(see_other(&format!("/console/jobs/{id}")))
}

async fn find(state: &AppState, viewer: &Viewer, id: &str, action: &str) -> Result<JobRecord, Response> {
    match state.admin.store().job(id).await {
        Ok(Some(j)) => Ok(j),
        Ok(None) => {
            let e = ApiError::new(StatusCode::NOT_FOUND, "no such job", format!("no job {id}: see the jobs page"));
            Err(viewer.refusal(&viewer.caller.refuse(action, id, e).await))
        }
        Err(e) => Err(store_error(viewer, &e)),
    }
}

/// A database failure as a 503 page (logged with its cause).
pub fn store_error(viewer: &Viewer, e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "console job page: store failed");
    let e = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "database unavailable", "try again in a moment".to_owned());
    viewer.refusal(&e)
}
