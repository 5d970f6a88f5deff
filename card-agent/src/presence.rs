//! Card presence (D26): the agent keeps the portal sessions its card logged in alive while the card is in a
//! reader, and ends them when it leaves, whether or not a portal page is open.
//!
//! ```text
//!  portal page (card-watch.js) ──POST /v1/presence {token, card_id}──▶ Presence::register (Origin checked)
//!  broker ──CardEvent::Removed──▶ reporter ──POST {that Origin}/presence event=removed──▶ portal: session ends
//!  reporter, every lease/3 ──card still in a reader?──▶ POST … event=present ──▶ lease renewed
//! ```
//!
//! The agent reports only to the origin of the page that registered (already on the allow-list) at the fixed
//! path `/presence`: a page cannot steer it to another host. Registrations live in memory, at most
//! [`registry::PER_ORIGIN`] per origin (the newest wins); an agent restarted or killed renews nothing, and the
//! portal ends the session when the lease runs out. Tokens are never logged.

pub mod client;
pub mod registry;

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{Notify, broadcast, mpsc};
use tokio::time::Instant;

use crate::service::{CardEvent, CardService};
pub use client::{ClientError, PortalClient};
pub use registry::{Outcome, Registry, Report, Token};

/// The registrations and the reporter's wake-up call; the local API registers through it.
#[derive(Debug, Default)]
pub struct Presence {
    registry: Mutex<Registry>,
    changed: Notify,
}

impl Presence {
    /// Keep `card_id`'s session at `origin` alive with `token` (both checked by the caller) and wake the
    /// reporter, which reports `present` at once.
    pub fn register(&self, origin: &str, token: Token, card_id: &str) {
        let evicted = self.lock().register(origin, token, card_id, Instant::now());
        tracing::info!(%origin, card_id, evicted, "card presence registered");
        self.changed.notify_one();
    }

    /// How many registrations are held.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Registry> {
        // Every critical section assigns whole values: a panic elsewhere leaves it consistent.
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A report's answer, back to the reporter loop.
struct Answered {
    report: Report,
    sent_at: Instant,
    outcome: Outcome,
}

/// Start the reporter: it follows `service`'s card events and sends reports with `client`.
pub fn spawn(presence: Arc<Presence>, service: Arc<dyn CardService>, client: PortalClient) {
    let events = service.subscribe();
    tokio::spawn(run(presence, service, client, events));
}

async fn run(
    presence: Arc<Presence>,
    service: Arc<dyn CardService>,
    client: PortalClient,
    mut events: broadcast::Receiver<CardEvent>,
) {
    let (answers_tx, mut answers) = mpsc::channel::<Answered>(64);
    loop {
        let now = Instant::now();
        // Renew only what the agent sees: a card whose removal went unnoticed is reported removed instead.
        let checking = presence.lock().due_present(now);
        forget_absent(&presence, &service, &checking).await;
        let due = presence.lock().take_due(now);
        for report in due {
            let (client, tx) = (client.clone(), answers_tx.clone());
            tokio::spawn(async move {
                let sent_at = Instant::now();
                let outcome = client.report(&report.origin, &report.token, &report.card_id, report.event).await;
                let _ = tx.send(Answered { report, sent_at, outcome }).await;
            });
        }
        let next = presence.lock().next_due();
        tokio::select! {
            () = presence.changed.notified() => {}
            Some(a) = answers.recv() => answered(&presence, a),
            event = events.recv() => match event {
                Ok(CardEvent::Removed { card_id: Some(card_id), reader }) => {
                    tracing::info!(%reader, %card_id, "card removed: reporting its sessions' end");
                    presence.lock().card_removed(&card_id, Instant::now());
                }
                // A reader gone, or events missed: check every registered card against the readers.
                Ok(CardEvent::ReaderRemoved { .. }) | Err(broadcast::error::RecvError::Lagged(_)) => {
                    let all = presence.lock().card_ids();
                    forget_absent(&presence, &service, &all).await;
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            },
            () = sleep_until(next) => {}
        }
    }
}

/// Sleep until `at`, or forever when nothing is due.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn answered(presence: &Presence, a: Answered) {
    let Answered { report, sent_at, outcome } = a;
    match &outcome {
        Outcome::Transient(why) => {
            tracing::warn!(origin = %report.origin, card_id = %report.card_id, event = report.event.as_str(), error = %why, "presence report failed; retrying");
        }
        other => {
            tracing::debug!(origin = %report.origin, event = report.event.as_str(), outcome = ?other, "presence reported")
        }
    }
    let forgotten = presence.lock().finished(report.id, report.event, sent_at, outcome, Instant::now());
    if let Some((origin, card_id, why)) = forgotten {
        tracing::info!(%origin, %card_id, reason = ?why, "card presence registration forgotten");
    }
}

/// Report `removed` for those of `cards` that no reader holds. When the readers cannot be listed (PC/SC
/// down: the broker has reported every card removed already) nothing changes.
async fn forget_absent(presence: &Presence, service: &Arc<dyn CardService>, cards: &[String]) {
    if cards.is_empty() {
        return;
    }
    let service = Arc::clone(service);
    let seen = match tokio::task::spawn_blocking(move || service.readers()).await {
        Ok(Ok(readers)) => readers.into_iter().filter_map(|r| r.card.map(|c| c.card_id)).collect::<HashSet<String>>(),
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "readers not listed; presence unchanged");
            return;
        }
        Err(_) => return,
    };
    let now = Instant::now();
    let mut registry = presence.lock();
    for card in cards.iter().filter(|c| !seen.contains(*c)) {
        tracing::info!(card_id = %card, "registered card in no reader: reporting its sessions' end");
        registry.card_removed(card, now);
    }
}

#[cfg(test)]
mod tests;
