//! Revocation: revoking certificates, and what CRLs and OCSP read (markers, shards, numbers, imported CRLs).

use crate::error::StoreError;
use crate::records::{Actor, CertificateRecord, ImportedCrl, Revocation};
use hcpki_model::UnixTime;
use hcpki_model::{CaName, SerialHex};

/// Revocation: revoking certificates, and what CRLs and OCSP read (markers, shards, numbers, imported CRLs).
#[async_trait::async_trait]
pub trait Revocations: Send + Sync {
    /// The revoked, unexpired certificates of CA `ca` (only those its generation `generation` issued, and only
    /// those recorded in CRL shard `shard`, when given): (serial, revoked at, RFC 5280 reason code), by serial.
    async fn revoked_of_ca(
        &self,
        ca: CaName,
        generation: Option<u32>,
        shard: Option<u16>,
        now: UnixTime,
    ) -> Result<Vec<(SerialHex, i64, i64)>, StoreError>;

    /// What a CRL of `ca` (of its generation `generation`, of its shard `shard`, when given) depends on at
    /// `now`: the number of revoked, unexpired certificates, the latest revocation time and the sum of their
    /// reasons. A cached CRL whose marker differs is stale.
    async fn revocation_marker(
        &self,
        ca: CaName,
        generation: Option<u32>,
        shard: Option<u16>,
        now: UnixTime,
    ) -> Result<(i64, i64, i64), StoreError>;

    /// The same marker over every revocation of every CA, expired ones included. It moves whenever any CA's
    /// [`Self::revocation_marker`] can move through a revocation (not through an expiry), and costs one pass
    /// over the revocations without a join: the cheap check polled every second before the per-CA one.
    async fn revocations_marker(&self) -> Result<(i64, i64, i64), StoreError>;

    /// Whether any certificate of `ca` was recorded in CRL shard `shard` (its CRL is served even after
    /// `pc_crl_shards` shrank).
    async fn crl_shard_in_use(&self, ca: CaName, shard: u16) -> Result<bool, StoreError>;

    /// The next CRL number of the CRL named `crl` (`pc`, `pc-17`): 1, 2, 3… across restarts and replicas
    /// (RFC 5280 §5.2.3).
    async fn next_crl_number(&self, crl: &str) -> Result<i64, StoreError>;

    /// Store a CRL signed elsewhere (the offline root's ARL) as the one to serve for `crl.ca`, audited as
    /// `crl.import`, only if its CRL number is above that of every CRL imported before for that CA
    /// ([`StoreError::CrlNotNewer`] otherwise, nothing stored): checked inside the transaction, so of two
    /// imports of the same number exactly one is stored.
    async fn import_crl(&self, crl: &ImportedCrl, actor: &Actor, at: UnixTime) -> Result<(), StoreError>;

    /// The imported CRL of `ca` with the highest CRL number, if any was imported.
    async fn imported_crl(&self, ca: CaName) -> Result<Option<ImportedCrl>, StoreError>;

    /// The revocation of one certificate: (revoked at, RFC 5280 reason code), if it is revoked (OCSP answers
    /// for certificates past notAfter, which [`Self::revoked_of_ca`] leaves out).
    async fn revocation(&self, serial: &SerialHex) -> Result<Option<(i64, i64)>, StoreError>;

    /// Mark an issued certificate revoked with its RFC 5280 reason code, audited as `cert.revoke`, and answer
    /// its record as revoked ([`StoreError::UnknownSerial`] unless it is `issued`).
    async fn revoke_certificate(
        &self,
        serial: &SerialHex,
        reason: u8,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<CertificateRecord, StoreError> {
        let one = Revocation { serial: serial.clone(), reason, actor: actor.clone() };
        self.revoke_certificates(std::slice::from_ref(&one), at)
            .await?
            .pop()
            .unwrap_or_else(|| Err(StoreError::Corrupt("a one-revocation batch answered nothing".into())))
    }

    /// Revoke many certificates in one transaction (group commit, D35 addendum 2): each exactly as
    /// [`Self::revoke_certificate`] would one after another, in order, with its own `cert.revoke` entry; a
    /// serial that is unknown or no longer `issued` (revoked by an earlier item of the same batch, say) is
    /// that item's [`StoreError::UnknownSerial`] and does not stop the others. The outer error means the
    /// whole batch was rolled back (the database failed).
    async fn revoke_certificates(
        &self,
        batch: &[Revocation],
        at: UnixTime,
    ) -> Result<Vec<Result<CertificateRecord, StoreError>>, StoreError>;
}
