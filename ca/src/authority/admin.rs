//! An operator's certificate: issued through the pipeline, then the operator recorded by the registrar.

use super::{Authority, AuthorityError, IssueRequest};
use crate::issuer::Issued;
use crate::operator::{OperatorError, OperatorName, OperatorRecord, OperatorRole};
use crate::profile::ProfileKind;
use crate::store::{Actor, CertificateRecord, StoreError};

impl Authority {
    /// Add an operator (or change an enabled one's role) and issue an operator certificate for the CSR
    /// through the normal pipeline. The certificate is issued first: should recording the operator fail,
    /// the certificate names nobody the registry knows and authenticates nothing.
    pub async fn add_operator(
        &self,
        name: &OperatorName,
        role: OperatorRole,
        csr: Vec<u8>,
        actor: &Actor,
    ) -> Result<(Issued, CertificateRecord, OperatorRecord), AuthorityError> {
        if self.registrar.operators.operator(name).await?.is_some_and(|o| o.disabled_at.is_some()) {
            return Err(OperatorError::Disabled(name.to_string()).into());
        }
        let request = IssueRequest {
            profile: ProfileKind::Operator,
            facility: None,
            csr: csr.into(),
            sans: Vec::new(),
            device: Some(name.to_string()),
            router: None,
            router_eku: None,
            ocsp_for: None,
            not_after: None,
        };
        let (issued, cert) = self.pipeline.issue(&request, actor).await?;
        let record = OperatorRecord {
            name: name.clone(),
            role,
            created_by: actor.as_str().to_owned(),
            created_at: self.hierarchy.now(),
            disabled_at: None,
            disabled_by: None,
        };
        let stored = match self.registrar.operators.put_operator(&record, actor, self.hierarchy.at()).await {
            Err(StoreError::OperatorDisabled(n)) => return Err(OperatorError::Disabled(n).into()),
            other => other?,
        };
        Ok((issued, cert, stored))
    }
}
