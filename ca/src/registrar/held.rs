//! SCEP requests held for an operator (`hcpki enroll held`): listing them and rejecting one; approving one
//! issues, so it is the authority's.

use super::Registrar;
use crate::enroll::scep::held::{HeldRequest, HeldState};
use crate::error::SigningError;
use crate::store::{Actor, StoreError};

impl Registrar {
    /// Held SCEP requests, newest first (`state`: `pending`, `issued` or `rejected`; `None`: all).
    pub async fn held_requests(&self, state: Option<&str>) -> Result<Vec<HeldRequest>, SigningError> {
        Ok(self.enrollment.list_scep_requests(state).await?)
    }

    /// Reject a held request; the client's next poll gets FAILURE badRequest.
    pub async fn reject_held(&self, id: &str, reason: &str, actor: &Actor) -> Result<HeldRequest, SigningError> {
        self.pending_held(id).await?;
        Ok(self.decide(id, &HeldState::Rejected(reason.to_owned()), actor).await?)
    }

    pub(crate) async fn pending_held(&self, id: &str) -> Result<HeldRequest, SigningError> {
        match self.enrollment.scep_request(id).await? {
            Some(r) if r.state == HeldState::Pending => Ok(r),
            _ => Err(StoreError::UnknownHeldRequest(id.to_owned()).into()),
        }
    }

    pub(crate) async fn decide(
        &self,
        id: &str,
        decision: &HeldState,
        actor: &Actor,
    ) -> Result<HeldRequest, StoreError> {
        self.enrollment.decide_scep_request(id, decision, actor, self.hierarchy.at()).await
    }
}
