//! Registration authorities (issue #50 item 3, D167): connection providers (接続プロバイダ) and prefectures
//! that register, approve, suspend and help the facilities in their scope, and only those.
//!
//! An RA has a kind, a name and a scope. A prefecture RA's scope is a set of prefectures: the facilities whose
//! 医療機関コード starts with one of their numbers (a facility without a code is in no prefecture RA's scope). A
//! provider RA's scope is the facilities assigned to it, one provider per facility (the facility's connection
//! contract). Operators and console staff belong to at most one RA ([`Member`]); staff of none are central and
//! see everything. Whether a staff member may act on a facility is `hcpki_ca::access::decide`'s, over the
//! facility's [`Placement`].

use crate::facility::{FacilityId, MedicalInstitutionCode};
use std::fmt;
use std::str::FromStr;

/// An RA's name: 1–64 characters of `a–z 0–9 . _ -`, starting with a letter or digit (it is part of audit actors,
/// `ra:<name>:operator:<operator>`, so never a colon).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct RaName(String);

impl RaName {
    /// Parse a name as typed (surrounding space trimmed; case kept, so `Tokyo` is refused, not folded).
    pub fn parse(text: &str) -> Result<Self, RaError> {
        let t = text.trim();
        let ok = (1..=64).contains(&t.len())
            && t.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && t.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        if ok { Ok(Self(t.to_owned())) } else { Err(RaError::Name(t.to_owned())) }
    }

    /// The text form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RaName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for RaName {
    type Err = RaError;
    fn from_str(s: &str) -> Result<Self, RaError> {
        Self::parse(s)
    }
}

/// A prefecture by its number (都道府県番号, 1–47), the first two digits of a 医療機関コード.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Prefecture(u8);

impl Prefecture {
    /// Parse `13` or `01` (1–47).
    pub fn parse(text: &str) -> Result<Self, RaError> {
        let t = text.trim();
        match t.parse::<u8>() {
            Ok(n) if (1..=47).contains(&n) && t.len() <= 2 => Ok(Self(n)),
            _ => Err(RaError::Prefecture(t.to_owned())),
        }
    }

    /// The prefecture of a 医療機関コード.
    pub fn of_code(code: &MedicalInstitutionCode) -> Option<Self> {
        Some(code.prefecture()).filter(|n| (1..=47).contains(n)).map(Self)
    }

    /// The number.
    pub fn number(self) -> u8 {
        self.0
    }
}

impl fmt::Display for Prefecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}", self.0)
    }
}

/// What an RA is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RaKind {
    /// A connection provider (接続プロバイダ): the facilities assigned to it.
    Provider,
    /// A prefecture (都道府県): the facilities whose 医療機関コード is in its prefectures.
    Prefecture,
}

impl RaKind {
    /// Every kind.
    pub const ALL: [RaKind; 2] = [Self::Provider, Self::Prefecture];

    /// Stable text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Provider => "provider",
            Self::Prefecture => "prefecture",
        }
    }
}

impl fmt::Display for RaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RaKind {
    type Err = RaError;
    fn from_str(s: &str) -> Result<Self, RaError> {
        match s.trim() {
            "provider" => Ok(Self::Provider),
            "prefecture" => Ok(Self::Prefecture),
            other => Err(RaError::Kind(other.to_owned())),
        }
    }
}

/// A registration authority: its kind, name, label and scope.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Ra {
    /// The name.
    pub name: RaName,
    /// Provider or prefecture.
    pub kind: RaKind,
    /// What people call it (`東京都`, `○○ネットワーク株式会社`); shown, never decided on.
    pub label: String,
    /// A prefecture RA's prefectures (never empty); a provider RA's is empty (its scope is its assignments).
    pub prefectures: Vec<Prefecture>,
}

impl Ra {
    /// A checked RA: a prefecture RA names one prefecture or more, a provider RA none; the label is 1–200
    /// characters without control characters.
    pub fn new(name: RaName, kind: RaKind, label: &str, mut prefectures: Vec<Prefecture>) -> Result<Self, RaError> {
        let label = label.trim();
        if label.is_empty() || label.chars().count() > 200 || label.chars().any(char::is_control) {
            return Err(RaError::Label);
        }
        prefectures.sort();
        prefectures.dedup();
        match (kind, prefectures.is_empty()) {
            (RaKind::Prefecture, true) => return Err(RaError::PrefecturesMissing),
            (RaKind::Provider, false) => return Err(RaError::PrefecturesNotExpected),
            _ => {}
        }
        Ok(Self { name, kind, label: label.to_owned(), prefectures })
    }

    /// Whether the facility placed at `p` is in this RA's scope.
    pub fn covers(&self, p: &Placement) -> bool {
        match self.kind {
            RaKind::Prefecture => p.prefecture.is_some_and(|n| self.prefectures.contains(&n)),
            RaKind::Provider => p.provider.as_ref() == Some(&self.name),
        }
    }

    /// A placement of `facility` inside this RA's scope: what a page may assume to show its forms for a facility
    /// it has already read through the scope check (every change asks again with the facility's real placement).
    pub fn inside(&self, facility: &FacilityId) -> Placement {
        Placement {
            facility: facility.clone(),
            prefecture: self.prefectures.first().copied(),
            provider: Some(self.name.clone()),
        }
    }

