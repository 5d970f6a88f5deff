//! A card PIN with a retry counter: what VERIFY (`INS 20`) does with it.

use crate::apdu::StatusWord;
use zeroize::Zeroizing;

/// Which characters and lengths the card's PIN policy admits. Used when an identity is created
/// (so a card never holds a PIN its real counterpart could not), and by VERIFY for its length check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PinPolicy {
    /// Minimum length in bytes.
    pub min_len: usize,
    /// Maximum length in bytes.
    pub max_len: usize,
    /// Which bytes may appear.
    pub charset: Charset,
    /// Tries after a successful VERIFY (the counter's reset value).
    pub max_tries: u8,
}

/// The alphabet of a PIN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Charset {
    /// `0`–`9` (JPKI auth PIN, text-AP PIN).
    Digits,
    /// `A`–`Z` and `0`–`9` (JPKI signing password).
    UpperAlnum,
    /// Printable ASCII (HPKI, JAHIS B.4.4 "case-sensitive, UTF-8, in practice ASCII").
    PrintableAscii,
}

impl PinPolicy {
    /// JPKI 利用者証明用 PIN (EF 0018): exactly 4 digits, 3 tries.
    pub const JPKI_AUTH: Self = Self { min_len: 4, max_len: 4, charset: Charset::Digits, max_tries: 3 };
    /// JPKI 署名用 password (EF 001B): 6–16 of A–Z0–9, 5 tries.
    pub const JPKI_SIGN: Self = Self { min_len: 6, max_len: 16, charset: Charset::UpperAlnum, max_tries: 5 };
    /// 券面事項入力補助 PIN (EF 0011): 4 digits; 3 tries (commonly reported, not verified).
    pub const JPKI_TEXT: Self = Self { min_len: 4, max_len: 4, charset: Charset::Digits, max_tries: 3 };
    /// HPKI card PIN: 4–16 printable ASCII, 15 tries like the MEDIS card.
    pub const HPKI: Self = Self { min_len: 4, max_len: 16, charset: Charset::PrintableAscii, max_tries: 15 };

    /// Whether `value` is a PIN this policy admits.
    pub fn admits(&self, value: &[u8]) -> bool {
        (self.min_len..=self.max_len).contains(&value.len())
            && value.iter().all(|b| match self.charset {
                Charset::Digits => b.is_ascii_digit(),
                Charset::UpperAlnum => b.is_ascii_uppercase() || b.is_ascii_digit(),
                Charset::PrintableAscii => (0x20..0x7F).contains(b),
            })
    }
}

/// A PIN stored on the card: reference value plus retry counter.
#[derive(Clone)]
pub struct Pin {
    value: Zeroizing<Vec<u8>>,
    policy: PinPolicy,
    tries_left: u8,
}

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pin")
            .field("policy", &self.policy)
            .field("tries_left", &self.tries_left)
            .finish_non_exhaustive()
    }
}

/// What a VERIFY did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerifyOutcome {
    /// The PIN matched; the counter is back at its maximum.
    Verified,
    /// Answer with this status word and leave the security status as it is.
    Rejected(StatusWord),
}

impl Pin {
    /// A PIN with a full retry counter. The value is taken as given: policy checks happen where the
    /// identity is made, so a test can still load a deliberately odd PIN.
    pub fn new(value: &[u8], policy: PinPolicy) -> Self {
        Self { value: Zeroizing::new(value.to_vec()), policy, tries_left: policy.max_tries }
    }

    /// Tries left before the PIN blocks.
    pub fn tries_left(&self) -> u8 {
        self.tries_left
    }

    /// The PIN's policy.
    pub fn policy(&self) -> PinPolicy {
        self.policy
    }

