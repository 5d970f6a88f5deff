//! PC/SC through the `pcsc` crate (pcsc-lite on Linux and macOS, WinSCard on Windows).
//!
//! Cards are opened SHARED (T=0 or T=1) so vendor middleware can coexist; exclusivity comes from one
//! PC/SC transaction per operation instead. Disconnecting leaves the card as it is, because resetting it
//! would throw away other programs' security status.

use std::ffi::{CStr, CString};
use std::time::Duration;

use pcsc::{Context, Disposition, Protocols, ReaderState, Scope, ShareMode, State};

use super::{Connection, Transport, TransportError};

/// The PC/SC resource manager.
pub struct PcscReaders {
    ctx: Context,
}

impl std::fmt::Debug for PcscReaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcscReaders").finish_non_exhaustive()
    }
}

impl PcscReaders {
    /// Connects to the PC/SC service.
    pub fn establish() -> Result<Self, TransportError> {
        Context::establish(Scope::User).map(|ctx| PcscReaders { ctx }).map_err(map_err)
    }

    /// Reader names, in PC/SC order. No readers is an empty list, not an error.
    pub fn readers(&self) -> Result<Vec<String>, TransportError> {
        match self.ctx.list_readers_owned() {
            Ok(names) => Ok(names.iter().map(|n| n.to_string_lossy().into_owned()).collect()),
            Err(pcsc::Error::NoReadersAvailable) => Ok(Vec::new()),
            Err(e) => Err(map_err(e)),
        }
    }

    /// Connects to the card in `reader`, SHARED, T=0 or T=1.
    pub fn connect(&self, reader: &str) -> Result<PcscCard, TransportError> {
        let name = CString::new(reader).map_err(|_| TransportError::UnknownReader(reader.to_owned()))?;
        let card = self.ctx.connect(&name, ShareMode::Shared, Protocols::ANY).map_err(|e| match e {
            pcsc::Error::UnknownReader | pcsc::Error::ReaderUnavailable => {
                TransportError::UnknownReader(reader.to_owned())
            }
            pcsc::Error::NoSmartcard | pcsc::Error::RemovedCard => TransportError::NoCard,
            other => map_err(other),
        })?;
        let atr = card.status2_owned().map(|s| s.atr().to_vec()).map_err(map_err)?;
        Ok(PcscCard { card: Some(card), atr, buf: vec![0; pcsc::MAX_BUFFER_SIZE_EXTENDED] })
    }

    /// A watcher of reader and card changes on its own PC/SC context (GetStatusChange blocks its
    /// context, so it must not share the one used for APDUs).
    pub fn watcher() -> Result<Watcher, TransportError> {
        Ok(Watcher {
            ctx: Context::establish(Scope::User).map_err(map_err)?,
            states: Vec::new(),
            primed: false,
            counts: std::collections::HashMap::new(),
        })
    }
}

/// A card connected in one reader.
pub struct PcscCard {
    card: Option<pcsc::Card>,
    atr: Vec<u8>,
    buf: Vec<u8>,
}

impl std::fmt::Debug for PcscCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcscCard").field("atr", &hex::encode_upper(&self.atr)).finish_non_exhaustive()
    }
}

impl Connection for PcscCard {
    fn atr(&self) -> &[u8] {
        &self.atr
    }

    fn begin(&mut self) -> Result<Box<dyn Transport + '_>, TransportError> {
        let card = self.card.as_mut().ok_or(TransportError::Removed)?;
        // A reset by another program surfaces here first; reconnecting keeps our handle valid. The
        // operation starts with a SELECT of the application anyway, which is all a reset undoes.
        let card = match card.transaction2() {
            Ok(tx) => return Ok(Box::new(PcscTransaction { tx, buf: &mut self.buf })),
            Err((card, pcsc::Error::ResetCard)) => {
                card.reconnect(ShareMode::Shared, Protocols::ANY, Disposition::LeaveCard).map_err(map_err)?;
                card
            }
            Err((_, e)) => return Err(map_err(e)),
        };
        let tx = card.transaction().map_err(map_err)?;
        Ok(Box::new(PcscTransaction { tx, buf: &mut self.buf }))
    }

    fn reconnect(&mut self) -> Result<(), TransportError> {
        let card = self.card.as_mut().ok_or(TransportError::Removed)?;
        card.reconnect(ShareMode::Shared, Protocols::ANY, Disposition::LeaveCard).map_err(map_err)
    }

    /// `SCardControl(CM_IOCTL_GET_FEATURE_REQUEST)`. A driver without the request (vsmartcard's vpcd answers
    /// "unsupported") is a reader without features; a list that cannot be read is logged and treated the same.
    fn features(&mut self) -> Result<crate::pin_pad::Features, TransportError> {
        let card = self.card.as_mut().ok_or(TransportError::Removed)?;
        let code = pcsc::ctl_code(crate::pin_pad::GET_FEATURE_REQUEST.into());
        let mut answer = [0u8; 256];
        match card.control(code, &[], &mut answer) {
            Ok(list) => Ok(crate::pin_pad::Features::parse(list).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "the reader's driver answered the feature request with a broken list");
                crate::pin_pad::Features::default()
            })),
            Err(pcsc::Error::UnsupportedFeature | pcsc::Error::InvalidParameter | pcsc::Error::InvalidValue) => {
                Ok(crate::pin_pad::Features::default())
            }
            Err(e) => Err(map_err(e)),
        }
    }
}

