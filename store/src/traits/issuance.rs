//! Certificate issuance: the write-ahead intent, completion or failure, and reading certificates back.

use crate::error::StoreError;
use crate::records::{Actor, CertificateFilter, CertificateRecord, Completion, ExpiringCertificate, IssuanceIntent};
use hcpki_model::UnixTime;
use hcpki_model::{CaName, CertProfile, SerialHex};

/// Certificate issuance: the write-ahead intent, completion or failure, and reading certificates back.
#[async_trait::async_trait]
pub trait Issuance: Send + Sync {
    /// Write-ahead record of an issuance: the serial (unique: a collision is
    /// [`StoreError::DuplicateSerial`]) and what will be signed, status `reserved`.
    /// Not audited yet; the audit entry comes with [`Self::complete_issuance`] or [`Self::fail_issuance`].
    async fn record_intent(&self, intent: &IssuanceIntent, now: UnixTime) -> Result<(), StoreError> {
        self.record_intents(std::slice::from_ref(intent), now).await
    }

    /// [`Self::record_intent`] for many, in one transaction: all or none.
    async fn record_intents(&self, intents: &[IssuanceIntent], now: UnixTime) -> Result<(), StoreError>;

    /// Store the signed certificate for a reserved serial, status `issued`,
    /// audited as `cert.issue`; if the facility is `approved` it becomes
    /// `active` in the same transaction (audited as `facility.activate`).
    async fn complete_issuance(
        &self,
        serial: &SerialHex,
        der: &[u8],
        actor: &Actor,
        at: UnixTime,
    ) -> Result<CertificateRecord, StoreError> {
        let completion = Completion { serial: serial.clone(), der: der.to_vec(), actor: actor.clone() };
        let mut done = self.complete_issuances(std::slice::from_ref(&completion), at).await?;
        done.pop().ok_or_else(|| StoreError::UnknownSerial(serial.to_string()))
    }

    /// [`Self::complete_issuance`] for many certificates, each audited with its own actor, in one
    /// transaction (group commit: one fsync for the batch): all or none.
    async fn complete_issuances(
        &self,
        issued: &[Completion],
        at: UnixTime,
    ) -> Result<Vec<CertificateRecord>, StoreError>;

    /// Mark a reserved serial as failed (signing failed), audited as `cert.issue` / failed.
    async fn fail_issuance(
        &self,
        serial: &SerialHex,
        reason: &str,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<(), StoreError>;

    /// One certificate by serial (lowercase hex, no leading zeros beyond DER's).
    async fn certificate(&self, serial: &SerialHex) -> Result<Option<CertificateRecord>, StoreError>;

    /// The certificate whose serial INTEGER has these content octets (a presented certificate's): what
    /// [`Self::certificate`] finds for their stored form; none for no octets, which name no serial.
    async fn certificate_with_serial_octets(&self, octets: &[u8]) -> Result<Option<CertificateRecord>, StoreError> {
        match SerialHex::from_octets(octets) {
            Some(serial) => self.certificate(&serial).await,
            None => Ok(None),
        }
    }

    /// [`Self::certificate`] for a serial held as text outside the certificate rows (a job item, a session, a
    /// held SCEP request, a protocol's own record): a text that is no stored serial names no certificate.
    async fn certificate_by_text(&self, serial: &str) -> Result<Option<CertificateRecord>, StoreError> {
        match SerialHex::from_stored(serial) {
            Ok(serial) => self.certificate(&serial).await,
            Err(_) => Ok(None),
        }
    }

    /// Certificates matching a filter, newest first.
    async fn list_certificates(&self, filter: &CertificateFilter) -> Result<Vec<CertificateRecord>, StoreError>;

    /// Every certificate (any status, expired too) that names `address` as an iPAddress SAN, oldest first
    /// (issue #50 item 5: who held an address, and when).
    async fn certificates_naming(&self, address: std::net::IpAddr) -> Result<Vec<CertificateRecord>, StoreError>;

    /// Up to `limit` serials of `ca`'s issued, unexpired, unrevoked certificates after `after`, by serial (a
    /// page of the population an OCSP responder pre-signs answers for; `None`: from the first). The order is the
    /// text's, which is [`SerialHex`]'s `Ord`. Only those of `ca`'s generation `generation` (D151).
    async fn live_serials(
        &self,
        ca: CaName,
        generation: u32,
        now: UnixTime,
        after: Option<&SerialHex>,
        limit: i64,
    ) -> Result<Vec<SerialHex>, StoreError>;

    /// How many certificates are `issued`, per profile, sorted by profile (for metrics).
    async fn issued_counts(&self) -> Result<Vec<(CertProfile, i64)>, StoreError>;

    /// How many `issued` certificates expire in `[from, until)` (Unix seconds), per profile, sorted by profile
    /// (expiry monitoring).
    async fn expiring_counts(&self, from: UnixTime, until: UnixTime) -> Result<Vec<(CertProfile, i64)>, StoreError>;

    /// Claim for reporting, at `now`, up to `limit` `issued` certificates of `profile` whose notAfter is in
    /// `[from, until)`, that have no successor (no later-expiring issued certificate of the same facility,
    /// profile, subject and SANs: a renewed one needs nobody) and were not claimed before. Each is claimed once,
    /// whichever replica asks (expiry webhook).
    async fn expiry_claim(
        &self,
        profile: CertProfile,
        from: UnixTime,
        until: UnixTime,
        limit: i64,
        now: UnixTime,
    ) -> Result<Vec<ExpiringCertificate>, StoreError>;

    /// Give claims back (the report could not be delivered; the next round tries again), and forget claims of
    /// certificates that expired before `forget_before`.
    async fn expiry_release(&self, serials: &[SerialHex], forget_before: UnixTime) -> Result<(), StoreError>;

    /// The issued successor of `serial` made by a re-issue (`certificates.replaces`), if there is one.
    async fn successor(&self, serial: &SerialHex) -> Result<Option<CertificateRecord>, StoreError>;
}
