//! Why the portal asks a card's **authentication key** to sign a challenge, as the agent's protocol carries it
//! (`POST /v1/sign` `{"purpose": "login" | "identification"}`) and as the signed message binds it.
//!
//! The agent's PIN page tells the person what they are doing from this value, never from a page's text. A page
//! of an allowed origin could still *claim* another purpose than the one its portal will use the signature for
//! (say "受付での本人確認" for what is really a login): so the purpose is also the signed message's domain
//! separator. The portal rebuilds the message with the context of what it checks (a login, or a patient's
//! identification at reception), and a signature the agent obtained under the other purpose does not verify
//! (`sso::login::CardVerifier::verify_as`). What the patient read is what the card signed for.

/// What a challenge signature with the authentication key is for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuthPurpose {
    /// A card login to the portal (a physician's HPKI card, or a My Number card login): the default, so an agent
    /// request without `purpose` means what it meant before the field existed.
    #[default]
    Login,
    /// A patient identified at reception with the My Number card's user-authentication certificate and its
    /// 4-digit PIN (`/patients/identify`): nobody logs in.
    Identification,
}

/// Domain separator of every message the agent has a card sign for a login.
pub const LOGIN_CONTEXT: &[u8] = b"hcpki card login v1";

/// The message a card signs for a login: `"hcpki card login v1" 00 origin 00 challenge`.
///
/// The agent never signs a caller's bytes as they are: binding the requesting origin and a fixed
/// context means a page of another site cannot obtain a signature usable at the portal, and the card
/// key cannot be made to sign a document hash or a TLS handshake through the agent. The portal
/// rebuilds the same message from its own origin and the challenge it issued.
/// Other uses of the authentication key sign the same layout under their own context ([`AuthPurpose`]).
pub fn login_message(origin: &str, challenge: &[u8]) -> Vec<u8> {
    AuthPurpose::Login.message(origin, challenge)
}

/// Domain separator of a patient identification's message (a login's is [`LOGIN_CONTEXT`]).
pub const IDENTIFICATION_CONTEXT: &[u8] = b"hcpki patient identification v1";

impl AuthPurpose {
    /// The value on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthPurpose::Login => "login",
            AuthPurpose::Identification => "identification",
        }
    }

    /// The domain separator the signed message starts with.
    pub fn context(self) -> &'static [u8] {
        match self {
            AuthPurpose::Login => LOGIN_CONTEXT,
            AuthPurpose::Identification => IDENTIFICATION_CONTEXT,
        }
    }

    /// The message the card signs: `context 00 origin 00 challenge` ([`login_message`] for a login).
    pub fn message(self, origin: &str, challenge: &[u8]) -> Vec<u8> {
        let context = self.context();
        let mut m = Vec::with_capacity(context.len() + origin.len() + challenge.len() + 2);
        m.extend_from_slice(context);
        m.push(0);
        m.extend_from_slice(origin.as_bytes());
        m.push(0);
        m.extend_from_slice(challenge);
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_purpose_signs_a_message_of_its_own() {
        let login = AuthPurpose::Login.message("https://p.example", b"\x01");
        let identify = AuthPurpose::Identification.message("https://p.example", b"\x01");
        assert_eq!(login, login_message("https://p.example", b"\x01"));
        assert_eq!(identify, b"hcpki patient identification v1\0https://p.example\0\x01");
        assert_ne!(login, identify);
        assert!(!identify.starts_with(LOGIN_CONTEXT) && !login.starts_with(IDENTIFICATION_CONTEXT));
    }

    #[test]
    fn only_the_named_purposes_parse() {
        let parse = |s: &str| serde_json::from_str::<AuthPurpose>(s);
        assert_eq!(parse("\"identification\"").unwrap(), AuthPurpose::Identification);
        assert_eq!(parse("\"login\"").unwrap(), AuthPurpose::Login);
        for free_text in ["\"受付での本人確認\"", "\"Identification\"", "\"consent\"", "\"\""] {
            assert!(parse(free_text).is_err(), "{free_text}");
        }
        assert_eq!(AuthPurpose::default(), AuthPurpose::Login);
        assert_eq!(AuthPurpose::Identification.as_str(), "identification");
    }
}
