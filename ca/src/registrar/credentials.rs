//! Enrollment credentials (operators' commands, every protocol front end's redemption), audited refusals of
//! enrollment, and the check of a certificate presented over TLS (EST re-enrollment, the admin API).

use super::Registrar;
use crate::access::CertificateRefusal;
use crate::audit::{AuditEvent, Outcome};
use crate::enroll::acme::eab::EnrollmentKey;
use crate::enroll::credential::{self, CredentialCheck, CredentialError, Minted};
use crate::enroll::{Basis, CredentialRecord, EnrollError, Grant, NewCredential, Protocol};
use crate::error::{FacilityRefusal, RegistryError};
use crate::facility::FacilityId;
use crate::profile::ProfileKind;
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
        let minted = credential::mint(new, actor.as_str(), self.hierarchy.at(), eab.as_ref())?;
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
            Some(r) => r.check(secret, protocol, profile, self.hierarchy.at()),
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

    pub(crate) async fn audit_denied(&self, protocol: Protocol, action: &str, target: &str, reason: &str) {
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
pub(crate) enum Presented {
    /// Refused, with the reason (safe to show the client).
    Refused(CertificateRefusal),
    /// The registry could not be read.
    Store(StoreError),
}

/// A presented certificate the registry knows: decoded, its row and its profile.
pub(crate) struct Known {
    pub(crate) cert: Certificate,
    pub(crate) record: crate::store::CertificateRecord,
    pub(crate) profile: ProfileKind,
}

impl Registrar {
    /// Check a certificate presented over TLS against the registry: issued by this CA (the stored DER is
    /// byte-identical), status issued, unexpired. Shared by EST re-enrollment and the admin API.
    pub(crate) async fn presented(&self, certificate_der: &[u8]) -> Result<Known, Presented> {
        let Ok(cert) = Certificate::from_der(certificate_der) else {
            return Err(Presented::Refused(CertificateRefusal::Undecodable));
        };
        let serial = crate::serial::to_hex(cert.tbs_certificate().serial_number());
        let found = self
            .certificates
            .certificate_with_serial_octets(cert.tbs_certificate().serial_number().as_bytes())
            .await
            .map_err(Presented::Store)?;
        let record = match found {
            Some(r) if r.der.as_deref() == Some(certificate_der) => r,
            _ => return Err(Presented::Refused(CertificateRefusal::NotIssuedHere(serial))),
        };
        if record.status != CertStatus::Issued || record.not_after <= self.hierarchy.now() {
            let serial = record.serial.clone();
            let why = match record.status {
                // A suspended facility's certificates are on hold (certificateHold) until it resumes.
                CertStatus::Revoked => CertificateRefusal::Revoked(serial),
                _ if record.status == CertStatus::Issued => CertificateRefusal::Expired(serial),
                _ => CertificateRefusal::NotIssued(serial),
            };
            return Err(Presented::Refused(why));
        }
        let Some(profile) = record.profile.end_entity() else {
            return Err(Presented::Refused(CertificateRefusal::NotEndEntity(record.serial)));
        };
        Ok(Known { cert, record, profile })
    }

    /// A facility certificate's facility, if it exists and may enroll (approved or active).
    pub(crate) async fn in_good_standing(
        &self,
        known: Known,
    ) -> Result<(Certificate, crate::store::CertificateRecord, ProfileKind, FacilityId), Presented> {
        let Some(facility_id) = known.record.facility.clone() else {
            return Err(Presented::Refused(CertificateRefusal::NoFacility(known.record.serial)));
        };
        match self.facilities.facility(&facility_id).await.map_err(Presented::Store)? {
            Some(f) if f.state.may_enroll() => Ok((known.cert, known.record, known.profile, facility_id)),
            Some(f) => Err(Presented::Refused(CertificateRefusal::FacilityState { facility: f.id, state: f.state })),
            None => Err(Presented::Refused(CertificateRefusal::NoSuchFacility(facility_id))),
        }
    }
}

/// Store trouble is the CA's problem, not the device's: log it whole, tell the device to retry.
pub(crate) fn unavailable(e: impl std::fmt::Display) -> EnrollError {
    tracing::error!(error = %e, "enrollment failed on the CA side");
    EnrollError::Unavailable("the CA cannot serve this request now; retry later".into())
}
