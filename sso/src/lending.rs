//! Lending the card reader (issue #28 step 3, D91): at a PC with one reader, a physician signed in with an HPKI
//! card lends the reader to a patient's My Number card for a consent, without the card's removal ending the
//! session. This file is the decisions, over plain values and the time passed in: no HTTP, no store. The
//! endpoints, the guard that pauses the session everywhere else and the paused page are the server's
//! `portal/lending_endpoints.rs`; the card's reports during a lend are decided here and applied in its
//! `portal/card_login/presence.rs`.
//!
//! ```text
//! not lent ──POST /session/lend (card session)──▶ lent until now + [portal] lend_secs
//! lent: every portal page and action, /authorize, the console ─▶ refused ("paused"), except /session/lend/*,
//!       /consent/*, /logout/card-removed and static files; tokens already issued are untouched
//! lent: the login card removed (page or agent) ─▶ noted (card out), the session lives, its lease is held
//! lent: POST /session/lend/return with the login card's id, or the agent's `present` after the card was out
//!       ─▶ not lent (the session goes on)
//! lent past its end ─▶ the session ends (`lend-expired`, back-channel logout), on the next request or in
//!       the housekeeping, whichever comes first
//! ```

/// `[portal] lend_secs` when not set.
pub const DEFAULT_LEND_SECS: u32 = 300;
/// The shortest lend: a consent takes a minute at least (reading, the password).
pub const MIN_LEND_SECS: u32 = 60;
/// The longest lend: a session nobody can use, and whose card may be anywhere, stays short.
pub const MAX_LEND_SECS: u32 = 900;
/// The longest consent reference kept with a lend (characters).
pub const MAX_CONSENT_CHARS: usize = 64;

/// How long a lend lasts, in seconds: `[portal] lend_secs`, within [`MIN_LEND_SECS`]–[`MAX_LEND_SECS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LendSecs(u32);

impl LendSecs {
    /// The default, [`DEFAULT_LEND_SECS`].
    pub const DEFAULT: Self = Self(DEFAULT_LEND_SECS);

    /// The setting's value, or why it is refused.
    pub fn new(secs: u32) -> Result<Self, LendSecsOutOfRange> {
        if (MIN_LEND_SECS..=MAX_LEND_SECS).contains(&secs) { Ok(Self(secs)) } else { Err(LendSecsOutOfRange(secs)) }
    }

    /// The seconds.
    pub fn secs(self) -> i64 {
        i64::from(self.0)
    }
}

/// `[portal] lend_secs` outside its range.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("[portal] lend_secs = {0} is out of range: set 60 to 900 seconds (default 300)")]
pub struct LendSecsOutOfRange(pub u32);

/// A session's lend of the reader, as the store keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lend {
    /// The lend ends then; without the card back by then the session ends.
    pub until: i64,
    /// The consent it was lent for (free text, audit only).
    pub lent_for: String,
    /// When a removal of the login card was reported during the lend, if one was.
    pub card_out_at: Option<i64>,
}

/// Where a session stands with its lend at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LendState<'a> {
    /// Not lent: the session works as always.
    NotLent,
    /// Lent, the lend running: nobody can use the session but the consent pages.
    Lent(&'a Lend),
    /// Lent, and the lend over without the card back: the session is to end (`lend-expired`).
    RanOut(&'a Lend),
}

/// The state of a session whose lend is `lend` at `now`.
pub fn state(lend: Option<&Lend>, now: i64) -> LendState<'_> {
    match lend {
        None => LendState::NotLent,
        Some(l) if now < l.until => LendState::Lent(l),
        Some(l) => LendState::RanOut(l),
    }
}

/// The consent a lend is for, as the lend's form names it: 1 to [`MAX_CONSENT_CHARS`] characters, no control
/// characters (it goes into the audit log as it is).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentRef(String);

impl ConsentRef {
    /// The form's value, trimmed, or why it is refused.
    pub fn parse(raw: &str) -> Result<Self, LendRefused> {
        let value = raw.trim();
        let chars = value.chars().count();
        if chars == 0 || chars > MAX_CONSENT_CHARS || value.chars().any(char::is_control) {
            return Err(LendRefused::Consent);
        }
        Ok(Self(value.to_owned()))
    }

