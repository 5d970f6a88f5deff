//! A card that is a closure: tests drive in-process cards (scripted cards, `hcpki-vcard`) through it, optionally
//! in an emulated PIN-pad reader ([`PadKeys`]).
//!
//! The PIN-pad reader is a **test double for reader hardware** that cannot run here: no PIN-pad reader or driver
//! exists on the lab machine, and vsmartcard's vpcd answers the feature request with no feature. It does what a
//! CCID reader's firmware does with `FEATURE_VERIFY_PIN_DIRECT` (PC/SC Part 10 §2.5.2, CCID §6.1.11): reads the
//! `PIN_VERIFY_STRUCTURE` the agent sends, checks the typed PIN's length against `wPINMaxExtraDigit`, puts the
//! digits after the APDU header it was given, sets Lc and sends the VERIFY to the card, returning the card's status
//! word (or the reader's own 64 00 / 64 01 / 64 03).

use super::{Connection, Transport, TransportError};

type Exchange = Box<dyn FnMut(&[u8]) -> Result<Vec<u8>, TransportError> + Send>;

/// The control code the emulated reader gives `FEATURE_VERIFY_PIN_DIRECT` (libccid's on pcsc-lite).
pub const PAD_CONTROL_CODE: u32 = 0x4233_0006;

/// What the person does at the emulated reader's PIN pad.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PadKeys {
    /// Types these digits and presses OK.
    Type(String),
    /// Lets the reader time out.
    Nothing,
    /// Presses the cancel key.
    Cancel,
}

/// A [`Connection`] whose APDUs go to a function. Transactions are no-ops: the closure is the only
/// user of its card.
pub struct FnCard {
    atr: Vec<u8>,
    exchange: Exchange,
    pad: Option<PadKeys>,
}

impl std::fmt::Debug for FnCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FnCard").field("atr", &hex::encode_upper(&self.atr)).finish_non_exhaustive()
    }
}

impl FnCard {
    /// A card that always answers.
    pub fn new(atr: Vec<u8>, mut card: impl FnMut(&[u8]) -> Vec<u8> + Send + 'static) -> Self {
        FnCard { atr, exchange: Box::new(move |c| Ok(card(c))), pad: None }
    }

    /// A card whose link can fail, e.g. to simulate removal mid-operation.
    pub fn fallible(atr: Vec<u8>, card: impl FnMut(&[u8]) -> Result<Vec<u8>, TransportError> + Send + 'static) -> Self {
        FnCard { atr, exchange: Box::new(card), pad: None }
    }

    /// The card in an emulated PIN-pad reader where the person does `keys`.
    pub fn with_pad(mut self, keys: Option<PadKeys>) -> Self {
        self.pad = keys;
        self
    }

    /// The emulated reader's VERIFY: the structure read as the reader's firmware reads it.
    fn pad_verify(&mut self, structure: &[u8]) -> Result<Vec<u8>, TransportError> {
        let refused = || Ok(vec![0x6B, 0x80]);
        let (Some(lengths), Some(data_len), Some(apdu)) =
            (structure.get(5..7), structure.get(15..19), structure.get(19..))
        else {
            return refused();
        };
        let data_len = u32::from_le_bytes(<[u8; 4]>::try_from(data_len).unwrap_or_default());
        let (min, max) = match lengths {
            [max, min] => (usize::from(*min), usize::from(*max)),
            _ => return refused(),
        };
        // ASCII, left-justified at position 0, no inserted length: the layout the agent asks for.
        if structure.get(2) != Some(&0x82) || usize::try_from(data_len).ok() != Some(apdu.len()) || apdu.len() < 4 {
            return refused();
        }
        match self.pad.clone() {
            None => Err(TransportError::NoControl),
            Some(PadKeys::Nothing) => Ok(vec![0x64, 0x00]),
            Some(PadKeys::Cancel) => Ok(vec![0x64, 0x01]),
            Some(PadKeys::Type(digits)) if !(min..=max).contains(&digits.len()) => Ok(vec![0x64, 0x03]),
            Some(PadKeys::Type(digits)) => {
                let mut verify = apdu.get(..4).unwrap_or_default().to_vec();
                verify.push(u8::try_from(digits.len()).unwrap_or(0));
                verify.extend_from_slice(digits.as_bytes());
                let answer = (self.exchange)(&verify)?;
                Ok(answer.get(answer.len().saturating_sub(2)..).unwrap_or_default().to_vec())
            }
        }
    }
}

impl Transport for FnCard {
    fn transmit(&mut self, capdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        (self.exchange)(capdu)
    }

    fn control(&mut self, code: u32, input: &[u8]) -> Result<Vec<u8>, TransportError> {
        if self.pad.is_some() && code == PAD_CONTROL_CODE {
            self.pad_verify(input)
        } else {
            Err(TransportError::NoControl)
        }
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

    fn features(&mut self) -> Result<crate::pin_pad::Features, TransportError> {
        if self.pad.is_none() {
            return Ok(crate::pin_pad::Features::default());
        }
        let mut list = vec![crate::pin_pad::FEATURE_VERIFY_PIN_DIRECT, 4];
        list.extend_from_slice(&PAD_CONTROL_CODE.to_be_bytes());
        crate::pin_pad::Features::parse(&list).map_err(|e| TransportError::ResourceManager(e.to_string()))
    }
}
