//! What follows a card login while the session lives (issue #25, step 4): the decisions on the reports that the
//! login card is still in its reader or has left it, over typed inputs. No axum, no headers: the adapters
//! (`card_removed` and `presence` in [`super::endpoints`]) parse the request, call [`card_removed`] or
//! [`presence`], and turn the answer or refusal into the response.
//!
//! Two reports, two senders:
//! * the home page's card-watch script, for the browser's own session (`POST /logout/card-removed`): only the
//!   card that session logged in with, and then only this person's sessions with it, are ended;
//! * the card agent, with no page open (`POST /presence`, D26; the contract is
//!   [`hcpki_agent_protocol::presence`]): `present` renews the session's presence lease, `removed` ends it.
//!
//! While the session's reader is lent to a patient's card (D91, [`hcpki_sso::lending`]) neither report
//! ends it: a removal is noted (`session.lend.card_out`), the agent's `present` after that ends the lend, and a
//! lend that ran out ends the session as `lend-expired`.
//!
//! Refusals are audited here, as the OIDC cores and the password sign-in audit theirs. What the decisions
//! need of the portal is [`PresencePortal`], declared here and implemented by [`PortalState`], so the tests
//! drive them with a stand-in.

use crate::portal::state::PortalState;
use hcpki_agent_protocol::presence::{self as protocol, Event};
use hcpki_ca::audit::Outcome;
use hcpki_sso::lending::{self, OnPresent, OnRemoval};
use hcpki_sso::refusals::named;
use hcpki_sso::session::{Session, SessionError};
use serde_json::{Value, json};

/// What the card's presence decisions need of the portal.
pub trait PresencePortal {
    /// The presence lease of card sessions, in seconds (None: card sessions have none).
    fn presence_secs(&self) -> Option<i64>;

    /// Renew the presence lease of the live session holding presence token `token` and card `card_id`, at
    /// `now`; the session, if there is one.
    async fn renew_presence(&self, token: &str, card_id: &str, now: i64) -> Result<Option<Session>, SessionError>;

    /// End `session` and what hangs on it (grants, back-channel logout, the `portal.logout` entry saying `why`),
    /// if it is still live.
    async fn end_session(&self, session: &Session, why: &str, now: i64) -> Result<(), SessionError>;

    /// End every live session of `person_key` that card `card_id` logged in, each as [`Self::end_session`]
    /// does with `card-removed`; how many ended.
    async fn end_card_sessions(&self, person_key: &str, card_id: &str, now: i64) -> Result<usize, SessionError>;

    /// Note that the login card of the lent `session` is out, as `via` (`page`, `agent`) reported: audited
    /// `session.lend.card_out` (D91).
    async fn lend_card_out(&self, session: &Session, via: &str, now_ms: i64) -> Result<(), SessionError>;

    /// End the running lend of `session`: its card is back, as `via` saw (audited `session.lend.return`).
    async fn end_lend(&self, session: &Session, via: &str, now_ms: i64) -> Result<(), SessionError>;

    /// End `session`, whose lend ran out without its card back (`lend-expired`, audited, back-channel logout).
    async fn end_ran_out_lend(&self, session: &Session, now: i64) -> Result<(), SessionError>;

    /// Append an audit entry at once (a failure to write it is logged).
    async fn audit(&self, at_ms: i64, actor: &str, action: &str, target: &str, outcome: Outcome, detail: Value);

    /// Record a refusal anyone can cause (group-committed, denied).
    async fn refuse(&self, actor: &str, action: &str, target: &str, detail: Value);
}

/// The home page's report that the card of its session left the reader (the form the card-watch script posts):
/// the session's CSRF token and the card the agent saw go.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct CardRemovedReport {
    /// The CSRF token the page was given.
    pub csrf: String,
    /// The card the agent reported removed.
    pub card_id: String,
}

/// The browser's session, as its cookie names it.
#[derive(Clone, Copy, Debug)]
pub struct CurrentSession<'a> {
    /// The live session.
    pub session: &'a Session,
    /// Its CSRF token.
    pub csrf: &'a str,
}

