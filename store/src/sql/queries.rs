//! The SQL, written once for both backends.
//!
//! `$n` placeholders (SQLite accepts them), `RETURNING` (both have it), and
//! only BIGINT/TEXT/BLOB values. Column lists match the tuple types in
//! [`super::rows`] position by position.

use crate::facility::phone;
use std::sync::LazyLock;

/// Column list of a facility row ([`super::rows::FacilityRow`]).
macro_rules! facility_columns {
    () => {
        "id, name, kind, medical_code, address, contact, state, state_reason, state_changed_by, \
         state_changed_at, created_at"
    };
}

/// Column list of a certificate row ([`super::rows::CertificateRow`]).
macro_rules! certificate_columns {
    () => {
        "serial, ca, profile, facility_id, subject, sans, not_before, not_after, status, tbs_sha256, \
         spki_sha256, der, created_at, issued_at, generation"
    };
}

/// Column list of an enrollment credential row ([`super::rows::CredentialRow`]).
macro_rules! credential_columns {
    () => {
        "id, facility_id, protocol, profiles, salt, secret_hash, created_by, created_at, expires_at, used_at, \
         used_by, revoked_at"
    };
}

/// Column list of an audit row ([`super::rows::AuditRow`]).
macro_rules! audit_columns {
    () => {
        "seq, at_ms, actor, action, target, outcome, detail, prev_hash, hash"
    };
}

// ---- audit chain ----

/// First statement of every writing transaction: takes the head's row lock
/// (PostgreSQL) or the database write lock (SQLite) before anything is read,
/// and yields the new entry's seq and its predecessor's hash.
pub(super) const LOCK_HEAD: &str = "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash";

/// Last statement of every writing transaction: the head after the entries it appended.
pub(super) const SET_HEAD: &str = "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1";

pub(super) const READ_HEAD: &str = "SELECT seq, hash FROM audit_head WHERE id = 1";

pub(super) const PING: &str = "SELECT 1";

pub(super) const INSERT_AUDIT: &str =
    concat!("INSERT INTO audit_log (", audit_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)");

pub(super) const AUDIT_AFTER: &str =
    concat!("SELECT ", audit_columns!(), " FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2");

// ---- facilities ----

pub(super) const NEXT_FACILITY_NUMBER: &str =
    "UPDATE counters SET value = value + 1 WHERE name = 'facility' RETURNING value";

pub(super) const FACILITY_ID_BY_CODE: &str = "SELECT id FROM facilities WHERE medical_code = $1";

pub(super) const INSERT_FACILITY: &str = concat!(
    "INSERT INTO facilities (number, ",
    facility_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
);

pub(super) const FACILITY_BY_ID: &str = concat!("SELECT ", facility_columns!(), " FROM facilities WHERE id = $1");

/// Most IDs bound in one `facilities_by_ids` query (SQLite allows 32 766 parameters; PostgreSQL 65 535).
pub(super) const MAX_IDS_PER_QUERY: usize = 1000;

/// `FACILITY_BY_ID` for `n` IDs (`$1`…`$n`): one round trip for a whole issuance batch. Only the
/// placeholder count varies, never caller text, so building it at run time is safe.
pub(super) fn facilities_by_ids(n: usize) -> String {
    format!(concat!("SELECT ", facility_columns!(), " FROM facilities WHERE id IN ({})"), placeholders(n))
}

