//! Long operations (D38): jobs, their items, claiming and resuming.

use crate::error::StoreError;
use crate::facility::NewFacility;
use crate::jobs::{ItemOutcome, JobItem, JobRecord, JobState, NewJob};
use crate::records::{Actor, Registration};
use hcpki_model::{JobId, UnixTime};

/// Long operations (D38): jobs, their items, claiming and resuming.
#[async_trait::async_trait]
pub trait Jobs: Send + Sync {
    /// Create a job with all its items in one transaction, state `queued`, audited as `job.create`.
    async fn create_job(&self, job: &NewJob, actor: &Actor, at: UnixTime) -> Result<JobRecord, StoreError>;

    /// One job with its progress.
    async fn job(&self, id: &JobId) -> Result<Option<JobRecord>, StoreError>;

    /// The newest jobs first, at most `limit`.
    async fn list_jobs(&self, limit: i64) -> Result<Vec<JobRecord>, StoreError>;

    /// A job's items in order: all of them, or those in `state`, from `after_seq` (exclusive), at most `limit`.
    async fn job_items(
        &self,
        id: &JobId,
        state: Option<&str>,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<JobItem>, StoreError>;

    /// Take a job for `owner`: one that is queued, or running with a heartbeat before `stale_before` (its
    /// worker died). Returns whether `owner` now holds it; two workers never both do.
    async fn claim_job(
        &self,
        id: &JobId,
        owner: &str,
        now: UnixTime,
        stale_before: UnixTime,
    ) -> Result<bool, StoreError>;

    /// Record items' outcomes and renew the heartbeat, only while `owner` still holds the job; `false` (and
    /// nothing written) when it does not.
    async fn record_job_items(
        &self,
        id: &JobId,
        owner: &str,
        outcomes: &[ItemOutcome],
        now: UnixTime,
    ) -> Result<bool, StoreError>;

    /// Leave a job in `state` (`queued` to pause, `done`, `failed`) while `owner` holds it, or cancel it
    /// (`owner` None, any unfinished job; audited as `job.cancel`). `false` when the job was not in a state
    /// that allows it.
    async fn end_job(
        &self,
        id: &JobId,
        owner: Option<&str>,
        state: JobState,
        note: Option<&str>,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<bool, StoreError>;

    /// Register a batch of a facility-import job's items, approve each new facility when `approve` is set,
    /// and mark each item done (`New`, result the ID) or skipped (`AlreadyRegistered`), all in the same
    /// transaction: a resumed job never registers a row twice and never leaves one registered but not
    /// approved. `None` (nothing written) when `owner` no longer holds the job.
    async fn register_facilities_for_job(
        &self,
        id: &JobId,
        owner: &str,
        batch: &[(i64, NewFacility)],
        approve: bool,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<Option<Vec<Registration>>, StoreError>;
}
