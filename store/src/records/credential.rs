//! Enrollment credentials as stored (decision D15): the record, the protocol it is good for, and where a record
//! stands at a given time. Minting, checking a presented secret and the operator's requests are
//! `enroll::credential`'s.

use hcpki_model::{FacilityId, ProfileKind, UnixTime, UnknownProfile};
use std::fmt;
use std::str::FromStr;

/// The enrollment protocol a credential is good for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// EST (RFC 7030): HTTP Basic username and password.
    Est,
    /// SCEP (RFC 8894): challenge password.
    Scep,
    /// ACME (RFC 8555): External Account Binding key.
    Acme,
}

impl Protocol {
    /// Every protocol.
    pub const ALL: [Protocol; 3] = [Self::Est, Self::Scep, Self::Acme];

    /// The stable text form, surrounding space ignored; `None` for any other text.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// Stable text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Est => "est",
            Self::Scep => "scep",
            Self::Acme => "acme",
        }
    }
}

/// A text that names no enrollment protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown enrollment protocol {0:?}: use est, scep or acme")]
pub struct UnknownProtocol(pub String);

/// The stable text form, surrounding space ignored ([`Protocol::parse`]).
impl FromStr for Protocol {
    type Err = UnknownProtocol;
    fn from_str(s: &str) -> Result<Self, UnknownProtocol> {
        Protocol::parse(s).ok_or_else(|| UnknownProtocol(s.trim().to_owned()))
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A credential as stored (no secret, only its salted hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialRecord {
    /// 32 lowercase hex characters: the EST username, the ACME EAB key ID.
    pub id: String,
    /// The facility.
    pub facility: FacilityId,
    /// The protocol.
    pub protocol: Protocol,
    /// Allowed profiles, the first is the default.
    pub profiles: Vec<ProfileKind>,
    /// Hex salt.
    pub salt: String,
    /// Hex HMAC-SHA-256(salt, secret).
    pub secret_hash: String,
    /// Who created it.
    pub created_by: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; unusable from then on.
    pub expires_at: i64,
    /// When it was redeemed.
    pub used_at: Option<i64>,
    /// Who redeemed it (the protocol actor).
    pub used_by: Option<String>,
    /// When an operator revoked it.
    pub revoked_at: Option<i64>,
}

impl CredentialRecord {
    /// Profiles as stored: comma-separated.
    pub fn profiles_text(&self) -> String {
        self.profiles.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(",")
    }

    /// Parse a stored profile list ([`Self::profiles_text`]).
    pub fn parse_profiles(text: &str) -> Result<Vec<ProfileKind>, UnknownProfile> {
        text.split(',').map(ProfileKind::from_str).collect()
    }

    /// `active`, `used`, `expired` or `revoked` at `now`.
    pub fn status(&self, now: UnixTime) -> &'static str {
        if self.revoked_at.is_some() {
            "revoked"
        } else if self.used_at.is_some() {
            "used"
        } else if now.as_secs() >= self.expires_at {
            "expired"
        } else {
            "active"
        }
    }
}
