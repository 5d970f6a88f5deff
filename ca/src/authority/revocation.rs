//! The authority's side of revocation: revoking by serial (CLI, API) and signing each CA's complete CRL.

use super::{Authority, AuthorityError, CaName};
use crate::profile;
use crate::revocation::Reason;
use crate::revocation::crl::{self, CrlSigner, Entry};
use crate::store::{Actor, CertificateRecord, StoreError};

/// How long a CRL made on request is valid. Publication with regeneration before nextUpdate is issue #5.
pub const CRL_VALIDITY_SECS: i64 = 86_400;

impl Authority {
    /// Revoke an issued certificate with `reason`; audited as `cert.revoke` in the same transaction.
    pub async fn revoke(
        &self,
        serial: &str,
        reason: Reason,
        actor: &Actor,
    ) -> Result<CertificateRecord, AuthorityError> {
        match self.store.revoke_certificate(serial, reason.code(), actor).await {
            Ok(()) => {}
            Err(StoreError::UnknownSerial(s)) => return Err(AuthorityError::NotRevocable(s)),
            Err(e) => return Err(e.into()),
        }
        self.store.certificate(serial).await?.ok_or_else(|| AuthorityError::NotRevocable(serial.to_owned()))
    }

    /// A complete CRL of `ca`: every revoked, unexpired certificate it issued, the next CRL number, valid
    /// for [`CRL_VALIDITY_SECS`] from now, signed with the CA key.
    pub async fn crl(&self, ca: CaName) -> Result<Vec<u8>, AuthorityError> {
        self.crl_at(ca, crate::time::now_unix()).await
    }

    /// The CRL of `ca` as a server publishes it: signed once, re-signed when the CA's revocations change or
    /// half-way to nextUpdate (`revocation::publish`).
    pub async fn published_crl(
        &self,
        ca: CaName,
    ) -> Result<std::sync::Arc<crate::revocation::publish::Published>, AuthorityError> {
        self.crls.current(self, ca).await
    }

    /// [`Authority::crl`] with thisUpdate = `now`.
    pub(crate) async fn crl_at(&self, ca: CaName, now: i64) -> Result<Vec<u8>, AuthorityError> {
        let open = self.open_ca(ca)?;
        let entries: Vec<Entry> = self
            .store
            .revoked_of_ca(ca.as_str(), now)
            .await?
            .into_iter()
            .map(|(serial, revoked_at, code)| Entry {
                serial,
                revoked_at,
                reason: Reason::from_code_or_unspecified(code),
            })
            .collect();
        let number = self.store.next_crl_number(ca.as_str()).await?;
        let key_id = profile::key_identifier(&open.spki);
        let signer =
            CrlSigner { issuer: open.certificate.tbs_certificate().subject(), key_id: &key_id, key: &*open.key };
        let number = u64::try_from(number).map_err(|_| AuthorityError::Batch(format!("CRL number {number}")))?;
        Ok(crl::build(&signer, &entries, number, now, now + CRL_VALIDITY_SECS)?)
    }
}