/// `$1, $2, …, $n`: the placeholders of an `IN (…)` list.
pub(super) fn placeholders(n: usize) -> String {
    (1..=n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

pub(super) const SET_FACILITY_STATE: &str =
    "UPDATE facilities SET state = $1, state_reason = $2, state_changed_by = $3, state_changed_at = $4 WHERE id = $5";

/// `$3` is a `LIKE` pattern over the ASCII-lowercased name, `\` escaping
/// (see [`super::rows::contains_pattern`]); `$4` pages by number.
/// Facilities by state, kind, name and telephone number ($4: `%<digits>%` of a [`phone::PhoneDigits`]), in ID order.
pub(super) static LIST_FACILITIES: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM facilities WHERE ($1 IS NULL OR state = $1) AND ($2 IS NULL OR kind = $2) \
         AND ($3 IS NULL OR LOWER(name) LIKE $3 ESCAPE '\\') AND ($4 IS NULL OR {} LIKE $4) \
         AND number > $5 \
         AND ($7 IS NULL OR (medical_code IS NOT NULL AND ',' || $7 || ',' LIKE '%,' || SUBSTR(medical_code, 1, 2) || ',%')) \
         AND ($8 IS NULL OR id IN (SELECT facility_id FROM ra_facilities WHERE ra = $8)) \
         ORDER BY number LIMIT $6",
        facility_columns!(),
        contact_folded()
    )
});

/// The contact folded in SQL as [`phone::PhoneDigits::parse`] folds a search (the same tables, so the two cannot drift),
/// with the country code replaced wherever it stands: no column to keep in step, and contacts written before the
/// search existed are found as well.
fn contact_folded() -> String {
    let mut e = "contact".to_owned();
    for c in phone::SEPARATORS {
        e = format!("REPLACE({e}, '{c}', '')");
    }
    for (wide, ascii) in phone::FULL_WIDTH {
        e = format!("REPLACE({e}, '{wide}', '{ascii}')");
    }
    for cc in phone::COUNTRY_CODE {
        e = format!("REPLACE({e}, '{cc}', '0')");
    }
    e
}

// ---- authorities ----

pub(super) const AUTHORITY_EXISTS: &str = "SELECT name FROM authorities WHERE name = $1";

pub(super) const INSERT_AUTHORITY: &str =
    "INSERT INTO authorities (name, key_uri, cert_der, parent, created_at) VALUES ($1, $2, $3, $4, $5)";

pub(super) const LIST_AUTHORITIES: &str =
    "SELECT name, key_uri, cert_der, parent, created_at FROM authorities ORDER BY created_at, name";

// ---- certificates ----

pub(super) const INSERT_INTENT: &str = "INSERT INTO certificates (serial, ca, profile, facility_id, subject, sans, \
     not_before, not_after, status, tbs_sha256, spki_sha256, requested_by, created_at, crl_shard, replaces, \
     generation) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'reserved', $9, $10, $11, $12, $13, $14, $15)";

/// The issued successor of a certificate (D38).
pub(super) const SUCCESSOR: &str = concat!(
    "SELECT ",
    certificate_columns!(),
    " FROM certificates WHERE replaces = $1 AND status IN ('issued', 'revoked') ORDER BY created_at DESC, serial LIMIT 1"
);

pub(super) const CERTIFICATE_BY_SERIAL: &str =
    concat!("SELECT ", certificate_columns!(), " FROM certificates WHERE serial = $1");

pub(super) const MARK_ISSUED: &str = "UPDATE certificates SET status = 'issued', der = $1, issued_at = $2 \
     WHERE serial = $3 AND status = 'reserved'";

pub(super) const MARK_FAILED: &str =
    "UPDATE certificates SET status = 'failed' WHERE serial = $1 AND status = 'reserved'";

/// Newest first; serial breaks ties within a second so the order is stable.
pub(super) const ISSUED_COUNTS: &str =
    "SELECT profile, COUNT(*) FROM certificates WHERE status = 'issued' GROUP BY profile ORDER BY profile";

/// Issued certificates whose notAfter is in `[$1, $2)`, per profile (expiry monitoring; served by the index
/// `certificates_status_not_after`).
pub(super) const EXPIRING_COUNTS: &str = "SELECT profile, COUNT(*) FROM certificates \
     WHERE status = 'issued' AND not_after >= $1 AND not_after < $2 GROUP BY profile ORDER BY profile";

