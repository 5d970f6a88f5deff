//! Enrollment credentials: what an operator hands a facility so its devices can enroll once.
//!
//! A credential is bound to one facility, one protocol (EST, SCEP or ACME) and a set of profiles; it expires
//! and redeems exactly once. Its secret is shown once at creation and stored only as
//! HMAC-SHA-256(salt, secret) with a per-credential random salt (decision D15).
//!
//! Why not a password hash (Argon2, scrypt)? Those slow down guessing of *low-entropy, human-chosen*
//! passwords. These secrets are 256 random bits made here: an offline guess costs 2^255 tries whatever the
//! hash speed, so a fast keyed hash loses nothing, and it keeps an EST enrollment at a few microseconds
//! instead of tens of milliseconds of deliberate CPU burn per request (the EST goal is 1 000 enrollments/s
//! on two cores). The salt makes equal secrets hash differently and rules out precomputed tables.

use crate::facility::FacilityId;
use crate::profile::ProfileKind;
// The stored record and its protocol are the store's (plain data it reads and writes, with the protocol's text
// form and a record's status); named here too.
pub use crate::store::{CredentialRecord, Protocol, UnknownProtocol};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hcpki_model::UnixTime;
use zeroize::Zeroizing;

/// Random bytes in a secret (256 bits).
const SECRET_BYTES: usize = 32;
/// Random bytes in a SCEP secret (128 bits: the challenge is ID + secret in 64 hex characters).
const SCEP_SECRET_BYTES: usize = 16;
/// Random bytes in a salt.
const SALT_BYTES: usize = 16;
/// Random bytes in a credential ID.
const ID_BYTES: usize = 16;
/// Shortest and longest lifetime an operator may choose.
const MIN_VALIDITY_SECS: i64 = 60;
const MAX_VALIDITY_SECS: i64 = 90 * 86_400;
/// The default lifetime: a week, long enough for a facility to schedule the router change.
pub const DEFAULT_VALIDITY_SECS: i64 = 7 * 86_400;

/// What an operator asks for.
#[derive(Clone, Debug)]
pub struct NewCredential {
    /// The facility it enrolls for.
    pub facility: FacilityId,
    /// The protocol it is used with.
    pub protocol: Protocol,
    /// The profiles it may receive; the first is the default.
    pub profiles: Vec<ProfileKind>,
    /// Lifetime in seconds.
    pub valid_for_secs: i64,
}

impl NewCredential {
    /// Check the request: facility profiles only (router, pc), at least one, no duplicates.
    pub fn new(
        facility: FacilityId,
        protocol: Protocol,
        profiles: &[ProfileKind],
        valid_for_secs: i64,
    ) -> Result<Self, CredentialError> {
        if profiles.is_empty() {
            return Err(CredentialError::NoProfile);
        }
        let mut unique = Vec::with_capacity(profiles.len());
        for p in profiles {
            if !matches!(p, ProfileKind::Router | ProfileKind::Pc) {
                return Err(CredentialError::NotAFacilityProfile(*p));
            }
            if !unique.contains(p) {
                unique.push(*p);
            }
        }
        if !(MIN_VALIDITY_SECS..=MAX_VALIDITY_SECS).contains(&valid_for_secs) {
            return Err(CredentialError::Validity(format!("{valid_for_secs} s")));
        }
        Ok(Self { facility, protocol, profiles: unique, valid_for_secs })
    }
}

/// A freshly made credential: the record to store and the secret to show once.
#[derive(Debug)]
pub struct Minted {
    /// What the store keeps.
    pub record: CredentialRecord,
    /// The secret: 32 random bytes in base64url (EST, ACME); 16 random bytes in hex for SCEP, whose
    /// challenge password is [`scep_challenge`] of the ID and this.
    pub secret: Zeroizing<String>,
}

impl Minted {
    /// What a device is configured with, by protocol, as (name, value): EST `username`/`password`, SCEP
    /// `challenge` ([`scep_challenge`]), ACME `eab_kid`/`eab_hmac_key`. The CLI, the admin API and the web
    /// console all show exactly these.
    pub fn device_fields(&self) -> Vec<(&'static str, Zeroizing<String>)> {
        let (id, secret) = (&self.record.id, self.secret.as_str());
        let owned = |s: &str| Zeroizing::new(s.to_owned());
        match self.record.protocol {
            Protocol::Est => vec![("username", owned(id)), ("password", owned(secret))],
            Protocol::Scep => vec![("challenge", Zeroizing::new(scep_challenge(id, secret)))],
            Protocol::Acme => vec![("eab_kid", owned(id)), ("eab_hmac_key", owned(secret))],
        }
    }
}

