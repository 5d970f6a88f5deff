//! Rows as sqlx decodes them (plain tuples, so one definition serves both
//! backends) and their conversion to the crate's types, plus the audit chain
//! cursor a transaction appends through.

use crate::audit::{self, AuditEntry, AuditEvent};
use crate::facility::{Facility, FacilityId, FacilityKind, FacilityState, MedicalInstitutionCode};
use crate::operator::{OperatorName, OperatorRecord, OperatorRole};
use crate::records::{AcmeAccount, AcmeOrder, CredentialRecord, HeldRequest, HeldState, Protocol};
use crate::{AuthorityRecord, CertStatus, CertificateRecord, ExpiringCertificate, StoreError};
use hcpki_model::{AcmeAccountId, CaName, CertProfile, SerialHex, UnixTime};

/// How many rows a listing returns when the filter does not say.
pub(super) const DEFAULT_LIMIT: i64 = 1000;

/// [`super::queries`]' `facility_columns!`.
pub(super) type FacilityRow = (
    String,         // id
    String,         // name
    String,         // kind
    Option<String>, // medical_code
    Option<String>, // address
    Option<String>, // contact
    String,         // state
    Option<String>, // state_reason
    String,         // state_changed_by
    i64,            // state_changed_at
    i64,            // created_at
);

/// [`super::queries`]' `certificate_columns!`.
pub(super) type CertificateRow = (
    String,          // serial
    String,          // ca
    String,          // profile
    Option<String>,  // facility_id
    String,          // subject
    String,          // sans (JSON)
    i64,             // not_before
    i64,             // not_after
    String,          // status
    String,          // tbs_sha256
    String,          // spki_sha256
    Option<Vec<u8>>, // der
    i64,             // created_at
    Option<i64>,     // issued_at
    i64,             // generation
);

/// [`super::queries`]' `credential_columns!`.
pub(super) type CredentialRow = (
    String,         // id
    String,         // facility_id
    String,         // protocol
    String,         // profiles
    String,         // salt
    String,         // secret_hash
    String,         // created_by
    i64,            // created_at
    i64,            // expires_at
    Option<i64>,    // used_at
    Option<String>, // used_by
    Option<i64>,    // revoked_at
);

/// [`super::queries`]' `audit_columns!`.
pub(super) type AuditRow = (i64, i64, String, String, String, String, String, String, String);

/// name, key_uri, cert_der, parent, created_at.
pub(super) type AuthorityRow = (String, String, Vec<u8>, Option<String>, i64);

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

/// A `ca` column's text: exactly one CA's stored form, or a message naming the value.
pub(super) fn stored_ca(text: &str) -> Result<CaName, String> {
    CaName::from_stored(text).ok_or_else(|| format!("unknown value {text:?}"))
}

/// A certificate's `profile` column: exactly one stored form (`router`, `scep-ra`, `ca-root`, …), or a
/// message naming the value.
pub(super) fn stored_profile(text: &str) -> Result<CertProfile, String> {
    CertProfile::from_stored(text).ok_or_else(|| format!("unknown value {text:?}"))
}

/// A `serial` column's text (of a `table` row): exactly a stored serial, or [`StoreError::Corrupt`] naming the
/// row, the column and the value. The serial is the row's key, so the row is named by its table alone.
pub(super) fn stored_serial(table: &str, text: String) -> Result<SerialHex, StoreError> {
    SerialHex::from_stored(&text).map_err(|_| corrupt(&format!("{table} serial"), format!("unknown value {text:?}")))
}

pub(super) fn facility(row: FacilityRow) -> Result<Facility, StoreError> {
    let (id, name, kind, medical_code, address, contact, state, state_reason, state_changed_by, changed_at, created_at) =
        row;
    Ok(Facility {
        id: FacilityId::parse(&id).map_err(|e| corrupt("facility id", e))?,
        kind: kind.parse::<FacilityKind>().map_err(|e| corrupt(&format!("facility {id} kind"), e))?,
        medical_code: medical_code
            .as_deref()
            .map(MedicalInstitutionCode::parse)
            .transpose()
            .map_err(|e| corrupt(&format!("facility {id} 医療機関コード"), e))?,
        state: state.parse::<FacilityState>().map_err(|e| corrupt(&format!("facility {id} state"), e))?,
        name,
        address,
        contact,
        state_reason,
        state_changed_by,
        state_changed_at: changed_at,
        created_at,
    })
}

