//! The authority's side of revocation: revoking by serial (CLI, API) and signing each CA's complete CRL and
//! the PC CA's shard CRLs.

use crate::batch::batch_failed;
use crate::error::{RevocationError, offline_key};
use crate::group_commit::GroupCommit;
use crate::hierarchy::Hierarchy;
use crate::profile;
use crate::revocation::Reason;
use crate::revocation::crl::{self, CrlFields, CrlSigner, Entry};
use crate::revocation::shard::{CrlScope, Shard, ShardError};
use crate::store::{Actor, AuditLog, CertificateRecord, Revocation, Revocations, StoreError};
use hcpki_model::CaName;
use hcpki_model::SerialHex;
use hcpki_pkix::time::UnixTime;
use std::sync::{Arc, OnceLock};

/// How long a CRL is valid after it is signed (nextUpdate − signing time). A served CRL is re-signed half-way
/// (`revocation::publish`), so relying parties never hold one near its nextUpdate.
pub const CRL_VALIDITY_SECS: i64 = 86_400;

pub use crate::revocation::crl::SignedCrl;

/// A revocation's answer.
pub(crate) type Revoked = Result<CertificateRecord, RevocationError>;

/// The revocation authority: revoking, and signing each CA's CRLs (the ARL at the ceremony, `offline_root`),
/// with the store areas it writes. OCSP answers are `revocation::ocsp`'s, from the same store.
pub struct Revoker {
    pub(crate) hierarchy: Arc<Hierarchy>,
    pub(crate) revocations: Arc<dyn Revocations>,
    pub(crate) audit: Arc<dyn AuditLog>,
    /// The CRLs a server hands out (`revocation::publish`).
    pub(crate) crls: crate::revocation::publish::CrlCache,
    /// Set by [`Revoker::start_group_commit`] (long-running servers).
    pub(crate) queue: OnceLock<GroupCommit<Revocation, Revoked>>,
}

impl Revoker {
    /// The revocations it records, for the readers that follow them (the OCSP responder, the server's
    /// revocation board); its writes go through its methods, audited.
    pub fn revocations(&self) -> &Arc<dyn Revocations> {
        &self.revocations
    }
}

impl std::fmt::Debug for Revoker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Revoker").field("hierarchy", &self.hierarchy).finish_non_exhaustive()
    }
}

/// The CRL cache's view of the revoker (`revocation::publish` declares what it needs).
#[async_trait::async_trait]
impl crate::revocation::publish::CrlSource for Revoker {
    type Error = RevocationError;

    async fn imported_crl(&self, ca: CaName) -> Result<Option<crate::store::ImportedCrl>, RevocationError> {
        Ok(self.revocations.imported_crl(ca).await?)
    }

    async fn revocations_marker(&self) -> Result<(i64, i64, i64), RevocationError> {
        Ok(self.revocations.revocations_marker().await?)
    }

    async fn revocation_marker(&self, scope: CrlScope, now: UnixTime) -> Result<(i64, i64, i64), RevocationError> {
        let (ca, generation, shard) = (scope.ca(), scope.generation(), scope.shard_index().map(Shard::index));
        Ok(self.revocations.revocation_marker(ca, Some(generation), shard, now).await?)
    }

    async fn sign_crl_at(&self, scope: CrlScope, now: UnixTime) -> Result<SignedCrl, RevocationError> {
        self.crl_at(scope, now).await
    }
}

/// How long a CRL stays valid: from the signing time (a CRL a server re-signs), or from its back-dated
/// thisUpdate (the ARL: exactly the days asked for, never a few minutes more).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Validity {
    /// nextUpdate = signing time + this many seconds.
    FromSigning(i64),
    /// nextUpdate = thisUpdate + this many seconds.
    FromThisUpdate(i64),
}

impl Revoker {
    /// Revoke an issued certificate with `reason`; audited as `cert.revoke` in the same transaction. When
    /// [`Revoker::start_group_commit`] has run, concurrent calls share transactions.
    pub async fn revoke(
        &self,
        serial: &SerialHex,
        reason: Reason,
        actor: &Actor,
    ) -> Result<CertificateRecord, RevocationError> {
        let revocation = Revocation { serial: serial.clone(), reason: reason.code(), actor: actor.clone() };
        match self.queue.get() {
            Some(queue) => queue.submit(revocation).await.map_err(|e| RevocationError::Batch(e.to_string()))?,
            None => self
                .revoke_many(std::slice::from_ref(&revocation))
                .await
                .pop()
                .unwrap_or_else(|| Err(RevocationError::Batch("a one-revocation batch answered nothing".into()))),
        }
    }

    /// Revoke many certificates in one transaction ([`Revocations::revoke_certificates`]): one result per
    /// revocation (the certificate's record as revoked), in order, each what it would have been one after
    /// another (a serial not `issued` is [`RevocationError::NotRevocable`]). A database failure fails them all.
    ///
    pub async fn revoke_many(&self, batch: &[Revocation]) -> Vec<Result<CertificateRecord, RevocationError>> {
        match self.revocations.revoke_certificates(batch, self.hierarchy.at()).await {
            Ok(results) => results
                .into_iter()
                .zip(batch)
                .map(|(r, asked)| {
                    r.map_err(|e| match e {
                        StoreError::UnknownSerial(_) => RevocationError::NotRevocable(asked.serial.clone()),
                        other => other.into(),
                    })
                })
                .collect(),
            Err(e) => batch_failed("revocations", &e, batch.len()),
        }
    }

