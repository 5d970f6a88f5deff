//! The PIN page's templates (maud, D49): the form, the progress and end states, and a short notice for
//! refused posts. Every state says what happened and what to do next, in the reader's language (D54).

use hcpki_agent_protocol::AuthPurpose;
use hcpki_html::Lang;
use maud::{Markup, html};

use super::facts::{batch_facts, document_facts};
use super::layout::document;
use super::words::{self, M};
use super::{consent, consent_words, identify};
use crate::api::operations::{ApiFailure, Operation, Purpose, SessionShown};
use crate::document::Statement;
use crate::driver::{PinCharset, registry};
use crate::platform::Platform;
use crate::service::{CardKind, PinQuestion};
use crate::signing_session::Count;

/// The form, while the card waits for the PIN: for a consent statement its own page (`consent`).
pub(super) fn pin_form(lang: Lang, op: &Operation, question: &PinQuestion) -> Markup {
    if question.on_pad && statement_of(op).is_none() {
        return on_pad(lang, op, question);
    }
    if let Purpose::Document { origin, shown, signer } = &op.purpose
        && let Some(statement) = &shown.statement
    {
        return consent::form(lang, op, question, (origin, shown, signer), statement);
    }
    if identify::is_identification(op) {
        return identify::form(lang, op, question, request_facts(lang, op, Some(question)));
    }
    if let Some(SessionShown::Continues(count)) = op.session() {
        return confirm_form(lang, op, question, &count);
    }
    let t = |m: M| m.text(lang);
    let labels = registry::pin_labels(question.kind, question.role);
    let last_try = question.tries_left == Some(1);
    let warning = match question.tries_left {
        Some(1) => Some(t(M::LastTry)),
        Some(2) => Some(t(M::TwoLeft)),
        _ => None,
    };
    let heading = heading(lang, op);
    let opens = match op.session() {
        Some(SessionShown::Opens { of, hours }) => Some(words::session_opens(lang, of, hours)),
        _ => None,
    };
    let body = html! {
        h1 { (heading) }
        (request_facts(lang, op, Some(question)))
        @if op.purpose.is_document() { p id="what-is-signed" { (t(M::WhatIsSigned)) } }
        @if let Some(opens) = &opens { p id="session" { (opens) } p class="note" { (t(M::SessionEnds)) } }
        @if let Some(w) = warning { p id="pin-warning" class="warn" { (w) } }
        form method="post" action={ "/pin/" (op.id) } {
            input type="hidden" name="token" value=(op.page_token);
            input type="hidden" name="lang" value=(lang.code());
            label for="pin" { (labels.page.get(lang)) }
            input id="pin" type="password" name="pin" autocomplete="off" autofocus required
                minlength=(labels.min_len) maxlength=(labels.max_len) pattern=(labels.pattern())
                inputmode=[(labels.charset == PinCharset::Digits).then_some("numeric")]
                aria-describedby=[warning.map(|_| "pin-warning")];
            @if last_try {
                p class="confirm" {
                    input id="confirm-last-try" type="checkbox" name="confirm_last_try" value="yes" required;
                    label for="confirm-last-try" { (t(M::ConfirmLastTry)) }
                }
            }
            p class="actions" {
                button class="primary" type="submit" name="action" value="sign" { (submit_label(lang, &op.purpose)) }
                button class="secondary" type="submit" name="action" value="cancel" formnovalidate { (t(M::Cancel)) }
            }
        }
        p class="note" { (t(M::PinStaysHere)) }
    };
    document(lang, &heading, body, false)
}

/// A document's page: one document, or a batch.
fn heading(lang: Lang, op: &Operation) -> String {
    match &op.purpose {
        Purpose::Batch { documents, .. } => words::sign_batch(lang, documents.len()),
        p if p.is_document() => M::SignDocument.text(lang).to_owned(),
        _ => M::EnterPin.text(lang).to_owned(),
    }
}

