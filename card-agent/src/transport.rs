//! How APDUs reach a card. A [`Connection`] is one card in one reader; [`Connection::begin`] opens one
//! exclusive transaction, and every multi-APDU operation runs inside one, so no other program's APDUs can
//! interleave (JAHIS §5.3.3 asks for exactly this exclusive control). [`Session`] sits on top: it
//! resolves 61xx (GET RESPONSE) and 6Cxx (re-send with the Le the card asked for) and counts APDUs.
//!
//! Implementations: [`pcsc`] (the real readers), [`replay`] (recorded transcripts for tests) and [`func`]
//! (a closure, to drive an in-process card).

pub mod func;
pub mod pcsc;
pub mod replay;

use crate::apdu::{self, ApduError, Command, Response, ResponseError};
use crate::platform::Platform;

/// Sends one encoded C-APDU and returns the raw R-APDU bytes.
pub trait Transport {
    fn transmit(&mut self, capdu: &[u8]) -> Result<Vec<u8>, TransportError>;

    /// `SCardControl(code, input)` inside the transaction: the reader's own commands (PC/SC Part 10), e.g. a VERIFY
    /// the reader completes with the PIN typed on its pad ([`crate::pin_pad`]). Readers that are not PC/SC have none.
    fn control(&mut self, _code: u32, _input: &[u8]) -> Result<Vec<u8>, TransportError> {
        Err(TransportError::NoControl)
    }
}

impl<T: Transport + ?Sized> Transport for &mut T {
    fn transmit(&mut self, capdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        (**self).transmit(capdu)
    }

    fn control(&mut self, code: u32, input: &[u8]) -> Result<Vec<u8>, TransportError> {
        (**self).control(code, input)
    }
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn transmit(&mut self, capdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        (**self).transmit(capdu)
    }

    fn control(&mut self, code: u32, input: &[u8]) -> Result<Vec<u8>, TransportError> {
        (**self).control(code, input)
    }
}

/// One card in one reader, as the broker holds it between operations.
pub trait Connection: Send {
    /// The card's answer to reset, as seen when connecting.
    fn atr(&self) -> &[u8];
    /// Opens one exclusive transaction; it ends when the returned transport is dropped.
    fn begin(&mut self) -> Result<Box<dyn Transport + '_>, TransportError>;
    /// Re-establishes the link after another program reset the card ([`TransportError::Reset`]). The
    /// card's security status is gone afterwards: re-select the application and verify again.
    fn reconnect(&mut self) -> Result<(), TransportError>;
    /// The reader's PC/SC Part 10 features (`CM_IOCTL_GET_FEATURE_REQUEST`), e.g. whether it has a PIN pad
    /// ([`crate::pin_pad`]). Readers that are not PC/SC (recorded transcripts, in-process cards) have none.
    fn features(&mut self) -> Result<crate::pin_pad::Features, TransportError> {
        Ok(crate::pin_pad::Features::default())
    }
}

