//! The terminal a session was made on (issue #48 item 2, D161): the guideline's "a login on one terminal must
//! never log the user in on other terminals". A session is bound, when it is made, to the PC's TLS client
//! certificate (the facility PC certificate, where the connection presented one) and to the browser it was made
//! in (a second cookie, [`BROWSER_COOKIE`], set with the session cookie; only its SHA-256 is kept). Every request
//! that names the session must come with both again: the session cookie copied to another PC (another
//! certificate, or none) or into another browser (without that browser's cookie) is refused, and the session is
//! ended, as its cookie is known to be out.
//!
//! What this does not stop: both cookies and the PC's certificate key copied together (the key is meant to stay
//! in the PC's store; the cookies are HttpOnly). Sessions made before D161 carry no binding and are not checked.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

/// The browser cookie: a random 256-bit value set with each session (`__Host-`, Secure, HttpOnly,
/// SameSite=Lax, Path=/, as the session cookie).
pub const BROWSER_COOKIE: &str = "__Host-hcpki-browser";

/// What a session is bound to (kept with the session's data).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Terminal {
    /// SHA-256 (hex) of the PC's TLS client certificate (DER) the login came through, if it presented one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pc: Option<String>,
    /// SHA-256 (hex) of the browser cookie's value.
    pub browser: String,
}

/// What a request shows of its terminal.
#[derive(Clone, Copy, Debug, Default)]
pub struct Seen<'a> {
    /// The connection's TLS client certificate (DER), if any.
    pub pc_certificate: Option<&'a [u8]>,
    /// The browser cookie's value, if the request sent one.
    pub browser_cookie: Option<&'a str>,
}

/// Why a session's cookie is refused on this request. The messages are for the audit log; the person sees the
/// `ended_other_terminal` problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Elsewhere {
    /// The connection presents another PC certificate than the login's, or none where the login had one, or
    /// one where it had none: the cookie was carried to another PC. Sign in again at this PC.
    #[error("the session was made on another PC (its TLS client certificate differs): sign in again at this PC")]
    OtherPc,
    /// The request lacks the browser cookie set with the session, or sends another: the session cookie was
    /// carried into another browser. Sign in again in this browser.
    #[error("the session was made in another browser (the browser cookie is missing or differs): sign in again here")]
    OtherBrowser,
}

impl Elsewhere {
    /// The audit entry's reason code.
    pub fn code(self) -> &'static str {
        match self {
            Self::OtherPc => "other-pc",
            Self::OtherBrowser => "other-browser",
        }
    }
}

/// A new binding for a login whose connection presented `pc_certificate`: the binding to keep and the browser
/// cookie's value to send.
pub fn bind(pc_certificate: Option<&[u8]>) -> Result<(Terminal, String), hcpki_pkix::keys::KeyError> {
    let raw = hcpki_pkix::keys::random_secret(32)?;
    let value = B64.encode(raw.as_slice());
    Ok((Terminal { pc: pc_certificate.map(fingerprint), browser: hash_id(&value) }, value))
}

/// Whether a request that shows `seen` may use a session bound to `bound`: the PC first (a certificate is the
/// stronger tie), then the browser.
pub fn check(bound: &Terminal, seen: Seen<'_>) -> Result<(), Elsewhere> {
    if bound.pc != seen.pc_certificate.map(fingerprint) {
        return Err(Elsewhere::OtherPc);
    }
    if seen.browser_cookie.map(hash_id).as_deref() != Some(bound.browser.as_str()) {
        return Err(Elsewhere::OtherBrowser);
    }
    Ok(())
}

/// The `Set-Cookie` value of the browser cookie `value`, kept as long as the session cookie (`max_age`).
pub fn set_cookie(value: &str, max_age: i64) -> String {
    format!("{BROWSER_COOKIE}={value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={max_age}")
}

fn fingerprint(der: &[u8]) -> String {
    hex::encode(sha256(der))
}

/// SHA-256 of `data` (the session module keys its cookies' hashes with it too).
pub(super) fn sha256(data: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data).as_ref().to_vec()
}

/// SHA-256 (hex) of a cookie's value: all the database keeps of it.
pub(super) fn hash_id(id: &str) -> String {
    hex::encode(sha256(id.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_refused_on_another_pc_or_in_another_browser() {
        let pc_a = b"certificate of PC A".as_slice();
        let pc_b = b"certificate of PC B".as_slice();
        let (bound, cookie) = bind(Some(pc_a)).unwrap();
        let here = Seen { pc_certificate: Some(pc_a), browser_cookie: Some(&cookie) };
        assert_eq!(check(&bound, here), Ok(()));
        for (seen, why) in [
            (Seen { pc_certificate: Some(pc_b), ..here }, Elsewhere::OtherPc),
            (Seen { pc_certificate: None, ..here }, Elsewhere::OtherPc),
            (Seen { browser_cookie: None, ..here }, Elsewhere::OtherBrowser),
            (Seen { browser_cookie: Some("another browser's"), ..here }, Elsewhere::OtherBrowser),
        ] {
            assert_eq!(check(&bound, seen), Err(why), "{seen:?}");
        }
        // Made without a certificate: a request with one comes from another PC.
        let (bound, cookie) = bind(None).unwrap();
        assert_eq!(check(&bound, Seen { pc_certificate: None, browser_cookie: Some(&cookie) }), Ok(()));
        let with_pc = Seen { pc_certificate: Some(pc_a), browser_cookie: Some(&cookie) };
        assert_eq!(check(&bound, with_pc), Err(Elsewhere::OtherPc));
        assert!(!bound.browser.contains(&cookie), "only the cookie's hash is kept");
    }
}
