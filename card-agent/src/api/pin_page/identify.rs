//! A patient identified at reception (`/patients/identify`, issue #45 item 7): the page says so in large type — what
//! is checked, that nothing is signed or read beyond the user-authentication certificate — and asks for the My
//! Number card's 4-digit user-authentication PIN, naming it apart from the signing password patients confuse it
//! with. What the page says comes from the request's typed purpose ([`AuthPurpose::Identification`]), which is also
//! what the card signs, never from the page's text.

use hcpki_agent_protocol::AuthPurpose;
use hcpki_html::Lang;
use maud::{Markup, html};

use super::layout;
use super::words::M;
use crate::api::operations::{Operation, Purpose};
use crate::driver::{PinCharset, registry};
use crate::service::PinQuestion;

/// Whether `op` identifies a patient (rather than logging in or signing a document).
pub(super) fn is_identification(op: &Operation) -> bool {
    matches!(op.purpose, Purpose::Login { what: AuthPurpose::Identification, .. })
}

/// The PIN form of an identification.
pub(super) fn form(lang: Lang, op: &Operation, question: &PinQuestion, facts: Markup) -> Markup {
    let t = |m: M| m.text(lang);
    let labels = registry::pin_labels(question.kind, question.role);
    let warning = match question.tries_left {
        Some(1) => Some(t(M::LastTry)),
        Some(2) => Some(t(M::TwoLeft)),
        _ => None,
    };
    let described_by = if warning.is_some() { "pin-hint pin-warning" } else { "pin-hint" };
    let body = html! {
        div class="identify large-text" {
            p class="kicker" { (t(M::IdentifyKicker)) }
            h1 { (t(M::IdentifyHeading)) }
            p class="lead" { (t(M::IdentifyLead)) }
            (facts)
            @if let Some(w) = warning { p id="pin-warning" class="warn" { (w) } }
            form method="post" action={ "/pin/" (op.id) } {
                input type="hidden" name="token" value=(op.page_token);
                input type="hidden" name="lang" value=(lang.code());
                label for="pin" { (labels.page.get(lang)) }
                p id="pin-hint" class="hint" { (t(M::IdentifyPinHint)) }
                input id="pin" type="password" name="pin" autocomplete="off" autofocus required
                    minlength=(labels.min_len) maxlength=(labels.max_len) pattern=(labels.pattern())
                    inputmode=[(labels.charset == PinCharset::Digits).then_some("numeric")]
                    aria-describedby=(described_by);
                @if question.tries_left == Some(1) {
                    p class="confirm" {
                        input id="confirm-last-try" type="checkbox" name="confirm_last_try" value="yes" required;
                        label for="confirm-last-try" { (t(M::ConfirmLastTry)) }
                    }
                }
                p class="actions" {
                    button class="primary" type="submit" name="action" value="sign" { (t(M::Identify)) }
                    button class="secondary" type="submit" name="action" value="cancel" formnovalidate { (t(M::Cancel)) }
                }
            }
            p class="note" { (t(M::PinStaysHere)) }
        }
    };
    layout::document(lang, t(M::IdentifyKicker), body, false)
}
