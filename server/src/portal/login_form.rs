//! The sign-in forms anyone on the network can post (`POST /login`, `POST /login/card`), parsed into typed
//! values before any I/O (issue #24 item 5): a field that cannot be what the portal's own pages send is refused
//! here, with a message saying what is wrong, and nothing of its value goes further: not to the database, not
//! to argon2, not to the audit log. Pure functions over the decoded form: the caller audits and answers.

use hcpki_sso::accounts::{MAX_PASSWORD_BYTES, Username};
use hcpki_sso::login::CardKind;
use zeroize::Zeroizing;

/// Longest `return_to` kept (an `/authorize?…` query of the portal's own making, far shorter in practice).
pub const MAX_RETURN_TO: usize = 2048;
/// Longest token-like field of the card form (CSRF token, challenge id): each is 43–64 characters.
const MAX_TOKEN: usize = 128;
/// Longest signature, in base64 characters: an RSA-4096 signature is 684.
const MAX_SIGNATURE: usize = 1024;
/// Digits of a TOTP code.
const TOTP_DIGITS: usize = 6;
/// Longest sealed enrolment offer: base64 of nonce, 28 bytes and tag is under 100 characters.
const MAX_OFFER: usize = 256;

/// `POST /login` as sent: every field optional, so a missing one is refused here with the others.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct RawPasswordLogin {
    username: String,
    password: String,
    totp: String,
    return_to: Option<String>,
}

/// A password + TOTP sign-in whose fields can be an account's.
#[derive(Debug)]
pub struct PasswordLogin {
    /// The account name.
    pub username: Username,
    /// The password, at most [`MAX_PASSWORD_BYTES`].
    pub password: Zeroizing<String>,
    /// Six digits, or empty: a person whose account's second factor was never set up has no code yet (the
    /// sign-in then walks them through it, D161; for any other account an empty code is a wrong one).
    pub totp: String,
    /// Where to go after the login (still checked by `safe_return`).
    pub return_to: Option<String>,
}

/// `POST /login/enrol` as sent: the first code of the secret the set-up page showed.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct RawEnrolment {
    username: String,
    offer: String,
    totp: String,
    return_to: Option<String>,
}

/// A second-factor set-up's confirmation whose fields have the shapes the set-up page sends.
#[derive(Debug)]
pub struct Enrolment {
    /// The account.
    pub username: Username,
    /// The sealed offer the page carried ([`hcpki_sso::enrolment::Offer::seal`]).
    pub offer: String,
    /// Six digits.
    pub totp: String,
    /// Where to go after the login.
    pub return_to: Option<String>,
}

/// `POST /login/card` as sent.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct RawCardLogin {
    csrf: String,
    challenge_id: String,
    kind: String,
    signature: String,
    chain: String,
    // No card id: the session's is derived from the verified certificate (item 4); a posted one is ignored.
    return_to: Option<String>,
}

/// A card sign-in whose fields have the shapes the login page's script sends. The chain is bounded by the
/// route's body limit and decoded by [`hcpki_sso::login::answer::decode`].
#[derive(Debug)]
pub struct CardLogin {
    /// The pre-login CSRF token.
    pub csrf: String,
    /// The challenge (base64url) the card signed.
    pub challenge_id: String,
    /// The button pressed (audited; the chain decides what the card is).
    pub kind: CardKind,
    /// Base64 signature from the agent.
    pub signature: String,
    /// Base64 DER certificates, card certificate first, comma-separated.
    pub chain: String,
    /// Where to go after the login.
    pub return_to: Option<String>,
}

