//! An incremental update (ISO 32000-1 §7.5.6): new and replaced objects appended after the original bytes,
//! with a cross-reference section of the same kind as the file's newest one (a table after a table, a stream
//! after a stream) whose /Prev points at the previous section. The original bytes are never touched.

use super::PadesError;
use super::pdf::{Dictionary, Document, Object, ObjectId};
use std::collections::BTreeMap;

/// The objects of one update being built.
#[derive(Debug)]
pub(super) struct Update<'d, 'a> {
    document: &'d Document<'a>,
    next: u32,
    objects: BTreeMap<ObjectId, Vec<u8>>,
}

/// The updated file and where each written object's body starts.
#[derive(Debug)]
pub(super) struct Written {
    pub(super) bytes: Vec<u8>,
    pub(super) bodies: BTreeMap<ObjectId, usize>,
}

impl<'d, 'a> Update<'d, 'a> {
    /// An empty update of `document`.
    pub(super) fn new(document: &'d Document<'a>) -> Self {
        Self { document, next: document.next_object_number(), objects: BTreeMap::new() }
    }

    /// The document being updated.
    pub(super) fn document(&self) -> &'d Document<'a> {
        self.document
    }

    /// A fresh object number.
    pub(super) fn allocate(&mut self) -> ObjectId {
        let id = ObjectId::new(self.next, 0);
        self.next = self.next.saturating_add(1);
        id
    }

    /// Write `object` as `id` (new, or replacing the old one).
    pub(super) fn put(&mut self, id: ObjectId, object: &Object) {
        let mut body = Vec::new();
        object.write(&mut body);
        self.objects.insert(id, body);
    }

    /// Write the body `body` exactly as given (the signature dictionary, whose placeholders are patched later).
    pub(super) fn put_raw(&mut self, id: ObjectId, body: Vec<u8>) {
        self.objects.insert(id, body);
    }

    /// Write a stream object with `dict` (its /Length set here) and unencoded `data`.
    pub(super) fn put_stream(&mut self, id: ObjectId, mut dict: Dictionary, data: &[u8]) {
        dict.set("Length", Object::Integer(i64::try_from(data.len()).unwrap_or(i64::MAX)));
        let mut body = Vec::new();
        dict.write(&mut body);
        body.extend_from_slice(b"\nstream\n");
        body.extend_from_slice(data);
        body.extend_from_slice(b"\nendstream");
        self.objects.insert(id, body);
    }

    /// The original bytes followed by the update (refused when the original goes on after its last revision with
    /// anything but blanks).
    pub(super) fn finish(mut self) -> Result<Written, PadesError> {
        let original = self.document.bytes();
        // Appended bytes no revision accounts for would end up inside the new revision, covered by what is signed
        // next: refused, as the checks refuse them.
        if let Some(refusal) = super::tail::Tail::of(self.document).and_then(super::tail::Tail::refusal) {
            return Err(refusal);
        }
        let mut out = original.to_vec();
        if !matches!(out.last(), Some(b'\n' | b'\r')) {
            out.push(b'\n');
        }
        let xref_stream = self.document.uses_xref_stream().then(|| self.allocate());
        let mut offsets = BTreeMap::new();
        let mut bodies = BTreeMap::new();
        for (id, body) in &self.objects {
            offsets.insert(*id, out.len());
            out.extend_from_slice(format!("{} {} obj\n", id.number, id.generation).as_bytes());
            bodies.insert(*id, out.len());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\nendobj\n");
        }
        let mut trailer = self.document.trailer().without(&[
            "Prev",
            "XRefStm",
            "Type",
            "W",
            "Index",
            "Filter",
            "DecodeParms",
            "Length",
            "Size",
        ]);
        trailer.set("Size", Object::Integer(i64::from(self.next)));
        trailer.set("Prev", Object::Integer(i64::try_from(self.document.startxref()).unwrap_or(i64::MAX)));
        let start = out.len();
        match xref_stream {
            None => {
                out.extend_from_slice(b"xref\n");
                for run in runs(&offsets) {
                    let first = run.first().map_or(0, |(id, _)| id.number);
                    out.extend_from_slice(format!("{first} {}\n", run.len()).as_bytes());
                    for (id, offset) in run {
                        out.extend_from_slice(format!("{offset:010} {:05} n\r\n", id.generation).as_bytes());
                    }
                }
                out.extend_from_slice(b"trailer\n");
                trailer.write(&mut out);
                out.push(b'\n');
            }
            Some(id) => {
                offsets.insert(id, start);
                let mut index = Vec::new();
                let mut rows = Vec::new();
                for run in runs(&offsets) {
                    index.push(Object::Integer(i64::from(run.first().map_or(0, |(id, _)| id.number))));
                    index.push(Object::Integer(i64::try_from(run.len()).unwrap_or(i64::MAX)));
                    for (id, offset) in run {
                        let offset = u32::try_from(offset)
                            .map_err(|_| PadesError::TooLarge { size: offset, limit: super::MAX_PDF_SIZE })?;
                        rows.push(1u8);
                        rows.extend_from_slice(&offset.to_be_bytes());
                        rows.extend_from_slice(&id.generation.to_be_bytes());
                    }
                }
                trailer.set("Type", Object::name("XRef"));
                trailer.set("W", Object::Array(vec![Object::Integer(1), Object::Integer(4), Object::Integer(2)]));
                trailer.set("Index", Object::Array(index));
                trailer.set("Length", Object::Integer(i64::try_from(rows.len()).unwrap_or(i64::MAX)));
                out.extend_from_slice(format!("{} {} obj\n", id.number, id.generation).as_bytes());
                trailer.write(&mut out);
                out.extend_from_slice(b"\nstream\n");
                out.extend_from_slice(&rows);
                out.extend_from_slice(b"\nendstream\nendobj\n");
            }
        }
        out.extend_from_slice(format!("startxref\n{start}\n%%EOF\n").as_bytes());
        if out.len() > super::MAX_PDF_SIZE {
            return Err(PadesError::TooLarge { size: out.len(), limit: super::MAX_PDF_SIZE });
        }
        Ok(Written { bytes: out, bodies })
    }
}

/// The objects grouped in runs of consecutive numbers (one subsection each).
fn runs(offsets: &BTreeMap<ObjectId, usize>) -> Vec<Vec<(ObjectId, usize)>> {
    let mut runs: Vec<Vec<(ObjectId, usize)>> = Vec::new();
    for (&id, &offset) in offsets {
        match runs.last_mut() {
            Some(run) if run.last().is_some_and(|(last, _)| last.number.checked_add(1) == Some(id.number)) => {
                run.push((id, offset));
            }
            _ => runs.push(vec![(id, offset)]),
        }
    }
    runs
}
