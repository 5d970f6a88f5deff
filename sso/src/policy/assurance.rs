//! Assurance levels (`acr`) and authentication methods (`amr`, RFC 8176).

use std::fmt;

/// How strongly the login established who is at the keyboard and where. Ordered: a later variant is stronger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AssuranceLevel {
    /// Password plus TOTP: staff without cards; no hardware, no facility proof.
    PasswordTotp,
    /// A passkey (WebAuthn) with user verification, registered by a signed-in password + TOTP account (D157): the
    /// device and what unlocks it, phishing-resistant, but no card and no qualification.
    Passkey,
    /// An HPKI or JPKI card with its PIN, but no facility certificate on the connection.
    CardPin,
    /// Card and PIN, on a connection authenticated by a facility PC certificate (mutual TLS).
    CardPinFacility,
}

impl AssuranceLevel {
    /// Every level, weakest first.
    pub const ALL: [AssuranceLevel; 4] = [Self::PasswordTotp, Self::Passkey, Self::CardPin, Self::CardPinFacility];

    /// The name used in the services file (`min_assurance`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PasswordTotp => "password-totp",
            Self::Passkey => "passkey",
            Self::CardPin => "card-pin",
            Self::CardPinFacility => "card-pin-facility",
        }
    }

    /// Parse the services-file name (`card-pin`, …).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == name)
    }

    /// The `acr` claim value. URNs under our own namespace: no registry defines healthcare card levels.
    pub fn acr(self) -> &'static str {
        match self {
            Self::PasswordTotp => "urn:hcpki:acr:password-totp",
            Self::Passkey => "urn:hcpki:acr:passkey",
            Self::CardPin => "urn:hcpki:acr:card-pin",
            Self::CardPinFacility => "urn:hcpki:acr:card-pin-facility-mtls",
        }
    }
}

impl fmt::Display for AssuranceLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An RFC 8176 authentication method reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Amr {
    /// Smart card.
    Sc,
    /// Proof of possession of a hardware-secured key.
    Hwk,
    /// Personal identification number.
    Pin,
    /// Multiple-factor authentication.
    Mfa,
    /// Password.
    Pwd,
    /// One-time password (TOTP).
    Otp,
    /// Proof of possession of a key (a passkey's signature; the key may be synced, so not `hwk`).
    Pop,
    /// A user presence test (the passkey's UP flag; its UV is the `mfa`).
    User,
}