/// Why a sign-in form was refused before anything was looked up. Each message is Japanese first, then
/// English, and says what the form must hold; none repeats what was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Malformed {
    /// The user name breaks the account rule.
    #[error(
        "ユーザー名は a-z 0-9 . _ - @ の 1〜64 文字です。 / The user name must be 1–64 characters of a-z 0-9 . _ - @."
    )]
    Username,
    /// The password is empty or longer than any account's.
    #[error("パスワードが空か長すぎます(最大 1024 バイト)。 / The password is empty or too long (at most 1024 bytes).")]
    Password,
    /// The code is not six digits.
    #[error("確認コードは 6 桁の数字です。 / The code must be 6 digits.")]
    Code,
    /// `return_to` is too long.
    #[error(
        "戻り先が長すぎます: ログインページを開き直してください。 / return_to is too long: open the login page again."
    )]
    ReturnTo,
    /// `kind` is neither `hpki` nor `jpki`.
    #[error("カードの種類は hpki か jpki です。 / kind must be hpki or jpki.")]
    CardKind,
    /// A field of the card form is missing or too long.
    #[error(
        "カードログインのフォームが不正です: ログインページを開き直してください。 / The card login form is malformed: open the login page again."
    )]
    CardField(&'static str),
    /// The set-up page's sealed offer is missing or cannot be one the portal made.
    #[error(
        "二要素の設定フォームが不正です: もう一度ログインしてください。 / The second-factor set-up form is malformed: sign in again."
    )]
    Offer,
}

impl Malformed {
    /// The field refused, for the audit entry.
    pub fn field(self) -> &'static str {
        match self {
            Self::Username => "username",
            Self::Password => "password",
            Self::Code => "totp",
            Self::ReturnTo => "return_to",
            Self::CardKind => "kind",
            Self::CardField(f) => f,
            Self::Offer => "offer",
        }
    }
}

impl RawPasswordLogin {
    /// The typed form, or the first field that cannot be an account's. The user name and the code are read as
    /// typed through an IME (`crate::typed_input`: full-width characters, `Alice`, `123-456`); the password is
    /// taken exactly as sent.
    pub fn parse(self) -> Result<PasswordLogin, Malformed> {
        let username = Username::parse(&self.user_name_as_read()).ok_or(Malformed::Username)?;
        if self.password.is_empty() || self.password.len() > MAX_PASSWORD_BYTES {
            return Err(Malformed::Password);
        }
        let totp = crate::typed_input::digits(&self.totp);
        if !totp.is_empty() {
            six_digits(&totp)?;
        }
        let return_to = bounded_return_to(self.return_to)?;
        Ok(PasswordLogin { username, password: Zeroizing::new(self.password), totp, return_to })
    }

    /// Where the login was to go on to, as sent (still to be checked by `safe_return`).
    pub fn return_to(&self) -> Option<&str> {
        self.return_to.as_deref()
    }

    /// The user name as the sign-in reads it: what a page asking again shows in the field (the person's own
    /// typing, never anything looked up).
    pub fn user_name_as_read(&self) -> String {
        crate::typed_input::user_name(&self.username)
    }
}

impl RawEnrolment {
    /// The typed form, or the first field the set-up page could not have sent.
    pub fn parse(self) -> Result<Enrolment, Malformed> {
        let username = Username::parse(&crate::typed_input::user_name(&self.username)).ok_or(Malformed::Username)?;
        let totp = crate::typed_input::digits(&self.totp);
        six_digits(&totp)?;
        // Base64url without padding, as `hcpki_pkix::seal` writes.
        let sealed_chars = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_');
        if self.offer.is_empty() || self.offer.len() > MAX_OFFER || !self.offer.bytes().all(sealed_chars) {
            return Err(Malformed::Offer);
        }
        let return_to = bounded_return_to(self.return_to)?;
        Ok(Enrolment { username, offer: self.offer, totp, return_to })
    }
}

/// A TOTP code: six ASCII digits once read as typed.
fn six_digits(code: &str) -> Result<(), Malformed> {
    if code.len() != TOTP_DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Malformed::Code);
    }
    Ok(())
}

impl RawCardLogin {
    /// The typed form, or the first field the login page's script could not have sent.
    pub fn parse(self) -> Result<CardLogin, Malformed> {
        let kind: CardKind = self.kind.parse().map_err(|_| Malformed::CardKind)?;
        for (field, value, max) in [
            ("csrf", &self.csrf, MAX_TOKEN),
            ("challenge_id", &self.challenge_id, MAX_TOKEN),
            ("signature", &self.signature, MAX_SIGNATURE),
        ] {
            if value.is_empty() || value.len() > max {
                return Err(Malformed::CardField(field));
            }
        }
        let return_to = bounded_return_to(self.return_to)?;
        Ok(CardLogin {
            csrf: self.csrf,
            challenge_id: self.challenge_id,
            kind,
            signature: self.signature,
            chain: self.chain,
            return_to,
        })
    }
}

