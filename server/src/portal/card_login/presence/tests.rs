//! The card-removed and presence decisions reached with typed inputs and a stand-in portal that records what it
//! was asked to do: no listener, no axum, no database. The end-to-end cases (the agent, the home page's script,
//! both databases) are in tests/integration/portal_card.rs, console_card.rs and review_identity.rs.

use super::{
    CardRemoved, CardRemovedRefused, CardRemovedReport, CurrentSession, PresenceAnswer, PresencePortal,
    PresenceRefused, PresenceReport, card_removed, presence,
};
use hcpki_ca::audit::Outcome;
use hcpki_sso::lending::Lend;
use hcpki_sso::policy::Subject;
use hcpki_sso::session::{CredentialDetails, Session, SessionError};
use serde_json::{Value, json};
use std::sync::Mutex;

const NOW: i64 = 1_800_000_000;
/// A card id and a presence token of the agent's form.
const CARD: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const OTHER_CARD: &str = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
const TOKEN: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123-_6";

/// A stand-in portal: what the session calls return, and a log of what was asked.
#[derive(Default)]
struct Portal {
    /// The presence lease (None: card sessions have none).
    lease: Option<i64>,
    /// The session a presence renewal finds.
    live: Option<Session>,
    /// Presence renewals fail (the database is down).
    renew_fails: bool,
    /// Ending sessions fails.
    end_fails: bool,
    /// What was done, in order.
    log: Mutex<Vec<String>>,
}

impl Portal {
    fn note(&self, line: String) {
        self.log.lock().unwrap().push(line);
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    fn failing(fails: bool) -> Result<(), SessionError> {
        if fails { Err(SessionError::Damaged("the test's database is down".into())) } else { Ok(()) }
    }
}

impl PresencePortal for Portal {
    fn presence_secs(&self) -> Option<i64> {
        self.lease
    }

    async fn renew_presence(&self, token: &str, card_id: &str, now: i64) -> Result<Option<Session>, SessionError> {
        self.note(format!("renew {token} {card_id} {now}"));
        Self::failing(self.renew_fails)?;
        Ok(self.live.clone())
    }

    async fn end_session(&self, session: &Session, why: &str, now: i64) -> Result<(), SessionError> {
        self.note(format!("end {} {why} {now}", session.id_hash));
        Self::failing(self.end_fails)
    }

    async fn end_card_sessions(&self, person_key: &str, card_id: &str, now: i64) -> Result<usize, SessionError> {
        self.note(format!("end card {person_key} {card_id} {now}"));
        Self::failing(self.end_fails)?;
        Ok(2)
    }

    async fn lend_card_out(&self, session: &Session, via: &str, now_ms: i64) -> Result<(), SessionError> {
        self.note(format!("card out {} {via} {now_ms}", session.id_hash));
        Self::failing(self.end_fails)
    }

    async fn end_lend(&self, session: &Session, via: &str, now_ms: i64) -> Result<(), SessionError> {
        self.note(format!("end lend {} {via} {now_ms}", session.id_hash));
        Self::failing(self.end_fails)
    }

    async fn end_ran_out_lend(&self, session: &Session, now: i64) -> Result<(), SessionError> {
        self.note(format!("end ran out {} {now}", session.id_hash));
        Self::failing(self.end_fails)
    }

    async fn audit(&self, at_ms: i64, actor: &str, action: &str, target: &str, outcome: Outcome, detail: Value) {
        self.note(format!("audit {at_ms} {actor} {action} {target} {outcome:?} {detail}"));
    }

