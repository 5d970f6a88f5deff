//! Which client a request is counted under: the TCP peer, or the client a trusted reverse proxy names in
//! `X-Forwarded-For`.

use axum::http::HeaderMap;
use std::net::IpAddr;

/// An address block, `10.0.0.0/8` or `2001:db8::/32` (a bare address is a block of one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl std::str::FromStr for Network {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not an address block: write e.g. 10.0.0.0/8, 192.0.2.7 or 2001:db8::/32");
        let (addr, prefix) = s.split_once('/').map_or((s, None), |(a, p)| (a, Some(p)));
        let addr: IpAddr = addr.trim().parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.trim().parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(Self { addr, prefix })
    }
}

impl Network {
    /// Whether `ip` is inside this block.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let bits = |ip: IpAddr| match ip {
            IpAddr::V4(v4) => (u128::from(u32::from(v4)) << 96, 32),
            IpAddr::V6(v6) => (u128::from(v6), 128),
        };
        let ((net, width), (candidate, candidate_width)) = (bits(self.addr), bits(ip.to_canonical()));
        if width != candidate_width {
            return false;
        }
        let mask = if self.prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(self.prefix)) };
        net & mask == candidate & mask
    }
}

/// The client address a request is counted under.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[Network]) -> IpAddr {
    let trusted_ip = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !trusted_ip(peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in forwarded.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if trusted_ip(ip) => continue,
            Ok(ip) => return ip,
            // Garbage from the client's side of the chain: the last proxy we trust spoke to this client.
            Err(_) => break,
        }
    }
    peer
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn trusted() -> Vec<Network> {
        vec!["10.0.0.0/8".parse().unwrap(), "2001:db8::/32".parse().unwrap()]
    }

    #[test]
    fn the_client_address_behind_trusted_proxies_only() {
        let trusted = trusted();
        let headers = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert("x-forwarded-for", HeaderValue::from_str(v).unwrap());
            h
        };
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let client = headers("203.0.113.9, 10.1.2.3");
        assert_eq!(client_address(ip("10.9.9.9"), &client, &trusted), ip("203.0.113.9"), "proxy chain");
        assert_eq!(client_address(ip("198.51.100.1"), &client, &trusted), ip("198.51.100.1"), "untrusted peer");
        let forged = headers("10.0.0.1, 198.51.100.7");
        assert_eq!(client_address(ip("10.9.9.9"), &forged, &trusted), ip("198.51.100.7"), "the right-most hop");
        assert_eq!(client_address(ip("10.9.9.9"), &headers("junk"), &trusted), ip("10.9.9.9"));
        assert_eq!(client_address(ip("10.9.9.9"), &HeaderMap::new(), &trusted), ip("10.9.9.9"));
        assert_eq!(client_address(ip("::ffff:10.1.1.1"), &client, &trusted), ip("203.0.113.9"), "v4-mapped peer");
        assert_eq!(client_address(ip("2001:db8::5"), &headers("2001:db9::1"), &trusted), ip("2001:db9::1"));
    }

    #[test]
    fn networks_parse_and_match() {
        let n: Network = "192.168.0.0/16".parse().unwrap();
        assert!(n.contains("192.168.200.1".parse().unwrap()) && !n.contains("192.169.0.1".parse().unwrap()));
        assert!("0.0.0.0/0".parse::<Network>().unwrap().contains("8.8.8.8".parse().unwrap()));
        assert!(!"0.0.0.0/0".parse::<Network>().unwrap().contains("::1".parse().unwrap()), "families differ");
        assert!("::1".parse::<Network>().unwrap().contains("::1".parse().unwrap()));
        for bad in ["10.0.0.0/33", "nope", "10.0.0.0/x", "::/129", ""] {
            assert!(bad.parse::<Network>().is_err(), "{bad}");
        }
    }
}
