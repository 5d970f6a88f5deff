//! What a document signature is made as: its format and its baseline level — the one pair the signature
//! formats (`hcpki-docsig`), the verifier, the card agent and its API, and the server's signing requests share
//! (issue #43 item 2, D121), so a format or a level is added to one enum rather than three that drift. Written
//! the same in JSON, forms, command lines and the store: `cades`, `xades-eprescription`, `pades`; `b-b`, `b-t`,
//! `b-lt`, `b-lta`.

use std::fmt;
use std::str::FromStr;

/// A signature format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// CAdES (ETSI EN 319 122-1): a `.p7s` beside any file (detached) or holding it (attached).
    Cades,
    /// An e-prescription: the JAHIS CSV in the national EP.xsd envelope, signed in XAdES (ETSI EN 319 132-1); the
    /// signed XML carries the prescription.
    XadesEprescription,
    /// A PDF signed inside itself: PAdES (ETSI EN 319 142-1).
    Pades,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 3] = [Format::Cades, Format::XadesEprescription, Format::Pades];

    /// The name the APIs, the store, the command lines and the card agent use: `cades`, `xades-eprescription`,
    /// `pades`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Cades => "cades",
            Format::XadesEprescription => "xades-eprescription",
            Format::Pades => "pades",
        }
    }

    /// The signature family the verifier reports a file as (`format:` of `hcpki signature verify`, `"format"` of
    /// `POST /api/v1/signatures/verify`): `cades`, `xades`, `pades`.
    pub fn family(self) -> &'static str {
        match self {
            Format::Cades => "cades",
            Format::XadesEprescription => "xades",
            Format::Pades => "pades",
        }
    }

    /// Whether the signed document may travel beside the signature (and must then be given with it).
    pub fn detached(self) -> bool {
        self == Format::Cades
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a text is not a signature format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the format is cades, xades-eprescription or pades")]
pub struct UnknownFormat;

/// Exactly one of [`Format::as_str`]'s names.
impl FromStr for Format {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, UnknownFormat> {
        Format::ALL.into_iter().find(|f| f.as_str() == s).ok_or(UnknownFormat)
    }
}

/// A baseline level (ETSI EN 319 122-1 §6, EN 319 132-1, EN 319 142-1: the same four), in increasing order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub enum Level {
    /// B-B: signed attributes with the signing-certificate binding.
    #[default]
    #[serde(rename = "b-b")]
    BaselineB,
    /// B-T: B-B plus a signature time stamp proving the signature existed at its time.
    #[serde(rename = "b-t")]
    BaselineT,
    /// B-LT: B-T plus the certificates and revocation data needed to validate it, embedded.
    #[serde(rename = "b-lt")]
    BaselineLt,
    /// B-LTA: B-LT plus an archive (CAdES) or document (PAdES) time stamp over all of it.
    #[serde(rename = "b-lta")]
    BaselineLta,
}

impl Level {
    /// Every level, lowest first.
    pub const ALL: [Level; 4] = [Level::BaselineB, Level::BaselineT, Level::BaselineLt, Level::BaselineLta];

    /// The name the APIs, the store, the command lines and the card agent use: `b-b`, `b-t`, `b-lt`, `b-lta`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::BaselineB => "b-b",
            Level::BaselineT => "b-t",
            Level::BaselineLt => "b-lt",
            Level::BaselineLta => "b-lta",
        }
    }

    /// ETSI's name, what reports and pages show: `B-B`, `B-T`, `B-LT`, `B-LTA`.
    pub fn name(self) -> &'static str {
        match self {
            Level::BaselineB => "B-B",
            Level::BaselineT => "B-T",
            Level::BaselineLt => "B-LT",
            Level::BaselineLta => "B-LTA",
        }
    }
}

/// ETSI's name ([`Level::name`]).
impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a text is not a baseline level.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the level is b-b, b-t, b-lt or b-lta")]
pub struct UnknownLevel;

/// Exactly one of [`Level::as_str`]'s names.
impl FromStr for Level {
    type Err = UnknownLevel;
    fn from_str(s: &str) -> Result<Self, UnknownLevel> {
        Level::ALL.into_iter().find(|l| l.as_str() == s).ok_or(UnknownLevel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_spelling_in_text_and_json() {
        for format in Format::ALL {
            assert_eq!(format.as_str().parse::<Format>(), Ok(format));
            assert_eq!(serde_json::to_string(&format).unwrap(), format!("\"{format}\""));
            assert_eq!(serde_json::from_str::<Format>(&format!("\"{format}\"")).unwrap(), format);
        }
        for level in Level::ALL {
            assert_eq!(level.as_str().parse::<Level>(), Ok(level));
            assert_eq!(serde_json::to_string(&level).unwrap(), format!("\"{}\"", level.as_str()));
            assert_eq!(level.name(), level.as_str().to_uppercase());
        }
        for bad in ["", "CAdES", "xades", "pades "] {
            assert_eq!(bad.parse::<Format>(), Err(UnknownFormat), "{bad:?}");
        }
        for bad in ["", "B-B", "b-c", "bb"] {
            assert_eq!(bad.parse::<Level>(), Err(UnknownLevel), "{bad:?}");
        }
        assert!(Level::BaselineB < Level::BaselineT && Level::BaselineLt < Level::BaselineLta);
    }
}
