//! The card presence report (D26): how the card agent tells the portal that the card a session logged in with
//! is still in its reader, or has left it.
//!
//! ```text
//! POST {portal origin}/presence          application/x-www-form-urlencoded
//!      token=<presence token>&card_id=<card id>&event=present|removed
//! 200  {"lease_secs": N}                 present: the lease is renewed for N seconds from now; report again
//!                                        well before (the agent renews at a third of it)
//! 204                                    removed: the session has ended (back-channel logout sent)
//! 400  {"error": {…}}                    malformed report: do not repeat it
//! 404  {"error": {…}}                    no live session for this token and card: forget the registration
//! other                                  transient: retry with backoff, never past the lease
//! ```
//!
//! The path is fixed: the agent reports to the origin of the page that registered the token and nowhere else.

/// The portal's path of presence reports.
pub const PATH: &str = "/presence";

/// The JSON member of a `present` answer carrying the lease, in seconds.
pub const LEASE_FIELD: &str = "lease_secs";

/// The longest lease a portal grants (`[portal] card_presence_secs` is clamped to 60–3600): an agent that has
/// not yet heard a lease assumes this one, so it never gives up before the portal would.
pub const MAX_LEASE_SECS: u64 = 3600;

/// The shortest lease a portal grants.
pub const MIN_LEASE_SECS: u64 = 60;

/// Length of a presence token: base64url (no padding) of a SHA-256 value.
pub const TOKEN_LEN: usize = 43;

/// Length of a card id: lower-case hex of the SHA-256 of the card's authentication certificate.
pub const CARD_ID_LEN: usize = 64;

/// What the agent reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// The card is in a reader: renew the lease.
    Present,
    /// The card left its reader: end the session.
    Removed,
}

impl Event {
    /// The form value.
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Present => "present",
            Event::Removed => "removed",
        }
    }

    /// The event a form value names.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "present" => Some(Event::Present),
            "removed" => Some(Event::Removed),
            _ => None,
        }
    }
}

/// Whether `token` has the form of a presence token (43 base64url characters). Checked by both sides, so a
/// page cannot make the agent carry arbitrary text to the portal.
pub fn valid_token(token: &str) -> bool {
    token.len() == TOKEN_LEN && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether `card_id` has the form of the agent's card ids (64 lower-case hex digits).
pub fn valid_card_id(card_id: &str) -> bool {
    card_id.len() == CARD_ID_LEN && card_id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The form body of a report. Only the characters the two checks above allow reach it, so nothing needs
/// escaping; the caller has checked them.
pub fn form(token: &str, card_id: &str, event: Event) -> String {
    format!("token={token}&card_id={card_id}&event={}", event.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_card_ids_have_one_form() {
        assert!(valid_token(&"A-_z".repeat(11)[..TOKEN_LEN]));
        assert!(!valid_token(&"a".repeat(TOKEN_LEN + 1)), "too long");
        assert!(!valid_token(&format!("{}=", "a".repeat(TOKEN_LEN - 1))), "padding");
        assert!(!valid_token(&format!("{}&", "a".repeat(TOKEN_LEN - 1))), "a form delimiter");
        assert!(valid_card_id(&"0a".repeat(32)));
        assert!(!valid_card_id(&"0A".repeat(32)), "upper case");
        assert!(!valid_card_id("another-card"));
        assert_eq!(Event::parse("removed"), Some(Event::Removed));
        assert_eq!(Event::parse("inserted"), None);
        assert_eq!(form("t", "c", Event::Present), "token=t&card_id=c&event=present");
    }
}
