//! One of the person's sessions as the self-service page shows it: what the handler gathers and the page
//! renders, a leaf below both.

use hcpki_sso::policy::Credential;
use hcpki_sso::session::Session;

/// One session as the person's page shows it.
#[derive(Debug)]
pub struct Row {
    /// The opaque handle forms name it by.
    pub handle: String,
    /// When its credential was checked (Unix seconds).
    pub started: i64,
    /// When it ends by itself.
    pub expires: i64,
    /// How it signed in.
    pub sign_in: SignIn,
    /// The facility at login: its ID and, if still registered, its name.
    pub facility: Option<(String, Option<String>)>,
    /// The facility PC certificate of the login (subject DN, serial), when the registry has it.
    pub device: Option<String>,
    /// The services (and their clients) holding live grants from it.
    pub services: Vec<String>,
    /// Whether it is the session of this request.
    pub current: bool,
}

/// How a session signed in, as the page names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignIn {
    /// A card and its PIN, at a facility PC presenting its certificate (the highest assurance).
    CardPinFacility,
    /// A card and its PIN, without a facility certificate.
    CardPin,
    /// Password and TOTP code (with or without a facility certificate).
    PasswordTotp,
    /// A passkey of a password + TOTP account (with or without a facility certificate).
    Passkey,
}

impl SignIn {
    pub(super) fn of(session: &Session) -> Self {
        match (session.subject.credential(), session.facility_id.is_some()) {
            (Credential::PasswordTotp, _) => Self::PasswordTotp,
            (Credential::Passkey, _) => Self::Passkey,
            (Credential::Hpki | Credential::Jpki, true) => Self::CardPinFacility,
            (Credential::Hpki | Credential::Jpki, false) => Self::CardPin,
        }
    }
}
