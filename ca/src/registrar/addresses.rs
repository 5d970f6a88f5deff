//! Facility address allocations (issue #24, item 2) through the authority, for the CLI, the admin API, the
//! console and the CSV import alike: the text parsed once, every change and every refusal audited with the
//! operator who asked.

use crate::audit::{AuditEvent, Outcome};
use crate::error::{FacilityRefusal, RegistryError};
use crate::facility::{Allocation, FacilityId};
use crate::profile::ProfileKind;
use crate::registrar::Registrar;
use crate::store::{Actor, AllocationRecord, CertStatus, CertificateFilter, CertificateRecord, StoreError};
use hcpki_model::UnixTime;
use std::collections::HashMap;
use std::net::IpAddr;

/// A live router certificate carrying addresses outside its facility's allocations: issued before allocations
/// existed, or before one was taken back. Found by [`Registrar::certificates_outside_allocations`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MisplacedCertificate {
    /// Serial (hex).
    pub serial: String,
    /// The facility it was issued to.
    pub facility: FacilityId,
    /// Subject (RFC 4514).
    pub subject: String,
    /// notAfter (Unix seconds).
    pub not_after: i64,
    /// The addresses it carries that the facility does not hold.
    pub addresses: Vec<IpAddr>,
    /// Where those addresses are allocated now: (address, holder), for addresses another facility holds.
    pub held_by: Vec<(IpAddr, FacilityId)>,
}

/// Who holds or held a network address (issue #50 item 5): an incident names an address; the operator needs the
/// facility behind it now and every certificate that ever carried it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AddressHolders {
    /// The address asked about.
    pub address: IpAddr,
    /// The allocation holding it now, with its facility, if any.
    pub allocation: Option<AllocationRecord>,
    /// Every certificate that carries it as an iPAddress SAN (read from the certificate itself), any status,
    /// expired too, oldest first.
    pub certificates: Vec<AddressCertificate>,
}

/// A certificate that carries the address asked about.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AddressCertificate {
    /// Serial (hex).
    pub serial: String,
    /// The facility it was issued to.
    pub facility: Option<FacilityId>,
    /// Subject (RFC 4514).
    pub subject: String,
    /// Status (`issued`, `revoked`, …).
    pub status: CertStatus,
    /// notBefore (Unix seconds).
    pub not_before: i64,
    /// notAfter (Unix seconds).
    pub not_after: i64,
}

impl Registrar {
    /// Who holds `address` now (the allocation containing it) and which certificates ever carried it, audited
    /// `facility.address.find` with the asker (a lookup across every facility is itself worth knowing about). A
    /// malformed address, a prefix or a range no facility can hold is refused, audited as denied.
    pub async fn find_address(&self, address: &str, actor: &Actor) -> Result<AddressHolders, RegistryError> {
        let found = async {
            let single = Allocation::parse(address)?;
            if !single.prefix().is_single_address() {
                return Err(RegistryError::NotOneAddress(address.trim().to_owned()));
            }
            let ip = single.network();
            let allocation = self.facilities.allocation_overlapping(&single).await?;
            let mut certificates = Vec::new();
            for c in self.certificates.certificates_naming(ip).await? {
                // The display text matched; the certificate itself decides.
                if !ip_sans(&c)?.contains(&ip) {
                    continue;
                }
                certificates.push(AddressCertificate {
                    serial: c.serial.to_string(),
                    facility: c.facility,
                    subject: c.subject,
                    status: c.status,
                    not_before: c.not_before,
                    not_after: c.not_after,
                });
            }
            Ok(AddressHolders { address: ip, allocation, certificates })
        }
        .await;
        let (outcome, detail) = match &found {
            Ok(h) => (
                Outcome::Ok,
                serde_json::json!({
                    "holder": h.allocation.as_ref().map(|a| a.facility.to_string()),
                    "certificates": h.certificates.len(),
                }),
            ),
            Err(RegistryError::Store(_)) => (Outcome::Failed, serde_json::json!({})),
            Err(e) => (Outcome::Denied, serde_json::json!({ "reason": e.to_string() })),
        };
        let event = AuditEvent {
            actor: actor.as_str().to_owned(),
            action: "facility.address.find".into(),
            target: address.trim().chars().take(64).collect(),
            outcome,
            detail,
        };
        if let Err(e) = self.audit.append_audit(&event, self.hierarchy.at()).await {
            tracing::error!(error = %e, "could not audit an address lookup");
        }
        found
    }

