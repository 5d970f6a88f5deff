//! The arithmetic of the PC CA's partitioned CRLs (issue #5, D20): how many shards new certificates are spread
//! over, and which shard a serial falls in. A leaf on the CA's lowest floor, because the profiles' settings
//! (`pc_crl_shards`) and the issuance pipeline decide a certificate's shard while the CRLs themselves
//! ([`crate::revocation::shard`]) are made above them.

use std::fmt;

/// The most shards `pc_crl_shards` may ask for: a shard CRL is signed and cached per shard, so the bound
/// keeps a server's work and memory for CRLs small whatever is configured.
pub const MAX_SHARDS: u16 = 4096;

/// `pc_crl_shards`: how many CRL shards new PC certificates are spread over; 0 (the default) is off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub struct ShardCount(u16);

/// A shard count above [`MAX_SHARDS`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("pc_crl_shards = {0} is too many: use 0 (off) to {MAX_SHARDS}")]
pub struct TooManyShards(pub u16);

impl ShardCount {
    /// Off: every PC certificate points at the complete CRL.
    pub const OFF: Self = Self(0);

    /// `n` shards (0 = off), at most [`MAX_SHARDS`].
    pub fn new(n: u16) -> Result<Self, TooManyShards> {
        if n > MAX_SHARDS { Err(TooManyShards(n)) } else { Ok(Self(n)) }
    }

    /// The number of shards (0 = off).
    pub fn get(self) -> u16 {
        self.0
    }

    /// The shard of a certificate with these serial octets: the serial as a big-endian number modulo the
    /// count, `None` when sharding is off. Serials are 127 random bits, so shards fill evenly.
    pub fn shard_of(self, serial: &[u8]) -> Option<Shard> {
        let n = u32::from(self.0);
        if n == 0 {
            return None;
        }
        let k = serial.iter().fold(0u32, |acc, b| ((acc << 8) | u32::from(*b)) % n);
        u16::try_from(k).ok().map(Shard)
    }

    /// Whether `shard` is one of the shards new certificates go to.
    pub fn contains(self, shard: Shard) -> bool {
        shard.0 < self.0
    }
}

impl TryFrom<u16> for ShardCount {
    type Error = TooManyShards;
    fn try_from(n: u16) -> Result<Self, TooManyShards> {
        Self::new(n)
    }
}

impl From<ShardCount> for u16 {
    fn from(n: ShardCount) -> u16 {
        n.0
    }
}

/// One CRL shard of the PC CA: `0 ≤ k <` [`MAX_SHARDS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Shard(u16);

impl Shard {
    /// Shard `k`, if `k` is below [`MAX_SHARDS`].
    pub fn new(k: u16) -> Option<Self> {
        (k < MAX_SHARDS).then_some(Self(k))
    }

    /// Its index, as stored in `certificates.crl_shard`.
    pub fn index(self) -> u16 {
        self.0
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_follow_the_serial_and_stay_in_range() {
        let four = ShardCount::new(4).unwrap();
        assert_eq!(ShardCount::OFF.shard_of(&[1, 2, 3]), None);
        assert_eq!(four.shard_of(&[0x01, 0x07]), Some(Shard(0x0107 % 4)));
        // 16-octet serials: the same as u128 arithmetic.
        let serial: [u8; 16] = [0x7f, 0xee, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 0xff];
        for n in [1u16, 3, 7, 1000, MAX_SHARDS] {
            let expected = u128::from_be_bytes(serial) % u128::from(n);
            let k = ShardCount::new(n).unwrap().shard_of(&serial).unwrap();
            assert_eq!(u128::from(k.index()), expected, "n = {n}");
            assert!(ShardCount::new(n).unwrap().contains(k));
        }
        // Random serials spread over every shard.
        let mut seen = [false; 4];
        for _ in 0..200 {
            let s = hcpki_model::serial::Serial::generate().unwrap();
            seen[usize::from(four.shard_of(s.number().as_bytes()).unwrap().index())] = true;
        }
        assert!(seen.iter().all(|s| *s), "{seen:?}");
    }

    #[test]
    fn counts_are_bounded_when_read_from_the_configuration() {
        assert_eq!(ShardCount::new(MAX_SHARDS + 1), Err(TooManyShards(MAX_SHARDS + 1)));
        assert!(Shard::new(MAX_SHARDS).is_none() && Shard::new(MAX_SHARDS - 1).is_some());
        assert_eq!(serde_json::from_str::<ShardCount>("16").unwrap().get(), 16);
        let err = serde_json::from_str::<ShardCount>("5000").err().unwrap().to_string();
        assert!(err.contains("use 0 (off) to 4096"), "{err}");
    }
}
