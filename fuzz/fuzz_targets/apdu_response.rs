//! The card agent's APDU layer: `parse_response` and the status-word mapping on the raw input, then a
//! `Session` over a fake card whose answers come from the input, and command encoding cross-checked
//! against the virtual card's independent C-APDU parser.
//!
//! Input: byte 0 picks the command; the rest is a series of answers, each a length byte and that many
//! bytes (fewer than 2 is a malformed R-APDU); when they run out the card is "removed".
//! Must hold: no panic; a response the session returns never carries 61xx; an encoded command parses
//! back to the same fields.
#![no_main]

use hcpki_agent::apdu::{self, CardError, Command, parse_response};
use hcpki_agent::transport::{Session, Transport, TransportError};
use libfuzzer_sys::fuzz_target;

struct Answers<'a>(&'a [u8]);

impl Transport for Answers<'_> {
    fn transmit(&mut self, _capdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        let (&n, rest) = self.0.split_first().ok_or(TransportError::Removed)?;
        let n = usize::from(n).min(rest.len());
        let (answer, rest) = rest.split_at(n);
        self.0 = rest;
        Ok(answer.to_vec())
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = parse_response(data) {
        let _ = (r.sw.check(), CardError::from(r.sw).to_string(), format!("{r:?}"), r.sw.is_warning());
        let _ = r.into_data();
    }

    let Some((&pick, rest)) = data.split_first() else { return };
    let cmd = command(pick, rest);
    check_encoding(&cmd);
    let mut link = Answers(rest);
    let mut s = Session::new(&mut link);
    let result = if pick & 0x80 != 0 {
        cmd.chain(usize::from(pick & 0x7F).max(1)).map(|parts| s.send_chained(&parts))
    } else {
        Ok(s.send(&cmd))
    };
    if let Ok(Ok(resp)) = result {
        assert_ne!(resp.sw.sw1(), 0x61, "61xx must be resolved by GET RESPONSE");
    }
});

/// A command of every case and size class, from one byte and the input length.
fn command(pick: u8, rest: &[u8]) -> Command {
    let lc = match pick & 0x03 {
        0 => 0,
        1 => rest.len() % 256,
        2 => 256 + rest.len() % 64,
        _ => rest.len(),
    };
    let le = match (pick >> 2) & 0x03 {
        0 => None,
        1 => Some(256),
        2 => Some(1 + rest.len() % 300),
        _ => Some(apdu::EXTENDED_MAX_NE),
    };
    let data: Vec<u8> = rest.iter().copied().cycle().take(lc).collect();
    let cmd = Command::new(pick & 0x6F, 0x2A, 0x9E, pick).with_data(&data);
    match le {
        Some(ne) => cmd.with_le(ne),
        None => cmd,
    }
}

/// The encoding parses back, with hcpki-vcard's independent parser, to the same command.
fn check_encoding(cmd: &Command) {
    let Ok(bytes) = cmd.encode() else { return };
    let parsed = hcpki_vcard::apdu::Command::parse(&bytes).expect("an encoded command parses");
    assert_eq!((parsed.cla, parsed.ins, parsed.p1, parsed.p2), (cmd.cla, cmd.ins, cmd.p1, cmd.p2));
    assert_eq!(parsed.data, &cmd.data[..]);
    assert_eq!(parsed.le, cmd.le);
    assert_eq!(parsed.extended, cmd.is_extended());
}
