//! Long operations as jobs (issue #8, D38): bulk facility import and bulk re-issue, started from the CLI or the
//! console, with progress any replica can show.
//!
//! A job and its items are rows (`hcpki_ca::store::Store::create_job`); a worker claims the job, works through
//! its pending items in batches, and records each batch's outcomes with a heartbeat. Nothing the console shows
//! lives in one process: a job whose worker died is "running" with a stale heartbeat, shown as interrupted, and
//! any replica (or the CLI) may claim it again and continue with the items still pending. Each kind makes its
//! items idempotent where the worker's record could lag behind the work: an import batch registers (and, when
//! asked, approves) its facilities and marks its items in one transaction, which first renews the heartbeat
//! only if this worker still owns the job, so a worker that stalled and lost the job writes nothing; a re-issue's successor names its predecessor in its write-ahead intent, so a
//! certificate that was re-issued before the crash is found and skipped.

mod error;
pub mod import;
mod pace;
pub mod reissue;

pub use error::{JobError, failed};

use hcpki_ca::Authority;
use hcpki_ca::audit::{AuditEvent, Outcome};
use hcpki_ca::store::{Actor, JobRecord, JobState, NewJob};
use hcpki_model::JobId;
use hcpki_pkix::time::UnixTime;

/// A running job's worker renews its heartbeat with every batch; one not heard of for this long is taken to be
/// dead. Batches take seconds on a quiet machine; on a loaded one [`pace::Pace`] shrinks them so that a minute
/// still never catches a live worker.
pub const STALE: std::time::Duration = std::time::Duration::from_secs(60);

/// The kinds of job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `hcpki facility import`, console CSV import.
    FacilityImport,
    /// `hcpki cert reissue`, console bulk re-issue.
    CertReissue,
}

impl Kind {
    /// Stable text form (the `kind` column).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FacilityImport => "facility-import",
            Self::CertReissue => "cert-reissue",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Self::FacilityImport, Self::CertReissue].into_iter().find(|k| k.as_str() == text)
    }
}

/// The state a person sees: the stored one, or `interrupted` for a running job whose worker is gone.
pub fn shown_state(job: &JobRecord, now: UnixTime) -> &'static str {
    if job.interrupted(now.minus(STALE)) { "interrupted" } else { job.state.as_str() }
}

/// Create a job of `kind` with `params` (JSON) and its items (key, JSON payload), audited as `job.create`.
pub async fn create(
    authority: &Authority,
    kind: Kind,
    params: serde_json::Value,
    items: Vec<(String, String)>,
    actor: &Actor,
) -> Result<JobRecord, JobError> {
    let id = JobId::from_random(rand::random());
    let job = NewJob { id, kind: kind.as_str().into(), params: params.to_string(), items };
    Ok(authority.jobs().create_job(&job, actor, authority.clock().now()).await?)
}

/// How far to go in one run.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunLimit {
    /// Stop (leaving the job queued, to be resumed) after this many items.
    pub stop_after: Option<usize>,
}