/// Make a credential: random ID, secret and salt. An ACME EAB key is not random but derived from the
/// deployment's enrollment key, the ID and the salt (decision D17), so `eab` is required for ACME.
pub fn mint(
    new: &NewCredential,
    created_by: &str,
    now: UnixTime,
    eab: Option<&super::acme::eab::EnrollmentKey>,
) -> Result<Minted, CredentialError> {
    let random = |n| hcpki_pkix::keys::random_secret(n).map_err(|e| CredentialError::Random(e.to_string()));
    let id = hex::encode(random(ID_BYTES)?.as_slice());
    // SCEP challenge passwords travel as PrintableString on many devices, which has no `_`: hex there. SCEP
    // has no username, so the challenge is the ID followed by the secret ([`scep_challenge`]); devices cap
    // it at 64 characters or fewer, which leaves 128 secret bits. EST passwords and ACME EAB keys
    // (RFC 8555 §7.3.4: base64url) take 256 bits in base64url. A base64url secret may begin with `-`, which
    // command-line clients take for an option (`certbot --eab-hmac-key -x…` fails), so such a draw is made
    // again (one in 64; it costs 0.02 bits). An EAB key is derived from the salt, so the salt is drawn again.
    let (salt, secret) = loop {
        let salt = hex::encode(random(SALT_BYTES)?.as_slice());
        let bytes = match (new.protocol, eab) {
            (Protocol::Acme, Some(k)) => k.derive(&id, &salt),
            (Protocol::Acme, None) => return Err(CredentialError::NoEnrollmentKey),
            (Protocol::Scep, _) => random(SCEP_SECRET_BYTES)?,
            (Protocol::Est, _) => random(SECRET_BYTES)?,
        };
        let secret = Zeroizing::new(match new.protocol {
            Protocol::Scep => hex::encode(bytes.as_slice()),
            Protocol::Est | Protocol::Acme => URL_SAFE_NO_PAD.encode(bytes.as_slice()),
        });
        if !secret.starts_with('-') {
            break (salt, secret);
        }
    };
    let secret_hash = hex::encode(tag(&salt, &secret));
    let record = CredentialRecord {
        id,
        facility: new.facility.clone(),
        protocol: new.protocol,
        profiles: new.profiles.clone(),
        salt,
        secret_hash,
        created_by: created_by.to_owned(),
        created_at: now.as_secs(),
        expires_at: now.as_secs() + new.valid_for_secs,
        used_at: None,
        used_by: None,
        revoked_at: None,
    };
    Ok(Minted { record, secret })
}

/// The SCEP challenge password of a minted SCEP credential: the 32-hex ID, then the 32-hex secret, so the
/// CA finds the credential from the challenge alone (64 hex characters, PrintableString-safe).
pub fn scep_challenge(id: &str, secret: &str) -> String {
    format!("{id}{secret}")
}

/// Why a presented credential is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// No credential with that ID.
    #[error("unknown credential")]
    Unknown,
    /// The secret does not match.
    #[error("wrong secret")]
    WrongSecret,
    /// Made for another protocol.
    #[error("credential is for {0}, not this protocol")]
    WrongProtocol(Protocol),
    /// The requested profile is not among the credential's.
    #[error("credential does not allow the {0} profile")]
    Profile(ProfileKind),
    /// Redeemed already.
    #[error("credential was already used")]
    Used,
    /// Past its expiry.
    #[error("credential expired")]
    Expired,
    /// Revoked by an operator.
    #[error("credential was revoked")]
    Revoked,
}

impl Refusal {
    /// Whether the caller failed to prove who it is (HTTP 401) rather than being refused what it asked (403).
    pub fn is_authentication(&self) -> bool {
        matches!(self, Self::Unknown | Self::WrongSecret)
    }
}

/// Checking what a client presents against a stored credential. A trait because the record is the store's
/// (`hcpki-store`) and the check, with its HMAC and refusals, is enrollment's; import it where `check` is called.
pub trait CredentialCheck {
    /// Check a presented secret and what it is used for. The secret comparison runs in constant time; it is
    /// checked first so nobody without the secret learns anything about the credential's state.
    fn check(
        &self,
        secret: &str,
        protocol: Protocol,
        profile: Option<ProfileKind>,
        now: UnixTime,
    ) -> Result<ProfileKind, Refusal>;
}

