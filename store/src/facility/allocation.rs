//! A facility's address allocation: an IPv6 or IPv4 prefix, or a single address (a /128 or /32), that the
//! network operator assigned to that facility alone (issue #24, item 2).
//!
//! Routers identify themselves in IKE by address (`ID_IPV4_ADDR` / `ID_IPV6_ADDR`, RFC 7296 §3.5), and a hub
//! that matches peers by address trusts whatever address a router certificate carries. So a router
//! certificate may carry an address only inside its own facility's allocations, and two facilities'
//! allocations never overlap: the registry, not the requester, says who owns an address.

use crate::ip_prefix::{IpPrefix, PrefixError};
use std::cmp::Ordering;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// A checked allocation: a unicast [`IpPrefix`] unique on the network.
///
/// Parsed once from text such as `2001:db8:10::/48` or `192.0.2.7` (a single address, i.e. `/32` or `/128`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Allocation(IpPrefix);

/// Why a text is not an allocation; each message says what to type instead.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum AllocationError {
    /// Not a canonical address or prefix (syntax, length or host bits; the message says which).
    #[error(transparent)]
    Prefix(#[from] PrefixError),
    /// An address range that never identifies one router on the network.
    #[error("{text:?} is {why}: only unicast addresses unique on the network can be allocated to a facility")]
    NotUnicast {
        /// The text.
        text: String,
        /// Which kind of range.
        why: &'static str,
    },
}

/// Ranges that never identify one router, with what to call them. A prefix is refused when it touches one at
/// all (a /8 containing loopback is as wrong as loopback itself).
const NOT_UNICAST_V4: [(IpPrefix, &str); 5] = [
    (IpPrefix::v4(0, 0, 0, 0, 8), "in 0.0.0.0/8 (\"this network\", unspecified)"),
    (IpPrefix::v4(127, 0, 0, 0, 8), "loopback"),
    (IpPrefix::v4(169, 254, 0, 0, 16), "link-local"),
    (IpPrefix::v4(224, 0, 0, 0, 4), "multicast"),
    (IpPrefix::v4(240, 0, 0, 0, 4), "reserved (240.0.0.0/4, broadcast)"),
];
const NOT_UNICAST_V6: [(IpPrefix, &str); 5] = [
    (IpPrefix::v6([0, 0, 0, 0, 0, 0, 0, 0], 128), "the unspecified address"),
    (IpPrefix::v6([0, 0, 0, 0, 0, 0, 0, 1], 128), "loopback"),
    (IpPrefix::v6([0, 0, 0, 0, 0, 0xffff, 0, 0], 96), "an IPv4-mapped address (allocate the IPv4 address itself)"),
    (IpPrefix::v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10), "link-local"),
    (IpPrefix::v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8), "multicast"),
];

impl Allocation {
    /// Parse `ADDRESS` or `ADDRESS/LENGTH`, refusing host bits and every range that is not unicast and unique on
    /// the network (unspecified, loopback, multicast, broadcast, link-local, IPv4-mapped IPv6).
    pub fn parse(text: &str) -> Result<Self, AllocationError> {
        let prefix = IpPrefix::parse(text)?;
        let table: &[(IpPrefix, &'static str)] = if prefix.family() == 6 { &NOT_UNICAST_V6 } else { &NOT_UNICAST_V4 };
        if let Some((_, why)) = table.iter().find(|(range, _)| prefix.overlaps(range)) {
            return Err(AllocationError::NotUnicast { text: text.trim().to_owned(), why });
        }
        Ok(Self(prefix))
    }

    /// The prefix.
    pub fn prefix(&self) -> IpPrefix {
        self.0
    }

    /// The network address.
    pub fn network(&self) -> IpAddr {
        self.0.network()
    }

    /// The prefix length.
    pub fn prefix_len(&self) -> u8 {
        self.0.prefix_len()
    }

    /// `6` or `4`.
    pub fn family(&self) -> u8 {
        self.0.family()
    }

    /// Whether `addr` lies inside.
    pub fn contains(&self, addr: IpAddr) -> bool {
        self.0.contains(addr)
    }

    /// Whether the two share an address (same family, and one contains the other).
    pub fn overlaps(&self, other: &Self) -> bool {
        self.0.overlaps(&other.0)
    }

    /// The first address as fixed-width lowercase hex (32 digits for IPv6, 8 for IPv4): text that sorts as the
    /// numbers do, so both databases can find overlaps with a plain range comparison.
    pub fn first_hex(&self) -> String {
        self.hex(self.0.first())
    }

    /// The last address, as [`Allocation::first_hex`].
    pub fn last_hex(&self) -> String {
        self.hex(self.0.last())
    }

    fn hex(&self, value: u128) -> String {
        if self.family() == 6 { format!("{value:032x}") } else { format!("{value:08x}") }
    }
}

/// A single address is shown bare (`192.0.2.7`), as operators write it; a prefix as `network/length`.
impl fmt::Display for Allocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_single_address() { write!(f, "{}", self.0.network()) } else { write!(f, "{}", self.0) }
    }
}

