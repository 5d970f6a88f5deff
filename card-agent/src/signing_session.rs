//! Signing sessions (issue #48 item 3, D163): after one signature-PIN entry, up to N more document signatures
//! within T hours with the same card at this PC, each still shown on the agent's page and confirmed there by a
//! click, without typing the PIN again — as the HPKI second certificate's 18-hour signing state and Germany's
//! Komfortsignatur (250 signatures in 24 h) let physicians sign.
//!
//! The PIN never leaves the agent: it is kept (zeroizing) in the agent's memory for the session and handed to the
//! card's VERIFY inside each signature's own card transaction, exactly as a typed PIN is. A session is bound to
//!
//! * the **card** (its id, the SHA-256 of its identity certificate): another card in the reader never gets the PIN;
//! * the **origin** of the page that opened it (the agent's allow-list still applies);
//! * the **portal session** that page belongs to (`binding`: an opaque value the portal renders into its pages
//!   from the sign-in, so a new sign-in, or another person's, does not match);
//! * the **tab**: the session's key goes only to the page that opened it (in the operation's result, readable by
//!   its origin only), which keeps it in that tab's `sessionStorage`; another tab or browser has no key.
//!
//! It ends at its N-th signature, after T hours, when its card leaves a reader, when the workstation is locked
//! (where the agent sees it), when the portal page ends it (logout), on any failed signature, and when a new
//! session is opened for the same card. Every refusal says why and what to do.
//!
//! HTTP-free, and the clock passed in (Unix seconds).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use zeroize::Zeroizing;

use hcpki_agent_protocol::CardKind;

/// The facility's limits: the most signatures one PIN entry allows (the opening one included) and for how long.
/// `max_signatures = 0` or `max_hours = 0` turns sessions off (every signature asks for the PIN).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    #[serde(default = "default_max_signatures")]
    pub max_signatures: u32,
    #[serde(default = "default_max_hours")]
    pub max_hours: u32,
}

pub use hcpki_agent_protocol::signing_limit::{DEFAULT_MAX_HOURS, DEFAULT_MAX_SIGNATURES};
/// No setting may exceed these: a facility sets lower, never higher.
pub const CEILING: Limits = Limits {
    max_signatures: hcpki_agent_protocol::signing_limit::MAX_SIGNATURES,
    max_hours: hcpki_agent_protocol::signing_limit::MAX_HOURS,
};

fn default_max_signatures() -> u32 {
    DEFAULT_MAX_SIGNATURES
}

fn default_max_hours() -> u32 {
    DEFAULT_MAX_HOURS
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_signatures: DEFAULT_MAX_SIGNATURES, max_hours: DEFAULT_MAX_HOURS }
    }
}

impl Limits {
    /// Off: every signature asks for the PIN.
    pub const OFF: Limits = Limits { max_signatures: 0, max_hours: 0 };

    /// Whether a session can give more than the opening signature.
    pub fn is_off(self) -> bool {
        self.max_signatures <= 1 || self.max_hours == 0
    }

    /// The lower of these limits and what the page asked for (the facility's setting, which may only lower).
    pub fn lowered_by(self, asked: Limits) -> Limits {
        Limits {
            max_signatures: self.max_signatures.min(asked.max_signatures),
            max_hours: self.max_hours.min(asked.max_hours),
        }
    }

    /// Within the ceiling (agent.toml is checked with this).
    pub fn within_ceiling(self) -> bool {
        self.max_signatures <= CEILING.max_signatures && self.max_hours <= CEILING.max_hours
    }
}

/// Who a session belongs to: the page's origin and its portal session's binding value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    pub origin: String,
    pub portal: String,
}

/// A session's counters, as the page and the result report them: this signature is the `n`-th of at most `of`,
/// and the session ends at `expires_at` (Unix seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Count {
    pub n: u32,
    pub of: u32,
    pub expires_at: i64,
}

