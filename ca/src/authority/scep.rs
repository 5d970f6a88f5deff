//! The authority's side of SCEP ([`ScepAuthority`]): held requests, certificate look-up and CRLs.

use super::enroll::unavailable;
use super::{Authority, CaName};
use crate::enroll::EnrollError;
use crate::enroll::scep::{Decision, PendingRequest, ScepAuthority};
use crate::profile::ProfileKind;
use crate::store::CertStatus;

#[async_trait::async_trait]
impl ScepAuthority for Authority {
    async fn hold(&self, request: PendingRequest) -> Result<(), EnrollError> {
        let reason = "requests without a challenge password are not held yet: use a challenge from `hcpki enroll \
                      credential --protocol scep`";
        self.audit_denied(crate::enroll::Protocol::Scep, "scep.request.hold", &request.transaction_id, reason).await;
        Err(EnrollError::Forbidden(reason.into()))
    }

    async fn pending(&self, _profile: ProfileKind, _transaction_id: &str) -> Result<Option<Decision>, EnrollError> {
        Ok(None)
    }

    async fn certificate(&self, profile: ProfileKind, serial: &str) -> Result<Option<Vec<u8>>, EnrollError> {
        let Some(ca) = CaName::for_profile(profile) else { return Ok(None) };
        let record = self.store.certificate(serial).await.map_err(unavailable)?;
        Ok(record.filter(|r| r.ca == ca.as_str() && r.status == CertStatus::Issued).and_then(|r| r.der))
    }

    async fn crl(&self, _profile: ProfileKind) -> Result<Vec<u8>, EnrollError> {
        // Revocation and CRL publication are issue #5; until then GetCRL is refused rather than answered with
        // a CRL that would claim nothing is revoked.
        Err(EnrollError::BadRequest("CRLs are not published yet (issue #5)".into()))
    }
}