/// Audit retention (migration 0012).
pub(super) const AUDIT_ANCHOR: &str = "SELECT seq, hash FROM audit_anchor WHERE id = 1";
pub(super) const AUDIT_FORWARDED: &str = "SELECT acked_seq FROM audit_forwarding WHERE destination = $1";
/// Forward only: a replica that acknowledged less than the row holds leaves it.
pub(super) const AUDIT_SET_FORWARDED: &str = "INSERT INTO audit_forwarding (destination, acked_seq, acked_at) \
     VALUES ($1, $2, $3) ON CONFLICT (destination) DO UPDATE SET acked_seq = excluded.acked_seq, \
     acked_at = excluded.acked_at WHERE audit_forwarding.acked_seq < excluded.acked_seq";
pub(super) const AUDIT_HASH_AT: &str = "SELECT hash FROM audit_log WHERE seq = $1";
pub(super) const AUDIT_DELETE_RANGE: &str = "DELETE FROM audit_log WHERE seq > $1 AND seq <= $2";
pub(super) const AUDIT_SET_ANCHOR: &str = "INSERT INTO audit_anchor (id, seq, hash) VALUES (1, $1, $2) \
     ON CONFLICT (id) DO UPDATE SET seq = $1, hash = $2";

/// Expiry webhook: issued certificates of profile `$1` expiring in `[$2, $3)` with no successor (a later-expiring
/// issued certificate of the same facility, profile, subject and SANs: the same device renewed; routers of one
/// facility share a subject and differ in their SANs) and no notice yet, soonest first, at most `$4`.
pub(super) const EXPIRING_UNCLAIMED: &str = "SELECT c.serial, c.profile, c.facility_id, c.subject, c.not_after \
     FROM certificates c WHERE c.status = 'issued' AND c.profile = $1 AND c.not_after >= $2 AND c.not_after < $3 \
     AND NOT EXISTS (SELECT 1 FROM certificates s WHERE s.facility_id = c.facility_id AND s.profile = c.profile \
     AND s.subject = c.subject AND s.sans = c.sans AND s.status = 'issued' AND s.not_after > c.not_after) \
     AND NOT EXISTS (SELECT 1 FROM expiry_notices n WHERE n.serial = c.serial) \
     ORDER BY c.not_after, c.serial LIMIT $4";
/// `$1` serial, `$2` notAfter, `$3` now; a row back only for the caller that inserted it.
pub(super) const CLAIM_EXPIRY_NOTICE: &str = "INSERT INTO expiry_notices (serial, not_after, notified_at) \
     VALUES ($1, $2, $3) ON CONFLICT (serial) DO NOTHING RETURNING serial";
pub(super) const RELEASE_EXPIRY_NOTICE: &str = "DELETE FROM expiry_notices WHERE serial = $1";
pub(super) const FORGET_EXPIRY_NOTICES: &str = "DELETE FROM expiry_notices WHERE not_after < $1";

/// Revoked certificates of one CA that have not expired at `$2` (an expired certificate leaves the CRL,
/// RFC 5280 §3.3), by serial.
/// `$3` NULL: the whole CA; else only certificates recorded in CRL shard `$3`. `$4` NULL: every generation of the
/// CA (OCSP); else only the certificates its generation `$4` issued (that generation's CRL, D151).
/// Driven from the certificates marked revoked (`status = 'revoked'` exactly when a revocation row exists: both
/// are written, and a released hold undone, in one transaction by `revoke_in` and `apply_to_certificates`), so the
/// planner reads the `status` index's revoked range and one revocation row per certificate of this CA. Two
/// earlier shapes and what the national benchmark found: a join without the status filter started from every
/// certificate of the CA (5.2 s for the PC CRL at 100k facilities); `EXISTS` from the revocations read every
/// CA's revocations with a certificate lookup each (the router CA's 30,970 of 181,889 at 600k: 1.0 s warm, 169×
/// the raw build). This shape: 0.45 s for the router CA, 0.86 s for the PC CA's 150,919 (was 1.6 s), warm.
pub(super) const REVOKED_OF_CA: &str = "SELECT c.serial, r.revoked_at, r.reason FROM certificates c \
     JOIN certificate_revocations r ON r.serial = c.serial WHERE c.status = 'revoked' AND c.ca = $1 \
     AND c.not_after >= $2 AND ($3 IS NULL OR c.crl_shard = $3) AND ($4 IS NULL OR c.generation = $4) \
     ORDER BY c.serial";

