//! A telephone number as a help desk searches by it (issue #45 item 3): a caller reads out `03-1234-5678`,
//! `０３（１２３４）５６７８` or `+81 3 1234 5678`, and the facility's contact holds it in any of those forms.
//!
//! Both sides are folded the same way: full-width digits become ASCII, the separators people write (spaces,
//! hyphens and their look-alikes such as `ー` and `－`, parentheses, dots) go, and Japan's country code `+81`
//! becomes the trunk prefix `0`, so `+81 3 1234 5678` and `03-1234-5678` are both `0312345678`. The store folds
//! the stored contact with [`SEPARATORS`] and [`FULL_WIDTH`] in SQL (on both databases), so contacts written
//! before this search existed are found too, and matches the query's digits anywhere inside it.

use std::fmt;

/// Characters dropped from a number: spaces, hyphens and the dashes and long vowel marks typed for them by an IME,
/// parentheses and dots.
pub const SEPARATORS: [char; 17] = [
    ' ', '\u{3000}', '-', '\u{2010}', '\u{2011}', '\u{2012}', '\u{2013}', '\u{2014}', '\u{2212}', '\u{30FC}',
    '\u{FF0D}', '\u{FF70}', '(', ')', '\u{FF08}', '\u{FF09}', '.',
];

/// Full-width characters and their ASCII forms: the ten digits and the plus sign.
pub const FULL_WIDTH: [(char, char); 11] = [
    ('０', '0'),
    ('１', '1'),
    ('２', '2'),
    ('３', '3'),
    ('４', '4'),
    ('５', '5'),
    ('６', '6'),
    ('７', '7'),
    ('８', '8'),
    ('９', '9'),
    ('＋', '+'),
];

/// The country code's forms that become the trunk prefix `0`, longest first: `+81 (0)3…` is written too.
pub const COUNTRY_CODE: [&str; 2] = ["+810", "+81"];

/// Fewest digits a search takes: fewer would match nearly every contact.
pub const MIN_DIGITS: usize = 4;
/// Most digits: E.164 numbers have at most 15.
pub const MAX_DIGITS: usize = 15;

/// The digits of a telephone number searched for, in Japan's national form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhoneDigits(String);

/// Why a search text is not a telephone number.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum PhoneError {
    /// A character that is neither a digit, `+` nor a separator.
    #[error("a telephone number holds only digits, spaces, hyphens and parentheses: remove {0:?}")]
    Character(char),
    /// Too few or too many digits.
    #[error("a telephone number to search for has {MIN_DIGITS} to {MAX_DIGITS} digits (got {0})")]
    Length(usize),
}

impl PhoneDigits {
    /// Fold `text` as the stored contacts are folded, and check what is left is digits.
    pub fn parse(text: &str) -> Result<Self, PhoneError> {
        let folded = fold(text);
        let national = COUNTRY_CODE
            .iter()
            .find_map(|cc| folded.strip_prefix(cc))
            .map_or_else(|| folded.clone(), |rest| format!("0{rest}"));
        if let Some(c) = national.chars().find(|c| !c.is_ascii_digit()) {
            return Err(PhoneError::Character(c));
        }
        match national.len() {
            MIN_DIGITS..=MAX_DIGITS => Ok(Self(national)),
            n => Err(PhoneError::Length(n)),
        }
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PhoneDigits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Full-width forms to ASCII, separators dropped (what the SQL does to the stored contact, before the country
/// code, which the SQL replaces wherever it stands).
fn fold(text: &str) -> String {
    text.trim()
        .chars()
        .filter(|c| !SEPARATORS.contains(c))
        .map(|c| FULL_WIDTH.iter().find(|(wide, _)| *wide == c).map_or(c, |(_, ascii)| *ascii))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forms_a_caller_reads_out_fold_to_one() {
        for said in [
            "03-1234-5678",
            "0312345678",
            "03 1234 5678",
            "０３－１２３４－５６７８",
            "０３（１２３４）５６７８",
            "03ー1234ー5678",
            "+81 3 1234 5678",
            "+81-3-1234-5678",
            "＋８１ ３ １２３４ ５６７８",
            "+81 (0)3 1234 5678",
            "(03) 1234.5678",
        ] {
            assert_eq!(PhoneDigits::parse(said).map(|p| p.to_string()), Ok("0312345678".into()), "{said}");
        }
        assert_eq!(PhoneDigits::parse("5678").map(|p| p.to_string()), Ok("5678".into()));
    }

    #[test]
    fn what_is_not_a_number_is_refused_with_the_character() {
        assert_eq!(PhoneDigits::parse("03-1234-567x"), Err(PhoneError::Character('x')));
        assert_eq!(PhoneDigits::parse("さくら"), Err(PhoneError::Character('さ')));
        assert_eq!(PhoneDigits::parse("0%1234"), Err(PhoneError::Character('%')));
        assert_eq!(PhoneDigits::parse("123"), Err(PhoneError::Length(3)));
        assert_eq!(PhoneDigits::parse(" - "), Err(PhoneError::Length(0)));
        assert_eq!(PhoneDigits::parse("1234567890123456"), Err(PhoneError::Length(16)));
    }
}
