//! What a revision after a signature may change (ETSI EN 319 142-1 §5.4: validation data and document time
//! stamps; ISO 32000-1 §12.8.2.2 DocMDP P=2 allows signing): the catalog gaining or changing /DSS, the DSS and
//! its arrays, the AcroForm and a page gaining signature fields, and new invisible signature widgets. Any other
//! change to an object of the signed revision, or an object freed, is a modification after signing.

use super::PadesError;
use super::pdf::{Dictionary, Document, Location, Object, ObjectId, Value};
use std::collections::HashSet;

/// Check that `after` (the whole file) changes `signed` (the revision the signature `field` covers) only in
/// allowed ways. `revision` numbers the later revision in errors.
pub(crate) fn check_later_revisions(
    signed: &Document<'_>,
    after: &Document<'_>,
    field: &str,
) -> Result<(), PadesError> {
    let revision = after.sections().len();
    let modified = |change: String| PadesError::ModifiedAfterSigning { field: field.to_owned(), revision, change };
    if !after.sections().iter().any(|s| s.offset == signed.startxref()) {
        return Err(modified("does not extend the signed revision (its cross-reference chain skips it)".into()));
    }
    if after.root_id() != signed.root_id() {
        return Err(modified("replaces the document catalog".into()));
    }
    let allowed = Allowed::of(signed)?;
    for number in signed.numbers() {
        let Some(old_location) = signed.location(number) else { continue };
        let Some(old_id) = id_at(number, old_location) else { continue };
        let new_location = after.location(number);
        if new_location == Some(old_location) {
            continue;
        }
        let Some(new_id) = new_location.and_then(|l| id_at(number, l)) else {
            return Err(modified(format!("deletes object {old_id}")));
        };
        let (old, new) = (signed.get(old_id)?, after.get(new_id)?);
        if old == new {
            continue;
        }
        allowed.check(old_id, &old, &new, after).map_err(modified)?;
    }
    // A reference the signed revision left dangling (to a free or missing number below its /Size) reads as
    // null there; an object defined under that number later would change what a signed page shows.
    let size = signed.next_object_number();
    for number in after.numbers().filter(|&n| n < size) {
        let was_free = matches!(signed.location(number), None | Some(Location::Free));
        let is_defined = !matches!(after.location(number), None | Some(Location::Free));
        if was_free && is_defined && number != 0 {
            return Err(modified(format!("defines object {number}, which the signed revision left free")));
        }
    }
    Ok(())
}

fn id_at(number: u32, location: Location) -> Option<ObjectId> {
    match location {
        Location::Offset { generation, .. } => Some(ObjectId::new(number, generation)),
        Location::Compressed { .. } => Some(ObjectId::new(number, 0)),
        Location::Free => None,
    }
}

/// The objects of the signed revision a later one may rewrite, and how.
struct Allowed {
    root: ObjectId,
    acro_form: Option<ObjectId>,
    fields: Option<ObjectId>,
    pages: HashSet<ObjectId>,
    annots: HashSet<ObjectId>,
    dss: HashSet<ObjectId>,
}

impl Allowed {
    fn of(signed: &Document<'_>) -> Result<Self, PadesError> {
        let catalog = signed.catalog()?;
        let acro_form = catalog.get("AcroForm").and_then(Object::as_reference);
        let fields = match catalog.get("AcroForm") {
            Some(a) => signed.resolve(a)?.as_dictionary().and_then(|a| a.get("Fields")).and_then(Object::as_reference),
            None => None,
        };
        let pages: HashSet<ObjectId> = signed.pages()?.into_iter().collect();
        let mut annots = HashSet::new();
        for page in &pages {
            if let Some(id) = signed.dictionary(*page)?.get("Annots").and_then(Object::as_reference) {
                annots.insert(id);
            }
        }
        let mut dss = HashSet::new();
        if let Some(id) = catalog.get("DSS").and_then(Object::as_reference) {
            dss.insert(id);
            for (_, value) in signed.dictionary(id)?.iter() {
                if let Some(id) = value.as_reference() {
                    dss.insert(id);
                }
            }
        }
        Ok(Self { root: signed.root_id(), acro_form, fields, pages, annots, dss })
    }

