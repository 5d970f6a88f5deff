//! PATCH (RFC 7644 §3.5.2): the `PatchOp` message parsed into typed [`Operation`]s, and their application to
//! a resource's JSON. What the patched JSON may change (mutability, values) is the resource mapping's call
//! (`super::user`), made on the result, so one set of rules serves PUT and PATCH.

use super::error::{ScimError, ScimType};
use super::filter::{Filter, Schema};
use super::path::AttrPath;
use serde_json::{Map, Value};

/// The `urn:ietf:params:scim:api:messages:2.0:PatchOp` schema.
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// The most operations one PATCH may carry (advertised nowhere by RFC 7644; an HR system sends a handful).
pub const MAX_OPERATIONS: usize = 100;

/// One PATCH operation.
#[derive(Clone, Debug, PartialEq)]
pub struct Operation {
    /// `add`, `remove` or `replace`.
    pub op: Op,
    /// The target, if any (`remove` needs one).
    pub path: Option<PatchPath>,
    /// The value (absent for `remove`).
    pub value: Option<Value>,
}

/// The operation's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Add values (append to multi-valued attributes).
    Add,
    /// Remove the target.
    Remove,
    /// Replace the target.
    Replace,
}

/// `PATH = attrPath / valuePath [subAttr]` (RFC 7644 §3.5.2).
#[derive(Clone, Debug, PartialEq)]
pub struct PatchPath {
    /// The attribute (with its sub-attribute when there is no filter).
    pub attr: AttrPath,
    /// The filter on a multi-valued attribute's values, `emails[type eq "work"]`.
    pub filter: Option<Filter>,
    /// The sub-attribute after a filter, `emails[type eq "work"].value`.
    pub sub: Option<String>,
}

impl PatchPath {
    /// Read a PATCH path, or a 400 `invalidPath`.
    pub fn parse(text: &str) -> Result<Self, ScimError> {
        let invalid = |why: String| ScimError::path(format!("path {text:?}: {why}"));
        let Some(open) = text.find('[') else {
            let attr = AttrPath::parse(text).map_err(invalid)?;
            return Ok(Self { attr, filter: None, sub: None });
        };
        let close = text.rfind(']').ok_or_else(|| invalid("\"[\" is not closed: add \"]\"".to_owned()))?;
        let (Some(head), Some(inner), Some(tail)) =
            (text.get(..open), text.get(open + 1..close), text.get(close + 1..))
        else {
            return Err(invalid("\"]\" comes before \"[\"".to_owned()));
        };
        let attr = AttrPath::parse(head).map_err(invalid)?;
        if attr.sub.is_some() {
            return Err(invalid("a value filter follows an attribute, not a sub-attribute".to_owned()));
        }
        let filter = Filter::parse(inner).map_err(|e| invalid(e.detail))?;
        let sub = match tail {
            "" => None,
            t => match t.strip_prefix('.') {
                Some(s) if AttrPath::parse(s).is_ok_and(|p| p.schema.is_none() && p.sub.is_none()) => {
                    Some(s.to_owned())
                }
                _ => return Err(invalid(format!("{t:?} after the filter: use .subAttribute or nothing"))),
            },
        };
        Ok(Self { attr, filter: Some(filter), sub })
    }
}

/// Read a `PatchOp` message, or a 400 saying what is wrong with it.
pub fn parse(body: &Value) -> Result<Vec<Operation>, ScimError> {
    let syntax = |d: &str| ScimError::bad(ScimType::InvalidSyntax, d.to_owned());
    let schemas = body.get("schemas").and_then(Value::as_array).ok_or_else(|| syntax("schemas is missing"))?;
    if !schemas.iter().any(|s| s.as_str() == Some(PATCH_SCHEMA)) {
        return Err(syntax(&format!("schemas must name {PATCH_SCHEMA}")));
    }
    let ops = super::path::member(body, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| syntax("Operations is missing: send an array of {\"op\", \"path\", \"value\"}"))?;
    if ops.is_empty() {
        return Err(syntax("Operations is empty: send at least one operation"));
    }
    if ops.len() > MAX_OPERATIONS {
        return Err(ScimError::bad(
            ScimType::TooMany,
            format!("{} operations: send at most {MAX_OPERATIONS} per request", ops.len()),
        ));
    }
    ops.iter().enumerate().map(|(i, o)| operation(i, o)).collect()
}