/// [`REVOKED_OF_CA`]'s size, latest revocation time and reason sum (a hold made permanent changes only the
/// reason), over the same rows in the same way.
pub(super) const REVOCATION_MARKER: &str = "SELECT COUNT(*), COALESCE(MAX(r.revoked_at), 0), \
     CAST(COALESCE(SUM(r.reason), 0) AS BIGINT) FROM certificates c JOIN certificate_revocations r \
     ON r.serial = c.serial WHERE c.status = 'revoked' AND c.ca = $1 AND c.not_after >= $2 \
     AND ($3 IS NULL OR c.crl_shard = $3) AND ($4 IS NULL OR c.generation = $4)";

/// [`REVOCATION_MARKER`] over every CA, expired certificates included: one pass over the revocations, no
/// join, so a server can poll it every second at national size and run the per-CA marker only when it moved.
pub(super) const REVOCATIONS_MARKER: &str = "SELECT COUNT(*), COALESCE(MAX(revoked_at), 0), \
     CAST(COALESCE(SUM(reason), 0) AS BIGINT) FROM certificate_revocations";

/// Whether any certificate of CA `$1` was recorded in CRL shard `$2`.
pub(super) const CRL_SHARD_IN_USE: &str =
    "SELECT COUNT(*) FROM (SELECT 1 FROM certificates WHERE ca = $1 AND crl_shard = $2 LIMIT 1) s";

/// One certificate's revocation, whether or not it expired.
pub(super) const REVOCATION_OF: &str = "SELECT revoked_at, reason FROM certificate_revocations WHERE serial = $1";

/// A page of a CA generation's live certificates, walking the primary key.
pub(super) const LIVE_SERIALS_OF_CA: &str = "SELECT serial FROM certificates WHERE ca = $1 AND status = 'issued' \
     AND not_after >= $2 AND serial > $3 AND generation = $5 ORDER BY serial LIMIT $4";

/// A facility's unexpired issued certificates (suspending holds them, retiring revokes them).
pub(super) const LIVE_OF_FACILITY: &str =
    "SELECT serial FROM certificates WHERE facility_id = $1 AND status = 'issued' AND not_after >= $2 ORDER BY serial";

/// A facility's certificates on hold (certificateHold = 6).
pub(super) const HELD_OF_FACILITY: &str = "SELECT c.serial FROM certificates c JOIN certificate_revocations r \
     ON r.serial = c.serial WHERE c.facility_id = $1 AND c.status = 'revoked' AND r.reason = 6 ORDER BY c.serial";

pub(super) const MARK_UNREVOKED: &str =
    "UPDATE certificates SET status = 'issued' WHERE serial = $1 AND status = 'revoked'";

pub(super) const DELETE_HOLD: &str = "DELETE FROM certificate_revocations WHERE serial = $1 AND reason = 6";

/// A hold made permanent when the facility is retired.
pub(super) const HOLD_TO_CESSATION: &str =
    "UPDATE certificate_revocations SET reason = 5, revoked_by = $2 WHERE serial = $1 AND reason = 6";

/// The next CRL number of a CRL (`crl:<name>` counter, created at 1).
pub(super) const NEXT_CRL_NUMBER: &str = "INSERT INTO counters (name, value) VALUES ($1, 1) \
     ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value";

