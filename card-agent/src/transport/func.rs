//! A card that is a closure: tests drive in-process cards (scripted cards, `hcpki-vcard`) through it.

use super::{Connection, Transport, TransportError};

type Exchange = Box<dyn FnMut(&[u8]) -> Result<Vec<u8>, TransportError> + Send>;

/// A [`Connection`] whose APDUs go to a function. Transactions are no-ops: the closure is the only
/// user of its card.
pub struct FnCard {
    atr: Vec<u8>,
    exchange: Exchange,
}

impl std::fmt::Debug for FnCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FnCard").field("atr", &hex::encode_upper(&self.atr)).finish_non_exhaustive()
    }
}

impl FnCard {
    /// A card that always answers.
    pub fn new(atr: Vec<u8>, mut card: impl FnMut(&[u8]) -> Vec<u8> + Send + 'static) -> Self {
        FnCard { atr, exchange: Box::new(move |c| Ok(card(c))) }
    }

    /// A card whose link can fail, e.g. to simulate removal mid-operation.
    pub fn fallible(atr: Vec<u8>, card: impl FnMut(&[u8]) -> Result<Vec<u8>, TransportError> + Send + 'static) -> Self {
        FnCard { atr, exchange: Box::new(card) }
    }
}

impl Transport for FnCard {
    fn transmit(&mut self, capdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        (self.exchange)(capdu)
    }
}

impl Connection for FnCard {
    fn atr(&self) -> &[u8] {
        &self.atr
    }

    fn begin(&mut self) -> Result<Box<dyn Transport + '_>, TransportError> {
        Ok(Box::new(self))
    }

    fn reconnect(&mut self) -> Result<(), TransportError> {
        Ok(())
    }
}