fn operation(index: usize, op: &Value) -> Result<Operation, ScimError> {
    let syntax = |d: String| ScimError::bad(ScimType::InvalidSyntax, format!("operation {index}: {d}"));
    let kind = match super::path::member(op, "op").and_then(Value::as_str).map(str::to_ascii_lowercase).as_deref() {
        Some("add") => Op::Add,
        Some("remove") => Op::Remove,
        Some("replace") => Op::Replace,
        Some(other) => return Err(syntax(format!("op {other:?} is not add, remove or replace"))),
        None => return Err(syntax("op is missing".to_owned())),
    };
    let path = match super::path::member(op, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) => Some(PatchPath::parse(p)?),
        Some(_) => return Err(ScimError::path(format!("operation {index}: path must be a string"))),
    };
    let value = super::path::member(op, "value").cloned();
    match (kind, &path, &value) {
        (Op::Remove, None, _) => {
            Err(ScimError::bad(ScimType::NoTarget, format!("operation {index}: remove needs a path")))
        }
        (Op::Add | Op::Replace, _, None) => Err(ScimError::value(format!("operation {index}: {kind:?} needs a value"))),
        (Op::Add | Op::Replace, None, Some(v)) if !v.is_object() => Err(ScimError::value(format!(
            "operation {index}: without a path the value must be an object of attributes"
        ))),
        _ => Ok(Operation { op: kind, path, value }),
    }
}

/// Apply `ops` in order to `resource` (an object), whose core schema is `core`. The first failing operation
/// fails the whole PATCH (RFC 7644 §3.5.2: all or nothing); the caller keeps its resource unchanged.
pub fn apply(resource: &mut Value, ops: &[Operation], core: &str) -> Result<(), ScimError> {
    for op in ops {
        apply_one(resource, op, core)?;
    }
    Ok(())
}

fn apply_one(resource: &mut Value, op: &Operation, core: &str) -> Result<(), ScimError> {
    let Some(path) = &op.path else {
        // No path: the value's members are attributes (extension URIs hold objects of theirs).
        let Some(Value::Object(members)) = &op.value else { return Ok(()) };
        for (name, value) in members {
            let target = root_object(resource)?;
            match (op.op, slot(target, name), value) {
                (Op::Add, Some(Value::Object(have)), Value::Object(add)) => merge(have, add, Op::Add),
                (Op::Add, Some(Value::Array(have)), Value::Array(add)) => have.extend(add.iter().cloned()),
                (_, Some(have), v) => *have = v.clone(),
                (_, None, v) => {
                    target.insert(name.clone(), v.clone());
                }
            }
        }
        return Ok(());
    };
    let value = op.value.clone().unwrap_or(Value::Null);
    // A bare extension URN (`urn:…:extension:…:User`) names the extension's whole object, which the grammar
    // would otherwise read as attribute `User` of schema `urn:…:extension:…`.
    let whole = path.attr.to_string();
    if path.filter.is_none() && path.attr.schema.is_some() && names_extension(resource, &whole) {
        let root = root_object(resource)?;
        return set_attr(root, &whole, op.op, value);
    }
    let holder = holder(resource, &path.attr, core, op.op != Op::Remove)?;
    let Some(holder) = holder else { return Ok(()) };
    match (&path.filter, &path.attr.sub) {
        (None, None) => set_attr(holder, &path.attr.attr, op.op, value),
        (None, Some(sub)) => {
            let complex = match slot(holder, &path.attr.attr) {
                Some(v) => v,
                None if op.op == Op::Remove => return Ok(()),
                None => {
                    holder.insert(path.attr.attr.clone(), Value::Object(Map::new()));
                    slot(holder, &path.attr.attr).ok_or_else(|| ScimError::path("cannot create the attribute"))?
                }
            };
            let Value::Object(complex) = complex else {
                return Err(ScimError::path(format!("{} is not a complex attribute", path.attr.attr)));
            };
            set_attr(complex, sub, op.op, value)
        }
        (Some(filter), _) => {
            let inner = Schema { core: "", case_exact: &[] };
            let Some(Value::Array(items)) = slot(holder, &path.attr.attr) else {
                return Err(ScimError::bad(ScimType::NoTarget, format!("{} holds no values to filter", path.attr)));
            };
            let before = items.len();
            let matching: Vec<usize> =
                (0..before).filter(|i| items.get(*i).is_some_and(|v| filter.matches(v, &inner))).collect();
            if matching.is_empty() {
                return Err(ScimError::bad(
                    ScimType::NoTarget,
                    format!("no value of {} matches the filter", path.attr),
                ));
            }
            match (&path.sub, op.op) {
                (None, Op::Remove) => {
                    let mut i = 0;
                    items.retain(|_| {
                        let keep = !matching.contains(&i);
                        i += 1;
                        keep
                    });
                }
                (None, _) => {
                    for i in matching {
                        if let Some(item) = items.get_mut(i) {
                            match (item, &value, op.op) {
                                (Value::Object(have), Value::Object(add), Op::Add) => merge(have, add, Op::Add),
                                (item, v, _) => *item = v.clone(),
                            }
                        }
                    }
                }
                (Some(sub), _) => {
                    for i in matching {
                        if let Some(Value::Object(item)) = items.get_mut(i) {
                            set_attr(item, sub, op.op, value.clone())?;
                        }
                    }
                }
            }
            Ok(())
        }
    }
}

