//! SQLite's group commit (D159): this process's audited writing transactions share one database transaction on
//! one write connection, committed — one fsync — for all the writers that queued while it was open.
//!
//! Why: SQLite has one writer at a time and `synchronous = FULL` makes every commit wait for an fsync with the
//! write lock held. A card login is three audited commits; at a few hundred logins a second the writers spent
//! their turns waiting for the disk while the cores idled (issue #52, docs/benchmarks.md).
//!
//! How: each writer's work is a savepoint inside the group's transaction. When it is done it releases the
//! savepoint and, if nobody is queued, commits at once (an idle server commits exactly as before). If others
//! are queued it queues again behind them; they join the same transaction; when its turn comes round and the
//! group is still open it commits it for everyone. So a group is one round of the queue.
//!
//! Durability is unchanged: `commit()` returns only after the COMMIT holding the writer's work returned from its
//! fsync. If that COMMIT fails, every member of the group gets the error and none of their work is in the
//! database (as if each had failed alone). A writer that fails or is dropped is rolled back to its savepoint
//! only; the others' work stays. Writes on other connections (the ephemeral pool) first close the open group
//! ([`GroupCommit::exclusive`]), so they never wait on SQLite's lock behind it.
//!
//! The write connection is the only one of a pool of its own (no lifetime limit, no check on release: its
//! transaction outlives each member's hold on it), so it is closed, and the WAL checkpointed, as the other
//! pools' connections are when the process ends.

use crate::StoreError;
use sqlx::pool::PoolConnection;
use sqlx::{Executor as _, Sqlite, SqliteConnection, SqlitePool};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// `IMMEDIATE`: the write lock is taken at once (waiting for another process through `busy_timeout`), so no
/// member's read can be overtaken by another process's commit before the group writes.
const BEGIN: &str = "BEGIN IMMEDIATE";
const SAVEPOINT: &str = "SAVEPOINT hcpki_writer";
const RELEASE: &str = "RELEASE hcpki_writer";
const ROLLBACK_TO: &str = "ROLLBACK TO hcpki_writer";
/// Failed groups whose failure is kept for members still to read it. Groups close in the order they open, so a
/// closed group not among the failures committed; a member reads its outcome within one round of the queue, and
/// a thousand groups failing within one round is not a load this process survives anyway.
const KEPT_FAILURES: usize = 1024;

/// A group transaction's number in this process.
type GroupId = u64;

/// Why a group's COMMIT failed, as each of its members reports it.
#[derive(Clone, Debug)]
struct Failure {
    unavailable: bool,
    message: String,
}

impl Failure {
    fn of(e: &StoreError) -> Self {
        Self { unavailable: matches!(e, StoreError::Unavailable(_)), message: e.to_string() }
    }

    fn error(&self) -> StoreError {
        let message = format!("{} (the group commit holding this write failed; nothing of it was kept)", self.message);
        if self.unavailable { StoreError::Unavailable(message) } else { StoreError::Database(message) }
    }
}

fn err(e: sqlx::Error) -> StoreError {
    super::errors::map(crate::Backend::Sqlite, e)
}

/// The open group, behind the queue's mutex.
#[derive(Debug)]
pub(crate) struct WriteGroup {
    /// The group transaction open on the write connection.
    open: Option<GroupId>,
    last: GroupId,
    /// A member left inside its savepoint (failed, dropped): the next holder rolls it back first.
    dirty: bool,
    /// Every group up to this one is closed (committed unless among `failed`).
    closed_through: GroupId,
    failed: VecDeque<(GroupId, Failure)>,
}

impl WriteGroup {
    /// Roll back what a member left inside its savepoint; if even that fails, the whole group is lost.
    async fn settle(&mut self, conn: &mut SqliteConnection) {
        if !self.dirty {
            return;
        }
        self.dirty = false;
        let undone = match conn.execute(ROLLBACK_TO).await {
            Ok(_) => conn.execute(RELEASE).await.map(|_| ()),
            Err(e) => Err(e),
        };
        if let Err(e) = undone {
            self.abort(conn, Failure::of(&err(e))).await;
        }
    }

    /// Commit the open group (after settling), recording its outcome for its members.
    async fn close(&mut self, conn: &mut SqliteConnection) -> Result<(), StoreError> {
        self.settle(conn).await;
        let Some(id) = self.open else { return Ok(()) };
        match conn.execute("COMMIT").await {
            Ok(_) => {
                self.open = None;
                self.record(id, Ok(()));
                Ok(())
            }
            Err(e) => {
                let failure = Failure::of(&err(e));
                self.abort(conn, failure.clone()).await;
                Err(failure.error())
            }
        }
    }

    /// Give the open group up: roll back (SQLite may have done so itself on an I/O error) and tell its members.
    async fn abort(&mut self, conn: &mut SqliteConnection, failure: Failure) {
        if let Some(id) = self.open.take() {
            if let Err(e) = conn.execute("ROLLBACK").await {
                tracing::debug!(error = %e, "ROLLBACK of a failed write group (SQLite may have rolled it back)");
            }
            tracing::error!(error = %failure.message, "a group of writes could not be committed; each writer got the error");
            self.record(id, Err(failure));
        }
    }

    fn record(&mut self, id: GroupId, outcome: Result<(), Failure>) {
        self.closed_through = self.closed_through.max(id);
        if let Err(failure) = outcome {
            self.failed.push_back((id, failure));
            while self.failed.len() > KEPT_FAILURES {
                self.failed.pop_front();
            }
        }
    }

