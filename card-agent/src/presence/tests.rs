//! The registry's renewal, removal, backoff and bounds, on a clock the tests move by hand.

use std::time::Duration;

use hcpki_agent_protocol::presence::{Event, MAX_LEASE_SECS};
use tokio::time::Instant;

use super::client::classify;
use super::registry::{FIRST_BACKOFF, Forgotten, Outcome, PER_ORIGIN, Registry, Token};

const ORIGIN: &str = "https://portal.example";
const LEASE: Duration = Duration::from_secs(300);

fn token(n: u8) -> Token {
    Token::new(format!("{}{n:03}", "t".repeat(40)))
}

fn card(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

/// One registration whose first `present` has been answered with the lease at `t0`.
fn renewed(r: &mut Registry, t0: Instant) -> u64 {
    r.register(ORIGIN, token(1), &card(1), t0);
    let due = r.take_due(t0);
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].event, Event::Present, "a registration reports present at once");
    assert_eq!(r.next_due(), None, "nothing else due while the report is in flight");
    assert_eq!(r.finished(due[0].id, Event::Present, t0, Outcome::Renewed { lease: LEASE }, t0), None);
    due[0].id
}

#[test]
fn renews_at_a_third_of_the_lease() {
    let mut r = Registry::default();
    let t0 = Instant::now();
    let id = renewed(&mut r, t0);
    assert_eq!(r.next_due(), Some(t0 + LEASE / 3));
    assert!(r.take_due(t0 + LEASE / 3 - Duration::from_secs(1)).is_empty(), "not before");
    let again = r.take_due(t0 + LEASE / 3);
    assert_eq!((again.len(), again[0].id, again[0].event), (1, id, Event::Present));
}

#[test]
fn removal_is_reported_at_once_and_forgets_the_registration() {
    let mut r = Registry::default();
    let t0 = Instant::now();
    let id = renewed(&mut r, t0);
    let t1 = t0 + Duration::from_secs(5);
    r.card_removed(&card(9), t1);
    assert!(r.take_due(t1).is_empty(), "another card's removal changes nothing");
    r.card_removed(&card(1), t1);
    let due = r.take_due(t1);
    assert_eq!((due.len(), due[0].event), (1, Event::Removed));
    let forgotten = r.finished(id, Event::Removed, t1, Outcome::Ended, t1);
    assert_eq!(forgotten.map(|f| f.2), Some(Forgotten::Ended));
    assert!(r.is_empty());
}

#[test]
fn a_removal_during_a_renewal_goes_out_right_after_it() {
    let mut r = Registry::default();
    let t0 = Instant::now();
    r.register(ORIGIN, token(1), &card(1), t0);
    let present = r.take_due(t0);
    r.card_removed(&card(1), t0);
    assert!(r.take_due(t0).is_empty(), "one report in flight at a time");
    let t1 = t0 + Duration::from_secs(1);
    assert_eq!(r.finished(present[0].id, Event::Present, t0, Outcome::Renewed { lease: LEASE }, t1), None);
    let due = r.take_due(t1);
    assert_eq!((due.len(), due[0].event), (1, Event::Removed), "not postponed by the renewal's lease");
}

#[test]
fn gone_and_refused_sessions_are_forgotten() {
    let mut r = Registry::default();
    let t0 = Instant::now();
    r.register(ORIGIN, token(1), &card(1), t0);
    r.register(ORIGIN, token(2), &card(2), t0);
    let due = r.take_due(t0);
    assert_eq!(due.len(), 2);
    assert_eq!(r.finished(due[0].id, Event::Present, t0, Outcome::Gone, t0).map(|f| f.2), Some(Forgotten::Gone));
    let refused = r.finished(due[1].id, Event::Present, t0, Outcome::Refused("malformed".into()), t0);
    assert_eq!(refused.map(|f| f.2), Some(Forgotten::Refused("malformed".into())));
    assert!(r.is_empty());
    assert_eq!(r.finished(due[0].id, Event::Present, t0, Outcome::Gone, t0), None, "an unknown id is ignored");
}