    /// Allocate `prefix` (`2001:db8:10::/48`, `192.0.2.7`) to `facility`, audited `facility.address.add`. A
    /// malformed prefix, an unknown facility or an overlap with any allocation (the holder named) is refused
    /// and audited as denied; nothing changes.
    pub async fn add_allocation(
        &self,
        facility: &str,
        prefix: &str,
        actor: &Actor,
    ) -> Result<AllocationRecord, RegistryError> {
        self.change_allocation(Change::Add, facility, prefix, actor).await
    }

    /// Take `prefix` back from `facility`, audited `facility.address.remove`; refusals audited as denied.
    /// Certificates already issued with addresses inside it stay valid: `hcpki cert check-addresses` lists them.
    pub async fn remove_allocation(
        &self,
        facility: &str,
        prefix: &str,
        actor: &Actor,
    ) -> Result<AllocationRecord, RegistryError> {
        self.change_allocation(Change::Remove, facility, prefix, actor).await
    }

    async fn change_allocation(
        &self,
        change: Change,
        facility: &str,
        prefix: &str,
        actor: &Actor,
    ) -> Result<AllocationRecord, RegistryError> {
        let outcome = async {
            let id = FacilityId::parse(facility)?;
            let allocation = Allocation::parse(prefix)?;
            Ok(match change {
                Change::Add => self.facilities.add_allocation(&id, &allocation, actor, self.hierarchy.at()).await?,
                Change::Remove => {
                    self.facilities.remove_allocation(&id, &allocation, actor, self.hierarchy.at()).await?
                }
            })
        }
        .await;
        self.audit_allocation_refusal(change.verb(), facility, prefix, &outcome, actor).await;
        outcome.map_err(allocation_error)
    }

    /// The allocations of one facility (which must exist), or of every facility.
    pub async fn allocations(&self, facility: Option<&FacilityId>) -> Result<Vec<AllocationRecord>, RegistryError> {
        if let Some(id) = facility
            && self.facilities.facility(id).await?.is_none()
        {
            return Err(FacilityRefusal::Unknown(id.clone()).into());
        }
        Ok(self.facilities.allocations(facility).await?)
    }

    /// Every issued, unexpired router certificate at `now` whose IP SANs (read from the certificate itself) are
    /// not all inside its facility's allocations, by serial. Each names where the address is allocated now, if
    /// anywhere, so the operator knows whether to allocate it or re-issue without it.
    pub async fn certificates_outside_allocations(
        &self,
        now: UnixTime,
    ) -> Result<Vec<MisplacedCertificate>, RegistryError> {
        let filter = CertificateFilter {
            profile: Some(ProfileKind::Router.into()),
            status: Some(CertStatus::Issued),
            limit: Some(i64::MAX),
            ..CertificateFilter::default()
        };
        let certificates = self.certificates.list_certificates(&filter).await?;
        let allocations = self.facilities.allocations(None).await?;
        let mut held: HashMap<&FacilityId, Vec<Allocation>> = HashMap::new();
        for r in &allocations {
            held.entry(&r.facility).or_default().push(r.allocation);
        }
        let holder = |ip: IpAddr| allocations.iter().find(|r| r.allocation.contains(ip)).map(|r| r.facility.clone());
        let mut found = Vec::new();
        for c in certificates.iter().filter(|c| c.not_after > now.as_secs()) {
            let Some(facility) = &c.facility else { continue };
            let own = held.get(facility).map(Vec::as_slice).unwrap_or_default();
            let outside: Vec<IpAddr> =
                ip_sans(c)?.into_iter().filter(|ip| !own.iter().any(|a| a.contains(*ip))).collect();
            if outside.is_empty() {
                continue;
            }
            found.push(MisplacedCertificate {
                serial: c.serial.to_string(),
                facility: facility.clone(),
                subject: c.subject.clone(),
                not_after: c.not_after,
                held_by: outside.iter().filter_map(|ip| holder(*ip).map(|f| (*ip, f))).collect(),
                addresses: outside,
            });
        }
        found.sort_by(|a, b| a.serial.cmp(&b.serial));
        Ok(found)
    }

