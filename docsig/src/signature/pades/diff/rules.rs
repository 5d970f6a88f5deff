//! The rules: what each role of an object (see [`super::usage`]) lets a later revision make of it, and the name
//! of each change allowed.

use super::usage::Role;
use crate::signature::pades::pdf::{Dictionary, Document, Object, ObjectId, Value, text_string};
use std::collections::BTreeSet;

/// One change a later revision made, of the kinds allowed after a signature.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Change {
    /// A signature: a new signature field with its value, or an empty signature field signed.
    Signature {
        /// The field's name.
        field: String,
        /// Whether its widget shows an appearance on the page.
        visible: bool,
    },
    /// A document time stamp (an invisible field whose value is a /DocTimeStamp).
    DocumentTimeStamp {
        /// The field's name.
        field: String,
    },
    /// An empty, invisible signature field, for someone to sign later.
    EmptySignatureField {
        /// The field's name.
        field: String,
    },
    /// Validation data: the document security store (/DSS, /VRI) added or changed.
    ValidationData,
    /// The document information (/Info) or the XMP metadata rewritten.
    DocumentInformation,
    /// A catalog entry changed that shows nothing: /Extensions, /Version (or one the caller tolerates).
    CatalogEntry {
        /// The entry's key, without the slash.
        key: String,
    },
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Signature { field, visible: true } => write!(f, "adds the signature {field} (visible on the page)"),
            Self::Signature { field, visible: false } => write!(f, "adds the signature {field}"),
            Self::DocumentTimeStamp { field } => write!(f, "adds the document time stamp {field}"),
            Self::EmptySignatureField { field } => write!(f, "adds the empty signature field {field}"),
            Self::ValidationData => f.write_str("adds or changes validation data (DSS)"),
            Self::DocumentInformation => f.write_str("rewrites the document information (/Info, XMP metadata)"),
            Self::CatalogEntry { key } => write!(f, "changes the catalog's /{key}"),
        }
    }
}

/// What a caller lets a later revision change beyond what is allowed after a signature. The consent document
/// (`consent_document::read`) checks the revisions after its unsigned first one, where a certifying signer's
/// revision may also add DocMDP permissions (/Perms).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Tolerated {
    /// Catalog entries that may be added, changed or removed.
    pub(crate) catalog_keys: &'static [&'static str],
}

/// Catalog entries a later revision may change besides the form and the DSS: they show nothing.
const CATALOG_KEYS: [&str; 5] = ["AcroForm", "DSS", "Extensions", "Version", "Metadata"];

/// Judges the changes of one later state against the signed revision, collecting the allowed ones.
pub(super) struct Judge<'d, 'a> {
    signed: &'d Document<'a>,
    after: &'d Document<'a>,
    tolerated: Tolerated,
    changes: BTreeSet<Change>,
}

impl<'d, 'a> Judge<'d, 'a> {
    pub(super) fn new(signed: &'d Document<'a>, after: &'d Document<'a>, tolerated: Tolerated) -> Self {
        Self { signed, after, tolerated, changes: BTreeSet::new() }
    }

    /// The changes allowed so far, in a stable order.
    pub(super) fn changes(self) -> Vec<Change> {
        self.changes.into_iter().collect()
    }

    /// Whether object `id`, which the signed revision uses in `roles`, may go from `old` (`None`: undefined
    /// there) to `new`; why not, when not.
    pub(super) fn allowed(
        &mut self,
        id: ObjectId,
        roles: &[Role],
        old: Option<&Value>,
        new: &Value,
    ) -> Result<(), String> {
        let change = || if old.is_some() { format!("changes object {id}") } else { "nothing may be there".into() };
        let structural: Vec<Role> = roles.iter().copied().filter(|r| *r != Role::Other).collect();
        if structural.is_empty() {
            return Err(change());
        }
        // Where a rule lets the content change freely, the object must be used for nothing else.
        let free = |r: &Role| matches!(r, Role::Info | Role::Metadata | Role::Extensions | Role::Dss | Role::DssPart);
        if roles.iter().any(free) && roles.len() > 1 {
            let uses: Vec<&str> = roles.iter().map(|r| r.name()).collect();
            return Err(format!(
                "changes object {id}, which the signed revision uses in several places ({})",
                uses.join(", ")
            ));
        }
        for role in structural {
            self.role(role, id, old, new)?;
        }
        Ok(())
    }

