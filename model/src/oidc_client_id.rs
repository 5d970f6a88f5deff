//! An OpenID Connect client's `client_id` (D24): 1 to 128 printable ASCII characters without spaces, as
//! `hcpki oidc client add` registers it and the `oidc_clients.id` column stores it.

use std::fmt;

/// The longest client id registered.
const MAX_LEN: usize = 128;

/// A registered client's id such as `records-app`, held exactly as stored and as its requests send it.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OidcClientId(String);

/// A text that is no client id. No client can be registered under it, so a lookup of it finds none; a
/// registration or an operator's command shows it with the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("client id {0:?}: use 1 to 128 printable ASCII characters without spaces")]
pub struct InvalidOidcClientId(pub String);

impl OidcClientId {
    /// The id written exactly as registered: no trimming, no case folding.
    pub fn parse(text: &str) -> Result<Self, InvalidOidcClientId> {
        if !text.is_empty() && text.len() <= MAX_LEN && text.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(Self(text.to_owned()))
        } else {
            Err(InvalidOidcClientId(text.to_owned()))
        }
    }

    /// The stored text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Debug-formatted as the text, as the `String` it replaces was, so logs and messages stay the same.
impl fmt::Debug for OidcClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for OidcClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for OidcClientId {
    type Err = InvalidOidcClientId;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// Serialized as the text, as the `String` it replaces was (the admin API's JSON is unchanged).
impl serde::Serialize for OidcClientId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_ids_parse_and_others_do_not() {
        for good in ["records-app", "a", "https://rp.example/cb", &"x".repeat(MAX_LEN)] {
            assert_eq!(OidcClientId::parse(good).map(|id| id.to_string()), Ok(good.to_owned()), "{good:?}");
        }
        for bad in ["", " app", "app ", "a b", "\u{3042}", "tab\t", &"x".repeat(MAX_LEN + 1)] {
            assert_eq!(OidcClientId::parse(bad), Err(InvalidOidcClientId(bad.to_owned())), "{bad:?}");
        }
    }
}
