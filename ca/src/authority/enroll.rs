//! The authority's side of enrollment: the narrow interfaces the protocol front ends declare
//! ([`EstAuthority`], [`EnrollAuthority`]), over the registrar's credentials and the issuance pipeline.

use super::{Authority, CaName, FacilityRefusal, IssueRequest, SigningError};
use crate::access::CertificateRefusal;
use crate::enroll::est::EstAuthority;
use crate::enroll::{Basis, EnrollAuthority, EnrollError, Grant, Holder, Protocol};
use crate::profile::{KeyClass, ProfileKind};
use crate::registrar::credentials::{Presented, unavailable};
use x509_cert::Certificate;

impl Authority {
    /// Issue under a grant through the normal pipeline; a refusal gives a redeemed credential back.
    pub(super) async fn enroll_issue(
        &self,
        protocol: Protocol,
        grant: &Grant,
        csr: crate::csr::Csr,
        sans: Vec<String>,
        device: Option<String>,
    ) -> Result<Vec<u8>, EnrollError> {
        let request = IssueRequest {
            profile: grant.profile,
            facility: Some(grant.facility.clone()),
            csr,
            sans,
            device,
            router: None,
            router_eku: None,
            ocsp_for: None,
            not_after: None,
        };
        let actor = grant.actor(protocol);
        let refusal = match self.pipeline.issue(&request, &actor).await {
            Ok((issued, _)) => return Ok(issued.der),
            Err(e) => e,
        };
        if let Basis::Credential(id) = &grant.basis
            && let Err(e) = self
                .registrar
                .enrollment
                .release_credential(id, &refusal.to_string(), &actor, self.hierarchy.at())
                .await
        {
            tracing::error!(error = %e, credential = id, "could not give back a credential after a refused issuance");
        }
        Err(match refusal {
            SigningError::Csr(_) | SigningError::Profile(_) => EnrollError::BadRequest(refusal.to_string()),
            SigningError::Facility(FacilityRefusal::State { .. } | FacilityRefusal::Unknown(_))
            | SigningError::Router(_) => EnrollError::Forbidden(refusal.to_string()),
            SigningError::Halted { .. } => EnrollError::Halted(refusal.to_string()),
            device if device.device_unavailable() => {
                // The operator's log names the token and what the module said; the device learns only that the
                // CA's key is out of reach for now and that nothing was issued (D154).
                tracing::error!(error = %device, "enrollment refused: the CA's signing device is unavailable");
                EnrollError::Unavailable(
                    "the CA's signing device is unavailable; nothing was issued — retry in a few minutes".into(),
                )
            }
            other => unavailable(other),
        })
    }
}

impl EstAuthority for Authority {
    fn accepted_keys(&self, profile: ProfileKind) -> Vec<KeyClass> {
        self.hierarchy.settings().spec(profile, None).keys.to_vec()
    }
}

#[async_trait::async_trait]
impl EnrollAuthority for Authority {
    fn chain(&self, profile: ProfileKind) -> Result<Vec<Vec<u8>>, EnrollError> {
        let ca = CaName::for_profile(profile).ok_or_else(|| EnrollError::BadRequest(format!("no CA for {profile}")))?;
        Authority::chain(self, ca).map_err(unavailable)
    }

    fn other_generation(&self, profile: ProfileKind) -> Vec<Vec<u8>> {
        let own = CaName::for_profile(profile).and_then(|ca| self.hierarchy.other_generation(ca));
        own.into_iter().chain(self.hierarchy.root_overlap()).map(<[u8]>::to_vec).collect()
    }

    fn next_ca(&self, profile: ProfileKind) -> Option<Vec<u8>> {
        CaName::for_profile(profile).and_then(|ca| self.hierarchy.next_generation(ca)).map(<[u8]>::to_vec)
    }

    async fn redeem(
        &self,
        protocol: Protocol,
        id: &str,
        secret: &str,
        profile: Option<ProfileKind>,
    ) -> Result<Grant, EnrollError> {
        self.registrar.redeem_credential(protocol, id, secret, profile).await
    }

    async fn holder(&self, protocol: Protocol, certificate_der: &[u8]) -> Result<Holder, EnrollError> {
        let refused = |reason: String| async move {
            self.registrar.audit_denied(protocol, "enroll.certificate.use", "-", &reason).await;
            Err(EnrollError::Forbidden(reason))
        };
        let checked = match self.registrar.presented(certificate_der).await {
            Ok(p) if matches!(p.profile, ProfileKind::Router | ProfileKind::Pc) => {
                self.registrar.in_good_standing(p).await
            }
            Ok(p) => Err(Presented::Refused(CertificateRefusal::NotFacilityCertificate(p.record.serial))),
            Err(e) => Err(e),
        };
        let (cert, record, profile, facility) = match checked {
            Ok(ok) => ok,
            Err(Presented::Refused(reason)) => return refused(reason.to_string()).await,
            Err(Presented::Store(e)) => return Err(unavailable(e)),
        };
        let (sans, device) = names_of(&cert, &record.sans, profile);
        Ok(Holder { serial: record.serial.into_string(), facility, profile, sans, device })
    }

    async fn issue(
        &self,
        protocol: Protocol,
        grant: &Grant,
        csr: crate::csr::Csr,
        sans: Vec<String>,
        device: Option<String>,
    ) -> Result<Vec<u8>, EnrollError> {
        self.enroll_issue(protocol, grant, csr, sans, device).await
    }

    async fn refused(&self, protocol: Protocol, operation: &str, reason: &str) {
        self.registrar.audit_denied(protocol, &format!("{protocol}.{operation}"), "-", reason).await;
    }
}

/// A certificate's names as a new name request: DNS names and IP addresses (the subject CN first, so the
/// router profile keeps the same subject), or the device ID of a PC.
fn names_of(cert: &Certificate, display: &[String], profile: ProfileKind) -> (Vec<String>, Option<String>) {
    if profile == ProfileKind::Pc {
        let device = display
            .iter()
            .filter_map(|s| s.strip_prefix("URI:"))
            .find_map(crate::profile::pc::parse_identity_uri)
            .map(|(_, device)| device);
        // Its host name, if it has one, is kept too.
        let host = display.iter().filter_map(|s| s.strip_prefix("DNS:")).map(str::to_owned).collect();
        return (host, device);
    }
    let mut sans: Vec<String> = display
        .iter()
        .filter_map(|s| s.strip_prefix("DNS:").or_else(|| s.strip_prefix("IP:")))
        .map(str::to_owned)
        .collect();
    let cn = hcpki_model::name::common_name(cert.tbs_certificate().subject());
    if let Some(pos) = cn.and_then(|cn| sans.iter().position(|s| *s == cn)) {
        let first = sans.remove(pos);
        sans.insert(0, first);
    }
    (sans, None)
}
