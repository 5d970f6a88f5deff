//! The patient's consent page (issue #28): when the PDF to sign carries a consent statement, the agent's page shows
//! the statement itself — read by the agent from the bytes it signs (`hcpki_docsig::consent_document::read`) — in large
//! type and plain words, then asks for the My Number card's signing password. The technical facts the signing page
//! shows a physician (requester, SHA-256, format, signer) stay one click away, in a `<details>`.
//!
//! A withdrawal (撤回書) has its own heading words; a physician's attestation (signed with the HPKI card) shows the
//! same statement with the physician's words. The statement is Japanese on both pages (`lang="ja"`).
//!
//! Where the consent's template asks for no signature (D130 item 3), the operation uses the user-authentication
//! key (`role: "auth"`): the same statement, then the 4-digit PIN, and words that say "agree", not "sign".

use hcpki_html::Lang;
use maud::{Markup, html};

use super::consent_words::{self, M as C};
use super::words::{self, M};
use super::{facts, layout};
use crate::api::operations::{ApiFailure, Operation};
use crate::document::signer::SignerShown;
use crate::document::{Shown, Statement, StatementKind};
use crate::driver::{PinCharset, registry};
use crate::service::{CardKind, KeyRole, PinQuestion};

/// Whether the patient agrees with the 4-digit user PIN (the authentication key) rather than signing.
fn by_pin(op: &Operation) -> bool {
    op.role == KeyRole::Auth
}

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
    let pin = by_pin(op);
    let warning = match (question.tries_left, patient, pin) {
        (Some(1), true, true) => Some(c(C::PinLastTry)),
        (Some(2), true, true) => Some(c(C::PinTwoLeft)),
        (Some(1), true, false) => Some(c(C::LastTry)),
        (Some(2), true, false) => Some(c(C::TwoLeft)),
        (Some(1), false, _) => Some(t(M::LastTry)),
        (Some(2), false, _) => Some(t(M::TwoLeft)),
        _ => None,
    };
    let words = Words::of(&statement.kind, pin);
    // The patient's label says what to type in their words; the physician's names the HPKI card's PIN.
    let (label, hint) = match (patient && op.kind == CardKind::Jpki, pin) {
        (true, true) => (c(C::PinLabel), Some(c(C::PinHint))),
        (true, false) => (c(C::PasswordLabel), Some(c(C::PasswordHint))),
        _ => (labels.page.get(lang), None),
    };
    let tries_label = match (patient, pin) {
        (true, true) => c(C::PinTriesLeft),
        (true, false) => c(C::TriesLeft),
        _ => t(M::TriesLeft),
    };
    let stays_here = match (patient, pin) {
        (true, true) => c(C::PinStaysHere),
        (true, false) => c(C::PasswordStaysHere),
        _ => t(M::PinStaysHere),
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
                p { (tries_label) (words::colon(lang)) (words::tries(lang, n)) }
            }
            @if let Some(w) = warning { p id="pin-warning" class="warn" { (w) } }
            @if question.on_pad {
                h2 { (t(M::OnPad)) }
                p id="on-pad" role="status" { (t(M::OnPadHelp)) }
            } @else {
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
                        (c(words.decline))
                    }
                }
            }
            }
            details {
                summary { (c(C::Details)) }
                dl {
                    dt { (t(M::RequestedBy)) } dd class="origin" lang="en" { (origin) }
                    @if pin {
                        // Nothing is signed into the document: its fingerprint is what the card's answer binds.
                        dt { (t(M::DocumentTitle)) } dd id="document-title" { (shown.title) }
                        dt { (t(M::Sha256)) } dd id="document-sha256" class="origin" lang="en" { (shown.sha256_grouped()) }
                        dt { (c(C::KeyUsed)) } dd { (c(C::UserCertificate)) }
                    } @else {
                        (facts::document_facts(lang, shown, signer, op.kind))
                    }
                    dt { (t(M::Card)) } dd { (registry::card_labels(op.kind).0.get(lang)) }
                }
            }
            p class="note" { (stays_here) }
        }
    };
    // On a pad the page follows the operation (no form to post): it reloads as the working page does.
    layout::document(lang, c(words.lead), body, question.on_pad)
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
pub(super) fn done(lang: Lang, op: &Operation, statement: &Statement) -> Option<(&'static str, &'static str)> {
    let (title, help) = match (&statement.kind, by_pin(op)) {
        (StatementKind::Consent, false) => (C::Signed, C::DoneConsent),
        (StatementKind::Withdrawal, false) => (C::Signed, C::DoneWithdrawal),
        (StatementKind::Consent, true) => (C::Agreed, C::DoneConsentPin),
        (StatementKind::Withdrawal, true) => (C::Withdrawn, C::DoneWithdrawalPin),
        (StatementKind::Attestation, _) => return None,
    };
    Some((title.text(lang), help.text(lang)))
}