/// Why APDUs could not be exchanged. Each variant says what the user (or the test author) should do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The PC/SC service is not running (or went away; Windows stops its Smart Card service when the last reader is
    /// unplugged): start pcscd, or plug a reader in (the service starts by itself).
    #[error(
        "{service} is not available ({0}): {what}",
        service = Platform::CURRENT.pcsc_service(),
        what = Platform::CURRENT.when_no_service()
    )]
    NoService(String),
    /// The PC/SC service answered with a failure of its own (an internal error, a handle it no longer knows, logoff or
    /// shutdown in progress): not the card's doing. Re-plug the reader, restart the service.
    #[error(
        "{service} failed ({0}): {what}",
        service = Platform::CURRENT.pcsc_service(),
        what = Platform::CURRENT.when_service_fails()
    )]
    ResourceManager(String),
    /// No card in the reader: insert one.
    #[error("no card in the reader: insert the card")]
    NoCard,
    /// The reader takes no control commands (not a PC/SC reader, or a driver without them): a PIN pad is not
    /// there to use; type the PIN on the agent's page instead.
    #[error("this reader takes no control commands (no PIN pad): type the PIN on the agent's page")]
    NoControl,
    /// The card was removed (or swapped) since it was connected: insert it and try again.
    #[error("the card was removed: insert it and try again")]
    Removed,
    /// Another program reset the card; the operation must be restarted from the application SELECT.
    #[error("another program reset the card: try again")]
    Reset,
    /// The reader is gone or unknown: check the reader name and its cable.
    #[error("reader {0:?} is not available: check the reader name and cable")]
    UnknownReader(String),
    /// Another program holds the card exclusively (on Windows, often the vendor's middleware or Windows' own
    /// smart-card components reading a card just inserted): close that program and try again.
    #[error("another program is using the card exclusively: close it and try again")]
    Sharing,
    /// The card does not answer as a card should (unpowered, mute, an ATR or protocol the reader cannot use):
    /// re-insert it; a card that keeps doing so is faulty.
    #[error("the card does not respond ({0}): take it out of the reader, put it back and try again")]
    Unresponsive(String),
    /// Any other PC/SC failure, with the PC/SC error for diagnosis.
    #[error("PC/SC error: {0}")]
    Pcsc(String),
    /// A replayed transcript expected a different command: the driver sends something the recording
    /// does not contain. Both APDUs are shown in hex.
    #[error("transcript line {line}: expected C-APDU {expected}, the driver sent {got}")]
    TranscriptMismatch { line: usize, expected: String, got: String },
    /// A replayed transcript ran out while the driver still sends APDUs.
    #[error("transcript exhausted: the driver sent {got} after the last recorded exchange")]
    TranscriptExhausted { got: String },
}

/// Why one exchange failed: the link, the card's bytes, or a command we could not encode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExchangeError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error(transparent)]
    Malformed(#[from] ResponseError),
    #[error(transparent)]
    Encode(#[from] ApduError),
    /// The card keeps answering 61xx beyond any plausible response size: a faulty card.
    #[error("the card sent more than {0} bytes of GET RESPONSE data: re-insert the card")]
    ResponseTooLong(usize),
    /// The card answered GET RESPONSE with no data yet still announced more (61xx): a faulty card that
    /// would otherwise keep the exchange looping forever.
    #[error("the card keeps announcing response data it does not send: re-insert the card")]
    NoProgress,
}

/// Upper bound on data gathered through GET RESPONSE: the largest extended response.
const MAX_RESPONSE: usize = apdu::EXTENDED_MAX_NE;

/// APDU exchange inside one transaction, with 61xx/6Cxx resolved and every APDU counted.
pub struct Session<'t> {
    link: &'t mut dyn Transport,
    apdus: u32,
    /// Time spent waiting for the card (reader, PC/SC service and card), for the benchmark's split of
    /// agent overhead from card time.
    in_card: std::time::Duration,
}

impl std::fmt::Debug for Session<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("apdus", &self.apdus).finish_non_exhaustive()
    }
}

impl<'t> Session<'t> {
    pub fn new(link: &'t mut dyn Transport) -> Self {
        Session { link, apdus: 0, in_card: std::time::Duration::ZERO }
    }

    /// APDUs exchanged so far, including GET RESPONSE and re-sends.
    pub fn apdus(&self) -> u32 {
        self.apdus
    }

    /// Time spent inside [`Transport::transmit`] so far.
    pub fn in_card(&self) -> std::time::Duration {
        self.in_card
    }

    /// Sends a command and returns the card's final response (any status word but 61xx/6Cxx).
    pub fn send(&mut self, cmd: &Command) -> Result<Response, ExchangeError> {
        let mut resp = self.raw(&cmd.encode()?)?;
        if resp.sw.sw1() == 0x6C {
            // Wrong Le: the card says how many bytes it has; ask again with exactly that.
            let ne = if resp.sw.sw2() == 0 { apdu::SHORT_MAX_NE } else { usize::from(resp.sw.sw2()) };
            let again = cmd.clone().with_le(ne);
            resp = self.raw(&again.encode()?)?;
        }
        let mut data = std::mem::take(&mut resp.data);
        while resp.sw.sw1() == 0x61 {
            let ne = if resp.sw.sw2() == 0 { apdu::SHORT_MAX_NE } else { usize::from(resp.sw.sw2()) };
            let get_response = Command::new(0x00, 0xC0, 0x00, 0x00).with_le(ne);
            resp = self.raw(&get_response.encode()?)?;
            if resp.data.is_empty() && resp.sw.sw1() == 0x61 {
                return Err(ExchangeError::NoProgress);
            }
            data.extend_from_slice(&resp.data);
            if data.len() > MAX_RESPONSE {
                return Err(ExchangeError::ResponseTooLong(MAX_RESPONSE));
            }
        }
        Ok(Response { data, sw: resp.sw })
    }

