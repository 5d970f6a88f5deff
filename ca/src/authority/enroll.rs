//! The authority's side of enrollment: operators' credential commands, and the narrow interfaces the
//! protocol front ends declare ([`EstAuthority`]), implemented over the normal issuance pipeline.

use super::registrar::Registrar;
use super::{Authority, CaName, FacilityRefusal, IssueRequest, RegistryError, SigningError};
use crate::audit::{AuditEvent, Outcome};
use crate::enroll::acme::eab::EnrollmentKey;
use crate::enroll::credential::{self, CredentialCheck, CredentialError, Minted};
use crate::enroll::est::EstAuthority;
use crate::enroll::{Basis, CredentialRecord, EnrollAuthority, EnrollError, Grant, Holder, NewCredential, Protocol};
use crate::facility::FacilityId;
use crate::profile::{KeyClass, ProfileKind};
use crate::store::{Actor, CertStatus, StoreError};
use der::Decode;
use x509_cert::Certificate;

impl Registrar {
    /// Make an enrollment credential for an approved or active facility; the secret is returned once.
    pub async fn create_credential(&self, new: &NewCredential, actor: &Actor) -> Result<Minted, RegistryError> {
        let eab = match new.protocol {
            Protocol::Acme => Some(
                EnrollmentKey::load_or_create(&self.hierarchy.keys().base_dir)
                    .map_err(|e| CredentialError::EnrollmentKey(e.to_string()))?,
            ),
            _ => None,
        };
        let minted = credential::mint(new, actor.as_str(), self.hierarchy.now(), eab.as_ref())?;
        match self.enrollment.create_credential(&minted.record, actor, self.hierarchy.at()).await {
            Err(StoreError::UnknownFacility(id)) => Err(FacilityRefusal::Unknown(id).into()),
            Err(StoreError::FacilityState { id, state }) => Err(FacilityRefusal::State { id, state }.into()),
            other => Ok(other.map(|()| minted)?),
        }
    }

    /// Credentials of one facility or all, newest first.
    pub async fn credentials(&self, facility: Option<&FacilityId>) -> Result<Vec<CredentialRecord>, RegistryError> {
        Ok(self.enrollment.list_credentials(facility).await?)
    }

    /// Revoke a credential.
    pub async fn revoke_credential(&self, id: &str, actor: &Actor) -> Result<CredentialRecord, RegistryError> {
        match self.enrollment.revoke_credential(id, actor, self.hierarchy.at()).await {
            Err(StoreError::UnknownCredential(id)) => Err(CredentialError::Unknown(id).into()),
            other => Ok(other?),
        }
    }

