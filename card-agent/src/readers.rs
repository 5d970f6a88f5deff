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
    /// Waits up to `timeout` for the PC/SC service to be back after it answered "no service". By default this only
    /// waits; on Windows it returns as soon as the Smart Card service starts (`SCardAccessStartedEvent`).
    fn wait_for_service(&self, timeout: Duration) {
        std::thread::sleep(timeout);
    }
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
                // A context from before the service stopped or restarted answers "no service" (Windows: "service
                // stopped", for good) or an invalid handle: only a new context works again.
                Err(TransportError::NoService(_) | TransportError::ResourceManager(_)) => *guard = None,
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

    /// Windows 8 and later stop the Smart Card service when the last reader is unplugged and start it when one is
    /// plugged in: waiting on its started event (Microsoft's way) instead of asking again and again.
    #[cfg(windows)]
    fn wait_for_service(&self, timeout: Duration) {
        hcpki_agent_windows::smart_card_service::wait_started(timeout);
    }
}

impl ReaderWatcher for crate::transport::pcsc::Watcher {
    fn wait(&mut self, timeout: Duration) -> Result<Vec<ReaderChange>, TransportError> {
        crate::transport::pcsc::Watcher::wait(self, timeout)
    }
}

/// The readers of `inner` the agent owns: only those named in `agent.toml`'s `readers` (exact PC/SC names, as
/// `hcpki-agent readers` lists them). A PC with a reader that belongs to another program (a payment terminal, a
/// second workstation's reader redirected over RDP) leaves it alone, and a consent page then sees the PC as the
/// one-reader PC it is (issue #28: the physician lends the reader). Others are neither listed, connected to nor
/// watched.
pub struct OnlyReaders<B> {
    inner: B,
    names: Vec<String>,
}

impl<B> std::fmt::Debug for OnlyReaders<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnlyReaders").field("names", &self.names).finish_non_exhaustive()
    }
}

impl<B: ReaderBackend> OnlyReaders<B> {
    /// `inner` limited to `names`.
    pub fn new(inner: B, names: Vec<String>) -> Self {
        Self { inner, names }
    }
}

impl<B: ReaderBackend> ReaderBackend for OnlyReaders<B> {
    fn readers(&self) -> Result<Vec<String>, TransportError> {
        Ok(self.inner.readers()?.into_iter().filter(|r| self.names.contains(r)).collect())
    }

    fn connect(&self, reader: &str) -> Result<Box<dyn Connection>, TransportError> {
        if !self.names.iter().any(|n| n == reader) {
            return Err(TransportError::UnknownReader(reader.to_owned()));
        }
        self.inner.connect(reader)
    }

    fn watcher(&self) -> Result<Box<dyn ReaderWatcher>, TransportError> {
        Ok(Box::new(OnlyWatched { inner: self.inner.watcher()?, names: self.names.clone() }))
    }

    fn wait_for_service(&self, timeout: Duration) {
        self.inner.wait_for_service(timeout);
    }
}

struct OnlyWatched {
    inner: Box<dyn ReaderWatcher>,
    names: Vec<String>,
}

impl ReaderWatcher for OnlyWatched {
    fn wait(&mut self, timeout: Duration) -> Result<Vec<ReaderChange>, TransportError> {
        let changes = self.inner.wait(timeout)?;
        Ok(changes
            .into_iter()
            .filter(|c| {
                let reader = match c {
                    ReaderChange::ReaderAdded(r) | ReaderChange::ReaderRemoved(r) | ReaderChange::CardRemoved(r) => r,
                    ReaderChange::CardInserted { reader, .. } => reader,
                };
                self.names.contains(reader)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{MemReaders, hpki_identity};

    #[test]
    fn only_the_named_readers_are_listed_and_connected() {
        let mem = MemReaders::with_readers(&["reader 0", "reader 1"]);
        mem.insert("reader 1", hpki_identity().card());
        let only = OnlyReaders::new(mem.clone(), vec!["reader 0".to_owned()]);
        assert_eq!(only.readers().unwrap(), ["reader 0"]);
        assert!(matches!(only.connect("reader 1"), Err(TransportError::UnknownReader(_))), "not the agent's");
        assert!(mem.connect("reader 1").is_ok(), "the card is there, for its own program");
        assert!(matches!(only.connect("reader 0"), Err(TransportError::NoCard)));
    }
}