impl Drop for PcscCard {
    fn drop(&mut self) {
        if let Some(card) = self.card.take() {
            // The default disposition resets the card; leave it for the other programs instead.
            if let Err((card, e)) = card.disconnect(Disposition::LeaveCard) {
                tracing::debug!(error = %e, "disconnecting from the card failed");
                // Dropping the handle would disconnect again with RESET_CARD, throwing away what other programs (the
                // vendor's middleware) keep on the card: the handle is left to the service, which closes it with the
                // process or the context (a handle it refused to disconnect is one it no longer knows anyway).
                std::mem::forget(card);
            }
        }
    }
}

struct PcscTransaction<'a> {
    tx: pcsc::Transaction<'a>,
    buf: &'a mut Vec<u8>,
}

impl Transport for PcscTransaction<'_> {
    fn transmit(&mut self, capdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        match self.tx.transmit(capdu, self.buf) {
            // Every card answers at least SW1 SW2. pcsc-lite returns an empty buffer, not an error,
            // when the card goes away during the exchange (seen with vpcd): that is a removal.
            Ok([]) => Err(TransportError::Removed),
            Ok(rapdu) => Ok(rapdu.to_vec()),
            Err(e) => Err(map_err(e)),
        }
    }

    fn control(&mut self, code: u32, input: &[u8]) -> Result<Vec<u8>, TransportError> {
        let mut answer = [0u8; 258];
        match self.tx.control(pcsc::ctl_code(code.into()), input, &mut answer) {
            Ok(out) => Ok(out.to_vec()),
            Err(pcsc::Error::UnsupportedFeature | pcsc::Error::InvalidParameter) => Err(TransportError::NoControl),
            Err(e) => Err(map_err(e)),
        }
    }
}

/// A change seen by [`Watcher::wait`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReaderChange {
    ReaderAdded(String),
    ReaderRemoved(String),
    CardInserted { reader: String, atr: Vec<u8> },
    CardRemoved(String),
}

/// Watches readers through `SCardGetStatusChange`, including the `\\?PnP?\Notification` pseudo-reader
/// that signals readers being plugged in or out.
pub struct Watcher {
    ctx: Context,
    states: Vec<ReaderState>,
    primed: bool,
    /// Last event count seen per reader.
    counts: std::collections::HashMap<String, u32>,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher").field("readers", &self.states.len()).finish_non_exhaustive()
    }
}

impl Watcher {
    /// Waits up to `timeout` for changes. The first call reports every present reader and card, so a
    /// listener starts from the full picture.
    pub fn wait(&mut self, timeout: Duration) -> Result<Vec<ReaderChange>, TransportError> {
        let mut changes = Vec::new();
        self.sync_readers(&mut changes)?;
        if self.primed {
            for rs in &mut self.states {
                rs.sync_current_state();
            }
            match self.ctx.get_status_change(timeout, &mut self.states) {
                Ok(()) => {}
                Err(pcsc::Error::Timeout) => return Ok(changes),
                // With no reader at all, pcsc-lite may answer this instead of waiting on PnP.
                Err(pcsc::Error::UnknownReader) => return Ok(changes),
                Err(e) => return Err(map_err(e)),
            }
        } else {
            self.primed = true;
            self.ctx.get_status_change(Duration::ZERO, &mut self.states).or_else(|e| match e {
                pcsc::Error::Timeout => Ok(()),
                other => Err(map_err(other)),
            })?;
        }
        for rs in &self.states {
            if rs.name() == pcsc::PNP_NOTIFICATION() || !rs.event_state().contains(State::CHANGED) {
                continue;
            }
            let name = rs.name().to_string_lossy().into_owned();
            tracing::trace!(reader = %name, current = ?rs.current_state(), event = ?rs.event_state(), count = rs.event_count(), "reader state");
            let was = rs.current_state().contains(State::PRESENT);
            let is = rs.event_state().contains(State::PRESENT) && !rs.event_state().contains(State::MUTE);
            // pcsc-lite counts insertions and removals per reader: a card pulled and another put in
            // between two calls shows "present" both times, and only the count tells.
            let count = rs.event_count();
            let swapped = self.counts.insert(name.clone(), count).is_some_and(|before| before != count);
            if is && !was {
                changes.push(ReaderChange::CardInserted { reader: name, atr: rs.atr().to_vec() });
            } else if was && !is {
                changes.push(ReaderChange::CardRemoved(name));
            } else if was && is && swapped {
                changes.push(ReaderChange::CardRemoved(name.clone()));
                changes.push(ReaderChange::CardInserted { reader: name, atr: rs.atr().to_vec() });
            }
        }
        self.sync_readers(&mut changes)?;
        Ok(changes)
    }