    /// Check a credential and redeem it atomically (every protocol front end); audits both outcomes.
    pub async fn redeem_credential(
        &self,
        protocol: Protocol,
        id: &str,
        secret: &str,
        profile: Option<ProfileKind>,
    ) -> Result<Grant, EnrollError> {
        let record = self.enrollment.credential(id).await.map_err(unavailable)?;
        let checked = match &record {
            Some(r) => r.check(secret, protocol, profile, self.hierarchy.now()),
            None => Err(credential::Refusal::Unknown),
        };
        let (record, profile) = match (record, checked) {
            (Some(r), Ok(p)) => (r, p),
            (_, Err(refusal)) => {
                self.audit_credential_refusal(protocol, id, &refusal.to_string()).await;
                return Err(if refusal.is_authentication() {
                    EnrollError::Unauthenticated(
                        "unknown credential or wrong secret: check the username and password from `hcpki enroll \
                         credential`"
                            .into(),
                    )
                } else {
                    EnrollError::Forbidden(format!("{refusal}: ask the operator for a new credential"))
                });
            }
            (None, Ok(_)) => return Err(unavailable("credential vanished")),
        };
        let grant = Grant { facility: record.facility, profile, basis: Basis::Credential(record.id) };
        match self.enrollment.redeem_credential(id, profile, &grant.actor(protocol), self.hierarchy.at()).await {
            Ok(()) => Ok(grant),
            Err(StoreError::CredentialSpent(_)) => {
                // Lost a race with another use of the same credential.
                let reason = "credential was already used";
                self.audit_credential_refusal(protocol, id, reason).await;
                Err(EnrollError::Forbidden(format!("{reason}: ask the operator for a new credential")))
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    /// Audit a refused credential use (nothing changes, so no other row goes with it).
    async fn audit_credential_refusal(&self, protocol: Protocol, id: &str, reason: &str) {
        self.audit_denied(protocol, "enroll.credential.use", id, reason).await;
    }

    pub(super) async fn audit_denied(&self, protocol: Protocol, action: &str, target: &str, reason: &str) {
        let event = AuditEvent {
            actor: format!("{protocol}:anonymous"),
            action: action.to_owned(),
            target: target.to_owned(),
            outcome: Outcome::Denied,
            detail: serde_json::json!({ "protocol": protocol.as_str(), "reason": reason }),
        };
        if let Err(e) = self.audit.append_audit(&event, self.hierarchy.at()).await {
            tracing::error!(error = %e, "could not audit a refused enrollment");
        }
    }
}

/// Why a certificate presented over TLS is not accepted.
pub(super) enum Presented {
    /// Refused, with the reason (safe to show the client).
    Refused(String),
    /// The registry could not be read.
    Store(StoreError),
}

/// A presented certificate the registry knows: decoded, its row and its profile.
pub(super) struct Known {
    pub(super) cert: Certificate,
    pub(super) record: crate::store::CertificateRecord,
    pub(super) profile: ProfileKind,
}

impl Registrar {
    /// Check a certificate presented over TLS against the registry: issued by this CA (the stored DER is
    /// byte-identical), status issued, unexpired. Shared by EST re-enrollment and the admin API.
    pub(super) async fn presented(&self, certificate_der: &[u8]) -> Result<Known, Presented> {
        let Ok(cert) = Certificate::from_der(certificate_der) else {
            return Err(Presented::Refused("the client certificate does not decode".into()));
        };
        let serial = crate::serial::to_hex(cert.tbs_certificate().serial_number());
        let found = self
            .certificates
            .certificate_with_serial_octets(cert.tbs_certificate().serial_number().as_bytes())
            .await
            .map_err(Presented::Store)?;
        let record = match found {
            Some(r) if r.der.as_deref() == Some(certificate_der) => r,
            _ => return Err(Presented::Refused(format!("certificate {serial} was not issued by this CA"))),
        };
        if record.status != CertStatus::Issued || record.not_after <= self.hierarchy.now() {
            let why = match record.status {
                // A suspended facility's certificates are on hold (certificateHold) until it resumes.
                CertStatus::Revoked => "revoked or on hold (its facility is suspended or retired)",
                _ if record.status == CertStatus::Issued => "expired",
                _ => "not issued",
            };
            return Err(Presented::Refused(format!("certificate {serial} is {why}")));
        }
        let Some(profile) = record.profile.end_entity() else {
            return Err(Presented::Refused(format!("certificate {serial} is not an end-entity certificate")));
        };
        Ok(Known { cert, record, profile })
    }

    /// A facility certificate's facility, if it exists and may enroll (approved or active).
    pub(super) async fn in_good_standing(
        &self,
        known: Known,
    ) -> Result<(Certificate, crate::store::CertificateRecord, ProfileKind, FacilityId), Presented> {
        let Some(facility_id) = known.record.facility.clone() else {
            return Err(Presented::Refused(format!("certificate {} names no facility", known.record.serial)));
        };
        match self.facilities.facility(&facility_id).await.map_err(Presented::Store)? {
            Some(f) if f.state.may_enroll() => Ok((known.cert, known.record, known.profile, facility_id)),
            Some(f) => Err(Presented::Refused(format!("facility {} is {}", f.id, f.state))),
            None => Err(Presented::Refused(format!("facility {facility_id} does not exist"))),
        }
    }
}

/// Store trouble is the CA's problem, not the device's: log it whole, tell the device to retry.
pub(super) fn unavailable(e: impl std::fmt::Display) -> EnrollError {
    tracing::error!(error = %e, "enrollment failed on the CA side");
    EnrollError::Unavailable("the CA cannot serve this request now; retry later".into())
}

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
            SigningError::Facility(FacilityRefusal::State { .. } | FacilityRefusal::Unknown(_)) => {
                EnrollError::Forbidden(refusal.to_string())
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
            Ok(p) => Err(Presented::Refused(format!("certificate {} is not a facility certificate", p.record.serial))),
            Err(e) => Err(e),
        };
        let (cert, record, profile, facility) = match checked {
            Ok(ok) => ok,
            Err(Presented::Refused(reason)) => return refused(reason).await,
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
