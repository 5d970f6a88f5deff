//! What one emulated card type implements: the virtual twin of the agent's `driver::CardDriver`. An applet
//! answers C-APDUs as its card does; [`crate::card::VirtualCard`] adds power, reset, the transcript and the
//! counters around it, and knows applets only through this trait and the [`crate::card::Emulated`] table.

use crate::apdu::{Command, Response};
use hcpki_agent_protocol::CardKind;

/// One emulated card type (JPKI, HPKI): its answers to commands and its volatile state.
pub trait Applet {
    /// Which kind of card this is.
    fn kind(&self) -> CardKind;

    /// The answer to reset the card presents.
    fn atr(&self) -> &[u8];

    /// One command, CLA already screened for logical channels and secure messaging.
    fn process(&mut self, cmd: &Command<'_>) -> Response;

    /// Reset or power cycle: the volatile state goes (selection, verified PINs), PIN counters stay.
    fn reset(&mut self);

    /// Signatures made since the card was created.
    fn signatures(&self) -> u64;
}
