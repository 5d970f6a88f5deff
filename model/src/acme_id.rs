//! ACME account and order identifiers (D128): 32 lower-case hex digits, the 128 random bits the CA drew when it
//! made the account or order. They appear in URLs (`<base>/acct/<id>`, `<base>/order/<id>`), in the stored order
//! document and in audit actors (`acme:account:<id>`), always in this one text form.

/// How many random octets an ID holds (128 bits: unguessable, so an ID in a URL is no capability leak).
pub const ACME_ID_OCTETS: usize = 16;

/// A text that is no ACME account or order ID. At the HTTP edge it means "no such account/order", as a
/// well-formed but unknown ID does; read from the database, the row is damaged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is no ACME ID of this CA: expected 32 lower-case hexadecimal digits, as the CA's URLs carry them")]
pub struct InvalidAcmeId(pub String);

/// `text` if it is an ID this CA could have made: exactly 32 lower-case hex digits, no trimming or case folding
/// (an URL that differs from the one handed out is another URL).
fn checked(text: &str) -> Result<String, InvalidAcmeId> {
    if text.len() == 2 * ACME_ID_OCTETS && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(text.to_owned())
    } else {
        Err(InvalidAcmeId(text.to_owned()))
    }
}

/// The account and order IDs share their rule and text form but are different things: one type each, so an
/// order ID cannot be looked up as an account.
macro_rules! acme_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The ID made of `octets` drawn at random (the caller draws them: this crate holds no random source).
            pub fn from_random(octets: [u8; ACME_ID_OCTETS]) -> Self {
                Self(hex::encode(octets))
            }

            /// The ID written exactly as handed out.
            pub fn parse(text: &str) -> Result<Self, InvalidAcmeId> {
                checked(text).map(Self)
            }
        }

        crate::text_id::text_id_impls!($name, InvalidAcmeId);
    };
}

acme_id! {
    /// An ACME account's ID; its URL is `<base>/acct/<id>`.
    AcmeAccountId
}

acme_id! {
    /// An ACME order's ID; its URL is `<base>/order/<id>`, its authorizations' `<base>/authz/<id>.<n>`.
    AcmeOrderId
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drawn_id_parses_back_and_other_text_does_not() {
        let id = AcmeOrderId::from_random([0xab; ACME_ID_OCTETS]);
        assert_eq!(id.as_str(), "ab".repeat(16));
        assert_eq!(AcmeOrderId::parse(id.as_str()), Ok(id.clone()));
        assert_eq!(AcmeAccountId::parse(&"f".repeat(32)).map(String::from), Ok("f".repeat(32)));
        let long = "0".repeat(33);
        let upper = "A".repeat(32);
        let spaced = format!(" {}", "0".repeat(31));
        for bad in ["", "abc", &long, &upper, &spaced, "0123456789abcdef0123456789abcdeg"] {
            assert_eq!(AcmeAccountId::parse(bad), Err(InvalidAcmeId(bad.to_owned())), "{bad:?}");
        }
    }

    #[test]
    fn json_is_the_text_and_a_damaged_one_is_refused() {
        let id = AcmeAccountId::from_random([1; ACME_ID_OCTETS]);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{}\"", "01".repeat(16)));
        assert_eq!(serde_json::from_str::<AcmeAccountId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<AcmeAccountId>("\"acct-1\"").is_err());
    }
}
