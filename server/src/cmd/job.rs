//! `hcpki job …` and `hcpki cert reissue`: long operations from the CLI (D38), with an `indicatif` progress
//! bar on a terminal (hidden otherwise, so scripts and logs get only the summary).

use crate::args::value;
use crate::jobs::{self, Kind, RunLimit, reissue};
use anyhow::{Result, bail};
use clap::Args;
use clap::Subcommand;
use hcpki_ca::Authority;
use hcpki_ca::CaName;
use hcpki_ca::facility::FacilityId;
use hcpki_ca::profile::ProfileKind;
use hcpki_ca::store::{JobItem, JobRecord, JobState};
use hcpki_model::JobId;
use hcpki_pkix::time::UnixTime;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct ReissueArgs {
    /// Only certificates of this CA.
    #[arg(long, value_parser = value::ca())]
    pub ca: Option<CaName>,
    /// Only this profile (only device certificates are re-issued: router, pc and server).
    #[arg(long, value_parser = value::profile())]
    pub profile: Option<ProfileKind>,
    /// Only this facility.
    #[arg(long)]
    pub facility: Option<FacilityId>,
    /// Only certificates issued before this RFC 3339 time (e.g. the CA key's rollover).
    #[arg(long, value_parser = value::rfc3339)]
    pub issued_before: Option<i64>,
    /// Only certificates expiring within this many days.
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..=36_500))]
    pub expiring_within: Option<i64>,
    /// List what would be re-issued; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Revoke each old certificate (reason superseded) once its successor is stored. By default the old
    /// certificate stays valid until its own expiry, so devices switch over at their own pace.
    #[arg(long)]
    pub revoke_old: bool,
    /// Stop after this many certificates, leaving the job to be resumed (a maintenance window).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub stop_after: Option<u64>,
}

/// `hcpki job …`: long operations (D38).
#[derive(Debug, Subcommand)]
pub enum JobCommand {
    /// The newest jobs with their progress.
    List {
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(i64).range(1..=10_000))]
        limit: i64,
    },
    /// One job: progress and each failed item's error.
    Show { id: String },
    /// Continue a job that was interrupted or stopped: only the items not yet done.
    Resume {
        id: String,
        /// Stop after this many items, leaving the job to be resumed.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        stop_after: Option<u64>,
    },
    /// Cancel a job: the items not yet done stay undone (audited).
    Cancel { id: String },
}