    fn role(&mut self, role: Role, id: ObjectId, old: Option<&Value>, new: &Value) -> Result<(), String> {
        let old_object = old.map(object_of);
        let new_object = object_of(new);
        match role {
            Role::Info | Role::Extensions | Role::Dss | Role::DssPart => {
                if old.is_some_and(is_stream) || is_stream(new) {
                    return Err(format!("changes object {id} into or from a stream"));
                }
                self.changes.insert(match role {
                    Role::Info => Change::DocumentInformation,
                    Role::Extensions => Change::CatalogEntry { key: "Extensions".into() },
                    _ => Change::ValidationData,
                });
                Ok(())
            }
            Role::Metadata => {
                metadata_stream(new).map_err(|e| format!("changes object {id}: {e}"))?;
                self.changes.insert(Change::DocumentInformation);
                Ok(())
            }
            Role::DssData => match old {
                None if is_stream(new) => {
                    self.changes.insert(Change::ValidationData);
                    Ok(())
                }
                _ => Err(format!("rewrites object {id}, validation data already in the signed revision")),
            },
            Role::Catalog => match (old_object, new_object) {
                (Some(Object::Dictionary(old)), Object::Dictionary(new)) => self.catalog(&old, &new),
                _ => Err("replaces the document catalog".into()),
            },
            Role::AcroForm => match new_object {
                Object::Dictionary(new) => self.acro_form(&dictionary_or_empty(old_object)?, &new),
                _ => Err("replaces the form (AcroForm)".into()),
            },
            Role::FieldList | Role::AnnotList => {
                let old = old_object.unwrap_or(Object::Array(Vec::new()));
                self.list_grows(Some(&old), Some(&new_object)).map_err(|e| format!("changes {id}: {e}"))
            }
            Role::PageNode => match (old_object, new_object) {
                (Some(Object::Dictionary(old)), Object::Dictionary(new))
                    if old.without(&["Annots"]).same_entries(&new.without(&["Annots"])) =>
                {
                    self.list_grows(old.get("Annots"), new.get("Annots")).map_err(|e| format!("changes page {id}: {e}"))
                }
                _ => Err(format!("changes page {id}")),
            },
            Role::Field => match (old_object, new_object) {
                (Some(Object::Dictionary(old)), Object::Dictionary(new)) => self.field_signed(id, &old, &new),
                _ => Err(format!("changes object {id}")),
            },
            Role::Other => Err(format!("changes object {id}")),
        }
    }

    /// The catalog may change /AcroForm (as the form rule allows), /DSS, /Extensions, /Version, /Metadata and
    /// the tolerated keys; nothing may disappear.
    fn catalog(&mut self, old: &Dictionary, new: &Dictionary) -> Result<(), String> {
        let keys: Vec<&str> = CATALOG_KEYS.into_iter().chain(self.tolerated.catalog_keys.iter().copied()).collect();
        if !old.without(&keys).same_entries(&new.without(&keys)) {
            return Err("changes the document catalog".into());
        }
        for key in keys {
            let (was, is) = (old.get(key), new.get(key));
            if was == is {
                continue;
            }
            let Some(is) = is else { return Err(format!("removes the catalog's /{key}")) };
            let resolved = self.after.resolve(is).map_err(|e| e.to_string())?;
            match key {
                "AcroForm" => {
                    // The same form object rewritten is judged as that object.
                    if was.and_then(Object::as_reference).is_some() && was == Some(is) {
                        continue;
                    }
                    let Object::Dictionary(form) = resolved else { return Err("replaces the form".into()) };
                    let before = match was {
                        Some(was) => self.signed.resolve(was).map_err(|e| e.to_string())?,
                        None => Object::Null,
                    };
                    self.acro_form(&dictionary_or_empty(Some(before))?, &form)?;
                }
                "DSS" if resolved.as_dictionary().is_some() => {
                    self.changes.insert(Change::ValidationData);
                }
                "Extensions" if resolved.as_dictionary().is_some() => {
                    self.changes.insert(Change::CatalogEntry { key: key.into() });
                }
                "Version" if resolved.as_name().is_some() => {
                    self.changes.insert(Change::CatalogEntry { key: key.into() });
                }
                "Metadata" => {
                    let id = is.as_reference().ok_or("sets /Metadata to something other than a stream")?;
                    metadata_stream(&self.after.get(id).map_err(|e| e.to_string())?)?;
                    self.changes.insert(Change::DocumentInformation);
                }
                _ if self.tolerated.catalog_keys.contains(&key) => {
                    self.changes.insert(Change::CatalogEntry { key: key.into() });
                }
                _ => return Err(format!("sets the catalog's /{key} to something it cannot be")),
            }
        }
        Ok(())
    }

