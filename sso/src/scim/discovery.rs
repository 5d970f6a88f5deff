//! What a SCIM client reads to learn this service (RFC 7644 §4): `/ServiceProviderConfig`,
//! `/ResourceTypes` and `/Schemas`, built from the same constants the resources use.

use super::group::GROUP_SCHEMA;
use super::list::{LIST_SCHEMA, MAX_RESULTS};
use super::patch::MAX_OPERATIONS;
use super::user::{STAFF_SCHEMA, USER_SCHEMA};
use crate::policy::HcRole;
use serde_json::{Value, json};

/// The `ServiceProviderConfig` schema.
pub const SPC_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
/// The `ResourceType` schema.
pub const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
/// The `Schema` schema.
pub const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// `/ServiceProviderConfig` (RFC 7643 §5).
pub fn service_provider_config(base: &str, documentation: &str) -> Value {
    json!({
        "schemas": [SPC_SCHEMA],
        "documentationUri": documentation,
        "patch": { "supported": true },
        "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
        "filter": { "supported": true, "maxResults": MAX_RESULTS },
        "changePassword": { "supported": false },
        "sort": { "supported": true },
        "etag": { "supported": true },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": format!(
                "An access token of a confidential OIDC client bound to one facility, from the token endpoint's \
                 client_credentials grant with scope scim; at most {MAX_OPERATIONS} PATCH operations per request"
            ),
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true,
        }],
        "meta": { "resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig") },
    })
}

/// `/ResourceTypes` (RFC 7643 §6): User (with the staff extension, required) and Group.
pub fn resource_types(base: &str) -> Vec<Value> {
    vec![
        json!({
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "A facility's staff account (password + TOTP, and the passkeys its person registered)",
            "schema": USER_SCHEMA,
            "schemaExtensions": [{ "schema": STAFF_SCHEMA, "required": false }],
            "meta": { "resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User") },
        }),
        json!({
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "The facility's console administrators, and who each relying service admits",
            "schema": GROUP_SCHEMA,
            "meta": { "resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/Group") },
        }),
    ]
}

/// `/Schemas` (RFC 7643 §7): the attributes this service keeps, with their mutability.
pub fn schemas(base: &str) -> Vec<Value> {
    let user = vec![
        attr("userName", "string", Mutability::Immutable, true)
            .with("uniqueness", "server")
            .describe("The sign-in name: 1–64 of a-z 0-9 . _ - @; the id is the same"),
        attr("displayName", "string", Mutability::ReadWrite, false).describe("The name shown and put in tokens"),
        // Every account is active or not: there is no unassigned state to remove to.
        attr("active", "boolean", Mutability::ReadWrite, true)
            .describe("false de-provisions for good: the account is disabled and its sessions end"),
        attr("password", "string", Mutability::WriteOnly, false).with("returned", "never").describe(
            "12 bytes or more; a new account created without one cannot sign in until the help desk sets one",
        ),
    ];
    let staff = vec![
        attr("facility", "string", Mutability::ReadOnly, false)
            .with("returned", "request")
            .describe("The facility id: the client's own, set at creation"),
        attr("hcRole", "string", Mutability::ReadWrite, false)
            .with_values("canonicalValues", HcRole::ALL.iter().map(|r| r.code()).collect())
            .describe("The policy hcRole code (HPKI qualification) the account carries, if any"),
        attr("passkeys", "integer", Mutability::ReadOnly, false)
            .with("returned", "request")
            .describe("Live passkeys the person registered"),
        attr("signIn", "string", Mutability::ReadOnly, false)
            .with("returned", "request")
            .with_bool("multiValued", true)
            .describe("How the person can sign in: password-totp, passkey"),
    ];
    let group = vec![
        attr("displayName", "string", Mutability::ReadOnly, true).describe("The group's name"),
        complex(
            "members",
            Mutability::ReadWrite,
            vec![
                attr("value", "string", Mutability::Immutable, false).describe("The member User's id"),
                attr("$ref", "reference", Mutability::Immutable, false).describe("The member User's URI"),
                attr("display", "string", Mutability::ReadOnly, false).describe("The member's display name"),
            ],
        )
        .with_bool("multiValued", true)
        .describe("console-admin: writable (a console grant); service groups: read-only, follow hcRole"),
    ];
    vec![
        schema(base, USER_SCHEMA, "User", "A facility's staff account", user),
        schema(base, STAFF_SCHEMA, "StaffUser", "hcpki's staff attributes", staff),
        schema(base, GROUP_SCHEMA, "Group", "Console administrators and service access", group),
    ]
}

/// The `ListResponse` of discovery resources (they are few: one page, no filter, §4).
pub fn list(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": resources.len(),
        "startIndex": 1,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

#[derive(Clone, Copy)]
enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

struct Attr(Value);

fn attr(name: &str, kind: &str, mutability: Mutability, required: bool) -> Attr {
    let mutability = match mutability {
        Mutability::ReadOnly => "readOnly",
        Mutability::ReadWrite => "readWrite",
        Mutability::Immutable => "immutable",
        Mutability::WriteOnly => "writeOnly",
    };
    Attr(json!({
        "name": name,
        "type": kind,
        "multiValued": false,
        "description": "",
        "required": required,
        "caseExact": false,
        "mutability": mutability,
        "returned": "default",
        "uniqueness": "none",
    }))
}

fn complex(name: &str, mutability: Mutability, subs: Vec<Attr>) -> Attr {
    let mut a = attr(name, "complex", mutability, false);
    a.set("subAttributes", Value::Array(subs.into_iter().map(|s| s.0).collect()));
    a
}

impl Attr {
    fn set(&mut self, key: &str, value: Value) {
        if let Some(map) = self.0.as_object_mut() {
            map.insert(key.to_owned(), value);
        }
    }

    fn with(mut self, key: &str, value: &str) -> Self {
        self.set(key, Value::from(value));
        self
    }

    fn with_bool(mut self, key: &str, value: bool) -> Self {
        self.set(key, Value::from(value));
        self
    }

    fn with_values(mut self, key: &str, values: Vec<&str>) -> Self {
        self.set(key, json!(values));
        self
    }

    fn describe(self, text: &str) -> Self {
        self.with("description", text)
    }
}

fn schema(base: &str, id: &str, name: &str, description: &str, attributes: Vec<Attr>) -> Value {
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": id,
        "name": name,
        "description": description,
        "attributes": attributes.into_iter().map(|a| a.0).collect::<Vec<_>>(),
        "meta": { "resourceType": "Schema", "location": format!("{base}/Schemas/{id}") },
    })
}
