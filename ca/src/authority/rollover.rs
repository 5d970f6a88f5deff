//! CA key rollover of an issuing CA (issue #47, D145): start (a new key and a certificate under the current root,
//! published beside the old generation), switch (the new generation issues), retire (the old generation leaves
//! service once its certificates have ended, or at once when declared compromised), abort (before the switch).
//!
//! The states and the rule of which step applies are the store's (`hcpki_store::rollover`), applied under the
//! audit head lock so replicas agree; this module makes the key and the certificate (the same code as `init`,
//! [`super::Making`]; for the root a new self-signed root and the two link certificates, `root_links.rs`, D160) and
//! refuses what the store cannot judge: a retirement while the old generation's certificates are still valid.

use super::{Authority, AuthorityError, KeyPlacement, Making, RootIssuer};
use crate::revocation::shard::CrlScope;
use crate::revocation::{CrlReason, Reason};
use crate::store::rollover::{RolloverRecord, RolloverRefusal, RolloverState, RolloverStep};
use crate::store::{Actor, StoreError};
use hcpki_model::{CaName, SerialHex};
use hcpki_pkix::keys::{KeyAlgorithm, KeyUri};
use hcpki_pkix::time::UnixTime;
use std::str::FromStr;

/// Choices made when a rollover starts; unset, the new key goes where the old one is, with its algorithm.
#[derive(Clone, Debug, Default)]
pub struct RolloverOptions {
    /// Where the new key is made.
    pub placement: Option<KeyPlacement>,
    /// The new key's algorithm (e.g. a move from RSA to P-256).
    pub algorithm: Option<KeyAlgorithm>,
}

/// Where a CA's rollover stands, and who is still on the old generation.
#[derive(Clone, Debug)]
pub struct RolloverStatus {
    /// The CA.
    pub ca: CaName,
    /// Its latest rollover, if it ever had one.
    pub latest: Option<RolloverRecord>,
    /// Certificates still valid on the generation being replaced, by facility (`None`: of no facility). Empty
    /// when no rollover is under way.
    pub old_holders: Vec<(Option<String>, i64)>,
    /// The CRL of each generation in service, as this process loaded the hierarchy (D151): the issuing one's,
    /// and after the switch the previous one's, signed with its own key at its own URL.
    pub crls: Vec<GenerationCrl>,
}

/// One CA generation's CRL (D151).
#[derive(Clone, Debug, serde::Serialize)]
pub struct GenerationCrl {
    /// The generation.
    pub generation: u32,
    /// Whether it issues (else it is the previous generation, answered for until retirement).
    pub issuing: bool,
    /// Where it is served: the URL its certificates' CRL distribution point names.
    pub url: String,
    /// How many revoked, unexpired certificates it lists now.
    pub revoked: i64,
}

impl RolloverStatus {
    /// How many certificates are still on the old generation.
    pub fn old_certificates(&self) -> i64 {
        self.old_holders.iter().map(|(_, n)| n).sum()
    }
}

/// A rollover refused or failed; nothing half-done is left recorded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RolloverError {
    /// The old generation still has valid certificates.
    #[error(
        "{certificates} certificate(s) of {facilities} facility(ies) are still valid on the {ca} CA's old \
         generation: retire it once they have been renewed onto the new one or have expired (`hcpki ca rollover \
         {ca} status` lists them by facility), or pass --compromised if the old key is compromised (that revokes \
         the old CA certificate; see the operator guide's emergency path)"
    )]
    OldStillValid {
        /// The CA.
        ca: CaName,
        /// Certificates still valid.
        certificates: i64,
        /// Facilities holding them.
        facilities: usize,
    },
    /// The step does not apply in the rollover's state (the store's refusal, audited).
    #[error(transparent)]
    Refused(RolloverRefusal),
    /// Making the key or certificate, or the store, failed.
    #[error(transparent)]
    Authority(#[from] AuthorityError),
}

impl From<StoreError> for RolloverError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Rollover(r) => Self::Refused(r),
            other => Self::Authority(other.into()),
        }
    }
}

