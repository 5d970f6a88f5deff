//! Which addresses challenge validation may connect to (issue #24, item 11).
//!
//! Validation connects to whatever an identifier resolves to. Left alone, an account could order a name whose
//! DNS points at the CA's own loopback, its database's private address or a link-local metadata service, and
//! use the validator to probe them (server-side request forgery). So an address from DNS is refused when it lies
//! in an internal or reserved range (IANA's special-purpose registries, RFC 6890 and its updates), unless the
//! operator allowed that range (`[acme] allow_addresses`). Names the operator maps in `[acme] resolve` are the
//! operator's own statement of where a name lives and are not checked here.
//!
//! An IPv4 address inside IPv6 (IPv4-mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) is judged
//! as the IPv4 address it carries, so `::ffff:127.0.0.1` is loopback.

use super::problem::Problem;
use crate::ip_prefix::IpPrefix;
use std::net::{IpAddr, Ipv4Addr};

/// The first address validation may connect to among those `identifier` resolved to (in the resolver's order):
/// one outside every internal range, or inside a range of `allowed`. None: a `rejectedIdentifier` problem naming
/// each address and its range, and what the operator or the device's owner can do.
pub fn admit(identifier: &str, resolved: &[IpAddr], allowed: &[IpPrefix]) -> Result<IpAddr, Problem> {
    let mut refused = Vec::new();
    for &ip in resolved {
        let judged = embedded_ipv4(ip).map_or(ip, IpAddr::V4);
        match internal_range(judged) {
            Some((range, name)) if !allowed.iter().any(|a| a.contains(ip) || a.contains(judged)) => {
                refused.push(format!("{ip} ({name}, {range})"));
            }
            _ => return Ok(ip),
        }
    }
    if refused.is_empty() {
        return Err(Problem::connection(format!("{identifier} has no address")));
    }
    Err(Problem::rejected_identifier(format!(
        "{identifier} resolves only to internal addresses: {}; validation does not connect to internal addresses. \
         Publish a public address for the name, or ask the CA operator to map it in `[acme] resolve` or to allow \
         its range in `[acme] allow_addresses`",
        refused.join(", ")
    )))
}

/// The internal or reserved range `ip` lies in, with its name; `None` for an address validation may reach.
/// IPv4 inside IPv6 is not unwrapped here: [`admit`] does that first.
pub fn internal_range(ip: IpAddr) -> Option<(IpPrefix, &'static str)> {
    let table: &[(IpPrefix, &str)] = if ip.is_ipv4() { &INTERNAL_V4 } else { &INTERNAL_V6 };
    table.iter().find(|(range, _)| range.contains(ip)).copied()
}

/// IPv4 special-purpose ranges that are not globally reachable (IANA IPv4 Special-Purpose Address Registry).
const INTERNAL_V4: [(IpPrefix, &str); 15] = [
    (IpPrefix::v4(0, 0, 0, 0, 8), "this network / unspecified"),
    (IpPrefix::v4(10, 0, 0, 0, 8), "private"),
    (IpPrefix::v4(100, 64, 0, 0, 10), "shared address space (CGNAT)"),
    (IpPrefix::v4(127, 0, 0, 0, 8), "loopback"),
    (IpPrefix::v4(169, 254, 0, 0, 16), "link-local"),
    (IpPrefix::v4(172, 16, 0, 0, 12), "private"),
    (IpPrefix::v4(192, 0, 0, 0, 24), "IETF protocol assignments"),
    (IpPrefix::v4(192, 0, 2, 0, 24), "documentation"),
    (IpPrefix::v4(192, 88, 99, 0, 24), "6to4 relay anycast"),
    (IpPrefix::v4(192, 168, 0, 0, 16), "private"),
    (IpPrefix::v4(198, 18, 0, 0, 15), "benchmarking"),
    (IpPrefix::v4(198, 51, 100, 0, 24), "documentation"),
    (IpPrefix::v4(203, 0, 113, 0, 24), "documentation"),
    (IpPrefix::v4(224, 0, 0, 0, 4), "multicast"),
    (IpPrefix::v4(240, 0, 0, 0, 4), "reserved / broadcast"),
];

