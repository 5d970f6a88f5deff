//! The cross-reference data (ISO 32000-1 §7.5.4, §7.5.8): classic `xref` tables and cross-reference streams,
//! hybrid files' /XRefStm, and the /Prev chain of incremental updates, newest first.

use super::lexer::Lexer;
use super::object::{Dictionary, Object, Stream, Value};
use crate::signature::pades::PadesError;
use std::collections::{HashMap, HashSet};

/// Most cross-reference sections followed along /Prev: each incremental update adds one; a loop or a
/// thousand-deep chain is a hostile file.
const MAX_SECTIONS: usize = 1024;

/// Where an object lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// At a byte offset, with its generation.
    Offset {
        /// Byte offset of `n g obj`.
        offset: usize,
        /// Generation.
        generation: u16,
    },
    /// Inside an object stream.
    Compressed {
        /// The object stream's number.
        stream: u32,
        /// Index in it.
        index: u32,
    },
    /// Free (deleted).
    Free,
}

/// One cross-reference section and its trailer.
#[derive(Clone, Debug)]
pub struct Section {
    /// Where it starts (what `startxref` or /Prev named).
    pub offset: usize,
    /// The trailer dictionary (the cross-reference stream's dictionary for a stream).
    pub trailer: Dictionary,
    /// The entries this section gives.
    pub entries: Vec<(u32, Location)>,
    /// Whether it is a cross-reference stream.
    pub is_stream: bool,
}

/// The merged table (newest entry wins) and the sections, newest first.
#[derive(Debug)]
pub(super) struct Table {
    pub(super) locations: HashMap<u32, Location>,
    pub(super) sections: Vec<Section>,
}

/// The `startxref` offset of `bytes` (the last `startxref` in the final kilobyte, followed by `%%EOF`), and where
/// that marker ends: after the `%%EOF` and the end of line that follows it, if any.
pub(super) fn startxref(bytes: &[u8]) -> Result<(usize, usize), PadesError> {
    let tail_start = bytes.len().saturating_sub(1024);
    let tail = bytes.get(tail_start..).unwrap_or_default();
    let at = find_last(tail, b"startxref").ok_or(PadesError::Malformed {
        offset: bytes.len(),
        problem: "no `startxref` in the last kilobyte (truncated, or not a PDF)".into(),
    })?;
    let (offset, end) = marker_at(bytes, tail_start + at)?;
    let offset = usize::try_from(offset)
        .ok()
        .filter(|&o| o < bytes.len())
        .ok_or(PadesError::Malformed { offset: tail_start + at, problem: "startxref points past the end".into() })?;
    Ok((offset, end))
}

/// Every `startxref N … %%EOF` marker in `bytes` from `from` on, in file order: N, and where the marker ends.
/// The revision a cross-reference section starts ends at the first marker after it that names it; a marker
/// that names it again later ends nothing (what lies between belongs to no revision).
pub(super) fn markers(bytes: &[u8], from: usize) -> Vec<(u64, usize)> {
    let mut found = Vec::new();
    let mut at = from;
    while let Some(next) = bytes.get(at..).and_then(|rest| find_first(rest, b"startxref")) {
        let position = at + next;
        if let Ok(marker) = marker_at(bytes, position) {
            found.push(marker);
        }
        at = position + b"startxref".len();
    }
    found
}

/// The `startxref N %%EOF` at `at`: N, and the offset after `%%EOF` and its end of line.
fn marker_at(bytes: &[u8], at: usize) -> Result<(u64, usize), PadesError> {
    let mut lexer = Lexer::new(bytes, at + b"startxref".len());
    let offset = lexer.unsigned()?;
    // Not skip_whitespace: `%%EOF` is a comment to the lexer.
    let rest = bytes.get(lexer.pos..).unwrap_or_default();
    let blank = rest.iter().take_while(|&&b| super::lexer::is_whitespace(b)).count();
    if !rest.get(blank..).unwrap_or_default().starts_with(b"%%EOF") {
        return Err(lexer.error("no `%%EOF` after `startxref` (truncated?)"));
    }
    let eof = lexer.pos + blank + b"%%EOF".len();
    let end = match (bytes.get(eof), bytes.get(eof + 1)) {
        (Some(b'\r'), Some(b'\n')) => eof + 2,
        (Some(b'\r' | b'\n'), _) => eof + 1,
        _ => eof,
    };
    Ok((offset, end))
}

