//! How the signed revision uses each of its objects: every object reachable from its trailer, with the roles
//! the places that refer to it give it (the catalog, a page, the DSS, page content…), and every reference it makes
//! to an object it does not define (which reads as null there, ISO 32000-1 §7.3.10).
//!
//! A later revision may rewrite an object only as the rules of **every** role it has allow: the document
//! information dictionary may be rewritten, but not when the same object is also a page's resources. A reference
//! the signed revision left undefined may not come alive later, except where its role allows a new object.

use crate::signature::pades::PadesError;
use crate::signature::pades::pdf::{Document, Object, ObjectId, Value};
use std::collections::{HashMap, HashSet};

/// What a place in the signed revision makes of the object it refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Role {
    /// The document catalog (the trailer's /Root).
    Catalog,
    /// The document information dictionary (the trailer's /Info), or a value in it.
    Info,
    /// The XMP metadata stream (the catalog's /Metadata).
    Metadata,
    /// The catalog's /Extensions, or a dictionary in it.
    Extensions,
    /// The interactive form (the catalog's /AcroForm).
    AcroForm,
    /// The form's /Fields array.
    FieldList,
    /// A form field or an annotation (from /Fields, a field's /Kids, a page's /Annots).
    Field,
    /// A node of the page tree, or a page.
    PageNode,
    /// A page's /Annots array.
    AnnotList,
    /// The document security store (the catalog's /DSS).
    Dss,
    /// An array or dictionary inside the DSS: /Certs, /CRLs, /OCSPs, /VRI and its entries.
    DssPart,
    /// A certificate, CRL, OCSP response or time-stamp token stream of the DSS.
    DssData,
    /// Anything else: page content, resources, fonts, appearances, signature values. Never changes.
    Other,
}

impl Role {
    /// What the role is, in words.
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Catalog => "the document catalog",
            Self::Info => "the document information",
            Self::Metadata => "the XMP metadata",
            Self::Extensions => "the catalog's extensions",
            Self::AcroForm => "the form",
            Self::FieldList => "the form's field list",
            Self::Field => "a form field or annotation",
            Self::PageNode => "a page",
            Self::AnnotList => "a page's annotation list",
            Self::Dss => "the DSS",
            Self::DssPart => "a part of the DSS",
            Self::DssData => "validation data",
            Self::Other => "page content or resources",
        }
    }
}

/// One step from an object to a reference inside it: a dictionary key or an array element.
#[derive(Clone, Copy, Debug)]
enum Step<'k> {
    Key(&'k [u8]),
    Item,
}

/// The signed revision's objects and the roles they play.
#[derive(Debug, Default)]
pub(super) struct Usage {
    roles: HashMap<ObjectId, Vec<Role>>,
    /// References to objects the signed revision does not define, with the roles of the places that make them.
    undefined: HashMap<ObjectId, Vec<Role>>,
}

impl Usage {
    /// Walk `signed` from its trailer. Each object is read once per role it is reached with (at most one per
    /// role), so what it refers to gets the roles it gives in each.
    pub(super) fn of(signed: &Document<'_>) -> Result<Self, PadesError> {
        let mut usage = Self::default();
        let mut done: HashSet<(ObjectId, Role)> = HashSet::new();
        let mut queue: Vec<(ObjectId, Role)> = Vec::new();
        let mut back_pointed: Vec<ObjectId> = Vec::new();
        let mut found = |id: ObjectId, role: Option<Role>, queue: &mut Vec<(ObjectId, Role)>| {
            let Some(role) = role else {
                back_pointed.push(id);
                return;
            };
            let slot = if signed.defines(id) { &mut usage.roles } else { &mut usage.undefined };
            let roles = slot.entry(id).or_default();
            if !roles.contains(&role) {
                roles.push(role);
            }
            if done.insert((id, role)) {
                queue.push((id, role));
            }
        };
        references(&Object::Dictionary(signed.trailer().clone()), &mut Vec::new(), &mut |path, id| {
            found(id, Some(trailer_role(path)), &mut queue);
        });
        while let Some((id, role)) = queue.pop() {
            if !signed.defines(id) {
                continue;
            }
            let holder = match signed.get(id)? {
                Value::Object(object) => object,
                Value::Stream(stream) => Object::Dictionary(stream.dict),
            };
            let mut children = Vec::new();
            references(&holder, &mut Vec::new(), &mut |path, child| children.push((child, child_role(role, path))));
            for (child, child_role) in children {
                found(child, child_role, &mut queue);
            }
        }
        // What only back-pointers (/Parent, /P) reach is read as anything else is: it may not change.
        for id in back_pointed {
            if !usage.roles.contains_key(&id) && !usage.undefined.contains_key(&id) {
                let slot = if signed.defines(id) { &mut usage.roles } else { &mut usage.undefined };
                slot.insert(id, vec![Role::Other]);
            }
        }
        Ok(usage)
    }

