//! Why a driver operation failed, and why a PIN was refused before any try was spent. Shared by every driver
//! and by the APDU steps they are built from, so it sits below both.

use crate::apdu::{ApduError, CardError};
use crate::service::KeyRole;
use crate::transport::{ExchangeError, TransportError};

/// Why a driver operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// The link to the card failed (removed, reset, PC/SC down); the variant says what to do.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// A step got a status word it cannot continue after: the card is not in the state the driver
    /// expects (another program's doing, or a card generation the driver does not know). Re-insert it.
    #[error("{step}: {error}")]
    Status { step: &'static str, error: CardError },
    /// The card's data is not what the step expects (bad length header, short read, bad TLV): a faulty
    /// or unknown card. Re-insert it; if it persists, the card is not supported.
    #[error("{step}: malformed card data: {reason}")]
    Malformed { step: &'static str, reason: String },
    /// The PIN was wrong; `tries_left` remain.
    #[error("wrong PIN: {tries_left} tries left")]
    WrongPin { tries_left: u8 },
    /// The PIN is blocked; the issuer must unblock it.
    #[error("the PIN is blocked: the card's issuer must unblock it")]
    PinBlocked,
    /// Nobody typed the PIN on the reader's PIN pad within the seconds given; no try was spent.
    #[error("no PIN was typed on the reader's PIN pad within {0} seconds (no try was spent): start again")]
    PadTimedOut(u8),
    /// The PIN entry was cancelled with the PIN pad's cancel key; no try was spent.
    #[error("the PIN entry was cancelled on the reader's PIN pad (no try was spent)")]
    PadCancelled,
    /// The PIN typed on the pad is shorter or longer than the card takes; the reader sent nothing to the card.
    #[error("the PIN typed on the reader's PIN pad is too short or too long (no try was spent): type it again")]
    PadWrongLength,
    /// The reader refused the PIN pad request (answer in hex): a reader whose pad does not take this layout.
    #[error(
        "the reader refused the PIN pad request (it answered {0}): set pin_pad = \"off\" in agent.toml to type the \
         PIN on the agent's page, and report the reader's model"
    )]
    PadRefused(String),
    /// The PIN does not have the card's format; no try was spent.
    #[error(transparent)]
    PinFormat(#[from] PinFormatError),
    /// This card has no key (application) for that role: use the other role or another card.
    #[error("this card has no {0:?} key")]
    NoKey(KeyRole),
    /// The DigestInfo to sign is empty or longer than the card takes: a caller bug (use SHA-256).
    #[error("a DigestInfo of {len} bytes cannot be signed by this card (at most {max} bytes)")]
    DigestInfo { len: usize, max: usize },
    /// The card kind does not offer this operation.
    #[error("not supported by this card: {0}")]
    Unsupported(&'static str),
    /// The agent refused to sign what it was about to derive (a document it cannot sign with this certificate);
    /// nothing was signed.
    #[error("{0}")]
    Refused(String),
    /// A command could not be encoded: a driver bug, never the card's fault.
    #[error("cannot encode a command: {0}")]
    Encode(#[from] ApduError),
}

impl From<ExchangeError> for DriverError {
    fn from(e: ExchangeError) -> Self {
        match e {
            ExchangeError::Transport(t) => DriverError::Transport(t),
            ExchangeError::Encode(a) => DriverError::Encode(a),
            ExchangeError::Malformed(m) => DriverError::Malformed { step: "response", reason: m.to_string() },
            ExchangeError::ResponseTooLong(n) => {
                DriverError::Malformed { step: "GET RESPONSE", reason: format!("more than {n} bytes") }
            }
            ExchangeError::NoProgress => DriverError::Malformed { step: "GET RESPONSE", reason: e.to_string() },
        }
    }
}

/// A PIN that would be refused by the card's format rules. Says the rule, never the PIN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PinFormatError {
    /// A JPKI authentication or text-AP PIN: type exactly that many digits.
    #[error("the PIN must be exactly {0} digits (no PIN try was spent)")]
    Digits(usize),
    /// The JPKI signing password: 6–16 letters and digits (lower case is accepted and upper-cased).
    #[error("the signing password must be 6 to 16 letters A-Z or digits 0-9 (no PIN try was spent)")]
    JpkiSignPassword,
    /// An HPKI PIN: printable ASCII (no kana, no full-width characters) within the card's lengths.
    #[error("the PIN must be {min} to {max} printable ASCII characters (no PIN try was spent)")]
    Ascii { min: usize, max: usize },
}
