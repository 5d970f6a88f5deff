//! Resource versions (RFC 7644 §3.14): `meta.version` is a weak ETag computed from the resource's own
//! attributes, so every replica gives the same version without storing one, and `If-Match` on PUT, PATCH and
//! DELETE refuses a change made against an older copy.

use super::error::ScimError;
use serde_json::Value;
use sha2::Digest as _;

/// Insert `meta` into `body`, with the version of `body` as it is (without `meta`).
pub fn stamp(body: &mut Value, mut meta: Value) {
    let version = of(body);
    if let Some(meta) = meta.as_object_mut() {
        meta.insert("version".into(), Value::from(version));
    }
    if let Some(body) = body.as_object_mut() {
        body.insert("meta".into(), meta);
    }
}

/// The version of a resource: `W/"` and 16 bytes of SHA-256 over its attributes but `meta`.
pub fn of(body: &Value) -> String {
    let mut hashed = body.clone();
    if let Some(map) = hashed.as_object_mut() {
        map.remove("meta");
    }
    let digest = sha2::Sha256::digest(hashed.to_string().as_bytes());
    format!("W/\"{}\"", hex::encode(digest.get(..16).unwrap_or_default()))
}

/// The version `meta.version` of a stamped resource.
pub fn current(body: &Value) -> Option<&str> {
    body.get("meta")?.get("version")?.as_str()
}

/// Check an `If-Match` header (absent: the client takes the risk, RFC 7644 §3.14) against `resource`; a 412
/// telling the client to read the resource again when no listed version is its version.
pub fn check_if_match(if_match: Option<&str>, resource: &Value) -> Result<(), ScimError> {
    let Some(wanted) = if_match.map(str::trim).filter(|w| !w.is_empty()) else { return Ok(()) };
    if wanted == "*" {
        return Ok(());
    }
    let have = current(resource).unwrap_or_default();
    // A strong form of the same tag ("abc" for W/"abc") names the same version: some clients drop the W/.
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    if wanted.split(',').any(|t| bare(t) == bare(have)) {
        return Ok(());
    }
    Err(ScimError::precondition(format!(
        "If-Match {wanted} is not the resource's version {have}: read it again (GET) and repeat the change"
    )))
}
