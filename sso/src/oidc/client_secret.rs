//! Client secrets (issue #30 item 1): for relying parties that cannot hold a key — a packaged module such as
//! Apache's mod_auth_openidc offers `client_secret_basic` and `client_secret_post` only. Opt-in per client, never
//! the default, and forbidden deployment-wide by `[oidc] client_secrets = false`.
//!
//! hcpki makes the secret (256 random bits, base64url), shows it once, and keeps only its SHA-256: a secret of
//! 256 random bits cannot be guessed from its hash, so a slow password hash would add cost and nothing else.
//! A rotation adds a new secret and gives the old one a last moment (`retires_at`), so the service can switch
//! without an outage; both verify until then. Comparison is in constant time over every kept hash.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

/// Random bytes of a new secret (256 bits).
const SECRET_BYTES: usize = 32;
pub use hcpki_model::overlap::{DEFAULT_OVERLAP_SECS, MAX_OVERLAP_SECS};
use hcpki_model::overlap::{retired_by_rotation, works_at};

/// A kept secret: its hash, never the secret.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretHash {
    /// Hex SHA-256 of the secret's text.
    pub sha256: String,
    /// When it was made (Unix seconds).
    pub created_at: i64,
    /// After a rotation, when it stops working (Unix seconds); none while it is the current one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retires_at: Option<i64>,
}

/// A new secret: the text to show once, and what is kept.
#[derive(Debug)]
pub struct NewSecret {
    /// The secret, shown to the operator once.
    pub secret: String,
    /// Its hash, kept with the registration.
    pub kept: SecretHash,
}

/// Why no secret could be made.
#[derive(Debug, thiserror::Error)]
#[error("no random bytes for the client secret ({0}): check the system's random source and try again")]
pub struct NoRandom(String);