    /// The roles of `id`, an object of the signed revision: none when nothing reaches it.
    pub(super) fn roles(&self, id: ObjectId) -> &[Role] {
        self.roles.get(&id).map_or(&[], Vec::as_slice)
    }

    /// The references to objects the signed revision does not define, with their roles.
    pub(super) fn undefined(&self) -> impl Iterator<Item = (ObjectId, &[Role])> {
        self.undefined.iter().map(|(id, roles)| (*id, roles.as_slice()))
    }
}

/// Call `found` with the path to and the target of every reference in `object` (direct values walked; the
/// lexer bounds their nesting).
fn references<'o>(object: &'o Object, path: &mut Vec<Step<'o>>, found: &mut dyn FnMut(&[Step<'o>], ObjectId)) {
    match object {
        Object::Reference(id) => found(path, *id),
        Object::Array(items) => {
            for item in items {
                path.push(Step::Item);
                references(item, path, found);
                path.pop();
            }
        }
        Object::Dictionary(dict) => {
            for (key, value) in dict.iter() {
                path.push(Step::Key(key));
                references(value, path, found);
                path.pop();
            }
        }
        _ => {}
    }
}

fn trailer_role(path: &[Step<'_>]) -> Role {
    match path {
        [Step::Key(b"Root")] => Role::Catalog,
        [Step::Key(b"Info"), ..] => Role::Info,
        _ => Role::Other,
    }
}

/// The role of what `parent` refers to at `path`; `None` for a back-pointer (/Parent, /P).
fn child_role(parent: Role, path: &[Step<'_>]) -> Option<Role> {
    use Step::{Item, Key};
    if matches!(path, [Key(b"Parent" | b"P")]) && matches!(parent, Role::Field | Role::PageNode) {
        return None;
    }
    Some(match (parent, path) {
        (Role::Catalog, [Key(b"AcroForm")]) => Role::AcroForm,
        (Role::Catalog, [Key(b"AcroForm"), rest @ ..]) => return child_role(Role::AcroForm, rest),
        (Role::Catalog, [Key(b"Pages")]) => Role::PageNode,
        (Role::Catalog, [Key(b"Metadata")]) => Role::Metadata,
        (Role::Catalog, [Key(b"Extensions"), ..]) | (Role::Extensions, _) => Role::Extensions,
        (Role::Catalog, [Key(b"DSS")]) => Role::Dss,
        (Role::Catalog, [Key(b"DSS"), rest @ ..]) | (Role::Dss | Role::DssPart, rest) => dss_part(rest),
        (Role::Info, _) => Role::Info,
        (Role::AcroForm, [Key(b"Fields")]) => Role::FieldList,
        (Role::AcroForm, [Key(b"Fields"), Item]) | (Role::FieldList | Role::AnnotList, [Item]) => Role::Field,
        (Role::Field, [Key(b"Kids"), Item]) => Role::Field,
        (Role::PageNode, [Key(b"Kids"), Item]) => Role::PageNode,
        (Role::PageNode, [Key(b"Annots")]) => Role::AnnotList,
        (Role::PageNode, [Key(b"Annots"), Item]) => Role::Field,
        _ => Role::Other,
    })
}

/// Inside the DSS: the data streams are array elements (/Certs, /CRLs, /OCSPs and a VRI entry's /Cert, /CRL,
/// /OCSP) and a VRI entry's /TS; every other reference is to a part of the store.
fn dss_part(path: &[Step<'_>]) -> Role {
    match path.last() {
        Some(Step::Item | Step::Key(b"TS")) => Role::DssData,
        _ => Role::DssPart,
    }
}
