//! A facility's address allocation: an IPv6 or IPv4 prefix, or a single address (a /128 or /32), that the
//! network operator assigned to that facility alone (issue #24, item 2).
//!
//! Routers identify themselves in IKE by address (`ID_IPV4_ADDR` / `ID_IPV6_ADDR`, RFC 7296 §3.5), and a hub
//! that matches peers by address trusts whatever address a router certificate carries. So a router
//! certificate may carry an address only inside its own facility's allocations, and two facilities'
//! allocations never overlap: the registry, not the requester, says who owns an address.

use std::cmp::Ordering;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// A checked allocation: a unicast network in canonical form (bits beyond the prefix length are zero).
///
/// Parsed once from text such as `2001:db8:10::/48` or `192.0.2.7` (a single address, i.e. `/32` or `/128`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Allocation {
    network: IpAddr,
    prefix_len: u8,
}

/// Why a text is not an allocation; each message says what to type instead.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum AllocationError {
    /// Not an address or `address/length`.
    #[error("{0:?} is not an IP address or prefix: write e.g. 2001:db8:10::/48, 2001:db8:10::1 or 192.0.2.0/28")]
    Syntax(String),
    /// The prefix length is past the family's width.
    #[error("{text:?}: prefix length {len} is longer than {max} bits")]
    Length {
        /// The text.
        text: String,
        /// The length given.
        len: u8,
        /// The family's width.
        max: u8,
    },
    /// Bits set past the prefix length: probably a typo of the network or of the length.
    #[error("{text:?} has host bits set: the network of that prefix is {canonical}; write that, or a longer prefix")]
    HostBits {
        /// The text.
        text: String,
        /// The network the prefix length leaves.
        canonical: String,
    },
    /// An address range that never identifies one router on the network.
    #[error("{text:?} is {why}: only unicast addresses unique on the network can be allocated to a facility")]
    NotUnicast {
        /// The text.
        text: String,
        /// Which kind of range.
        why: &'static str,
    },
}

