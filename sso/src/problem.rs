//! What went wrong, as the person at the PC reads it (issue #26 item 2): one [`Problem`] per state a physician
//! can meet on the way in or while signed in — the card agent, the reader, the card and its PIN, the card's and
//! the PC's certificates, the facility, a service's policy, a session that ended — each with a stable
//! [`code`](Problem::code) (the box's `data-problem`, the login page's `?problem=`, the docs' anchors) and
//! what the box needs to say it (the card's kind, the tries left, the refused service and its cure).
//!
//! The list only: the words (Japanese and English) and the box's HTML are the server's
//! (`server/src/portal/problem.rs`, D122). The handlers decide which problem a refusal is and where the box goes
//! (the login page's notice slot, or a page of its own); [`Problem::from_query`] is the one parser of what a
//! browser may ask the login page to show, strict by construction (D58).

use crate::login::CardLoginError;
use hcpki_agent_protocol::CardKind;

/// Most PIN tries a card is said to have left (the HPKI card's counter is 15, JPKI's 3): a larger number in a
/// query is no tries count of any card, and is not shown.
pub const MAX_TRIES: u8 = 15;

/// A state a person can meet, with what the page needs to say it. Exhaustive on purpose: the server's box
/// (`server/src/portal/problem.rs`) words every problem, and a new one must fail its build until it is worded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The login page's script cannot reach the local card agent.
    AgentNotRunning,
    /// The agent runs but sees no card reader.
    NoReader,
    /// No card of the kind asked is in a reader (and no card of the other kind either).
    NoCard,
    /// More than one card of the kind asked.
    SeveralCards,
    /// The button asked for `asked`, and the card in the reader is the other kind.
    WrongCard {
        /// The kind of card the person asked to log in with.
        asked: CardKind,
    },
    /// The card's certificate chains to no trust anchor of this portal (or its issuer was revoked).
    CardUntrusted,
    /// The card's certificate is past its notAfter (or not valid yet).
    CardExpired {
        /// The card's kind (whom to turn to), as the button said.
        kind: CardKind,
    },
    /// The card's certificate is on its issuer's CRL.
    CardRevoked {
        /// The card's kind (whom to turn to), as the button said.
        kind: CardKind,
    },
    /// Any other refusal of a card login (a stale or replayed request, a bad signature): retry.
    LoginFailed,
    /// The connection's certificate is not a facility PC certificate this portal registered.
    PcCertMissing,
    /// The PC certificate is past its notAfter.
    PcCertExpired,
    /// The PC certificate is revoked.
    PcCertRevoked,
    /// The PC certificate is on hold (certificateHold).
    PcCertOnHold,
    /// A wrong PIN: the card counts down.
    WrongPin {
        /// Tries left, when the agent said.
        tries_left: Option<u8>,
    },
    /// One try left: the agent asked for no PIN; the person may confirm and use it.
    LastTry {
        /// The kind of card (the confirming button logs in with it again).
        kind: CardKind,
    },
    /// The PIN is blocked.
    PinLocked {
        /// The card's kind: whom to contact differs.
        kind: CardKind,
    },
    /// The agent's PIN window was not answered in time.
    PinTimeout,
    /// The card did not answer as a card should (pulled out during the operation, no key, a card error).
    CardError,
    /// The facility is suspended (or otherwise not active).
    FacilitySuspended {
        /// Its name, as the registry holds it.
        facility: String,
    },
    /// A service's policy refused this login.
    ServiceRefused {
        /// The service's name.
        service: String,
        /// What would allow it.
        cure: Cure,
        /// The policy's own reason (English, as audited).
        reason: String,
        /// The relying service's redirect with `error=access_denied` (the way back to it).
        back: Option<String>,
    },
    /// The session ended because the login card left the reader (the page's card watch, or the lapsed presence
    /// lease).
    EndedCardRemoved,
    /// The session reached its end time.
    EndedTimeout,
    /// An operator or facility administrator ended the session (or disabled the account, retired the facility).
    EndedByAdmin,
    /// A refresh token a service held for this login was presented after it had been replaced: someone may have
    /// copied it, so the login ended (RFC 9700 §4.14.2, D152).
    EndedTokenReused,
    /// The session's cookie came back from another PC or another browser than the one it was made on (D161): the
    /// session was ended, as its cookie is out.
    EndedOtherTerminal,
    /// Nothing was done in the session for longer than the idle limit (`[portal] idle_minutes`, D161): it was
    /// locked (ended); the person signs in again.
    EndedIdle,
}