    /// VERIFY with the given data field.
    ///
    /// * Empty data: a query. `6983` when blocked, `9000` when `already_verified` (ISO 7816-4
    ///   §11.5.6), else `63Cx` — never spends a try.
    /// * Blocked: `6983`, without comparing.
    /// * A length the policy never admits: `6700` without spending a try (the card rejects the
    ///   command's form before comparing).
    /// * Mismatch: one try spent, `63Cx` with the new count (`63C0` on the last one).
    pub fn verify(&mut self, candidate: &[u8], already_verified: bool) -> VerifyOutcome {
        if candidate.is_empty() {
            return VerifyOutcome::Rejected(if self.tries_left == 0 {
                StatusWord::BLOCKED
            } else if already_verified {
                StatusWord::OK
            } else {
                StatusWord::tries_left(self.tries_left)
            });
        }
        if self.tries_left == 0 {
            return VerifyOutcome::Rejected(StatusWord::BLOCKED);
        }
        if !(self.policy.min_len..=self.policy.max_len).contains(&candidate.len()) {
            return VerifyOutcome::Rejected(StatusWord::WRONG_LENGTH);
        }
        if constant_time_eq(candidate, &self.value) {
            self.tries_left = self.policy.max_tries;
            VerifyOutcome::Verified
        } else {
            self.tries_left = self.tries_left.saturating_sub(1);
            VerifyOutcome::Rejected(StatusWord::tries_left(self.tries_left))
        }
    }
}

/// Compares without an early exit; a test card has no secrets worth a timing attack, but the habit
/// costs nothing.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_pin_decrements_then_blocks() {
        let mut pin = Pin::new(b"1234", PinPolicy::JPKI_AUTH);
        assert_eq!(pin.verify(b"", false), VerifyOutcome::Rejected(StatusWord(0x63C3)));
        assert_eq!(pin.verify(b"0000", false), VerifyOutcome::Rejected(StatusWord(0x63C2)));
        assert_eq!(pin.verify(b"0000", false), VerifyOutcome::Rejected(StatusWord(0x63C1)));
        assert_eq!(pin.verify(b"0000", false), VerifyOutcome::Rejected(StatusWord(0x63C0)));
        assert_eq!(pin.verify(b"1234", false), VerifyOutcome::Rejected(StatusWord::BLOCKED));
        assert_eq!(pin.verify(b"", false), VerifyOutcome::Rejected(StatusWord::BLOCKED));
    }

    #[test]
    fn right_pin_resets_counter_and_query_is_free() {
        let mut pin = Pin::new(b"ABC123", PinPolicy::JPKI_SIGN);
        assert_eq!(pin.verify(b"XXXXXX", false), VerifyOutcome::Rejected(StatusWord(0x63C4)));
        for _ in 0..3 {
            assert_eq!(pin.verify(b"", false), VerifyOutcome::Rejected(StatusWord(0x63C4)));
        }
        assert_eq!(pin.verify(b"ABC123", false), VerifyOutcome::Verified);
        assert_eq!(pin.tries_left(), 5);
        assert_eq!(pin.verify(b"", true), VerifyOutcome::Rejected(StatusWord::OK));
    }

    #[test]
    fn impossible_length_does_not_spend_a_try() {
        let mut pin = Pin::new(b"1234", PinPolicy::JPKI_AUTH);
        assert_eq!(pin.verify(b"12345", false), VerifyOutcome::Rejected(StatusWord::WRONG_LENGTH));
        assert_eq!(pin.tries_left(), 3);
    }

    #[test]
    fn policies() {
        assert!(PinPolicy::JPKI_AUTH.admits(b"0420"));
        assert!(!PinPolicy::JPKI_AUTH.admits(b"042a"));
        assert!(PinPolicy::JPKI_SIGN.admits(b"ABCDEF1234"));
        assert!(!PinPolicy::JPKI_SIGN.admits(b"abcdef1234"));
        assert!(!PinPolicy::JPKI_SIGN.admits(b"ABC12"));
        assert!(PinPolicy::HPKI.admits(b"pass word"));
        assert!(!PinPolicy::HPKI.admits(b"abc"));
    }
}