fn find_first(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub(super) fn find_last(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

/// Read the sections from `start` along /Prev (and /XRefStm). `stream_at` parses the cross-reference stream at an
/// offset (the document knows how to read an indirect stream).
pub(super) fn read(
    bytes: &[u8],
    start: usize,
    stream_at: &dyn Fn(usize) -> Result<(Stream, Vec<u8>), PadesError>,
) -> Result<Table, PadesError> {
    let mut locations = HashMap::new();
    let mut sections = Vec::new();
    let mut seen = HashSet::new();
    let mut next = Some(start);
    while let Some(offset) = next {
        if !seen.insert(offset) {
            return Err(PadesError::Malformed {
                offset,
                problem: "the /Prev chain of cross-reference sections loops".into(),
            });
        }
        if sections.len() >= MAX_SECTIONS {
            return Err(PadesError::Malformed { offset, problem: format!("more than {MAX_SECTIONS} revisions") });
        }
        let mut lexer = Lexer::new(bytes, offset);
        let section = if lexer.take_keyword("xref") {
            let mut section = table(&mut lexer, offset)?;
            if let Some(hybrid) = section.trailer.get("XRefStm").and_then(Object::as_integer) {
                let hybrid = usize::try_from(hybrid).map_err(|_| lexer.error("/XRefStm out of range"))?;
                // Entries of the table win over the hidden stream's (§7.5.8.4).
                section.entries.extend(stream_section(hybrid, stream_at)?.entries);
            }
            section
        } else {
            stream_section(offset, stream_at)?
        };
        for &(number, location) in &section.entries {
            locations.entry(number).or_insert(location);
        }
        next = match section.trailer.get("Prev") {
            None => None,
            Some(Object::Integer(prev)) => Some(
                usize::try_from(*prev)
                    .ok()
                    .filter(|&p| p < bytes.len())
                    .ok_or(PadesError::Malformed { offset, problem: "/Prev points outside the file".into() })?,
            ),
            Some(_) => return Err(PadesError::Malformed { offset, problem: "/Prev is not an integer".into() }),
        };
        sections.push(section);
    }
    Ok(Table { locations, sections })
}

/// A classic table after the keyword `xref`, then its trailer.
fn table(lexer: &mut Lexer<'_>, offset: usize) -> Result<Section, PadesError> {
    let mut entries = Vec::new();
    while !lexer.take_keyword("trailer") {
        let first = lexer.unsigned()?;
        let count = lexer.unsigned()?;
        for i in 0..count {
            let at = lexer.unsigned()?;
            let generation = lexer.unsigned()?;
            let number = first
                .checked_add(i)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| lexer.error("object number out of range"))?;
            let generation = u16::try_from(generation).map_err(|_| lexer.error("generation out of range"))?;
            let location = if lexer.take_keyword("n") {
                let offset = usize::try_from(at).map_err(|_| lexer.error("offset out of range"))?;
                Location::Offset { offset, generation }
            } else if lexer.take_keyword("f") {
                Location::Free
            } else {
                return Err(lexer.error("a cross-reference entry that is neither `n` nor `f`"));
            };
            entries.push((number, location));
        }
    }
    let trailer = match lexer.object(0)? {
        Object::Dictionary(d) => d,
        _ => return Err(lexer.error("the trailer is not a dictionary")),
    };
    Ok(Section { offset, trailer, entries, is_stream: false })
}

/// A cross-reference stream at `offset` (§7.5.8.2–3).
fn stream_section(
    offset: usize,
    stream_at: &dyn Fn(usize) -> Result<(Stream, Vec<u8>), PadesError>,
) -> Result<Section, PadesError> {
    let error = |problem: &str| PadesError::Malformed { offset, problem: problem.to_owned() };
    let (stream, data) = stream_at(offset)?;
    let dict = stream.dict;
    if !dict.has_type("XRef") {
        return Err(error("startxref or /Prev points at neither `xref` nor a cross-reference stream"));
    }
    let widths: Vec<usize> = dict
        .get("W")
        .and_then(Object::as_array)
        .filter(|w| w.len() == 3)
        .ok_or_else(|| error("/W is not an array of three integers"))?
        .iter()
        .map(|w| w.as_integer().and_then(|w| usize::try_from(w).ok()).filter(|&w| w <= 8))
        .collect::<Option<_>>()
        .ok_or_else(|| error("a /W width is not an integer from 0 to 8"))?;
    let size = dict.get("Size").and_then(Object::as_integer).ok_or_else(|| error("no /Size"))?;
    let index: Vec<i64> = match dict.get("Index") {
        None => vec![0, size],
        Some(Object::Array(items)) => items
            .iter()
            .map(Object::as_integer)
            .collect::<Option<_>>()
            .ok_or_else(|| error("/Index holds a non-integer"))?,
        Some(_) => return Err(error("/Index is not an array")),
    };
    if !index.len().is_multiple_of(2) {
        return Err(error("/Index has an odd number of entries"));
    }
    let row: usize = widths.iter().sum();
    if row == 0 {
        return Err(error("/W widths are all zero"));
    }
    let mut rows = data.chunks_exact(row);
    let mut entries = Vec::new();
    for pair in index.chunks_exact(2) {
        let (first, count) = match pair {
            [first, count] => (*first, *count),
            _ => return Err(error("/Index is malformed")),
        };
        if first < 0 || count < 0 {
            return Err(error("/Index holds a negative number"));
        }
        for i in 0..count {
            let fields = rows.next().ok_or_else(|| error("the cross-reference stream is shorter than /Index says"))?;
            let number = first
                .checked_add(i)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| error("object number out of range"))?;
            entries.push((
                number,
                stream_entry(fields, &widths).ok_or_else(|| error("a cross-reference entry is out of range"))?,
            ));
        }
    }
    Ok(Section { offset, trailer: dict, entries, is_stream: true })
}