fn bounded_return_to(return_to: Option<String>) -> Result<Option<String>, Malformed> {
    match return_to {
        Some(r) if r.len() > MAX_RETURN_TO => Err(Malformed::ReturnTo),
        r => Ok(r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn password(username: &str, password: &str, totp: &str) -> RawPasswordLogin {
        RawPasswordLogin { username: username.into(), password: password.into(), totp: totp.into(), return_to: None }
    }

    #[test]
    fn password_logins_follow_the_account_rule() {
        let ok = password("alice.b-c_d@x", "correct horse", " 123456 ").parse().unwrap();
        assert_eq!((ok.username.as_str(), ok.totp.as_str()), ("alice.b-c_d@x", "123456"));
        // As typed through a Japanese IME: capitals, full-width letters and digits, a dash in the code.
        for (user, code) in [("Alice", "１２３４５６"), ("Ａｌｉｃｅ", "123-456"), (" alice ", "１２３ー４５６")]
        {
            let ok = password(user, "correct horse", code).parse().unwrap();
            assert_eq!((ok.username.as_str(), ok.totp.as_str()), ("alice", "123456"), "{user} {code}");
        }
        for (raw, refused) in [
            (password("", "pw", "123456"), Malformed::Username),
            (password(&"a".repeat(65), "pw", "123456"), Malformed::Username),
            (password("al\nice", "pw", "123456"), Malformed::Username),
            (password("アリス", "pw", "123456"), Malformed::Username),
            (password("alice", "", "123456"), Malformed::Password),
            (password("alice", &"p".repeat(1025), "123456"), Malformed::Password),
            (password("alice", "pw", "12345"), Malformed::Code),
            (password("alice", "pw", "12345a"), Malformed::Code),
            (password("alice", "pw", "1234567"), Malformed::Code),
        ] {
            assert_eq!(raw.parse().unwrap_err(), refused);
        }
        // No code at all: the person of an account never set up has none yet (D161).
        assert_eq!(password("alice", "pw", "").parse().unwrap().totp, "");
        let long = RawPasswordLogin { return_to: Some("/".repeat(MAX_RETURN_TO + 1)), ..password("a", "p", "000000") };
        assert_eq!(long.parse().unwrap_err(), Malformed::ReturnTo);
    }

    #[test]
    fn enrolments_take_a_code_and_a_sealed_offer() {
        let raw = |offer: &str, totp: &str| RawEnrolment {
            username: "Alice".into(),
            offer: offer.into(),
            totp: totp.into(),
            return_to: None,
        };
        let ok = raw("AbC-_", "１２３４５６").parse().unwrap();
        assert_eq!((ok.username.as_str(), ok.totp.as_str(), ok.offer.as_str()), ("alice", "123456", "AbC-_"));
        assert_eq!(raw("AbC", "").parse().unwrap_err(), Malformed::Code);
        for offer in ["", "a b", "<x>", "AbC=", &"a".repeat(MAX_OFFER + 1)] {
            assert_eq!(raw(offer, "123456").parse().unwrap_err().field(), "offer", "{offer}");
        }
    }

    #[test]
    fn card_logins_take_a_typed_kind_and_bounded_fields() {
        let raw = |kind: &str, csrf: &str| RawCardLogin {
            csrf: csrf.into(),
            challenge_id: "x".repeat(43),
            kind: kind.into(),
            signature: "AQI=".into(),
            chain: "AwQ=".into(),
            return_to: None,
        };
        assert_eq!(raw("jpki", &"c".repeat(43)).parse().unwrap().kind, CardKind::Jpki);
        assert_eq!(raw("hpki", &"c".repeat(43)).parse().unwrap().kind, CardKind::Hpki);
        for kind in ["", "HPKI", "evil", &"e".repeat(10_000)] {
            assert_eq!(raw(kind, &"c".repeat(43)).parse().unwrap_err(), Malformed::CardKind);
        }
        assert_eq!(raw("hpki", &"0".repeat(129)).parse().unwrap_err(), Malformed::CardField("csrf"));
        assert_eq!(raw("hpki", "").parse().unwrap_err().field(), "csrf");
    }
}
