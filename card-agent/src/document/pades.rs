//! The PAdES arm: a PDF (referral letter, consent form) signed inside itself through `hcpki_docsig::signature::pades`
//! (D77): `prepare` appends the signature field to the PDF the agent shows and gives the signed attributes over
//! its byte ranges, the card signs them, `assemble` checks the signature and fills it in; for B-T the signature
//! time stamp inside the CMS.

use hcpki_docsig::consent_document::{self, Statement};
use hcpki_docsig::signature::pades::{self, PadesError, Prepared};

use super::summary::SummaryLine;
use crate::driver::Words;
use crate::service::AgentError;

pub(super) fn prepare(pdf: &[u8], chain: &[Vec<u8>], signing_time: i64) -> Result<Prepared, AgentError> {
    let chain: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
    pades::prepare(pdf, &chain, signing_time).map_err(refused)
}

pub(super) fn finish(prepared: Prepared, signature: &[u8]) -> Result<Vec<u8>, AgentError> {
    pades::assemble(prepared, signature).map_err(refused)
}

pub(super) fn time_stamp_digest(pdf: &[u8]) -> Result<[u8; 32], AgentError> {
    pades::signature_time_stamp_digest(pdf).map_err(refused)
}

pub(super) fn with_time_stamp(pdf: &[u8], token: &[u8]) -> Result<Vec<u8>, AgentError> {
    pades::with_signature_time_stamp(pdf, token).map_err(refused)
}

fn refused(e: PadesError) -> AgentError {
    AgentError::Document(format!("the PDF signature cannot be made, so nothing was signed: {e}"))
}

/// The PDF's own title (not the requester's) and its pages: what a person recognises the letter by. An encrypted
/// or malformed PDF: refused.
pub(super) fn summary(pdf: &[u8]) -> Result<Vec<SummaryLine>, AgentError> {
    const SIGNED_AS: Words = Words { ja: "署名の方式", en: "Signed as" };
    const TITLE: Words = Words { ja: "PDF の題名", en: "PDF title" };
    const PAGES: Words = Words { ja: "ページ数", en: "Pages" };
    let summary = pades::summary(pdf).map_err(refused)?;
    let title = summary.title.unwrap_or_default();
    let (ja, en) =
        if title.is_empty() { ("（なし）".to_owned(), "(none)".to_owned()) } else { (title.clone(), title) };
    Ok(vec![
        SummaryLine::new(
            SIGNED_AS,
            "PDF に埋め込む署名（元の内容の後ろに追記し、内容は変更しません）",
            "a signature inside the PDF (appended after the original content, which is not changed)",
        ),
        SummaryLine::new(TITLE, ja, en),
        SummaryLine::new(PAGES, summary.pages.to_string(), summary.pages.to_string()),
    ])
}

/// The consent statement the PDF carries (`hcpki_docsig::consent_document::read`, from the first revision, checked to
/// be what was rendered); an error when it carries one that cannot be read.
pub(super) fn statement(pdf: &[u8]) -> Result<Option<Statement>, AgentError> {
    consent_document::read(pdf).map_err(|e| {
        AgentError::Document(format!(
            "the PDF carries a consent statement the card agent cannot read, so it shows nothing and signs nothing: \
             {e}; make the consent document again from the portal"
        ))
    })
}
