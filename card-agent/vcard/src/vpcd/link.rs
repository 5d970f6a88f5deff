//! What a [`VpcdCard`](super::VpcdCard) handle and its serving thread share: the connection's state under one
//! lock and a condition variable that announces its changes.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// What the handle and the serving thread share.
#[derive(Debug, Default)]
pub(super) struct Link {
    state: Mutex<LinkState>,
    pub(super) changed: Condvar,
}

/// The connection's state, read and changed under [`Link::lock`].
#[derive(Debug, Default)]
pub(super) struct LinkState {
    /// A serving thread is alive (connected, connecting or reconnecting).
    pub(super) running: bool,
    /// The handle asked the thread to end (remove, drop), or the APDU trigger fired.
    pub(super) stop: bool,
    /// A clone of the live connection, so that `remove` can shut it down under a blocked read.
    pub(super) socket: Option<socket2::Socket>,
    /// C-APDUs still answered before the card is pulled.
    pub(super) remove_after: Option<u64>,
    /// Connections made since the card was created (first insertion and reconnections).
    pub(super) connections: u64,
    /// vpcd powered the card on this connection (pcscd does so when it notices an insertion).
    pub(super) powered: bool,
}

impl Link {
    /// The state; a panicked holder leaves nothing half-written that matters here, so poison is ignored.
    pub(super) fn lock(&self) -> MutexGuard<'_, LinkState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
