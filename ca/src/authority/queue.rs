//! Group commit for concurrent single issuances.
//!
//! An enrollment request issues one certificate, and one issuance alone costs two durable commits (the
//! write-ahead intent, then the certificate with its audit entry). Under load those commits, not the
//! signature, bound the rate (decision D11's figures: ~700 single issuances/s against ~5 000/s in batches).
//! So a long-running server routes [`Authority::issue`] through this queue: one worker takes whatever
//! requests are waiting (up to [`MAX_BATCH`]) and runs them as one batch through the normal pipeline, each
//! with its own actor. An idle server sees batches of one and the latency of a direct call; a busy one gets
//! batches as large as the arrivals during one batch, so the commits are shared.
//!
//! The worker is a spawned task, so a caller that goes away (an HTTP client disconnecting) never cancels
//! a batch half-way; its certificate is still issued and audited, and only the answer is lost.

use super::{Authority, AuthorityError, IssueRequest};
use crate::issuer::Issued;
use crate::store::{Actor, CertificateRecord};
use std::sync::{Arc, Weak};
use tokio::sync::{mpsc, oneshot};

/// Most requests in one batch: large enough to share commits, small enough to bound one batch's latency.
const MAX_BATCH: usize = 256;
/// Requests waiting beyond this make callers wait to enqueue (back-pressure, not unbounded memory).
const QUEUE_DEPTH: usize = 4096;

type Outcome = Result<(Issued, CertificateRecord), AuthorityError>;

struct Job {
    request: IssueRequest,
    actor: Actor,
    reply: oneshot::Sender<Outcome>,
}

/// The sending side, held by the authority.
#[derive(Debug)]
pub(super) struct IssueQueue {
    jobs: mpsc::Sender<Job>,
}

impl IssueQueue {
    pub(super) async fn issue(&self, request: IssueRequest, actor: Actor) -> Outcome {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { request, actor, reply })
            .await
            .map_err(|_| AuthorityError::Batch("the issuance queue has stopped (server shutting down)".into()))?;
        answer.await.map_err(|_| AuthorityError::Batch("the issuance worker stopped before answering".into()))?
    }
}

impl Authority {
    /// Route [`Authority::issue`] through a group-commit worker on the current tokio runtime. For servers;
    /// one-shot commands call the pipeline directly. A second call does nothing.
    pub fn start_group_commit(self: &Arc<Self>) {
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        if self.queue.set(IssueQueue { jobs: tx }).is_ok() {
            // Weak: the worker must not keep the authority (and so its own queue) alive forever. When the
            // authority is dropped, the sender goes with it and `recv` ends the loop.
            tokio::spawn(work(Arc::downgrade(self), rx));
        }
    }
}

async fn work(authority: Weak<Authority>, mut rx: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let Some(authority) = authority.upgrade() else {
            break;
        };
        let batch: Vec<super::BatchItem<'_>> = jobs.iter().map(|j| (&j.request, &j.actor, None)).collect();
        let results = authority.issue_batch(&batch).await;
        drop(authority);
        for (job, result) in jobs.drain(..).zip(results) {
            // A caller that went away gets no answer; its certificate is issued and audited all the same.
            let _ = job.reply.send(result);
        }
    }
    tracing::debug!("issuance queue stopped");
}
