//! Revocation: RFC 5280 reasons and what relying parties read.
//!
//! The revocation *record* is the store's (`certificate_revocations`, one row per revoked certificate, written
//! with its audit entry); this module turns records into what relying parties read:
//!
//! ```text
//! store ──▶ crl (a complete CRL per CA) ──▶ publish (signed once, re-signed when the record moves)
//!   └────▶ status (revoked sets in memory) ──▶ ocsp (pre-signed answers)  ──▶ HTTP (server crate)
//!                                         └──▶ the server's mutual-TLS check
//! ```
//!
//! The root's CRL with the root key offline is the exception: [`arl`] checks the ARL carried from the ceremony,
//! the store keeps it (`imported_crls`), and `publish` serves it as stored, never signing it.

pub mod arl;
pub mod crl;
pub mod ocsp;
pub mod publish;
pub mod shard;
pub mod status;

use std::fmt;
use std::str::FromStr;
pub use x509_cert::ext::pkix::CrlReason;

/// A reason an operator or a protocol may give (RFC 5280 §5.3.1). `removeFromCRL` is not a reason to revoke,
/// and `aACompromise` concerns attribute authorities, which hcpki does not run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reason(pub CrlReason);

impl Reason {
    /// Every reason hcpki accepts, with its RFC 5280 name.
    pub const ALL: [(CrlReason, &'static str); 8] = [
        (CrlReason::Unspecified, "unspecified"),
        (CrlReason::KeyCompromise, "keyCompromise"),
        (CrlReason::CaCompromise, "cACompromise"),
        (CrlReason::AffiliationChanged, "affiliationChanged"),
        (CrlReason::Superseded, "superseded"),
        (CrlReason::CessationOfOperation, "cessationOfOperation"),
        (CrlReason::CertificateHold, "certificateHold"),
        (CrlReason::PrivilegeWithdrawn, "privilegeWithdrawn"),
    ];

    /// The reason code as stored (the CRLReason ENUMERATED value).
    pub fn code(self) -> u8 {
        self.0 as u8
    }

    /// A stored reason code.
    pub fn from_code(code: i64) -> Option<Self> {
        Self::ALL.iter().find(|(r, _)| i64::from(*r as u8) == code).map(|(r, _)| Self(*r))
    }

    /// A stored reason code, read as unspecified (with a warning) when it is not an RFC 5280 reason: a
    /// relying party must still learn that the certificate is revoked.
    pub fn from_code_or_unspecified(code: i64) -> Self {
        Self::from_code(code).unwrap_or_else(|| {
            tracing::warn!(code, "stored revocation reason is not an RFC 5280 code; published as unspecified");
            Self(CrlReason::Unspecified)
        })
    }

    /// The RFC 5280 name.
    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(r, _)| *r == self.0).map_or("unspecified", |(_, n)| *n)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A reason that is not one of [`Reason::ALL`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "unknown revocation reason {0:?}: use unspecified, keyCompromise, cACompromise, affiliationChanged, superseded, \
     cessationOfOperation, certificateHold or privilegeWithdrawn"
)]
pub struct UnknownReason(pub String);

impl FromStr for Reason {
    type Err = UnknownReason;

    /// The RFC 5280 name, case-insensitive, with or without `-`/`_` (`key-compromise` works).
    fn from_str(s: &str) -> Result<Self, UnknownReason> {
        let folded: String = s.chars().filter(|c| !matches!(c, '-' | '_')).flat_map(char::to_lowercase).collect();
        Self::ALL
            .iter()
            .find(|(_, n)| n.to_ascii_lowercase() == folded)
            .map(|(r, _)| Self(*r))
            .ok_or_else(|| UnknownReason(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_parse_and_round_trip() {
        assert_eq!("keyCompromise".parse::<Reason>().unwrap(), Reason(CrlReason::KeyCompromise));
        assert_eq!("key-compromise".parse::<Reason>().unwrap().code(), 1);
        assert_eq!("CESSATION_OF_OPERATION".parse::<Reason>().unwrap().code(), 5);
        for (r, name) in Reason::ALL {
            let reason = Reason(r);
            assert_eq!(Reason::from_code(i64::from(reason.code())), Some(reason));
            assert_eq!(name.parse::<Reason>().unwrap(), reason);
        }
        assert!("removeFromCRL".parse::<Reason>().is_err());
        assert_eq!(Reason::from_code(7), None); // 7 is unassigned
    }
}
