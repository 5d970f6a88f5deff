//! Facility kinds and how they relate to the 医療機関コード score table.

use std::fmt;
use std::str::FromStr;

/// What kind of facility registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FacilityKind {
    /// 病院 (20 beds or more).
    Hospital,
    /// 診療所.
    Clinic,
    /// 歯科診療所.
    Dental,
    /// 薬局.
    Pharmacy,
    /// 介護・訪問看護事業所.
    Care,
    /// A service provider connecting to the network (no 医療機関コード).
    ServiceProvider,
}

impl FacilityKind {
    /// Every kind, in display order.
    pub const ALL: [FacilityKind; 6] =
        [Self::Hospital, Self::Clinic, Self::Dental, Self::Pharmacy, Self::Care, Self::ServiceProvider];

    /// The stable text form used in the CLI, the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hospital => "hospital",
            Self::Clinic => "clinic",
            Self::Dental => "dental",
            Self::Pharmacy => "pharmacy",
            Self::Care => "care",
            Self::ServiceProvider => "service-provider",
        }
    }

    /// Whether a 医療機関コード with this 点数表番号 can belong to this kind.
    pub fn accepts_score_table(self, table: u8) -> bool {
        match self {
            Self::Hospital | Self::Clinic => table == 1,
            Self::Dental => table == 3,
            Self::Pharmacy => table == 4,
            Self::Care => table == 6,
            Self::ServiceProvider => false,
        }
    }
}

impl fmt::Display for FacilityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown kind name.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown facility kind {0:?}: use one of hospital, clinic, dental, pharmacy, care, service-provider")]
pub struct UnknownKind(pub String);

impl FromStr for FacilityKind {
    type Err = UnknownKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|k| k.as_str() == s.trim()).ok_or_else(|| UnknownKind(s.to_owned()))
    }
}
