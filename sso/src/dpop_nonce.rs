//! The server's DPoP nonces (RFC 9449 §8), apart from the proof checks ([`super::dpop`]) so that the portal's
//! secret, which derives their key, depends on nothing of the provider's errors and sessions.

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

/// How long one server nonce is issued for; the one before and after are accepted too (a replica whose clock is
/// a little ahead), so a nonce lives five to ten minutes.
pub const NONCE_WINDOW_SECS: i64 = 300;

/// The key of the server's DPoP nonces (RFC 9449 §8): a nonce is the HMAC of its window's number, so it
/// rotates every [`NONCE_WINDOW_SECS`] and needs no table; derived from the portal secret, so replicas agree.
pub struct NonceKey(hmac::Key);

impl std::fmt::Debug for NonceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NonceKey(..)")
    }
}

impl NonceKey {
    /// The key for secret bytes (derived from the portal secret by its own label).
    pub fn new(secret: &[u8]) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    /// The nonce to hand out at `now`.
    pub fn issue(&self, now: i64) -> String {
        B64.encode(hmac::sign(&self.0, &window(now).to_be_bytes()))
    }

    /// Whether `nonce` is one of ours for this window, the one before, or the one after (a replica a little
    /// ahead); compared in constant time.
    pub fn accepts(&self, nonce: &str, now: i64) -> bool {
        let Ok(tag) = B64.decode(nonce) else { return false };
        let w = window(now);
        [w - 1, w, w + 1].iter().any(|w| hmac::verify(&self.0, &w.to_be_bytes(), &tag).is_ok())
    }
}

fn window(now: i64) -> i64 {
    now.div_euclid(NONCE_WINDOW_SECS)
}