/// Claim job `id` and work through its pending items, calling `progress` after each batch; the job ends done
/// (or queued when `limit` stopped it). A job already running with a live worker is refused.
pub async fn run(
    authority: &Authority,
    id: &JobId,
    actor: &Actor,
    limit: RunLimit,
    progress: &(dyn Fn(&JobRecord) + Sync),
) -> Result<JobRecord, JobError> {
    let store = authority.jobs();
    let job = store.job(id).await?.ok_or_else(|| JobError::Unknown(id.clone()))?;
    let kind = Kind::parse(&job.kind).ok_or_else(|| damaged(id, "unknown kind"))?;
    let owner = format!("{}:{}:{}", hostname(), std::process::id(), hex::encode(rand::random::<[u8; 4]>()));
    let now = authority.clock().now();
    if !store.claim_job(id, &owner, now, now.minus(STALE)).await? {
        let hint = match job.state {
            JobState::Running => "another worker is running it: watch its progress, or resume it once interrupted",
            _ => "it has ended; start a new job",
        };
        return Err(JobError::NotRunnable { id: id.clone(), state: shown_state(&job, now).into(), hint });
    }
    if job.state == JobState::Running || job.note.is_some() {
        // Taking over from a dead worker or continuing a paused job is a person's decision: audit it. A new
        // job's first claim is part of its `job.create`.
        let how = if job.state == JobState::Running { "interrupted" } else { "paused" };
        let event = AuditEvent {
            actor: actor.as_str().to_owned(),
            action: "job.resume".into(),
            target: id.to_string(),
            outcome: Outcome::Ok,
            detail: serde_json::json!({ "was": how, "done": job.done, "failed": job.failed, "total": job.total }),
        };
        authority.audit_log().append_audit(&event, authority.clock().now()).await?;
    }
    let params: serde_json::Value = serde_json::from_str(&job.params).map_err(|e| damaged(id, &e.to_string()))?;
    let mut budget = limit.stop_after.unwrap_or(usize::MAX);
    let mut pace = pace::Pace::new(batch_size(kind));
    progress(&job);
    loop {
        let batch = i64::try_from(pace.size().min(budget)).unwrap_or(1);
        let items = if batch == 0 { Vec::new() } else { store.job_items(id, Some("pending"), -1, batch).await? };
        if items.is_empty() {
            break;
        }
        budget = budget.saturating_sub(items.len());
        hcpki_ca::fault::hold(hcpki_ca::fault::JOB_BATCH).await;
        // Measured with the monotonic clock: this is how long the work took, not a time anything records.
        let started = std::time::Instant::now();
        let held = match kind {
            Kind::FacilityImport => import::work(authority, id, &owner, &params, &items, actor).await?,
            Kind::CertReissue => match reissue::work(authority, id, &params, &items, actor).await {
                Ok(outcomes) => store.record_job_items(id, &owner, &outcomes, authority.clock().now()).await?,
                Err(halted @ JobError::Halted { .. }) => {
                    // Paused like a job stopped on purpose: resumable from the CLI and the console.
                    let note = Some(Note::PausedHalted.stored());
                    store.end_job(id, Some(&owner), JobState::Queued, note, actor, authority.clock().now()).await?;
                    return Err(halted);
                }
                Err(e) => return Err(e),
            },
        };
        if !held {
            return Err(JobError::Lost(id.clone()));
        }
        pace.after(items.len(), started.elapsed(), STALE);
        if let Some(j) = store.job(id).await? {
            progress(&j);
        }
    }
    let pending = !store.job_items(id, Some("pending"), -1, 1).await?.is_empty();
    let end = if pending { JobState::Queued } else { JobState::Done };
    let note = pending.then_some(Note::StoppedAfter.stored());
    if !store.end_job(id, Some(&owner), end, note, actor, authority.clock().now()).await? {
        return Err(JobError::Lost(id.clone()));
    }
    store.job(id).await?.ok_or_else(|| JobError::Unknown(id.clone()))
}

/// Run job `id` in the background of this server (the console's jobs). Its progress is in the database; a
/// failure is logged and left on the job for the job page.
pub fn spawn(authority: std::sync::Arc<Authority>, id: JobId, actor: Actor) {
    tokio::spawn(async move {
        // A job stopped by an error stays "running" until its heartbeat is stale, then shows as interrupted
        // and can be resumed once the cause (usually the database) is fixed.
        if let Err(e) = run(&authority, &id, &actor, RunLimit::default(), &|_| {}).await {
            tracing::error!(job = %id, error = %e, "job stopped");
        }
    });
}

/// Why a job that is not done waits (the job's stored note): the store keeps the English text the CLI prints,
/// and the console shows each in its reader's words instead of a CLI flag ([`Note::read`]). Any other note (a
/// failure's error, a cancellation's reason) is shown as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Note {
    /// `--stop-after` (the CLI's, or a test's) ended the run with items left.
    StoppedAfter,
    /// The operators halted issuance (D135): a re-issue job paused itself with nothing half-issued.
    PausedHalted,
}

impl Note {
    const ALL: [Note; 2] = [Note::StoppedAfter, Note::PausedHalted];

    /// The text stored and printed by the CLI.
    pub fn stored(self) -> &'static str {
        match self {
            Note::StoppedAfter => "stopped by --stop-after; resume it to continue",
            Note::PausedHalted => "paused: issuance is halted by the operators; resume this job once issuance resumes",
        }
    }

    /// The note a stored text is, if it is one of these.
    pub fn read(stored: &str) -> Option<Note> {
        Note::ALL.into_iter().find(|n| n.stored() == stored)
    }
}

/// Items per batch at most ([`pace::Pace`] takes fewer on a loaded machine): an import batch is one transaction of
/// 1,000 registrations (D29); a re-issue batch goes
/// through group commit together (D11).
fn batch_size(kind: Kind) -> usize {
    match kind {
        Kind::FacilityImport => import::BATCH,
        Kind::CertReissue => reissue::BATCH,
    }
}

fn damaged(id: &JobId, why: &str) -> JobError {
    JobError::Damaged { id: id.clone(), why: why.to_owned() }
}

/// This machine's name, for naming a process to operators (job owners, rate-limit replicas).
pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_owned()).unwrap_or_else(|_| "host".into())
}

#[cfg(test)]
mod tests {
    use super::Note;

    #[test]
    fn every_note_reads_back_and_other_notes_are_none() {
        for n in Note::ALL {
            assert_eq!(Note::read(n.stored()), Some(n));
        }
        assert_eq!(Note::read("cancelled: wrong file"), None);
    }
}