pub(super) fn certificate(row: CertificateRow) -> Result<CertificateRecord, StoreError> {
    let (
        serial,
        ca,
        profile,
        facility_id,
        subject,
        sans,
        not_before,
        not_after,
        status,
        tbs_sha256,
        spki_sha256,
        der,
        created_at,
        issued_at,
        generation,
    ) = row;
    let generation = u32::try_from(generation).map_err(|e| corrupt(&format!("certificate {serial} generation"), e))?;
    Ok(CertificateRecord {
        facility: facility_id
            .as_deref()
            .map(FacilityId::parse)
            .transpose()
            .map_err(|e| corrupt(&format!("certificate {serial} facility"), e))?,
        sans: serde_json::from_str(&sans).map_err(|e| corrupt(&format!("certificate {serial} SANs"), e))?,
        status: CertStatus::parse(&status)
            .ok_or_else(|| corrupt(&format!("certificate {serial} status"), format!("unknown value {status:?}")))?,
        ca: stored_ca(&ca).map_err(|e| corrupt(&format!("certificate {serial} ca"), e))?,
        profile: stored_profile(&profile).map_err(|e| corrupt(&format!("certificate {serial} profile"), e))?,
        serial: stored_serial("certificate", serial)?,
        subject,
        not_before,
        not_after,
        tbs_sha256,
        spki_sha256,
        der,
        created_at,
        issued_at,
        generation,
    })
}

/// Certificate counts per `profile` column (metrics), each profile parsed as a certificate row's is.
pub(super) fn profile_counts(counts: Vec<(String, i64)>) -> Result<Vec<(CertProfile, i64)>, StoreError> {
    counts
        .into_iter()
        .map(|(profile, n)| {
            let profile = stored_profile(&profile).map_err(|e| corrupt("certificate counts profile", e))?;
            Ok((profile, n))
        })
        .collect()
}

/// [`super::queries::EXPIRING_UNCLAIMED`]'s columns: serial, profile, facility_id, subject, not_after.
pub(super) type ExpiringRow = (String, String, Option<String>, String, i64);

pub(super) fn expiring(row: ExpiringRow) -> Result<ExpiringCertificate, StoreError> {
    let (serial, profile, facility_id, subject, not_after) = row;
    Ok(ExpiringCertificate {
        profile: stored_profile(&profile).map_err(|e| corrupt(&format!("certificate {serial} profile"), e))?,
        serial: stored_serial("certificate", serial)?,
        facility_id,
        subject,
        not_after,
    })
}

pub(super) fn audit_entry(row: AuditRow) -> AuditEntry {
    let (seq, at_ms, actor, action, target, outcome, detail, prev_hash, hash) = row;
    AuditEntry { seq, at_ms, actor, action, target, outcome, detail, prev_hash, hash }
}

pub(super) fn authority(row: AuthorityRow) -> Result<AuthorityRecord, StoreError> {
    let (name, key_uri, cert_der, parent, created_at) = row;
    Ok(AuthorityRecord {
        parent: parent
            .as_deref()
            .map(stored_ca)
            .transpose()
            .map_err(|e| corrupt(&format!("authority {name} parent"), e))?,
        name: stored_ca(&name).map_err(|e| corrupt("authority name", e))?,
        key_uri,
        cert_der,
        created_at,
    })
}

/// SANs as stored (a JSON array of strings).
pub(super) fn sans_json(sans: &[String]) -> Result<String, StoreError> {
    serde_json::to_string(sans).map_err(|e| StoreError::Database(format!("cannot encode SANs: {e}")))
}

/// A `LIKE … ESCAPE '\'` pattern matching names that contain `needle`,
/// ASCII case-insensitively on both backends (the SQL lowercases the name;
/// SQLite's `LOWER` only folds ASCII, so the needle is folded the same way).
pub(super) fn contains_pattern(needle: &str) -> String {
    let mut p = String::with_capacity(needle.len() + 2);
    p.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c.to_ascii_lowercase());
    }
    p.push('%');
    p
}

