//! The User resource (RFC 7643 §4.1) of a staff account: a password + TOTP account (and the passkeys its
//! person registered) provisioned for one facility, with its facility and hcRole in hcpki's extension schema
//! [`STAFF_SCHEMA`]. The `id` is the user name: names never change (a person key is `pwd:<name>`, D34), so
//! `userName` is immutable here.

use super::error::ScimError;
use super::version;
use crate::accounts::{MAX_USERNAME, Username};
use crate::policy::HcRole;
use hcpki_ca::facility::FacilityId;
use hcpki_ca::store::ScimAccount;
use serde_json::{Map, Value, json};

/// The core User schema.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// hcpki's extension of a User: facility, hcRole, how the person signs in.
pub const STAFF_SCHEMA: &str = "urn:hcpki:params:scim:schemas:extension:staff:2.0:User";
/// The attributes whose strings compare with case (RFC 7643 §3.1, §4.1: `id`, `externalId`).
pub const CASE_EXACT: &[&str] = &["id", "externalId"];
/// Longest display name and externalId taken.
pub const MAX_TEXT: usize = 256;

/// The attributes a client may not change (RFC 7643 `mutability`): writing one in a PATCH is a `mutability`
/// error; a PUT's values for them are ignored when they equal the resource's, refused otherwise.
const FIXED: &[&str] = &["id", "userName", "meta", "schemas"];
/// The extension's attributes a client may not change.
const FIXED_STAFF: &[&str] = &["facility", "passkeys", "signIn"];

/// A staff account's User resource, with `location` under `base` (`https://…/scim/v2`).
pub fn resource(account: &ScimAccount, base: &str) -> Value {
    let user = &account.user;
    let mut sign_in = vec!["password-totp"];
    if account.passkeys > 0 {
        sign_in.push("passkey");
    }
    let mut staff = Map::new();
    staff.insert("facility".into(), Value::from(account.facility.as_str()));
    if let Some(role) = &user.hc_role {
        staff.insert("hcRole".into(), Value::from(role.as_str()));
    }
    staff.insert("passkeys".into(), Value::from(account.passkeys));
    staff.insert("signIn".into(), json!(sign_in));
    let mut body = json!({
        "schemas": [USER_SCHEMA, STAFF_SCHEMA],
        "id": user.username,
        "userName": user.username,
        "active": user.disabled_at.is_none(),
        STAFF_SCHEMA: staff,
    });
    if let Some(map) = body.as_object_mut() {
        // An account without a display name of its own shows its user name (the portal's rule): that is an
        // unassigned displayName, so removing the attribute reads back as removed.
        if user.display_name != user.username {
            map.insert("displayName".into(), Value::from(user.display_name.as_str()));
        }
        if let Some(external) = &account.external_id {
            map.insert("externalId".into(), Value::from(external.as_str()));
        }
    }
    let last = account.updated_at.max(user.disabled_at.unwrap_or(0));
    version::stamp(
        &mut body,
        json!({
            "resourceType": "User",
            "created": hcpki_pkix::time::rfc3339(user.created_at),
            "lastModified": hcpki_pkix::time::rfc3339(last),
            "location": format!("{base}/Users/{}", user.username),
        }),
    );
    body
}

/// What a client asks an account to be (a POST or PUT body, or a resource after PATCH), checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserInput {
    /// The user name.
    pub username: String,
    /// The display name (`displayName`, else `name.formatted`, else the user name).
    pub display_name: String,
    /// `active`.
    pub active: bool,
    /// `externalId`.
    pub external_id: Option<String>,
    /// The extension's `hcRole`, a policy code.
    pub hc_role: Option<HcRole>,
    /// `password` (write-only: never returned).
    pub password: Option<String>,
}

