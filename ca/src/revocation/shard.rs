//! Partitioned CRLs of the PC CA (issue #5, decision D20): for very large PC populations the complete CRL
//! grows past what a PC should download, so a certificate may point, in its cRLDistributionPoints, at one
//! shard's CRL instead. The shard is chosen once, at issuance, from the random serial, and recorded with the
//! issuance intent; the recorded shard decides which CRL lists the certificate, so changing the number of
//! shards later moves nothing. Each shard's CRL carries a critical issuingDistributionPoint naming exactly
//! the URL certificates of that shard carry (RFC 5280 §5.2.5), so a relying party never takes one shard's
//! CRL for another's. The router CA never shards: IKE stacks need one whole CRL.

use crate::authority::CaName;
pub use crate::crl_shard::{MAX_SHARDS, Shard, ShardCount, TooManyShards};

/// Which CRL: a CA's complete CRL, or one shard of the PC CA's partitioned CRLs. A shard scope is only made
/// by [`crate::Authority::crl_scope`], which checks the shard exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CrlScope {
    ca: CaName,
    shard: Option<Shard>,
}

impl CrlScope {
    /// The complete CRL of `ca`.
    pub fn complete(ca: CaName) -> Self {
        Self { ca, shard: None }
    }

    /// A shard of `ca` (checked by the caller).
    pub(crate) fn shard(ca: CaName, shard: Shard) -> Self {
        Self { ca, shard: Some(shard) }
    }

    /// The CA that signs it.
    pub fn ca(self) -> CaName {
        self.ca
    }

    /// The shard, for a partitioned CRL.
    pub fn shard_index(self) -> Option<Shard> {
        self.shard
    }

    /// Its name in URLs (`/crl/<name>.crl`) and in its CRL number counter (`crl:<name>`): `pc`, `pc-17`.
    pub fn name(self) -> String {
        match self.shard {
            None => self.ca.as_str().to_owned(),
            Some(k) => format!("{}-{k}", self.ca.as_str()),
        }
    }

    /// Split a CRL name as [`CrlScope::name`] writes it into CA name and shard number, unchecked.
    pub fn parse_name(name: &str) -> Option<(&str, Option<u16>)> {
        match name.rsplit_once('-') {
            Some((ca, k)) if !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()) => {
                k.parse().ok().map(|k| (ca, Some(k)))
            }
            Some(_) => None,
            None => Some((name, None)),
        }
    }
}

impl From<CaName> for CrlScope {
    fn from(ca: CaName) -> Self {
        Self::complete(ca)
    }
}

/// A shard the PC CA does not have.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShardError {
    /// Only the PC CA partitions its CRL.
    #[error("the {0} CA has one complete CRL and no shards: only the pc CA's CRL is partitioned")]
    NotPartitioned(CaName),
    /// The shard is neither configured nor carried by any issued certificate.
    #[error(
        "the pc CA has no CRL shard {shard}: pc_crl_shards is {count} (shards 0 to count-1) and no certificate \
         was issued into shard {shard}"
    )]
    Unknown {
        /// The shard asked for.
        shard: u16,
        /// `pc_crl_shards` in force.
        count: u16,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_names_round_trip() {
        let shard = CrlScope::shard(CaName::Pc, Shard::new(17).unwrap());
        assert_eq!(shard.name(), "pc-17");
        assert_eq!(CrlScope::complete(CaName::Router).name(), "router");
        assert_eq!(CrlScope::parse_name("pc-17"), Some(("pc", Some(17))));
        assert_eq!(CrlScope::parse_name("pc"), Some(("pc", None)));
        assert_eq!(CrlScope::parse_name("pc-"), None);
        assert_eq!(CrlScope::parse_name("pc-x"), None);
        assert_eq!(CrlScope::parse_name("pc-99999999"), None);
    }
}