impl Allocation {
    /// Parse `ADDRESS` or `ADDRESS/LENGTH`, refusing host bits and every range that is not unicast and unique on
    /// the network (unspecified, loopback, multicast, broadcast, link-local, IPv4-mapped IPv6).
    pub fn parse(text: &str) -> Result<Self, AllocationError> {
        let trimmed = text.trim();
        let syntax = || AllocationError::Syntax(trimmed.to_owned());
        let (addr, len) = match trimmed.split_once('/') {
            Some((a, l)) => {
                // Digits only: `u8::from_str` would take a leading `+`.
                if l.is_empty() || l.len() > 3 || !l.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(syntax());
                }
                (a, Some(l.parse::<u8>().map_err(|_| syntax())?))
            }
            None => (trimmed, None),
        };
        let network: IpAddr = addr.parse().map_err(|_| syntax())?;
        let max = width(network);
        let prefix_len = len.unwrap_or(max);
        if prefix_len > max {
            return Err(AllocationError::Length { text: trimmed.to_owned(), len: prefix_len, max });
        }
        let allocation = Self { network, prefix_len };
        if allocation.first() != bits(network) {
            let canonical = Self { network: from_bits(network, allocation.first()), prefix_len };
            return Err(AllocationError::HostBits { text: trimmed.to_owned(), canonical: canonical.to_string() });
        }
        if let Some(why) = allocation.not_unicast() {
            return Err(AllocationError::NotUnicast { text: trimmed.to_owned(), why });
        }
        Ok(allocation)
    }

    /// The network address.
    pub fn network(&self) -> IpAddr {
        self.network
    }

    /// The prefix length.
    pub fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    /// `6` or `4`.
    pub fn family(&self) -> u8 {
        if self.network.is_ipv6() { 6 } else { 4 }
    }

    /// Whether `addr` lies inside.
    pub fn contains(&self, addr: IpAddr) -> bool {
        self.network.is_ipv6() == addr.is_ipv6() && (self.first()..=self.last()).contains(&bits(addr))
    }

    /// Whether the two share an address (same family, and one contains the other).
    pub fn overlaps(&self, other: &Self) -> bool {
        self.network.is_ipv6() == other.network.is_ipv6()
            && self.first() <= other.last()
            && other.first() <= self.last()
    }

    /// The first address as fixed-width lowercase hex (32 digits for IPv6, 8 for IPv4): text that sorts as the
    /// numbers do, so both databases can find overlaps with a plain range comparison.
    pub fn first_hex(&self) -> String {
        hex(self.network, self.first())
    }

    /// The last address, as [`Allocation::first_hex`].
    pub fn last_hex(&self) -> String {
        hex(self.network, self.last())
    }

    fn first(&self) -> u128 {
        bits(self.network) & !self.host_mask()
    }

    fn last(&self) -> u128 {
        self.first() | self.host_mask()
    }

    fn host_mask(&self) -> u128 {
        let host_bits = u32::from(width(self.network) - self.prefix_len);
        1u128.checked_shl(host_bits).map_or(u128::MAX, |b| b - 1)
    }

    /// Why the whole range cannot be allocated, if it cannot. A prefix is refused when it touches such a range at
    /// all (a /8 containing loopback is as wrong as loopback itself).
    fn not_unicast(&self) -> Option<&'static str> {
        let reserved: &[(&str, &'static str)] = match self.network {
            IpAddr::V4(_) => &[
                ("0.0.0.0/8", "in 0.0.0.0/8 (\"this network\", unspecified)"),
                ("127.0.0.0/8", "loopback"),
                ("169.254.0.0/16", "link-local"),
                ("224.0.0.0/4", "multicast"),
                ("240.0.0.0/4", "reserved (240.0.0.0/4, broadcast)"),
            ],
            IpAddr::V6(_) => &[
                ("::/128", "the unspecified address"),
                ("::1/128", "loopback"),
                ("::ffff:0:0/96", "an IPv4-mapped address (allocate the IPv4 address itself)"),
                ("fe80::/10", "link-local"),
                ("ff00::/8", "multicast"),
            ],
        };
        reserved.iter().find_map(|(range, why)| {
            let (addr, len) = range.split_once('/')?;
            let range = Self { network: addr.parse().ok()?, prefix_len: len.parse().ok()? };
            self.overlaps(&range).then_some(*why)
        })
    }
}

impl fmt::Display for Allocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix_len == width(self.network) {
            write!(f, "{}", self.network)
        } else {
            write!(f, "{}/{}", self.network, self.prefix_len)
        }
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
        (self.family(), self.first(), self.prefix_len).cmp(&(other.family(), other.first(), other.prefix_len))
    }
}

impl PartialOrd for Allocation {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn width(addr: IpAddr) -> u8 {
    if addr.is_ipv6() { 128 } else { 32 }
}

fn bits(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

fn from_bits(family: IpAddr, value: u128) -> IpAddr {
    match family {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from(u32::try_from(value).unwrap_or(u32::MAX))),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(value)),
    }
}

fn hex(family: IpAddr, value: u128) -> String {
    match family {
        IpAddr::V4(_) => format!("{value:08x}"),
        IpAddr::V6(_) => format!("{value:032x}"),
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
        assert!(matches!(
            Allocation::parse("2001:db8:10::1/48"),
            Err(AllocationError::HostBits { canonical, .. }) if canonical == "2001:db8:10::/48"
        ));
        assert!(matches!(Allocation::parse("192.0.2.0/33"), Err(AllocationError::Length { .. })));
        for bad in ["", "x", "192.0.2.0/", "192.0.2.0/+8", "192.0.2.0/a", "2001:db8::/1280", "192.0.2.0/24/1"] {
            assert!(matches!(Allocation::parse(bad), Err(AllocationError::Syntax(_))), "{bad}");
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
