//! A new, invisible signature field with its signature dictionary, appended as an incremental update: the
//! shared step of a signature and of a document time stamp. The dictionary's /ByteRange and /Contents are
//! placeholders of fixed width, so the bytes around them are final before anything is signed.

use super::PadesError;
use super::pdf::{Dictionary, Document, Object, ObjectId};
use super::update::Update;
use std::ops::Range;

/// Width of each /ByteRange number: ten digits cover the size limit many times over.
const BYTE_RANGE_WIDTH: usize = 10;

/// A file with an empty signature: the bytes, where /Contents' hexadecimal string is (from `<` to after `>`),
/// and the /ByteRange written into it.
#[derive(Debug)]
pub(super) struct Placeholder {
    pub(super) bytes: Vec<u8>,
    pub(super) contents: Range<usize>,
}

impl Placeholder {
    /// The bytes a signature covers: everything but /Contents (the /ByteRange's two ranges).
    pub(super) fn covered(&self) -> Vec<u8> {
        covered(&self.bytes, &self.contents)
    }

    /// The file with `value` (a DER CMS) written into /Contents, zero-padded to the reserved room.
    pub(super) fn fill(mut self, value: &[u8]) -> Result<Vec<u8>, PadesError> {
        embed(&mut self.bytes, &self.contents, value)?;
        Ok(self.bytes)
    }
}

/// Everything in `bytes` but `contents`.
pub(super) fn covered(bytes: &[u8], contents: &Range<usize>) -> Vec<u8> {
    let before = bytes.get(..contents.start).unwrap_or_default();
    let after = bytes.get(contents.end..).unwrap_or_default();
    [before, after].concat()
}

/// Write `value` hexadecimal into the string at `contents` (`<`…`>`), zero-padded.
pub(super) fn embed(bytes: &mut [u8], contents: &Range<usize>, value: &[u8]) -> Result<(), PadesError> {
    let room = contents.len().saturating_sub(2) / 2;
    if value.len() > room {
        return Err(PadesError::ContentsTooSmall { needed: value.len(), room });
    }
    let mut text = hex::encode_upper(value).into_bytes();
    text.resize(room * 2, b'0');
    let inside =
        bytes.get_mut(contents.start + 1..contents.end - 1).ok_or(PadesError::NoSignature("signature placeholder"))?;
    inside.copy_from_slice(&text);
    Ok(())
}

/// Append a new signature field whose value is a signature dictionary with `entries` (its /Type, /Filter,
/// /SubFilter, /M …), a /ByteRange and a /Contents of `room` zero bytes. The field is a widget of the first page
/// with an empty rectangle (invisible, ISO 32000-1 §12.7.4.5), listed in the AcroForm with /SigFlags 3.
pub(super) fn add_signature_field(
    document: &Document<'_>,
    entries: Dictionary,
    room: usize,
) -> Result<Placeholder, PadesError> {
    let mut update = Update::new(document);
    let signature = update.allocate();
    let field = update.allocate();
    let first_page = *document.pages()?.first().ok_or(PadesError::Malformed {
        offset: 0,
        problem: "the document has no page to put the signature field on".into(),
    })?;

    let mut catalog = document.catalog()?;
    let (acro_form_id, mut acro_form) = match catalog.get("AcroForm") {
        Some(Object::Reference(id)) => (Some(*id), document.dictionary(*id)?),
        Some(Object::Dictionary(d)) => (None, d.clone()),
        _ => (None, Dictionary::new()),
    };
    let fields = match acro_form.get("Fields") {
        Some(Object::Reference(id)) => Some((*id, array(document, *id)?)),
        _ => None,
    };
    let mut names = field_names(document, &acro_form, fields.as_ref().map(|(_, f)| f.as_slice()))?;
    let name = (1..).map(|n| format!("Signature{n}")).find(|n| !names.contains(n)).unwrap_or_default();
    names.push(name.clone());

    update.put(
        field,
        &Object::Dictionary(Dictionary::from_iter([
            ("Type", Object::name("Annot")),
            ("Subtype", Object::name("Widget")),
            ("FT", Object::name("Sig")),
            ("T", Object::String(name.into_bytes())),
            ("V", Object::Reference(signature)),
            // Print + Locked: shown as printed, not movable.
            ("F", Object::Integer(132)),
            ("Rect", Object::Array(vec![Object::Integer(0); 4])),
            ("P", Object::Reference(first_page)),
        ])),
    );
    add_to_page(&mut update, first_page, field)?;

    match fields {
        Some((id, mut list)) => {
            list.push(Object::Reference(field));
            update.put(id, &Object::Array(list));
        }
        None => {
            let mut list =
                acro_form.get("Fields").and_then(Object::as_array).map(<[Object]>::to_vec).unwrap_or_default();
            list.push(Object::Reference(field));
            acro_form.set("Fields", Object::Array(list));
        }
    }
    acro_form.set("SigFlags", Object::Integer(3));
    match acro_form_id {
        Some(id) => update.put(id, &Object::Dictionary(acro_form)),
        None => {
            let id = update.allocate();
            update.put(id, &Object::Dictionary(acro_form));
            catalog.set("AcroForm", Object::Reference(id));
            update.put(document.root_id(), &Object::Dictionary(catalog));
        }
    }

    let (body, contents_in_body, byte_range_in_body) = signature_body(&entries, room);
    update.put_raw(signature, body);
    let written = update.finish()?;
    let base = *written.bodies.get(&signature).ok_or(PadesError::NoSignature("signature dictionary"))?;
    let contents = base + contents_in_body.start..base + contents_in_body.end;
    let mut bytes = written.bytes;
    let byte_range = [0, contents.start, contents.end, bytes.len() - contents.end];
    let text = byte_range.iter().map(|n| format!("{n:<BYTE_RANGE_WIDTH$}")).collect::<Vec<_>>().join(" ");
    bytes
        .get_mut(base + byte_range_in_body.start..base + byte_range_in_body.end)
        .ok_or(PadesError::NoSignature("signature placeholder"))?
        .copy_from_slice(text.as_bytes());
    Ok(Placeholder { bytes, contents })
}

