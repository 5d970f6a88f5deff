//! Other programs on the same card (issue #44). On Windows, a card just inserted is touched by Windows' own
//! components — Smart Card Plug and Play looking for a minidriver, Certificate Propagation copying its certificates into
//! the user's store — and by vendor middleware (the JPKI 利用者クライアントソフト, HPKI minidrivers): they may reset
//! it (`SCARD_W_RESET_CARD` at our next call) or hold it exclusively for a moment (`SCARD_E_SHARING_VIOLATION`).
//! pcscd users do the same on Linux (OpenSC, `opensc-tool --reset`). The broker answers both here, one card step
//! (one PC/SC transaction) at a time:
//!
//! * a reset: reconnect (LEAVE_CARD: the other program's state stays as it left it) and run the step again from its
//!   application SELECT — what a reset undid. Nothing of ours reached the card: the service refuses every call of a
//!   handle that has not seen the reset yet, so a VERIFY is never sent twice. Up to [`MAX_RESETS`] per step: more means
//!   a program keeps resetting the card, and the user is told.
//! * a sharing violation: wait and try again, 50 ms doubling to 1 s, for up to [`SHARING_PATIENCE`]; then tell the
//!   user which program to close. The agent itself never opens a card exclusively and never resets one, and asks for a
//!   PIN only between transactions, so it never holds a card while a person types.

use std::time::Duration;

use crate::transport::TransportError;

/// Resets tolerated in one step: Plug and Play, Certificate Propagation and a vendor minidriver may each reset a card
/// just inserted.
pub(super) const MAX_RESETS: u8 = 3;
/// How long another program may hold a card exclusively before the user is asked to close it.
pub(super) const SHARING_PATIENCE: Duration = Duration::from_secs(5);
const FIRST_WAIT: Duration = Duration::from_millis(50);
const LONGEST_WAIT: Duration = Duration::from_secs(1);

/// What to do after a card step failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Next {
    /// Another program reset the card: reconnect, then run the step again.
    Reconnect,
    /// Another program holds the card: wait this long, then run the step again.
    Wait(Duration),
    /// Report the failure.
    GiveUp,
}

/// The retries one step has had.
#[derive(Debug, Default)]
pub(super) struct OtherPrograms {
    resets: u8,
    sharing_waits: u32,
    waited: Duration,
}

impl OtherPrograms {
    /// What to do after `error`, counting this retry.
    pub(super) fn after(&mut self, error: &TransportError) -> Next {
        match error {
            TransportError::Reset if self.resets < MAX_RESETS => {
                self.resets += 1;
                Next::Reconnect
            }
            TransportError::Sharing => {
                let wait = FIRST_WAIT.saturating_mul(1u32 << self.sharing_waits.min(8)).min(LONGEST_WAIT);
                if self.waited.saturating_add(wait) > SHARING_PATIENCE {
                    return Next::GiveUp;
                }
                self.sharing_waits += 1;
                self.waited += wait;
                Next::Wait(wait)
            }
            _ => Next::GiveUp,
        }
    }

    /// The error to report when a step gives up after `last`: a card reset again and again says so.
    pub(super) fn exhausted(&self, last: TransportError) -> TransportError {
        match last {
            TransportError::Reset => TransportError::Pcsc(format!(
                "another program reset the card {} times in a row: close the programs that use the card (vendor \
                 middleware, another card tool) and try again",
                self.resets + 1
            )),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resets_are_answered_by_reconnecting_a_few_times() {
        let mut p = OtherPrograms::default();
        for _ in 0..MAX_RESETS {
            assert_eq!(p.after(&TransportError::Reset), Next::Reconnect);
        }
        assert_eq!(p.after(&TransportError::Reset), Next::GiveUp);
        assert!(p.exhausted(TransportError::Reset).to_string().contains("reset the card 4 times"));
    }

    #[test]
    fn a_sharing_violation_is_waited_out_with_growing_pauses_then_reported() {
        let mut p = OtherPrograms::default();
        let mut waits = Vec::new();
        while let Next::Wait(d) = p.after(&TransportError::Sharing) {
            waits.push(d);
        }
        assert_eq!(&waits[..5], &[50, 100, 200, 400, 800].map(Duration::from_millis));
        assert!(waits.iter().all(|w| *w <= LONGEST_WAIT));
        let total: Duration = waits.iter().sum();
        assert!(total <= SHARING_PATIENCE && total >= SHARING_PATIENCE - LONGEST_WAIT, "{total:?}");
        assert_eq!(p.exhausted(TransportError::Sharing), TransportError::Sharing);
    }

    #[test]
    fn nothing_else_is_retried() {
        for e in [
            TransportError::Removed,
            TransportError::NoCard,
            TransportError::NoService("x".into()),
            TransportError::ResourceManager("x".into()),
        ] {
            assert_eq!(OtherPrograms::default().after(&e), Next::GiveUp, "{e}");
        }
    }
}