pub async fn run(authority: &Authority, command: JobCommand) -> Result<ExitCode> {
    let now = hcpki_pkix::time::now();
    match command {
        JobCommand::List { limit } => {
            for j in authority.jobs().list_jobs(limit).await? {
                println!("{}", row(&j, now));
            }
        }
        JobCommand::Show { id } => {
            let Some(j) = job(authority, &id).await? else { bail!("no job {id}: see `hcpki job list`") };
            println!("{}", row(&j, now));
            println!("started by {} at {}", j.started_by, hcpki_pkix::time::rfc3339(j.created_at));
            if let Some(note) = &j.note {
                println!("note: {note}");
            }
            for item in items(authority, &j.id, "failed").await? {
                println!("failed {}: {}", item.key, item.error.as_deref().unwrap_or("-"));
            }
        }
        JobCommand::Resume { id, stop_after } => {
            let Some(j) = job(authority, &id).await? else { bail!("no job {id}: see `hcpki job list`") };
            let limit = RunLimit { stop_after: stop_after.and_then(|n| usize::try_from(n).ok()) };
            return finish(run_with_bar(authority, &j, limit).await?);
        }
        JobCommand::Cancel { id } => {
            // A malformed ID names no job, as an unknown one.
            let Ok(job_id) = JobId::parse(&id) else { bail!("job {id} is not queued or running: nothing to cancel") };
            if !authority
                .jobs()
                .end_job(
                    &job_id,
                    None,
                    JobState::Cancelled,
                    Some("cancelled from the CLI"),
                    &super::actor(),
                    hcpki_pkix::time::now(),
                )
                .await?
            {
                bail!("job {id} is not queued or running: nothing to cancel");
            }
            eprintln!("job {id} cancelled");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `hcpki cert reissue`: list (dry run), or continue an unfinished job of the same selection, or start one.
pub async fn reissue(authority: &Authority, args: ReissueArgs) -> Result<ExitCode> {
    // The selection is text as the console's form gives it (and as stored in the job's parameters).
    let selection = reissue::Selection {
        ca: args.ca.map(|c| c.as_str().to_owned()),
        profile: args.profile.map(|p| p.as_str().to_owned()),
        facility: args.facility.map(|f| f.as_str().to_owned()),
        issued_before: args.issued_before,
        expiring_within_days: args.expiring_within,
        revoke_old: args.revoke_old,
    };
    let limit = RunLimit { stop_after: args.stop_after.and_then(|n| usize::try_from(n).ok()) };
    let params = serde_json::to_value(&selection)?;
    if !args.dry_run
        && let Some(job) = unfinished(authority, &params).await?
    {
        eprintln!("continuing job {} ({} of {} done)", job.id, job.done + job.failed, job.total);
        return finish(run_with_bar(authority, &job, limit).await?);
    }
    let chosen = reissue::select(authority, &selection).await?;
    if args.dry_run {
        for c in &chosen {
            println!("would re-issue {}", crate::output::cert_row(c));
        }
        eprintln!("dry run: {} certificates would be re-issued; nothing changed", chosen.len());
        return Ok(ExitCode::SUCCESS);
    }
    if chosen.is_empty() {
        eprintln!("no certificate matches: nothing to re-issue");
        return Ok(ExitCode::SUCCESS);
    }
    let (params, items) = reissue::job_parts(&selection, &chosen);
    let job = jobs::create(authority, Kind::CertReissue, params, items, &super::actor()).await?;
    eprintln!("job {}: re-issuing {} certificates", job.id, job.total);
    finish(run_with_bar(authority, &job, limit).await?)
}

/// The job named `id` on the command line; `None` when there is none (a malformed ID names none either).
async fn job(authority: &Authority, id: &str) -> Result<Option<JobRecord>> {
    let Ok(id) = JobId::parse(id) else { return Ok(None) };
    Ok(authority.jobs().job(&id).await?)
}

/// A re-issue job of the same selection that has not finished: queued (stopped on purpose) or interrupted.
async fn unfinished(authority: &Authority, params: &serde_json::Value) -> Result<Option<JobRecord>> {
    let stale = hcpki_pkix::time::now().minus(jobs::STALE);
    Ok(authority.jobs().list_jobs(1000).await?.into_iter().find(|j| {
        j.kind == Kind::CertReissue.as_str()
            && serde_json::from_str::<serde_json::Value>(&j.params).is_ok_and(|p| &p == params)
            && (j.state == JobState::Queued || j.interrupted(stale))
    }))
}

async fn run_with_bar(authority: &Authority, job: &JobRecord, limit: RunLimit) -> Result<JobRecord> {
    let bar = progress_bar(job.total, "items");
    let done = jobs::run(authority, &job.id, &super::actor(), limit, &|j| {
        bar.set_position(u64::try_from(j.done + j.failed).unwrap_or(0));
    })
    .await;
    bar.finish_and_clear();
    Ok(done?)
}

/// The summary line; exit 1 when an item failed.
fn finish(job: JobRecord) -> Result<ExitCode> {
    eprintln!(
        "job {}: {}, {} of {} done, {} failed{}",
        job.id,
        job.state.as_str(),
        job.done,
        job.total,
        job.failed,
        job.note.as_deref().map(|n| format!(" ({n})")).unwrap_or_default()
    );
    Ok(if job.failed > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

fn row(j: &JobRecord, now: UnixTime) -> String {
    format!(
        "{}  {:<16} {:<12} {}/{} done, {} failed  by {}",
        j.id,
        j.kind,
        jobs::shown_state(j, now),
        j.done,
        j.total,
        j.failed,
        j.started_by
    )
}

/// A progress bar drawn on stderr when it is a terminal, hidden otherwise.
pub fn progress_bar(total: i64, what: &str) -> ProgressBar {
    let target =
        if std::io::stderr().is_terminal() { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
    let bar = ProgressBar::with_draw_target(Some(u64::try_from(total).unwrap_or(0)), target);
    bar.set_style(
        ProgressStyle::with_template(&format!("{{bar:40}} {{pos}}/{{len}} {what}, {{per_sec}}, {{eta}} left"))
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// Every item of job `id` in `state`, in order.
pub async fn items(authority: &Authority, id: &JobId, state: &str) -> Result<Vec<JobItem>> {
    let mut out: Vec<JobItem> = Vec::new();
    loop {
        let after = out.last().map_or(-1, |i| i.seq);
        let page = authority.jobs().job_items(id, Some(state), after, 1000).await?;
        if page.is_empty() {
            return Ok(out);
        }
        out.extend(page);
    }
}
