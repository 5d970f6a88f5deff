//! The patient's consent page (issue #28): when the PDF to sign carries a consent statement, the agent's page shows
//! the statement itself — read by the agent from the bytes it signs (`hcpki_docsig::consent_document::read`) — in large
//! type and plain words, then asks for the My Number card's signing password. The technical facts the signing page
//! shows a physician (requester, SHA-256, format, signer) stay one click away, in a `<details>`.
//!
//! A withdrawal (撤回書) has its own heading words; a physician's attestation (signed with the HPKI card) shows the
//! same statement with the physician's words. The statement is Japanese on both pages (`lang="ja"`).

use hcpki_html::Lang;
use maud::{Markup, html};

use super::consent_words::{self, M as C};
use super::words::{self, M};
use super::{facts, layout};
use crate::api::operations::{ApiFailure, Operation};
use crate::document::signer::SignerShown;
use crate::document::{Shown, Statement, StatementKind};
use crate::driver::{PinCharset, registry};
use crate::service::{CardKind, PinQuestion};

/// The statement, what signing it means, and the password field.
pub(super) fn form(
    lang: Lang,
    op: &Operation,
    question: &PinQuestion,
    facts: (&str, &Shown, &SignerShown),
    statement: &Statement,
) -> Markup {
    let (t, c) = (|m: M| m.text(lang), |m: C| m.text(lang));
    let patient = is_patients(statement);
    let labels = registry::pin_labels(question.kind, question.role);
    let warning = match (question.tries_left, patient) {
        (Some(1), true) => Some(c(C::LastTry)),
        (Some(2), true) => Some(c(C::TwoLeft)),
        (Some(1), false) => Some(t(M::LastTry)),
        (Some(2), false) => Some(t(M::TwoLeft)),
        _ => None,
    };
    let words = Words::of(&statement.kind);
    // The patient's label says what to type in their words; the physician's names the HPKI card's PIN.
    let (label, hint) = if patient && op.kind == CardKind::Jpki {
        (c(C::PasswordLabel), Some(c(C::PasswordHint)))
    } else {
        (labels.page.get(lang), None)
    };
    let described_by = match (hint, warning) {
        (Some(_), Some(_)) => Some("pin-hint pin-warning"),
        (Some(_), None) => Some("pin-hint"),
        (None, Some(_)) => Some("pin-warning"),
        (None, None) => None,
    };
    let (origin, shown, signer) = facts;
    let body = html! {
        div class="consent large-text" {
            p class="kicker" { (c(words.kicker)) }
            h1 lang="ja" { (statement.title) }
            p class="lead" { (c(words.lead)) }
            (statement_section(lang, statement))
            p class="meaning" { strong { (c(words.meaning)) } }
            @if let Some(n) = question.tries_left {
                p { (if patient { c(C::TriesLeft) } else { t(M::TriesLeft) }) (words::colon(lang)) (words::tries(lang, n)) }
            }
            @if let Some(w) = warning { p id="pin-warning" class="warn" { (w) } }
            form method="post" action={ "/pin/" (op.id) } {
                input type="hidden" name="token" value=(op.page_token);
                input type="hidden" name="lang" value=(lang.code());
                label for="pin" { (label) }
                @if let Some(h) = hint { p id="pin-hint" class="hint" { (h) } }
                input id="pin" type="password" name="pin" autocomplete="off" autofocus required
                    minlength=(labels.min_len) maxlength=(labels.max_len) pattern=(labels.pattern())
                    inputmode=[(labels.charset == PinCharset::Digits).then_some("numeric")]
                    aria-describedby=[described_by];
                @if question.tries_left == Some(1) {
                    p class="confirm" {
                        input id="confirm-last-try" type="checkbox" name="confirm_last_try" value="yes" required;
                        label for="confirm-last-try" { (t(M::ConfirmLastTry)) }
                    }
                }
                p class="actions" {
                    button class="primary" type="submit" name="action" value="sign" { (c(words.sign)) }
                    button class="secondary" type="submit" name="action" value="cancel" formnovalidate {
                        (c(C::DoNotSign))
                    }
                }
            }
            details {
                summary { (c(C::Details)) }
                dl {
                    dt { (t(M::RequestedBy)) } dd class="origin" lang="en" { (origin) }
                    (facts::document_facts(lang, shown, signer, op.kind))
                    dt { (t(M::Card)) } dd { (registry::card_labels(op.kind).0.get(lang)) }
                }
            }
            p class="note" { (if patient { c(C::PasswordStaysHere) } else { t(M::PinStaysHere) }) }
        }
    };
    layout::document(lang, c(words.lead), body, false)
}

