//! Group commit for concurrent single issuances, facility transitions and revocations.
//!
//! An enrollment request issues one certificate, and one issuance alone costs two durable commits (the
//! write-ahead intent, then the certificate with its audit entry). Under load those commits, not the
//! signature, bound the rate (decision D11's figures: ~700 single issuances/s against ~5 000/s in batches).
//! An approval (or any other facility transition) is one commit of a few rows, so commits are all it costs
//! (D35's 478–869 approvals/s), and so is a revocation (594/s at the national benchmark's 600k point). So a
//! long-running server routes [`Authority::issue`], [`Authority::transition`] and [`Authority::revoke`]
//! through [`GroupCommit`] workers: each batch runs through the normal pipeline, every request with its own
//! actor and its own audit entry, and each answer is what it would have been alone.

use super::queues::{Changed, Outcome, Queues, Revoked};
use super::{Authority, IssueRequest, RegistryError, RevocationError, SigningError};
use crate::group_commit::GroupCommit;
use crate::store::{Actor, FacilityChange, Revocation};
use std::sync::{Arc, Weak};

/// Most requests in one batch: large enough to share commits, small enough to bound one batch's latency.
const MAX_BATCH: usize = 256;
/// Requests waiting beyond this make callers wait to enqueue.
const QUEUE_DEPTH: usize = 4096;

impl Authority {
    /// Route [`Authority::issue`], [`Authority::transition`] and [`Authority::revoke`] through group-commit
    /// workers on the current tokio runtime. For servers (and the national benchmark, which measures what a
    /// server does); one-shot commands call the pipeline directly. A second call does nothing.
    pub fn start_group_commit(self: &Arc<Self>) {
        if self.queue.get().is_some() {
            return;
        }
        // Weak: the workers must not keep the authority (and so their own queues) alive forever. When the
        // authority is dropped, the queues go with it and the workers end.
        let (a, b, c) = (Arc::downgrade(self), Arc::downgrade(self), Arc::downgrade(self));
        let queues = Queues {
            issue: GroupCommit::start("issuance", MAX_BATCH, QUEUE_DEPTH, move |jobs| issue(a.clone(), jobs)),
            transition: GroupCommit::start("transition", MAX_BATCH, QUEUE_DEPTH, move |changes| {
                transition(b.clone(), changes)
            }),
            revocation: GroupCommit::start("revocation", MAX_BATCH, QUEUE_DEPTH, move |batch| revoke(c.clone(), batch)),
        };
        // Lost race with another caller: these queues are dropped and their workers end.
        let _ = self.queue.set(queues);
    }
}

async fn issue(authority: Weak<Authority>, jobs: Vec<(IssueRequest, Actor)>) -> Vec<Outcome> {
    let Some(authority) = authority.upgrade() else {
        return jobs.iter().map(|_| Err(SigningError::Batch(SHUTTING_DOWN.into()))).collect();
    };
    let batch: Vec<super::BatchItem<'_>> = jobs.iter().map(|(request, actor)| (request, actor, None)).collect();
    authority.issue_batch(&batch).await
}

async fn transition(authority: Weak<Authority>, changes: Vec<FacilityChange>) -> Vec<Changed> {
    let Some(authority) = authority.upgrade() else {
        return changes.iter().map(|_| Err(RegistryError::Batch(SHUTTING_DOWN.into()))).collect();
    };
    authority.transition_many(&changes).await
}

async fn revoke(authority: Weak<Authority>, batch: Vec<Revocation>) -> Vec<Revoked> {
    let Some(authority) = authority.upgrade() else {
        return batch.iter().map(|_| Err(RevocationError::Batch(SHUTTING_DOWN.into()))).collect();
    };
    authority.revoke_many(&batch).await
}

/// Why a request that reached a worker after the authority was dropped failed.
const SHUTTING_DOWN: &str = "the authority is shutting down";