/// IPv6 special-purpose ranges that are not globally reachable (IANA IPv6 Special-Purpose Address Registry);
/// IPv4-mapped, NAT64 and 6to4 addresses are judged by the IPv4 address they carry before this table.
const INTERNAL_V6: [(IpPrefix, &str); 13] = [
    (IpPrefix::v6([0, 0, 0, 0, 0, 0, 0, 0], 128), "unspecified"),
    (IpPrefix::v6([0, 0, 0, 0, 0, 0, 0, 1], 128), "loopback"),
    (IpPrefix::v6([0, 0, 0, 0, 0, 0, 0, 0], 96), "IPv4-compatible (deprecated)"),
    (IpPrefix::v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48), "local-use NAT64"),
    (IpPrefix::v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64), "discard-only"),
    (IpPrefix::v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 32), "Teredo"),
    (IpPrefix::v6([0x2001, 2, 0, 0, 0, 0, 0, 0], 48), "benchmarking"),
    (IpPrefix::v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32), "documentation"),
    (IpPrefix::v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20), "documentation"),
    (IpPrefix::v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7), "unique local (ULA)"),
    (IpPrefix::v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10), "link-local"),
    (IpPrefix::v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10), "site-local (deprecated)"),
    (IpPrefix::v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8), "multicast"),
];

/// The IPv4 address an IPv6 address stands for: IPv4-mapped (`::ffff:0:0/96`), NAT64 (`64:ff9b::/96`, RFC 6052)
/// and 6to4 (`2002::/16`, RFC 3056); a connection to them reaches (or is translated to) that IPv4 address.
fn embedded_ipv4(ip: IpAddr) -> Option<Ipv4Addr> {
    let IpAddr::V6(v6) = ip else { return None };
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    let o = v6.octets();
    let [o0, o1, o2, o3, o4, o5, .., o12, o13, o14, o15] = o;
    if IpPrefix::v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96).contains(ip) {
        return Some(Ipv4Addr::new(o12, o13, o14, o15));
    }
    if [o0, o1] == [0x20, 0x02] {
        return Some(Ipv4Addr::new(o2, o3, o4, o5));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn internal_addresses_are_refused() {
        for a in [
            "127.0.0.1",
            "127.255.0.9",
            "0.0.0.0",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "169.254.169.254",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.1",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::7f00:1",
            "2002:7f00:1::1",
            "::127.0.0.1",
            "fe80::1",
            "fd12:3456::1",
            "fc00::1",
            "ff02::1",
            "2001:db8::1",
        ] {
            let p = admit("x.example", &[ip(a)], &[]).expect_err(a);
            assert_eq!(p.kind, super::super::ProblemType::RejectedIdentifier, "{a}");
            assert!(p.detail.contains(&ip(a).to_string()) && p.detail.contains("allow_addresses"), "{a}: {}", p.detail);
        }
    }

    #[test]
    fn public_addresses_pass() {
        for a in
            ["8.8.8.8", "172.32.0.1", "100.128.0.1", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8", "2002:808:808::1"]
        {
            assert_eq!(admit("x.example", &[ip(a)], &[]).unwrap(), ip(a), "{a}");
        }
    }

    #[test]
    fn the_first_admissible_address_is_taken() {
        let got = admit("x.example", &[ip("127.0.0.1"), ip("8.8.4.4")], &[]).unwrap();
        assert_eq!(got, ip("8.8.4.4"));
        assert!(admit("x.example", &[], &[]).is_err());
    }

    #[test]
    fn allowed_ranges_admit_internal_addresses() {
        let allowed: Vec<IpPrefix> = ["10.0.0.0/8", "fd00::/8"].iter().map(|s| s.parse().unwrap()).collect();
        assert_eq!(admit("x", &[ip("10.9.8.7")], &allowed).unwrap(), ip("10.9.8.7"));
        assert_eq!(admit("x", &[ip("::ffff:10.9.8.7")], &allowed).unwrap(), ip("::ffff:10.9.8.7"));
        assert_eq!(admit("x", &[ip("fd00::5")], &allowed).unwrap(), ip("fd00::5"));
        assert!(admit("x", &[ip("127.0.0.1")], &allowed).is_err());
        assert!(admit("x", &[ip("fc00::5")], &allowed).is_err());
    }
}