/// How a document signature was authorised, as its result (`result.document.signing`) and the log say it.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum SignatureMode {
    /// The signature PIN was typed for this signature alone.
    #[default]
    Single,
    /// The `n`-th signature of a signing session (the first is the one whose PIN opened it); `key` only in the
    /// opening signature's result, for the page that opened it.
    Session {
        #[serde(flatten)]
        count: Count,
        #[serde(skip_serializing_if = "Option::is_none")]
        key: Option<String>,
    },
    /// Document `item` of a batch of `items` confirmed at once (with the PIN, or inside a session: `session`).
    Batch {
        item: u32,
        items: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        session: Option<Count>,
    },
}

impl SignatureMode {
    /// The mode's name in logs: `single`, `session`, `batch`.
    pub fn name(&self) -> &'static str {
        match self {
            SignatureMode::Single => "single",
            SignatureMode::Session { .. } => "session",
            SignatureMode::Batch { .. } => "batch",
        }
    }
}

/// Why a signature cannot use a session. Each says what to do; none spends a PIN try.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// No such session: it ended (card pulled, PC locked, logout, timer, a failed signature, a new session for the
    /// card) or was never opened here.
    #[error(
        "the signing session has ended (the card was removed, the PC was locked, you logged out, its time or count \
         ran out, or a signature failed): sign again and enter the signature PIN"
    )]
    Ended,
    /// The session was opened by another origin's page or another portal sign-in: it is ended (its key was used
    /// where it does not belong).
    #[error(
        "this signing session belongs to another page or portal sign-in, so it was ended: sign again and enter the \
         signature PIN"
    )]
    NotYours,
    #[error("the signing session's {0} signatures are used up: sign again and enter the signature PIN")]
    UsedUp(u32),
    #[error("the signing session's {0} hours are over: sign again and enter the signature PIN")]
    TimeUp(u32),
    /// The card in the reader is not the one the session was opened with: the PIN is not given to it.
    #[error(
        "the card in the reader is not the one the signing session was opened with, so the session was ended: insert \
         your card and enter its signature PIN"
    )]
    OtherCard,
    /// Sessions are off (agent.toml or the facility), or a batch of documents is signed inside one confirmation.
    #[error("signing sessions are turned off here: every signature asks for the signature PIN")]
    Off,
}

impl Refusal {
    /// The API's error code.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Ended => "session_ended",
            Refusal::NotYours => "session_not_yours",
            Refusal::UsedUp(_) => "session_used_up",
            Refusal::TimeUp(_) => "session_time_up",
            Refusal::OtherCard => "session_other_card",
            Refusal::Off => "session_off",
        }
    }
}

/// One open session.
struct Session {
    binding: Binding,
    card_id: String,
    kind: CardKind,
    pin: Zeroizing<String>,
    used: u32,
    limits: Limits,
    expires_at: i64,
}

/// Every open session, by key. One per card: opening a second one for a card ends the first.
#[derive(Default)]
pub struct SigningSessions {
    open: Mutex<HashMap<String, Session>>,
}

impl std::fmt::Debug for SigningSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningSessions").field("open", &self.lock().len()).finish()
    }
}

/// A session just opened: its key (for the page that opened it only) and the opening signature's count.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Opened {
    pub key: String,
    #[serde(flatten)]
    pub count: Count,
}

impl SigningSessions {
    /// Opens a session after the signature PIN `pin` signed one document with card `card_id` at `now`: that
    /// signature is the first of `limits.max_signatures`. Ends any earlier session of the card. None when `limits`
    /// is off.
    pub fn open(
        &self,
        binding: Binding,
        card_id: &str,
        kind: CardKind,
        pin: &str,
        limits: Limits,
        now: i64,
    ) -> Option<Opened> {
        if limits.is_off() {
            return None;
        }
        // 122 random bits from the OS, as the operation ids.
        let key = uuid::Uuid::new_v4().simple().to_string();
        let expires_at = now.saturating_add(i64::from(limits.max_hours) * 3600);
        let mut open = self.lock();
        open.retain(|_, s| s.card_id != card_id);
        open.insert(
            key.clone(),
            Session {
                binding,
                card_id: card_id.to_owned(),
                kind,
                pin: Zeroizing::new(pin.to_owned()),
                used: 1,
                limits,
                expires_at,
            },
        );
        Some(Opened { key, count: Count { n: 1, of: limits.max_signatures, expires_at } })
    }