    fn sync_readers(&mut self, changes: &mut Vec<ReaderChange>) -> Result<(), TransportError> {
        if self.states.is_empty() {
            self.states.push(ReaderState::new(pcsc::PNP_NOTIFICATION(), State::UNAWARE));
        }
        let names: Vec<CString> = match self.ctx.list_readers_owned() {
            Ok(n) => n,
            Err(pcsc::Error::NoReadersAvailable) => Vec::new(),
            Err(e) => return Err(map_err(e)),
        };
        let pnp: &CStr = pcsc::PNP_NOTIFICATION();
        self.states.retain(|rs| {
            let keep = rs.name() == pnp || names.iter().any(|n| n.as_c_str() == rs.name());
            if !keep {
                let name = rs.name().to_string_lossy().into_owned();
                if rs.current_state().contains(State::PRESENT) {
                    changes.push(ReaderChange::CardRemoved(name.clone()));
                }
                changes.push(ReaderChange::ReaderRemoved(name));
            }
            keep
        });
        for name in names {
            if !self.states.iter().any(|rs| rs.name() == name.as_c_str()) {
                changes.push(ReaderChange::ReaderAdded(name.to_string_lossy().into_owned()));
                self.states.push(ReaderState::new(name, State::UNAWARE));
            }
        }
        Ok(())
    }
}

/// PC/SC errors in the terms the user can act on: the service (not running, or failing), the reader, the card, or
/// another program. The same codes come from pcsc-lite and WinSCard; which of them Windows sends when is in
/// docs/windows.md.
pub(crate) fn map_err(e: pcsc::Error) -> TransportError {
    use pcsc::Error as E;
    match e {
        // Windows: the service stopped with the last reader (existing contexts then answer SERVICE_STOPPED).
        E::NoService | E::ServiceStopped => TransportError::NoService(e.to_string()),
        // The resource manager itself: its own failures, a context or handle it no longer knows (after it
        // restarted), logoff or shutdown cancelling calls, too busy to answer.
        E::InternalError
        | E::InvalidHandle
        | E::NoMemory
        | E::WaitedTooLong
        | E::CommError
        | E::UnknownError
        | E::SystemCancelled
        | E::Shutdown
        | E::ServerTooBusy
        | E::UnknownResMng
        | E::Cancelled => TransportError::ResourceManager(e.to_string()),
        // NOT_TRANSACTED: the transaction was lost under us, which the service does when the card leaves.
        E::RemovedCard | E::NoSmartcard | E::NotTransacted => TransportError::Removed,
        E::ResetCard => TransportError::Reset,
        E::SharingViolation => TransportError::Sharing,
        E::UnknownReader | E::ReaderUnavailable | E::ReaderUnsupported | E::DuplicateReader | E::NotReady => {
            TransportError::UnknownReader(e.to_string())
        }
        E::UnresponsiveCard
        | E::UnpoweredCard
        | E::UnsupportedCard
        | E::CardUnsupported
        | E::ProtoMismatch
        | E::InvalidAtr
        | E::CommDataLost => TransportError::Unresponsive(e.to_string()),
        other => TransportError::Pcsc(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_failures_are_not_card_answers() {
        for e in [pcsc::Error::NoService, pcsc::Error::ServiceStopped] {
            assert!(matches!(map_err(e), TransportError::NoService(_)), "{e:?}");
        }
        for e in [pcsc::Error::InternalError, pcsc::Error::InvalidHandle, pcsc::Error::CommError, pcsc::Error::Shutdown]
        {
            let mapped = map_err(e);
            assert!(matches!(mapped, TransportError::ResourceManager(_)), "{e:?}");
            assert!(!mapped.to_string().contains("card answered"), "{mapped}");
        }
        assert_eq!(map_err(pcsc::Error::ResetCard), TransportError::Reset);
        assert_eq!(map_err(pcsc::Error::SharingViolation), TransportError::Sharing);
        assert_eq!(map_err(pcsc::Error::RemovedCard), TransportError::Removed);
        assert!(matches!(map_err(pcsc::Error::ReaderUnavailable), TransportError::UnknownReader(_)));
        assert!(matches!(map_err(pcsc::Error::UnresponsiveCard), TransportError::Unresponsive(_)));
    }

    #[test]
    fn the_messages_name_this_platforms_service() {
        let no_service = map_err(pcsc::Error::NoService).to_string();
        let failed = map_err(pcsc::Error::InternalError).to_string();
        for text in [&no_service, &failed] {
            if cfg!(windows) {
                assert!(text.contains("Smart Card service") && !text.contains("pcscd"), "{text}");
            } else {
                assert!(text.contains("pcscd"), "{text}");
            }
        }
    }
}