    /// Sends a command split by command chaining; returns the response to the last part. Any failure
    /// on an intermediate part is returned as that part's response.
    pub fn send_chained(&mut self, parts: &[Command]) -> Result<Response, ExchangeError> {
        let mut last = Response { data: Vec::new(), sw: apdu::StatusWord::OK };
        for part in parts {
            last = self.send(part)?;
            if !last.sw.is_ok() {
                return Ok(last);
            }
        }
        Ok(last)
    }

    /// A reader command ([`Transport::control`]), timed with the card's share: a PIN pad's VERIFY waits for the
    /// person at the reader and for the card.
    pub fn control(&mut self, code: u32, input: &[u8]) -> Result<Vec<u8>, TransportError> {
        let started = std::time::Instant::now();
        let answer = self.link.control(code, input);
        self.in_card += started.elapsed();
        answer
    }

    fn raw(&mut self, capdu: &[u8]) -> Result<Response, ExchangeError> {
        self.apdus = self.apdus.saturating_add(1);
        let started = std::time::Instant::now();
        let rapdu = self.link.transmit(capdu);
        self.in_card += started.elapsed();
        let rapdu = rapdu?;
        Ok(apdu::parse_response(&rapdu)?)
    }
}

#[cfg(test)]
mod tests {
    use super::func::FnCard;
    use super::*;

    #[test]
    fn resolves_get_response_and_wrong_le() {
        let mut card = FnCard::new(vec![], |c: &[u8]| match c {
            [0x00, 0xB0, 0, 0, 0x10] => vec![0x6C, 0x04],
            [0x00, 0xB0, 0, 0, 0x04] => vec![1, 2, 3, 4, 0x90, 0x00],
            [0x00, 0xCA, 0, 0] => vec![9, 0x61, 0x02],
            [0x00, 0xC0, 0, 0, 0x02] => vec![8, 7, 0x61, 0x00],
            [0x00, 0xC0, 0, 0, 0x00] => vec![6, 0x90, 0x00],
            _ => vec![0x6D, 0x00],
        });
        let mut s = Session::new(&mut card);
        let r = s.send(&apdu::read_binary(0, 16)).unwrap();
        assert_eq!((r.data, r.sw), (vec![1, 2, 3, 4], apdu::StatusWord::OK));
        assert_eq!(s.apdus(), 2);
        let r = s.send(&Command::new(0, 0xCA, 0, 0)).unwrap();
        assert_eq!(r.data, vec![9, 8, 7, 6]);
        assert_eq!(s.apdus(), 5);
    }

    #[test]
    fn endless_get_response_is_an_error() {
        let mut card = FnCard::new(vec![], |_c: &[u8]| {
            let mut r = vec![0u8; 256];
            r.extend_from_slice(&[0x61, 0x00]);
            r
        });
        let mut s = Session::new(&mut card);
        assert_eq!(s.send(&Command::new(0, 0xCA, 0, 0)), Err(ExchangeError::ResponseTooLong(MAX_RESPONSE)));
    }

    #[test]
    fn get_response_without_data_is_an_error() {
        let mut card = FnCard::new(vec![], |_c: &[u8]| vec![0x61, 0x10]);
        let mut s = Session::new(&mut card);
        assert_eq!(s.send(&Command::new(0, 0xCA, 0, 0)), Err(ExchangeError::NoProgress));
        assert_eq!(s.apdus(), 2);
    }

    #[test]
    fn short_response_is_malformed() {
        let mut card = FnCard::new(vec![], |_c: &[u8]| vec![0x90]);
        let mut s = Session::new(&mut card);
        assert_eq!(s.send(&Command::new(0, 0xCA, 0, 0)), Err(ExchangeError::Malformed(ResponseError::TooShort(1))));
    }
}
