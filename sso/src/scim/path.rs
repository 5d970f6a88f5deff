//! Attribute paths (RFC 7644 §3.10, the `attrPath` rule of §3.4.2.2): `[URI ":"] ATTRNAME ["." subAttr]`,
//! where the URI is a schema's (`urn:ietf:params:scim:schemas:core:2.0:User:userName`). Names compare without
//! case (RFC 7643 §2.1).

use super::error::ScimError;

/// An attribute path: the schema it names (if it names one), the attribute and its sub-attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttrPath {
    /// The schema URI before the attribute, as written.
    pub schema: Option<String>,
    /// The attribute's name.
    pub attr: String,
    /// The sub-attribute's name (`name.givenName`, `emails.value`).
    pub sub: Option<String>,
}

impl AttrPath {
    /// Read `text` as an attribute path, or say why not.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (schema, rest) = match text.rfind(':') {
            Some(i) => {
                let (uri, rest) = text.split_at(i);
                if !uri.to_ascii_lowercase().starts_with("urn:") {
                    return Err(format!("{text:?}: a schema before an attribute must be a urn: URI"));
                }
                (Some(uri.to_owned()), rest.get(1..).unwrap_or_default())
            }
            None => (None, text),
        };
        let (attr, sub) = match rest.split_once('.') {
            Some((attr, sub)) => (attr, Some(sub)),
            None => (rest, None),
        };
        if !is_name(attr) {
            return Err(format!("{text:?} is not an attribute name (a letter, then letters, digits, - or _)"));
        }
        if let Some(sub) = sub
            && !is_name(sub)
        {
            return Err(format!("{text:?}: {sub:?} is not a sub-attribute name"));
        }
        Ok(Self { schema, attr: attr.to_owned(), sub: sub.map(str::to_owned) })
    }

    /// Whether this path names `attr` (and no sub-attribute), without case.
    pub fn is(&self, attr: &str) -> bool {
        self.sub.is_none() && self.attr.eq_ignore_ascii_case(attr)
    }
}

impl std::fmt::Display for AttrPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(schema) = &self.schema {
            write!(f, "{schema}:")?;
        }
        f.write_str(&self.attr)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// `ATTRNAME = ALPHA *(nameChar)`, `nameChar = "-" / "_" / DIGIT / ALPHA` (RFC 7643 §2.1; `$ref` too).
fn is_name(name: &str) -> bool {
    if name == "$ref" {
        return true;
    }
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The attribute `path` names in `resource` (a resource's JSON), following its schema URI to an extension's
/// object and matching names without case; `None` when it holds nothing.
pub fn lookup<'a>(resource: &'a serde_json::Value, path: &AttrPath, core: &str) -> Option<&'a serde_json::Value> {
    let holder = match &path.schema {
        Some(uri) if !uri.eq_ignore_ascii_case(core) => member(resource, uri)?,
        _ => resource,
    };
    member(holder, &path.attr)
}

/// `object`'s member `name`, without case.
pub fn member<'a>(object: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    object.as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v)
}

/// A 400 `invalidPath` for a path that does not parse.
pub fn invalid(text: &str, why: String) -> ScimError {
    ScimError::path(format!("path {text:?}: {why}"))
}