    /// The reference.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a session is not lent. The messages are what the physician's page shows. Exhaustive on purpose: the
/// server's endpoint gives each its status and code, and a new one must fail its build until it has them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LendRefused {
    /// The `consent` field is empty, too long or has control characters.
    #[error("consent must name the consent (1 to 64 characters)")]
    Consent,
    /// A password + TOTP session: there is no card whose removal would end it, and none whose return could
    /// continue it.
    #[error("only a session signed in with a card can lend the reader: this one was signed in with a password")]
    NotCardSession,
    /// Lent already: return the card first.
    #[error("the reader is lent already: put your card back to continue the session")]
    AlreadyLent,
}

/// Whether a session signed in with card `card_id` (None: a password session) whose lend is `lend` may lend
/// its reader at `now`; the lend's end when it may.
pub fn lend_until(card_id: Option<&str>, lend: Option<&Lend>, secs: LendSecs, now: i64) -> Result<i64, LendRefused> {
    if card_id.is_none() {
        return Err(LendRefused::NotCardSession);
    }
    match state(lend, now) {
        LendState::NotLent => Ok(now.saturating_add(secs.secs())),
        LendState::Lent(_) | LendState::RanOut(_) => Err(LendRefused::AlreadyLent),
    }
}

/// Why a return is refused. The messages are what the page (or its log) shows. Exhaustive, as [`LendRefused`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReturnRefused {
    /// The card reported is not the one the session signed in with: the session stays lent.
    #[error("this is not the card this session was signed in with: put your own card in the reader")]
    OtherCard,
    /// The lend ran out before the card came back: the session has ended.
    #[error("the card came back too late: the session has ended, sign in again")]
    RanOut,
}

/// What a return of card `card_id` does to a session signed in with `own_card` whose lend is `lend`, at `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Return {
    /// The lend ends: the session goes on.
    EndLend,
    /// Not lent (returned already, e.g. by the agent's report): nothing to do, the session goes on.
    NotLent,
}

/// The decision on a return: only the session's own login card ends the lend, and only while it runs.
pub fn card_returned(
    own_card: Option<&str>,
    lend: Option<&Lend>,
    card_id: &str,
    now: i64,
) -> Result<Return, ReturnRefused> {
    if own_card != Some(card_id) {
        return Err(ReturnRefused::OtherCard);
    }
    match state(lend, now) {
        LendState::NotLent => Ok(Return::NotLent),
        LendState::Lent(_) => Ok(Return::EndLend),
        LendState::RanOut(_) => Err(ReturnRefused::RanOut),
    }
}

/// What a report that the session's login card left its reader does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnRemoval {
    /// Not lent: the session ends (card-removal logout, D26).
    EndSession,
    /// Lent: the card is out as the lend intends; noted, the session lives.
    NoteCardOut,
    /// The lend ran out: the session ends as `lend-expired`.
    EndRanOut,
}

/// The decision on a removal of the login card of a session whose lend is `lend`, at `now`.
pub fn card_removed(lend: Option<&Lend>, now: i64) -> OnRemoval {
    match state(lend, now) {
        LendState::NotLent => OnRemoval::EndSession,
        LendState::Lent(_) => OnRemoval::NoteCardOut,
        LendState::RanOut(_) => OnRemoval::EndRanOut,
    }
}

/// What the agent's report that the session's login card is present does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnPresent {
    /// The lease is renewed (not lent, or lent while the card has not left yet: the physician has not taken
    /// it out).
    Renew,
    /// Lent, and the card was out: it is back, the lend ends.
    EndLend,
    /// The lend ran out: the session ends as `lend-expired`.
    EndRanOut,
}

