//! What is signed and by whom, as every document page lists it (the signing page and the patient's consent
//! page's folded details).

use hcpki_html::Lang;
use maud::{Markup, html};

use super::words::{self, M};
use crate::document::signer::SignerShown;
use crate::document::{DocumentFormat as _, Shown};
use crate::service::CardKind;

/// What is signed and by whom: the agent's own reading of the document (the title and file name are the
/// requester's words, and say so), the SHA-256 in full, the format's summary, and the signature certificate's
/// holder and hcRole.
pub(super) fn document_facts(lang: Lang, shown: &Shown, signer: &SignerShown, kind: CardKind) -> Markup {
    html! { (document_lines(lang, shown)) (signer_lines(lang, signer, kind)) }
}

/// A batch (D163): each document numbered ("1 / 3") with its facts, then the signer once.
pub(super) fn batch_facts(lang: Lang, documents: &[Shown], signer: &SignerShown, kind: CardKind) -> Markup {
    let items = documents.len();
    html! {
        @for (i, shown) in documents.iter().enumerate() {
            dt class="item" { (words::batch_item(lang, i + 1, items)) } dd class="item" { strong { (shown.title) } }
            (document_lines(lang, shown))
        }
        (signer_lines(lang, signer, kind))
    }
}

/// The agent's reading of one document.
fn document_lines(lang: Lang, shown: &Shown) -> Markup {
    let t = |m: M| m.text(lang);
    html! {
        dt { (t(M::DocumentType)) } dd { (shown.format.label().get(lang)) }
        dt { (t(M::DocumentTitle)) } dd id="document-title" { (shown.title) }
        @if let Some(name) = &shown.file_name { dt { (t(M::FileName)) } dd class="origin" { (name) } }
        dt { (t(M::Size)) } dd { (words::size(lang, shown.size)) }
        dt { (t(M::Sha256)) } dd id="document-sha256" class="origin" lang="en" { (shown.sha256_grouped()) }
        @for line in &shown.summary {
            dt { (line.label.get(lang)) }
            dd { (match lang { Lang::Ja => &line.value_ja, Lang::En => &line.value_en }) }
        }
        dt { (t(M::Level)) } dd lang="en" { (shown.level.name()) }
    }
}

/// Who signs: the signature certificate's holder and hcRole.
fn signer_lines(lang: Lang, signer: &SignerShown, kind: CardKind) -> Markup {
    let t = |m: M| m.text(lang);
    html! {
        dt { (t(M::Signer)) }
        @match (&signer.name, kind) {
            (Some(name), _) => dd id="signer" lang="ja" { (name) },
            (None, CardKind::Jpki) => dd id="signer" { (t(M::SignerAfterPin)) },
            (None, _) => dd id="signer" { "—" },
        }
        @if let Some(role) = &signer.hc_role { dt { (t(M::SignerRole)) } dd lang="en" { (role) } }
    }
}