    async fn audit_allocation_refusal(
        &self,
        verb: &str,
        facility: &str,
        prefix: &str,
        outcome: &Result<AllocationRecord, RegistryError>,
        actor: &Actor,
    ) {
        let Err(e) = outcome else { return };
        let failed = matches!(e, RegistryError::Store(s) if !is_refusal(s));
        let event = AuditEvent {
            actor: actor.as_str().to_owned(),
            action: format!("facility.address.{verb}"),
            target: facility.trim().to_owned(),
            outcome: if failed { Outcome::Failed } else { Outcome::Denied },
            detail: serde_json::json!({ "prefix": prefix.trim(), "reason": allocation_error_text(e) }),
        };
        if let Err(audit_err) = self.audit.append_audit(&event, self.hierarchy.at()).await {
            tracing::error!(error = %audit_err, "could not audit a refused address allocation change");
        }
    }
}

/// Store refusals (as opposed to the database failing).
fn is_refusal(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::AllocationHeld { .. } | StoreError::UnknownAllocation { .. } | StoreError::UnknownFacility(_)
    )
}

/// An unknown facility is the authority's own error, as everywhere else.
fn allocation_error(e: RegistryError) -> RegistryError {
    match e {
        RegistryError::Store(StoreError::UnknownFacility(id)) => FacilityRefusal::Unknown(id).into(),
        other => other,
    }
}

fn allocation_error_text(e: &RegistryError) -> String {
    match e {
        RegistryError::Store(StoreError::UnknownFacility(id)) => FacilityRefusal::Unknown(id.clone()).to_string(),
        other => other.to_string(),
    }
}

/// The iPAddress SANs of a stored certificate, decoded from its DER (not from the registry's display strings).
fn ip_sans(c: &CertificateRecord) -> Result<Vec<IpAddr>, RegistryError> {
    use der::Decode;
    use x509_cert::ext::pkix::SubjectAltName;
    use x509_cert::ext::pkix::name::GeneralName;
    let damaged = || RegistryError::Store(StoreError::Corrupt(format!("certificate {} does not decode", c.serial)));
    let Some(der) = &c.der else { return Ok(Vec::new()) };
    let cert = x509_cert::Certificate::from_der(der).map_err(|_| damaged())?;
    let mut out = Vec::new();
    let extensions = cert.tbs_certificate().extensions().map(|e| e.as_slice()).unwrap_or_default();
    for ext in extensions.iter().filter(|e| e.extn_id == const_oid::db::rfc5280::ID_CE_SUBJECT_ALT_NAME) {
        let san = SubjectAltName::from_der(ext.extn_value.as_bytes()).map_err(|_| damaged())?;
        for name in san.0 {
            if let GeneralName::IpAddress(octets) = name {
                let bytes = octets.as_bytes();
                if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
                    out.push(IpAddr::from(v4));
                } else if let Ok(v6) = <[u8; 16]>::try_from(bytes) {
                    out.push(IpAddr::from(v6));
                }
            }
        }
    }
    Ok(out)
}

#[derive(Clone, Copy)]
enum Change {
    Add,
    Remove,
}

impl Change {
    fn verb(self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Remove => "remove",
        }
    }
}
