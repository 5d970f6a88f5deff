//! An IP network prefix (`2001:db8:10::/48`, `10.0.0.0/8`, or a single address as its `/128` or `/32`): one
//! value for every place hcpki reasons about address ranges — a facility's address allocations
//! ([`crate::facility::allocation`]) and the ranges ACME validation refuses or allows
//! (`hcpki_ca::enroll::acme::validation_address`). Parsed once, in canonical form (no bits set past the prefix
//! length), so two prefixes compare, contain and overlap by arithmetic rather than by text.

use std::cmp::Ordering;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// A network address and a prefix length no longer than its family's width, with no host bits set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IpPrefix {
    network: IpAddr,
    len: u8,
}

/// Why a text is not an IP prefix; each message names the text and says what to write instead.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum PrefixError {
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
    /// Bits set past the prefix length: probably a typo of the network or of the length, so which range was
    /// meant is not clear.
    #[error("{text:?} has host bits set: the network of that prefix is {canonical}; write that, or a longer prefix")]
    HostBits {
        /// The text.
        text: String,
        /// The network the prefix length leaves.
        canonical: IpPrefix,
    },
}

impl IpPrefix {
    /// An IPv4 prefix from a table of constants (the caller writes it canonical).
    pub const fn v4(a: u8, b: u8, c: u8, d: u8, len: u8) -> Self {
        Self { network: IpAddr::V4(Ipv4Addr::new(a, b, c, d)), len }
    }

    /// An IPv6 prefix from a table of constants (the caller writes it canonical).
    pub const fn v6(segments: [u16; 8], len: u8) -> Self {
        let [a, b, c, d, e, f, g, h] = segments;
        Self { network: IpAddr::V6(Ipv6Addr::new(a, b, c, d, e, f, g, h)), len }
    }

    /// Parse `ADDRESS` or `ADDRESS/LENGTH` (surrounding whitespace ignored), refusing host bits.
    pub fn parse(text: &str) -> Result<Self, PrefixError> {
        let trimmed = text.trim();
        let syntax = || PrefixError::Syntax(trimmed.to_owned());
        let (address, len) = match trimmed.split_once('/') {
            Some((a, l)) => {
                // Digits only: `u8::from_str` would take a leading `+`.
                if l.is_empty() || l.len() > 3 || !l.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(syntax());
                }
                (a, Some(l.parse::<u8>().map_err(|_| syntax())?))
            }
            None => (trimmed, None),
        };
        let network: IpAddr = address.parse().map_err(|_| syntax())?;
        let max = width(network);
        let len = len.unwrap_or(max);
        if len > max {
            return Err(PrefixError::Length { text: trimmed.to_owned(), len, max });
        }
        let prefix = Self { network, len };
        if prefix.first() != bits(network) {
            let canonical = Self { network: from_bits(network, prefix.first()), len };
            return Err(PrefixError::HostBits { text: trimmed.to_owned(), canonical });
        }
        Ok(prefix)
    }

    /// The network address.
    pub fn network(&self) -> IpAddr {
        self.network
    }

    /// The prefix length.
    pub fn prefix_len(&self) -> u8 {
        self.len
    }

    /// Whether this is one address (`/32`, `/128`).
    pub fn is_single_address(&self) -> bool {
        self.len == width(self.network)
    }

    /// `6` or `4`.
    pub fn family(&self) -> u8 {
        if self.network.is_ipv6() { 6 } else { 4 }
    }

    /// Whether `addr` lies inside (an IPv4 prefix never holds an IPv6 address, nor the reverse: callers judge
    /// IPv4-mapped addresses themselves).
    pub fn contains(&self, addr: IpAddr) -> bool {
        self.network.is_ipv6() == addr.is_ipv6() && (self.first()..=self.last()).contains(&bits(addr))
    }

    /// Whether the two share an address (same family, and one contains the other).
    pub fn overlaps(&self, other: &Self) -> bool {
        self.network.is_ipv6() == other.network.is_ipv6()
            && self.first() <= other.last()
            && other.first() <= self.last()
    }

    /// The first address, as a number.
    pub fn first(&self) -> u128 {
        bits(self.network) & !self.host_mask()
    }

    /// The last address, as a number.
    pub fn last(&self) -> u128 {
        self.first() | self.host_mask()
    }

    fn host_mask(&self) -> u128 {
        let host_bits = u32::from(width(self.network).saturating_sub(self.len));
        1u128.checked_shl(host_bits).map_or(u128::MAX, |b| b - 1)
    }
}

