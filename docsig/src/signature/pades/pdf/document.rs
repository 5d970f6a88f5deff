//! A PDF file opened for signing: its cross-reference table, trailer and object lookup, with the size limit
//! and the refusals (encrypted, malformed) in one place.

use super::filter;
use super::lexer::Lexer;
use super::object::{Dictionary, Object, ObjectId, Stream, Value};
use super::xref::{self, Location, Section, Table};
use crate::signature::pades::PadesError;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// The largest PDF hcpki signs or checks: referral letters and consent forms are a few hundred kilobytes; scans
/// of many pages stay under this. Larger files are refused before any parsing (HTTP 413 at the edge).
pub const MAX_PDF_SIZE: usize = 20 * 1024 * 1024;

/// Most pages counted in the page tree (a loop or a hostile tree stops here).
const MAX_PAGES: usize = 100_000;

/// An object stream, decoded once (§7.5.7).
#[derive(Debug)]
struct ObjectStream {
    data: Vec<u8>,
    first: usize,
    entries: Vec<(u32, usize)>,
}

/// An opened PDF. Borrowing the bytes: the signer appends to them, never rewrites them.
#[derive(Debug)]
pub struct Document<'a> {
    bytes: &'a [u8],
    table: Table,
    trailer: Dictionary,
    start: usize,
    end: usize,
    xref_stream: bool,
    root: ObjectId,
    object_streams: RefCell<HashMap<u32, Rc<ObjectStream>>>,
}

