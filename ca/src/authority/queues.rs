//! The sending sides of the authority's group-commit queues (`queue` starts their workers): what the
//! authority holds and submits to, below both.

use super::error::{RegistryError, RevocationError, SigningError};
use super::request::IssueRequest;
use crate::facility::Facility;
use crate::group_commit::GroupCommit;
use crate::issuer::Issued;
use crate::store::{Actor, CertificateRecord, FacilityChange, Revocation};

pub(super) type Outcome = Result<(Issued, CertificateRecord), SigningError>;
pub(super) type Changed = Result<Facility, RegistryError>;
pub(super) type Revoked = Result<CertificateRecord, RevocationError>;

/// The sending sides, held by the authority.
#[derive(Debug)]
pub(super) struct Queues {
    pub(super) issue: GroupCommit<(IssueRequest, Actor), Outcome>,
    pub(super) transition: GroupCommit<FacilityChange, Changed>,
    pub(super) revocation: GroupCommit<Revocation, Revoked>,
}

impl Queues {
    pub(super) async fn issue(&self, request: IssueRequest, actor: Actor) -> Outcome {
        self.issue.submit((request, actor)).await.map_err(|e| SigningError::Batch(e.to_string()))?
    }

    pub(super) async fn transition(&self, change: FacilityChange) -> Changed {
        self.transition.submit(change).await.map_err(|e| RegistryError::Batch(e.to_string()))?
    }

    pub(super) async fn revoke(&self, revocation: Revocation) -> Revoked {
        self.revocation.submit(revocation).await.map_err(|e| RevocationError::Batch(e.to_string()))?
    }
}
