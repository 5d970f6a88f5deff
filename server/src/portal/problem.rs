//! The problem box, as the person at the PC reads it (issue #26 item 2): each [`Problem`] of the SSO core's list
//! (`hcpki_sso::problem`, D122) with a heading saying what happened and a text saying what to do, in Japanese and
//! English ([`words`]), in a box the handlers place (the login page's notice slot, or a page of its own).

mod words;

use hcpki_agent_protocol::CardKind;
use hcpki_html::Lang;
use hcpki_sso::problem::{Cure, Problem};
use maud::{Markup, html};
use words::M;

/// The words and the box of a [`Problem`].
pub trait ProblemBox {
    /// The heading: what happened.
    fn heading(&self, lang: Lang) -> &'static str;
    /// The box: `role="alert"` and `data-problem`, a heading (`h2`, under the page's `h1`) saying what
    /// happened, then what to do, the details the problem carries, and the way on. `on_login_page`: the box
    /// sits above the login buttons, so "log in again" is those buttons and needs no link. `detail`: the
    /// refusal in full as audited (English, naming the certificate), for whoever the person asks for help.
    fn render(&self, lang: Lang, on_login_page: bool, detail: Option<&str>) -> Markup;
}

impl ProblemBox for Problem {
    fn heading(&self, lang: Lang) -> &'static str {
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
            Self::EndedTokenReused => M::EndedTokenReused,
            Self::EndedOtherTerminal => M::EndedOtherTerminal,
            Self::EndedIdle => M::EndedIdle,
        };
        m.text(lang)
    }

    fn render(&self, lang: Lang, on_login_page: bool, detail: Option<&str>) -> Markup {
        let code = self.code();
        html! {
            section class=(style(self)) role="alert" aria-labelledby={ "problem-" (code) } data-problem=(code) {
                h2 id={ "problem-" (code) } { (self.heading(lang)) }
                @match self {
                    Self::FacilitySuspended { facility } => p.problem-subject { (facility) },
                    Self::ServiceRefused { service, .. } => p.problem-subject { (service) },
                    _ => {}
                }
                @for m in advice(self) { p { (m.text(lang)) } }
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
                @if retry(self) && !on_login_page {
                    p { a.problem-action href="/login" { (M::Retry.text(lang)) } }
                }
                @if !retry(self) && !on_login_page && !matches!(self, Self::ServiceRefused { .. }) {
                    p { a href="/login" { (M::ToLogin.text(lang)) } }
                }
            }
        }
    }
}

/// The paragraphs saying what to do (and, first, what happened where the heading needs it).
fn advice(problem: &Problem) -> Vec<M> {
    let by_kind = |kind: &CardKind, hpki: M, jpki: M| match kind {
        CardKind::Hpki => hpki,
        CardKind::Jpki => jpki,
    };
    match problem {
        Problem::AgentNotRunning => vec![M::AgentNotRunningWhat, M::AgentNotRunningDo],
        Problem::NoReader => vec![M::NoReaderDo],
        Problem::NoCard => vec![M::NoCardDo],
        Problem::SeveralCards => vec![M::SeveralCardsDo],
        Problem::WrongCard { asked } => {
            vec![by_kind(asked, M::WrongCardWhatHpki, M::WrongCardWhatJpki), M::WrongCardDo]
        }
        Problem::CardUntrusted => vec![M::CardUntrustedDo],
        Problem::CardExpired { kind } => vec![by_kind(kind, M::CardRenewHpki, M::CardRenewJpki)],
        Problem::CardRevoked { kind } => vec![by_kind(kind, M::CardRevokedHpki, M::CardRevokedJpki)],
        Problem::LoginFailed => vec![M::LoginFailedDo],
        Problem::PcCertMissing => vec![M::PcCertMissingDo],
        Problem::PcCertExpired => vec![M::PcCertExpiredDo],
        Problem::PcCertRevoked => vec![M::PcCertRevokedDo],
        Problem::PcCertOnHold => vec![M::PcCertOnHoldDo],
        Problem::WrongPin { .. } => vec![M::WrongPinDo],
        Problem::LastTry { .. } => vec![M::LastTryDo],
        Problem::PinLocked { kind } => vec![by_kind(kind, M::PinLockedHpki, M::PinLockedJpki)],
        Problem::PinTimeout => vec![M::PinTimeoutDo],
        Problem::CardError => vec![M::CardErrorDo],
        Problem::FacilitySuspended { .. } => vec![M::FacilitySuspendedDo],
        Problem::ServiceRefused { cure, .. } => vec![match cure {
            Cure::CardLogin => M::ServiceRefusedCard,
            Cure::FacilityPc => M::ServiceRefusedFacility,
            Cure::Conditions => M::ServiceRefusedOther,
        }],
        Problem::EndedCardRemoved => vec![M::EndedCardRemovedDo],
        Problem::EndedTimeout => vec![M::EndedTimeoutDo],
        Problem::EndedByAdmin => vec![M::EndedByAdminDo],
        Problem::EndedTokenReused => vec![M::EndedTokenReusedDo],
        Problem::EndedOtherTerminal => vec![M::EndedOtherTerminalDo],
        Problem::EndedIdle => vec![M::EndedIdleDo],
    }
}

/// The box's classes in the shared stylesheet: a refusal is an error; a session that ended is a notice.
fn style(problem: &Problem) -> &'static str {
    match problem {
        Problem::EndedCardRemoved
        | Problem::EndedTimeout
        | Problem::EndedByAdmin
        | Problem::EndedTokenReused
        | Problem::EndedOtherTerminal
        | Problem::EndedIdle => "problem notice warn",
        _ => "problem error",
    }
}

/// Whether the way on is a new login from the login page (the box then links there); the PC's and the
/// facility's problems are not cured by trying again, and a refused service has its own way back.
fn retry(problem: &Problem) -> bool {
    !matches!(
        problem,
        Problem::PcCertMissing
            | Problem::PcCertExpired
            | Problem::PcCertRevoked
            | Problem::PcCertOnHold
            | Problem::FacilitySuspended { .. }
            | Problem::ServiceRefused { .. }
            | Problem::PinLocked { .. }
    )
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

#[cfg(test)]
mod tests;