impl CredentialCheck for CredentialRecord {
    fn check(
        &self,
        secret: &str,
        protocol: Protocol,
        profile: Option<ProfileKind>,
        now: UnixTime,
    ) -> Result<ProfileKind, Refusal> {
        let expected = hex::decode(&self.secret_hash).map_err(|_| Refusal::WrongSecret)?;
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, self.salt.as_bytes());
        aws_lc_rs::hmac::verify(&key, secret.as_bytes(), &expected).map_err(|_| Refusal::WrongSecret)?;
        if protocol != self.protocol {
            return Err(Refusal::WrongProtocol(self.protocol));
        }
        if self.revoked_at.is_some() {
            return Err(Refusal::Revoked);
        }
        if self.used_at.is_some() {
            return Err(Refusal::Used);
        }
        if now.as_secs() >= self.expires_at {
            return Err(Refusal::Expired);
        }
        match profile {
            Some(p) if self.profiles.contains(&p) => Ok(p),
            Some(p) => Err(Refusal::Profile(p)),
            None => self.profiles.first().copied().ok_or(Refusal::Profile(ProfileKind::Router)),
        }
    }
}

/// HMAC-SHA-256 keyed by the (hex) salt.
fn tag(salt: &str, secret: &str) -> Vec<u8> {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, salt.as_bytes());
    aws_lc_rs::hmac::sign(&key, secret.as_bytes()).as_ref().to_vec()
}

/// Parse a stored profile list.
pub fn parse_profiles(text: &str) -> Result<Vec<ProfileKind>, CredentialError> {
    CredentialRecord::parse_profiles(text).map_err(|e| CredentialError::UnknownProfile(e.0))
}

/// Parse `--valid-for`: a number and a unit, `d`, `h` or `m` (`7d`, `12h`, `30m`).
pub fn parse_validity(text: &str) -> Result<i64, CredentialError> {
    let t = text.trim();
    let bad = || CredentialError::Validity(t.to_owned());
    let unit = t.chars().last().ok_or_else(bad)?;
    let multiplier = match unit {
        'd' => 86_400,
        'h' => 3_600,
        'm' => 60,
        _ => return Err(bad()),
    };
    let n: i64 = t.get(..t.len() - 1).and_then(|n| n.parse().ok()).ok_or_else(bad)?;
    n.checked_mul(multiplier).filter(|s| (MIN_VALIDITY_SECS..=MAX_VALIDITY_SECS).contains(s)).ok_or_else(bad)
}

