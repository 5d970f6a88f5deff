//! Which sessions the agent keeps alive, and when each report is due: pure bookkeeping, time passed in, so the
//! renewal, backoff and bounds are unit-tested without a clock or a network.

use std::time::Duration;

use hcpki_agent_protocol::presence::{Event, MAX_LEASE_SECS};
use tokio::time::Instant;

/// Registrations kept per portal origin: a PC has one user at a time, a few tabs or a re-login at most.
/// The newest wins: registering one more forgets the oldest of that origin.
pub const PER_ORIGIN: usize = 4;
/// First pause after a failed report; it doubles up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// Longest pause between retries.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// A session's presence token. Never printed: it lets its holder renew or end the session.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// A token already checked by `hcpki_agent_protocol::presence::valid_token`.
    pub fn new(checked: String) -> Self {
        Token(checked)
    }

    /// The token, for the report's body only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(***)")
    }
}

/// One report to send now.
#[derive(Clone, Debug)]
pub struct Report {
    /// The registration it is for (to hand the outcome back).
    pub id: u64,
    /// The portal origin to report to (the registering page's `Origin`).
    pub origin: String,
    pub token: Token,
    pub card_id: String,
    pub event: Event,
}

/// What the portal answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `present` accepted: the lease runs for this long from when the report was sent.
    Renewed { lease: Duration },
    /// `removed` accepted: the session has ended.
    Ended,
    /// 404: no live session for this token and card (logged out, expired, lapsed).
    Gone,
    /// 400: the portal refuses the report as malformed; repeating it will not help.
    Refused(String),
    /// Anything else (network, TLS, timeout, 5xx): worth retrying.
    Transient(String),
}

/// Why a registration was forgotten.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Forgotten {
    /// The removal was reported.
    Ended,
    /// The portal no longer knows the session.
    Gone,
    /// The portal refused the report.
    Refused(String),
    /// Retries ran past the lease: the portal has ended the session by itself.
    Lapsed(String),
}

#[derive(Debug)]
struct Entry {
    id: u64,
    origin: String,
    token: Token,
    card_id: String,
    /// What to report next.
    event: Event,
    /// When; None while a report is in flight.
    due: Option<Instant>,
    /// The end of the lease as far as the agent knows (until the first answer: the longest lease a portal
    /// grants, counted from the registration).
    lease_until: Instant,
    backoff: Duration,
}

/// The registrations; see the module documentation.
#[derive(Debug, Default)]
pub struct Registry {
    entries: Vec<Entry>,
    next_id: u64,
}

impl Registry {
    /// Keep `card_id`'s session at `origin` alive with `token`; report `present` at once (which also learns the
    /// lease). The same token again replaces its registration. Returns how many older registrations of the
    /// origin were forgotten to stay within [`PER_ORIGIN`].
    pub fn register(&mut self, origin: &str, token: Token, card_id: &str, now: Instant) -> usize {
        self.entries.retain(|e| !(e.origin == origin && e.token == token));
        self.next_id += 1;
        self.entries.push(Entry {
            id: self.next_id,
            origin: origin.to_owned(),
            token,
            card_id: card_id.to_owned(),
            event: Event::Present,
            due: Some(now),
            lease_until: now + Duration::from_secs(MAX_LEASE_SECS),
            backoff: FIRST_BACKOFF,
        });
        let mut evicted = 0;
        while self.entries.iter().filter(|e| e.origin == origin).count() > PER_ORIGIN {
            // Entries are in registration order: the first of the origin is the oldest.
            match self.entries.iter().position(|e| e.origin == origin) {
                Some(oldest) => {
                    self.entries.remove(oldest);
                    evicted += 1;
                }
                None => break,
            }
        }
        evicted
    }

    /// The card left its reader: report `removed` for every session it logged in, at once (after the report in
    /// flight, if any).
    pub fn card_removed(&mut self, card_id: &str, now: Instant) {
        for e in self.entries.iter_mut().filter(|e| e.card_id == card_id && e.event == Event::Present) {
            e.event = Event::Removed;
            e.backoff = FIRST_BACKOFF;
            if e.due.is_some() {
                e.due = Some(now);
            }
        }
    }

    /// The cards registered (each once), for checking against what the readers hold.
    pub fn card_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.entries.iter().map(|e| e.card_id.clone()).collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// The cards whose `present` report is due at `now`: the caller checks they are still in a reader first.
    pub fn due_present(&self, now: Instant) -> Vec<String> {
        self.entries
            .iter()
            .filter(|e| e.event == Event::Present && e.due.is_some_and(|d| d <= now))
            .map(|e| e.card_id.clone())
            .collect()
    }

    /// The reports due at `now`, marked in flight until [`finished`](Self::finished).
    pub fn take_due(&mut self, now: Instant) -> Vec<Report> {
        let mut due = Vec::new();
        for e in self.entries.iter_mut().filter(|e| e.due.is_some_and(|d| d <= now)) {
            e.due = None;
            due.push(Report {
                id: e.id,
                origin: e.origin.clone(),
                token: e.token.clone(),
                card_id: e.card_id.clone(),
                event: e.event,
            });
        }
        due
    }

    /// When the next report is due, if any is waiting.
    pub fn next_due(&self) -> Option<Instant> {
        self.entries.iter().filter_map(|e| e.due).min()
    }

    /// How many registrations there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The portal answered report `id` (of `sent`, sent at `sent_at`) with `outcome`; `now` is when the answer
    /// came. Returns the registration's origin and card and why it was forgotten, when it was.
    pub fn finished(
        &mut self,
        id: u64,
        sent: Event,
        sent_at: Instant,
        outcome: Outcome,
        now: Instant,
    ) -> Option<(String, String, Forgotten)> {
        let at = self.entries.iter().position(|e| e.id == id)?;
        let e = self.entries.get_mut(at)?;
        let forget = match outcome {
            Outcome::Gone => Some(Forgotten::Gone),
            Outcome::Refused(why) => Some(Forgotten::Refused(why)),
            Outcome::Ended if sent == Event::Removed => Some(Forgotten::Ended),
            // A removal arrived while `present` was in flight: report it now.
            _ if sent == Event::Present && e.event == Event::Removed => {
                e.due = Some(now);
                None
            }
            Outcome::Renewed { lease } => {
                e.lease_until = sent_at + lease;
                // Well inside the lease: two more tries fit before it runs out.
                e.due = Some(sent_at + lease / 3);
                e.backoff = FIRST_BACKOFF;
                None
            }
            Outcome::Ended => Some(Forgotten::Refused("the portal answered a presence report as a removal".into())),
            Outcome::Transient(why) => {
                let retry = now + e.backoff;
                e.backoff = (e.backoff * 2).min(MAX_BACKOFF);
                if retry >= e.lease_until {
                    Some(Forgotten::Lapsed(why))
                } else {
                    e.due = Some(retry);
                    None
                }
            }
        };
        forget.map(|why| {
            let e = self.entries.remove(at);
            (e.origin, e.card_id, why)
        })
    }
}