    /// The form may gain signature fields and set /SigFlags.
    fn acro_form(&mut self, old: &Dictionary, new: &Dictionary) -> Result<(), String> {
        let keep = ["Fields", "SigFlags"];
        if !old.without(&keep).same_entries(&new.without(&keep)) {
            return Err("changes the form (AcroForm)".into());
        }
        if new.get("SigFlags").is_some_and(|f| f.as_integer().is_none()) {
            return Err("sets /SigFlags to something other than an integer".into());
        }
        self.list_grows(old.get("Fields"), new.get("Fields")).map_err(|e| format!("changes the form's fields: {e}"))
    }

    /// A list (/Annots, /Fields) that only gains signature fields at its end. `old` as the signed revision reads
    /// it, `new` as the final file does.
    fn list_grows(&mut self, old: Option<&Object>, new: Option<&Object>) -> Result<(), String> {
        // The same indirect array: its own rewrite is judged as an object of its own.
        if let (Some(Object::Reference(a)), Some(Object::Reference(b))) = (old, new)
            && a == b
        {
            return Ok(());
        }
        let items = |document: &Document<'_>, list: Option<&Object>| -> Result<Vec<Object>, String> {
            match list.map(|l| document.resolve(l)) {
                None => Ok(Vec::new()),
                Some(Ok(Object::Array(items))) => Ok(items),
                Some(Ok(Object::Null)) => Ok(Vec::new()),
                Some(_) => Err("not an array".to_owned()),
            }
        };
        let (old, new) = (items(self.signed, old)?, items(self.after, new)?);
        let added = new.strip_prefix(old.as_slice()).ok_or("removes or reorders entries")?;
        for item in added {
            let change = self.new_signature_field(item)?;
            self.changes.insert(change);
        }
        Ok(())
    }

    /// An entry added to /Fields or /Annots: a signature field merged with its widget (no /Kids). Unsigned, or a
    /// document time stamp, it must be invisible; visible, it must be signed and new (its appearance is that of
    /// a signature the verifier judges on its own).
    fn new_signature_field(&self, item: &Object) -> Result<Change, String> {
        let other = "adds an annotation or field that is not a signature field";
        let Ok(Object::Dictionary(field)) = self.after.resolve(item) else { return Err(other.into()) };
        if field.name("FT") != Some(b"Sig") || field.get("Kids").is_some() {
            return Err(other.into());
        }
        let name = field_name(&field);
        let visible = self.visible(&field)?;
        let value = match field.get("V") {
            None => None,
            Some(v) => Some(self.after.resolve(v).map_err(|e| e.to_string())?),
        };
        let is_new = item.as_reference().is_none_or(|id| !self.signed.defines(id));
        match value.as_ref().map(signature_kind) {
            None if !visible => Ok(Change::EmptySignatureField { field: name }),
            Some(Some(Kind::TimeStamp)) if !visible => Ok(Change::DocumentTimeStamp { field: name }),
            Some(Some(Kind::Signature)) if !visible || is_new => Ok(Change::Signature { field: name, visible }),
            Some(None) => Err(format!("adds the signature field {name} with a value that is not a signature")),
            _ => Err(format!("adds the signature field {name} visible on the page without a signature in it")),
        }
    }

    /// An existing empty signature field signed: /V added (a signature or a document time stamp), with its
    /// appearance (/AP, /AS); nothing else of the field changes.
    fn field_signed(&mut self, id: ObjectId, old: &Dictionary, new: &Dictionary) -> Result<(), String> {
        let keep = ["V", "AP", "AS"];
        let is_signature_field = old.name("FT") == Some(b"Sig") || self.inherits_signature_type(old);
        if !is_signature_field || old.get("V").is_some() || !old.without(&keep).same_entries(&new.without(&keep)) {
            return Err(format!("changes object {id}"));
        }
        let name = field_name(new);
        let value = match new.get("V") {
            Some(v) => self.after.resolve(v).map_err(|e| e.to_string())?,
            None => return Err(format!("changes the appearance of the empty signature field {name}")),
        };
        let change = match signature_kind(&value) {
            Some(Kind::Signature) => Change::Signature { field: name, visible: self.visible(new)? },
            Some(Kind::TimeStamp) if !self.visible(new)? => Change::DocumentTimeStamp { field: name },
            _ => return Err(format!("gives the signature field {name} a value that is not a signature")),
        };
        self.changes.insert(change);
        Ok(())
    }

    /// Whether a field of the signed revision without its own /FT is a signature field through its parents.
    fn inherits_signature_type(&self, field: &Dictionary) -> bool {
        let mut parent = field.get("Parent").cloned();
        for _ in 0..16 {
            let Some(Ok(Object::Dictionary(dict))) = parent.as_ref().map(|p| self.signed.resolve(p)) else {
                return false;
            };
            if let Some(ft) = dict.name("FT") {
                return ft == b"Sig";
            }
            parent = dict.get("Parent").cloned();
        }
        false
    }

    /// Whether a widget shows on the page: a rectangle of some area, and neither Hidden nor NoView (ISO 32000-1
    /// §12.5.3).
    fn visible(&self, widget: &Dictionary) -> Result<bool, String> {
        let flags = widget.get("F").and_then(Object::as_integer).unwrap_or(0);
        if flags & (2 | 32) != 0 {
            return Ok(false);
        }
        let Some(rect) = widget.get("Rect") else { return Ok(false) };
        let Ok(Object::Array(rect)) = self.after.resolve(rect) else {
            return Err("a widget /Rect that is not an array".into());
        };
        let n: Vec<f64> = rect
            .iter()
            .filter_map(|v| match v {
                Object::Integer(i) => Some(*i as f64),
                Object::Real(t) => t.parse().ok(),
                _ => None,
            })
            .collect();
        match n.as_slice() {
            [x1, y1, x2, y2] => Ok((x2 - x1).abs() >= f64::EPSILON && (y2 - y1).abs() >= f64::EPSILON),
            _ => Err("a widget /Rect that is not four numbers".into()),
        }
    }
}