/// Make a secret at `now`.
pub fn generate(now: i64) -> Result<NewSecret, NoRandom> {
    let bytes = hcpki_pkix::keys::random_secret(SECRET_BYTES).map_err(|e| NoRandom(e.to_string()))?;
    let secret = URL_SAFE_NO_PAD.encode(bytes.as_slice());
    let kept = SecretHash { sha256: hash(&secret), created_at: now, retires_at: None };
    Ok(NewSecret { secret, kept })
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Whether `presented` is one of `kept` still working at `now`. Every kept hash is compared, in constant time.
pub fn matches(kept: &[SecretHash], presented: &str, now: i64) -> bool {
    let presented = hash(presented);
    kept.iter().fold(false, |found, k| {
        let equal =
            aws_lc_rs::constant_time::verify_slices_are_equal(k.sha256.as_bytes(), presented.as_bytes()).is_ok();
        found | (equal && works_at(k.retires_at, now))
    })
}

/// The kept secrets after a rotation at `now`: the current ones retire at `now + overlap_secs` (clamped to
/// [`MAX_OVERLAP_SECS`]; 0 retires them at once), those already retired are dropped, the new one is added.
pub fn rotated(kept: &[SecretHash], new: SecretHash, now: i64, overlap_secs: i64) -> Vec<SecretHash> {
    kept.iter()
        .filter(|k| works_at(k.retires_at, now))
        .map(|k| SecretHash { retires_at: Some(retired_by_rotation(k.retires_at, now, overlap_secs)), ..k.clone() })
        .filter(|k| k.retires_at.is_some_and(|t| now < t))
        .chain(std::iter::once(new))
        .collect()
}

/// When the current secret was made (none: the client has no secret).
pub fn current_since(kept: &[SecretHash]) -> Option<i64> {
    kept.iter().filter(|k| k.retires_at.is_none()).map(|k| k.created_at).max()
}

/// When the last rotated-out secret still working at `now` stops (none: only the current one works).
pub fn overlap_ends(kept: &[SecretHash], now: i64) -> Option<i64> {
    kept.iter().filter_map(|k| k.retires_at).filter(|t| now < *t).max()
}

/// HTTP Basic client credentials (RFC 6749 §2.3.1: `client_id` and `client_secret` form-urlencoded, then
/// `id:secret` in base64), or why the header is not such.
pub fn basic(header: &str) -> Result<(String, String), &'static str> {
    let encoded = header
        .strip_prefix("Basic ")
        .or_else(|| header.strip_prefix("basic "))
        .ok_or("the Authorization header is not HTTP Basic")?;
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| "the Basic credentials are not base64")?;
    let text = String::from_utf8(decoded).map_err(|_| "the Basic credentials are not UTF-8")?;
    let (id, secret) = text.split_once(':').ok_or("the Basic credentials have no ':' between id and secret")?;
    let unescape = |s: &str| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("x={s}"))
            .ok()
            .and_then(|mut pairs| pairs.pop())
            .map(|(_, v)| v)
            .ok_or("the Basic credentials are not form-urlencoded")
    };
    Ok((unescape(id)?, unescape(secret)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_000_000;

    #[test]
    fn a_secret_is_long_random_shown_once_and_kept_as_a_hash() {
        let a = generate(NOW).unwrap();
        let b = generate(NOW).unwrap();
        assert_ne!(a.secret, b.secret);
        assert_eq!(a.secret.len(), 43, "256 bits in base64url");
        assert!(!a.kept.sha256.contains(&a.secret) && a.kept.sha256.len() == 64);
        assert!(matches(std::slice::from_ref(&a.kept), &a.secret, NOW));
        assert!(!matches(std::slice::from_ref(&a.kept), &b.secret, NOW));
        assert!(!matches(std::slice::from_ref(&a.kept), "", NOW));
        assert!(!matches(&[], &a.secret, NOW));
    }

    #[test]
    fn a_rotated_secret_works_until_its_overlap_ends_and_never_after() {
        let old = generate(NOW).unwrap();
        let new = generate(NOW + 10).unwrap();
        let kept = rotated(std::slice::from_ref(&old.kept), new.kept.clone(), NOW + 10, 3600);
        assert_eq!(kept.len(), 2);
        assert_eq!((current_since(&kept), overlap_ends(&kept, NOW + 10)), (Some(NOW + 10), Some(NOW + 3610)));
        assert_eq!(overlap_ends(&kept, NOW + 3610), None, "the overlap is over");
        assert!(matches(&kept, &old.secret, NOW + 3609), "inside the overlap");
        assert!(!matches(&kept, &old.secret, NOW + 3610), "after it");
        assert!(matches(&kept, &new.secret, NOW + 10_000_000));
        // A second rotation drops what has retired and never lengthens an overlap.
        let newer = generate(NOW + 7200).unwrap();
        let kept = rotated(&kept, newer.kept.clone(), NOW + 7200, 86_400);
        assert_eq!(kept.len(), 2, "the first secret is gone: {kept:?}");
        assert!(!matches(&kept, &old.secret, NOW + 7200));
        assert!(matches(&kept, &new.secret, NOW + 7200) && matches(&kept, &newer.secret, NOW + 7200));
        // No overlap: the old one stops at once; an overlap beyond 30 days is cut to 30 days.
        let kept = rotated(std::slice::from_ref(&new.kept), newer.kept.clone(), NOW, 0);
        assert!(!matches(&kept, &new.secret, NOW) && matches(&kept, &newer.secret, NOW));
        let kept = rotated(std::slice::from_ref(&new.kept), newer.kept, NOW, 365 * 86_400);
        assert_eq!(kept[0].retires_at, Some(NOW + MAX_OVERLAP_SECS));
    }

    #[test]
    fn basic_credentials_are_form_urlencoded_then_base64() {
        let header = format!("Basic {}", STANDARD.encode("my%3Aclient:s%2Bcret%20x"));
        assert_eq!(basic(&header).unwrap(), ("my:client".to_owned(), "s+cret x".to_owned()));
        for bad in ["Bearer abc", "Basic !!!", &format!("Basic {}", STANDARD.encode("no-colon"))] {
            assert!(basic(bad).is_err(), "{bad}");
        }
    }
}