/// A signing session's signature (D163): the same facts, and a click instead of the PIN — the physician's own act
/// for this document (or this batch).
fn confirm_form(lang: Lang, op: &Operation, question: &PinQuestion, count: &Count) -> Markup {
    let t = |m: M| m.text(lang);
    let heading = heading(lang, op);
    let body = html! {
        h1 { (heading) }
        (request_facts(lang, op, Some(question)))
        p id="session" { (words::session_count(lang, count)) }
        p id="what-is-signed" { (t(M::ConfirmInSession)) }
        form method="post" action={ "/pin/" (op.id) } {
            input type="hidden" name="token" value=(op.page_token);
            input type="hidden" name="lang" value=(lang.code());
            p class="actions" {
                button class="primary" type="submit" name="action" value="sign" autofocus { (t(M::Sign)) }
                button class="secondary" type="submit" name="action" value="cancel" { (t(M::Cancel)) }
            }
        }
        p class="note" { (t(M::SessionEnds)) }
    };
    document(lang, &heading, body, false)
}

/// The PIN is typed on the reader's PIN pad: the page says where, asks for nothing, and follows the operation as
/// [`working`] does.
fn on_pad(lang: Lang, op: &Operation, question: &PinQuestion) -> Markup {
    let t = |m: M| m.text(lang);
    let large = is_patients(op).then_some("large-text");
    let body = html! {
        div class=[large] {
            h1 { (t(M::OnPad)) }
            (request_facts(lang, op, Some(question)))
            p id="on-pad" role="status" { (t(M::OnPadHelp)) }
        }
    };
    document(lang, t(M::OnPad), body, true)
}

/// While the card works (after the PIN, or before the agent has read the retry counter): the page reloads
/// itself at once, and the agent holds each reload until the operation moves on (`show`), so the page
/// follows it without a script and without a timed refresh.
pub(super) fn working(lang: Lang, op: &Operation) -> Markup {
    let t = |m: M| m.text(lang);
    let body = html! {
        h1 { (t(M::Working)) }
        (request_facts(lang, op, None))
        p role="status" { (t(M::WorkingHelp)) }
    };
    document(lang, t(M::Working), body, true)
}

pub(super) fn done(lang: Lang, op: &Operation) -> Markup {
    let t = |m: M| m.text(lang);
    let help = if op.purpose.is_document() {
        M::DoneDocumentHelp
    } else if identify::is_identification(op) {
        M::DoneIdentifyHelp
    } else {
        M::DoneHelp
    };
    let (title, help) =
        statement_of(op).and_then(|s| consent::done(lang, op, s)).unwrap_or_else(|| (t(M::Done), t(help)));
    let large = is_patients(op).then_some("large-text");
    let body = html! {
        div class=[large] {
            h1 { (title) }
            (request_facts(lang, op, None))
            p { (help) }
        }
    };
    document(lang, title, body, false)
}

/// Whether the person at the card is a patient (a consent or withdrawal, or an identification at reception): their
/// pages keep the large type.
fn is_patients(op: &Operation) -> bool {
    statement_of(op).is_some_and(consent::is_patients) || identify::is_identification(op)
}

/// The consent statement an operation shows, if it is a document that carries one.
fn statement_of(op: &Operation) -> Option<&Statement> {
    match &op.purpose {
        Purpose::Document { shown, .. } => shown.statement.as_ref(),
        _ => None,
    }
}

