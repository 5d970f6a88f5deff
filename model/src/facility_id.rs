//! The facility identifier: `HF` + 8 digits + one check character.
//!
//! Assigned from a never-reset counter at registration, so it is stable,
//! unique and never reused. The check character is ISO/IEC 7064 MOD 37,36
//! (hybrid, alphanumeric), which catches every single-character error and
//! every adjacent transposition, so a mistyped ID is refused rather than
//! matched to another facility. The same ID appears uppercase in the subject
//! `serialNumber` and lowercase as a DNS label in router SANs.

use std::fmt;
use std::str::FromStr;

const PREFIX: &str = "HF";
const DIGITS: usize = 8;
const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// A facility identifier such as `HF00000017K`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FacilityId(String);

/// Why a string is not a facility ID.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum FacilityIdError {
    /// Wrong shape.
    #[error("{0:?} is not a facility ID: expected HF, 8 digits and a check character, e.g. HF00000017K")]
    Format(String),
    /// The check character does not match: the ID was mistyped.
    #[error("{0:?} has a wrong check character: the ID was probably mistyped")]
    Check(String),
    /// The counter ran past the 8-digit space.
    #[error("facility number {0} does not fit in 8 digits")]
    Exhausted(u64),
}

impl FacilityId {
    /// The ID for the `n`-th registered facility (n ≥ 1).
    pub fn from_number(n: u64) -> Result<Self, FacilityIdError> {
        if n == 0 || n >= 10u64.pow(DIGITS as u32) {
            return Err(FacilityIdError::Exhausted(n));
        }
        let body = format!("{PREFIX}{n:0DIGITS$}");
        let check = check_char(&body);
        Ok(Self(format!("{body}{check}")))
    }

    /// Parse user input (case-insensitive, surrounding space ignored).
    pub fn parse(s: &str) -> Result<Self, FacilityIdError> {
        let up = s.trim().to_ascii_uppercase();
        let well_formed = up.len() == PREFIX.len() + DIGITS + 1
            && up.starts_with(PREFIX)
            && up.bytes().skip(PREFIX.len()).take(DIGITS).all(|b| b.is_ascii_digit())
            && up.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric());
        if !well_formed {
            return Err(FacilityIdError::Format(s.to_owned()));
        }
        let (body, check) = up.split_at(PREFIX.len() + DIGITS);
        if !check.starts_with(check_char(body)) {
            return Err(FacilityIdError::Check(s.to_owned()));
        }
        // Numbering starts at 1: a well-checked all-zero number was never assigned
        // (found by the `identifiers` fuzz target).
        if body.bytes().skip(PREFIX.len()).all(|b| b == b'0') {
            return Err(FacilityIdError::Format(s.to_owned()));
        }
        Ok(Self(up))
    }

    /// The canonical (uppercase) form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The registration number inside the ID.
    pub fn number(&self) -> u64 {
        self.0.get(PREFIX.len()..PREFIX.len() + DIGITS).and_then(|d| d.parse().ok()).unwrap_or(0)
    }

    /// The ID as a DNS label (lowercase), for router SAN dNSNames.
    pub fn dns_label(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// ISO/IEC 7064 MOD 37,36: the character whose value makes the running
/// product come out to 1.
fn check_char(body: &str) -> char {
    const M: u32 = 36;
    let mut p = M;
    for b in body.bytes() {
        let a = ALPHABET.iter().position(|&c| c == b).unwrap_or(0) as u32;
        let mut s = (p + a) % M;
        if s == 0 {
            s = M;
        }
        p = (2 * s) % (M + 1);
    }
    let v = (M + 1 - p) % M;
    ALPHABET.get(v as usize).map(|&c| char::from(c)).unwrap_or('0')
}

impl fmt::Display for FacilityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for FacilityId {
    type Err = FacilityIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for FacilityId {
    type Error = FacilityIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<FacilityId> for String {
    fn from(id: FacilityId) -> String {
        id.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_case() {
        for n in [1u64, 17, 600_000, 99_999_999] {
            let id = FacilityId::from_number(n).unwrap();
            assert_eq!(id.number(), n);
            assert_eq!(FacilityId::parse(&id.dns_label()).unwrap(), id);
        }
        assert!(FacilityId::from_number(0).is_err());
        assert!(FacilityId::from_number(100_000_000).is_err());
    }

    #[test]
    fn catches_every_single_substitution_and_adjacent_transposition() {
        for n in [1u64, 42, 123_456, 600_000, 87_654_321] {
            let id = FacilityId::from_number(n).unwrap().as_str().to_owned();
            let bytes = id.as_bytes().to_vec();
            for i in 2..bytes.len() {
                for &c in ALPHABET.iter() {
                    if c == bytes[i] {
                        continue;
                    }
                    let mut t = bytes.clone();
                    t[i] = c;
                    let s = String::from_utf8(t).unwrap();
                    assert!(FacilityId::parse(&s).is_err(), "{id} → {s} accepted");
                }
                if i + 1 < bytes.len() && bytes[i] != bytes[i + 1] {
                    let mut t = bytes.clone();
                    t.swap(i, i + 1);
                    let s = String::from_utf8(t).unwrap();
                    assert!(FacilityId::parse(&s).is_err(), "{id} → {s} accepted");
                }
            }
        }
    }

    #[test]
    fn rejects_malformed() {
        // HF000000004 has a correct check character for number 0, which is never assigned.
        for s in ["", "HF", "HF1234567K", "XX00000017K", "HF0000001AK", "HF00000017K9", "HF00000017-", "HF000000004"] {
            assert!(FacilityId::parse(s).is_err(), "{s}");
        }
    }
}