impl Authority {
    /// Start a rollover of `ca`: a new key (software or PKCS#11, like `init`) and a certificate for it under the
    /// current root (linted, recorded and audited like every certificate), published beside the old generation,
    /// which keeps issuing until [`Authority::rollover_step`] switches. For the root: a new self-signed root under
    /// the same name and the link certificates both ways (D160). Needs the root key, like `init`.
    pub async fn rollover_start(
        &self,
        ca: CaName,
        options: &RolloverOptions,
        actor: &Actor,
    ) -> Result<RolloverRecord, RolloverError> {
        let all = self.store.rollovers().await?;
        // Checked again by the store under its lock; checked here first so no key is made for nothing.
        if let Some(open) = all.iter().find(|r| r.ca == ca && r.state.is_open()) {
            return Err(RolloverError::Refused(RolloverRefusal::AlreadyOpen {
                ca,
                generation: open.generation,
                state: open.state,
            }));
        }
        let generation = all.iter().filter(|r| r.ca == ca).map(|r| r.generation).max().unwrap_or(1) + 1;
        let hierarchy = &self.hierarchy;
        let old_key_uri = hierarchy.ca_key_uri(ca).map_err(AuthorityError::from)?.to_owned();
        let old_cert_der = hierarchy.ca_certificate(ca).map_err(AuthorityError::from)?.to_vec();
        let current = hierarchy.open_ca(ca).map_err(AuthorityError::from)?;
        let root = hierarchy.open_ca(CaName::Root).map_err(AuthorityError::from)?;
        let placement = match &options.placement {
            Some(p) => p.clone(),
            None => KeyPlacement::of(&KeyUri::from_str(&old_key_uri).map_err(AuthorityError::from)?),
        };
        let uri = placement.uri(ca, generation);
        let algorithm = options.algorithm.unwrap_or_else(|| current.key.algorithm());
        let making = Making {
            store: self.store.as_ref(),
            clock: hierarchy.clock().as_ref(),
            settings: hierarchy.settings(),
            keys: hierarchy.keys(),
            actor,
        };
        let root_generation = hierarchy.generations(CaName::Root).current;
        let issuer = RootIssuer { certificate: &root.certificate, key: root.key.as_ref(), generation: root_generation };
        let (cert_der, links) = if ca == CaName::Root {
            let (der, links) = making.root_generation(&issuer, generation, &uri, algorithm).await?;
            (der, Some(links))
        } else {
            (making.issuing_ca(&issuer, ca, generation, &uri, algorithm).await?, None)
        };
        let record = RolloverRecord {
            ca,
            generation,
            state: RolloverState::Published,
            key_uri: uri.to_string(),
            cert_der,
            old_key_uri,
            old_cert_der,
            started_at: hierarchy.now(),
            started_by: actor.as_str().to_owned(),
            switched_at: None,
            ended_at: None,
            ended_by: None,
            compromised: false,
            links,
        };
        self.store.start_rollover(&record, actor, hierarchy.at()).await?;
        Ok(record)
    }

    /// Take `step` on `ca`'s rollover under way. Retiring is refused while certificates of the old generation
    /// are still valid, unless `compromised`: then the old CA certificate is revoked (cACompromise) too, so the
    /// next ARL signed at the ceremony names it.
    pub async fn rollover_step(
        &self,
        ca: CaName,
        step: RolloverStep,
        actor: &Actor,
    ) -> Result<RolloverRecord, RolloverError> {
        if let RolloverStep::Retire { compromised: false } = step {
            let status = self.rollover_status(ca).await?;
            let certificates = status.old_certificates();
            if certificates > 0 && status.latest.as_ref().is_some_and(|r| r.state == RolloverState::Switched) {
                return Err(RolloverError::OldStillValid { ca, certificates, facilities: status.old_holders.len() });
            }
        }
        let record = self.store.advance_rollover(ca, step, actor, self.hierarchy.at()).await?;
        if let RolloverStep::Retire { compromised: true } = step {
            let serial = old_serial(&record).map_err(AuthorityError::from)?;
            self.revoker.revoke(&serial, Reason(CrlReason::CaCompromise), actor).await.map_err(AuthorityError::from)?;
        }
        Ok(record)
    }

    /// Where `ca`'s rollover stands and, while one is under way, who still holds certificates of the generation
    /// being replaced (issued before the switch, or all of the CA's before it), by facility.
    pub async fn rollover_status(&self, ca: CaName) -> Result<RolloverStatus, RolloverError> {
        let latest = self.store.rollovers().await?.into_iter().filter(|r| r.ca == ca).max_by_key(|r| r.generation);
        let now = self.hierarchy.at();
        let old_holders = match &latest {
            Some(r) if r.state.is_open() => {
                let cut = r.switched_at.map_or(now, UnixTime::from_secs);
                self.store.old_generation_holders(ca, cut, now).await?
            }
            _ => Vec::new(),
        };
        let generations = self.hierarchy.generations(ca);
        let mut crls = Vec::new();
        for generation in std::iter::once(generations.current).chain(generations.previous) {
            let scope = CrlScope::of_generation(ca, generation, None);
            let (revoked, _, _) = self.store.revocation_marker(ca, Some(generation), None, now).await?;
            let url = self.hierarchy.settings().crl_url(&scope.name());
            crls.push(GenerationCrl { generation, issuing: generation == generations.current, url, revoked });
        }
        Ok(RolloverStatus { ca, latest, old_holders, crls })
    }
}

/// The serial of the rollover's old CA certificate, as stored.
fn old_serial(record: &RolloverRecord) -> Result<SerialHex, crate::SigningError> {
    use der::Decode as _;
    let damaged = || crate::SigningError::DamagedCa(record.ca);
    let cert = x509_cert::Certificate::from_der(&record.old_cert_der).map_err(|_| damaged())?;
    SerialHex::of(cert.tbs_certificate().serial_number()).ok_or_else(damaged)
}
