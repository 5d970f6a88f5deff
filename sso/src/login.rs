//! HPKI / JPKI card login, server side: given what the browser posts after the local card agent signed, decide
//! "this is person X, qualified as Y" or refuse with a reason the user can act on (issue #6, decision D23).
//!
//! ```text
//! login page ──▶ challenge::issue (32 random bytes, bound to the browser session and origin, stored)
//! agent signs login_message(origin, challenge) with the card's authentication key
//! POST ──▶ challenge::take (single use, any replica) ──▶ CardVerifier::verify
//!            signature over the rebuilt message · path to a configured HPKI or JPKI anchor · key usage ·
//!            revocation from the CRL cache (never fetched here) · hcRole ──▶ VerifiedCard { Subject, … }
//! caller ──▶ audit_event(result) appended as `login.card`
//! ```
//!
//! No HTTP here: the portal's handlers call [`challenge::issue`], [`challenge::take`], [`answer::decode`] and
//! [`CardVerifier::verify`], then start the SSO session. `hcpki login challenge|verify` drive the same code
//! from the command line (tests, operators checking a card).

pub mod answer;
pub mod audit;
pub mod card;
pub mod challenge;
pub mod crl_cache;
mod error;
pub mod hc_role;
#[cfg(test)]
mod tests;
pub mod trust;

pub use audit::audit_event;
pub use card::{CardKind, CardVerifier, VerifiedCard};
#[cfg(any(test, feature = "test-support", feature = "fuzzing"))]
pub use challenge::Challenge;
pub use crl_cache::{CrlCache, RevocationPolicy};
pub use error::CardLoginError;
pub use trust::TrustAnchors;