/// The operation failed: what happened, by the API's error code, and what to do.
pub(super) fn failed(lang: Lang, op: &Operation, failure: &ApiFailure, pin_timeout_secs: u64) -> Markup {
    let t = |m: M| m.text(lang);
    let (card, unblock) = registry::card_labels(op.kind);
    let for_document = op.purpose.is_document();
    let identification = identify::is_identification(op);
    let again = t(if for_document {
        M::StartSignAgain
    } else if identification {
        M::IdentifyAgain
    } else {
        M::StartAgain
    });
    let then_again = if for_document {
        words::sign_again_after_comma(lang)
    } else if identification {
        words::identify_again_after_comma(lang)
    } else {
        words::start_again_after_comma(lang)
    };
    // Between two sentences: Japanese runs them on after "。", English leaves a space.
    let sp = words::sentence_gap(lang);
    let patient = statement_of(op).filter(|s| consent::is_patients(s));
    let patients_words = statement_of(op).and_then(|s| consent::failed(lang, op, s, failure));
    let (title, what): (&str, Markup) = if let Some(words) = patients_words {
        words
    } else {
        match failure.code {
            "wrong_pin" => {
                let left = failure.tries_left.unwrap_or_default();
                (
                    t(M::WrongPin),
                    html! {
                        p { (words::tries_now(lang, left)) (sp) (again) }
                        @if left == 1 { p class="warn" { (t(M::NextWrongBlocks)) } }
                    },
                )
            }
            "pin_blocked" => {
                (t(M::Blocked), html! { p { (t(M::BlockedHelp)) } p class="warn" { (unblock.get(lang)) } })
            }
            "last_try_not_confirmed" => (
                t(M::OneTryLeft),
                html! { p { (t(M::OneTryLeftHelp)) } p { (t(M::NoTrySpent)) } p { (unblock.get(lang)) } },
            ),
            "card_removed" => (t(M::Removed), html! { p { (t(M::RemovedHelp)) (sp) (then_again) } }),
            "pin_timeout" => (
                t(M::TimedOut),
                html! {
                    p { (words::timed_out(lang, pin_timeout_secs)) (sp) (t(M::NoTrySpent)) } p { (again) }
                },
            ),
            "cancelled" => (t(M::Cancelled), html! { p { (t(M::CancelledHelp)) (sp) (then_again) } }),
            "bad_pin_format" => {
                let labels = registry::pin_labels(op.kind, op.role);
                (
                    t(M::BadFormat),
                    html! {
                        p { (t(M::BadFormatHelp)) (sp) (labels.page.get(lang)) } p { (t(M::NoTrySpent)) (sp) (again) }
                    },
                )
            }
            "no_card" => (
                t(M::NoCard),
                html! { p { (card.get(lang)) (words::colon(lang)) (t(M::NoCardHelp)) (sp) (then_again) } },
            ),
            "several_cards" if !failure.readers.is_empty() => (
                t(M::SeveralCards),
                html! { p { (words::several_cards(lang, card, &failure.readers)) (sp) (then_again) } },
            ),
            "several_cards" => (t(M::SeveralCards), html! { p { (t(M::SeveralCardsHelp)) (sp) (then_again) } }),
            "wrong_card" => {
                let found = failure.found.and_then(|k| k.parse::<CardKind>().ok()).map(|k| registry::card_labels(k).0);
                let reader = failure.readers.first().map_or("", String::as_str);
                (t(M::WrongCard), html! { p { (words::wrong_card(lang, reader, found, card)) (sp) (then_again) } })
            }
            "bad_document" => (
                t(M::BadDocument),
                html! { p { (t(M::BadDocumentHelp)) } p class="error" lang="en" { (failure.message) } },
            ),
            "no_time_stamp" => (
                t(M::NoTimeStamp),
                html! { p { (t(M::NoTimeStampHelp)) } p class="error" lang="en" { (failure.message) } },
            ),
            "no_service" => (t(M::NoReaders), html! { p { (words::no_service_help(lang, Platform::CURRENT)) } }),
            _ => (
                t(M::CardFailed),
                html! { p { (t(M::CardFailedHelp)) } p class="error" lang="en" { (failure.message) } },
            ),
        }
    };
    let body = html! {
        // A patient's end pages keep the consent page's large type.
        div class=[(patient.is_some() || identification).then_some("large-text")] {
            h1 { (title) }
            (request_facts(lang, op, None))
            div class="error" {
                (what)
                @if for_document { p { strong { (t(M::NothingSigned)) } } }
                @if patient.is_some() { p { (consent_words::M::AskStaff.text(lang)) } }
            }
            p class="note" { (t(M::CloseWindow)) }
        }
    };
    document(lang, title, body, false)
}

