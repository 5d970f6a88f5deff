//! Group commit: many concurrent callers, one worker, one batch per turn.
//!
//! Under load, durable commits rather than CPU bound the hot write paths: with SQLite `synchronous = FULL`
//! every commit waits for an fsync, one writer at a time. Single issuances at enrollment (D11) and the token
//! endpoint's code redemptions and refresh rotations (D28) each made one such commit per request. A
//! [`GroupCommit`] hands each caller's item to one spawned worker, which takes whatever is waiting (up to its
//! batch size) and runs it as one batch: an idle server sees batches of one and the latency of a direct call;
//! a busy one shares each commit among everything that arrived while the previous batch ran. There is no
//! timed window to collect items, so it adds no latency at low load.
//!
//! The worker is a spawned task, so a caller that goes away (an HTTP client disconnecting drops its future)
//! never cancels a batch half-way; the item is still applied and only the answer is lost.

use std::future::Future;
use tokio::sync::{mpsc, oneshot};

/// Why an item got no answer.
#[derive(Debug, thiserror::Error)]
pub enum GroupCommitError {
    /// The worker is gone: the server is shutting down.
    #[error("the {0} queue has stopped (the server is shutting down): retry against another replica or later")]
    Stopped(&'static str),
    /// The worker dropped the item without an answer (the batch function returned fewer results).
    #[error("the {0} worker stopped before answering: retry later")]
    NoAnswer(&'static str),
}

/// The sending side of a group-commit worker.
pub struct GroupCommit<T, R> {
    name: &'static str,
    jobs: mpsc::Sender<(T, oneshot::Sender<R>)>,
}

impl<T, R> std::fmt::Debug for GroupCommit<T, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").field("name", &self.name).finish_non_exhaustive()
    }
}

impl<T: Send + 'static, R: Send + 'static> GroupCommit<T, R> {
    /// Spawn the worker on the current tokio runtime. `run` gets each batch (at most `max_batch` items, in
    /// arrival order) and returns one result per item, in the same order. At most `depth` items wait; beyond
    /// that, callers wait to enqueue (back-pressure, not unbounded memory). The worker ends when the last
    /// `GroupCommit` handle is dropped, so `run` must not own one (hold a `Weak` to what owns it).
    pub fn start<F, Fut>(name: &'static str, max_batch: usize, depth: usize, mut run: F) -> Self
    where
        F: FnMut(Vec<T>) -> Fut + Send + 'static,
        Fut: Future<Output = Vec<R>> + Send,
    {
        let (jobs, mut rx) = mpsc::channel::<(T, oneshot::Sender<R>)>(depth.max(1));
        let max_batch = max_batch.max(1);
        tokio::spawn(async move {
            let mut waiting = Vec::with_capacity(max_batch);
            while rx.recv_many(&mut waiting, max_batch).await > 0 {
                let (items, replies): (Vec<T>, Vec<oneshot::Sender<R>>) = waiting.drain(..).unzip();
                let results = run(items).await;
                for (reply, result) in replies.into_iter().zip(results) {
                    // A caller that went away gets no answer; its item was applied all the same.
                    let _ = reply.send(result);
                }
            }
            tracing::debug!(queue = name, "group-commit queue stopped");
        });
        Self { name, jobs }
    }

    /// Queue `item` and wait for its result.
    pub async fn submit(&self, item: T) -> Result<R, GroupCommitError> {
        let (reply, answer) = oneshot::channel();
        self.jobs.send((item, reply)).await.map_err(|_| GroupCommitError::Stopped(self.name))?;
        answer.await.map_err(|_| GroupCommitError::NoAnswer(self.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn items_waiting_behind_a_batch_share_the_next_one_and_each_gets_its_own_answer() {
        const ITEMS: usize = 200;
        const DEPTH: usize = 1024;
        let sizes = Arc::new(std::sync::Mutex::new(Vec::new()));
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        let (recorded, gated) = (sizes.clone(), gate.clone());
        let queue = Arc::new(GroupCommit::start("test", 256, DEPTH, move |items: Vec<usize>| {
            recorded.lock().unwrap().push(items.len());
            let gate = gated.clone();
            async move {
                // Each batch waits for the test's go, so the test decides what piles up meanwhile.
                if let Ok(permit) = gate.acquire().await {
                    permit.forget();
                }
                items.into_iter().map(|i| i * 2).collect::<Vec<_>>()
            }
        }));
        let mut handles = Vec::new();
        for i in 0..ITEMS {
            let q = queue.clone();
            handles.push(tokio::spawn(async move { (i, q.submit(i).await.unwrap()) }));
        }
        // Wait until every item is in the first (held) batch or queued behind it.
        loop {
            let first = sizes.lock().unwrap().first().copied().unwrap_or(0);
            if first > 0 && first + (DEPTH - queue.jobs.capacity()) == ITEMS {
                break;
            }
            tokio::task::yield_now().await;
        }
        gate.add_permits(ITEMS);
        for h in handles {
            let (i, doubled) = h.await.unwrap();
            assert_eq!(doubled, i * 2, "every caller gets the answer to its own item");
        }
        let sizes = sizes.lock().unwrap().clone();
        assert!(sizes.len() <= 2, "what waited behind the first batch ran as one batch: {sizes:?}");
        assert_eq!(sizes.iter().sum::<usize>(), ITEMS);
    }

    #[tokio::test]
    async fn a_short_answer_is_an_error_not_a_hang() {
        let queue = GroupCommit::start("short", 8, 8, |_items: Vec<u32>| async { Vec::<u32>::new() });
        assert!(matches!(queue.submit(1).await, Err(GroupCommitError::NoAnswer("short"))));
    }
}