/// The decision on the agent's `present` report for a session whose lend is `lend`, at `now`. A `present`
/// before the card was reported out is the agent's routine renewal while the physician still holds the card
/// in the reader: it must not end the lend the physician just started.
pub fn card_present(lend: Option<&Lend>, now: i64) -> OnPresent {
    match state(lend, now) {
        LendState::NotLent => OnPresent::Renew,
        LendState::Lent(l) if l.card_out_at.is_some() => OnPresent::EndLend,
        LendState::Lent(_) => OnPresent::Renew,
        LendState::RanOut(_) => OnPresent::EndRanOut,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn lent(until: i64, card_out_at: Option<i64>) -> Lend {
        Lend { until, lent_for: "consent-1".into(), card_out_at }
    }

    #[test]
    fn lend_secs_is_60_to_900() {
        assert_eq!(LendSecs::new(60).map(LendSecs::secs), Ok(60));
        assert_eq!(LendSecs::new(900).map(LendSecs::secs), Ok(900));
        assert_eq!(LendSecs::DEFAULT.secs(), 300);
        for bad in [0, 59, 901, u32::MAX] {
            let e = LendSecs::new(bad).unwrap_err();
            assert!(e.to_string().contains("60 to 900"), "{e}");
        }
    }

    #[test]
    fn a_lend_runs_until_its_end_exclusive() {
        let l = lent(NOW + 300, None);
        assert_eq!(state(None, NOW), LendState::NotLent);
        assert_eq!(state(Some(&l), NOW + 299), LendState::Lent(&l));
        assert_eq!(state(Some(&l), NOW + 300), LendState::RanOut(&l), "over at its end");
    }

    #[test]
    fn only_an_unlent_card_session_lends() {
        let secs = LendSecs::new(120).unwrap();
        assert_eq!(lend_until(Some("card-a"), None, secs, NOW), Ok(NOW + 120));
        assert_eq!(lend_until(None, None, secs, NOW), Err(LendRefused::NotCardSession), "a password session");
        let running = lent(NOW + 10, None);
        assert_eq!(lend_until(Some("card-a"), Some(&running), secs, NOW), Err(LendRefused::AlreadyLent));
        assert_eq!(
            lend_until(Some("card-a"), Some(&running), secs, NOW + 10),
            Err(LendRefused::AlreadyLent),
            "ran out"
        );
    }

    #[test]
    fn the_consent_reference_is_short_plain_text() {
        assert_eq!(ConsentRef::parse("  c-42 ").map(|c| c.as_str().to_owned()), Ok("c-42".into()));
        assert!(ConsentRef::parse(&"同".repeat(64)).is_ok(), "64 characters, not bytes");
        for bad in ["", "   ", "a\nb", "a\u{7}", &"x".repeat(65)] {
            assert_eq!(ConsentRef::parse(bad), Err(LendRefused::Consent), "{bad:?}");
        }
    }

    #[test]
    fn only_the_own_card_returns_and_only_in_time() {
        let l = lent(NOW + 300, Some(NOW + 5));
        assert_eq!(card_returned(Some("card-a"), Some(&l), "card-a", NOW + 60), Ok(Return::EndLend));
        assert_eq!(card_returned(Some("card-a"), Some(&l), "card-b", NOW + 60), Err(ReturnRefused::OtherCard));
        assert_eq!(card_returned(None, Some(&l), "card-a", NOW + 60), Err(ReturnRefused::OtherCard), "no own card");
        assert_eq!(card_returned(Some("card-a"), Some(&l), "card-a", NOW + 300), Err(ReturnRefused::RanOut));
        assert_eq!(card_returned(Some("card-a"), None, "card-a", NOW), Ok(Return::NotLent), "returned already");
        assert_eq!(card_returned(Some("card-a"), None, "card-b", NOW), Err(ReturnRefused::OtherCard));
    }

    #[test]
    fn removal_ends_only_an_unlent_session() {
        let l = lent(NOW + 300, None);
        assert_eq!(card_removed(None, NOW), OnRemoval::EndSession);
        assert_eq!(card_removed(Some(&l), NOW + 1), OnRemoval::NoteCardOut);
        assert_eq!(card_removed(Some(&l), NOW + 300), OnRemoval::EndRanOut);
    }

    #[test]
    fn presence_ends_the_lend_only_after_the_card_was_out() {
        let held = lent(NOW + 300, None);
        let out = lent(NOW + 300, Some(NOW + 20));
        assert_eq!(card_present(None, NOW), OnPresent::Renew);
        assert_eq!(card_present(Some(&held), NOW + 10), OnPresent::Renew, "the routine renewal before the pull");
        assert_eq!(card_present(Some(&out), NOW + 40), OnPresent::EndLend);
        assert_eq!(card_present(Some(&out), NOW + 300), OnPresent::EndRanOut);
    }
}
