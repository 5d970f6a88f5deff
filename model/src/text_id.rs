//! The text form shared by the ids that are a checked `String` (ACME account and order ids, the SSO side's
//! consent, signing-request and delegation ids): each type has its own rule (`parse`), and this writes the rest
//! once — the text, `Debug` as the `String` it replaced (so logs and messages stay the same), `Display`,
//! `FromStr`, serde through `String`.

/// The impls of a `pub struct $name(String)` whose `parse(&str) -> Result<Self, $err>` holds its rule.
macro_rules! text_id_impls {
    ($name:ident, $err:ty) => {
        impl $name {
            /// The text, as in URLs and the database.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        /// Debug-formatted as the text, as the `String` it replaces was, so logs and messages stay the same.
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(&self.0, f)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = $err;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        /// Read back from storage or a serialized document: the text it was written as.
        impl TryFrom<String> for $name {
            type Error = $err;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
    };
}
pub(crate) use text_id_impls;