/// Certificates whose SANs (the JSON array of display strings) include `$1` exactly, quoted (`"IP:192.0.2.7"`):
/// the caller binds a canonical address it formatted itself, which holds no LIKE wildcard. Oldest first.
pub(super) const CERTIFICATES_NAMING: &str =
    concat!("SELECT ", certificate_columns!(), " FROM certificates WHERE sans LIKE $1 ORDER BY created_at, serial");

pub(super) const LIST_CERTIFICATES: &str = concat!(
    "SELECT ",
    certificate_columns!(),
    " FROM certificates",
    " WHERE ($1 IS NULL OR facility_id = $1)",
    " AND ($2 IS NULL OR profile = $2)",
    " AND ($3 IS NULL OR status = $3)",
    " AND ($4 IS NULL OR (not_after >= $4 AND not_after < $5))",
    " ORDER BY created_at DESC, serial DESC LIMIT $6"
);

// ---- enrollment credentials ----

pub(super) const INSERT_CREDENTIAL: &str = concat!(
    "INSERT INTO enrollment_credentials (",
    credential_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
);

pub(super) const CREDENTIAL_BY_ID: &str =
    concat!("SELECT ", credential_columns!(), " FROM enrollment_credentials WHERE id = $1");

pub(super) const LIST_CREDENTIALS: &str = concat!(
    "SELECT ",
    credential_columns!(),
    " FROM enrollment_credentials WHERE ($1 IS NULL OR facility_id = $1) ORDER BY created_at DESC, id LIMIT $2"
);

/// The single-use guarantee: the row changes only while unused, unrevoked and unexpired (`$1` = now).
pub(super) const REDEEM_CREDENTIAL: &str = "UPDATE enrollment_credentials SET used_at = $1, used_by = $2 \
     WHERE id = $3 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $1";

pub(super) const RELEASE_CREDENTIAL: &str = "UPDATE enrollment_credentials SET used_at = NULL, used_by = NULL \
     WHERE id = $1 AND used_at IS NOT NULL";

pub(super) const REVOKE_CREDENTIAL: &str =
    "UPDATE enrollment_credentials SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL";

// ---- ACME (decision D17) ----

/// Column list of an ACME account row ([`super::rows::AcmeAccountRow`]).
macro_rules! acme_account_columns {
    () => {
        "id, thumbprint, jwk, facility_id, profile, credential_id, status, contact, created_at"
    };
}

pub(super) const INSERT_ACME_NONCE: &str = "INSERT INTO acme_nonces (nonce, expires_at) VALUES ($1, $2)";

pub(super) const SWEEP_ACME_NONCES: &str = "DELETE FROM acme_nonces WHERE expires_at <= $1";

/// Single use: exactly one request deletes a given nonce.
pub(super) const TAKE_ACME_NONCE: &str = "DELETE FROM acme_nonces WHERE nonce = $1 AND expires_at > $2";

pub(super) const INSERT_ACME_ACCOUNT: &str =
    concat!("INSERT INTO acme_accounts (", acme_account_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)");

pub(super) const ACME_ACCOUNT_BY_ID: &str =
    concat!("SELECT ", acme_account_columns!(), " FROM acme_accounts WHERE id = $1");

pub(super) const ACME_ACCOUNT_BY_THUMBPRINT: &str =
    concat!("SELECT ", acme_account_columns!(), " FROM acme_accounts WHERE thumbprint = $1");

pub(super) const UPDATE_ACME_ACCOUNT: &str =
    "UPDATE acme_accounts SET thumbprint = $1, jwk = $2, status = $3, contact = $4 WHERE id = $5";

pub(super) const INSERT_ACME_ORDER: &str = "INSERT INTO acme_orders (id, account_id, status, version, expires_at, \
     certificate_serial, body, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

pub(super) const ACME_ORDER_BODY: &str = "SELECT body FROM acme_orders WHERE id = $1";

/// The account of the order a certificate came from (index `acme_orders_certificate`, migration 0018).
pub(super) const ACME_CERTIFICATE_ACCOUNT: &str = "SELECT account_id FROM acme_orders WHERE certificate_serial = $1";

