//! The end-entity certificate profiles, by name.

use std::fmt;
use std::str::FromStr;

/// The end-entity profiles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProfileKind {
    /// IPsec router (RFC 4945), from the router CA.
    Router,
    /// Facility PC TLS client, from the PC CA.
    Pc,
    /// hcpki's own TLS server, from the server CA.
    Server,
    /// Delegated OCSP signer, from the CA whose certificates it covers.
    Ocsp,
    /// SCEP registration authority (RFC 8894 §2.1.1), from the CA it enrolls for.
    ScepRa,
    /// An hcpki operator's TLS client certificate (admin API), from the server CA.
    Operator,
    /// hcpki's RFC 3161 time-stamping authority (critical EKU timeStamping), from the server CA.
    Tsa,
}

impl ProfileKind {
    /// Every profile, in the order help texts list them.
    pub const ALL: [ProfileKind; 7] =
        [Self::Router, Self::Pc, Self::Server, Self::Ocsp, Self::ScepRa, Self::Operator, Self::Tsa];

    /// Stable text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Router => "router",
            Self::Pc => "pc",
            Self::Server => "server",
            Self::Ocsp => "ocsp",
            Self::ScepRa => "scep-ra",
            Self::Operator => "operator",
            Self::Tsa => "tsa",
        }
    }
}

impl fmt::Display for ProfileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A text that names no profile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown profile {0:?}: use router, pc, server, ocsp, scep-ra, operator or tsa")]
pub struct UnknownProfile(pub String);

/// The profile's text form, surrounding space ignored.
impl FromStr for ProfileKind {
    type Err = UnknownProfile;
    fn from_str(s: &str) -> Result<Self, UnknownProfile> {
        let s = s.trim();
        Self::ALL.into_iter().find(|p| p.as_str() == s).ok_or_else(|| UnknownProfile(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms_round_trip() {
        for p in ProfileKind::ALL {
            assert_eq!(p.as_str().parse::<ProfileKind>(), Ok(p));
            assert_eq!(format!(" {p}\n").parse::<ProfileKind>(), Ok(p));
        }
        assert_eq!(" root ".parse::<ProfileKind>(), Err(UnknownProfile("root".into())));
    }
}
