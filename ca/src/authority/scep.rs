//! The authority's side of SCEP ([`ScepAuthority`]): requests held for an operator, certificate look-up and
//! CRLs; and approving a held request (it issues).

use super::{Authority, CaName, IssueRequest, SigningError};
use crate::enroll::scep::held::{HeldRequest, HeldState};
use crate::enroll::scep::{Decision, PendingRequest, ScepAuthority};
use crate::enroll::{EnrollError, Protocol};
use crate::facility::FacilityId;
use crate::profile::ProfileKind;
use crate::registrar::credentials::unavailable;
use crate::store::{Actor, CertStatus, StoreError};
use der::Decode as _;

impl Authority {
    /// Approve a held request: issue its certificate through the normal pipeline (as `actor`) and record
    /// the decision; the client's next poll receives the certificate. A refused issuance leaves the request
    /// pending and says why.
    pub async fn approve_held(&self, id: &str, actor: &Actor) -> Result<HeldRequest, SigningError> {
        let request = self.registrar.pending_held(id).await?;
        let checked = crate::csr::parse(&request.csr)?;
        let sans = match request.profile {
            ProfileKind::Router => checked.requested_sans().to_vec(),
            _ => Vec::new(),
        };
        let issue = IssueRequest {
            profile: request.profile,
            facility: Some(request.facility.clone()),
            csr: checked.into(),
            sans,
            device: None,
            router: None,
            router_eku: None,
            ocsp_for: None,
            not_after: None,
        };
        let (issued, _) = self.pipeline.issue(&issue, actor).await?;
        Ok(self.registrar.decide(id, &HeldState::Issued(issued.serial.into_string()), actor).await?)
    }
}

#[async_trait::async_trait]
impl ScepAuthority for Authority {
    async fn hold(&self, request: PendingRequest) -> Result<(), EnrollError> {
        let transaction = request.transaction_id.clone();
        let refused = |reason: String| async move {
            self.registrar.audit_denied(Protocol::Scep, "scep.request.hold", &transaction, &reason).await;
            Err(EnrollError::Forbidden(reason))
        };
        let facility = match FacilityId::parse(&request.facility) {
            Ok(f) => f,
            Err(e) => return refused(format!("the CSR's serialNumber is not a facility ID: {e}")).await,
        };
        let id = hcpki_pkix::keys::random_secret(8).map(|b| hex::encode(b.as_slice())).map_err(unavailable)?;
        let held = HeldRequest {
            id,
            transaction_id: request.transaction_id.clone(),
            profile: request.profile,
            facility,
            csr: request.csr.clone(),
            state: HeldState::Pending,
            created_at: self.hierarchy.now(),
            decided_at: None,
            decided_by: None,
        };
        let actor = Actor(format!("scep:transaction:{}", request.transaction_id));
        match self.registrar.enrollment.hold_scep_request(&held, &actor, self.hierarchy.at()).await {
            Ok(()) => {
                tracing::info!(id = held.id, facility = %held.facility, "SCEP request held for an operator");
                Ok(())
            }
            Err(StoreError::UnknownFacility(id)) => refused(format!("facility {id} does not exist")).await,
            Err(StoreError::FacilityState { id, state }) => refused(format!("facility {id} is {state}")).await,
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn pending(&self, profile: ProfileKind, transaction_id: &str) -> Result<Option<Decision>, EnrollError> {
        let Some(held) = self
            .registrar
            .enrollment
            .scep_request_by_transaction(profile, transaction_id)
            .await
            .map_err(unavailable)?
        else {
            return Ok(None);
        };
        Ok(Some(match held.state {
            HeldState::Pending => Decision::Pending,
            HeldState::Rejected(reason) => Decision::Rejected(reason),
            HeldState::Issued(serial) => {
                let record = self.registrar.certificates.certificate_by_text(&serial).await.map_err(unavailable)?;
                match record.and_then(|r| r.der) {
                    Some(der) => Decision::Issued(der),
                    None => {
                        return Err(unavailable(format!(
                            "held request {} names missing certificate {serial}",
                            held.id
                        )));
                    }
                }
            }
        }))
    }

    async fn certificate(&self, profile: ProfileKind, serial: &str) -> Result<Option<Vec<u8>>, EnrollError> {
        let Some(ca) = CaName::for_profile(profile) else { return Ok(None) };
        let record = self.registrar.certificates.certificate_by_text(serial).await.map_err(unavailable)?;
        Ok(record.filter(|r| r.ca == ca && r.status == CertStatus::Issued).and_then(|r| r.der))
    }

    async fn crl(&self, profile: ProfileKind, issuer: &x509_cert::name::Name) -> Result<Vec<u8>, EnrollError> {
        let ca = CaName::for_profile(profile).ok_or_else(|| EnrollError::BadRequest(format!("no CA for {profile}")))?;
        // Each generation in service answers for its own certificates (D151); generations are named apart.
        let served = self.hierarchy.generations(ca);
        let named = |g: &u32| {
            self.hierarchy
                .generation_certificate(ca, *g)
                .and_then(|der| x509_cert::Certificate::from_der(der).ok())
                .is_some_and(|c| c.tbs_certificate().subject() == issuer)
        };
        let generation = std::iter::once(served.current).chain(served.previous).find(named).ok_or_else(|| {
            EnrollError::BadRequest(format!(
                "no generation of the {ca} CA in service here is named {issuer}: ask for the CRL of a certificate \
                 this CA issued (GetCRL's issuer is that certificate's issuer)"
            ))
        })?;
        let scope = crate::revocation::shard::CrlScope::of_generation(ca, generation, None);
        self.revoker.crl(scope).await.map_err(unavailable)
    }
}