/// What would let a refused service open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cure {
    /// A card login (the assurance or qualification a password or JPKI login lacks).
    CardLogin,
    /// A facility PC.
    FacilityPc,
    /// Nothing the person can do here: the service's conditions.
    Conditions,
}

impl Problem {
    /// The stable code: `data-problem`, `?problem=`, the docs' anchors.
    pub fn code(&self) -> &'static str {
        match self {
            Self::AgentNotRunning => "agent_not_running",
            Self::NoReader => "no_reader",
            Self::NoCard => "no_card",
            Self::SeveralCards => "several_cards",
            Self::WrongCard { .. } => "wrong_card",
            Self::CardUntrusted => "card_untrusted",
            Self::CardExpired { .. } => "card_expired",
            Self::CardRevoked { .. } => "card_revoked",
            Self::LoginFailed => "login_failed",
            Self::PcCertMissing => "pc_cert_missing",
            Self::PcCertExpired => "pc_cert_expired",
            Self::PcCertRevoked => "pc_cert_revoked",
            Self::PcCertOnHold => "pc_cert_on_hold",
            Self::WrongPin { .. } => "wrong_pin",
            Self::LastTry { .. } => "last_try",
            Self::PinLocked { .. } => "pin_locked",
            Self::PinTimeout => "pin_timeout",
            Self::CardError => "card_error",
            Self::FacilitySuspended { .. } => "facility_suspended",
            Self::ServiceRefused { .. } => "service_refused",
            Self::EndedCardRemoved => "ended_card_removed",
            Self::EndedTimeout => "ended_timeout",
            Self::EndedByAdmin => "ended_by_admin",
            Self::EndedTokenReused => "ended_token_reused",
            Self::EndedOtherTerminal => "ended_other_terminal",
            Self::EndedIdle => "ended_idle",
        }
    }

    /// The problem a browser may ask the login page to show (`?problem=<code>&tries_left=N&kind=hpki|jpki`):
    /// only the states the page's own scripts meet (the card agent's answers, a session the card watch or the
    /// server ended), never one whose words carry data from the server (a facility, a service), and nothing
    /// for an unknown code. A tries count above [`MAX_TRIES`] or a kind other than `hpki`/`jpki` is dropped
    /// (the kind defaults to HPKI, the portal's card).
    pub fn from_query(code: &str, tries_left: Option<&str>, kind: Option<&str>) -> Option<Self> {
        let kind = kind.and_then(|k| k.parse::<CardKind>().ok()).unwrap_or(CardKind::Hpki);
        Some(match code {
            "agent_not_running" => Self::AgentNotRunning,
            "no_reader" => Self::NoReader,
            "no_card" => Self::NoCard,
            "several_cards" => Self::SeveralCards,
            "wrong_card" => Self::WrongCard { asked: kind },
            "wrong_pin" => Self::WrongPin { tries_left: tries_left.and_then(tries) },
            "last_try" => Self::LastTry { kind },
            "pin_locked" => Self::PinLocked { kind },
            "pin_timeout" => Self::PinTimeout,
            "card_error" => Self::CardError,
            "ended_card_removed" => Self::EndedCardRemoved,
            "ended_timeout" => Self::EndedTimeout,
            "ended_by_admin" => Self::EndedByAdmin,
            "ended_token_reused" => Self::EndedTokenReused,
            "ended_other_terminal" => Self::EndedOtherTerminal,
            "ended_idle" => Self::EndedIdle,
            _ => return None,
        })
    }

    /// The problem of a refused card login; `button` is the kind of card the person asked to log in with
    /// (the chain decides what the card is; the button only picks whom the page names to contact).
    pub fn of_card_login(e: &CardLoginError, button: CardKind) -> Self {
        match e {
            CardLoginError::UntrustedChain { .. } => Self::CardUntrusted,
            CardLoginError::ExpiredCard { .. } | CardLoginError::NotYetValid { .. } => {
                Self::CardExpired { kind: button }
            }
            CardLoginError::Revoked { .. } | CardLoginError::IssuerRevoked { .. } => Self::CardRevoked { kind: button },
            _ => Self::LoginFailed,
        }
    }
}

/// A tries count from a query: a number of at most [`MAX_TRIES`].
fn tries(text: &str) -> Option<u8> {
    text.parse::<u8>().ok().filter(|n| *n <= MAX_TRIES)
}

#[cfg(test)]
mod tests;
