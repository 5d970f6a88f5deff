//! Partitioned CRLs of the PC CA (issue #5, decision D20): for very large PC populations the complete CRL
//! grows past what a PC should download, so a certificate may point, in its cRLDistributionPoints, at one
//! shard's CRL instead. The shard is chosen once, at issuance, from the random serial, and recorded with the
//! issuance intent; the recorded shard decides which CRL lists the certificate, so changing the number of
//! shards later moves nothing. Each shard's CRL carries a critical issuingDistributionPoint naming exactly
//! the URL certificates of that shard carry (RFC 5280 §5.2.5), so a relying party never takes one shard's
//! CRL for another's. The router CA never shards: IKE stacks need one whole CRL.

use crate::authority::CaName;
pub use crate::crl_shard::{MAX_SHARDS, Shard, ShardCount, TooManyShards};

/// Which CRL: a CA generation's complete CRL, or one shard of the PC CA's partitioned CRLs. Each generation of a
/// rolled-over CA signs its own CRLs with its own key, listing only the certificates it issued (D151). A shard
/// scope, or one of a generation other than the first, is only made by [`crate::Revoker::crl_scope`], which
/// checks it is served.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CrlScope {
    ca: CaName,
    generation: u32,
    shard: Option<Shard>,
}

impl CrlScope {
    /// The complete CRL of `ca`'s first generation (the only one until its first rollover).
    pub fn complete(ca: CaName) -> Self {
        Self { ca, generation: 1, shard: None }
    }

    /// The complete CRL of `ca`'s generation `generation`, or its shard `shard` (checked by the caller).
    pub(crate) fn of_generation(ca: CaName, generation: u32, shard: Option<Shard>) -> Self {
        Self { ca, generation, shard }
    }

    /// The CA that signs it.
    pub fn ca(self) -> CaName {
        self.ca
    }

    /// The generation of the CA that signs it.
    pub fn generation(self) -> u32 {
        self.generation
    }

    /// The shard, for a partitioned CRL.
    pub fn shard_index(self) -> Option<Shard> {
        self.shard
    }

    /// Its name in URLs (`/crl/<name>.crl`) and in its CRL number counter (`crl:<name>`): `pc`, `pc-17` for
    /// the first generation, as its certificates have always carried them; `pc-g2`, `pc-g2-17` for the next.
    pub fn name(self) -> String {
        let generation = match self.generation {
            1 => String::new(),
            g => format!("-g{g}"),
        };
        match self.shard {
            None => format!("{}{generation}", self.ca.as_str()),
            Some(k) => format!("{}{generation}-{k}", self.ca.as_str()),
        }
    }

    /// Split a CRL name as [`CrlScope::name`] writes it into CA name, generation and shard number, unchecked;
    /// a name [`CrlScope::name`] would not write (`pc-g1`, `pc-g02`) is `None`.
    pub fn parse_name(name: &str) -> Option<(&str, u32, Option<u16>)> {
        let (rest, shard) = match name.rsplit_once('-') {
            Some((rest, k)) if !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()) => (rest, Some(k.parse().ok()?)),
            _ => (name, None),
        };
        match rest.rsplit_once("-g") {
            Some((ca, g)) => {
                let generation: u32 = g.parse().ok()?;
                (generation >= 2 && g == generation.to_string()).then_some((ca, generation, shard))
            }
            None if rest.contains('-') => None,
            None => Some((rest, 1, shard)),
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
    /// The CA generation is not in service (never made, not yet issuing, or retired).
    #[error(
        "the {ca} CA's generation {generation} has no CRL here: it is not in service (`hcpki ca rollover {ca} \
         status` shows the generations served)"
    )]
    Generation {
        /// The CA.
        ca: CaName,
        /// The generation asked for.
        generation: u32,
    },
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
        let shard = CrlScope::of_generation(CaName::Pc, 1, Shard::new(17));
        assert_eq!(shard.name(), "pc-17");
        assert_eq!(CrlScope::complete(CaName::Router).name(), "router");
        assert_eq!(CrlScope::of_generation(CaName::Pc, 2, None).name(), "pc-g2");
        assert_eq!(CrlScope::of_generation(CaName::Pc, 12, Shard::new(3)).name(), "pc-g12-3");
        assert_eq!(CrlScope::parse_name("pc-17"), Some(("pc", 1, Some(17))));
        assert_eq!(CrlScope::parse_name("pc"), Some(("pc", 1, None)));
        assert_eq!(CrlScope::parse_name("pc-g2"), Some(("pc", 2, None)));
        assert_eq!(CrlScope::parse_name("pc-g12-3"), Some(("pc", 12, Some(3))));
        for refused in ["pc-", "pc-x", "pc-99999999", "pc-g1", "pc-g02", "pc-g", "pc-gx-1", "pc-17-3"] {
            assert_eq!(CrlScope::parse_name(refused), None, "{refused}");
        }
    }
}
