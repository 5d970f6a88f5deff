//! Records of long operations (bulk facility import, bulk re-issue; issue #8, D38), as the store keeps them.
//!
//! A job and all of its items are written in one transaction when it is created, so progress is rows any
//! replica can read, and resuming a job is working through its `pending` items again. The store does not
//! interpret `params`, `payload` or `result`: they are JSON owned by `server::jobs`.

use hcpki_model::{JobId, UnixTime};

/// What a job is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Created, or stopped part-way on purpose; any worker may claim it.
    Queued,
    /// A worker holds it (see [`JobRecord::heartbeat_at`]: a stale heartbeat means the worker died).
    Running,
    /// Every item was worked through (some may have failed).
    Done,
    /// Stopped by an error that was not an item's own.
    Failed,
    /// Stopped by a person; the pending items stay undone.
    Cancelled,
}

impl JobState {
    /// Stable text form (the `state` column).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// The state named by `text`, if any.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Queued, Self::Running, Self::Done, Self::Failed, Self::Cancelled]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// A new job with its items, in order of work.
#[derive(Clone, Debug)]
pub struct NewJob {
    /// Random ID.
    pub id: JobId,
    /// `facility-import`, `cert-reissue`.
    pub kind: String,
    /// JSON: what was asked.
    pub params: String,
    /// Each item's key (a serial, a CSV line) and JSON payload.
    pub items: Vec<(String, String)>,
}

/// A job with its progress counted from its items.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct JobRecord {
    /// ID.
    pub id: JobId,
    /// Kind.
    pub kind: String,
    /// JSON: what was asked.
    pub params: String,
    /// Actor that created it.
    pub started_by: String,
    /// State.
    pub state: JobState,
    /// Items in all.
    pub total: i64,
    /// Items done or skipped (already done before).
    pub done: i64,
    /// Items that failed.
    pub failed: i64,
    /// The worker holding it while running.
    pub owner: Option<String>,
    /// The owner's last sign of life (Unix seconds).
    pub heartbeat_at: Option<i64>,
    /// Why it failed or was cancelled.
    pub note: Option<String>,
    /// Created (Unix seconds).
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
    /// Finished, cancelled or failed.
    pub finished_at: Option<i64>,
}

impl JobRecord {
    /// Running, but its worker has not been heard of since `stale_before`: the process died or lost the
    /// database. Shown as interrupted; any worker may resume it.
    pub fn interrupted(&self, stale_before: UnixTime) -> bool {
        // The heartbeat column holds whole seconds.
        self.state == JobState::Running && self.heartbeat_at.is_none_or(|h| h < stale_before.as_secs())
    }
}

/// One item of a job.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct JobItem {
    /// Order of work, from 0.
    pub seq: i64,
    /// A serial, a CSV line.
    pub key: String,
    /// JSON: what the item needs.
    pub payload: String,
    /// `pending`, `done`, `skipped`, `failed`.
    pub state: String,
    /// What it produced (a successor serial, a facility ID).
    pub result: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
}

/// The outcome of one item, recorded by the worker that holds the job.
#[derive(Clone, Debug)]
pub struct ItemOutcome {
    /// Which item.
    pub seq: i64,
    /// `done`, `skipped` or `failed`.
    pub state: &'static str,
    /// What it produced.
    pub result: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
}