    async fn refuse(&self, actor: &str, action: &str, target: &str, detail: Value) {
        self.note(format!("refuse {actor} {action} {target} {detail}"));
    }
}

/// A live session that card `card_id` (None: a password login) started.
fn session(card_id: Option<&str>) -> Session {
    Session {
        id_hash: "session-hash".into(),
        person_key: "hpki:yamada".into(),
        subject: Subject::hpki("山田 太郎", None),
        facility_id: None,
        credential: CredentialDetails {
            method: if card_id.is_some() { "hpki-card" } else { "password-totp" }.into(),
            card_id: card_id.map(str::to_owned),
            ..CredentialDetails::default()
        },
        auth_time: NOW - 60,
        expires_at: NOW + 3600,
        presence: card_id.is_some(),
        lend: None,
        terminal: None,
    }
}

/// [`session`] of card `CARD` with its reader lent until `until`, the card reported out at `out`.
fn lent(until: i64, out: Option<i64>) -> Session {
    Session { lend: Some(Lend { until, lent_for: "consent-1".into(), card_out_at: out }), ..session(Some(CARD)) }
}

async fn report_removed(
    portal: &Portal,
    current: Option<&Session>,
    csrf: &str,
    card_id: &str,
) -> Result<CardRemoved, CardRemovedRefused> {
    let current = current.map(|session| CurrentSession { session, csrf: "session-csrf" });
    card_removed(portal, current, &CardRemovedReport { csrf: csrf.to_owned(), card_id: card_id.to_owned() }, NOW * 1000)
        .await
}

#[tokio::test]
async fn a_card_removed_report_without_a_session_ends_nothing() {
    let portal = Portal::default();
    let answer = report_removed(&portal, None, "session-csrf", CARD).await;
    assert_eq!(answer.unwrap(), CardRemoved::NoSession);
    assert!(portal.log().is_empty(), "nothing audited, nothing ended: {:?}", portal.log());
}

#[tokio::test]
async fn the_sessions_own_card_ends_this_persons_sessions_with_it() {
    let portal = Portal::default();
    let own = session(Some(CARD));
    let answer = report_removed(&portal, Some(&own), "session-csrf", CARD).await;
    assert_eq!(answer.unwrap(), CardRemoved::Ended(2));
    assert_eq!(portal.log(), [format!("end card hpki:yamada {CARD} {NOW}")]);
}

#[tokio::test]
async fn a_stale_csrf_token_is_refused_and_audited_before_the_card_is_looked_at() {
    let portal = Portal::default();
    let own = session(Some(CARD));
    let answer = report_removed(&portal, Some(&own), "an-older-page", OTHER_CARD).await;
    let refused = answer.unwrap_err();
    assert!(matches!(refused, CardRemovedRefused::StalePage), "{refused:?}");
    assert_eq!(refused.to_string(), "stale page: reload it");
    let detail = json!({ "reason": "missing or wrong CSRF token", "path": "/logout/card-removed" });
    assert_eq!(portal.log(), [format!("audit {} portal:hpki:yamada portal.csrf - Denied {detail}", NOW * 1000)]);
}

#[tokio::test]
async fn another_card_ends_nobodys_session_and_is_recorded_as_a_refusal() {
    for (why, current) in [("another card's session", session(Some(CARD))), ("a password session", session(None))] {
        let portal = Portal::default();
        let answer = report_removed(&portal, Some(&current), "session-csrf", OTHER_CARD).await;
        let refused = answer.unwrap_err();
        assert!(matches!(refused, CardRemovedRefused::OtherCard), "{why}: {refused:?}");
        let detail = json!({ "reason": "card-removed report for a card this session did not log in with",
            "card_id": OTHER_CARD });
        assert_eq!(portal.log(), [format!("refuse portal:hpki:yamada portal.card-removed - {detail}")], "{why}");
    }
}

#[tokio::test]
async fn sessions_that_cannot_be_ended_leave_the_card_removed_report_unavailable() {
    let portal = Portal { end_fails: true, ..Portal::default() };
    let own = session(Some(CARD));
    let answer = report_removed(&portal, Some(&own), "session-csrf", CARD).await;
    assert!(matches!(answer, Err(CardRemovedRefused::Unavailable(SessionError::Damaged(_)))), "{answer:?}");
}

#[test]
fn a_presence_report_is_parsed_event_first() {
    let upper = CARD.to_uppercase();
    let refused = |token, card_id, event| PresenceReport::parse(token, card_id, event).unwrap_err();
    assert!(matches!(refused(TOKEN, CARD, "gone"), PresenceRefused::Event));
    assert!(matches!(refused("short", CARD, ""), PresenceRefused::Event), "the event is checked first");
    assert!(matches!(refused("short", CARD, "present"), PresenceRefused::Malformed));
    assert!(matches!(refused(TOKEN, &upper, "removed"), PresenceRefused::Malformed), "hex is lower case");
    assert!(matches!(refused(TOKEN, "", "present"), PresenceRefused::Malformed));
    assert_eq!(refused(TOKEN, CARD, "gone").to_string(), "event must be present or removed");
    assert_eq!(refused(TOKEN, "x", "present").to_string(), "token or card_id does not have the agent's form");
    assert!(PresenceReport::parse(TOKEN, CARD, "present").is_ok());
    assert!(PresenceReport::parse(TOKEN, CARD, "removed").is_ok());
}

#[tokio::test]
async fn a_present_card_renews_the_lease_at_now() {
    let portal = Portal { lease: Some(120), live: Some(session(Some(CARD))), ..Portal::default() };
    let report = PresenceReport::parse(TOKEN, CARD, "present").unwrap();
    assert_eq!(presence(&portal, report, NOW).await.unwrap(), PresenceAnswer::Renewed { lease_secs: 120 });
    assert_eq!(portal.log(), [format!("renew {TOKEN} {CARD} {NOW}")], "renewed, nothing ended");
}

#[tokio::test]
async fn a_removed_card_ends_its_session_after_the_renewal_found_it() {
    let portal = Portal { lease: Some(120), live: Some(session(Some(CARD))), ..Portal::default() };
    let report = PresenceReport::parse(TOKEN, CARD, "removed").unwrap();
    assert_eq!(presence(&portal, report, NOW).await.unwrap(), PresenceAnswer::Ended);
    assert_eq!(portal.log(), [format!("renew {TOKEN} {CARD} {NOW}"), format!("end session-hash card-removed {NOW}")]);
}

#[tokio::test]
async fn a_report_for_no_live_session_is_refused_and_ends_nothing() {
    for event in ["present", "removed"] {
        let portal = Portal { lease: Some(120), ..Portal::default() };
        let report = PresenceReport::parse(TOKEN, CARD, event).unwrap();
        let refused = presence(&portal, report, NOW).await.unwrap_err();
        assert!(matches!(refused, PresenceRefused::NoSession), "{event}: {refused:?}");
        assert_eq!(refused.to_string(), "no live session for this token and card");
        assert_eq!(portal.log(), [format!("renew {TOKEN} {CARD} {NOW}")], "{event}");
    }
}

#[tokio::test]
async fn a_presence_report_the_sessions_cannot_answer_is_unavailable() {
    let live = Some(session(Some(CARD)));
    let renewal_fails = Portal { lease: Some(120), live: live.clone(), renew_fails: true, ..Portal::default() };
    let end_fails = Portal { lease: Some(120), live, end_fails: true, ..Portal::default() };
    for (portal, event, done) in [(&renewal_fails, "removed", 1), (&end_fails, "removed", 2)] {
        let report = PresenceReport::parse(TOKEN, CARD, event).unwrap();
        let refused = presence(portal, report, NOW).await.unwrap_err();
        assert!(matches!(refused, PresenceRefused::Unavailable(SessionError::Damaged(_))), "{refused:?}");
        assert_eq!(portal.log().len(), done, "{:?}", portal.log());
    }
}

#[tokio::test]
async fn the_pages_removal_report_notes_the_card_out_of_a_lent_session_and_ends_nothing() {
    let portal = Portal::default();
    let own = lent(NOW + 300, None);
    let answer = report_removed(&portal, Some(&own), "session-csrf", CARD).await;
    assert_eq!(answer.unwrap(), CardRemoved::Lent);
    assert_eq!(portal.log(), [format!("card out session-hash page {}", NOW * 1000)], "no session ended");
    // Another card's report is refused as always, before the lend is looked at.
    let portal = Portal::default();
    assert!(matches!(
        report_removed(&portal, Some(&own), "session-csrf", OTHER_CARD).await,
        Err(CardRemovedRefused::OtherCard)
    ));
    // A lend that ran out ends the session as lend-expired.
    let portal = Portal::default();
    let over = lent(NOW, None);
    assert_eq!(report_removed(&portal, Some(&over), "session-csrf", CARD).await.unwrap(), CardRemoved::Ended(1));
    assert_eq!(portal.log(), [format!("end ran out session-hash {NOW}")]);
}

#[tokio::test]
async fn the_agents_reports_during_a_lend_note_the_card_out_then_end_the_lend_when_it_is_back() {
    let renew = format!("renew {TOKEN} {CARD} {NOW}");
    // The routine renewal before the physician pulls the card: the lend goes on.
    let portal = Portal { lease: Some(120), live: Some(lent(NOW + 300, None)), ..Portal::default() };
    let report = PresenceReport::parse(TOKEN, CARD, "present").unwrap();
    assert_eq!(presence(&portal, report, NOW).await.unwrap(), PresenceAnswer::Renewed { lease_secs: 120 });
    assert_eq!(portal.log(), std::slice::from_ref(&renew));
    // The card leaves: noted, not ended (answered as a removal: the agent forgets the registration).
    let report = PresenceReport::parse(TOKEN, CARD, "removed").unwrap();
    assert_eq!(presence(&portal, report, NOW).await.unwrap(), PresenceAnswer::Ended);
    assert_eq!(portal.log(), [renew.clone(), renew.clone(), format!("card out session-hash agent {}", NOW * 1000)]);
    // The card is back after it was out: the lend ends.
    let portal = Portal { lease: Some(120), live: Some(lent(NOW + 300, Some(NOW - 5))), ..Portal::default() };
    let report = PresenceReport::parse(TOKEN, CARD, "present").unwrap();
    assert_eq!(presence(&portal, report, NOW).await.unwrap(), PresenceAnswer::Renewed { lease_secs: 120 });
    assert_eq!(portal.log(), [renew.clone(), format!("end lend session-hash agent {}", NOW * 1000)]);
    // Too late: the session ends as lend-expired, and the agent is told it has no session.
    let portal = Portal { lease: Some(120), live: Some(lent(NOW, Some(NOW - 5))), ..Portal::default() };
    let report = PresenceReport::parse(TOKEN, CARD, "present").unwrap();
    assert!(matches!(presence(&portal, report, NOW).await, Err(PresenceRefused::NoSession)));
    assert_eq!(portal.log(), [renew, format!("end ran out session-hash {NOW}")]);
}
