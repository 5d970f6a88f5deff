//! Re-issue (D38): a successor certificate for the same subject, names, profile and public key, under the
//! CA's current key, through the ordinary pipeline (profile, lints, write-ahead intent, signature, audited
//! `cert.issue`). The successor's intent names the certificate it replaces, in the same transaction that
//! reserves its serial, so "has this one been re-issued?" is a query, not a memory of the process that did it.
//!
//! The request is rebuilt from the stored certificate the way its profile reads a request: a router's first
//! requested name is its CN, a PC's device is in its identity URI, a server's names are its SANs. Only the
//! device profiles are re-issued; OCSP signers, SCEP RAs and operators are made by their own commands.

use super::{Authority, IssueRequest, SigningError};
use crate::batch::set;
use crate::csr::{self, Csr};
use crate::issuer::Issued;
use crate::pipeline::BatchItem;
use crate::profile::{ProfileKind, RouterEku, pc};
use crate::revocation::{CrlReason, Reason};
use crate::store::{Actor, CertStatus, CertificateRecord};
use der::Decode;

impl Authority {
    /// Re-issue each certificate in `old`; one result per certificate, in order. A certificate that already
    /// has a successor, or is not issued, is refused (never issued twice). With `revoke_old`, each
    /// predecessor whose successor was stored is revoked with reason superseded (audited `cert.revoke`).
    pub async fn reissue_many(
        &self,
        old: &[CertificateRecord],
        revoke_old: bool,
        actor: &Actor,
    ) -> Vec<Result<(Issued, CertificateRecord), SigningError>> {
        let mut results: Vec<Option<Result<(Issued, CertificateRecord), SigningError>>> =
            old.iter().map(|_| None).collect();
        let mut requests = Vec::with_capacity(old.len());
        for (i, record) in old.iter().enumerate() {
            let request = match self.pipeline.certificates().successor(&record.serial).await {
                Ok(Some(s)) => Err(SigningError::AlreadyReissued {
                    serial: record.serial.to_string(),
                    successor: s.serial.into_string(),
                }),
                Ok(None) => successor_request(record),
                Err(e) => Err(e.into()),
            };
            match request {
                Ok(r) => requests.push((i, r)),
                Err(e) => set(&mut results, i, Err(e)),
            }
        }
        let batch: Vec<BatchItem<'_>> =
            requests.iter().filter_map(|(i, r)| old.get(*i).map(|o| (r, actor, Some(&o.serial)))).collect();
        let issued = self.pipeline.issue_batch(&batch).await;
        for ((i, _), result) in requests.iter().zip(issued) {
            if revoke_old
                && result.is_ok()
                && let Some(o) = old.get(*i)
                && let Err(e) = self.revoker.revoke(&o.serial, Reason(CrlReason::Superseded), actor).await
            {
                // The successor exists and is what the device collects; the predecessor stays valid until its
                // own expiry, as without --revoke-old. Say so rather than fail an item that was issued.
                tracing::warn!(serial = %o.serial, error = %e, "successor issued but the predecessor was not revoked");
            }
            set(&mut results, *i, result);
        }
        results.into_iter().map(|r| r.unwrap_or(Err(SigningError::Batch("request was not processed".into())))).collect()
    }
}

/// The issuance request that repeats `old`'s subject, names, profile and key.
fn successor_request(old: &CertificateRecord) -> Result<IssueRequest, SigningError> {
    let not_reissuable =
        |why: &str| SigningError::NotReissuable { serial: old.serial.to_string(), why: why.to_owned() };
    if old.status != CertStatus::Issued {
        return Err(not_reissuable("it is not an issued certificate"));
    }
    let der = old.der.as_deref().ok_or_else(|| not_reissuable("the registry holds no DER for it"))?;
    let profile = old.profile.end_entity().ok_or_else(|| not_reissuable("its profile is unknown"))?;
    let values: Vec<String> =
        old.sans.iter().map(|s| s.split_once(':').map_or(s.as_str(), |x| x.1).to_owned()).collect();
    let (sans, device, router_eku) = match profile {
        ProfileKind::Router => {
            // The router profile names its CN after the first requested name: put the CN first again.
            let cn = subject_common_name(der).ok_or_else(|| not_reissuable("its subject has no CN"))?;
            let mut sans = vec![cn];
            sans.extend(values);
            (sans, None, Some(router_eku(der).map_err(|e| not_reissuable(&e))?))
        }
        ProfileKind::Pc => {
            let device = old
                .sans
                .iter()
                .filter_map(|s| s.strip_prefix("URI:"))
                .find_map(|u| pc::parse_identity_uri(u).map(|(_, d)| d))
                .ok_or_else(|| not_reissuable("it has no facility PC identity URI"))?;
            let hosts = old.sans.iter().filter_map(|s| s.strip_prefix("DNS:")).map(str::to_owned).collect();
            (hosts, Some(device), None)
        }
        ProfileKind::Server => (values, None, None),
        other => return Err(not_reissuable(&format!("{other} certificates are made by their own command"))),
    };
    let checked = csr::from_issued_certificate(der)?;
    Ok(IssueRequest {
        profile,
        facility: old.facility.clone(),
        csr: Csr::Checked(checked),
        sans,
        device,
        router: None,
        router_eku,
        ocsp_for: None,
        not_after: None,
    })
}

/// The CN of a certificate's subject, read from the decoded certificate (not from the registry's RFC 4514
/// text, where a comma may be escaped).
fn subject_common_name(der: &[u8]) -> Option<String> {
    let cert = x509_cert::Certificate::from_der(der).ok()?;
    hcpki_model::name::common_name(cert.tbs_certificate().subject())
}

/// Which router EKU variant a router certificate carries.
fn router_eku(der: &[u8]) -> Result<RouterEku, String> {
    let cert = x509_cert::Certificate::from_der(der).map_err(|e| e.to_string())?;
    let eku = cert
        .tbs_certificate()
        .extensions()
        .into_iter()
        .flatten()
        .find(|e| e.extn_id == const_oid::db::rfc5280::ID_CE_EXT_KEY_USAGE)
        .map(|e| x509_cert::ext::pkix::ExtendedKeyUsage::from_der(e.extn_value.as_bytes()))
        .transpose()
        .map_err(|e| e.to_string())?;
    Ok(match eku {
        None => RouterEku::None,
        Some(k) if k.0.contains(&hcpki_pkix::oid::KP_IKE_INTERMEDIATE) => RouterEku::IkeIntermediate,
        Some(_) => RouterEku::Ike,
    })
}