    /// What the next `documents` signatures of session `key` would be, for `binding` at `now`, without using it:
    /// checked before the page is shown. Refusals that show a misuse or an end remove the session.
    pub fn peek(
        &self,
        key: &str,
        binding: &Binding,
        kind: CardKind,
        documents: u32,
        now: i64,
    ) -> Result<Count, Refusal> {
        let mut open = self.lock();
        let session = open.get(key).ok_or(Refusal::Ended)?;
        let refusal = if session.binding != *binding || session.kind != kind {
            Some(Refusal::NotYours)
        } else if now >= session.expires_at {
            Some(Refusal::TimeUp(session.limits.max_hours))
        } else if session.used.saturating_add(documents) > session.limits.max_signatures {
            Some(Refusal::UsedUp(session.limits.max_signatures))
        } else {
            None
        };
        // A batch larger than what is left refuses without ending: the same session signs a smaller one.
        if let Some(r) = refusal {
            if !matches!(r, Refusal::UsedUp(_)) || session.used >= session.limits.max_signatures {
                open.remove(key);
            }
            return Err(r);
        }
        Ok(Count { n: session.used + 1, of: session.limits.max_signatures, expires_at: session.expires_at })
    }

    /// Uses one signature of session `key` (after the physician's confirmation, before the card): checks it all
    /// again (the clock may have run out while the page waited) and that `card_id` is the session's card, counts
    /// it, and gives a copy of the PIN for this signature's VERIFY.
    pub fn use_one(
        &self,
        key: &str,
        binding: &Binding,
        card_id: &str,
        now: i64,
    ) -> Result<(Count, Zeroizing<String>), Refusal> {
        let kind = self.lock().get(key).map(|s| s.kind).ok_or(Refusal::Ended)?;
        self.peek(key, binding, kind, 1, now)?;
        let mut open = self.lock();
        let session = open.get_mut(key).ok_or(Refusal::Ended)?;
        if session.card_id != card_id {
            open.remove(key);
            return Err(Refusal::OtherCard);
        }
        session.used += 1;
        let count = Count { n: session.used, of: session.limits.max_signatures, expires_at: session.expires_at };
        let pin = Zeroizing::new(session.pin.as_str().to_owned());
        if session.used >= session.limits.max_signatures {
            // The last one: the PIN is wiped now; the session stays only to say "used up" to its page.
            session.pin = Zeroizing::new(String::new());
        }
        Ok((count, pin))
    }

    /// Ends session `key` (its page logged out, or its signature failed). Whether it was open.
    pub fn end(&self, key: &str) -> bool {
        self.lock().remove(key).is_some()
    }

    /// Ends the sessions of card `card_id` (it left its reader). How many.
    pub fn end_card(&self, card_id: &str) -> usize {
        let mut open = self.lock();
        let before = open.len();
        open.retain(|_, s| s.card_id != card_id);
        before - open.len()
    }

    /// Ends the sessions of `origin`'s pages under portal binding `portal` (logout). How many.
    pub fn end_binding(&self, binding: &Binding) -> usize {
        let mut open = self.lock();
        let before = open.len();
        open.retain(|_, s| s.binding != *binding);
        before - open.len()
    }

    /// Ends every session (the workstation was locked). How many.
    pub fn end_all(&self) -> usize {
        let mut open = self.lock();
        let n = open.len();
        open.clear();
        n
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn binding() -> Binding {
        Binding { origin: "https://portal.example".into(), portal: "b".repeat(43) }
    }

    fn pin() -> &'static str {
        "hpki1234"
    }