/// What a card-removed report ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardRemoved {
    /// The browser has no live session (ended already, or never signed in): nothing to end.
    NoSession,
    /// This person's sessions with this card ended: how many.
    Ended(usize),
    /// The session's reader is lent (D91): the card is out as intended, noted; the session lives, paused.
    Lent,
}

/// Why a card-removed report ended nothing. The messages are what the person is shown.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CardRemovedRefused {
    /// The report's CSRF token is not the session's (a page of an earlier session, or another site's post):
    /// audited `portal.csrf`.
    #[error("stale page: reload it")]
    StalePage,
    /// The report names a card this session did not log in with (a card id seen in an agent log on a shared
    /// PC ends nobody else's session): audited `portal.card-removed`.
    #[error("this session was not started with that card: sign out from the home page instead")]
    OtherCard,
    /// The sessions could not be read or ended: ours, logged; the page retries.
    #[error(transparent)]
    Unavailable(#[from] SessionError),
}

/// The home page reports the card of the browser's session `current` removed: end the sessions of this person
/// that this card logged in, but only for the session's own card (derived from its verified certificate at
/// login) and the session's own CSRF token. A lent session (D91) is not ended: the removal is noted.
pub async fn card_removed(
    portal: &impl PresencePortal,
    current: Option<CurrentSession<'_>>,
    report: &CardRemovedReport,
    now_ms: i64,
) -> Result<CardRemoved, CardRemovedRefused> {
    let Some(CurrentSession { session, csrf }) = current else { return Ok(CardRemoved::NoSession) };
    let actor = format!("portal:{}", session.person_key);
    if report.csrf != csrf {
        let detail = json!({ "reason": "missing or wrong CSRF token", "path": "/logout/card-removed" });
        portal.audit(now_ms, &actor, "portal.csrf", "-", Outcome::Denied, detail).await;
        return Err(CardRemovedRefused::StalePage);
    }
    if session.credential.card_id.as_deref() != Some(report.card_id.as_str()) {
        let detail = json!({ "reason": "card-removed report for a card this session did not log in with",
            "card_id": named(Some(&report.card_id)) });
        portal.refuse(&actor, "portal.card-removed", "-", detail).await;
        return Err(CardRemovedRefused::OtherCard);
    }
    let now = now_ms.div_euclid(1000);
    match lending::card_removed(session.lend.as_ref(), now) {
        OnRemoval::EndSession => {
            Ok(CardRemoved::Ended(portal.end_card_sessions(&session.person_key, &report.card_id, now).await?))
        }
        OnRemoval::NoteCardOut => {
            portal.lend_card_out(session, "page", now_ms).await?;
            Ok(CardRemoved::Lent)
        }
        OnRemoval::EndRanOut => {
            portal.end_ran_out_lend(session, now).await?;
            Ok(CardRemoved::Ended(1))
        }
    }
}

/// The card agent's presence report, parsed: a token and a card id of the agent's form, and the event.
#[derive(Clone, Copy, Debug)]
pub struct PresenceReport<'a> {
    /// The session's presence token (the home page's `data-presence`).
    token: &'a str,
    /// The card the agent sees.
    card_id: &'a str,
    /// Present (renew the lease) or removed (end the session).
    event: Event,
}

impl<'a> PresenceReport<'a> {
    /// The report of the form's three values, or why it is malformed (the event is checked first).
    pub fn parse(token: &'a str, card_id: &'a str, event: &str) -> Result<Self, PresenceRefused> {
        let event = Event::parse(event).ok_or(PresenceRefused::Event)?;
        if !protocol::valid_token(token) || !protocol::valid_card_id(card_id) {
            return Err(PresenceRefused::Malformed);
        }
        Ok(Self { token, card_id, event })
    }
}

/// What a presence report did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PresenceAnswer {
    /// The card is present: the lease was renewed; the agent reports again within this many seconds.
    Renewed {
        /// The presence lease, in seconds.
        lease_secs: i64,
    },
    /// The card was removed: the session ended (with its back-channel logout, audited `card-removed`).
    Ended,
}

