//! The Group resource (RFC 7643 §4.2), mapped onto what hcpki already decides access with — no groups of
//! its own (D158):
//! * [`CONSOLE_ADMINS`]: the facility's console administrators, i.e. the console grants
//!   `facility-admin` of the client's facility held by its accounts (D42). Adding or removing a member makes
//!   or removes that grant.
//! * `service:<id>`: who the services file's policy admits to a relying service from this facility with a
//!   password + TOTP sign-in. Read-only: membership follows the member's hcRole (change the User), because the
//!   policy, not a list, decides (D26).

use super::error::ScimError;
use super::version;
use serde_json::{Value, json};

/// The core Group schema.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The id of the console administrators' group.
pub const CONSOLE_ADMINS: &str = "console-admin";
/// The prefix of a service access group's id.
pub const SERVICE_PREFIX: &str = "service:";

/// A group as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupView {
    /// `console-admin` or `service:<id>`.
    pub id: String,
    /// Its display name.
    pub display_name: String,
    /// The members: (user name, display name), by user name.
    pub members: Vec<(String, String)>,
}

impl GroupView {
    /// Whether clients may change its members (the console group only).
    pub fn writable(&self) -> bool {
        self.id == CONSOLE_ADMINS
    }
}

/// The Group resource of `group`, with `location` under `base`.
pub fn resource(group: &GroupView, base: &str) -> Value {
    let members: Vec<Value> = group
        .members
        .iter()
        .map(|(name, display)| json!({ "value": name, "$ref": format!("{base}/Users/{name}"), "display": display }))
        .collect();
    let mut body = json!({
        "schemas": [GROUP_SCHEMA],
        "id": group.id,
        "displayName": group.display_name,
        "members": members,
    });
    version::stamp(
        &mut body,
        json!({ "resourceType": "Group", "location": format!("{base}/Groups/{}", percent(&group.id)) }),
    );
    body
}

/// The member ids of a Group body (a PUT, or a resource after PATCH): each member's `value`.
pub fn member_ids(body: &Value) -> Result<Vec<String>, ScimError> {
    match super::path::member(body, "members") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|m| {
                super::path::member(m, "value")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| ScimError::value("each member needs a value: the member User's id"))
            })
            .collect(),
        Some(_) => Err(ScimError::value("members must be an array of {\"value\": user id}")),
    }
}

/// A group id as a URL path segment (`service:x` keeps its colon, RFC 3986 allows it in a segment).
fn percent(id: &str) -> String {
    id.chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' | '.' | '~' | ':' => c.to_string(),
            other => format!("%{:02X}", other as u32 & 0xff),
        })
        .collect()
}