    fn outcome(&self, id: GroupId) -> Option<Result<(), StoreError>> {
        if id > self.closed_through {
            return None;
        }
        Some(match self.failed.iter().find(|(failed, _)| *failed == id) {
            Some((_, failure)) => Err(failure.error()),
            None => Ok(()),
        })
    }

    /// Whether something is left for a holder to finish (a savepoint to roll back, a group to commit).
    fn pending(&self) -> bool {
        self.dirty || self.open.is_some()
    }
}

/// The queue of this process's SQLite writers, their group transaction and its connection.
#[derive(Clone, Debug)]
pub(crate) struct GroupCommit {
    group: Arc<Mutex<WriteGroup>>,
    /// Writers waiting for the mutex: a member that finds none commits at once.
    queued: Arc<AtomicUsize>,
    /// The write connection, alone in its pool.
    writing: SqlitePool,
}

/// A place in the writers' queue with no group open, for writes on other connections.
pub(crate) type Exclusive = OwnedMutexGuard<WriteGroup>;

impl GroupCommit {
    /// The queue around `writing`, a pool of one connection that no other code uses.
    pub(crate) fn new(writing: SqlitePool) -> Self {
        let group = WriteGroup { open: None, last: 0, dirty: false, closed_through: 0, failed: VecDeque::new() };
        Self { group: Arc::new(Mutex::new(group)), queued: Arc::default(), writing }
    }

    async fn lock(&self) -> OwnedMutexGuard<WriteGroup> {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let guard = Arc::clone(&self.group).lock_owned().await;
        self.queued.fetch_sub(1, Ordering::SeqCst);
        guard
    }

    async fn connection(&self) -> Result<PoolConnection<Sqlite>, StoreError> {
        self.writing.acquire().await.map_err(err)
    }

    /// Finish what is pending (a member's savepoint, an open group) while holding the queue.
    async fn finish(&self, group: &mut WriteGroup) -> Result<(), StoreError> {
        if !group.pending() {
            return Ok(());
        }
        let mut conn = self.connection().await?;
        group.close(&mut conn).await
    }

    /// This process's turn to write, with the open group committed first: writes on another connection would
    /// otherwise wait in SQLite's busy handler for the group's lock. A failed COMMIT is its members' error (they
    /// read it), not this caller's.
    pub(crate) async fn exclusive(&self) -> Exclusive {
        let mut group = self.lock().await;
        if let Err(e) = self.finish(&mut group).await {
            tracing::debug!(error = %e, "closing the write group before an exclusive write");
        }
        group
    }

    /// Start a writer: join the open group (or open one) inside a savepoint of its own.
    pub(crate) async fn join(&self) -> Result<Member, StoreError> {
        let mut group = self.lock().await;
        let mut conn = self.connection().await?;
        group.settle(&mut conn).await;
        if group.open.is_none() {
            conn.execute(BEGIN).await.map_err(err)?;
            group.last += 1;
            group.open = Some(group.last);
        }
        if let Err(e) = conn.execute(SAVEPOINT).await {
            let e = err(e);
            group.abort(&mut conn, Failure::of(&e)).await;
            return Err(e);
        }
        group.dirty = true;
        Ok(Member { conn, group, queue: self.clone() })
    }
}

/// One writer's turn: its savepoint in the group transaction, the connection its statements run on.
#[derive(Debug)]
pub(crate) struct Member {
    conn: PoolConnection<Sqlite>,
    group: OwnedMutexGuard<WriteGroup>,
    queue: GroupCommit,
}

impl std::ops::Deref for Member {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for Member {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.conn
    }
}

impl Member {
    /// Keep this writer's work: release its savepoint, then commit the group now (nobody queued) or when this
    /// writer's turn comes round again. Returns once the work is durable, or with the group's error.
    pub(crate) async fn commit(mut self) -> Result<(), StoreError> {
        self.conn.execute(RELEASE).await.map_err(err)?;
        self.group.dirty = false;
        let Some(id) = self.group.open else {
            return Err(StoreError::Database("the write group closed under a writer".into()));
        };
        if self.queue.queued.load(Ordering::SeqCst) == 0 {
            // Closed here, nothing is left for `drop` to finish.
            let Self { conn, group, .. } = &mut self;
            return group.close(conn).await;
        }
        let queue = self.queue.clone();
        drop(self);
        let mut group = queue.lock().await;
        if let Some(outcome) = group.outcome(id) {
            return outcome;
        }
        if group.open == Some(id) {
            let mut conn = queue.connection().await?;
            return group.close(&mut conn).await;
        }
        Err(StoreError::Database(format!("write group {id} is neither open nor closed; check the audit log")))
    }

    /// Undo this writer's work but keep its turn (returned) for reads its caller still has to make.
    pub(crate) async fn roll_back(mut self) -> Self {
        let Self { conn, group, .. } = &mut self;
        group.settle(conn).await;
        self
    }
}

impl Drop for Member {
    /// A member dropped inside its savepoint, or leaving a group open with nobody queued to close it: finished by
    /// a task of its own once this member's hold is released, so the write lock is not kept until some later
    /// writer comes.
    fn drop(&mut self) {
        let stranded = self.group.open.is_some() && self.queue.queued.load(Ordering::SeqCst) == 0;
        if !(self.group.dirty || stranded) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let queue = self.queue.clone();
        runtime.spawn(async move {
            let mut group = queue.lock().await;
            if let Err(e) = queue.finish(&mut group).await {
                tracing::debug!(error = %e, "finishing a write group a writer left");
            }
        });
    }
}