/// Why a credential could not be made or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// Unknown protocol name (the store's [`UnknownProtocol`], which says the names to use).
    #[error(transparent)]
    UnknownProtocol(#[from] UnknownProtocol),
    /// Unknown profile name (stored data or input).
    #[error("unknown profile {0:?}: enrollment credentials are for the router and pc profiles")]
    UnknownProfile(String),
    /// No profile given.
    #[error("name at least one profile the credential may receive: --profile router or --profile pc")]
    NoProfile,
    /// A profile that is not issued to facilities.
    #[error("{0} certificates are not enrolled by facilities: use --profile router or --profile pc")]
    NotAFacilityProfile(ProfileKind),
    /// Bad lifetime.
    #[error("validity {0:?} is not allowed: give a number with d, h or m (e.g. 7d, 12h, 30m), between 1m and 90d")]
    Validity(String),
    /// The random generator failed.
    #[error("cannot make a credential: {0}")]
    Random(String),
    /// No credential with that ID.
    #[error("no enrollment credential {0}: check the ID with `hcpki enroll list`")]
    Unknown(String),
    /// ACME credentials need the enrollment key (secrets/enrollment-key), which could not be used.
    #[error("ACME credentials need the deployment's enrollment key (secrets/enrollment-key): {0}")]
    EnrollmentKey(String),
    /// ACME credentials were asked for without the enrollment key.
    #[error("ACME credentials need the deployment's enrollment key (secrets/enrollment-key)")]
    NoEnrollmentKey,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minted(profiles: &[ProfileKind]) -> Minted {
        let facility = FacilityId::from_number(1).unwrap();
        let new = NewCredential::new(facility, Protocol::Est, profiles, DEFAULT_VALIDITY_SECS).unwrap();
        mint(&new, "test", UnixTime::from_secs(1000), None).unwrap()
    }

    /// No secret starts with `-` (clients would read it as an option); EAB keys included, whose salt is redrawn.
    #[test]
    fn no_secret_looks_like_an_option() {
        let dir = tempfile::tempdir().unwrap();
        let key = super::super::acme::eab::EnrollmentKey::load_or_create(dir.path()).unwrap();
        let facility = FacilityId::from_number(1).unwrap();
        for protocol in [Protocol::Est, Protocol::Acme] {
            let new =
                NewCredential::new(facility.clone(), protocol, &[ProfileKind::Pc], DEFAULT_VALIDITY_SECS).unwrap();
            for _ in 0..400 {
                let m = mint(&new, "test", UnixTime::from_secs(1000), Some(&key)).unwrap();
                assert!(!m.secret.starts_with('-'), "{protocol}: {}", m.secret.as_str());
                assert_eq!(m.secret.as_str(), URL_SAFE_NO_PAD.encode(key_or_random(&m, &key, protocol)).as_str());
            }
        }
    }

    /// For ACME, the secret is the key derived from the stored salt (so verification can re-derive it).
    fn key_or_random(m: &Minted, key: &super::super::acme::eab::EnrollmentKey, protocol: Protocol) -> Vec<u8> {
        match protocol {
            Protocol::Acme => key.derive(&m.record.id, &m.record.salt).to_vec(),
            _ => URL_SAFE_NO_PAD.decode(m.secret.as_str()).unwrap(),
        }
    }

    #[test]
    fn secret_checks_and_refusals() {
        let m = minted(&[ProfileKind::Router, ProfileKind::Pc]);
        let r = &m.record;
        assert!(!r.secret_hash.contains(m.secret.as_str()) && r.secret_hash.len() == 64);
        assert_eq!(r.check(&m.secret, Protocol::Est, None, UnixTime::from_secs(1001)), Ok(ProfileKind::Router));
        assert_eq!(
            r.check(&m.secret, Protocol::Est, Some(ProfileKind::Pc), UnixTime::from_secs(1001)),
            Ok(ProfileKind::Pc)
        );
        assert_eq!(r.check("wrong", Protocol::Est, None, UnixTime::from_secs(1001)), Err(Refusal::WrongSecret));
        assert_eq!(
            r.check(&m.secret, Protocol::Scep, None, UnixTime::from_secs(1001)),
            Err(Refusal::WrongProtocol(Protocol::Est))
        );
        assert_eq!(r.check(&m.secret, Protocol::Est, None, UnixTime::from_secs(r.expires_at)), Err(Refusal::Expired));
        let used = CredentialRecord { used_at: Some(1002), ..r.clone() };
        assert_eq!(used.check(&m.secret, Protocol::Est, None, UnixTime::from_secs(1003)), Err(Refusal::Used));
        let router_only = minted(&[ProfileKind::Router]);
        assert_eq!(
            router_only.record.check(
                &router_only.secret,
                Protocol::Est,
                Some(ProfileKind::Pc),
                UnixTime::from_secs(1001)
            ),
            Err(Refusal::Profile(ProfileKind::Pc))
        );
        // Another credential's secret never matches (salts differ).
        assert_eq!(
            r.check(&router_only.secret, Protocol::Est, None, UnixTime::from_secs(1001)),
            Err(Refusal::WrongSecret)
        );
    }

    #[test]
    fn validity_and_profiles_parse() {
        assert_eq!(parse_validity("7d").unwrap(), 7 * 86_400);
        assert_eq!(parse_validity("12h").unwrap(), 12 * 3_600);
        assert_eq!(parse_validity("30m").unwrap(), 1_800);
        for bad in ["", "d", "7", "0m", "-1d", "91d", "1s", "x1d"] {
            assert!(parse_validity(bad).is_err(), "{bad:?}");
        }
        let f = FacilityId::from_number(1).unwrap();
        assert!(NewCredential::new(f.clone(), Protocol::Acme, &[], 3600).is_err());
        assert!(NewCredential::new(f.clone(), Protocol::Acme, &[ProfileKind::Server], 3600).is_err());
        let n = NewCredential::new(f, Protocol::Acme, &[ProfileKind::Pc, ProfileKind::Pc], 3600).unwrap();
        assert_eq!(n.profiles, vec![ProfileKind::Pc]);
        assert_eq!(parse_profiles("router,pc").unwrap(), vec![ProfileKind::Router, ProfileKind::Pc]);
    }
}