#[test]
fn transient_failures_back_off_and_stop_at_the_lease() {
    let mut r = Registry::default();
    let t0 = Instant::now();
    renewed(&mut r, t0);
    let lease_end = t0 + LEASE;
    let mut now = t0 + LEASE / 3;
    let mut pauses = Vec::new();
    loop {
        let due = r.take_due(now);
        assert_eq!(due.len(), 1, "one retry at a time");
        let failed = r.finished(due[0].id, Event::Present, now, Outcome::Transient("refused".into()), now);
        if let Some((_, _, why)) = failed {
            assert_eq!(why, Forgotten::Lapsed("refused".into()));
            break;
        }
        let next = r.next_due().unwrap();
        assert!(next < lease_end, "a retry scheduled past the lease");
        pauses.push(next - now);
        now = next;
    }
    assert_eq!(pauses[0], FIRST_BACKOFF);
    assert!(pauses.windows(2).all(|w| w[1] >= w[0]), "backoff never shrinks: {pauses:?}");
    assert!(r.is_empty(), "the registration outlived its lease");
}

#[test]
fn before_any_answer_retries_are_bounded_by_the_longest_lease() {
    let mut r = Registry::default();
    let t0 = Instant::now();
    r.register(ORIGIN, token(1), &card(1), t0);
    let mut now = t0;
    for _ in 0..1000 {
        let Some(report) = r.take_due(now).pop() else { break };
        if r.finished(report.id, report.event, now, Outcome::Transient("down".into()), now).is_some() {
            break;
        }
        now = r.next_due().unwrap();
    }
    assert!(r.is_empty(), "still retrying after {:?}", now - t0);
    assert!(now - t0 <= Duration::from_secs(MAX_LEASE_SECS));
}

#[test]
fn a_few_registrations_per_origin_the_newest_win() {
    let mut r = Registry::default();
    let t0 = Instant::now();
    for n in 0..PER_ORIGIN as u8 {
        assert_eq!(r.register(ORIGIN, token(n), &card(n), t0), 0);
    }
    assert_eq!(r.register(ORIGIN, token(99), &card(99), t0), 1, "the oldest goes");
    assert_eq!(r.len(), PER_ORIGIN);
    assert!(!r.card_ids().contains(&card(0)) && r.card_ids().contains(&card(99)));
    // The same token again replaces its registration; another origin has its own room.
    assert_eq!(r.register(ORIGIN, token(99), &card(99), t0), 0);
    assert_eq!(r.register("https://other.example", token(0), &card(0), t0), 0);
    assert_eq!(r.len(), PER_ORIGIN + 1);
}

#[test]
fn tokens_are_never_printed() {
    let t = token(7);
    assert!(!format!("{t:?}").contains("ttt"));
    let mut r = Registry::default();
    r.register(ORIGIN, t, &card(7), Instant::now());
    assert!(!format!("{r:?}").contains("ttt"), "{r:?}");
}

#[test]
fn answers_follow_the_protocol() {
    assert_eq!(classify(200, br#"{"lease_secs":300}"#, Event::Present), Outcome::Renewed { lease: LEASE });
    assert_eq!(
        classify(200, br#"{"lease_secs":5}"#, Event::Present),
        Outcome::Renewed { lease: Duration::from_secs(60) },
        "a lease below the portal's minimum is not believed"
    );
    assert!(matches!(classify(200, b"{}", Event::Present), Outcome::Transient(_)));
    assert_eq!(classify(204, b"", Event::Removed), Outcome::Ended);
    assert_eq!(classify(404, b"", Event::Present), Outcome::Gone);
    assert!(matches!(classify(400, b"bad", Event::Removed), Outcome::Refused(_)));
    assert!(matches!(classify(503, b"", Event::Present), Outcome::Transient(_)));
}
