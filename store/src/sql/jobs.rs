//! SQL, row conversions and audit events of long operations (migration 0014, D38), and `jobs_store!`, the
//! per-backend impl of its trait (kept here so the job code is one file).

use crate::audit::{AuditEvent, Outcome};
use crate::{Actor, JobItem, JobRecord, JobState, Registration, StoreError};
use hcpki_model::JobId;
use serde_json::json;

pub(super) const INSERT_JOB: &str = "INSERT INTO jobs (id, kind, params, started_by, state, total, created_at, \
     updated_at) VALUES ($1, $2, $3, $4, 'queued', $5, $6, $6)";
/// The start of a multi-row insert of items; `state` takes its column default, `pending`.
pub(super) const INSERT_ITEMS: &str = "INSERT INTO job_items (job_id, seq, item_key, payload) ";
/// Rows per insert statement: 4 parameters each, well under SQLite's 32,766 and PostgreSQL's 65,535.
pub(super) const ITEMS_PER_INSERT: usize = 500;

/// A job with its counts taken from its items (a few thousand index entries at most per job).
macro_rules! job_select {
    () => {
        "SELECT j.id, j.kind, j.params, j.started_by, j.state, j.total, \
         (SELECT COUNT(*) FROM job_items i WHERE i.job_id = j.id AND i.state IN ('done', 'skipped')), \
         (SELECT COUNT(*) FROM job_items i WHERE i.job_id = j.id AND i.state = 'failed'), \
         j.owner, j.heartbeat_at, j.note, j.created_at, j.updated_at, j.finished_at FROM jobs j "
    };
}
pub(super) const JOB_BY_ID: &str = concat!(job_select!(), "WHERE j.id = $1");
pub(super) const LIST_JOBS: &str = concat!(job_select!(), "ORDER BY j.created_at DESC, j.id LIMIT $1");
pub(super) const ITEMS: &str = "SELECT seq, item_key, payload, state, result, error FROM job_items \
     WHERE job_id = $1 AND ($2 IS NULL OR state = $2) AND seq > $3 ORDER BY seq LIMIT $4";
/// Queued, or running with a heartbeat from before `$4`: its worker is gone.
pub(super) const CLAIM: &str = "UPDATE jobs SET state = 'running', owner = $1, heartbeat_at = $2, updated_at = $2 \
     WHERE id = $3 AND (state = 'queued' OR (state = 'running' AND (heartbeat_at IS NULL OR heartbeat_at < $4)))";
pub(super) const HEARTBEAT: &str =
    "UPDATE jobs SET heartbeat_at = $1, updated_at = $1 WHERE id = $2 AND owner = $3 AND state = 'running'";
pub(super) const RECORD_ITEM: &str = "UPDATE job_items SET state = $1, result = $2, error = $3, updated_at = $4 \
     WHERE job_id = $5 AND seq = $6 AND state = 'pending'";
pub(super) const END_OWNED: &str = "UPDATE jobs SET state = $1, note = $2, owner = NULL, updated_at = $3, \
     finished_at = $4 WHERE id = $5 AND owner = $6 AND state = 'running'";
pub(super) const CANCEL: &str = "UPDATE jobs SET state = 'cancelled', note = $1, owner = NULL, updated_at = $2, \
     finished_at = $2 WHERE id = $3 AND state IN ('queued', 'running')";

pub(super) type JobRow = (
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    Option<String>,
    Option<i64>,
    Option<String>,
    i64,
    i64,
    Option<i64>,
);

pub(super) type ItemRow = (i64, String, String, String, Option<String>, Option<String>);

pub(super) fn job(row: JobRow) -> Result<JobRecord, StoreError> {
    let (
        id,
        kind,
        params,
        started_by,
        state,
        total,
        done,
        failed,
        owner,
        heartbeat_at,
        note,
        created_at,
        updated_at,
        finished_at,
    ) = row;
    let id = JobId::parse(&id).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let state = JobState::parse(&state).ok_or_else(|| StoreError::Corrupt(format!("job {id} has state {state:?}")))?;
    Ok(JobRecord {
        id,
        kind,
        params,
        started_by,
        state,
        total,
        done,
        failed,
        owner,
        heartbeat_at,
        note,
        created_at,
        updated_at,
        finished_at,
    })
}