/// A listing limit: the default when absent, never negative (SQLite reads a
/// negative LIMIT as "no limit", PostgreSQL refuses it).
pub(super) fn limit(requested: Option<i64>) -> i64 {
    requested.unwrap_or(DEFAULT_LIMIT).max(0)
}

/// Where a writing transaction appends audit entries: starts at the seq and
/// predecessor hash the head lock returned, advances one per entry, and is
/// written back to `audit_head` before commit.
#[derive(Debug)]
pub(super) struct Chain {
    next_seq: i64,
    prev_hash: String,
    /// The time of every entry of this transaction: the caller's, passed in, so the store reads no clock and a
    /// test can fix it.
    at: UnixTime,
}

impl Chain {
    /// From the head lock's `RETURNING seq, hash` (seq already advanced by one), entries timed `at`.
    pub(super) fn locked(next_seq: i64, prev_hash: String, at: UnixTime) -> Self {
        Self { next_seq, prev_hash, at }
    }

    /// The transaction's time in Unix seconds, for the rows it writes beside its audit entries.
    pub(super) fn now(&self) -> i64 {
        self.at.as_secs()
    }

    /// The transaction's time.
    pub(super) fn at(&self) -> UnixTime {
        self.at
    }

    /// The next entry for `event`, hashed onto the chain; the cursor advances.
    pub(super) fn next(&mut self, event: &AuditEvent) -> AuditEntry {
        // Audit entries record milliseconds (the `at_ms` column).
        let at_ms = self.at.as_millis();
        // The request's client, when a request is being served (issue #50 item 5).
        let detail = crate::origin::stamped(&event.detail).to_string();
        let outcome = event.outcome.as_str();
        let hash = audit::chain_hash(
            &self.prev_hash,
            self.next_seq,
            at_ms,
            &event.actor,
            &event.action,
            &event.target,
            outcome,
            &detail,
        );
        let entry = AuditEntry {
            seq: self.next_seq,
            at_ms,
            actor: event.actor.clone(),
            action: event.action.clone(),
            target: event.target.clone(),
            outcome: outcome.to_owned(),
            detail,
            prev_hash: std::mem::replace(&mut self.prev_hash, hash.clone()),
            hash,
        };
        self.next_seq += 1;
        entry
    }

    /// The head after the entries appended: (seq, hash).
    pub(super) fn head(&self) -> (i64, &str) {
        (self.next_seq - 1, &self.prev_hash)
    }
}

pub(super) fn credential(row: CredentialRow) -> Result<CredentialRecord, StoreError> {
    let (
        id,
        facility,
        protocol,
        profiles,
        salt,
        secret_hash,
        created_by,
        created_at,
        expires_at,
        used_at,
        used_by,
        revoked_at,
    ) = row;
    Ok(CredentialRecord {
        facility: FacilityId::parse(&facility).map_err(|e| corrupt(&format!("credential {id} facility"), e))?,
        protocol: Protocol::parse(&protocol)
            .ok_or_else(|| corrupt(&format!("credential {id} protocol"), format!("unknown value {protocol:?}")))?,
        profiles: CredentialRecord::parse_profiles(&profiles)
            .map_err(|e| corrupt(&format!("credential {id} profiles"), e))?,
        id,
        salt,
        secret_hash,
        created_by,
        created_at,
        expires_at,
        used_at,
        used_by,
        revoked_at,
    })
}

/// [`super::queries`]' `acme_account_columns!`.
pub(super) type AcmeAccountRow = (String, String, String, String, String, String, String, String, i64);

pub(super) fn acme_account(row: AcmeAccountRow) -> Result<AcmeAccount, StoreError> {
    let (id, thumbprint, jwk, facility, profile, credential, status, contact, created_at) = row;
    Ok(AcmeAccount {
        facility: FacilityId::parse(&facility).map_err(|e| corrupt(&format!("ACME account {id} facility"), e))?,
        profile: profile.parse().map_err(|e| corrupt(&format!("ACME account {id} profile"), e))?,
        contact: serde_json::from_str(&contact).map_err(|e| corrupt(&format!("ACME account {id} contact"), e))?,
        id: acme_account_id(&id)?,
        thumbprint,
        jwk,
        credential,
        status,
        created_at,
    })
}