/// What a signature field's value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Signature,
    TimeStamp,
}

/// A signature dictionary (/Type /Sig, or no /Type with a /ByteRange) or a document time stamp.
fn signature_kind(value: &Object) -> Option<Kind> {
    let dict = value.as_dictionary()?;
    if dict.has_type("DocTimeStamp") {
        Some(Kind::TimeStamp)
    } else if dict.has_type("Sig") || (dict.get("Type").is_none() && dict.get("ByteRange").is_some()) {
        Some(Kind::Signature)
    } else {
        None
    }
}

/// The XMP metadata stream (/Type /Metadata /Subtype /XML), and nothing else, may replace the metadata.
fn metadata_stream(value: &Value) -> Result<(), String> {
    match value {
        Value::Stream(s) if s.dict.has_type("Metadata") && s.dict.name("Subtype") == Some(b"XML") => Ok(()),
        _ => Err("puts something other than an XMP metadata stream where the metadata is".into()),
    }
}

fn field_name(field: &Dictionary) -> String {
    field.get("T").and_then(Object::as_string).map(text_string).unwrap_or_else(|| "(unnamed)".into())
}

fn object_of(value: &Value) -> Object {
    match value {
        Value::Object(o) => o.clone(),
        Value::Stream(s) => Object::Dictionary(s.dict.clone()),
    }
}

fn is_stream(value: &Value) -> bool {
    matches!(value, Value::Stream(_))
}

/// A dictionary as it was (an absent one is empty).
fn dictionary_or_empty(old: Option<Object>) -> Result<Dictionary, String> {
    match old {
        None | Some(Object::Null) => Ok(Dictionary::new()),
        Some(Object::Dictionary(d)) => Ok(d),
        Some(_) => Err("replaces something that was not a dictionary".into()),
    }
}
