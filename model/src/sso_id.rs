//! The SSO side's record ids (issue #43 item 3, D140): a patient's consent, a relying service's signing request
//! and a physician's delegation. The portal draws them at random (consents and signing requests: 32 octets as
//! 43 base64url characters; delegations: 16 octets as 32 hex digits, a subset of that alphabet) and they come
//! back in URLs (`/api/v1/consents/<id>`, `/sign/<id>`), forms and token requests. Each is parsed once where it
//! enters; a text that is none is refused there as malformed (400), never looked up.

/// The longest id accepted: every id drawn is 43 characters or fewer; the margin keeps ids made by earlier
/// versions or by tests (`"c1"`) readable, while a path segment of any length is refused before the database.
pub const MAX_SSO_ID_CHARS: usize = 64;

/// A text that is no consent, signing-request or delegation id. At an HTTP edge the request is refused as
/// malformed (400) with this text; read from the database, the row is damaged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} id {text:?}: use the id the portal gave (1 to 64 characters of A-Z, a-z, 0-9, - and _)")]
pub struct InvalidSsoId {
    /// What kind of id was expected ("consent", "signing request", "delegation").
    pub what: &'static str,
    /// The text given, at most 80 characters of it (it goes into an answer).
    pub text: String,
}

/// `text` if it is of the form the portal draws: 1 to 64 base64url characters, no trimming or case folding.
fn checked(text: &str, what: &'static str) -> Result<String, InvalidSsoId> {
    let ok = !text.is_empty()
        && text.len() <= MAX_SSO_ID_CHARS
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok { Ok(text.to_owned()) } else { Err(InvalidSsoId { what, text: text.chars().take(80).collect() }) }
}

/// The three ids share their rule and text form but name different things: one type each, so a delegation id
/// cannot be looked up as a consent.
macro_rules! sso_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// What the id names, in refusals.
            pub const WHAT: &'static str = $what;

            /// The id written exactly as handed out.
            pub fn parse(text: &str) -> Result<Self, InvalidSsoId> {
                checked(text, $what).map(Self)
            }
        }

        crate::text_id::text_id_impls!($name, InvalidSsoId);
    };
}

sso_id! {
    /// A patient's consent (issue #28): `/api/v1/consents/<id>`, `/consent/<id>`, a token request's `consent`.
    ConsentId, "consent"
}

sso_id! {
    /// A relying service's signing request (issue #27 item 3): `/api/v1/signing-requests/<id>`, `/sign/<id>`.
    SigningRequestId, "signing request"
}

sso_id! {
    /// A physician's delegation to a staff account (issue #29 item 4): the delegation page's forms, the `act`
    /// claim of a token issued under it.
    DelegationId, "delegation"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawn_ids_parse_and_other_text_does_not() {
        let drawn = "Qm9vay1vZi1saWZlLXdpdGgtNDMtY2hhcmFjdGVycy1f"; // 44 chars of base64url
        for good in [drawn, "c1", "0123456789abcdef0123456789abcdef", &"x".repeat(MAX_SSO_ID_CHARS)] {
            assert_eq!(ConsentId::parse(good).map(String::from), Ok(good.to_owned()), "{good:?}");
        }
        for bad in ["", " c1", "c1 ", "a.b", "a/b", "a%2Fb", "あ", "a+b=", &"x".repeat(MAX_SSO_ID_CHARS + 1)] {
            let e = SigningRequestId::parse(bad).unwrap_err();
            assert_eq!(e.what, "signing request", "{bad:?}");
            assert!(e.to_string().contains("the id the portal gave"), "{e}");
        }
        let long = "y".repeat(500);
        assert_eq!(DelegationId::parse(&long).unwrap_err().text.len(), 80, "the echo is bounded");
    }

    #[test]
    fn json_is_the_text_and_a_damaged_one_is_refused() {
        let id = DelegationId::parse("d1").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"d1\"");
        assert_eq!(serde_json::from_str::<DelegationId>("\"d1\"").unwrap(), id);
        assert!(serde_json::from_str::<DelegationId>("\"d 1\"").is_err());
    }
}
