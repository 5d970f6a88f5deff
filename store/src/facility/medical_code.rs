//! 医療機関コード (medical institution code), 10 digits:
//! prefecture (2, 01–47) · 点数表番号 (1) · 郡市区番号 (2) · 医療機関番号 (4) · 検証番号 (1).
//!
//! The check digit is Luhn (モジュラス10・ウェイト2・1 分割加算) over the
//! first nine digits, which is why it is validated over the whole 10-digit
//! code and not over the 7-digit local part alone.

use std::fmt;

/// A validated 医療機関コード.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(into = "String")]
pub struct MedicalInstitutionCode(String);

/// Why a string is not a 医療機関コード.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum MedicalCodeError {
    /// Not exactly 10 ASCII digits.
    #[error("医療機関コード must be exactly 10 digits (prefecture 2, score table 1, number 7); got {0:?}")]
    Format(String),
    /// Prefecture outside 01–47.
    #[error("医療機関コード {0}: prefecture {1:02} is not 01–47")]
    Prefecture(String, u8),
    /// Unknown 点数表番号.
    #[error("医療機関コード {0}: score table {1} is not 1 (医科), 3 (歯科), 4 (調剤) or 6 (訪問看護)")]
    ScoreTable(String, u8),
    /// Check digit wrong.
    #[error("医療機関コード {0}: check digit should be {1}; the code was probably mistyped")]
    CheckDigit(String, u8),
}

impl MedicalInstitutionCode {
    /// Parse and validate; full-width digits and hyphens/spaces are not accepted silently.
    pub fn parse(s: &str) -> Result<Self, MedicalCodeError> {
        let s = s.trim();
        let digits: Vec<u8> = s.bytes().map(|b| b.wrapping_sub(b'0')).collect();
        if digits.len() != 10 || digits.iter().any(|d| *d > 9) {
            return Err(MedicalCodeError::Format(s.to_owned()));
        }
        let d = |i: usize| digits.get(i).copied().unwrap_or(0);
        let pref = d(0) * 10 + d(1);
        if !(1..=47).contains(&pref) {
            return Err(MedicalCodeError::Prefecture(s.to_owned(), pref));
        }
        if !matches!(d(2), 1 | 3 | 4 | 6) {
            return Err(MedicalCodeError::ScoreTable(s.to_owned(), d(2)));
        }
        let expected = luhn_check_digit(digits.get(..9).unwrap_or_default());
        if d(9) != expected {
            return Err(MedicalCodeError::CheckDigit(s.to_owned(), expected));
        }
        Ok(Self(s.to_owned()))
    }

    /// The 10 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// 都道府県番号 (1–47).
    pub fn prefecture(&self) -> u8 {
        self.0.get(..2).and_then(|p| p.parse().ok()).unwrap_or(0)
    }

    /// 点数表番号.
    pub fn score_table(&self) -> u8 {
        self.0.as_bytes().get(2).map(|b| b - b'0').unwrap_or(0)
    }

    /// What the score table digit means.
    pub fn score_table_name(&self) -> &'static str {
        match self.score_table() {
            1 => "医科",
            3 => "歯科",
            4 => "調剤",
            6 => "訪問看護",
            _ => "?",
        }
    }
}

/// Luhn: from the right, double every digit in an odd position of the payload,
/// add the digits of the products, and pick the digit that makes a multiple of 10.
fn luhn_check_digit(payload: &[u8]) -> u8 {
    let sum: u32 = payload
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let v = if i % 2 == 0 { u32::from(d) * 2 } else { u32::from(d) };
            v / 10 + v % 10
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

impl fmt::Display for MedicalInstitutionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<MedicalInstitutionCode> for String {
    fn from(c: MedicalInstitutionCode) -> String {
        c.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_published_example() {
        // The example printed on prescriptions in public references.
        let c = MedicalInstitutionCode::parse("0110113719").unwrap();
        assert_eq!(c.prefecture(), 1);
        assert_eq!(c.score_table(), 1);
    }

    #[test]
    fn rejects_errors_with_reasons() {
        assert!(matches!(MedicalInstitutionCode::parse("011011371"), Err(MedicalCodeError::Format(_))));
        assert!(matches!(MedicalInstitutionCode::parse("01101137１9"), Err(MedicalCodeError::Format(_))));
        assert!(matches!(MedicalInstitutionCode::parse("4810113719"), Err(MedicalCodeError::Prefecture(_, 48))));
        assert!(matches!(MedicalInstitutionCode::parse("0120113719"), Err(MedicalCodeError::ScoreTable(_, 2))));
        assert!(matches!(MedicalInstitutionCode::parse("0110113718"), Err(MedicalCodeError::CheckDigit(_, 9))));
    }
}
