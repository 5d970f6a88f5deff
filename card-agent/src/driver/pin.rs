//! The PIN steps every driver shares: VERIFY with its status words turned into the errors users see, the
//! retry counter read without spending a try, and the "exactly n digits" format rule.

use zeroize::Zeroizing;

use super::error::{DriverError, PinFormatError};
use crate::apdu::{self, CardError};
use crate::transport::Session;

/// A PIN's retry counter as the card reports it without spending a try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinStatus {
    /// 63Cx: x tries left.
    TriesLeft(u8),
    /// The card answered 9000 (already verified in this application) or gave no counter.
    Unknown,
    /// 6983/6984 or 63C0: no try left.
    Blocked,
}

/// Where VERIFY's PIN comes from: typed on the agent's page (checked against the card's format), or typed on the
/// reader's own PIN pad, which completes the VERIFY itself so the PIN never reaches the host ([`crate::pin_pad`]).
#[derive(Debug)]
pub enum PinSource<'a> {
    /// The PIN's bytes.
    Typed(&'a [u8]),
    /// The reader's PIN pad.
    Pad(PadEntry),
}

/// A VERIFY on the reader's PIN pad: its `FEATURE_VERIFY_PIN_DIRECT` control code, the PIN's length, how long
/// the reader waits for the person, the language of its prompt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PadEntry {
    pub code: u32,
    pub length: crate::pin_pad::PinLength,
    pub timeout_secs: u8,
    pub lang: hcpki_html::Lang,
}

/// VERIFY with the PIN. Only 9000 is success: some cards answer a failed VERIFY with 6300, which the
/// generic status check would pass as a warning. 63Cx and 6983/6984 become the PIN errors the user sees. On a
/// PIN pad the reader sends the VERIFY and returns the card's status word, or its own word for the pad's ends.
pub(crate) fn verify(s: &mut Session<'_>, p2: u8, pin: &PinSource<'_>) -> Result<(), DriverError> {
    use crate::pin_pad::{PadOutcome, verify_structure};
    let sw = match pin {
        PinSource::Typed(pin) => s.send(&apdu::verify(p2, pin))?.sw,
        PinSource::Pad(pad) => {
            let answer = s.control(pad.code, &verify_structure(p2, pad.length, pad.timeout_secs, pad.lang))?;
            match PadOutcome::of(&answer) {
                Some(PadOutcome::Card(sw)) => apdu::StatusWord(sw),
                Some(PadOutcome::TimedOut) => return Err(DriverError::PadTimedOut(pad.timeout_secs)),
                Some(PadOutcome::Cancelled) => return Err(DriverError::PadCancelled),
                Some(PadOutcome::WrongLength) => return Err(DriverError::PadWrongLength),
                Some(PadOutcome::Refused) | None => {
                    return Err(DriverError::PadRefused(hex::encode_upper(&answer)));
                }
            }
        }
    };
    if sw.is_ok() {
        return Ok(());
    }
    Err(match CardError::from(sw) {
        CardError::WrongPin { tries_left: 0 } | CardError::Blocked(_) => DriverError::PinBlocked,
        CardError::WrongPin { tries_left } => DriverError::WrongPin { tries_left },
        error => DriverError::Status { step: "VERIFY", error },
    })
}

/// VERIFY without data: the card reports the retry counter (63Cx) without spending a try.
pub(crate) fn query_pin(s: &mut Session<'_>, p2: u8) -> Result<PinStatus, DriverError> {
    let sw = s.send(&apdu::verify(p2, &[]))?.sw;
    Ok(match CardError::from(sw) {
        _ if sw.is_ok() => PinStatus::Unknown,
        CardError::WrongPin { tries_left: 0 } | CardError::Blocked(_) => PinStatus::Blocked,
        CardError::WrongPin { tries_left } => PinStatus::TriesLeft(tries_left),
        error => return Err(DriverError::Status { step: "PIN retry counter", error }),
    })
}

/// Checks "exactly n digits".
pub(crate) fn digits(pin: &str, n: usize) -> Result<Zeroizing<Vec<u8>>, PinFormatError> {
    if pin.len() == n && pin.bytes().all(|b| b.is_ascii_digit()) {
        Ok(Zeroizing::new(pin.as_bytes().to_vec()))
    } else {
        Err(PinFormatError::Digits(n))
    }
}
