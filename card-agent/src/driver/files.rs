//! The file steps every driver shares: SELECT that may or must succeed, and reading a whole BER object
//! (a certificate, the basic four items) from an EF in as few READ BINARY commands as its length allows.

use super::error::DriverError;
use crate::apdu::{self, Command};
use crate::tlv;
use crate::transport::Session;

/// SELECT that tells "not there" (any error status) from a working link. Probing must not fail on a
/// foreign card's 6A82/6D00/6E00.
pub(crate) fn try_select(s: &mut Session<'_>, cmd: &Command) -> Result<bool, DriverError> {
    Ok(s.send(cmd)?.sw.is_ok())
}

/// SELECT that must succeed.
pub(crate) fn select(s: &mut Session<'_>, cmd: &Command, step: &'static str) -> Result<(), DriverError> {
    s.send(cmd)?.sw.check().map_err(|error| DriverError::Status { step, error })
}

/// Reads the whole EF holding one BER object (a certificate, the basic four items). `header` is the
/// READ BINARY of its first bytes — 4 for `30 82 LL LL`, one APDU as OpenSC does — and makes the EF
/// current; a length that takes more bytes gets them read next. The body follows in chunks of up to 256
/// bytes from where the header ended, the last one asking only for what is left.
pub(crate) fn read_der_ef(s: &mut Session<'_>, header: &Command, step: &'static str) -> Result<Vec<u8>, DriverError> {
    // Longest header tlv parses: a 4-byte tag and a 5-byte length.
    const MAX_HEADER: usize = 9;
    let mut out = s.send(header)?.into_data().map_err(|error| DriverError::Status { step, error })?;
    let total = loop {
        match tlv::encoded_len(&out) {
            Ok(total) => break total,
            Err(tlv::TlvError::Truncated { needed }) if out.len() < MAX_HEADER => {
                let more = read_chunk(s, out.len(), needed, None, step)?;
                out.extend_from_slice(&more);
            }
            Err(e) => return Err(DriverError::Malformed { step, reason: e.to_string() }),
        }
    };
    // The header read may have returned more than a tiny object's length.
    out.truncate(total);
    while out.len() < total {
        let want = (total - out.len()).min(apdu::SHORT_MAX_NE);
        let chunk = read_chunk(s, out.len(), want, Some(total), step)?;
        out.extend_from_slice(chunk.get(..want).unwrap_or(&chunk));
    }
    Ok(out)
}

/// SELECTs the certificate EF `ef` of the current application and reads the whole certificate from it.
pub(crate) fn read_certificate_ef(s: &mut Session<'_>, ef: [u8; 2]) -> Result<Vec<u8>, DriverError> {
    select(s, &apdu::select_ef(ef), "SELECT certificate EF")?;
    read_der_ef(s, &apdu::read_binary(0, 4), "read certificate")
}

/// Whether the card's certificate ends with the last bytes of `cert` (the issuer's signature, unique per
/// certificate), looked for in the first of `files` (application AID, certificate EF) whose application
/// selects: SELECT application, SELECT EF, one READ BINARY.
pub(crate) fn ends_with_tail_of(
    s: &mut Session<'_>,
    files: &[(&'static [u8], [u8; 2])],
    cert: &[u8],
) -> Result<bool, DriverError> {
    let mut selected = None;
    for (aid, ef) in files {
        if try_select(s, &apdu::select_aid(aid))? {
            selected = Some(*ef);
            break;
        }
    }
    let Some(ef) = selected else { return Ok(false) };
    if !try_select(s, &apdu::select_ef(ef))? {
        return Ok(false);
    }
    let tail_len = cert.len().min(32);
    let offset = cert.len() - tail_len;
    let Ok(offset16) = u16::try_from(offset) else { return Ok(false) };
    if offset16 > 0x7FFF || tail_len == 0 {
        return Ok(false);
    }
    let resp = s.send(&apdu::read_binary(offset16, tail_len))?;
    Ok(resp.sw.is_ok() && cert.get(offset..) == Some(resp.data.as_slice()))
}

/// READ BINARY of `want` bytes at `offset` of the current EF. A card may return fewer bytes than asked
/// (the caller continues from there), but none at all, or fewer with 6282 (end of file), means the
/// object's length header promised more than the file holds.
fn read_chunk(
    s: &mut Session<'_>,
    offset: usize,
    want: usize,
    total: Option<usize>,
    step: &'static str,
) -> Result<Vec<u8>, DriverError> {
    // READ BINARY with an offset in P1-P2 has 15 bits (bit 8 of P1 would mean an SFI).
    let offset16 = u16::try_from(offset).ok().filter(|o| *o <= 0x7FFF).ok_or_else(|| DriverError::Malformed {
        step,
        reason: "the object reaches beyond offset 32767, the most READ BINARY can address".to_owned(),
    })?;
    let resp = s.send(&apdu::read_binary(offset16, want))?;
    let end_of_file = resp.sw == apdu::StatusWord(0x6282);
    let chunk = resp.into_data().map_err(|error| DriverError::Status { step, error })?;
    if chunk.is_empty() || (end_of_file && chunk.len() < want) {
        let shown = total.map_or_else(|| "a longer header".to_owned(), |t| format!("{t} bytes"));
        return Err(DriverError::Malformed {
            step,
            reason: format!("the file ends at byte {} but its length header announces {shown}", offset + chunk.len()),
        });
    }
    Ok(chunk)
}
