//! Checks of requested subjectAltName values shared by the profiles that take them (router, server).

use crate::profile::ProfileError;

/// Validate a DNS name for a SAN: lowercase LDH labels, no wildcard, ≤ 253 octets.
pub(crate) fn dns_name(value: &str) -> Result<String, ProfileError> {
    let v = value.trim().trim_end_matches('.').to_ascii_lowercase();
    let bad = |why| ProfileError::BadSan { value: value.to_owned(), why };
    if v.is_empty() || v.len() > 253 {
        return Err(bad("length must be 1–253"));
    }
    if v.contains('*') {
        return Err(bad("wildcards are not allowed (RFC 4945 §5.1.3.6)"));
    }
    for label in v.split('.') {
        let ok_chars = label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if label.is_empty() || label.len() > 63 || !ok_chars || label.starts_with('-') || label.ends_with('-') {
            return Err(bad("each label must be 1–63 letters, digits or inner hyphens"));
        }
    }
    if v.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(bad("looks like a malformed IP address"));
    }
    Ok(v)
}

/// Parse an IP SAN: a single unicast host address, v4 or v6 (never a range or subnet).
pub(crate) fn ip_address(value: &str) -> Option<Result<std::net::IpAddr, ProfileError>> {
    let addr: std::net::IpAddr = value.trim().parse().ok()?;
    let bad = |why| ProfileError::BadSan { value: value.to_owned(), why };
    Some(if addr.is_unspecified() {
        Err(bad("the unspecified address cannot identify a host"))
    } else if addr.is_multicast() || addr == std::net::IpAddr::from([255, 255, 255, 255]) {
        Err(bad("multicast and broadcast addresses cannot identify a host"))
    } else {
        Ok(addr)
    })
}