/// A PIN (or signing password) posted in a format the card does not take: not sent to the card, no try spent,
/// and the operation still waits for it; the page says the format and leads back to the form.
pub(super) fn bad_format(lang: Lang, op: &Operation, back_to: &str) -> Markup {
    let t = |m: M| m.text(lang);
    let labels = registry::pin_labels(op.kind, op.role);
    let body = html! {
        h1 { (t(M::BadInput)) }
        p { (t(M::BadInputNotSent)) }
        p class="warn" { (labels.page.get(lang)) }
        p { a href=(back_to) { (t(M::BackToPin)) } }
    };
    document(lang, t(M::BadInput), body, false)
}

/// A short page for a request the agent refuses or cannot place: a heading, what to do, and where to go back.
pub(super) fn notice(lang: Lang, title: M, help: Option<M>, back_to: Option<&str>) -> Markup {
    let t = |m: M| m.text(lang);
    let body = html! {
        h1 { (t(title)) }
        @if let Some(h) = help { p { (t(h)) } }
        @if let Some(href) = back_to { p { a href=(href) { (t(M::BackToPin)) } } }
    };
    document(lang, t(title), body, false)
}

/// Who asks, for what, with which card, whose, and the tries left: the same facts on every state of an
/// operation, so the person always sees what the card is being used for.
fn request_facts(lang: Lang, op: &Operation, question: Option<&PinQuestion>) -> Markup {
    let t = |m: M| m.text(lang);
    let (card, _) = registry::card_labels(op.kind);
    html! {
        dl {
            @match &op.purpose {
                Purpose::Login { origin, what } => {
                    dt { (t(M::RequestedBy)) } dd class="origin" lang="en" { (origin) }
                    dt { (t(M::For)) }
                    dd id="purpose" {
                        (t(match what { AuthPurpose::Identification => M::ForIdentification, _ => M::ForLogin }))
                    }
                }
                // A consent's end pages name the statement, not the technical facts (those were on the form).
                Purpose::Document { origin, shown, .. } if shown.statement.is_some() => {
                    dt { (t(M::RequestedBy)) } dd class="origin" lang="en" { (origin) }
                    @if let Some(statement) = &shown.statement {
                        dt { (consent_words::M::Document.text(lang)) } dd lang="ja" { (statement.title) }
                        dt { (consent_words::M::Reference.text(lang)) } dd class="origin" lang="en" { (statement.reference) }
                    }
                }
                Purpose::Document { origin, shown, signer } => {
                    dt { (t(M::RequestedBy)) } dd class="origin" lang="en" { (origin) }
                    dt { (t(M::For)) }
                    dd { (t(if op.kind == CardKind::Jpki { M::ForDocumentJpki } else { M::ForDocumentHpki })) }
                    (document_facts(lang, shown, signer, op.kind))
                }
                Purpose::Batch { origin, documents, signer } => {
                    dt { (t(M::RequestedBy)) } dd class="origin" lang="en" { (origin) }
                    dt { (t(M::For)) }
                    dd { (t(if op.kind == CardKind::Jpki { M::ForDocumentJpki } else { M::ForDocumentHpki })) }
                    (batch_facts(lang, documents, signer, op.kind))
                }
            }
            dt { (t(M::Card)) } dd { (card.get(lang)) }
            // A document names its signer (from the signature certificate) above; the holder row is the login's.
            @if let Some(holder) = question.and_then(|q| q.holder.as_deref()).filter(|_| !op.purpose.is_document()) {
                // The name is Japanese (HPKI: the kanji name) also on the English page.
                dt { (t(M::Holder)) } dd lang="ja" { (holder) }
            }
            @if let Some(n) = question.and_then(|q| q.tries_left) {
                dt { (t(M::TriesLeft)) } dd { (words::tries(lang, n)) }
            }
        }
    }
}

/// The form's submit button says what it does for this purpose.
fn submit_label(lang: Lang, purpose: &Purpose) -> &'static str {
    match purpose {
        Purpose::Login { what: AuthPurpose::Identification, .. } => M::Identify.text(lang),
        Purpose::Login { .. } => M::LogIn.text(lang),
        Purpose::Document { .. } | Purpose::Batch { .. } => M::Sign.text(lang),
    }
}
