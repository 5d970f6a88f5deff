//! The CAs of an hcpki hierarchy, by name.

use crate::profile_kind::ProfileKind;
use std::fmt;
use std::str::FromStr;

/// The CAs of an hcpki hierarchy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CaName {
    /// The offline root.
    Root,
    /// Issues router (IPsec) certificates.
    Router,
    /// Issues facility PC (TLS client) certificates.
    Pc,
    /// Issues hcpki's own TLS server certificates.
    Server,
}

impl CaName {
    /// All CAs, root first.
    pub const ALL: [CaName; 4] = [Self::Root, Self::Router, Self::Pc, Self::Server];

    /// Stable text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Root => "root",
            Self::Router => "router",
            Self::Pc => "pc",
            Self::Server => "server",
        }
    }

    /// The CA named exactly by its stored text form (no trimming: stored rows hold the canonical form).
    pub fn from_stored(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The CA that issues a profile (OCSP signers name their CA explicitly).
    pub fn for_profile(kind: ProfileKind) -> Option<Self> {
        match kind {
            ProfileKind::Router => Some(Self::Router),
            ProfileKind::Pc => Some(Self::Pc),
            ProfileKind::Server => Some(Self::Server),
            ProfileKind::Ocsp | ProfileKind::ScepRa => None,
            // hcpki's own CA for its own people: never the facility PC CA (D18).
            ProfileKind::Operator => Some(Self::Server),
            // hcpki's own service, like its TLS server: the server CA (D65).
            ProfileKind::Tsa => Some(Self::Server),
        }
    }

    /// The CA's common name.
    pub fn common_name(self) -> &'static str {
        match self {
            Self::Root => "hcpki Root CA",
            Self::Router => "hcpki Router CA",
            Self::Pc => "hcpki Facility PC CA",
            Self::Server => "hcpki Server CA",
        }
    }
}

impl fmt::Display for CaName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A text that names no CA of the hierarchy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown CA {0:?}: use root, router, pc or server")]
pub struct UnknownCa(pub String);

/// The CA's text form, surrounding space ignored.
impl FromStr for CaName {
    type Err = UnknownCa;
    fn from_str(s: &str) -> Result<Self, UnknownCa> {
        Self::ALL.into_iter().find(|c| c.as_str() == s.trim()).ok_or_else(|| UnknownCa(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms_round_trip() {
        for ca in CaName::ALL {
            assert_eq!(ca.as_str().parse::<CaName>(), Ok(ca));
            assert_eq!(format!(" {ca} ").parse::<CaName>(), Ok(ca));
            assert_eq!(CaName::from_stored(ca.as_str()), Some(ca));
        }
        assert_eq!(CaName::from_stored(" pc"), None);
        assert_eq!("ocsp".parse::<CaName>(), Err(UnknownCa("ocsp".into())));
    }
}
