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
    /// A patient agrees to (or withdraws) a consent the agent has shown, with the user-authentication key and its
    /// 4-digit PIN, where the consent's template asks for no signature (D130 item 3). Only `POST /v1/documents`
    /// signs it, over [`consent_challenge`] of the portal's challenge and the SHA-256 of the document the agent
    /// showed; `POST /v1/sign` refuses it, since there the agent shows no document.
    Consent,
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

/// Domain separator of a patient's consent given with the authentication key.
pub const CONSENT_CONTEXT: &[u8] = b"hcpki patient consent v1";

/// What a consent by authentication binds in the message's challenge part: the portal's single-use challenge,
/// then the SHA-256 of the document the agent showed (so the answer agrees to that document and no other, once).
pub fn consent_challenge(challenge: &[u8], document_sha256: &[u8; 32]) -> Vec<u8> {
    let mut bound = Vec::with_capacity(challenge.len() + 32);
    bound.extend_from_slice(challenge);
    bound.extend_from_slice(document_sha256);
    bound
}

impl AuthPurpose {
    /// The value on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthPurpose::Login => "login",
            AuthPurpose::Identification => "identification",
            AuthPurpose::Consent => "consent",
        }
    }

    /// The domain separator the signed message starts with.
    pub fn context(self) -> &'static [u8] {
        match self {
            AuthPurpose::Login => LOGIN_CONTEXT,
            AuthPurpose::Identification => IDENTIFICATION_CONTEXT,
            AuthPurpose::Consent => CONSENT_CONTEXT,
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
        let consent = AuthPurpose::Consent.message("https://p.example", &consent_challenge(b"\x01", &[7; 32]));
        assert!(consent.starts_with(b"hcpki patient consent v1\0https://p.example\0\x01\x07"));
        assert_eq!(consent.len(), CONSENT_CONTEXT.len() + 1 + 17 + 1 + 1 + 32);
    }

    #[test]
    fn only_the_named_purposes_parse() {
        let parse = |s: &str| serde_json::from_str::<AuthPurpose>(s);
        assert_eq!(parse("\"identification\"").unwrap(), AuthPurpose::Identification);
        assert_eq!(parse("\"login\"").unwrap(), AuthPurpose::Login);
        assert_eq!(parse("\"consent\"").unwrap(), AuthPurpose::Consent);
        for free_text in ["\"受付での本人確認\"", "\"Identification\"", "\"Consent\"", "\"\""] {
            assert!(parse(free_text).is_err(), "{free_text}");
        }
        assert_eq!(AuthPurpose::default(), AuthPurpose::Login);
        assert_eq!(AuthPurpose::Identification.as_str(), "identification");
    }
}
