//! The classes of requests the rate limits count apart: a leaf that the limiter and the metrics read without
//! reaching back into the guard.

/// What is limited, each with its own per-address budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    /// EST, SCEP, ACME and facility applications.
    Enroll,
    /// OCSP requests and CRL downloads.
    Revocation,
    /// The portal's password and card sign-in posts.
    Login,
}

impl Class {
    /// All classes, in metric order.
    pub const ALL: [Class; 3] = [Class::Enroll, Class::Revocation, Class::Login];

    /// The metric label and audit target.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enroll => "enroll",
            Self::Revocation => "revocation",
            Self::Login => "login",
        }
    }
}