    /// Whether `old` (object `id` of the signed revision) may become `new`; the change named when not.
    fn check(&self, id: ObjectId, old: &Value, new: &Value, after: &Document<'_>) -> Result<(), String> {
        let change = || format!("changes object {id}");
        if self.dss.contains(&id) {
            return Ok(());
        }
        let (Value::Object(old), Value::Object(new)) = (old, new) else { return Err(change()) };
        match (old, new) {
            (Object::Dictionary(old), Object::Dictionary(new)) if id == self.root => catalog(old, new, after),
            (Object::Dictionary(old), Object::Dictionary(new)) if Some(id) == self.acro_form => {
                acro_form(old, new, after)
            }
            (Object::Dictionary(old), Object::Dictionary(new)) if self.pages.contains(&id) => {
                if old.without(&["Annots"]).same_entries(&new.without(&["Annots"])) {
                    list_grows(old.get("Annots"), new.get("Annots"), after)
                        .map_err(|e| format!("changes page {id}: {e}"))
                } else {
                    Err(format!("changes page {id}"))
                }
            }
            (Object::Array(_), Object::Array(_)) if Some(id) == self.fields || self.annots.contains(&id) => {
                list_grows(Some(old), Some(new), after).map_err(|e| format!("changes {id}: {e}"))
            }
            _ => Err(change()),
        }
    }
}

/// The catalog may gain or change /DSS, and its AcroForm may gain signature fields.
fn catalog(old: &Dictionary, new: &Dictionary, after: &Document<'_>) -> Result<(), String> {
    if !old.without(&["DSS", "AcroForm"]).same_entries(&new.without(&["DSS", "AcroForm"])) {
        return Err("changes the document catalog".into());
    }
    match (old.get("AcroForm"), new.get("AcroForm")) {
        (a, b) if a == b => Ok(()),
        (Some(Object::Dictionary(a)), Some(Object::Dictionary(b))) => acro_form(a, b, after),
        (Some(Object::Dictionary(a)), Some(reference @ Object::Reference(_))) => match after.resolve(reference) {
            Ok(Object::Dictionary(b)) => acro_form(a, &b, after),
            _ => Err("replaces the form".into()),
        },
        (None, Some(form)) => match after.resolve(form) {
            Ok(Object::Dictionary(b)) => acro_form(&Dictionary::new(), &b, after),
            _ => Err("adds a form that is not a dictionary".into()),
        },
        _ => Err("replaces the form".into()),
    }
}

/// The AcroForm may gain signature fields and set /SigFlags.
fn acro_form(old: &Dictionary, new: &Dictionary, after: &Document<'_>) -> Result<(), String> {
    let keep = ["Fields", "SigFlags"];
    if !old.without(&keep).same_entries(&new.without(&keep)) {
        return Err("changes the form (AcroForm)".into());
    }
    list_grows(old.get("Fields"), new.get("Fields"), after).map_err(|e| format!("changes the form's fields: {e}"))
}

/// A list (/Annots, /Fields) that only gains invisible signature fields at its end.
fn list_grows(old: Option<&Object>, new: Option<&Object>, after: &Document<'_>) -> Result<(), String> {
    if old == new {
        return Ok(());
    }
    let resolve = |o: Option<&Object>| -> Result<Vec<Object>, String> {
        match o {
            None => Ok(Vec::new()),
            Some(o) => match after.resolve(o) {
                Ok(Object::Array(items)) => Ok(items),
                _ => Err("not an array".to_owned()),
            },
        }
    };
    let (old, new) = match (old, new) {
        // The same indirect array: its own rewrite is checked as an object of its own.
        (Some(Object::Reference(a)), Some(Object::Reference(b))) if a == b => return Ok(()),
        (Some(Object::Array(a)), _) => (a.clone(), resolve(new)?),
        (None, _) => (Vec::new(), resolve(new)?),
        _ => return Err("replaces a list".into()),
    };
    let added = new.strip_prefix(old.as_slice()).ok_or("removes or reorders entries")?;
    for item in added {
        if !invisible_signature_field(item, after) {
            return Err("adds something other than an invisible signature field".into());
        }
    }
    Ok(())
}

/// A signature field widget with an empty rectangle whose value, if any, is a signature or document time stamp.
fn invisible_signature_field(item: &Object, after: &Document<'_>) -> bool {
    let Ok(Object::Dictionary(field)) = after.resolve(item) else { return false };
    let empty_rect = match field.get("Rect").map(|r| after.resolve(r)) {
        None => true,
        Some(Ok(Object::Array(r))) => {
            let n: Vec<f64> = r
                .iter()
                .filter_map(|v| match v {
                    Object::Integer(i) => Some(*i as f64),
                    Object::Real(t) => t.parse().ok(),
                    _ => None,
                })
                .collect();
            matches!(n.as_slice(), [x1, y1, x2, y2] if (x2 - x1).abs() < f64::EPSILON || (y2 - y1).abs() < f64::EPSILON)
        }
        _ => false,
    };
    let value_ok = match field.get("V").map(|v| after.resolve(v)) {
        None => true,
        Some(Ok(Object::Dictionary(v))) => v.has_type("Sig") || v.has_type("DocTimeStamp"),
        _ => false,
    };
    field.name("FT") == Some(b"Sig") && empty_rect && value_ok
}