/// An `acme_accounts.id` / `acme_orders.account_id` column.
pub(super) fn acme_account_id(id: &str) -> Result<AcmeAccountId, StoreError> {
    AcmeAccountId::parse(id).map_err(|e| corrupt("ACME account ID", e))
}

pub(super) fn acme_order(body: &str) -> Result<AcmeOrder, StoreError> {
    serde_json::from_str(body).map_err(|e| corrupt("ACME order", e))
}

pub(super) fn json_text(value: &impl serde::Serialize) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Database(format!("cannot encode JSON: {e}")))
}

/// [`super::queries`]' `held_columns!`.
pub(super) type HeldRow = (
    String,         // id
    String,         // transaction_id
    String,         // profile
    String,         // facility_id
    Vec<u8>,        // csr
    String,         // state
    Option<String>, // serial
    Option<String>, // reason
    i64,            // created_at
    Option<i64>,    // decided_at
    Option<String>, // decided_by
);

/// The serial and reason columns of a held request's state.
pub(super) fn held_outcome(state: &HeldState) -> (Option<&str>, Option<&str>) {
    match state {
        HeldState::Pending => (None, None),
        HeldState::Issued(serial) => (Some(serial.as_str()), None),
        HeldState::Rejected(reason) => (None, Some(reason.as_str())),
    }
}

pub(super) fn held(row: HeldRow) -> Result<HeldRequest, StoreError> {
    let (id, transaction_id, profile, facility, csr, state, serial, reason, created_at, decided_at, decided_by) = row;
    let state = match (state.as_str(), serial, reason) {
        ("pending", _, _) => HeldState::Pending,
        ("issued", Some(serial), _) => HeldState::Issued(serial),
        ("rejected", _, reason) => HeldState::Rejected(reason.unwrap_or_default()),
        (other, _, _) => return Err(corrupt(&format!("SCEP request {id} state"), other)),
    };
    Ok(HeldRequest {
        profile: profile.parse().map_err(|e| corrupt(&format!("SCEP request {id} profile"), e))?,
        facility: FacilityId::parse(&facility).map_err(|e| corrupt(&format!("SCEP request {id} facility"), e))?,
        id,
        transaction_id,
        csr,
        state,
        created_at,
        decided_at,
        decided_by,
    })
}

/// [`super::queries`]' `operator_columns!`.
pub(super) type OperatorRow = (String, String, String, i64, Option<i64>, Option<String>);

pub(super) fn operator(row: OperatorRow) -> Result<OperatorRecord, StoreError> {
    let (name, role, created_by, created_at, disabled_at, disabled_by) = row;
    Ok(OperatorRecord {
        role: role.parse::<OperatorRole>().map_err(|e| corrupt(&format!("operator {name} role"), e))?,
        name: OperatorName::parse(&name).map_err(|e| corrupt("operator name", e))?,
        created_by,
        created_at,
        disabled_at,
        disabled_by,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_pattern_escapes_wildcards() {
        assert_eq!(contains_pattern("Tokyo 100%_\\"), "%tokyo 100\\%\\_\\\\%");
        assert_eq!(contains_pattern("東京"), "%東京%");
    }

    #[test]
    fn chain_cursor_links_entries() {
        let mut c = Chain::locked(1, audit::GENESIS_HASH.to_owned(), UnixTime::from_millis(1_700_000_000_123));
        let ev = |n: &str| AuditEvent {
            actor: "system".into(),
            action: "test".into(),
            target: n.into(),
            outcome: audit::Outcome::Ok,
            detail: serde_json::json!({}),
        };
        let a = c.next(&ev("a"));
        let b = c.next(&ev("b"));
        let head = crate::audit::AuditHead { seq: c.head().0, hash: c.head().1.to_owned() };
        assert_eq!((a.at_ms, b.at_ms), (1_700_000_000_123, 1_700_000_000_123), "the time passed in");
        assert_eq!(audit::verify_chain(&[a, b], &head).map(|h| h.seq), Ok(2));
    }
}
