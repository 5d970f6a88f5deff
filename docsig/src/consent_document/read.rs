//! The statement read back from a consent document, as the card agent does before the patient signs, with the
//! PAdES reader (`pades::pdf`). Only the **first revision** counts (decision D89): its bytes end at the first
//! `%%EOF`, which [`super::render`] writes once (the embedded JSON escapes `%`), so nothing appended after can move
//! that end. A later revision (a signature, validation data, a document time stamp) may add only what PAdES allows
//! after a signature (`pades::diff`), plus the metadata a signer's own revision rewrites ([`SIGNERS_CHANGES`]);
//! one that changes anything else of the first revision — the catalog's /Names, /AF or /Pages, the embedded
//! statement, a page, a font — is refused, since the agent would show one statement while the bytes signed say
//! or show another. And the first revision must be exactly what `render` makes of its statement and creation date, so
//! the page text a viewer shows is the statement too.

use super::render::{pdf_date, render};
use super::statement::{DocumentError, EMBEDDED_FILE_NAME, Item, Kind, STATEMENT_VERSION, Statement, validate};
use crate::signature::pades::PadesError;
use crate::signature::pades::diff::{Tolerated, check_later_revisions_tolerating};
use crate::signature::pades::pdf::{Dictionary, Document, Object, ObjectId, text_string};

/// What a signer's revision may change besides what any revision after a signature may (the document
/// information, XMP metadata, extension levels, the version: `pades::diff`): DocMDP permissions, which a
/// certifying signer adds. Never /Names, /AF, /Pages, or an action, form or page content.
const SIGNERS_CHANGES: Tolerated = Tolerated { catalog_keys: &["Perms"] };

/// The largest embedded statement read: 40 items of 4,000 characters take under 600 kB of JSON.
const MAX_JSON_BYTES: usize = 2 * 1024 * 1024;
/// Deepest name tree walked, and most nodes visited (a loop or a hostile tree stops here).
const MAX_NAME_TREE_DEPTH: usize = 16;
const MAX_NAME_TREE_NODES: usize = 1024;

/// The statement the consent document `pdf` carries in its first revision; `None` for a PDF that carries none
/// (in no revision). Refused: bytes that are no readable PDF, a statement that is malformed or breaks the limits,
/// a first revision that is not what [`render`] makes of its statement, and a later revision that changes the
/// first beyond what signing adds (or adds a statement).
pub fn read(pdf: &[u8]) -> Result<Option<Statement>, DocumentError> {
    let whole = Document::parse(pdf)?;
    let end = first_revision_end(pdf);
    let first_bytes = pdf.get(..end).unwrap_or_default();
    let rest = pdf.get(end..).unwrap_or_default();
    if rest.iter().all(|b| b" \t\r\n\x0c\0".contains(b)) {
        return match statement_of(&whole)? {
            Some(statement) => as_rendered(&whole, first_bytes, statement).map(Some),
            None => Ok(None),
        };
    }
    let first = match Document::parse(first_bytes) {
        Ok(first) => first,
        Err(e) if names_statement(&whole)? => return Err(DocumentError::FirstRevision { problem: e.to_string() }),
        Err(_) => return Ok(None),
    };
    let Some(statement) = statement_of(&first)? else {
        if names_statement(&whole)? {
            return Err(DocumentError::ChangedAfterFirstRevision {
                revision: whole.sections().len(),
                change: format!("adds an embedded {EMBEDDED_FILE_NAME} the first revision does not have"),
            });
        }
        return Ok(None);
    };
    check_later_revisions_tolerating(&first, &whole, EMBEDDED_FILE_NAME, SIGNERS_CHANGES).map_err(|e| match e {
        PadesError::ModifiedAfterSigning { revision, change, .. } => {
            DocumentError::ChangedAfterFirstRevision { revision, change }
        }
        other => DocumentError::Pdf(other),
    })?;
    as_rendered(&first, first_bytes, statement).map(Some)
}

/// Where the first revision ends: after the first `%%EOF` and the end of line after it.
fn first_revision_end(pdf: &[u8]) -> usize {
    let Some(at) = pdf.windows(5).position(|w| w == b"%%EOF") else { return pdf.len() };
    let end = at + 5;
    match pdf.get(end..end + 2) {
        Some(b"\r\n") => end + 2,
        _ if matches!(pdf.get(end), Some(b'\r' | b'\n')) => end + 1,
        _ => end,
    }
}

/// The statement `render` would make these bytes of, checked: the document's /CreationDate gives the time.
fn as_rendered(document: &Document<'_>, bytes: &[u8], statement: Statement) -> Result<Statement, DocumentError> {
    let not_rendered = |why: &str| DocumentError::BadStatement {
        problem: format!("the PDF is not the document hcpki renders for it ({why})"),
    };
    let created_at = creation_date(document)?.ok_or_else(|| not_rendered("no /CreationDate in hcpki's form"))?;
    let expected =
        render(&statement, created_at).map_err(|e| DocumentError::BadStatement { problem: e.to_string() })?;
    if expected != bytes {
        return Err(not_rendered("its pages or objects differ from the statement's rendering"));
    }
    Ok(statement)
}