/// Always `network/length` (CIDR), single addresses too.
impl fmt::Display for IpPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.len)
    }
}

impl FromStr for IpPrefix {
    type Err = PrefixError;
    fn from_str(s: &str) -> Result<Self, PrefixError> {
        Self::parse(s)
    }
}

impl TryFrom<String> for IpPrefix {
    type Error = PrefixError;
    fn try_from(text: String) -> Result<Self, PrefixError> {
        Self::parse(&text)
    }
}

impl serde::Serialize for IpPrefix {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for IpPrefix {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// IPv4 before IPv6, then by network, then the wider prefix first.
impl Ord for IpPrefix {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.family(), self.first(), self.len).cmp(&(other.family(), other.first(), other.len))
    }
}

impl PartialOrd for IpPrefix {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The address as a number (IPv4 in the low 32 bits).
pub fn bits(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

fn width(addr: IpAddr) -> u8 {
    if addr.is_ipv6() { 128 } else { 32 }
}

fn from_bits(family: IpAddr, value: u128) -> IpAddr {
    match family {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from(u32::try_from(value).unwrap_or(u32::MAX))),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_prefixes_and_single_addresses() {
        let p = IpPrefix::parse(" 2001:db8:10::/48 ").unwrap();
        assert_eq!((p.to_string(), p.prefix_len(), p.family()), ("2001:db8:10::/48".into(), 48, 6));
        assert!(p.contains(ip("2001:db8:10:ffff::1")) && !p.contains(ip("2001:db8:11::1")));
        assert!(!p.contains(ip("192.0.2.1")), "never across families");
        let one = IpPrefix::parse("192.0.2.7").unwrap();
        assert_eq!((one.to_string(), one.is_single_address()), ("192.0.2.7/32".into(), true));
        assert_eq!(IpPrefix::parse("192.0.2.7/32").unwrap(), one);
        assert_eq!(IpPrefix::parse("0.0.0.0/0").unwrap().last(), u128::from(u32::MAX));
        assert_eq!(IpPrefix::parse("::/0").unwrap().last(), u128::MAX);
        let r: IpPrefix = "172.16.0.0/12".parse().unwrap();
        assert!(r.contains(ip("172.31.1.1")) && !r.contains(ip("172.32.0.0")) && !r.contains(ip("::1")));
    }

    #[test]
    fn refuses_host_bits_bad_lengths_and_syntax() {
        assert!(matches!(
            IpPrefix::parse("2001:db8:10::1/48"),
            Err(PrefixError::HostBits { canonical, .. }) if canonical.to_string() == "2001:db8:10::/48"
        ));
        assert!(matches!(IpPrefix::parse("10.0.0.1/8"), Err(PrefixError::HostBits { .. })));
        assert!(matches!(IpPrefix::parse("192.0.2.0/33"), Err(PrefixError::Length { len: 33, max: 32, .. })));
        assert!(matches!(IpPrefix::parse("::/129"), Err(PrefixError::Length { .. })));
        for bad in [
            "",
            "x",
            "10/8",
            "192.0.2.0/",
            "192.0.2.0/+8",
            "192.0.2.0/a",
            "2001:db8::/1280",
            "192.0.2.0/24/1",
            "10.0.0.0/999",
        ] {
            assert!(matches!(IpPrefix::parse(bad), Err(PrefixError::Syntax(_))), "{bad}");
        }
    }

    #[test]
    fn overlap_is_containment_within_a_family() {
        let a = IpPrefix::parse("2001:db8:10::/48").unwrap();
        assert!(a.overlaps(&IpPrefix::parse("2001:db8:10:5::/64").unwrap()));
        assert!(a.overlaps(&IpPrefix::parse("2001:db8::/32").unwrap()));
        assert!(!a.overlaps(&IpPrefix::parse("2001:db8:11::/48").unwrap()));
        assert!(!IpPrefix::parse("192.0.2.0/24").unwrap().overlaps(&IpPrefix::parse("::c000:200/120").unwrap()));
    }

    #[test]
    fn constants_match_parsing() {
        assert_eq!(IpPrefix::v4(10, 0, 0, 0, 8), IpPrefix::parse("10.0.0.0/8").unwrap());
        assert_eq!(IpPrefix::v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7), IpPrefix::parse("fc00::/7").unwrap());
    }
}
