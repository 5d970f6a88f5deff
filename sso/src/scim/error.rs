//! SCIM errors (RFC 7644 §3.12): an HTTP status, a `scimType` where the RFC names one, and a detail that says
//! what the client must change. The HTTP adapter turns one into the error response; nothing here knows HTTP.

use serde_json::{Value, json};

/// The `urn:ietf:params:scim:api:messages:2.0:Error` schema.
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// The `scimType` values of RFC 7644 §3.12, Table 9, that this service answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScimType {
    /// The filter does not parse, or names what cannot be filtered.
    InvalidFilter,
    /// A PATCH path does not parse or names no attribute.
    InvalidPath,
    /// A value has the wrong type or form, or a required one is missing.
    InvalidValue,
    /// The request would change an attribute that cannot be changed.
    Mutability,
    /// A unique attribute (userName) is taken.
    Uniqueness,
    /// The filter would select more resources than the service answers.
    TooMany,
    /// A PATCH path with a filter selected nothing.
    NoTarget,
    /// The request body is not a valid SCIM message.
    InvalidSyntax,
}

impl ScimType {
    /// The `scimType` value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidFilter => "invalidFilter",
            Self::InvalidPath => "invalidPath",
            Self::InvalidValue => "invalidValue",
            Self::Mutability => "mutability",
            Self::Uniqueness => "uniqueness",
            Self::TooMany => "tooMany",
            Self::NoTarget => "noTarget",
            Self::InvalidSyntax => "invalidSyntax",
        }
    }
}

/// A refused SCIM request: the status, the `scimType` (when RFC 7644 names one) and what to do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct ScimError {
    /// The HTTP status (400, 401, 403, 404, 409, 412, 413, 500, 501).
    pub status: u16,
    /// The `scimType`.
    pub scim_type: Option<ScimType>,
    /// What went wrong and what to change.
    pub detail: String,
}

impl ScimError {
    /// A 400 with `scim_type`.
    pub fn bad(scim_type: ScimType, detail: impl Into<String>) -> Self {
        Self { status: 400, scim_type: Some(scim_type), detail: detail.into() }
    }

    /// A 400 `invalidFilter`.
    pub fn filter(detail: impl Into<String>) -> Self {
        Self::bad(ScimType::InvalidFilter, detail)
    }

    /// A 400 `invalidPath`.
    pub fn path(detail: impl Into<String>) -> Self {
        Self::bad(ScimType::InvalidPath, detail)
    }

    /// A 400 `invalidValue`.
    pub fn value(detail: impl Into<String>) -> Self {
        Self::bad(ScimType::InvalidValue, detail)
    }

    /// A 400 `mutability`.
    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::bad(ScimType::Mutability, detail)
    }

    /// A 409 `uniqueness`.
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self { status: 409, scim_type: Some(ScimType::Uniqueness), detail: detail.into() }
    }

    /// A 404 without `scimType`: no such resource (also what another facility's resource looks like).
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self { status: 404, scim_type: None, detail: detail.into() }
    }

    /// A 412: the `If-Match` version is not the resource's.
    pub fn precondition(detail: impl Into<String>) -> Self {
        Self { status: 412, scim_type: None, detail: detail.into() }
    }

    /// Any other status without `scimType` (401, 403, 500, 501).
    pub fn status(status: u16, detail: impl Into<String>) -> Self {
        Self { status, scim_type: None, detail: detail.into() }
    }

    /// The error message's body (RFC 7644 §3.12).
    pub fn body(&self) -> Value {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        if let (Some(t), Some(map)) = (self.scim_type, body.as_object_mut()) {
            map.insert("scimType".to_owned(), Value::from(t.as_str()));
        }
        body
    }
}
