//! What people type through a Japanese IME, made into what the forms' rules expect (issue #45 item 4): full-width
//! digits and letters (`１２３`, `Ａｌｉｃｅ`) become ASCII by NFKC, the hyphens and dashes an IME gives for `-`
//! are dropped from codes, user names are lower-cased. Only the forms' own rules decide what is valid after this:
//! the normalisation never makes a value valid that the rule refuses once written in ASCII.

use unicode_normalization::UnicodeNormalization as _;

/// A code of digits as typed (a TOTP code, a 医療機関コード): NFKC, then without spaces and the hyphens, dashes
/// and the long-vowel mark an IME writes for `-` (`１２３－４５６`, `123ー456`, `123 456` are all `123456`).
pub fn digits(typed: &str) -> String {
    typed.nfkc().filter(|c| !c.is_whitespace() && !is_dash(*c)).collect()
}

/// A user name as typed: NFKC, trimmed, lower-case (`Ａｌｉｃｅ ` and `Alice` are `alice`; account names are
/// lower-case by rule).
pub fn user_name(typed: &str) -> String {
    typed.nfkc().collect::<String>().trim().to_lowercase()
}

/// `-` and what a Japanese IME writes for it: the hyphens and dashes of U+2010–2015, the minus sign, the
/// full-width hyphen-minus (NFKC has made it `-` already) and the katakana long-vowel mark `ー`.
fn is_dash(c: char) -> bool {
    matches!(c, '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{30FC}' | '\u{FF70}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_digits_and_dashes_become_the_code() {
        assert_eq!(digits("１２３４５６"), "123456");
        assert_eq!(digits(" 123 456 "), "123456");
        assert_eq!(digits("１２３－４５６"), "123456");
        assert_eq!(digits("123ー456"), "123456");
        assert_eq!(digits("13‐1234567"), "131234567");
        // Letters stay letters: the form's rule still refuses them.
        assert_eq!(digits("12345a"), "12345a");
        assert_eq!(digits("１２３４５ａ"), "12345a");
    }

    #[test]
    fn user_names_are_lower_cased_ascii() {
        assert_eq!(user_name("Alice"), "alice");
        assert_eq!(user_name(" Ａｌｉｃｅ "), "alice");
        assert_eq!(user_name("アリス"), "アリス", "not made ASCII: the account rule refuses it");
    }
}