impl<'a> Document<'a> {
    /// Open `bytes`: the size limit, the `%PDF-` header, `startxref`, every cross-reference section along
    /// /Prev, and a trailer with /Root. Encrypted files (/Encrypt) are refused: their strings could not be read
    /// and a signature over them would not show what the reader sees.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, PadesError> {
        if bytes.len() > MAX_PDF_SIZE {
            return Err(PadesError::TooLarge { size: bytes.len(), limit: MAX_PDF_SIZE });
        }
        if !bytes.starts_with(b"%PDF-") {
            return Err(PadesError::NotPdf);
        }
        let (start, marker_end) = xref::startxref(bytes)?;
        let stream_at = |offset: usize| {
            let (_, value, _) = parse_indirect(bytes, offset, &|_| {
                Err(PadesError::Malformed { offset, problem: "a cross-reference stream's /Length is indirect".into() })
            })?;
            let stream = xref::expect_stream(value, offset)?;
            let data = filter::decode(&stream.dict, raw(bytes, &stream), offset)?;
            Ok((stream, data))
        };
        let table = xref::read(bytes, start, &stream_at)?;
        let newest = table.sections.first().ok_or(PadesError::NotPdf)?;
        let (trailer, xref_stream) = (newest.trailer.clone(), newest.is_stream);
        if table.sections.iter().any(|s| s.trailer.get("Encrypt").is_some()) {
            return Err(PadesError::Encrypted);
        }
        let root = trailer
            .get("Root")
            .and_then(Object::as_reference)
            .ok_or(PadesError::Malformed { offset: start, problem: "the trailer has no /Root reference".into() })?;
        // The newest revision ends at the first marker naming its section: a marker repeated after appended
        // bytes does not make them part of it.
        let start_u64 = u64::try_from(start).unwrap_or(u64::MAX);
        let end = xref::markers(bytes, start).into_iter().find(|(n, _)| *n == start_u64).map_or(marker_end, |(_, e)| e);
        let document =
            Self { bytes, table, trailer, start, end, xref_stream, root, object_streams: RefCell::new(HashMap::new()) };
        if document.dictionary(root)?.get("Pages").is_none() {
            return Err(PadesError::Malformed { offset: start, problem: "the catalog (/Root) has no /Pages".into() });
        }
        Ok(document)
    }

    /// The file's bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The newest trailer.
    pub fn trailer(&self) -> &Dictionary {
        &self.trailer
    }

    /// The cross-reference sections, newest first.
    pub fn sections(&self) -> &[Section] {
        &self.table.sections
    }

    /// The offset `startxref` names: the newest section (an update's /Prev).
    pub fn startxref(&self) -> usize {
        self.start
    }

    /// Where the newest revision ends: after the `%%EOF` that follows its `startxref` (and that line's end). A
    /// conforming reader reads nothing after it; what follows belongs to no revision.
    pub fn revision_end(&self) -> usize {
        self.end
    }

    /// Where each revision ends, oldest first: for each cross-reference section, the first `startxref` marker
    /// after it that names it (a linearized file's first-page section and its main section make one revision).
    pub fn revision_ends(&self) -> Vec<usize> {
        let markers = xref::markers(self.bytes, 0);
        let mut ends: Vec<usize> = self
            .sections()
            .iter()
            .filter_map(|section| {
                let offset = u64::try_from(section.offset).ok()?;
                markers.iter().find(|(n, end)| *n == offset && *end > section.offset).map(|(_, end)| *end)
            })
            .collect();
        ends.sort_unstable();
        ends.dedup();
        ends
    }

    /// Whether the newest section is a cross-reference stream (an update then writes one too).
    pub fn uses_xref_stream(&self) -> bool {
        self.xref_stream
    }

    /// The next free object number: /Size, or one past the highest number in use when /Size lies.
    pub fn next_object_number(&self) -> u32 {
        let size = self.trailer().get("Size").and_then(Object::as_integer).and_then(|s| u32::try_from(s).ok());
        let highest = self.table.locations.keys().max().map_or(1, |n| n.saturating_add(1));
        size.unwrap_or(0).max(highest)
    }

    /// The catalog's reference.
    pub fn root_id(&self) -> ObjectId {
        self.root
    }

    /// The catalog.
    pub fn catalog(&self) -> Result<Dictionary, PadesError> {
        self.dictionary(self.root)
    }

    /// Where object `number` is, per the newest cross-reference entry.
    pub fn location(&self, number: u32) -> Option<Location> {
        self.table.locations.get(&number).copied()
    }

    /// Whether the cross-reference data define `id`, that exact generation (a reference to anything else reads as
    /// null, ISO 32000-1 §7.3.10).
    pub fn defines(&self, id: ObjectId) -> bool {
        match self.location(id.number) {
            Some(Location::Offset { generation, .. }) => generation == id.generation,
            Some(Location::Compressed { .. }) => id.generation == 0,
            Some(Location::Free) | None => false,
        }
    }

    /// Every object number with an entry (free ones included).
    pub fn numbers(&self) -> impl Iterator<Item = u32> + '_ {
        self.table.locations.keys().copied()
    }

    /// The indirect object `id`.
    pub fn get(&self, id: ObjectId) -> Result<Value, PadesError> {
        self.get_at_depth(id, 0)
    }

    fn get_at_depth(&self, id: ObjectId, depth: usize) -> Result<Value, PadesError> {
        if depth > 4 {
            return Err(PadesError::Malformed { offset: 0, problem: format!("references around {id} loop") });
        }
        match self.location(id.number) {
            None | Some(Location::Free) => Err(PadesError::MissingObject(id)),
            Some(Location::Offset { offset, generation }) => {
                if generation != id.generation {
                    return Err(PadesError::MissingObject(id));
                }
                let length_of = |length: ObjectId| match self.get_at_depth(length, depth + 1)? {
                    Value::Object(Object::Integer(n)) => usize::try_from(n)
                        .map_err(|_| PadesError::Malformed { offset, problem: "a stream /Length is negative".into() }),
                    _ => Err(PadesError::Malformed { offset, problem: "a stream /Length is not an integer".into() }),
                };
                let (found, value, _) = parse_indirect(self.bytes, offset, &length_of)?;
                if found != id {
                    return Err(PadesError::Malformed {
                        offset,
                        problem: format!("the cross-reference table says {id} is here, the file has {found}"),
                    });
                }
                Ok(value)
            }
            Some(Location::Compressed { stream, index }) => {
                if id.generation != 0 {
                    return Err(PadesError::MissingObject(id));
                }
                self.compressed(id, stream, index, depth).map(Value::Object)
            }
        }
    }

    fn compressed(&self, id: ObjectId, stream: u32, index: u32, depth: usize) -> Result<Object, PadesError> {
        let objects = self.object_stream(stream, depth)?;
        let error = |problem: String| PadesError::Malformed { offset: 0, problem };
        let (number, offset) = usize::try_from(index)
            .ok()
            .and_then(|i| objects.entries.get(i))
            .copied()
            .ok_or_else(|| error(format!("object stream {stream} has no index {index} for {id}")))?;
        if number != id.number {
            return Err(error(format!("object stream {stream} holds object {number} where the table says {id}")));
        }
        let mut lexer = Lexer::new(&objects.data, objects.first.saturating_add(offset));
        lexer.object(0).map_err(|e| match e {
            PadesError::Malformed { problem, .. } => error(format!("in object stream {stream}, {id}: {problem}")),
            other => other,
        })
    }

    fn object_stream(&self, number: u32, depth: usize) -> Result<Rc<ObjectStream>, PadesError> {
        if let Some(found) = self.object_streams.borrow().get(&number) {
            return Ok(found.clone());
        }
        let id = ObjectId::new(number, 0);
        let stream = match self.location(number) {
            Some(Location::Offset { .. }) => match self.get_at_depth(id, depth + 1)? {
                Value::Stream(s) => s,
                Value::Object(_) => {
                    return Err(PadesError::Malformed { offset: 0, problem: format!("{id} is no object stream") });
                }
            },
            _ => return Err(PadesError::MissingObject(id)),
        };
        let data = filter::decode(&stream.dict, raw(self.bytes, &stream), stream.start)?;
        let error = |problem: &str| PadesError::Malformed {
            offset: stream.start,
            problem: format!("object stream {id}: {problem}"),
        };
        let count = stream.dict.get("N").and_then(Object::as_integer).ok_or_else(|| error("no /N"))?;
        let first = stream
            .dict
            .get("First")
            .and_then(Object::as_integer)
            .and_then(|f| usize::try_from(f).ok())
            .filter(|&f| f <= data.len())
            .ok_or_else(|| error("/First missing or past the data"))?;
        let mut lexer = Lexer::new(&data, 0);
        let mut entries = Vec::new();
        for _ in 0..count.clamp(0, 1 << 20) {
            let number =
                lexer.unsigned().ok().and_then(|n| u32::try_from(n).ok()).ok_or_else(|| error("bad header"))?;
            let offset =
                lexer.unsigned().ok().and_then(|n| usize::try_from(n).ok()).ok_or_else(|| error("bad header"))?;
            entries.push((number, offset));
        }
        let decoded = Rc::new(ObjectStream { data, first, entries });
        self.object_streams.borrow_mut().insert(number, decoded.clone());
        Ok(decoded)
    }

    /// The indirect object `id`, which must be a dictionary (a stream's dictionary counts).
    pub fn dictionary(&self, id: ObjectId) -> Result<Dictionary, PadesError> {
        match self.get(id)? {
            Value::Object(Object::Dictionary(d)) | Value::Stream(Stream { dict: d, .. }) => Ok(d),
            _ => Err(PadesError::Malformed { offset: 0, problem: format!("{id} is not a dictionary") }),
        }
    }

    /// `object`, with a reference replaced by what it names (a stream reads as its dictionary).
    pub fn resolve(&self, object: &Object) -> Result<Object, PadesError> {
        match object {
            Object::Reference(id) => match self.get(*id)? {
                Value::Object(o) => Ok(o),
                Value::Stream(s) => Ok(Object::Dictionary(s.dict)),
            },
            other => Ok(other.clone()),
        }
    }

    /// The raw (still encoded) bytes of `stream`, a stream of this document.
    pub fn raw(&self, stream: &Stream) -> &'a [u8] {
        raw(self.bytes, stream)
    }

    /// The decoded data of stream `id`.
    pub fn stream_data(&self, id: ObjectId) -> Result<Vec<u8>, PadesError> {
        match self.get(id)? {
            Value::Stream(s) => filter::decode(&s.dict, raw(self.bytes, &s), s.start),
            Value::Object(_) => Err(PadesError::Malformed { offset: 0, problem: format!("{id} is not a stream") }),
        }
    }

    /// The page objects in order (the page tree walked depth first, loops and over-deep trees refused).
    pub fn pages(&self) -> Result<Vec<ObjectId>, PadesError> {
        let root = self
            .catalog()?
            .get("Pages")
            .and_then(Object::as_reference)
            .ok_or(PadesError::Malformed { offset: 0, problem: "the catalog's /Pages is not a reference".into() })?;
        let mut pages = Vec::new();
        let mut seen = HashSet::new();
        let mut stack = vec![(root, 0usize)];
        while let Some((id, depth)) = stack.pop() {
            if !seen.insert(id) || depth > 64 || pages.len() > MAX_PAGES {
                return Err(PadesError::Malformed { offset: 0, problem: "the page tree loops or is too deep".into() });
            }
            let node = self.dictionary(id)?;
            if node.has_type("Page") {
                pages.push(id);
                continue;
            }
            let kids = self.resolve(node.get("Kids").unwrap_or(&Object::Null))?;
            let kids = kids.as_array().ok_or(PadesError::Malformed {
                offset: 0,
                problem: format!("page tree node {id} has no /Kids array"),
            })?;
            for kid in kids.iter().rev() {
                let kid = kid.as_reference().ok_or(PadesError::Malformed {
                    offset: 0,
                    problem: format!("page tree node {id} has a kid that is not a reference"),
                })?;
                stack.push((kid, depth + 1));
            }
        }
        Ok(pages)
    }
}

