//! The authority's side of ACME: [`AcmeAuthority`] over the store, the enrollment key and the EST issuance
//! path (decision D17).

use super::{Authority, CaName, RevocationError};
use crate::enroll::acme::eab::{EabKeyError, EnrollmentKey};
use crate::enroll::acme::{AcmeAccount, AcmeAuthority, AcmeOrder, IssuedCertificate, NONCE_LIFETIME_SECS, Problem};
use crate::enroll::{Basis, EnrollError, Grant, Protocol};
use crate::facility::FacilityId;
use crate::store::{Actor, CertStatus};
use hcpki_model::{AcmeAccountId, AcmeOrderId, SerialHex};
use hcpki_pkix::time::UnixTime;
use zeroize::Zeroizing;

impl Authority {
    /// The deployment's enrollment key (`secrets/enrollment-key` in the hcpki directory), made on first need.
    pub fn enrollment_key(&self) -> Result<EnrollmentKey, EabKeyError> {
        EnrollmentKey::load_or_create(&self.hierarchy.keys().base_dir)
    }
}

/// Store trouble in ACME: logged whole, `serverInternal` to the client.
fn internal(e: impl std::fmt::Display) -> Problem {
    tracing::error!(error = %e, "ACME request failed on the CA side");
    Problem::server_internal("the CA cannot serve this request now; retry later")
}

#[async_trait::async_trait]
impl AcmeAuthority for Authority {
    fn now(&self) -> UnixTime {
        self.hierarchy.at()
    }

    async fn new_nonce(&self) -> Result<String, Problem> {
        let nonce = crate::enroll::acme::nonce_value()?;
        let now = self.hierarchy.at();
        let expires = UnixTime::from_secs(now.as_secs() + NONCE_LIFETIME_SECS);
        self.acme.acme_put_nonce(&nonce, expires, now).await.map_err(internal)?;
        Ok(nonce)
    }

    async fn take_nonce(&self, nonce: &str) -> Result<bool, Problem> {
        self.acme.acme_take_nonce(nonce, self.hierarchy.at()).await.map_err(internal)
    }

    async fn eab_key(&self, kid: &str) -> Result<Option<Zeroizing<Vec<u8>>>, Problem> {
        let Some(record) = self.registrar.enrollment.credential(kid).await.map_err(internal)? else {
            return Ok(None);
        };
        if record.protocol != Protocol::Acme {
            // Its secret is random, not derived: no derived key can match it, so say "unknown".
            return Ok(None);
        }
        let key = self.enrollment_key().map_err(internal)?;
        Ok(Some(key.derive(&record.id, &record.salt)))
    }

    async fn redeem(&self, kid: &str, secret: &str) -> Result<Grant, EnrollError> {
        self.registrar.redeem_credential(Protocol::Acme, kid, secret, None).await
    }

    async fn release(&self, kid: &str, reason: &str) {
        let actor = Actor(format!("acme:credential:{kid}"));
        if let Err(e) = self.registrar.enrollment.release_credential(kid, reason, &actor, self.hierarchy.at()).await {
            tracing::error!(error = %e, credential = kid, "could not give back an EAB credential");
        }
    }

    fn facility_domain(&self, facility: &FacilityId) -> String {
        self.hierarchy.settings().router_dns_name(facility)
    }

    async fn create_account(&self, account: &AcmeAccount) -> Result<(), Problem> {
        self.acme.acme_create_account(account, &account.actor(), self.hierarchy.at()).await.map_err(internal)
    }

    async fn account(&self, id: &AcmeAccountId) -> Result<Option<AcmeAccount>, Problem> {
        self.acme.acme_account(id).await.map_err(internal)
    }

    async fn account_by_thumbprint(&self, thumbprint: &str) -> Result<Option<AcmeAccount>, Problem> {
        self.acme.acme_account_by_thumbprint(thumbprint).await.map_err(internal)
    }

    async fn update_account(&self, account: &AcmeAccount, action: &str) -> Result<(), Problem> {
        self.acme.acme_update_account(account, action, &account.actor(), self.hierarchy.at()).await.map_err(internal)
    }

    async fn create_order(&self, order: &AcmeOrder, account: &AcmeAccount) -> Result<(), Problem> {
        self.acme.acme_create_order(order, &account.actor(), self.hierarchy.at()).await.map_err(internal)
    }

    async fn order(&self, id: &AcmeOrderId) -> Result<Option<AcmeOrder>, Problem> {
        self.acme.acme_order(id).await.map_err(internal)
    }

    async fn update_order(&self, order: &AcmeOrder) -> Result<bool, Problem> {
        self.acme.acme_update_order(order).await.map_err(internal)
    }

    async fn issue(
        &self,
        account: &AcmeAccount,
        csr: crate::csr::Csr,
        sans: Vec<String>,
        device: Option<String>,
    ) -> Result<Vec<u8>, EnrollError> {
        let grant = Grant {
            facility: account.facility.clone(),
            profile: account.profile,
            basis: Basis::Account(account.id.clone()),
        };
        self.enroll_issue(Protocol::Acme, &grant, csr, sans, device).await
    }

    async fn certificate(&self, serial: &str) -> Result<Option<IssuedCertificate>, Problem> {
        let Some(record) = self.registrar.certificates.certificate_by_text(serial).await.map_err(internal)? else {
            return Ok(None);
        };
        let Some(der) = record.der.clone() else {
            return Ok(None);
        };
        // The generation that issued it (D151): after a rollover's switch an old certificate's chain keeps its
        // own issuer, which the CA that issues now is not.
        let issuing = Some(record.ca)
            .filter(|ca| *ca != CaName::Root)
            .and_then(|ca| self.hierarchy.generation_certificate(ca, record.generation))
            .map(<[u8]>::to_vec);
        let alternate = issuing.as_deref().and_then(|i| self.hierarchy.link_to_other_root(i)).map(<[u8]>::to_vec);
        let mut chain = vec![der];
        chain.extend(issuing);
        Ok(Some(IssuedCertificate {
            serial: record.serial.into_string(),
            facility: record.facility,
            spki_sha256: record.spki_sha256,
            revoked: record.status == CertStatus::Revoked,
            chain,
            alternate,
        }))
    }

    async fn ordered_by(&self, serial: &str) -> Result<Option<AcmeAccountId>, Problem> {
        let Ok(serial) = SerialHex::from_stored(serial) else { return Ok(None) };
        self.acme.acme_certificate_account(&serial).await.map_err(internal)
    }

    async fn revoke(&self, serial: &str, reason: u8, actor: &Actor) -> Result<(), Problem> {
        let reason = crate::revocation::Reason::from_code(i64::from(reason))
            .ok_or_else(|| Problem::bad_revocation_reason(format!("reason code {reason} is not an RFC 5280 reason")))?;
        let not_revocable =
            || Problem::already_revoked(format!("certificate {serial} is not an unrevoked issued certificate"));
        // A text that is no serial is no unrevoked issued certificate, as the store answers for an unknown one.
        let Ok(stored) = SerialHex::from_stored(serial) else { return Err(not_revocable()) };
        match self.revoker.revoke(&stored, reason, actor).await {
            Ok(_) => Ok(()),
            Err(RevocationError::NotRevocable(_)) => Err(not_revocable()),
            Err(e) => Err(internal(e)),
        }
    }

    async fn refused(&self, operation: &str, reason: &str) {
        self.registrar.audit_denied(Protocol::Acme, &format!("acme.{operation}"), "-", reason).await;
    }
}