/// One row: type (default 1), then two fields (§7.5.8.3, Table 18).
fn stream_entry(fields: &[u8], widths: &[usize]) -> Option<Location> {
    let (w0, w1) = (*widths.first()?, *widths.get(1)?);
    let read = |from: usize, width: usize| -> Option<u64> {
        fields.get(from..from + width)?.iter().try_fold(0u64, |acc, &b| acc.checked_mul(256)?.checked_add(u64::from(b)))
    };
    let kind = if w0 == 0 { 1 } else { read(0, w0)? };
    let second = read(w0, w1)?;
    let third = read(w0 + w1, *widths.get(2)?)?;
    match kind {
        0 => Some(Location::Free),
        1 => Some(Location::Offset { offset: usize::try_from(second).ok()?, generation: u16::try_from(third).ok()? }),
        2 => Some(Location::Compressed { stream: u32::try_from(second).ok()?, index: u32::try_from(third).ok()? }),
        // Unknown types read as null objects (§7.5.8.3).
        _ => Some(Location::Free),
    }
}

/// The stream `value` must be a stream, else the offset names no cross-reference stream.
pub(super) fn expect_stream(value: Value, offset: usize) -> Result<Stream, PadesError> {
    match value {
        Value::Stream(s) => Ok(s),
        Value::Object(_) => Err(PadesError::Malformed { offset, problem: "expected a stream object".into() }),
    }
}
