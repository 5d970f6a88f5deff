//! A [`VirtualCard`] in a reader of vsmartcard's vpcd, the IFD handler that gives pcscd virtual
//! readers: the card is a TCP *client* of vpcd, one connection per inserted card.
//!
//! ```text
//! both ways      u16 big-endian length N ‖ N bytes
//! vpcd → card    N = 1: control  00 power off · 01 power on · 02 reset (no reply) · 04 get ATR (reply: ATR)
//!                N > 1: a C-APDU (reply: the R-APDU)
//! ```
//!
//! pcscd asks for the ATR about every 400 ms, forever, between APDUs too; a closed connection is a
//! removed card. Reader *i* of the stock `/etc/reader.conf.d/vpcd` listens on port 35963 + *i*, on
//! every interface, which is why tests keep pcscd in its own network namespace and reach it from a
//! thread that entered that namespace ([`VpcdTarget::netns`]).
//!
//! [`VpcdCard`] serves one card from a background thread and lets a test insert, remove and inspect
//! it, and pull it deterministically in the middle of an operation ([`VpcdCard::remove_after_apdus`]).

mod error;
mod link;
mod serve;
mod target;
#[cfg(test)]
mod tests;

pub use error::VpcdError;
pub use target::{DEFAULT_PORT, NETNS_DIR, VpcdTarget};

use crate::card::VirtualCard;
use link::{Link, LinkState};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One virtual card that can be inserted into a vpcd reader, served by a background thread.
///
/// Do not hold the guard of [`card`](Self::card) across [`remove`](Self::remove): the serving
/// thread may be waiting for it, and `remove` waits for the thread.
#[derive(Debug)]
pub struct VpcdCard {
    card: Arc<Mutex<VirtualCard>>,
    link: Arc<Link>,
    thread: Option<JoinHandle<()>>,
}

impl VpcdCard {
    /// A card, not yet inserted anywhere.
    pub fn new(card: VirtualCard) -> Self {
        Self::from_shared(Arc::new(Mutex::new(card)))
    }

    /// A card someone else also holds (to inspect it without this handle).
    pub fn from_shared(card: Arc<Mutex<VirtualCard>>) -> Self {
        Self { card, link: Arc::new(Link::default()), thread: None }
    }

    /// Inserts the card into the reader at `target`: connects (retrying up to
    /// `target.connect_attempts` times) and serves vpcd from a background thread, reconnecting if
    /// vpcd closes the connection, until [`remove`](Self::remove). A card that is inserted
    /// somewhere is removed first.
    pub fn insert(&mut self, target: VpcdTarget) -> Result<(), VpcdError> {
        self.remove();
        {
            let mut state = self.link.lock();
            state.stop = false;
            state.running = true;
            state.powered = false;
            state.remove_after = None;
        }
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let card = Arc::clone(&self.card);
        let link = Arc::clone(&self.link);
        let thread = std::thread::Builder::new()
            .name(format!("vpcd-card-{}", target.port))
            .spawn(move || serve::run(&target, &card, &link, &ready_tx))
            .map_err(|e| {
                self.link.lock().running = false;
                VpcdError::Thread(e.to_string())
            })?;
        let ready = ready_rx.recv().unwrap_or_else(|_| Err(VpcdError::Thread("ended before connecting".to_owned())));
        match ready {
            Ok(()) => {
                self.thread = Some(thread);
                Ok(())
            }
            Err(e) => {
                // The thread has returned (or is about to) after reporting; reap it.
                let _ = thread.join();
                Err(e)
            }
        }
    }

    /// Removes the card: closes the connection (vpcd reports "no card" within about a second) and
    /// waits for the serving thread. Does nothing when the card is not inserted.
    pub fn remove(&mut self) {
        {
            let mut state = self.link.lock();
            state.stop = true;
            if let Some(socket) = state.socket.take() {
                // Wakes the thread out of its blocking read; the connection is gone either way.
                let _ = socket.shutdown(std::net::Shutdown::Both);
            }
            self.link.changed.notify_all();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    /// Pulls the card after it has answered `apdus` more C-APDUs: the next one gets no answer, the
    /// connection closes instead, as if the card left the reader during that command. Power and
    /// ATR messages do not count.
    pub fn remove_after_apdus(&self, apdus: u64) {
        self.link.lock().remove_after = Some(apdus);
    }

    /// Whether the card sits in a reader (connected, or reconnecting after vpcd closed).
    pub fn is_inserted(&self) -> bool {
        let state = self.link.lock();
        state.running && !state.stop
    }

    /// Waits until the card is out (after [`remove_after_apdus`](Self::remove_after_apdus) fired);
    /// `false` when it is still in after `timeout`.
    pub fn wait_removed(&self, timeout: Duration) -> bool {
        self.wait_until(timeout, |state| !state.running)
    }

    /// Waits until the reader powers the card after [`insert`](Self::insert): pcscd has noticed the
    /// insertion (and any earlier removal), so PC/SC clients now see this card. `false` after
    /// `timeout` without power.
    pub fn wait_powered(&self, timeout: Duration) -> bool {
        self.wait_until(timeout, |state| state.powered)
    }

    /// Waits on the link's condition variable until `done` holds; `false` after `timeout`.
    fn wait_until(&self, timeout: Duration, done: impl Fn(&LinkState) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.link.lock();
        while !done(&state) {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            state = match self.link.changed.wait_timeout(state, left) {
                Ok((s, _)) => s,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        true
    }

    /// Connections made so far (1 after the first insertion; more after vpcd closed and the card
    /// reconnected, or after re-insertion).
    pub fn connections(&self) -> u64 {
        self.link.lock().connections
    }

    /// The card, for PIN counters, stats and transcripts. Keep the guard short (see the type's doc).
    pub fn card(&self) -> MutexGuard<'_, VirtualCard> {
        self.card.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The shared card itself.
    pub fn shared(&self) -> Arc<Mutex<VirtualCard>> {
        Arc::clone(&self.card)
    }
}

impl Drop for VpcdCard {
    fn drop(&mut self) {
        self.remove();
    }
}