    /// The prefectures as stored and typed: `13,14`.
    pub fn prefecture_list(&self) -> String {
        self.prefectures.iter().map(Prefecture::to_string).collect::<Vec<_>>().join(",")
    }
}

/// Where a facility stands for the RAs: its prefecture (from its 医療機関コード) and its provider RA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    /// The facility.
    pub facility: FacilityId,
    /// Its prefecture, when it has a 医療機関コード.
    pub prefecture: Option<Prefecture>,
    /// The provider RA it is assigned to, if any.
    pub provider: Option<RaName>,
}

/// A staff member of an RA, as the membership stores them: the central audit actor of an operator certificate
/// (`operator:<name>`) or of a person with a console grant (`person:<person key>`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Member(String);

impl Member {
    /// An operator (by certificate).
    pub fn operator(name: &crate::operator::OperatorName) -> Self {
        Self(format!("operator:{name}"))
    }

    /// A person with an operator or auditor console grant (the person key as granted).
    pub fn person(person_key: &str) -> Self {
        Self(format!("person:{person_key}"))
    }

    /// The stored form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Read a stored member back (rows only).
    pub fn from_stored(text: String) -> Self {
        Self(text)
    }
}

impl fmt::Display for Member {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why an RA, an assignment or a membership is refused. The text says what to do.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum RaError {
    /// Malformed name.
    #[error("RA name {0:?} must be 1–64 characters of a–z 0–9 . _ -, starting with a letter or digit")]
    Name(String),
    /// Unknown kind.
    #[error("unknown RA kind {0:?}: use provider or prefecture")]
    Kind(String),
    /// Not a prefecture number.
    #[error("{0:?} is not a prefecture number: use 1–47 (the first two digits of a 医療機関コード, 13 for Tokyo)")]
    Prefecture(String),
    /// A prefecture RA without prefectures.
    #[error("a prefecture RA needs its prefectures: add --prefectures 13 (comma-separated numbers 1–47)")]
    PrefecturesMissing,
    /// A provider RA naming prefectures.
    #[error("a provider RA's scope is the facilities assigned to it: drop --prefectures, then `hcpki ra assign`")]
    PrefecturesNotExpected,
    /// The label is empty, too long or holds control characters.
    #[error("the label must be 1–200 characters without control characters (e.g. 東京都)")]
    Label,
    /// No such RA.
    #[error("no RA {0}: check the name with `hcpki ra list`")]
    Unknown(RaName),
    /// The name is taken.
    #[error("RA {0} exists already: choose another name")]
    Exists(RaName),
    /// Facilities are assigned to provider RAs only.
    #[error("RA {0} is a prefecture RA: its scope is its prefectures; assign facilities to a provider RA")]
    NotProvider(RaName),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(prefecture: Option<u8>, provider: Option<&str>) -> Placement {
        Placement {
            facility: FacilityId::from_number(1).unwrap(),
            prefecture: prefecture.map(|n| Prefecture::parse(&n.to_string()).unwrap()),
            provider: provider.map(|p| RaName::parse(p).unwrap()),
        }
    }

    #[test]
    fn scopes() {
        let tokyo = Ra::new(
            RaName::parse("tokyo").unwrap(),
            RaKind::Prefecture,
            "東京都",
            vec![Prefecture::parse("13").unwrap(), Prefecture::parse("14").unwrap()],
        )
        .unwrap();
        let isp = Ra::new(RaName::parse("isp-a").unwrap(), RaKind::Provider, "A", vec![]).unwrap();
        assert!(tokyo.covers(&place(Some(13), None)));
        assert!(tokyo.covers(&place(Some(14), Some("isp-a"))));
        assert!(!tokyo.covers(&place(Some(1), None)));
        assert!(!tokyo.covers(&place(None, None)), "no code, no prefecture RA");
        assert!(isp.covers(&place(Some(1), Some("isp-a"))));
        assert!(!isp.covers(&place(Some(13), Some("isp-b"))));
        assert!(!isp.covers(&place(Some(13), None)));
        let f = FacilityId::from_number(9).unwrap();
        assert!(tokyo.covers(&tokyo.inside(&f)) && isp.covers(&isp.inside(&f)));
        assert_eq!(tokyo.prefecture_list(), "13,14");
    }

    #[test]
    fn refusals() {
        for bad in ["", "Tokyo", "a:b", "-x", &"a".repeat(65)] {
            assert!(RaName::parse(bad).is_err(), "{bad:?}");
        }
        for bad in ["0", "48", "x", "013", "-1"] {
            assert!(Prefecture::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Prefecture::parse("01").unwrap().to_string(), "01");
        let n = || RaName::parse("r").unwrap();
        assert_eq!(Ra::new(n(), RaKind::Prefecture, "x", vec![]), Err(RaError::PrefecturesMissing));
        let p13 = vec![Prefecture::parse("13").unwrap()];
        assert_eq!(Ra::new(n(), RaKind::Provider, "x", p13.clone()), Err(RaError::PrefecturesNotExpected));
        assert_eq!(Ra::new(n(), RaKind::Prefecture, " ", p13.clone()), Err(RaError::Label));
        assert_eq!(Ra::new(n(), RaKind::Prefecture, "a\nb", p13), Err(RaError::Label));
        assert!("isp".parse::<RaKind>().is_err());
    }
}