    /// A CRL of `scope` (a CA, for its first generation's complete CRL, or a [`Revoker::crl_scope`]): every revoked,
    /// unexpired certificate it covers, the next CRL number, valid for [`CRL_VALIDITY_SECS`] from now (its
    /// thisUpdate back-dated by the `backdate_secs` setting), signed with the CA key.
    pub async fn crl(&self, scope: impl Into<CrlScope>) -> Result<Vec<u8>, RevocationError> {
        Ok(self.crl_at(scope.into(), self.hierarchy.at()).await?.der)
    }

    /// The CRL of `scope` as a server publishes it: signed once, re-signed when its revocations change or
    /// half-way to nextUpdate; the root's, once an ARL was imported, the stored one, never signed here
    /// (`revocation::publish`).
    pub async fn published_crl(
        &self,
        scope: impl Into<CrlScope>,
    ) -> Result<std::sync::Arc<crate::revocation::publish::Published>, RevocationError> {
        self.crls.current_at(self, scope.into(), self.hierarchy.at()).await
    }

    /// The CRL of `ca`'s generation `generation` (complete, or its shard `shard`), if it is served: the
    /// generation issues, or a switched rollover keeps it (D151); only the PC CA has shards, and a shard exists
    /// when it is below `pc_crl_shards` or a certificate was issued into it before the setting shrank (D20).
    pub async fn crl_scope(
        &self,
        ca: CaName,
        generation: u32,
        shard: Option<u16>,
    ) -> Result<CrlScope, RevocationError> {
        if !self.hierarchy.generations(ca).serves(generation) {
            return Err(ShardError::Generation { ca, generation }.into());
        }
        let Some(shard) = shard else { return Ok(CrlScope::of_generation(ca, generation, None)) };
        if ca != CaName::Pc {
            return Err(ShardError::NotPartitioned(ca).into());
        }
        let count = self.hierarchy.settings().pc_crl_shards;
        let unknown = || ShardError::Unknown { shard, count: count.get() };
        let k = Shard::new(shard).ok_or_else(unknown)?;
        if count.contains(k) || self.revocations.crl_shard_in_use(ca, shard).await? {
            Ok(CrlScope::of_generation(ca, generation, Some(k)))
        } else {
            Err(unknown().into())
        }
    }

    /// The complete CRL of the generation of `ca` that issues now.
    pub fn current_scope(&self, ca: CaName) -> CrlScope {
        CrlScope::of_generation(ca, self.hierarchy.generations(ca).current, None)
    }

    /// [`Revoker::crl`] signed at `now`.
    pub(crate) async fn crl_at(&self, scope: CrlScope, now: UnixTime) -> Result<SignedCrl, RevocationError> {
        self.sign_crl(scope, now, Validity::FromSigning(CRL_VALIDITY_SECS)).await
    }

    /// Sign the CRL of `scope` at `now`, valid for `validity`: every revoked, unexpired certificate it covers,
    /// under the next CRL number of its counter.
    pub(crate) async fn sign_crl(
        &self,
        scope: CrlScope,
        now: UnixTime,
        validity: Validity,
    ) -> Result<SignedCrl, RevocationError> {
        let (ca, generation, shard) = (scope.ca(), scope.generation(), scope.shard_index());
        // Each generation signs with its own key the CRL its own certificates point at (D151).
        let open = self.hierarchy.open_generation(ca, generation).map_err(|e| offline_key(ca, e))?;
        let entries: Vec<Entry> = self
            .revocations
            .revoked_of_ca(ca, Some(generation), shard.map(Shard::index), now)
            .await?
            .into_iter()
            .map(|(serial, revoked_at, code)| Entry {
                serial,
                revoked_at,
                reason: Reason::from_code_or_unspecified(code),
            })
            .collect();
        let name = scope.name();
        let number = self.revocations.next_crl_number(&name).await?;
        let key_id = profile::key_identifier(&open.spki);
        let signer =
            CrlSigner { issuer: open.certificate.tbs_certificate().subject(), key_id: &key_id, key: &*open.key };
        let number = u64::try_from(number).map_err(|_| RevocationError::CrlNumber(number))?;
        // A shard names itself with the URL its certificates carry; the complete CRL covers everything.
        let distribution_point = shard.map(|_| self.hierarchy.settings().crl_url(&name));
        // X.509 times are whole seconds.
        let now = now.as_secs();
        let this_update = now - self.hierarchy.settings().backdate();
        let next_update = match validity {
            Validity::FromSigning(secs) => now + secs,
            Validity::FromThisUpdate(secs) => this_update + secs,
        };
        let fields = CrlFields { number, this_update, next_update, distribution_point: distribution_point.as_deref() };
        let der = crl::build(&signer, &entries, &fields)?;
        Ok(SignedCrl { der, number, this_update, next_update, entries: entries.len() })
    }
}

mod offline_root;
