//! How a job or one of its items fails: a leaf that the runner (`jobs`) and each kind's worker share.

use hcpki_ca::store::{ItemOutcome, JobItem, StoreError};
use hcpki_model::JobId;

/// Why a job could not be created, run or resumed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JobError {
    /// No such job.
    #[error("no job {0}: list the jobs with `hcpki job list` or on the console's jobs page")]
    Unknown(JobId),
    /// Another worker holds it, or it has ended.
    #[error("job {id} is {state} and cannot be run now: {hint}")]
    NotRunnable {
        /// The job.
        id: JobId,
        /// Its state as shown.
        state: String,
        /// What to do.
        hint: &'static str,
    },
    /// The worker lost the job (cancelled, or claimed by another after a long stall).
    #[error("job {0} was cancelled or taken over by another worker; this worker stopped")]
    Lost(JobId),
    /// The job's stored parameters cannot be read.
    #[error("job {id} is damaged: {why}")]
    Damaged {
        /// The job.
        id: JobId,
        /// Why.
        why: String,
    },
    /// Issuance is halted by the operators (the stop switch, D135): the job is paused with its items still
    /// pending, none of the batch issued.
    #[error(
        "job {id} is paused, nothing of its last batch issued: {why}. Resume the job (`hcpki job resume {id}`, or \
         Resume on the console's job page) once issuance resumes"
    )]
    Halted {
        /// The job.
        id: JobId,
        /// The pipeline's refusal (the halt's number and reason).
        why: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An item's failure.
pub fn failed(item: &JobItem, error: String) -> ItemOutcome {
    ItemOutcome { seq: item.seq, state: "failed", result: None, error: Some(error) }
}