/// The signature dictionary's body with placeholders, and where /Contents and the /ByteRange numbers are in it.
fn signature_body(entries: &Dictionary, room: usize) -> (Vec<u8>, Range<usize>, Range<usize>) {
    let mut body = Vec::new();
    entries.write(&mut body);
    body.truncate(body.len().saturating_sub(2));
    body.extend_from_slice(b"/ByteRange [");
    let numbers = body.len()..body.len() + 4 * BYTE_RANGE_WIDTH + 3;
    body.resize(numbers.end, b' ');
    body.extend_from_slice(b"] /Contents ");
    let contents = body.len()..body.len() + 2 * room + 2;
    body.push(b'<');
    body.resize(contents.end - 1, b'0');
    body.extend_from_slice(b">>>");
    (body, contents, numbers)
}

/// Add the widget `field` to the /Annots of `page`.
fn add_to_page(update: &mut Update<'_, '_>, page: ObjectId, field: ObjectId) -> Result<(), PadesError> {
    let document = update.document();
    let mut dict = document.dictionary(page)?;
    match dict.get("Annots") {
        Some(Object::Reference(id)) => {
            let id = *id;
            let mut annots = array(document, id)?;
            annots.push(Object::Reference(field));
            update.put(id, &Object::Array(annots));
        }
        other => {
            let mut annots = other.and_then(Object::as_array).map(<[Object]>::to_vec).unwrap_or_default();
            annots.push(Object::Reference(field));
            dict.set("Annots", Object::Array(annots));
            update.put(page, &Object::Dictionary(dict));
        }
    }
    Ok(())
}

/// The array object `id`.
fn array(document: &Document<'_>, id: ObjectId) -> Result<Vec<Object>, PadesError> {
    match document.resolve(&Object::Reference(id))? {
        Object::Array(items) => Ok(items),
        _ => Err(PadesError::Malformed { offset: 0, problem: format!("{id} should be an array") }),
    }
}

/// The names (/T) of the AcroForm's top-level fields.
fn field_names(
    document: &Document<'_>,
    acro_form: &Dictionary,
    indirect: Option<&[Object]>,
) -> Result<Vec<String>, PadesError> {
    let fields = indirect.or_else(|| acro_form.get("Fields").and_then(Object::as_array)).unwrap_or_default();
    let mut names = Vec::new();
    for field in fields {
        if let Some(dict) = document.resolve(field)?.as_dictionary()
            && let Some(name) = dict.get("T").and_then(Object::as_string)
        {
            names.push(super::pdf::text_string(name));
        }
    }
    Ok(names)
}
