//! Acting for a physician (issue #29 item 4, D95); token exchange (item 5, D96), which builds on it and on the OIDC
//! core, is `crate::token_exchange`.
//!
//! A physician signed in with an HPKI card that carries an hcRole, at a facility PC, delegates to a named staff
//! account (a 医師事務作業補助者, say) for a bounded time and a set of services ([`rules`]). The staff member
//! chooses on the portal to act for the physician; from then on their sign-ins to those services, in sessions at
//! the same facility, carry both people in the RFC 8693 `act` shape ([`acting`], [`act`]): the physician is the
//! principal (`sub`), the staff member the actor (`act.sub`). Services decide what a delegate may do from that.
//!
//! HTTP-free, and below the OIDC core: the portal's pages (`server::portal::delegation`), the authorization endpoint
//! and token exchange call in here.

pub mod act;
pub mod acting;
pub mod rules;

/// The audit actions (both people named in every entry's detail).
pub mod action {
    /// A delegation made (or refused) from the portal.
    pub const CREATE: &str = "delegation.create";
    /// A delegation ended by its physician (or an attempt refused).
    pub const END: &str = "delegation.end";
    /// A staff session chose to act under a delegation, or stopped.
    pub const CHOOSE: &str = "delegation.choose";
    /// A sign-in acting under a delegation (allowed or refused).
    pub const USE: &str = "delegation.use";
}

/// The person key of a password + TOTP account (D34): what a delegation's staff member signs in as.
pub fn account_key(username: &str) -> String {
    format!("pwd:{username}")
}

/// The account name of a password + TOTP person key.
pub fn account_of(person_key: &str) -> Option<&str> {
    person_key.strip_prefix("pwd:")
}
