//! A facility's limit on signing sessions (issue #48 item 3, D163, D172): after one signature PIN, at most this
//! many signatures within this many hours at the facility's PCs. The card agent has its own limits (250, 18 h
//! by default; at most 250 and 24); a facility may only lower them, and 0 turns sessions off there.

/// The most signatures one session may ever make (Komfortsignatur's bound; the agent's own ceiling).
pub const MAX_SIGNATURES: u32 = 250;
/// The longest a session may ever last, in hours.
pub const MAX_HOURS: u32 = 24;
/// The card agent's limits where neither its configuration nor the facility set lower (D163): Komfortsignatur's
/// count (gematik: at most 250 signatures after one PIN)…
pub const DEFAULT_MAX_SIGNATURES: u32 = MAX_SIGNATURES;
/// …within the HPKI second certificate's signing state (18 hours).
pub const DEFAULT_MAX_HOURS: u32 = 18;

/// A facility's lower limits on signing sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SigningSessionLimit {
    max_signatures: u32,
    max_hours: u32,
}

/// Why a limit was refused; each says what to give.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SigningLimitError {
    /// Above the ceiling.
    #[error(
        "{what} {given} is above the most a signing session may have ({most}): give 0 to {most} (0 turns signing sessions off)"
    )]
    TooHigh {
        /// `max signatures` or `max hours`.
        what: &'static str,
        /// What was given.
        given: u32,
        /// The ceiling.
        most: u32,
    },
}

impl SigningSessionLimit {
    /// A limit of `max_signatures` signatures within `max_hours` hours; 0 in either turns sessions off.
    pub fn new(max_signatures: u32, max_hours: u32) -> Result<Self, SigningLimitError> {
        if max_signatures > MAX_SIGNATURES {
            return Err(SigningLimitError::TooHigh {
                what: "max signatures",
                given: max_signatures,
                most: MAX_SIGNATURES,
            });
        }
        if max_hours > MAX_HOURS {
            return Err(SigningLimitError::TooHigh { what: "max hours", given: max_hours, most: MAX_HOURS });
        }
        Ok(Self { max_signatures, max_hours })
    }

    /// At most this many signatures per session.
    pub const fn max_signatures(&self) -> u32 {
        self.max_signatures
    }

    /// Within this many hours of its first signature.
    pub const fn max_hours(&self) -> u32 {
        self.max_hours
    }

    /// Whether the facility turned signing sessions off (every signature asks the PIN).
    pub const fn is_off(&self) -> bool {
        self.max_signatures == 0 || self.max_hours == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_up_to_the_ceiling_and_zero_turns_sessions_off() {
        let l = SigningSessionLimit::new(50, 8).unwrap();
        assert_eq!((l.max_signatures(), l.max_hours(), l.is_off()), (50, 8, false));
        assert!(SigningSessionLimit::new(0, 8).unwrap().is_off());
        assert!(SigningSessionLimit::new(250, 0).unwrap().is_off());
        let e = SigningSessionLimit::new(251, 8).unwrap_err();
        assert!(e.to_string().contains("give 0 to 250"), "{e}");
        assert!(matches!(SigningSessionLimit::new(10, 25), Err(SigningLimitError::TooHigh { most: 24, .. })));
    }
}