/// Why a presence report was refused. The messages are what the agent is told.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PresenceRefused {
    /// The event is neither `present` nor `removed`: the agent sends one of the two.
    #[error("event must be present or removed")]
    Event,
    /// The token or the card id does not have the agent's form.
    #[error("token or card_id does not have the agent's form")]
    Malformed,
    /// No live session has this presence token and card (ended, expired, or no presence lease configured):
    /// the agent stops reporting.
    #[error("no live session for this token and card")]
    NoSession,
    /// The session could not be read, renewed or ended: ours, logged; the agent retries.
    #[error(transparent)]
    Unavailable(#[from] SessionError),
}

/// The card agent reports the login card present or removed at `now`: the session's lease is renewed first
/// either way (a report for no live session is refused), then a removed card ends the session. While the
/// session's reader is lent (D91) a removal is noted instead (answered as a removal: the agent forgets the
/// registration, and the page registers again after the return), and `present` after it ends the lend.
pub async fn presence(
    portal: &impl PresencePortal,
    report: PresenceReport<'_>,
    now: i64,
) -> Result<PresenceAnswer, PresenceRefused> {
    let session = portal.renew_presence(report.token, report.card_id, now).await?.ok_or(PresenceRefused::NoSession)?;
    let renewed = PresenceAnswer::Renewed { lease_secs: portal.presence_secs().unwrap_or_default() };
    let lend = session.lend.as_ref();
    match report.event {
        Event::Present => match lending::card_present(lend, now) {
            OnPresent::Renew => Ok(renewed),
            OnPresent::EndLend => {
                portal.end_lend(&session, "agent", now.saturating_mul(1000)).await?;
                Ok(renewed)
            }
            OnPresent::EndRanOut => {
                portal.end_ran_out_lend(&session, now).await?;
                Err(PresenceRefused::NoSession)
            }
        },
        Event::Removed => {
            match lending::card_removed(lend, now) {
                OnRemoval::EndSession => portal.end_session(&session, "card-removed", now).await?,
                OnRemoval::NoteCardOut => portal.lend_card_out(&session, "agent", now.saturating_mul(1000)).await?,
                OnRemoval::EndRanOut => portal.end_ran_out_lend(&session, now).await?,
            }
            Ok(PresenceAnswer::Ended)
        }
    }
}

impl PresencePortal for PortalState {
    fn presence_secs(&self) -> Option<i64> {
        self.sessions.presence_secs()
    }

    async fn renew_presence(&self, token: &str, card_id: &str, now: i64) -> Result<Option<Session>, SessionError> {
        self.sessions.renew_presence(token, card_id, now).await
    }

    async fn end_session(&self, session: &Session, why: &str, now: i64) -> Result<(), SessionError> {
        if let Some(ended) = self.sessions.end_because(&session.id_hash, why, now).await? {
            self.after_session_end(&ended, why).await;
        }
        Ok(())
    }

    async fn end_card_sessions(&self, person_key: &str, card_id: &str, now: i64) -> Result<usize, SessionError> {
        self.end_sessions_for_card(person_key, card_id, now).await
    }

    async fn lend_card_out(&self, session: &Session, via: &str, now_ms: i64) -> Result<(), SessionError> {
        self.note_lend_card_out(session, via, now_ms).await
    }

    async fn end_lend(&self, session: &Session, via: &str, now_ms: i64) -> Result<(), SessionError> {
        self.return_lend(session, via, now_ms).await.map(|_| ())
    }

    async fn end_ran_out_lend(&self, session: &Session, now: i64) -> Result<(), SessionError> {
        self.end_lend_ran_out(&session.id_hash, now).await.map(|_| ())
    }

    async fn audit(&self, at_ms: i64, actor: &str, action: &str, target: &str, outcome: Outcome, detail: Value) {
        hcpki_sso::audit::audit(self.store.as_ref(), at_ms, actor, action, target, outcome, detail).await;
    }

    async fn refuse(&self, actor: &str, action: &str, target: &str, detail: Value) {
        self.refusals.record(actor, action, target, detail).await;
    }
}

#[cfg(test)]
mod tests;
