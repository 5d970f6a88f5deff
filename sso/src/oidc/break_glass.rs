//! Break-glass (D94): an authorization request with purpose of use `EMER`, for a service whose rules accept it,
//! from a card login with an hcRole, goes through a confirmation page where the person gives a reason; only then
//! is a code issued. The grant, the tokens and the audit say so (`oidc.break_glass`, a distinct action the
//! facility's administrators and the operators review), and an optional webhook is told.
//!
//! HTTP-free: who may break the glass ([`eligible`]), the reason as typed ([`Reason::parse`]), the request kept
//! while the page is open ([`Pending`]). `oidc::authorize` decides, the portal's page (`portal::break_glass`)
//! asks.

use crate::policy::{Credential, Subject};

/// The audit action of a break-glass use and of a refused one (outcome `ok` or `denied`).
pub const AUDIT_ACTION: &str = "oidc.break_glass";
/// The kind of the single-use entry that keeps an authorization request while its confirmation page is open.
pub const PENDING_KIND: &str = "break-glass";
/// The confirmation page's path.
pub const PAGE_PATH: &str = "/break-glass";
/// The longest reason kept, in characters.
pub const MAX_REASON_CHARS: usize = 500;
/// The shortest reason taken, in characters: a word or two, not a keystroke.
pub const MIN_REASON_CHARS: usize = 4;

/// What a grant made by break-glass records (`GrantData::break_glass`): the tokens say so.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BreakGlass {
    /// The reason the person gave (kept in the grant and the audit, never put in a token).
    pub reason: String,
    /// When the person confirmed (Unix seconds).
    pub confirmed_at: i64,
}

/// The `break_glass` claim of the access and ID tokens: that the grant was break-glass, and when it was
/// confirmed; the reason stays in the audit log (it may name a patient's condition).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BreakGlassClaim {
    /// When the person confirmed (Unix seconds).
    pub confirmed_at: i64,
}

impl From<&BreakGlass> for BreakGlassClaim {
    fn from(b: &BreakGlass) -> Self {
        Self { confirmed_at: b.confirmed_at }
    }
}

/// Why a login may not break the glass; the text is the refusal's `error_description` and audit reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Ineligible {
    /// A password (+ TOTP) login: break-glass needs the person's card.
    #[error("break-glass (purpose_of_use EMER) needs a login with an HPKI card: sign in with your card and try again")]
    NotACard,
    /// A card login without an hcRole (a JPKI card, an HPKI card of administrative staff).
    #[error(
        "break-glass (purpose_of_use EMER) needs an HPKI card with a healthcare qualification (hcRole); this card carries none"
    )]
    NoRole,
}

impl Ineligible {
    /// A short code for the audit entry.
    pub fn code(self) -> &'static str {
        match self {
            Self::NotACard => "not_a_card_login",
            Self::NoRole => "no_hc_role",
        }
    }
}

/// Whether `subject` may break the glass: an HPKI card login with an hcRole.
pub fn eligible(subject: &Subject) -> Result<(), Ineligible> {
    match (subject.credential(), subject.role()) {
        (Credential::Hpki, Some(_)) => Ok(()),
        // Emergency access needs the card's qualification: a passkey is a staff account's, whatever its role.
        (Credential::PasswordTotp | Credential::Passkey, _) => Err(Ineligible::NotACard),
        (Credential::Hpki | Credential::Jpki, None) => Err(Ineligible::NoRole),
        // A JPKI subject cannot carry a role; kept explicit for the compiler.
        (Credential::Jpki, Some(_)) => Err(Ineligible::NoRole),
    }
}

/// A reason as the person typed it, checked: trimmed, [`MIN_REASON_CHARS`] to [`MAX_REASON_CHARS`] characters,
/// no control characters but line breaks and tabs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason(String);

/// Why a reason is refused; the page shows it beside the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReasonError {
    /// Empty or too short.
    #[error("give the reason for the emergency access (at least {MIN_REASON_CHARS} characters)")]
    TooShort,
    /// Too long.
    #[error("the reason is too long: at most {MAX_REASON_CHARS} characters")]
    TooLong,
    /// Control characters.
    #[error("the reason contains control characters: type plain text")]
    Control,
}

impl Reason {
    /// Check a reason typed into the page.
    pub fn parse(text: &str) -> Result<Self, ReasonError> {
        let text = text.trim();
        let chars = text.chars().count();
        if chars < MIN_REASON_CHARS {
            return Err(ReasonError::TooShort);
        }
        if chars > MAX_REASON_CHARS {
            return Err(ReasonError::TooLong);
        }
        if text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            return Err(ReasonError::Control);
        }
        Ok(Self(text.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A confirmed break-glass the portal's page hands to `/authorize`'s core: the reason, and the session that
/// confirmed it (the request is only good for that session).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Confirmed {
    /// The reason given.
    pub reason: Reason,
    /// The confirming session's id hash.
    pub session_hash: String,
}

/// An authorization request kept while its confirmation page is open (single use, `PENDING_KIND`): its
/// parameters and the session it was made in.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pending {
    /// The authorization request's parameters (a pushed request's, already taken).
    pub params: std::collections::HashMap<String, String>,
    /// The session's id hash.
    pub session_hash: String,
    /// When the entry expires (Unix seconds): the page puts it back with the same deadline after reading it.
    pub expires_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::HcRole;

    #[test]
    fn only_card_holders_with_a_role_may_break_the_glass() {
        assert_eq!(eligible(&Subject::hpki("医師", Some(HcRole::MedicalDoctor))), Ok(()));
        assert_eq!(eligible(&Subject::hpki("事務", None)), Err(Ineligible::NoRole));
        assert_eq!(eligible(&Subject::jpki("JPKI利用者")), Err(Ineligible::NoRole));
        let nurse = Subject::password_totp("看護師", Some(HcRole::Nurse));
        assert_eq!(eligible(&nurse), Err(Ineligible::NotACard));
        // A passkey of an account whose record says doctor is still no card (D157).
        let passkey = Subject::passkey("医師(パスキー)", Some(HcRole::MedicalDoctor));
        assert_eq!(eligible(&passkey), Err(Ineligible::NotACard));
        assert!(Ineligible::NotACard.to_string().contains("HPKI card"));
    }

    #[test]
    fn reasons_are_plain_text_of_a_sensible_length() {
        assert_eq!(Reason::parse("  救急搬送患者の既往歴確認 ").unwrap().as_str(), "救急搬送患者の既往歴確認");
        assert_eq!(Reason::parse("心肺停止\n家族不在").unwrap().as_str(), "心肺停止\n家族不在");
        assert_eq!(Reason::parse("   "), Err(ReasonError::TooShort));
        assert_eq!(Reason::parse("急"), Err(ReasonError::TooShort));
        assert_eq!(Reason::parse(&"あ".repeat(MAX_REASON_CHARS)).map(|r| r.0.chars().count()), Ok(500));
        assert_eq!(Reason::parse(&"あ".repeat(MAX_REASON_CHARS + 1)), Err(ReasonError::TooLong));
        assert_eq!(Reason::parse("急患\u{0}です"), Err(ReasonError::Control));
    }
}