pub(super) fn item(row: ItemRow) -> JobItem {
    let (seq, key, payload, state, result, error) = row;
    JobItem { seq, key, payload, state, result, error }
}

/// A registration as an item's state and result: the new facility's ID, or the holder of the code.
pub(super) fn registered(r: &Registration) -> (&'static str, String) {
    match r {
        Registration::New(f) => ("done", f.id.to_string()),
        Registration::AlreadyRegistered { code, existing } => {
            ("skipped", format!("医療機関コード {code} is already registered to {existing}"))
        }
        Registration::AddressHeld { asked, holder, held } => {
            ("skipped", format!("not registered: {asked} overlaps {held}, which is allocated to facility {holder}"))
        }
    }
}

/// `job.<verb>` on the job.
pub(super) fn event(verb: &str, id: &str, actor: &Actor, detail: serde_json::Value) -> AuditEvent {
    AuditEvent {
        actor: actor.as_str().to_owned(),
        action: format!("job.{verb}"),
        target: id.to_owned(),
        outcome: Outcome::Ok,
        detail,
    }
}

/// The `job.create` detail.
pub(super) fn created(kind: &str, total: usize, params: &str) -> serde_json::Value {
    let params: serde_json::Value = serde_json::from_str(params).unwrap_or(serde_json::Value::Null);
    json!({ "kind": kind, "total": total, "params": params })
}

