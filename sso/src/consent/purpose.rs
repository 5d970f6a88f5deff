//! Who asks for a consent and for what: the requester (a service or the portal) and the purpose it declares.

use super::ConsentError;

/// The client id the portal's own requests are stored under: it has a colon, which the check below keeps out
/// of services' ids, so no registered service can read or move the portal's consents.
pub const PORTAL_CLIENT: &str = "hcpki:portal";

/// Who asked for the consent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Requester {
    /// A relying service registered as an OIDC client (its client id).
    Service(String),
    /// The portal's own page.
    Portal,
}

impl Requester {
    /// A service by its (authenticated) client id.
    pub fn service(client_id: &str) -> Result<Self, ConsentError> {
        if client_id.is_empty() || client_id.contains(':') {
            return Err(ConsentError::ReservedClient(client_id.to_owned()));
        }
        Ok(Self::Service(client_id.to_owned()))
    }

    /// The client id stored.
    pub fn client_id(&self) -> &str {
        match self {
            Self::Service(id) => id,
            Self::Portal => PORTAL_CLIENT,
        }
    }
}

/// A purpose's name, as the service declares it (e.g. `record-link`, `disclosure.hospital-b`): what a consent
/// is for, and with the service and the patient what the live consent is looked up by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Purpose(String);

impl Purpose {
    /// Parse a purpose name: 1–64 of `a-z 0-9 . _ -`, starting with a letter or digit.
    pub fn parse(text: &str) -> Result<Self, ConsentError> {
        let first_ok = text.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        let ok = first_ok
            && text.len() <= 64
            && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        if ok { Ok(Self(text.to_owned())) } else { Err(ConsentError::Purpose(text.chars().take(80).collect())) }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