    #[test]
    fn n_signatures_then_the_session_is_gone() {
        let sessions = SigningSessions::default();
        let limits = Limits { max_signatures: 3, max_hours: 18 };
        let opened = sessions.open(binding(), "card", CardKind::Hpki, pin(), limits, NOW).unwrap();
        assert_eq!(opened.count, Count { n: 1, of: 3, expires_at: NOW + 18 * 3600 });
        assert_eq!(sessions.peek(&opened.key, &binding(), CardKind::Hpki, 3, NOW), Err(Refusal::UsedUp(3)));
        let (count, pin) = sessions.use_one(&opened.key, &binding(), "card", NOW + 1).unwrap();
        assert_eq!((count.n, count.of, pin.as_str()), (2, 3, "hpki1234"));
        assert_eq!(sessions.use_one(&opened.key, &binding(), "card", NOW + 2).unwrap().0.n, 3);
        assert_eq!(sessions.use_one(&opened.key, &binding(), "card", NOW + 3).unwrap_err(), Refusal::UsedUp(3));
        assert_eq!(sessions.use_one(&opened.key, &binding(), "card", NOW + 3).unwrap_err(), Refusal::Ended);
    }

    #[test]
    fn the_timer_ends_it_with_the_clock_passed_in() {
        let sessions = SigningSessions::default();
        let opened = sessions.open(binding(), "card", CardKind::Hpki, pin(), Limits::default(), NOW).unwrap();
        let last = NOW + 18 * 3600 - 1;
        assert_eq!(sessions.use_one(&opened.key, &binding(), "card", last).unwrap().0.n, 2);
        assert_eq!(sessions.use_one(&opened.key, &binding(), "card", last + 1).unwrap_err(), Refusal::TimeUp(18));
        assert_eq!(sessions.use_one(&opened.key, &binding(), "card", last + 1).unwrap_err(), Refusal::Ended);
    }

    #[test]
    fn another_page_sign_in_or_card_ends_it() {
        let sessions = SigningSessions::default();
        let open = || sessions.open(binding(), "card", CardKind::Hpki, pin(), Limits::default(), NOW).unwrap().key;
        let key = open();
        let other_origin = Binding { origin: "https://evil.example".into(), ..binding() };
        assert_eq!(sessions.use_one(&key, &other_origin, "card", NOW).unwrap_err(), Refusal::NotYours);
        assert_eq!(sessions.use_one(&key, &binding(), "card", NOW).unwrap_err(), Refusal::Ended, "ended by misuse");
        let key = open();
        let other_sign_in = Binding { portal: "c".repeat(43), ..binding() };
        assert_eq!(sessions.use_one(&key, &other_sign_in, "card", NOW).unwrap_err(), Refusal::NotYours);
        let key = open();
        assert_eq!(sessions.use_one(&key, &binding(), "another card", NOW).unwrap_err(), Refusal::OtherCard);
        assert_eq!(sessions.use_one(&key, &binding(), "card", NOW).unwrap_err(), Refusal::Ended);
        let key = open();
        assert_eq!(sessions.end_card("card"), 1);
        assert_eq!(sessions.use_one(&key, &binding(), "card", NOW).unwrap_err(), Refusal::Ended);
        let first = open();
        let second = open();
        assert_eq!(sessions.use_one(&first, &binding(), "card", NOW).unwrap_err(), Refusal::Ended, "one per card");
        assert_eq!(sessions.end_binding(&binding()), 1, "logout");
        assert_eq!(sessions.use_one(&second, &binding(), "card", NOW).unwrap_err(), Refusal::Ended);
    }

    #[test]
    fn a_facility_only_lowers_and_zero_turns_it_off() {
        let agent = Limits::default();
        assert_eq!(
            agent.lowered_by(Limits { max_signatures: 50, max_hours: 24 }),
            Limits { max_signatures: 50, max_hours: 18 }
        );
        assert!(agent.lowered_by(Limits { max_signatures: 0, max_hours: 8 }).is_off());
        assert!(agent.lowered_by(Limits { max_signatures: 10, max_hours: 0 }).is_off());
        let sessions = SigningSessions::default();
        assert!(sessions.open(binding(), "card", CardKind::Hpki, pin(), Limits::OFF, NOW).is_none());
        assert!(!Limits { max_signatures: 251, max_hours: 1 }.within_ceiling());
    }
}
