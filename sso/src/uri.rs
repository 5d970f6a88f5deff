//! URI text: the one percent-encoder of the SSO core and its adapters (authorization redirects, the portal's
//! links, the TOTP enrolment URI).

/// RFC 3986 percent-encoding of everything but the unreserved characters.
pub fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