/// The raw bytes of `stream` (parse_indirect checked they are inside the file).
pub(super) fn raw<'b>(bytes: &'b [u8], stream: &Stream) -> &'b [u8] {
    bytes.get(stream.start..stream.start.saturating_add(stream.len)).unwrap_or_default()
}

/// The indirect object `n g obj … endobj` at `offset`: its id, value and the offset after `endobj`.
/// `length_of` resolves an indirect stream /Length.
pub fn parse_indirect(
    bytes: &[u8],
    offset: usize,
    length_of: &dyn Fn(ObjectId) -> Result<usize, PadesError>,
) -> Result<(ObjectId, Value, usize), PadesError> {
    let mut lexer = Lexer::new(bytes, offset);
    let number = lexer.unsigned()?;
    let generation = lexer.unsigned()?;
    let id = ObjectId::new(
        u32::try_from(number).map_err(|_| lexer.error("object number out of range"))?,
        u16::try_from(generation).map_err(|_| lexer.error("generation out of range"))?,
    );
    lexer.expect_keyword("obj")?;
    let object = lexer.object(0)?;
    if lexer.take_keyword("stream") {
        let Object::Dictionary(dict) = object else {
            return Err(lexer.error("`stream` after something that is not a dictionary"));
        };
        let start = lexer.stream_start()?;
        let len = match dict.get("Length") {
            Some(Object::Integer(n)) => usize::try_from(*n).map_err(|_| lexer.error("a stream /Length is negative"))?,
            Some(Object::Reference(r)) => length_of(*r)?,
            _ => return Err(lexer.error("a stream without /Length")),
        };
        let end = start
            .checked_add(len)
            .filter(|&e| e <= bytes.len())
            .ok_or_else(|| lexer.error("a stream's /Length runs past the end of the file (truncated?)"))?;
        lexer.pos = end;
        lexer.expect_keyword("endstream").map_err(|_| lexer.error("no `endstream` where /Length ends the stream"))?;
        lexer.expect_keyword("endobj")?;
        return Ok((id, Value::Stream(Stream { dict, start, len }), lexer.pos));
    }
    lexer.expect_keyword("endobj")?;
    Ok((id, Value::Object(object), lexer.pos))
}
