//! Card-login challenges: single use, short-lived, bound to one browser session and to the portal origin.
//!
//! A challenge is 32 random bytes, handed to the login page as base64url and stored with the binding value
//! (opaque to this module: e.g. a hash of a pre-login cookie), the origin and an expiry. Taking it deletes it in
//! the same statement ([`hcpki_ca::store::PortalUsers::take_login_challenge`]), so a challenge is good for one post
//! on any replica; the errors tell unknown-or-used, expired, other session and other origin apart.

use super::CardLoginError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hcpki_ca::store::{LoginChallengeRecord, PortalUsers};
use hcpki_pkix::time::CLOCK_LEEWAY_SECS;
use hcpki_pkix::time::UnixTime;

/// Random bytes per challenge: as many as a SHA-256 output, so guessing one is hopeless.
pub const CHALLENGE_BYTES: usize = 32;
/// Default lifetime: long enough to find the card and type a PIN, short enough to keep the table small.
pub const DEFAULT_TTL_SECS: u32 = 120;

/// What the login page receives.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct IssuedChallenge {
    /// base64url, no padding: the agent's `challenge` parameter and the key the post names.
    pub challenge: String,
    /// Unix seconds after which it is refused.
    pub expires_at: i64,
}

/// A challenge taken for verification: valid, unexpired, of this session, at this origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    bytes: Vec<u8>,
    origin: String,
    expires_at: i64,
}

impl Challenge {
    /// The random bytes the card signed (inside the login message).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The origin it was issued for: the portal's own, which goes into the login message.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// What a consent given with the user PIN binds (D130 item 3): this challenge, then the SHA-256 of the
    /// document the agent showed ([`hcpki_agent_protocol::purpose::consent_challenge`]).
    pub fn for_document(&self, document_sha256: &[u8; 32]) -> Challenge {
        Challenge {
            bytes: hcpki_agent_protocol::purpose::consent_challenge(&self.bytes, document_sha256),
            origin: self.origin.clone(),
            expires_at: self.expires_at,
        }
    }
}

/// What a card login's challenge is bound to: a hash of the pre-login cookie's id (the id itself never reaches
/// the database). Other uses of a card challenge bind it under a prefix of their own (`identify:` for a patient's
/// identification), so one can never finish the other.
pub fn prelogin_binding(prelogin_id: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(format!("hcpki card login binding\0{prelogin_id}").as_bytes()))
}

/// Issue and store a challenge for the browser session `binding` at `origin`, valid `ttl_secs` from `now`.
pub async fn issue(
    store: &(impl PortalUsers + ?Sized),
    binding: &str,
    origin: &str,
    ttl_secs: u32,
    now: i64,
) -> Result<IssuedChallenge, CardLoginError> {
    let bytes: [u8; CHALLENGE_BYTES] = rand::random();
    let record = LoginChallengeRecord {
        challenge: URL_SAFE_NO_PAD.encode(bytes),
        binding: binding.to_owned(),
        origin: origin.to_owned(),
        issued_at: now,
        // Taken (and swept) by any replica: one whose clock runs ahead still gives it its lifetime.
        expires_at: now + i64::from(ttl_secs.max(1)) + CLOCK_LEEWAY_SECS,
    };
    store.put_login_challenge(&record, UnixTime::from_secs(now)).await?;
    Ok(IssuedChallenge { challenge: record.challenge, expires_at: record.expires_at })
}

/// Take the posted `challenge` (base64url) for the session `binding`, presented at `origin`, at `now`. It is
/// gone afterwards whatever the outcome, so a refused post cannot be retried with the same challenge.
pub async fn take(
    store: &(impl PortalUsers + ?Sized),
    challenge: &str,
    binding: &str,
    origin: &str,
    now: i64,
) -> Result<Challenge, CardLoginError> {
    // Anything that is not 32 bytes of base64url was never issued; do not even ask the database.
    let bytes = URL_SAFE_NO_PAD
        .decode(challenge)
        .ok()
        .filter(|b| b.len() == CHALLENGE_BYTES)
        .ok_or(CardLoginError::UnknownChallenge)?;
    let record = store.take_login_challenge(challenge).await?.ok_or(CardLoginError::UnknownChallenge)?;
    // The binding is a secret-derived value: compare in constant time.
    if aws_lc_rs::constant_time::verify_slices_are_equal(record.binding.as_bytes(), binding.as_bytes()).is_err() {
        return Err(CardLoginError::BindingMismatch);
    }
    if record.origin != origin {
        return Err(CardLoginError::WrongOrigin { issued_for: record.origin, presented_at: origin.to_owned() });
    }
    if now >= record.expires_at {
        return Err(CardLoginError::ExpiredChallenge { expired_at: hcpki_pkix::time::rfc3339(record.expires_at) });
    }
    Ok(Challenge { bytes, origin: record.origin, expires_at: record.expires_at })
}

#[cfg(any(test, feature = "fuzzing"))]
impl Challenge {
    /// A challenge as if taken, for unit tests of the verifier and the `card_login` fuzz target.
    pub fn for_tests(bytes: &[u8], origin: &str) -> Self {
        Self { bytes: bytes.to_vec(), origin: origin.to_owned(), expires_at: i64::MAX }
    }
}