/// The statement as signed: each item's label and text, then the reference. Japanese on both pages.
fn statement_section(lang: Lang, statement: &Statement) -> Markup {
    html! {
        section class="statement" aria-label=(C::StatementLabel.text(lang)) {
            @for item in &statement.items {
                h2 lang="ja" { (item.label) }
                p lang="ja" { (item.text) }
            }
        }
        p class="reference" {
            (C::Reference.text(lang)) (words::colon(lang)) span class="origin" lang="en" { (statement.reference) }
        }
    }
}

/// A consent or its withdrawal is the patient's to sign; an attestation the physician's.
pub(super) fn is_patients(statement: &Statement) -> bool {
    matches!(statement.kind, StatementKind::Consent | StatementKind::Withdrawal)
}

/// The heading and end words of a signed consent: "署名しました" and what to do now (the patient's statements).
pub(super) fn done(lang: Lang, statement: &Statement) -> Option<(&'static str, &'static str)> {
    let help = match statement.kind {
        StatementKind::Consent => C::DoneConsent,
        StatementKind::Withdrawal => C::DoneWithdrawal,
        StatementKind::Attestation => return None,
    };
    Some((C::Signed.text(lang), help.text(lang)))
}

/// The patient's words for the ends a patient meets with the signing password: wrong, locked (and what to do:
/// the municipal office, or the physician's attestation today), only the last try left, "do not sign". Other
/// codes keep the page's general words. The page adds "tell the staff" to every patient end.
pub(super) fn failed(lang: Lang, statement: &Statement, failure: &ApiFailure) -> Option<(&'static str, Markup)> {
    if !is_patients(statement) {
        return None;
    }
    let c = |m: C| m.text(lang);
    Some(match failure.code {
        "wrong_pin" => {
            let left = failure.tries_left.unwrap_or_default();
            let next = (left == 1).then(|| c(C::LastTry));
            (
                c(C::WrongPassword),
                html! {
                    p { (consent_words::tries_now(lang, left)) }
                    @if let Some(n) = next { p class="warn" { (n) } }
                },
            )
        }
        "pin_blocked" => (c(C::Locked), html! { p { (c(C::LockedHelp)) } p class="warn" { (c(C::Attestation)) } }),
        "last_try_not_confirmed" => (
            c(C::OneTryLeft),
            html! { p { (c(C::OneTryLeftHelp)) } p { (c(C::LockedHelp)) } p { (c(C::Attestation)) } },
        ),
        "cancelled" => (c(C::NotSigned), html! { p { (c(C::NotSignedHelp)) } }),
        _ => return None,
    })
}

/// The words that depend on what the statement is.
struct Words {
    kicker: C,
    lead: C,
    meaning: C,
    sign: C,
}

impl Words {
    fn of(kind: &StatementKind) -> Self {
        match kind {
            StatementKind::Consent => Words {
                kicker: C::KickerConsent,
                lead: C::LeadConsent,
                meaning: C::MeaningConsent,
                sign: C::SignConsent,
            },
            StatementKind::Withdrawal => Words {
                kicker: C::KickerWithdrawal,
                lead: C::LeadWithdrawal,
                meaning: C::MeaningWithdrawal,
                sign: C::SignWithdrawal,
            },
            StatementKind::Attestation => Words {
                kicker: C::KickerAttestation,
                lead: C::LeadAttestation,
                meaning: C::MeaningAttestation,
                sign: C::SignAttestation,
            },
        }
    }
}
