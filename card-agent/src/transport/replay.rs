//! Replays a recorded APDU transcript: tests check a driver's exact APDU sequence against what the
//! reference notes say a card expects, without any card.
//!
//! Format, one exchange per pair of lines; `#` starts a comment, blank lines are ignored and hex may
//! contain spaces:
//!
//! ```text
//! # SELECT the JPKI AP
//! > 00A4040C0A D392F000260100000001
//! < 9000
//! ```
//!
//! A C-APDU the transcript does not expect is an error showing both APDUs; [`Replay::finish`] also
//! reports it (and any exchanges the driver never made), so a driver that swallows errors cannot hide a
//! mismatch.

use super::{Connection, Transport, TransportError};

/// A transcript being replayed.
#[derive(Debug)]
pub struct Replay {
    atr: Vec<u8>,
    exchanges: Vec<Exchange>,
    next: usize,
    failure: Option<TransportError>,
}

#[derive(Debug)]
struct Exchange {
    line: usize,
    command: Vec<u8>,
    response: Vec<u8>,
}

/// Why a transcript file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TranscriptError {
    #[error("transcript line {0}: not hex")]
    BadHex(usize),
    #[error("transcript line {0}: expected a line starting with '>' or '<'")]
    BadLine(usize),
    #[error("transcript line {0}: a '<' response must follow each '>' command")]
    Unpaired(usize),
    #[error("transcript: {remaining} recorded exchanges were never made (next at line {line})")]
    Unused { remaining: usize, line: usize },
    #[error(transparent)]
    Failed(#[from] TransportError),
}

impl Replay {
    /// Parses a transcript.
    pub fn parse(atr: Vec<u8>, text: &str) -> Result<Self, TranscriptError> {
        let mut exchanges = Vec::new();
        let mut pending: Option<(usize, Vec<u8>)> = None;
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            let line = raw.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let (dir, rest) = line.split_at_checked(1).ok_or(TranscriptError::BadLine(line_no))?;
            let bytes = decode_hex(rest).ok_or(TranscriptError::BadHex(line_no))?;
            match (dir, pending.take()) {
                (">", None) => pending = Some((line_no, bytes)),
                ("<", Some((line, command))) => exchanges.push(Exchange { line, command, response: bytes }),
                (">" | "<", _) => return Err(TranscriptError::Unpaired(line_no)),
                _ => return Err(TranscriptError::BadLine(line_no)),
            }
        }
        if let Some((line, _)) = pending {
            return Err(TranscriptError::Unpaired(line));
        }
        Ok(Replay { atr, exchanges, next: 0, failure: None })
    }

    /// Exchanges replayed so far.
    pub fn used(&self) -> usize {
        self.next
    }

    /// Ok when every recorded exchange was made and no command differed.
    pub fn finish(&self) -> Result<(), TranscriptError> {
        if let Some(failure) = &self.failure {
            return Err(failure.clone().into());
        }
        match self.exchanges.get(self.next) {
            None => Ok(()),
            Some(e) => Err(TranscriptError::Unused { remaining: self.exchanges.len() - self.next, line: e.line }),
        }
    }
}

impl Transport for Replay {
    fn transmit(&mut self, capdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        let got = hex::encode_upper(capdu);
        let result = match self.exchanges.get(self.next) {
            None => Err(TransportError::TranscriptExhausted { got }),
            Some(e) if e.command != capdu => {
                Err(TransportError::TranscriptMismatch { line: e.line, expected: hex::encode_upper(&e.command), got })
            }
            Some(e) => Ok(e.response.clone()),
        };
        match &result {
            Ok(_) => self.next += 1,
            Err(err) => {
                if self.failure.is_none() {
                    self.failure = Some(err.clone());
                }
            }
        }
        result
    }
}

impl Connection for Replay {
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

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    hex::decode(compact).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_and_reports_mismatch_with_both_apdus() {
        let mut r = Replay::parse(vec![], "# c\n> 00A4 040C\n< 9000\n> 00B0000004\n< 6A82\n").unwrap();
        assert_eq!(r.transmit(&[0x00, 0xA4, 0x04, 0x0C]).unwrap(), vec![0x90, 0x00]);
        let err = r.transmit(&[0x00, 0xB0, 0x00, 0x00, 0x08]).unwrap_err();
        let shown = err.to_string();
        assert!(shown.contains("00B0000004") && shown.contains("00B0000008"), "{shown}");
        assert!(r.finish().is_err());
    }

    #[test]
    fn reports_unused_and_bad_files() {
        let r = Replay::parse(vec![], "> 00\n< 9000\n").unwrap();
        assert_eq!(r.finish(), Err(TranscriptError::Unused { remaining: 1, line: 1 }));
        assert_eq!(Replay::parse(vec![], "> 0G\n").unwrap_err(), TranscriptError::BadHex(1));
        assert_eq!(Replay::parse(vec![], "> 00\n").unwrap_err(), TranscriptError::Unpaired(1));
        assert_eq!(Replay::parse(vec![], "< 9000\n").unwrap_err(), TranscriptError::Unpaired(1));
        assert_eq!(Replay::parse(vec![], "x 00\n").unwrap_err(), TranscriptError::BadLine(1));
    }
}