impl FromStr for Allocation {
    type Err = AllocationError;
    fn from_str(s: &str) -> Result<Self, AllocationError> {
        Self::parse(s)
    }
}

impl serde::Serialize for Allocation {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// IPv4 before IPv6, then by network, then the wider prefix first.
impl Ord for Allocation {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.cmp(&other.0)
    }
}

impl PartialOrd for Allocation {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prefixes_and_single_addresses() {
        let p = Allocation::parse(" 2001:db8:10::/48 ").unwrap();
        assert_eq!(p.to_string(), "2001:db8:10::/48");
        assert!(p.contains("2001:db8:10:ffff::1".parse().unwrap()));
        assert!(!p.contains("2001:db8:11::1".parse().unwrap()));
        assert!(!p.contains("192.0.2.1".parse().unwrap()));
        let one = Allocation::parse("192.0.2.7").unwrap();
        assert_eq!((one.to_string(), one.prefix_len()), ("192.0.2.7".into(), 32));
        assert_eq!(Allocation::parse("192.0.2.7/32").unwrap(), one);
        assert_eq!(one.first_hex(), "c0000207");
        assert_eq!(Allocation::parse("2001:db8::/32").unwrap().last_hex(), "20010db8ffffffffffffffffffffffff");
        assert_eq!(Allocation::parse("2001:db8::1").unwrap().prefix_len(), 128);
    }

    #[test]
    fn refuses_host_bits_bad_lengths_and_syntax() {
        let e = Allocation::parse("2001:db8:10::1/48").unwrap_err().to_string();
        assert!(e.contains("host bits") && e.contains("2001:db8:10::/48"), "{e}");
        assert!(matches!(Allocation::parse("192.0.2.0/33"), Err(AllocationError::Prefix(PrefixError::Length { .. }))));
        for bad in ["", "x", "192.0.2.0/", "192.0.2.0/+8", "192.0.2.0/a", "2001:db8::/1280", "192.0.2.0/24/1"] {
            assert!(matches!(Allocation::parse(bad), Err(AllocationError::Prefix(PrefixError::Syntax(_)))), "{bad}");
        }
    }

    #[test]
    fn refuses_what_is_not_unique_unicast() {
        for bad in [
            "0.0.0.0",
            "127.0.0.1",
            "127.0.0.0/8",
            "0.0.0.0/0",
            "224.0.0.1",
            "255.255.255.255",
            "169.254.1.1",
            "::",
            "::1",
            "ff02::1",
            "fe80::1",
            "::ffff:192.0.2.7",
            "::/0",
            "8000::/1",
        ] {
            assert!(matches!(Allocation::parse(bad), Err(AllocationError::NotUnicast { .. })), "{bad}");
        }
    }

    #[test]
    fn overlap_is_containment_within_a_family() {
        let a = Allocation::parse("2001:db8:10::/48").unwrap();
        assert!(a.overlaps(&Allocation::parse("2001:db8:10:5::/64").unwrap()));
        assert!(a.overlaps(&Allocation::parse("2001:db8::/32").unwrap()));
        assert!(!a.overlaps(&Allocation::parse("2001:db8:11::/48").unwrap()));
        assert!(!Allocation::parse("192.0.2.0/24").unwrap().overlaps(&Allocation::parse("::c000:200/120").unwrap()));
    }
}