/// The object holding `path`'s attribute: the resource, or the extension object its schema URI names
/// (created for add and replace).
fn holder<'a>(
    resource: &'a mut Value,
    path: &AttrPath,
    core: &str,
    create: bool,
) -> Result<Option<&'a mut Map<String, Value>>, ScimError> {
    let root = root_object(resource)?;
    match &path.schema {
        Some(uri) if !uri.eq_ignore_ascii_case(core) => {
            if slot(root, uri).is_none() {
                if !create {
                    return Ok(None);
                }
                root.insert(uri.clone(), Value::Object(Map::new()));
            }
            match slot(root, uri) {
                Some(Value::Object(ext)) => Ok(Some(ext)),
                _ => Err(ScimError::path(format!("{uri} is not an extension schema of this resource"))),
            }
        }
        _ => Ok(Some(root)),
    }
}

/// Whether `uri` is one of `resource`'s schemas or members (an extension it carries).
fn names_extension(resource: &Value, uri: &str) -> bool {
    let listed = resource
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().filter_map(Value::as_str).any(|s| s.eq_ignore_ascii_case(uri)));
    listed || super::path::member(resource, uri).is_some()
}

fn root_object(resource: &mut Value) -> Result<&mut Map<String, Value>, ScimError> {
    resource.as_object_mut().ok_or_else(|| ScimError::value("the resource is not a JSON object"))
}

/// `object`'s member `name`, without case.
fn slot<'a>(object: &'a mut Map<String, Value>, name: &str) -> Option<&'a mut Value> {
    object.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v)
}

fn set_attr(object: &mut Map<String, Value>, name: &str, op: Op, value: Value) -> Result<(), ScimError> {
    let key = object.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned().unwrap_or_else(|| name.to_owned());
    match op {
        Op::Remove => {
            object.remove(&key);
        }
        Op::Add => match (object.get_mut(&key), value) {
            (Some(Value::Array(have)), Value::Array(add)) => have.extend(add),
            (Some(Value::Array(have)), one) => have.push(one),
            (Some(Value::Object(have)), Value::Object(add)) => merge(have, &add, Op::Add),
            (_, v) => {
                object.insert(key, v);
            }
        },
        Op::Replace => {
            object.insert(key, value);
        }
    }
    Ok(())
}

fn merge(have: &mut Map<String, Value>, add: &Map<String, Value>, op: Op) {
    for (name, value) in add {
        // set_attr cannot fail on an object it holds.
        let _ = set_attr(have, name, op, value.clone());
    }
}
