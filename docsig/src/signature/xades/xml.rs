//! A safe XML reader for signed documents (decision D75): `roxmltree` (pure Rust, no `unsafe`, namespace-aware,
//! read-only) behind checks of our own, so that a hostile document costs bounded memory and time and never
//! reaches a DTD:
//!
//! * any `<!DOCTYPE` or `<!ENTITY` in the bytes is refused before parsing (roxmltree tolerates an empty DOCTYPE;
//!   we do not), so no entity is ever declared, and only the five predefined entities and character references
//!   exist — an unknown `&name;` is a well-formedness error;
//! * at most [`MAX_BYTES`] of input, [`MAX_NODES`] nodes and [`MAX_DEPTH`] levels of elements;
//! * UTF-8 only (a UTF-8 byte order mark is allowed).

use super::error::XmlError;
use roxmltree::{Attribute, Document, Node, ParsingOptions};

/// The largest document read: 4 MiB (an e-prescription is a few KiB; its CSV is limited far below this).
pub const MAX_BYTES: usize = 4 * 1024 * 1024;
/// The most nodes (elements, texts, comments, PIs, attributes count as nodes in roxmltree's limit too).
pub const MAX_NODES: u32 = 100_000;
/// The deepest element nesting (an e-prescription with its signature is 10 levels deep).
pub const MAX_DEPTH: usize = 64;

/// Parse `bytes` (UTF-8) as XML under the limits above. DTDs and entity declarations are refused.
pub fn parse_bytes(bytes: &[u8]) -> Result<Document<'_>, XmlError> {
    if bytes.len() > MAX_BYTES {
        return Err(XmlError::TooLarge { size: bytes.len(), limit: MAX_BYTES });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| XmlError::NotUtf8(e.to_string()))?;
    parse(text.strip_prefix('\u{feff}').unwrap_or(text))
}

/// Parse `text` as XML under the limits above. DTDs and entity declarations are refused.
pub fn parse(text: &str) -> Result<Document<'_>, XmlError> {
    if text.len() > MAX_BYTES {
        return Err(XmlError::TooLarge { size: text.len(), limit: MAX_BYTES });
    }
    // Anywhere, even inside a comment or CDATA: a signed e-prescription has no reason to carry either string,
    // and refusing them all leaves no DTD path to reason about.
    if contains(text, "<!DOCTYPE") || contains(text, "<!ENTITY") {
        return Err(XmlError::Doctype);
    }
    let options = ParsingOptions { allow_dtd: false, nodes_limit: MAX_NODES, ..ParsingOptions::default() };
    let document = Document::parse_with_options(text, options).map_err(|e| match e {
        roxmltree::Error::DtdDetected => XmlError::Doctype,
        roxmltree::Error::NodesLimitReached => XmlError::TooManyNodes { limit: MAX_NODES },
        other => XmlError::Malformed(other.to_string()),
    })?;
    check_depth(&document)?;
    Ok(document)
}

/// Refuse elements nested deeper than [`MAX_DEPTH`] (canonicalization walks the tree recursively). Nodes come in
/// document order, so a parent's depth is known before its children's.
fn check_depth(document: &Document<'_>) -> Result<(), XmlError> {
    let mut depth = vec![0usize; document.descendants().count()];
    for node in document.descendants() {
        let own = match node.parent() {
            Some(parent) => depth.get(parent.id().get_usize()).copied().unwrap_or(MAX_DEPTH) + 1,
            None => 0,
        };
        if own > MAX_DEPTH {
            return Err(XmlError::TooDeep { limit: MAX_DEPTH });
        }
        if let Some(slot) = depth.get_mut(node.id().get_usize()) {
            *slot = own;
        }
    }
    Ok(())
}

fn contains(text: &str, needle: &str) -> bool {
    text.as_bytes().windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// The qualified name of `element` as written (`ds:Signature`, `Document`): roxmltree keeps the namespace URI,
/// and canonical XML needs the prefix too.
pub fn element_qname<'a>(element: Node<'_, 'a>) -> &'a str {
    let input = element.document().input_text();
    let start = element.range().start.saturating_add(1);
    let rest = input.get(start..).unwrap_or_default();
    let end = rest.find(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/').unwrap_or(rest.len());
    rest.get(..end).unwrap_or_default()
}

/// The qualified name of `attribute` as written (`Id`, `xml:lang`).
pub fn attribute_qname<'a>(node: Node<'_, 'a>, attribute: &Attribute<'_, 'a>) -> &'a str {
    node.document().input_text().get(attribute.range_qname()).unwrap_or_else(|| attribute.name())
}

/// The prefix of a qualified name, `""` when it has none.
pub fn prefix(qname: &str) -> &str {
    qname.split_once(':').map(|(p, _)| p).unwrap_or_default()
}
