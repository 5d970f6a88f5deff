//! SQL, row conversion and audit event of imported CRLs (migration 0017, issue #9): the offline root's ARL,
//! signed at a ceremony and served by `hcpki serve` from here.

use crate::audit::{AuditEvent, Outcome};
use crate::{Actor, ImportedCrl, StoreError};
use serde_json::json;

macro_rules! imported_crl_columns {
    () => {
        "ca, crl_number, der, this_update, next_update, entries, sha256, imported_at, imported_by"
    };
}

pub(super) const INSERT: &str =
    concat!("INSERT INTO imported_crls (", imported_crl_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)");
/// The highest number stored for a CA, read inside the importing transaction (after the audit head lock, so
/// concurrent imports see each other).
pub(super) const HIGHEST_NUMBER: &str = "SELECT MAX(crl_number) FROM imported_crls WHERE ca = $1";
pub(super) const NEWEST: &str =
    concat!("SELECT ", imported_crl_columns!(), " FROM imported_crls WHERE ca = $1 ORDER BY crl_number DESC LIMIT 1");

/// [`imported_crl_columns!`].
pub(super) type Row = (String, i64, Vec<u8>, i64, i64, i64, String, i64, String);

pub(super) fn imported(row: Row) -> Result<ImportedCrl, StoreError> {
    let (ca, number, der, this_update, next_update, entries, sha256, imported_at, imported_by) = row;
    let ca = super::rows::stored_ca(&ca).map_err(|e| StoreError::Corrupt(format!("imported CRL {number} ca: {e}")))?;
    Ok(ImportedCrl { ca, number, der, this_update, next_update, entries, sha256, imported_at, imported_by })
}

/// `crl.import`, ok: what was stored, never the list itself (the row has it).
pub(super) fn event(crl: &ImportedCrl, actor: &Actor) -> AuditEvent {
    AuditEvent {
        actor: actor.as_str().to_owned(),
        action: "crl.import".into(),
        target: crl.ca.to_string(),
        outcome: Outcome::Ok,
        detail: json!({
            "crl_number": crl.number,
            "this_update": crl.this_update,
            "next_update": crl.next_update,
            "entries": crl.entries,
            "sha256": crl.sha256,
        }),
    }
}