/// The Info /CreationDate when it is in the form `render` writes (`D:YYYYMMDDHHmmSSZ`), as Unix seconds.
fn creation_date(document: &Document<'_>) -> Result<Option<i64>, DocumentError> {
    let Some(info) = document.trailer().get("Info") else { return Ok(None) };
    let info = document.resolve(info)?;
    let Some(date) = info.as_dictionary().and_then(|i| i.get("CreationDate")).and_then(Object::as_string) else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(date);
    let Some(digits) = text.strip_prefix("D:").and_then(|d| d.strip_suffix('Z')) else { return Ok(None) };
    if digits.len() != 14 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let field = |from: usize, to: usize| digits.get(from..to).and_then(|d| d.parse::<i64>().ok()).unwrap_or(-1);
    let month = u8::try_from(field(4, 6)).ok().and_then(|m| time::Month::try_from(m).ok());
    let date = month.and_then(|month| {
        let year = i32::try_from(field(0, 4)).ok()?;
        let day = u8::try_from(field(6, 8)).ok()?;
        let (hour, minute, second) =
            (u8::try_from(field(8, 10)).ok()?, u8::try_from(field(10, 12)).ok()?, u8::try_from(field(12, 14)).ok()?);
        let date = time::Date::from_calendar_date(year, month, day).ok()?;
        let time = time::Time::from_hms(hour, minute, second).ok()?;
        Some(time::PrimitiveDateTime::new(date, time).assume_utc().unix_timestamp())
    });
    // Written back the same way, or it was not hcpki's form (a leap second, a day 31 of a short month…).
    Ok(date.filter(|&seconds| pdf_date(seconds).ok().as_deref() == Some(text.as_ref())))
}

/// The embedded statement named in `document`'s catalog, when there is one.
fn statement_of(document: &Document<'_>) -> Result<Option<Statement>, DocumentError> {
    let Some(file_spec) = statement_file_spec(document)? else { return Ok(None) };
    let bad = |problem: String| DocumentError::BadStatement { problem };
    let spec = document.resolve(&file_spec)?;
    let streams = match spec.as_dictionary().and_then(|s| s.get("EF")) {
        Some(ef) => document.resolve(ef)?,
        None => return Err(bad("its file specification has no embedded file (/EF)".into())),
    };
    let stream = streams
        .as_dictionary()
        .and_then(|ef| ef.get("F").or_else(|| ef.get("UF")))
        .and_then(Object::as_reference)
        .ok_or_else(|| bad("its /EF names no embedded file stream".into()))?;
    let json = document.stream_data(stream)?;
    if json.len() > MAX_JSON_BYTES {
        return Err(bad(format!("it is {} bytes, over the limit of {MAX_JSON_BYTES}", json.len())));
    }
    let parsed: Json = serde_json::from_slice(&json).map_err(|e| bad(format!("its JSON does not read ({e})")))?;
    if parsed.version != STATEMENT_VERSION {
        return Err(bad(format!("it is version {}; this hcpki reads version {STATEMENT_VERSION}", parsed.version)));
    }
    let statement =
        Statement { kind: parsed.kind, title: parsed.title, items: parsed.items, reference: parsed.reference };
    validate(&statement).map_err(|e| bad(e.to_string()))?;
    Ok(Some(statement))
}

/// The embedded statement's JSON, every key required and no other allowed.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Json {
    version: u32,
    kind: Kind,
    title: String,
    items: Vec<Item>,
    reference: String,
}

/// Whether `document`'s catalog names an embedded statement (however broken).
fn names_statement(document: &Document<'_>) -> Result<bool, DocumentError> {
    Ok(statement_file_spec(document)?.is_some())
}

/// The file specification the catalog's /Names /EmbeddedFiles tree names [`EMBEDDED_FILE_NAME`]; two are refused.
fn statement_file_spec(document: &Document<'_>) -> Result<Option<Object>, DocumentError> {
    let catalog = document.catalog()?;
    let Some(names) = catalog.get("Names") else { return Ok(None) };
    let names = document.resolve(names)?;
    let Some(tree) = names.as_dictionary().and_then(|n| n.get("EmbeddedFiles")) else { return Ok(None) };
    let Object::Dictionary(root) = document.resolve(tree)? else {
        return Err(malformed("the catalog's /Names /EmbeddedFiles is not a dictionary"));
    };
    let mut found = Vec::new();
    let mut visited = 0usize;
    let mut stack: Vec<(Dictionary, usize)> = vec![(root, 0)];
    while let Some((node, depth)) = stack.pop() {
        visited += 1;
        if depth > MAX_NAME_TREE_DEPTH || visited > MAX_NAME_TREE_NODES {
            return Err(malformed("the embedded files' name tree is too deep or too large (a loop?)"));
        }
        if let Some(pairs) = node.get("Names") {
            let pairs = document.resolve(pairs)?;
            let pairs = pairs.as_array().ok_or_else(|| malformed("a name tree's /Names is not an array"))?;
            for pair in pairs.chunks(2) {
                if let [key, value] = pair
                    && let Some(key) = document.resolve(key)?.as_string()
                    && text_string(key) == EMBEDDED_FILE_NAME
                {
                    found.push(value.clone());
                }
            }
        }
        if let Some(kids) = node.get("Kids") {
            let kids = document.resolve(kids)?;
            let kids = kids.as_array().ok_or_else(|| malformed("a name tree's /Kids is not an array"))?;
            for kid in kids.iter().rev() {
                let kid: ObjectId =
                    kid.as_reference().ok_or_else(|| malformed("a name tree kid is not a reference"))?;
                stack.push((document.dictionary(kid)?, depth + 1));
            }
        }
    }
    if found.len() > 1 {
        return Err(DocumentError::BadStatement {
            problem: format!("the PDF embeds {} files named {EMBEDDED_FILE_NAME}; it must be one", found.len()),
        });
    }
    Ok(found.pop())
}

fn malformed(problem: &str) -> DocumentError {
    DocumentError::Pdf(PadesError::Malformed { offset: 0, problem: problem.to_owned() })
}
