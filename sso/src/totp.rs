//! TOTP (RFC 6238): HMAC-SHA-1, 6 digits, 30-second steps, accepted one step either side of now. The step
//! of an accepted code is recorded ([`hcpki_ca::store::Store::portal_use_totp_step`]) so a code is never
//! accepted twice, nor an earlier one after it.

use aws_lc_rs::hmac;

/// Seconds per step (RFC 6238 §4: X = 30).
pub const STEP_SECS: i64 = 30;
/// Digits per code.
const DIGITS: u32 = 6;
/// Length of new secrets: 160 bits, the HMAC-SHA-1 block output RFC 4226 §4 recommends.
pub const SECRET_LEN: usize = 20;

/// The step of time `unix`.
pub fn step_at(unix: i64) -> i64 {
    unix.div_euclid(STEP_SECS)
}

/// The code of `secret` at `step` (RFC 4226 §5.3 dynamic truncation).
pub fn code(secret: &[u8], step: i64) -> u32 {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let mac = hmac::sign(&key, &step.to_be_bytes());
    let mac = mac.as_ref();
    let offset = mac.last().map_or(0, |b| usize::from(b & 0x0f));
    let word = mac.get(offset..offset + 4).and_then(|w| <[u8; 4]>::try_from(w).ok()).map_or(0, u32::from_be_bytes);
    (word & 0x7fff_ffff) % 10u32.pow(DIGITS)
}

/// The step within ±1 of `now`'s whose code is `typed`, if any (the caller still checks replay).
pub fn matching_step(secret: &[u8], typed: &str, now: i64) -> Option<i64> {
    let typed = typed.trim();
    if typed.len() != DIGITS as usize || !typed.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: u32 = typed.parse().ok()?;
    let now = step_at(now);
    // Constant work whatever matches: all three steps are computed.
    let hits: Vec<i64> = [now - 1, now, now + 1].into_iter().filter(|s| code(secret, *s) == value).collect();
    hits.into_iter().max()
}

/// RFC 4648 base32 without padding, as authenticator apps read `secret=`.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for b in bytes {
        buffer = (buffer << 8) | u32::from(*b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET.get(((buffer >> bits) & 31) as usize).copied().unwrap_or(b'A')));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET.get(((buffer << (5 - bits)) & 31) as usize).copied().unwrap_or(b'A')));
    }
    out
}

/// The `otpauth://` URI an authenticator app scans.
pub fn otpauth_uri(issuer: &str, username: &str, secret: &[u8]) -> String {
    let enc = crate::uri::percent;
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        enc(issuer),
        enc(username),
        base32(secret),
        enc(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 rows (8-digit values there; the last 6 digits are the 6-digit code).
    #[test]
    fn rfc6238_vectors() {
        let secret = b"12345678901234567890";
        for (t, expected) in [(59, 94287082u32), (1111111109, 7081804), (1234567890, 89005924), (2000000000, 69279037)]
        {
            assert_eq!(code(secret, step_at(t)), expected % 1_000_000, "T = {t}");
        }
    }

    #[test]
    fn window_and_format() {
        let secret = b"12345678901234567890";
        let now = 1_000_000_000;
        let next = format!("{:06}", code(secret, step_at(now) + 1));
        assert_eq!(matching_step(secret, &next, now), Some(step_at(now) + 1));
        let far = format!("{:06}", code(secret, step_at(now) + 2));
        assert_eq!(matching_step(secret, &far, now), None);
        assert_eq!(matching_step(secret, "12345", now), None);
        assert_eq!(matching_step(secret, "abcdef", now), None);
    }

    #[test]
    fn base32_rfc4648() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(b"f"), "MY");
    }
}
