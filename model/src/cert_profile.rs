//! What a certificate was issued as: an end-entity profile or a CA certificate, as its row records it.

use crate::ca_name::CaName;
use crate::profile_kind::ProfileKind;
use std::fmt;
use std::str::FromStr;

/// The profile a certificate row records. End-entity certificates name their [`ProfileKind`]; the CA
/// certificates `init` issues are recorded as `ca-<name>` (`ca-root`, `ca-router`, …), which no `ProfileKind`
/// names, so one type covers both and the stored text stays what it always was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CertProfile {
    /// An end-entity certificate of this profile (stored as the profile's `as_str()`: `router`, `scep-ra`, …).
    EndEntity(ProfileKind),
    /// The certificate of this CA (stored as `ca-<name>`).
    Ca(CaName),
}

impl CertProfile {
    /// Every stored form: the end-entity profiles, then the CA certificates.
    pub const ALL: [CertProfile; 11] = [
        Self::EndEntity(ProfileKind::Router),
        Self::EndEntity(ProfileKind::Pc),
        Self::EndEntity(ProfileKind::Server),
        Self::EndEntity(ProfileKind::Ocsp),
        Self::EndEntity(ProfileKind::ScepRa),
        Self::EndEntity(ProfileKind::Operator),
        Self::EndEntity(ProfileKind::Tsa),
        Self::Ca(CaName::Root),
        Self::Ca(CaName::Router),
        Self::Ca(CaName::Pc),
        Self::Ca(CaName::Server),
    ];

    /// The stored and printed text form (the `profile` column, JSON output, pages): the end-entity profile's
    /// `as_str()` (`scep-ra`, not its serde form `scepra`) or `ca-<name>`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EndEntity(kind) => kind.as_str(),
            Self::Ca(CaName::Root) => "ca-root",
            Self::Ca(CaName::Router) => "ca-router",
            Self::Ca(CaName::Pc) => "ca-pc",
            Self::Ca(CaName::Server) => "ca-server",
        }
    }

    /// The profile named exactly by its stored text form (no trimming: stored rows hold the canonical form).
    pub fn from_stored(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// The end-entity profile, if this is one.
    pub fn end_entity(self) -> Option<ProfileKind> {
        match self {
            Self::EndEntity(kind) => Some(kind),
            Self::Ca(_) => None,
        }
    }
}

impl From<ProfileKind> for CertProfile {
    fn from(kind: ProfileKind) -> Self {
        Self::EndEntity(kind)
    }
}

impl fmt::Display for CertProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Serialised as its stored text form, so JSON output keeps the text the database holds.
impl serde::Serialize for CertProfile {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A text that names no stored profile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown profile {0:?}: use router, pc, server, ocsp, scep-ra, operator, tsa or ca-<CA name>")]
pub struct UnknownCertProfile(pub String);

/// The stored text form, surrounding space ignored.
impl FromStr for CertProfile {
    type Err = UnknownCertProfile;
    fn from_str(s: &str) -> Result<Self, UnknownCertProfile> {
        Self::from_stored(s.trim()).ok_or_else(|| UnknownCertProfile(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The texts the `profile` column holds today, written by `Authority` (`ProfileKind::as_str`) and `init`
    /// (`ca-root`, `ca-<name>`): each must parse to its value and print back byte for byte.
    const STORED: [(&str, CertProfile); 11] = [
        ("router", CertProfile::EndEntity(ProfileKind::Router)),
        ("pc", CertProfile::EndEntity(ProfileKind::Pc)),
        ("server", CertProfile::EndEntity(ProfileKind::Server)),
        ("ocsp", CertProfile::EndEntity(ProfileKind::Ocsp)),
        ("scep-ra", CertProfile::EndEntity(ProfileKind::ScepRa)),
        ("operator", CertProfile::EndEntity(ProfileKind::Operator)),
        ("tsa", CertProfile::EndEntity(ProfileKind::Tsa)),
        ("ca-root", CertProfile::Ca(CaName::Root)),
        ("ca-router", CertProfile::Ca(CaName::Router)),
        ("ca-pc", CertProfile::Ca(CaName::Pc)),
        ("ca-server", CertProfile::Ca(CaName::Server)),
    ];

    #[test]
    fn every_stored_form_round_trips() {
        for (text, profile) in STORED {
            assert_eq!(CertProfile::from_stored(text), Some(profile), "{text}");
            assert_eq!(profile.as_str(), text);
            assert_eq!(profile.to_string(), text);
            assert_eq!(text.parse::<CertProfile>(), Ok(profile));
            assert_eq!(format!(" {text}\n").parse::<CertProfile>(), Ok(profile));
            assert_eq!(serde_json::to_string(&profile).unwrap(), format!("\"{text}\""));
        }
        assert_eq!(CertProfile::ALL.len(), STORED.len());
        for p in CertProfile::ALL {
            assert_eq!(CertProfile::from_stored(p.as_str()), Some(p));
        }
    }

    #[test]
    fn end_entity_forms_are_the_profile_kinds_own() {
        for kind in ProfileKind::ALL {
            assert_eq!(CertProfile::from(kind).as_str(), kind.as_str());
            assert_eq!(CertProfile::from(kind).end_entity(), Some(kind));
        }
        assert_eq!(CertProfile::Ca(CaName::Pc).end_entity(), None);
    }

    #[test]
    fn other_texts_are_refused() {
        for text in ["", "root", "scepra", "ca-", "ca-ocsp", "Router", " pc", "pc ", "ca_root"] {
            assert_eq!(CertProfile::from_stored(text), None, "{text:?}");
        }
        assert_eq!("scepra".parse::<CertProfile>(), Err(UnknownCertProfile("scepra".into())));
    }
}
