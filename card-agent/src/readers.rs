//! Where readers come from. The broker sees a [`ReaderBackend`] (list, connect, watch); the real one is
//! PC/SC, which it re-establishes after the PC/SC service restarts so that the agent outlives pcscd.
//! Tests plug in-process readers behind the same trait.

use std::sync::Mutex;
use std::time::Duration;

use crate::transport::pcsc::{PcscReaders, ReaderChange};
use crate::transport::{Connection, TransportError};

/// A source of readers and the cards in them.
pub trait ReaderBackend: Send + Sync + 'static {
    /// Reader names now present (empty when there are none).
    fn readers(&self) -> Result<Vec<String>, TransportError>;
    /// Connects to the card in `reader` (shared mode). [`TransportError::NoCard`] when it is empty.
    fn connect(&self, reader: &str) -> Result<Box<dyn Connection>, TransportError>;
    /// A watcher of insertions and removals, on its own context.
    fn watcher(&self) -> Result<Box<dyn ReaderWatcher>, TransportError>;
}

/// Blocks until readers or cards change (or the timeout passes).
pub trait ReaderWatcher: Send {
    /// Changes since the previous call; the first call reports everything present.
    fn wait(&mut self, timeout: Duration) -> Result<Vec<ReaderChange>, TransportError>;
}

/// PC/SC readers. The context is made on first use and made again when the service went away.
#[derive(Debug, Default)]
pub struct PcscBackend {
    ctx: Mutex<Option<PcscReaders>>,
}

impl PcscBackend {
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `f` on the context, re-establishing it once if the service restarted under it.
    fn with_ctx<T>(&self, f: impl Fn(&PcscReaders) -> Result<T, TransportError>) -> Result<T, TransportError> {
        let mut guard = self.ctx.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(ctx) = guard.as_ref() {
            match f(ctx) {
                // A context from before a pcscd restart answers "no service" or an invalid handle.
                Err(TransportError::NoService(_) | TransportError::Pcsc(_)) => *guard = None,
                other => return other,
            }
        }
        let ctx = PcscReaders::establish()?;
        let result = f(&ctx);
        *guard = Some(ctx);
        result
    }
}

impl ReaderBackend for PcscBackend {
    fn readers(&self) -> Result<Vec<String>, TransportError> {
        self.with_ctx(PcscReaders::readers)
    }

    fn connect(&self, reader: &str) -> Result<Box<dyn Connection>, TransportError> {
        self.with_ctx(|ctx| ctx.connect(reader).map(|card| Box::new(card) as Box<dyn Connection>))
    }

    fn watcher(&self) -> Result<Box<dyn ReaderWatcher>, TransportError> {
        Ok(Box::new(PcscReaders::watcher()?))
    }
}

impl ReaderWatcher for crate::transport::pcsc::Watcher {
    fn wait(&mut self, timeout: Duration) -> Result<Vec<ReaderChange>, TransportError> {
        crate::transport::pcsc::Watcher::wait(self, timeout)
    }
}
