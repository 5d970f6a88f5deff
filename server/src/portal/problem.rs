//! What went wrong, as the person at the PC reads it (issue #26 item 2): one [`Problem`] per state a physician
//! can meet on the way in or while signed in — the card agent, the reader, the card and its PIN, the card's and
//! the PC's certificates, the facility, a service's policy, a session that ended — each with a stable
//! [`code`](Problem::code) (the box's `data-problem`, the login page's `?problem=`, the docs' anchors), a
//! heading saying what happened and a text saying what to do, in Japanese and English ([`words`]).
//!
//! HTTP-free: the handlers decide which problem a refusal is and where the box goes (the login page's notice
//! slot, or a page of its own); [`Problem::from_query`] is the one parser of what a browser may ask the login
//! page to show, strict by construction (D58).

mod words;

use hcpki_agent_protocol::CardKind;
use hcpki_html::Lang;
use hcpki_sso::login::CardLoginError;
use maud::{Markup, html};
use words::M;

/// Most PIN tries a card is said to have left (the HPKI card's counter is 15, JPKI's 3): a larger number in a
/// query is no tries count of any card, and is not shown.
pub const MAX_TRIES: u8 = 15;

/// A state a person can meet, with what the page needs to say it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
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

    /// The heading: what happened.
    pub fn heading(&self, lang: Lang) -> &'static str {
        let m = match self {
            Self::AgentNotRunning => M::AgentNotRunning,
            Self::NoReader => M::NoReader,
            Self::NoCard => M::NoCard,
            Self::SeveralCards => M::SeveralCards,
            Self::WrongCard { .. } => M::WrongCard,
            Self::CardUntrusted => M::CardUntrusted,
            Self::CardExpired { .. } => M::CardExpired,
            Self::CardRevoked { .. } => M::CardRevoked,
            Self::LoginFailed => M::LoginFailed,
            Self::PcCertMissing => M::PcCertMissing,
            Self::PcCertExpired => M::PcCertExpired,
            Self::PcCertRevoked => M::PcCertRevoked,
            Self::PcCertOnHold => M::PcCertOnHold,
            Self::WrongPin { .. } => M::WrongPin,
            Self::LastTry { .. } => M::LastTry,
            Self::PinLocked { .. } => M::PinLocked,
            Self::PinTimeout => M::PinTimeout,
            Self::CardError => M::CardError,
            Self::FacilitySuspended { .. } => M::FacilitySuspended,
            Self::ServiceRefused { .. } => M::ServiceRefused,
            Self::EndedCardRemoved => M::EndedCardRemoved,
            Self::EndedTimeout => M::EndedTimeout,
            Self::EndedByAdmin => M::EndedByAdmin,
        };
        m.text(lang)
    }

    /// The paragraphs saying what to do (and, first, what happened where the heading needs it).
    fn advice(&self) -> Vec<M> {
        let by_kind = |kind: &CardKind, hpki: M, jpki: M| match kind {
            CardKind::Hpki => hpki,
            CardKind::Jpki => jpki,
        };
        match self {
            Self::AgentNotRunning => vec![M::AgentNotRunningWhat, M::AgentNotRunningDo],
            Self::NoReader => vec![M::NoReaderDo],
            Self::NoCard => vec![M::NoCardDo],
            Self::SeveralCards => vec![M::SeveralCardsDo],
            Self::WrongCard { asked } => {
                vec![by_kind(asked, M::WrongCardWhatHpki, M::WrongCardWhatJpki), M::WrongCardDo]
            }
            Self::CardUntrusted => vec![M::CardUntrustedDo],
            Self::CardExpired { kind } => vec![by_kind(kind, M::CardRenewHpki, M::CardRenewJpki)],
            Self::CardRevoked { kind } => vec![by_kind(kind, M::CardRevokedHpki, M::CardRevokedJpki)],
            Self::LoginFailed => vec![M::LoginFailedDo],
            Self::PcCertMissing => vec![M::PcCertMissingDo],
            Self::PcCertExpired => vec![M::PcCertExpiredDo],
            Self::PcCertRevoked => vec![M::PcCertRevokedDo],
            Self::PcCertOnHold => vec![M::PcCertOnHoldDo],
            Self::WrongPin { .. } => vec![M::WrongPinDo],
            Self::LastTry { .. } => vec![M::LastTryDo],
            Self::PinLocked { kind } => vec![by_kind(kind, M::PinLockedHpki, M::PinLockedJpki)],
            Self::PinTimeout => vec![M::PinTimeoutDo],
            Self::CardError => vec![M::CardErrorDo],
            Self::FacilitySuspended { .. } => vec![M::FacilitySuspendedDo],
            Self::ServiceRefused { cure, .. } => vec![match cure {
                Cure::CardLogin => M::ServiceRefusedCard,
                Cure::FacilityPc => M::ServiceRefusedFacility,
                Cure::Conditions => M::ServiceRefusedOther,
            }],
            Self::EndedCardRemoved => vec![M::EndedCardRemovedDo],
            Self::EndedTimeout => vec![M::EndedTimeoutDo],
            Self::EndedByAdmin => vec![M::EndedByAdminDo],
        }
    }

    /// The box's classes in the shared stylesheet: a refusal is an error; a session that ended is a notice.
    fn style(&self) -> &'static str {
        match self {
            Self::EndedCardRemoved | Self::EndedTimeout | Self::EndedByAdmin => "problem notice warn",
            _ => "problem error",
        }
    }

    /// Whether the way on is a new login from the login page (the box then links there); the PC's and the
    /// facility's problems are not cured by trying again, and a refused service has its own way back.
    fn retry(&self) -> bool {
        !matches!(
            self,
            Self::PcCertMissing
                | Self::PcCertExpired
                | Self::PcCertRevoked
                | Self::PcCertOnHold
                | Self::FacilitySuspended { .. }
                | Self::ServiceRefused { .. }
                | Self::PinLocked { .. }
        )
    }

    /// The box: `role="alert"` and `data-problem`, a heading (`h2`, under the page's `h1`) saying what
    /// happened, then what to do, the details the problem carries, and the way on. `on_login_page`: the box
    /// sits above the login buttons, so "log in again" is those buttons and needs no link. `detail`: the
    /// refusal in full as audited (English, naming the certificate), for whoever the person asks for help.
    pub fn render(&self, lang: Lang, on_login_page: bool, detail: Option<&str>) -> Markup {
        let code = self.code();
        html! {
            section class=(self.style()) role="alert" aria-labelledby={ "problem-" (code) } data-problem=(code) {
                h2 id={ "problem-" (code) } { (self.heading(lang)) }
                @match self {
                    Self::FacilitySuspended { facility } => p.problem-subject { (facility) },
                    Self::ServiceRefused { service, .. } => p.problem-subject { (service) },
                    _ => {}
                }
                @for m in self.advice() { p { (m.text(lang)) } }
                @match self {
                    Self::WrongPin { tries_left: Some(n) } => p.problem-tries { (M::TriesLeft.text(lang)) " " strong { (n) } },
                    Self::ServiceRefused { reason, .. } => p.problem-reason { (M::Reason.text(lang)) " " span lang="en" { (reason) } },
                    _ => {}
                }
                @if let Some(d) = detail { p.problem-detail { (M::Detail.text(lang)) " " span lang="en" { (d) } } }
                @if let Self::LastTry { kind } = self { (last_try_form(*kind, lang)) }
                @if let Self::ServiceRefused { back: Some(back), .. } = self {
                    p { a.problem-action href=(back) { (M::BackToService.text(lang)) } }
                }
                @if self.retry() && !on_login_page {
                    p { a.problem-action href="/login" { (M::Retry.text(lang)) } }
                }
                @if !self.retry() && !on_login_page && !matches!(self, Self::ServiceRefused { .. }) {
                    p { a href="/login" { (M::ToLogin.text(lang)) } }
                }
            }
        }
    }
}

/// The last try's confirmation: the box must be ticked before the button (which `card-login.js` handles)
/// asks the agent again, now allowing the last try; the agent's own PIN window asks once more (its
/// `confirm_last_try`), so the portal and the agent say the same thing.
fn last_try_form(kind: CardKind, lang: Lang) -> Markup {
    let card = match kind {
        CardKind::Hpki => M::HpkiCard,
        CardKind::Jpki => M::JpkiCard,
    };
    html! {
        p.problem-confirm.inline {
            input id="problem-confirm-last-try" type="checkbox" name="confirm_last_try" value="yes";
            " "
            label for="problem-confirm-last-try" { (M::ConfirmLastTry.text(lang)) }
        }
        p {
            button type="button" data-kind=(kind.as_str()) data-last-try="yes" {
                (M::UseLastTry.text(lang)) " (" (card.text(lang)) ")"
            }
        }
    }
}

/// A tries count from a query: a number of at most [`MAX_TRIES`].
fn tries(text: &str) -> Option<u8> {
    text.parse::<u8>().ok().filter(|n| *n <= MAX_TRIES)
}

#[cfg(test)]
mod tests;
