//! Group commit for concurrent single issuances, facility transitions and revocations.
//!
//! An enrollment request issues one certificate, and one issuance alone costs two durable commits (the
//! write-ahead intent, then the certificate with its audit entry). Under load those commits, not the
//! signature, bound the rate (decision D11's figures: ~700 single issuances/s against ~5 000/s in batches).
//! An approval (or any other facility transition) is one commit of a few rows, so commits are all it costs
//! (D35's 478–869 approvals/s), and so is a revocation (594/s at the national benchmark's 600k point). So a
//! long-running server routes [`Pipeline::issue`], [`Registrar::transition`] and [`Revoker::revoke`]
//! through [`GroupCommit`] workers: each batch runs through the normal pipeline, every request with its own
//! actor and its own audit entry, and each answer is what it would have been alone.

use super::{Authority, IssueRequest, RegistryError, RevocationError, SigningError};
use crate::group_commit::GroupCommit;
use crate::pipeline::{BatchItem, Outcome, Pipeline};
use crate::registrar::{Changed, Registrar};
use crate::revoker::{Revoked, Revoker};
use crate::store::{Actor, FacilityChange, Revocation};
use std::sync::{Arc, Weak};

/// Most requests in one batch: large enough to share commits, small enough to bound one batch's latency.
const MAX_BATCH: usize = 256;
/// Requests waiting beyond this make callers wait to enqueue.
const QUEUE_DEPTH: usize = 4096;

impl Authority {
    /// Route [`Pipeline::issue`], [`Registrar::transition`] and [`Revoker::revoke`] through group-commit
    /// workers on the current tokio runtime. For servers (and the national benchmark, which measures what a
    /// server does); one-shot commands call the pipeline directly. A second call does nothing.
    pub fn start_group_commit(&self) {
        self.pipeline.start_group_commit();
        self.registrar.start_group_commit();
        self.revoker.start_group_commit();
    }
}

// Each worker holds its part by `Weak`: the workers must not keep the part (and so their own queue) alive
// forever. When the part is dropped, its queue goes with it and the worker ends. A lost race with another
// caller drops the second queue, and its worker ends.

impl Pipeline {
    /// Route [`Pipeline::issue`] through a group-commit worker (see [`Authority::start_group_commit`]).
    pub fn start_group_commit(self: &Arc<Self>) {
        if self.queue.get().is_none() {
            let part = Arc::downgrade(self);
            let _ = self
                .queue
                .set(GroupCommit::start("issuance", MAX_BATCH, QUEUE_DEPTH, move |jobs| issue(part.clone(), jobs)));
        }
    }
}

impl Registrar {
    /// Route [`Registrar::transition`] through a group-commit worker (see [`Authority::start_group_commit`]).
    pub fn start_group_commit(self: &Arc<Self>) {
        if self.queue.get().is_none() {
            let part = Arc::downgrade(self);
            let _ = self.queue.set(GroupCommit::start("transition", MAX_BATCH, QUEUE_DEPTH, move |changes| {
                transition(part.clone(), changes)
            }));
        }
    }
}

impl Revoker {
    /// Route [`Revoker::revoke`] through a group-commit worker (see [`Authority::start_group_commit`]).
    pub fn start_group_commit(self: &Arc<Self>) {
        if self.queue.get().is_none() {
            let part = Arc::downgrade(self);
            let _ = self.queue.set(GroupCommit::start("revocation", MAX_BATCH, QUEUE_DEPTH, move |batch| {
                revoke(part.clone(), batch)
            }));
        }
    }
}

async fn issue(pipeline: Weak<Pipeline>, jobs: Vec<(IssueRequest, Actor)>) -> Vec<Outcome> {
    let Some(pipeline) = pipeline.upgrade() else {
        return jobs.iter().map(|_| Err(SigningError::Batch(SHUTTING_DOWN.into()))).collect();
    };
    let batch: Vec<BatchItem<'_>> = jobs.iter().map(|(request, actor)| (request, actor, None)).collect();
    pipeline.issue_batch(&batch).await
}

async fn transition(registrar: Weak<Registrar>, changes: Vec<FacilityChange>) -> Vec<Changed> {
    let Some(registrar) = registrar.upgrade() else {
        return changes.iter().map(|_| Err(RegistryError::Batch(SHUTTING_DOWN.into()))).collect();
    };
    registrar.transition_many(&changes).await
}

async fn revoke(revoker: Weak<Revoker>, batch: Vec<Revocation>) -> Vec<Revoked> {
    let Some(revoker) = revoker.upgrade() else {
        return batch.iter().map(|_| Err(RevocationError::Batch(SHUTTING_DOWN.into()))).collect();
    };
    revoker.revoke_many(&batch).await
}

/// Why a request that reached a worker after the authority was dropped failed.
const SHUTTING_DOWN: &str = "the authority is shutting down";
