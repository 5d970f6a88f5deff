//! Listing (RFC 7644 §3.4.2): filter, sort and page a set of resources into a `ListResponse`.
//! The query comes as `filter`, `sortBy`, `sortOrder`, `startIndex`, `count` (URL query or a `/.search`
//! body); `attributes` and `excludedAttributes` trim what is returned (§3.4.2.5).

use super::error::ScimError;
use super::filter::{Filter, Schema};
use super::path::{AttrPath, lookup, member};
use serde_json::{Value, json};
use std::cmp::Ordering;

/// The `ListResponse` schema.
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// The `SearchRequest` schema (`POST /.search`).
pub const SEARCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
/// The most resources one page holds (`filter.maxResults` in `/ServiceProviderConfig`).
pub const MAX_RESULTS: usize = 200;

/// A list request, read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListQuery {
    /// `filter`.
    pub filter: Option<Filter>,
    /// `sortBy`.
    pub sort_by: Option<AttrPath>,
    /// `sortOrder=descending`.
    pub descending: bool,
    /// `startIndex`, 1-based (values below 1 count as 1, §3.4.2.4).
    pub start_index: usize,
    /// `count`, at most [`MAX_RESULTS`] (negative counts as 0).
    pub count: usize,
    /// `attributes`.
    pub attributes: Vec<AttrPath>,
    /// `excludedAttributes`.
    pub excluded: Vec<AttrPath>,
}

impl ListQuery {
    /// Read the query parameters (names without case), or a 400 naming the one to fix.
    pub fn parse<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self, ScimError> {
        let mut query = Self { start_index: 1, count: MAX_RESULTS, ..Self::default() };
        for (name, value) in params {
            match name.to_ascii_lowercase().as_str() {
                "filter" => query.filter = Some(Filter::parse(value)?),
                "sortby" => {
                    query.sort_by = Some(AttrPath::parse(value).map_err(|e| ScimError::value(format!("sortBy: {e}")))?)
                }
                "sortorder" => {
                    query.descending = match value.to_ascii_lowercase().as_str() {
                        "ascending" => false,
                        "descending" => true,
                        _ => return Err(ScimError::value("sortOrder must be ascending or descending")),
                    }
                }
                "startindex" => query.start_index = integer("startIndex", value)?.max(1) as usize,
                "count" => query.count = (integer("count", value)?.max(0) as usize).min(MAX_RESULTS),
                "attributes" => query.attributes = paths("attributes", value)?,
                "excludedattributes" => query.excluded = paths("excludedAttributes", value)?,
                // Unknown parameters are the transport's (RFC 7644 names only these).
                _ => {}
            }
        }
        Ok(query)
    }

    /// Read a `SearchRequest` body (`POST …/.search`, §3.4.3).
    pub fn from_search(body: &Value) -> Result<Self, ScimError> {
        let mut params: Vec<(String, String)> = Vec::new();
        let Some(map) = body.as_object() else {
            return Err(ScimError::value("the body must be a SearchRequest object"));
        };
        for (name, value) in map {
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Array(items) => items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(","),
                _ => continue,
            };
            params.push((name.clone(), text));
        }
        Self::parse(params.iter().map(|(n, v)| (n.as_str(), v.as_str())))
    }

    /// The `ListResponse` of `resources` (all of one type, with core schema `schema.core`).
    pub fn respond(&self, resources: Vec<Value>, schema: &Schema<'_>) -> Value {
        let mut hits: Vec<Value> = match &self.filter {
            Some(f) => resources.into_iter().filter(|r| f.matches(r, schema)).collect(),
            None => resources,
        };
        if let Some(by) = &self.sort_by {
            hits.sort_by(|a, b| order(sort_key(a, by, schema.core), sort_key(b, by, schema.core), self.descending));
        }
        let total = hits.len();
        let page: Vec<Value> = hits
            .into_iter()
            .skip(self.start_index.saturating_sub(1))
            .take(self.count)
            .map(|r| self.trim(r, schema.core))
            .collect();
        json!({
            "schemas": [LIST_SCHEMA],
            "totalResults": total,
            "startIndex": self.start_index,
            "itemsPerPage": page.len(),
            "Resources": page,
        })
    }

    /// `resource` with only the asked attributes (`id`, `schemas` and `meta` always stay, RFC 7643 §7 `returned`).
    pub fn trim(&self, mut resource: Value, core: &str) -> Value {
        let Some(map) = resource.as_object_mut() else { return resource };
        let always = |k: &str| ["id", "schemas", "meta"].iter().any(|a| a.eq_ignore_ascii_case(k));
        let names = |paths: &[AttrPath], k: &str| {
            paths.iter().any(|p| match &p.schema {
                Some(uri) if !uri.eq_ignore_ascii_case(core) => uri.eq_ignore_ascii_case(k),
                _ => p.attr.eq_ignore_ascii_case(k),
            })
        };
        if !self.attributes.is_empty() {
            map.retain(|k, _| always(k) || names(&self.attributes, k));
        }
        if !self.excluded.is_empty() {
            map.retain(|k, _| always(k) || !names(&self.excluded, k));
        }
        resource
    }
}

fn integer(name: &str, value: &str) -> Result<i64, ScimError> {
    value.trim().parse().map_err(|_| ScimError::value(format!("{name} must be an integer, not {value:?}")))
}

fn paths(name: &str, value: &str) -> Result<Vec<AttrPath>, ScimError> {
    value
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| AttrPath::parse(p).map_err(|e| ScimError::value(format!("{name}: {e}"))))
        .collect()
}

/// What a resource sorts by: the first value of the path (a multi-valued attribute's primary one, else its
/// first), strings without case (RFC 7644 §3.4.2.3).
fn sort_key<'a>(resource: &'a Value, by: &AttrPath, core: &str) -> Option<&'a Value> {
    let found = lookup(resource, by, core)?;
    let one = match found {
        Value::Array(items) => items
            .iter()
            .find(|i| member(i, "primary").and_then(Value::as_bool) == Some(true))
            .or_else(|| items.first())?,
        v => v,
    };
    match (&by.sub, one) {
        (Some(sub), v) => member(v, sub),
        (None, Value::Object(_)) => member(one, "value"),
        (None, v) => Some(v),
    }
}

/// Resources without the value sort last, whichever the order (§3.4.2.3 leaves it to the provider).
fn order(a: Option<&Value>, b: Option<&Value>, descending: bool) -> Ordering {
    let (a, b) = match (a, b) {
        (None, None) => return Ordering::Equal,
        (None, Some(_)) => return Ordering::Greater,
        (Some(_), None) => return Ordering::Less,
        (Some(a), Some(b)) => (a, b),
    };
    let order = match (a, b) {
        (Value::String(a), Value::String(b)) => a.to_lowercase().cmp(&b.to_lowercase()),
        (Value::Number(a), Value::Number(b)) => a.as_f64().partial_cmp(&b.as_f64()).unwrap_or(Ordering::Equal),
        (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
        _ => Ordering::Equal,
    };
    if descending { order.reverse() } else { order }
}
