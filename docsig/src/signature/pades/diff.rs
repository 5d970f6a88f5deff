//! What a revision after a signature may change (ETSI EN 319 142-1 §5.4: validation data and document time
//! stamps; ISO 32000-1 §12.8.2.2 DocMDP P=2: signing), read in the spirit of pyHanko's difference policy: every
//! change to what the signed revision holds is refused unless a rule below names it, and a rule allows a change
//! to an object only in the role the signed revision gives that object (decision D112).
//!
//! Allowed, each named in the report ([`Change`]):
//! * **signatures**: the form and a page gaining signature fields (invisible, or visible and signed — a new
//!   field's own appearance), an empty signature field of the signed revision being signed, /SigFlags;
//! * **document time stamps** (invisible signature fields whose value is a /DocTimeStamp);
//! * **validation data**: the DSS (/Certs, /CRLs, /OCSPs, /VRI) added or changed, its data streams never
//!   rewritten;
//! * **document information**: the /Info dictionary and the XMP /Metadata stream rewritten (pyHanko updates
//!   /ModDate and /Producer on every save);
//! * **catalog extensions and version**: /Extensions (pyHanko adds ESIC) and /Version.
//!
//! Refused: anything else the signed revision shows or uses changed, replaced, freed or moved to another
//! generation; an object the signed revision refers to but does not define (it read as null there) defined
//! later unless its role allows a new object; an object used by the signed revision both where a rule allows
//! free changes (document information, extensions, metadata, DSS) and anywhere else.

mod rules;
mod usage;

use super::PadesError;
use super::pdf::{Document, Location, ObjectId, Value};
pub use rules::Change;
pub(crate) use rules::Tolerated;
use usage::Usage;

/// Check that `after` (the whole file) changes `signed` (the revision the signature `field` covers) only in
/// allowed ways; the changes it made.
pub(crate) fn check_later_revisions(
    signed: &Document<'_>,
    after: &Document<'_>,
    field: &str,
) -> Result<Vec<Change>, PadesError> {
    check_later_revisions_tolerating(signed, after, field, Tolerated::default())
}

/// [`check_later_revisions`], also letting later revisions make the changes `tolerated` names.
pub(crate) fn check_later_revisions_tolerating(
    signed: &Document<'_>,
    after: &Document<'_>,
    field: &str,
    tolerated: Tolerated,
) -> Result<Vec<Change>, PadesError> {
    let revision = after.sections().len();
    let modified = |change: String| PadesError::ModifiedAfterSigning { field: field.to_owned(), revision, change };
    if !after.sections().iter().any(|s| s.offset == signed.startxref()) {
        return Err(modified("does not extend the signed revision (its cross-reference chain skips it)".into()));
    }
    if after.root_id() != signed.root_id() {
        return Err(modified("replaces the document catalog".into()));
    }
    let usage = Usage::of(signed)?;
    let mut judge = rules::Judge::new(signed, after, tolerated);
    for number in signed.numbers() {
        let Some(old_location) = signed.location(number) else { continue };
        let Some(old_id) = id_at(number, old_location) else { continue };
        if after.location(number) == Some(old_location) {
            continue;
        }
        if !after.defines(old_id) {
            return Err(modified(match after.location(number).and_then(|l| id_at(number, l)) {
                Some(other) => format!("replaces object {old_id} by {other}"),
                None => format!("deletes object {old_id}"),
            }));
        }
        let (old, new) = (signed.get(old_id)?, after.get(old_id)?);
        if same(signed, &old, after, &new) {
            continue;
        }
        judge.allowed(old_id, usage.roles(old_id), Some(&old), &new).map_err(modified)?;
    }
    // A reference the signed revision makes to an object it does not define reads as null there: defining that
    // object later would give the signed revision a meaning nobody saw when it was signed.
    let mut undefined: Vec<_> = usage.undefined().filter(|(id, _)| after.defines(*id)).collect();
    undefined.sort_by_key(|(id, _)| *id);
    for (id, roles) in undefined {
        let new = after.get(id)?;
        judge.allowed(id, roles, None, &new).map_err(|why| {
            modified(format!(
                "defines object {id}, which the signed revision refers to but left undefined (it read as null when \
                 signed): {why}"
            ))
        })?;
    }
    // A number below the signed /Size left free: no writer of updates reuses one, and one that comes alive is
    // refused even where nothing refers to it yet.
    let size = signed.next_object_number();
    for number in after.numbers().filter(|&n| n < size && n != 0) {
        let was_free = matches!(signed.location(number), None | Some(Location::Free));
        let is_defined = !matches!(after.location(number), None | Some(Location::Free));
        if was_free && is_defined {
            return Err(modified(format!("defines object {number}, which the signed revision left free")));
        }
    }
    Ok(judge.changes())
}

fn id_at(number: u32, location: Location) -> Option<ObjectId> {
    match location {
        Location::Offset { generation, .. } => Some(ObjectId::new(number, generation)),
        Location::Compressed { .. } => Some(ObjectId::new(number, 0)),
        Location::Free => None,
    }
}

/// Whether two versions of an object are the same: equal objects, or streams with equal dictionaries and raw
/// bytes (a writer that copies an object unchanged into its update moves it, nothing more).
fn same(old_document: &Document<'_>, old: &Value, new_document: &Document<'_>, new: &Value) -> bool {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => a == b,
        (Value::Stream(a), Value::Stream(b)) => a.dict == b.dict && old_document.raw(a) == new_document.raw(b),
        _ => false,
    }
}
