//! SQL and row conversion of console grants (migration 0015, D42).

use crate::console_grant::{ConsoleGrant, ConsoleRole};
use crate::store::StoreError;

macro_rules! grant_columns {
    () => {
        "person_key, role, facility_id, note, granted_at, granted_by"
    };
}

pub(super) const PUT: &str = concat!(
    "INSERT INTO console_grants (",
    grant_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (person_key) DO UPDATE SET role = $2, facility_id = $3, \
     note = $4, granted_at = $5, granted_by = $6"
);
pub(super) const BY_PERSON: &str = concat!("SELECT ", grant_columns!(), " FROM console_grants WHERE person_key = $1");
pub(super) const LIST: &str = concat!("SELECT ", grant_columns!(), " FROM console_grants ORDER BY person_key");
pub(super) const REMOVE: &str =
    concat!("DELETE FROM console_grants WHERE person_key = $1 RETURNING ", grant_columns!());

/// [`grant_columns!`].
pub(super) type Row = (String, String, Option<String>, String, i64, String);

pub(super) fn grant(row: Row) -> Result<ConsoleGrant, StoreError> {
    let (person_key, role, facility, note, granted_at, granted_by) = row;
    let role = ConsoleRole::parse(&role, facility.as_deref())
        .map_err(|e| StoreError::Corrupt(format!("console grant of {person_key}: {e}")))?;
    Ok(ConsoleGrant { person_key, role, note, granted_at, granted_by })
}

/// The audit detail of a grant change.
pub(super) fn detail(grant: &ConsoleGrant) -> serde_json::Value {
    serde_json::json!({ "role": grant.role.name(), "facility": grant.role.facility().map(|f| f.as_str()),
        "note": grant.note })
}
