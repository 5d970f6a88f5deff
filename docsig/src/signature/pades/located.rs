//! The signatures a PDF holds, found through its AcroForm, each with its /ByteRange checked against the file:
//! the two ranges must be everything but the /Contents string of that very dictionary (so no byte of the
//! revision escapes the signature, and /Contents cannot be a string somewhere else).

use super::PadesError;
use super::pdf::{Dictionary, Document, Location, Object, ObjectId, Value, parse_indirect};
use std::ops::Range;

/// What a signature dictionary is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A signature (/Type /Sig, or no /Type): ETSI.CAdES.detached.
    Signature,
    /// A document time stamp (/Type /DocTimeStamp): ETSI.RFC3161.
    DocumentTimeStamp,
}

/// One signature field's value, located in the file.
#[derive(Clone, Debug)]
pub(super) struct Located {
    /// The field's name (/T).
    pub(super) field: String,
    pub(super) kind: Kind,
    pub(super) dict: Dictionary,
    /// The hexadecimal /Contents string, `<` to after `>`.
    pub(super) contents: Range<usize>,
    /// Where the signed revision ends (the second range's end).
    pub(super) end: usize,
    /// The CMS: /Contents without its zero padding.
    pub(super) cms: Vec<u8>,
}

impl Located {
    /// The bytes the signature covers.
    pub(super) fn covered(&self, bytes: &[u8]) -> Vec<u8> {
        super::field::covered(bytes.get(..self.end).unwrap_or_default(), &self.contents)
    }
}

/// Deepest field hierarchy followed.
const MAX_FIELD_DEPTH: usize = 16;

/// Most signatures and document time stamps in one PDF: a letter has one signature and a time stamp per
/// renewal; each one costs a parse of its revision, so a file of thousands is refused rather than checked.
const MAX_SIGNATURES: usize = 64;

/// The signature fields of `document` that hold a value, in /ByteRange order (oldest revision first).
pub(super) fn signatures(document: &Document<'_>) -> Result<Vec<Located>, PadesError> {
    let catalog = document.catalog()?;
    let Some(acro_form) = catalog.get("AcroForm") else { return Ok(Vec::new()) };
    let acro_form = document.resolve(acro_form)?;
    let Some(fields) = acro_form.as_dictionary().and_then(|a| a.get("Fields")) else { return Ok(Vec::new()) };
    let mut stack: Vec<(Object, usize, bool)> = match document.resolve(fields)? {
        Object::Array(items) => items.into_iter().map(|f| (f, 0, false)).collect(),
        _ => return Ok(Vec::new()),
    };
    let mut found = Vec::new();
    let mut seen = std::collections::HashSet::new();
    while let Some((field, depth, inherited_sig)) = stack.pop() {
        if depth > MAX_FIELD_DEPTH || seen.len() > 10_000 {
            return Err(PadesError::Malformed { offset: 0, problem: "the form's field tree is too deep".into() });
        }
        if let Object::Reference(id) = field
            && !seen.insert(id)
        {
            continue;
        }
        let Some(dict) = document.resolve(&field)?.as_dictionary().cloned() else { continue };
        let is_sig = dict.name("FT").map_or(inherited_sig, |ft| ft == b"Sig");
        if let Some(kids) = dict.get("Kids")
            && let Object::Array(kids) = document.resolve(kids)?
        {
            stack.extend(kids.into_iter().map(|k| (k, depth + 1, is_sig)));
        }
        let Some(Object::Reference(value)) = dict.get("V") else { continue };
        if is_sig {
            if found.len() >= MAX_SIGNATURES {
                return Err(PadesError::Malformed {
                    offset: 0,
                    problem: format!("more than {MAX_SIGNATURES} signatures and time stamps"),
                });
            }
            let name = dict.get("T").and_then(Object::as_string).map(super::pdf::text_string).unwrap_or_default();
            found.push(locate(document, &name, *value)?);
        }
    }
    found.sort_by_key(|s| s.end);
    Ok(found)
}

/// The signature dictionary `id` of field `field`, its /ByteRange checked.
fn locate(document: &Document<'_>, field: &str, id: ObjectId) -> Result<Located, PadesError> {
    let broken = |problem: &str| PadesError::ByteRange { field: field.to_owned(), problem: problem.to_owned() };
    let bytes = document.bytes();
    let Some(Location::Offset { offset, .. }) = document.location(id.number) else {
        return Err(broken("its signature dictionary is not a plain object at a byte offset"));
    };
    let (_, value, object_end) =
        parse_indirect(bytes, offset, &|_| Err(broken("a stream is no signature dictionary")))?;
    let Value::Object(Object::Dictionary(dict)) = value else { return Err(broken("its value is not a dictionary")) };
    let kind = if dict.has_type("DocTimeStamp") { Kind::DocumentTimeStamp } else { Kind::Signature };
    let range: Vec<usize> = dict
        .get("ByteRange")
        .and_then(Object::as_array)
        .map(|r| r.iter().map(|n| n.as_integer().and_then(|n| usize::try_from(n).ok())).collect::<Option<Vec<_>>>())
        .unwrap_or_default()
        .ok_or_else(|| broken("/ByteRange holds something other than non-negative integers"))?;
    let [start, first_len, second_start, second_len] = range.as_slice() else {
        return Err(broken("/ByteRange is not four integers"));
    };
    let end = second_start.checked_add(*second_len).ok_or_else(|| broken("/ByteRange overflows"))?;
    if *start != 0 || *first_len >= *second_start || end > bytes.len() {
        return Err(broken("/ByteRange does not start at 0, or its ranges overlap or run past the end of the file"));
    }
    let contents = *first_len..*second_start;
    if contents.start <= offset || contents.end >= object_end {
        return Err(broken("the gap in /ByteRange is not inside this signature dictionary"));
    }
    let text = bytes.get(contents.clone()).unwrap_or_default();
    let inner = match text {
        [b'<', inner @ .., b'>'] if inner.iter().all(u8::is_ascii_hexdigit) && inner.len() % 2 == 0 => inner,
        _ => return Err(broken("the gap in /ByteRange is not exactly the hexadecimal /Contents string")),
    };
    let value = super::pdf::decode_hex(inner).ok_or_else(|| broken("/Contents is not hexadecimal"))?;
    if dict.get("Contents").and_then(Object::as_string) != Some(value.as_slice()) {
        return Err(broken("the gap in /ByteRange is not this dictionary's /Contents"));
    }
    let cms = unpad(&value).ok_or_else(|| broken("/Contents does not hold one CMS structure followed by zeros"))?;
    Ok(Located { field: field.to_owned(), kind, dict, contents, end, cms })
}

/// The CMS structure at the start of `value` (a SEQUENCE, BER as CMS allows: a definite or an indefinite length),
/// when only zeros follow it.
fn unpad(value: &[u8]) -> Option<Vec<u8>> {
    let (element, padding) = hcpki_pkix::asn1::ber::Element::first(value).ok()?;
    (element.identifier == 0x30 && padding.iter().all(|&b| b == 0)).then(|| element.encoding.to_vec())
}