/// The patient's words for the ends a patient meets with the signing password: wrong, locked (and what to do:
/// the municipal office, or the physician's attestation today), only the last try left, "do not sign". Other
/// codes keep the page's general words. The page adds "tell the staff" to every patient end.
pub(super) fn failed(
    lang: Lang,
    op: &Operation,
    statement: &Statement,
    failure: &ApiFailure,
) -> Option<(&'static str, Markup)> {
    if !is_patients(statement) {
        return None;
    }
    let c = |m: C| m.text(lang);
    let pin = by_pin(op);
    let ends = if pin { PIN_ENDS } else { PASSWORD_ENDS };
    Some(match failure.code {
        "wrong_pin" => {
            let left = failure.tries_left.unwrap_or_default();
            let next = (left == 1).then(|| c(ends.last_try));
            (
                c(ends.wrong),
                html! {
                    p { (consent_words::tries_now(lang, left, pin)) }
                    @if let Some(n) = next { p class="warn" { (n) } }
                },
            )
        }
        "pin_blocked" => (c(ends.locked), html! { p { (c(ends.locked_help)) } p class="warn" { (c(C::Attestation)) } }),
        "last_try_not_confirmed" => (
            c(ends.one_left),
            html! { p { (c(ends.one_left_help)) } p { (c(ends.locked_help)) } p { (c(C::Attestation)) } },
        ),
        "cancelled" => (c(ends.not_done), html! { p { (c(ends.not_done_help)) } }),
        _ => return None,
    })
}

/// The words of a patient's failed step, for the signing password or the 4-digit PIN.
struct Ends {
    wrong: C,
    last_try: C,
    locked: C,
    locked_help: C,
    one_left: C,
    one_left_help: C,
    not_done: C,
    not_done_help: C,
}

const PASSWORD_ENDS: Ends = Ends {
    wrong: C::WrongPassword,
    last_try: C::LastTry,
    locked: C::Locked,
    locked_help: C::LockedHelp,
    one_left: C::OneTryLeft,
    one_left_help: C::OneTryLeftHelp,
    not_done: C::NotSigned,
    not_done_help: C::NotSignedHelp,
};

const PIN_ENDS: Ends = Ends {
    wrong: C::WrongPin,
    last_try: C::PinLastTry,
    locked: C::PinLocked,
    locked_help: C::PinLockedHelp,
    one_left: C::OnePinTryLeft,
    one_left_help: C::OnePinTryLeftHelp,
    not_done: C::NotAgreed,
    not_done_help: C::NotAgreedHelp,
};

/// The words that depend on what the statement is.
struct Words {
    kicker: C,
    lead: C,
    meaning: C,
    sign: C,
    decline: C,
}

impl Words {
    /// `pin`: the patient agrees with the user PIN (no signature).
    fn of(kind: &StatementKind, pin: bool) -> Self {
        let (kicker, lead, meaning, sign, decline) = match (kind, pin) {
            (StatementKind::Consent, false) => {
                (C::KickerConsent, C::LeadConsent, C::MeaningConsent, C::SignConsent, C::DoNotSign)
            }
            (StatementKind::Consent, true) => {
                (C::KickerConsentPin, C::LeadConsent, C::MeaningConsentPin, C::AgreeConsent, C::NotNow)
            }
            (StatementKind::Withdrawal, false) => {
                (C::KickerWithdrawal, C::LeadWithdrawal, C::MeaningWithdrawal, C::SignWithdrawal, C::DoNotSign)
            }
            (StatementKind::Withdrawal, true) => {
                (C::KickerWithdrawalPin, C::LeadWithdrawal, C::MeaningWithdrawalPin, C::AgreeWithdrawal, C::NotNow)
            }
            (StatementKind::Attestation, _) => {
                (C::KickerAttestation, C::LeadAttestation, C::MeaningAttestation, C::SignAttestation, C::DoNotSign)
            }
        };
        Words { kicker, lead, meaning, sign, decline }
    }
}