macro_rules! jobs_store {
    ($store:ident, $db:ty, $backend:expr) => {
        impl $store {
            async fn jobs_create(&self, new: &NewJob, actor: &Actor, at: UnixTime) -> Result<JobRecord, StoreError> {
                let mut w = self.write(at).await?;
                let now = w.now();
                let total = i64::try_from(new.items.len()).unwrap_or(i64::MAX);
                sqlx::query::<$db>(jobs::INSERT_JOB)
                    .bind(new.id.as_str())
                    .bind(&new.kind)
                    .bind(&new.params)
                    .bind(actor.as_str())
                    .bind(total)
                    .bind(now)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                // Many rows per statement: a 10,000-row import is 20 round trips, not 10,000.
                let numbered: Vec<(i64, &(String, String))> =
                    new.items.iter().enumerate().map(|(i, item)| (i64::try_from(i).unwrap_or(i64::MAX), item)).collect();
                for chunk in numbered.chunks(jobs::ITEMS_PER_INSERT) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(jobs::INSERT_ITEMS);
                    insert.push_values(chunk, |mut row, (seq, (key, payload))| {
                        row.push_bind(new.id.as_str()).push_bind(*seq).push_bind(key).push_bind(payload);
                    });
                    insert.build().execute(&mut *w.tx).await.map_err(Self::err)?;
                }
                let detail = jobs::created(&new.kind, new.items.len(), &new.params);
                w.append(&jobs::event("create", new.id.as_str(), actor, detail)).await?;
                let record = sqlx::query_as::<$db, jobs::JobRow>(jobs::JOB_BY_ID)
                    .bind(new.id.as_str())
                    .fetch_one(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                w.commit().await?;
                jobs::job(record)
            }

            async fn jobs_get(&self, id: &str) -> Result<Option<JobRecord>, StoreError> {
                sqlx::query_as::<$db, jobs::JobRow>(jobs::JOB_BY_ID)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(jobs::job)
                    .transpose()
            }

            async fn jobs_list(&self, limit: i64) -> Result<Vec<JobRecord>, StoreError> {
                sqlx::query_as::<$db, jobs::JobRow>(jobs::LIST_JOBS)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(jobs::job)
                    .collect()
            }

            async fn jobs_items(
                &self,
                id: &str,
                state: Option<&str>,
                after_seq: i64,
                limit: i64,
            ) -> Result<Vec<JobItem>, StoreError> {
                Ok(sqlx::query_as::<$db, jobs::ItemRow>(jobs::ITEMS)
                    .bind(id)
                    .bind(state)
                    .bind(after_seq)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(jobs::item)
                    .collect())
            }

            async fn jobs_claim(&self, id: &str, owner: &str, now: UnixTime, stale_before: UnixTime) -> Result<bool, StoreError> {
                let _writer = self.writer().await;
                Ok(sqlx::query::<$db>(jobs::CLAIM)
                    .bind(owner)
                    .bind(now.as_secs())
                    .bind(id)
                    .bind(stale_before.as_secs())
                    .execute(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .rows_affected()
                    == 1)
            }

            async fn jobs_record(
                &self,
                id: &str,
                owner: &str,
                outcomes: &[ItemOutcome],
                now: UnixTime,
            ) -> Result<bool, StoreError> {
                let _writer = self.writer().await;
                let mut tx = self.pool.begin().await.map_err(Self::err)?;
                let held = sqlx::query::<$db>(jobs::HEARTBEAT)
                    .bind(now.as_secs())
                    .bind(id)
                    .bind(owner)
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::err)?
                    .rows_affected()
                    == 1;
                if !held {
                    return Ok(false);
                }
                for o in outcomes {
                    sqlx::query::<$db>(jobs::RECORD_ITEM)
                        .bind(o.state)
                        .bind(o.result.as_deref())
                        .bind(o.error.as_deref())
                        .bind(now.as_secs())
                        .bind(id)
                        .bind(o.seq)
                        .execute(&mut *tx)
                        .await
                        .map_err(Self::err)?;
                }
                tx.commit().await.map_err(Self::err)?;
                Ok(true)
            }

            async fn jobs_end(
                &self,
                id: &str,
                owner: Option<&str>,
                state: JobState,
                note: Option<&str>,
                actor: &Actor, at: UnixTime,
            ) -> Result<bool, StoreError> {
                let mut w = self.write(at).await?;
                let now = w.now();
                let changed = match owner {
                    Some(owner) => {
                        let finished = (state != JobState::Queued).then_some(now);
                        sqlx::query::<$db>(jobs::END_OWNED)
                            .bind(state.as_str())
                            .bind(note)
                            .bind(now)
                            .bind(finished)
                            .bind(id)
                            .bind(owner)
                            .execute(&mut *w.tx)
                            .await
                    }
                    None => sqlx::query::<$db>(jobs::CANCEL).bind(note).bind(now).bind(id).execute(&mut *w.tx).await,
                }
                .map_err(Self::err)?
                .rows_affected()
                    == 1;
                if !changed {
                    return Ok(false);
                }
                let verb = match (owner, state) {
                    (None, _) => "cancel",
                    (Some(_), JobState::Queued) => "pause",
                    (Some(_), JobState::Done) => "finish",
                    (Some(_), _) => "fail",
                };
                let event = jobs::event(verb, id, actor, serde_json::json!({ "note": note }));
                w.append(&event).await?;
                w.commit().await?;
                Ok(true)
            }

            async fn jobs_register(
                &self,
                id: &str,
                owner: &str,
                batch: &[(i64, NewFacility)],
                approve: bool,
                actor: &Actor, at: UnixTime,
            ) -> Result<Option<Vec<Registration>>, StoreError> {
                let mut w = self.write(at).await?;
                let now = w.now();
                let held = sqlx::query::<$db>(jobs::HEARTBEAT)
                    .bind(now)
                    .bind(id)
                    .bind(owner)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?
                    .rows_affected()
                    == 1;
                if !held {
                    return Ok(None);
                }
                let mut out = Vec::with_capacity(batch.len());
                for (seq, new) in batch {
                    let mut registration = match Self::insert_facility(&mut w, new, actor).await {
                        Ok(r) => r,
                        Err(Inserted::Store(e)) => return Err(e),
                        Err(Inserted::Failed(e)) => {
                            let _queue = w.abandon().await;
                            return Err(self.duplicate_code_or(e, new).await);
                        }
                    };
                    if let (true, Registration::New(f)) = (approve, &registration) {
                        crate::fault::point(crate::fault::IMPORT_REGISTERED);
                        let change = FacilityChange {
                            id: f.id.clone(),
                            transition: Transition::Approve,
                            reason: None,
                            actor: actor.clone(),
                        };
                        // Only a facility registered a moment ago is approved: the state's refusal cannot
                        // happen, and if it did, the whole batch stays pending rather than half done. Missing
                        // vetting evidence (D173) leaves the facility registered and waiting for approval (the
                        // refusal is audited): a new facility has none until someone records it.
                        match Self::transition_in(&mut w, &change).await? {
                            Ok(approved) => registration = Registration::New(approved),
                            Err(StoreError::VettingMissing { .. }) => {}
                            Err(other) => return Err(other),
                        }
                    }
                    let (state, result) = jobs::registered(&registration);
                    sqlx::query::<$db>(jobs::RECORD_ITEM)
                        .bind(state)
                        .bind(result)
                        .bind(None::<&str>)
                        .bind(now)
                        .bind(id)
                        .bind(*seq)
                        .execute(&mut *w.tx)
                        .await
                        .map_err(Self::err)?;
                    out.push(registration);
                }
                w.commit().await?;
                Ok(Some(out))
            }

            async fn jobs_successor(&self, serial: &str) -> Result<Option<CertificateRecord>, StoreError> {
                sqlx::query_as::<$db, rows::CertificateRow>(queries::SUCCESSOR)
                    .bind(serial)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(rows::certificate)
                    .transpose()
            }
        }

        #[async_trait::async_trait]
        impl Jobs for $store {
            async fn create_job(&self, job: &NewJob, actor: &Actor, at: UnixTime) -> Result<JobRecord, StoreError> {
                self.jobs_create(job, actor, at).await
            }

            async fn job(&self, id: &hcpki_model::JobId) -> Result<Option<JobRecord>, StoreError> {
                self.jobs_get(id.as_str()).await
            }

            async fn list_jobs(&self, limit: i64) -> Result<Vec<JobRecord>, StoreError> {
                self.jobs_list(limit).await
            }

            async fn job_items(
                &self,
                id: &hcpki_model::JobId,
                state: Option<&str>,
                after_seq: i64,
                limit: i64,
            ) -> Result<Vec<JobItem>, StoreError> {
                self.jobs_items(id.as_str(), state, after_seq, limit).await
            }

            async fn claim_job(&self, id: &hcpki_model::JobId, owner: &str, now: UnixTime, stale_before: UnixTime) -> Result<bool, StoreError> {
                self.jobs_claim(id.as_str(), owner, now, stale_before).await
            }

            async fn record_job_items(
                &self,
                id: &hcpki_model::JobId,
                owner: &str,
                outcomes: &[ItemOutcome],
                now: UnixTime,
            ) -> Result<bool, StoreError> {
                self.jobs_record(id.as_str(), owner, outcomes, now).await
            }

            async fn end_job(
                &self,
                id: &hcpki_model::JobId,
                owner: Option<&str>,
                state: JobState,
                note: Option<&str>,
                actor: &Actor, at: UnixTime,
            ) -> Result<bool, StoreError> {
                self.jobs_end(id.as_str(), owner, state, note, actor, at).await
            }

            async fn register_facilities_for_job(
                &self,
                id: &hcpki_model::JobId,
                owner: &str,
                batch: &[(i64, NewFacility)],
                approve: bool,
                actor: &Actor, at: UnixTime,
            ) -> Result<Option<Vec<Registration>>, StoreError> {
                self.jobs_register(id.as_str(), owner, batch, approve, actor, at).await
            }
        }
    };
}
pub(super) use jobs_store;
