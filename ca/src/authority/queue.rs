//! Group commit for concurrent single issuances.
//!
//! An enrollment request issues one certificate, and one issuance alone costs two durable commits (the
//! write-ahead intent, then the certificate with its audit entry). Under load those commits, not the
//! signature, bound the rate (decision D11's figures: ~700 single issuances/s against ~5 000/s in batches).
//! So a long-running server routes [`Authority::issue`] through a [`GroupCommit`] worker: each batch runs
//! through the normal pipeline, every request with its own actor.

use super::{Authority, AuthorityError, IssueRequest};
use crate::group_commit::GroupCommit;
use crate::issuer::Issued;
use crate::store::{Actor, CertificateRecord};
use std::sync::{Arc, Weak};

/// Most requests in one batch: large enough to share commits, small enough to bound one batch's latency.
const MAX_BATCH: usize = 256;
/// Requests waiting beyond this make callers wait to enqueue.
const QUEUE_DEPTH: usize = 4096;

type Outcome = Result<(Issued, CertificateRecord), AuthorityError>;

/// The sending side, held by the authority.
#[derive(Debug)]
pub(super) struct IssueQueue(GroupCommit<(IssueRequest, Actor), Outcome>);

impl IssueQueue {
    pub(super) async fn issue(&self, request: IssueRequest, actor: Actor) -> Outcome {
        self.0.submit((request, actor)).await.map_err(|e| AuthorityError::Batch(e.to_string()))?
    }
}

impl Authority {
    /// Route [`Authority::issue`] through a group-commit worker on the current tokio runtime. For servers;
    /// one-shot commands call the pipeline directly. A second call does nothing.
    pub fn start_group_commit(self: &Arc<Self>) {
        if self.queue.get().is_some() {
            return;
        }
        // Weak: the worker must not keep the authority (and so its own queue) alive forever. When the
        // authority is dropped, the queue goes with it and the worker ends.
        let authority = Arc::downgrade(self);
        let queue = GroupCommit::start("issuance", MAX_BATCH, QUEUE_DEPTH, move |jobs| run(authority.clone(), jobs));
        // Lost race with another caller: this queue is dropped and its worker ends.
        let _ = self.queue.set(IssueQueue(queue));
    }
}

async fn run(authority: Weak<Authority>, jobs: Vec<(IssueRequest, Actor)>) -> Vec<Outcome> {
    let Some(authority) = authority.upgrade() else {
        return jobs.iter().map(|_| Err(AuthorityError::Batch("the authority is shutting down".into()))).collect();
    };
    let batch: Vec<super::BatchItem<'_>> = jobs.iter().map(|(request, actor)| (request, actor, None)).collect();
    authority.issue_batch(&batch).await
}
