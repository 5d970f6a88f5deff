//! The CAdES arm: a detached `.p7s` over any file through `hcpki_docsig::signature::cades` (D69): `prepare` (the
//! signed attributes, messageDigest = the document's hash the agent computes: SHA-256, or SHA-384 for a P-384
//! card, D153), the card's signature, `assemble` (which verifies it with the signer certificate), and for B-T the
//! signature time stamp.

use hcpki_docsig::signature::cades::{self, CadesError, ToBeSigned};

use super::summary::SummaryLine;
use crate::driver::Words;
use crate::service::AgentError;

/// How many characters of a text file's first line the summary shows.
const FIRST_LINE_CHARS: usize = 80;

pub(super) fn prepare(document: &[u8], chain: &[Vec<u8>], signing_time: i64) -> Result<ToBeSigned, AgentError> {
    let chain: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
    cades::prepare_document(document, &chain, signing_time).map_err(refused)
}

pub(super) fn finish(tbs: ToBeSigned, signature: &[u8]) -> Result<Vec<u8>, AgentError> {
    cades::assemble(tbs, signature).map_err(refused)
}

pub(super) fn time_stamp_digest(p7s: &[u8]) -> Result<[u8; 32], AgentError> {
    cades::signature_time_stamp_digest(p7s).map_err(refused)
}

pub(super) fn with_time_stamp(p7s: &[u8], token: &[u8]) -> Result<Vec<u8>, AgentError> {
    cades::with_signature_time_stamp(p7s, token).map_err(refused)
}

fn refused(e: CadesError) -> AgentError {
    AgentError::Document(format!("the CAdES signature cannot be made, so nothing was signed: {e}"))
}

/// A `.p7s` signs any file as it is, so the summary says what kind of file it is (from its bytes, not from the
/// name the requester gave), and for text its first line.
pub(super) fn summary(bytes: &[u8]) -> Vec<SummaryLine> {
    const CONTENT: Words = Words { ja: "内容", en: "Content" };
    const FIRST: Words = Words { ja: "先頭の行", en: "First line" };
    const SIGNED_AS: Words = Words { ja: "署名の方式", en: "Signed as" };
    let mut lines = vec![SummaryLine::new(
        SIGNED_AS,
        "ファイル全体の SHA-256 に対する分離署名（ファイルは変更されません）",
        "a detached signature over the SHA-256 of the whole file (the file is not changed)",
    )];
    let (ja, en) = content_kind(bytes);
    lines.push(SummaryLine::new(CONTENT, ja, en));
    if let Ok(text) = std::str::from_utf8(bytes)
        && let Some(first) = text.lines().map(str::trim).find(|l| !l.is_empty())
    {
        let mut shown: String = first.chars().filter(|c| !c.is_control()).take(FIRST_LINE_CHARS).collect();
        if first.chars().count() > FIRST_LINE_CHARS {
            shown.push('…');
        }
        lines.push(SummaryLine::new(FIRST, shown.clone(), shown));
    }
    lines
}

/// The kind of file, from its first bytes.
fn content_kind(bytes: &[u8]) -> (String, String) {
    let head =
        bytes.iter().position(|b| !b.is_ascii_whitespace()).map_or(&[][..], |i| bytes.get(i..).unwrap_or_default());
    if head.starts_with(b"%PDF-") {
        return ("PDF 文書".into(), "a PDF document".into());
    }
    if head.starts_with(b"<") {
        return ("XML 文書".into(), "an XML document".into());
    }
    if head.starts_with(b"{") {
        if let Ok(serde_json::Value::Object(o)) = serde_json::from_slice::<serde_json::Value>(bytes)
            && let Some(kind) = o.get("resourceType").and_then(|v| v.as_str())
        {
            let kind: String = kind.chars().filter(char::is_ascii_alphanumeric).take(64).collect();
            return (format!("FHIR リソース（{kind}）"), format!("a FHIR resource ({kind})"));
        }
        return ("JSON 文書".into(), "a JSON document".into());
    }
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return ("JPEG 画像".into(), "a JPEG image".into());
    }
    if head.starts_with(b"\x89PNG") {
        return ("PNG 画像".into(), "a PNG image".into());
    }
    if std::str::from_utf8(bytes).is_ok() {
        return ("テキスト（UTF-8）".into(), "text (UTF-8)".into());
    }
    ("バイナリ ファイル".into(), "a binary file".into())
}