/// Conditional on the version read (`$6`): the optimistic lock between replicas.
pub(super) const UPDATE_ACME_ORDER: &str = "UPDATE acme_orders SET status = $1, version = $2, \
     certificate_serial = $3, body = $4 WHERE id = $5 AND version = $6";

// ---- revocation (minimal, for ACME revokeCert; CRL/OCSP is issue #5) ----

/// Revoke an issued certificate and answer its row: no row when the serial is unknown or not `issued`. One round
/// trip where a read and an update were two (a revocation's critical section holds the audit lock).
pub(super) const MARK_REVOKED: &str = concat!(
    "UPDATE certificates SET status = 'revoked' WHERE serial = $1 AND status = 'issued' RETURNING ",
    certificate_columns!()
);

pub(super) const INSERT_REVOCATION: &str =
    "INSERT INTO certificate_revocations (serial, reason, revoked_at, revoked_by) VALUES ($1, $2, $3, $4)";

// ---- SCEP requests held for an operator ----

/// Column list of a held SCEP request row ([`super::rows::HeldRow`]).
macro_rules! held_columns {
    () => {
        "id, transaction_id, profile, facility_id, csr, state, serial, reason, created_at, decided_at, decided_by"
    };
}

pub(super) const INSERT_HELD: &str =
    concat!("INSERT INTO scep_requests (", held_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)");

pub(super) const HELD_BY_ID: &str = concat!("SELECT ", held_columns!(), " FROM scep_requests WHERE id = $1");

pub(super) const HELD_BY_TRANSACTION: &str =
    concat!("SELECT ", held_columns!(), " FROM scep_requests WHERE profile = $1 AND transaction_id = $2");

pub(super) const LIST_HELD: &str = concat!(
    "SELECT ",
    held_columns!(),
    " FROM scep_requests WHERE ($1 IS NULL OR state = $1) ORDER BY created_at DESC, id LIMIT $2"
);

/// A decision is taken once: the row changes only while pending.
pub(super) const DECIDE_HELD: &str = "UPDATE scep_requests SET state = $1, serial = $2, reason = $3, decided_at = $4, \
     decided_by = $5 WHERE id = $6 AND state = 'pending'";

// ---- operators ----

/// Column list of an operator row ([`super::rows::OperatorRow`]).
macro_rules! operator_columns {
    () => {
        "name, role, created_by, created_at, disabled_at, disabled_by"
    };
}

pub(super) const INSERT_OPERATOR: &str =
    concat!("INSERT INTO operators (", operator_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6)");

pub(super) const SET_OPERATOR_ROLE: &str = "UPDATE operators SET role = $1 WHERE name = $2";

pub(super) const OPERATOR_BY_NAME: &str = concat!("SELECT ", operator_columns!(), " FROM operators WHERE name = $1");

pub(super) const LIST_OPERATORS: &str = concat!("SELECT ", operator_columns!(), " FROM operators ORDER BY name");

pub(super) const DISABLE_OPERATOR: &str =
    "UPDATE operators SET disabled_at = $1, disabled_by = $2 WHERE name = $3 AND disabled_at IS NULL";

/// Card-login challenges (server `login::challenge`): stored when a login page asks for one.
pub(super) const INSERT_LOGIN_CHALLENGE: &str =
    "INSERT INTO login_challenges (challenge, binding, origin, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5)";
/// Expired challenges nobody took.
pub(super) const SWEEP_LOGIN_CHALLENGES: &str = "DELETE FROM login_challenges WHERE expires_at <= $1";
/// Single use: exactly one request deletes (and so receives) a given challenge, expired or not, so the caller
/// can tell "expired" from "unknown or used".
pub(super) const TAKE_LOGIN_CHALLENGE: &str =
    "DELETE FROM login_challenges WHERE challenge = $1 RETURNING challenge, binding, origin, issued_at, expires_at";