impl UserInput {
    /// Read a User body for `facility`'s client, or a 400 naming the attribute to fix.
    pub fn parse(body: &Value, facility: &FacilityId) -> Result<Self, ScimError> {
        use super::path::member;
        if !body.is_object() {
            return Err(ScimError::value("the body must be a JSON object: a User resource"));
        }
        let text = |name: &str, v: Option<&Value>| -> Result<Option<String>, ScimError> {
            match v {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if s.chars().count() <= MAX_TEXT => Ok(Some(s.clone())),
                Some(Value::String(_)) => Err(ScimError::value(format!("{name} is longer than {MAX_TEXT} characters"))),
                Some(_) => Err(ScimError::value(format!("{name} must be a string"))),
            }
        };
        let username = text("userName", member(body, "userName"))?
            .ok_or_else(|| ScimError::value("userName is missing: every User needs one"))?;
        if Username::parse(&username).is_none() {
            return Err(ScimError::value(format!(
                "userName {username:?}: use 1–{MAX_USERNAME} of a-z 0-9 . _ - @ (lower case)"
            )));
        }
        let formatted = match member(body, "name") {
            None | Some(Value::Null) => None,
            Some(name @ Value::Object(_)) => text("name.formatted", member(name, "formatted"))?,
            Some(_) => return Err(ScimError::value("name must be an object")),
        };
        let display_name = text("displayName", member(body, "displayName"))?
            .or(formatted)
            .filter(|d| !d.trim().is_empty())
            .unwrap_or_else(|| username.clone());
        let active = match member(body, "active") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            // Some HR systems send "False" as a string (Azure AD did); accepting it loses nothing.
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => false,
            Some(_) => return Err(ScimError::value("active must be true or false")),
        };
        let external_id = text("externalId", member(body, "externalId"))?;
        let password = text("password", member(body, "password"))?;
        let (hc_role, wanted_facility) = match member(body, STAFF_SCHEMA) {
            None | Some(Value::Null) => (None, None),
            Some(staff @ Value::Object(_)) => {
                let role = match text("hcRole", member(staff, "hcRole"))? {
                    None => None,
                    Some(code) => Some(HcRole::from_code(&code).ok_or_else(|| {
                        ScimError::value(format!(
                            "hcRole {code:?} is not a policy hcRole code (e.g. 00 for a physician)"
                        ))
                    })?),
                };
                (role, text("facility", member(staff, "facility"))?)
            }
            Some(_) => return Err(ScimError::value(format!("{STAFF_SCHEMA} must be an object"))),
        };
        if let Some(f) = wanted_facility
            && f != facility.as_str()
        {
            return Err(ScimError::mutability(format!(
                "facility {f:?}: this client provisions facility {facility} only; leave facility out"
            )));
        }
        Ok(Self { username, display_name, active, external_id, hc_role, password })
    }
}

/// The extension's attributes returned only when asked for (`returned: request`, RFC 7643 §7): the facility
/// (every User a client sees is of its own facility), the passkey count, the sign-in methods.
pub const ON_REQUEST: &[&str] = &["facility", "passkeys", "signIn"];

/// `resource` as a client gets it by default: without [`ON_REQUEST`]'s attributes unless `asked` names them
/// (as `urn:…:User:facility` or the bare name), and without the extension when nothing of it is left.
pub fn default_view(mut resource: Value, asked: &[super::path::AttrPath]) -> Value {
    let wanted = |name: &str| {
        asked.iter().any(|p| {
            p.attr.eq_ignore_ascii_case(name)
                && p.schema.as_deref().is_none_or(|s| s.eq_ignore_ascii_case(STAFF_SCHEMA))
        })
    };
    let Some(map) = resource.as_object_mut() else { return resource };
    let empty = match map.get_mut(STAFF_SCHEMA).and_then(Value::as_object_mut) {
        Some(staff) => {
            staff.retain(|k, _| !ON_REQUEST.iter().any(|a| a.eq_ignore_ascii_case(k)) || wanted(k));
            staff.is_empty()
        }
        None => true,
    };
    if empty {
        map.remove(STAFF_SCHEMA);
        map.insert("schemas".into(), json!([USER_SCHEMA]));
    }
    resource
}

/// Refuse a PUT or PATCH result that changes what a client may not change on `current`: the user name, and
/// re-enabling a disabled account (disabling is for good, D158).
pub fn check_change(current: &ScimAccount, wanted: &UserInput) -> Result<(), ScimError> {
    if wanted.username != current.user.username {
        return Err(ScimError::mutability(format!(
            "userName is immutable ({:?}): create a new User for a new name",
            current.user.username
        )));
    }
    if wanted.active && current.user.disabled_at.is_some() {
        return Err(ScimError::mutability(
            "a de-provisioned (inactive) account stays disabled: create a new User with a new userName",
        ));
    }
    Ok(())
}

/// Refuse a PATCH operation whose path names an attribute the client may not change.
pub fn check_patch_path(path: &super::path::AttrPath) -> Result<(), ScimError> {
    let in_staff = path.schema.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(STAFF_SCHEMA));
    let fixed = if in_staff { FIXED_STAFF } else { FIXED };
    if fixed.iter().any(|a| path.attr.eq_ignore_ascii_case(a)) {
        return Err(ScimError::mutability(format!("{path} cannot be changed")));
    }
    Ok(())
}
