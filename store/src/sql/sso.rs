//! SQL and row conversions of the SSO portal and OpenID Connect tables (migration 0008, D24).

use crate::audit::{AuditEvent, Outcome};
use crate::sso::LendRecord;
use crate::{
    Actor, GrantOp, GrantRecord, OidcClientRecord, OnceRecord, PortalUser, ServiceRecord, SessionRecord, TokenWrite,
};
use serde_json::json;
use std::collections::{HashMap, HashSet};

macro_rules! user_columns {
    () => {
        "username, display_name, hc_role, password_hash, totp_secret, last_totp_step, created_by, created_at, \
         disabled_at"
    };
}
macro_rules! session_insert_columns {
    () => {
        "id_hash, person_key, card_id, data, auth_time, created_at, expires_at, ended_at, facility_id, end_reason, \
         presence_hash, presence_until, facility_serial"
    };
}
/// The inserted columns and the lend's (migration 0025, D91), which a new session never has.
macro_rules! session_columns {
    () => {
        concat!(session_insert_columns!(), ", lent_until, lent_for, lent_card_out")
    };
}
macro_rules! client_columns {
    () => {
        "id, data, created_by, created_at"
    };
}
macro_rules! grant_columns {
    () => {
        "id, client_id, session_hash, data, code_hash, refresh_hash, state, created_at, expires_at"
    };
}

pub(super) const INSERT_USER: &str =
    concat!("INSERT INTO portal_users (", user_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)");
pub(super) const USER_BY_NAME: &str = concat!("SELECT ", user_columns!(), " FROM portal_users WHERE username = $1");
pub(super) const LIST_USERS: &str = concat!("SELECT ", user_columns!(), " FROM portal_users ORDER BY username");
pub(super) const DISABLE_USER: &str =
    "UPDATE portal_users SET disabled_at = $1 WHERE username = $2 AND disabled_at IS NULL";
pub(super) const USE_TOTP_STEP: &str =
    "UPDATE portal_users SET last_totp_step = $1 WHERE username = $2 AND last_totp_step < $1";
/// The help desk's reset of an account's second factor (D161): a new secret nobody confirmed yet.
pub(super) const RESET_TOTP: &str =
    "UPDATE portal_users SET totp_secret = $1, last_totp_step = $2 WHERE username = $3 AND disabled_at IS NULL";
/// An account's first confirmed second factor (D161): only while none was ever confirmed.
pub(super) const ENROL_TOTP: &str = "UPDATE portal_users SET totp_secret = $1, last_totp_step = $2 \
     WHERE username = $3 AND last_totp_step = 0 AND $2 > 0 AND disabled_at IS NULL";

/// A new session is seen in use at its creation (`seen_at` = `created_at`, D175): a row without `seen_at` was
/// made by a release before 0050 and is left to the idle lock of its next request.
pub(super) const INSERT_SESSION: &str = concat!(
    "INSERT INTO portal_sessions (",
    session_insert_columns!(),
    ", seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $6)"
);
pub(super) const LIVE_SESSION: &str = concat!(
    "SELECT ",
    session_columns!(),
    " FROM portal_sessions WHERE id_hash = $1 AND ended_at IS NULL AND expires_at > $2 \
     AND (presence_until IS NULL OR presence_until > $2 OR lent_until IS NOT NULL)"
);
/// A session's row whatever its state (`$1` the id hash): how a session the browser still names ended.
pub(super) const ANY_SESSION: &str = concat!("SELECT ", session_columns!(), " FROM portal_sessions WHERE id_hash = $1");
/// One session ends (`$1` now, `$2` the id hash, `$3` why: the person's next visit may be told, D59).
pub(super) const END_SESSION: &str = concat!(
    "UPDATE portal_sessions SET ended_at = $1, notified_at = $1, end_reason = $3 WHERE id_hash = $2 \
     AND ended_at IS NULL AND expires_at > $1 RETURNING ",
    session_columns!()
);
pub(super) const END_CARD_SESSIONS: &str = concat!(
    "UPDATE portal_sessions SET ended_at = $1, notified_at = $1 WHERE card_id = $2 AND person_key = $3 \
     AND ended_at IS NULL AND expires_at > $1 AND (lent_until IS NULL OR lent_until <= $1) RETURNING ",
    session_columns!()
);

pub(super) const INSERT_CLIENT: &str =
    concat!("INSERT INTO oidc_clients (", client_columns!(), ") VALUES ($1, $2, $3, $4)");
pub(super) const CLIENT_BY_ID: &str = concat!("SELECT ", client_columns!(), " FROM oidc_clients WHERE id = $1");
pub(super) const LIST_CLIENTS: &str = concat!("SELECT ", client_columns!(), " FROM oidc_clients ORDER BY id");
pub(super) const DELETE_CLIENT: &str = "DELETE FROM oidc_clients WHERE id = $1";
/// `$1` the id, `$2` the registration the caller read, `$3` the new one.
pub(super) const UPDATE_CLIENT: &str = "UPDATE oidc_clients SET data = $3 WHERE id = $1 AND data = $2";
pub(super) const REVOKE_CLIENT_GRANTS: &str =
    "UPDATE oidc_grants SET state = 'revoked', code_hash = NULL, refresh_hash = NULL WHERE client_id = $1";

pub(super) const INSERT_GRANT: &str =
    concat!("INSERT INTO oidc_grants (", grant_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)");
pub(super) const GRANT_BY_ID: &str = concat!("SELECT ", grant_columns!(), " FROM oidc_grants WHERE id = $1");
pub(super) const REVOKE_GRANT: &str = concat!(
    "UPDATE oidc_grants SET state = 'revoked', code_hash = NULL, refresh_hash = NULL ",
    "WHERE id = $1 AND state <> 'revoked' RETURNING ",
    grant_columns!()
);
pub(super) const REVOKE_SESSION_GRANTS: &str = concat!(
    "UPDATE oidc_grants SET state = 'revoked', code_hash = NULL, refresh_hash = NULL ",
    "WHERE session_hash = $1 AND state <> 'revoked' RETURNING ",
    grant_columns!()
);

/// One statement (D28 addendum): a new key is inserted, an expired one taken over, a live one left alone (no
/// row changed: a replay). Other expired rows are the housekeeping sweep's (`SWEEP_ONCE_BATCH`). `$5` now.
pub(super) const INSERT_ONCE: &str = "INSERT INTO oidc_once (kind, key, value, expires_at) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at \
     WHERE oidc_once.expires_at <= $5";
pub(super) const TAKE_ONCE: &str =
    "DELETE FROM oidc_once WHERE kind = $1 AND key = $2 AND expires_at > $3 RETURNING value";

// The token endpoint's batches (D28 addendum): one statement per kind of write for the whole batch, since on
// SQLite every statement is a hand-off to the connection's thread and back. The statements are built for
// `padded(size)` rows (`$1`… numbered for both backends), so that at most nine texts recur (1, 2, 4 … 256 rows):
// each is prepared once per connection and kept (`persistent(true)`) instead of parsed on every batch (that
// parsing was ~3.5 % of the CPU of an exchange, issue #6). The rows beyond the batch are bound to NULL, which
// matches no id and which the insert filters out. They hold placeholders only, never a value, so they are safe
// to pass as dynamic SQL.

/// The rows a batch statement is built for: `n` rounded up to a power of two.
pub(super) fn padded(n: usize) -> usize {
    n.next_power_of_two()
}

/// `($1, $2), ($3, $4)`: `rows` tuples of `per_row` placeholders; the next free number is `rows * per_row + 1`.
fn value_rows(rows: usize, per_row: usize) -> String {
    (0..rows)
        .map(|r| {
            let row: Vec<String> = (1..=per_row).map(|c| format!("${}", r * per_row + c)).collect();
            format!("({})", row.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The grants with the given ids (binds: the ids, NULL for padding).
pub(super) fn grants_by_ids(n: usize) -> String {
    let list: Vec<String> = (1..=n).map(|i| format!("${i}")).collect();
    format!("SELECT {} FROM oidc_grants WHERE id IN ({})", grant_columns!(), list.join(", "))
}

/// [`INSERT_ONCE`] for `n` distinct keys (binds per row: kind, key, value, expires_at, all NULL for padding;
/// then now); returns the keys recorded (new or taking over an expired one): the others are replays. (SQLite
/// needs the WHERE of the SELECT anyway: without one, `ON` after the FROM would parse as a join's.)
pub(super) fn insert_onces(n: usize) -> String {
    format!(
        "INSERT INTO oidc_once (kind, key, value, expires_at) \
         SELECT column1, column2, column3, column4 FROM (VALUES {}) AS v WHERE column1 IS NOT NULL \
         ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at \
         WHERE oidc_once.expires_at <= ${} RETURNING kind, key",
        value_rows(n, 4),
        n * 4 + 1
    )
}

/// Redeem `n` distinct grants' codes once, before their deadline: each becomes `active` with its first refresh
/// token hash, and its new data when given (binds per row: id, code_hash, refresh_hash, expires_at, data or NULL
/// to keep it, all NULL for padding; then now).
pub(super) fn redeem_codes(n: usize) -> String {
    format!(
        "UPDATE oidc_grants SET state = 'active', code_hash = NULL, refresh_hash = r.column3, expires_at = r.column4, \
         data = COALESCE(r.column5, oidc_grants.data) \
         FROM (VALUES {}) AS r WHERE oidc_grants.id = r.column1 AND oidc_grants.state = 'code' \
         AND oidc_grants.code_hash = r.column2 AND oidc_grants.expires_at > ${} RETURNING {}",
        value_rows(n, 5),
        n * 5 + 1,
        grant_columns!()
    )
}

/// Record the refresh tokens `n` accepted rotations spent (binds per row: grant id, old hash, all NULL for padding;
/// then now), so that one presented again is known as a reuse (migration 0036, D152).
pub(super) fn insert_spent(n: usize) -> String {
    format!(
        "INSERT INTO oidc_refresh_spent (grant_id, hash, spent_at) \
         SELECT column1, column2, ${} FROM (VALUES {}) AS v WHERE column1 IS NOT NULL \
         ON CONFLICT (grant_id, hash) DO NOTHING",
        n * 2 + 1,
        value_rows(n, 2)
    )
}

/// Whether grant `$1` once had the refresh token whose hash is `$2` (a rotation spent it).
pub(super) const SPENT_REFRESH: &str = "SELECT grant_id FROM oidc_refresh_spent WHERE grant_id = $1 AND hash = $2";

/// Rotate `n` distinct active grants' refresh tokens (binds per row: id, old_hash, new_hash, all NULL for
/// padding; then now).
pub(super) fn rotate_refreshes(n: usize) -> String {
    format!(
        "UPDATE oidc_grants SET refresh_hash = r.column3 FROM (VALUES {}) AS r \
         WHERE oidc_grants.id = r.column1 AND oidc_grants.state = 'active' \
         AND oidc_grants.refresh_hash = r.column2 AND oidc_grants.expires_at > ${} RETURNING {}",
        value_rows(n, 3),
        n * 3 + 1,
        grant_columns!()
    )
}

/// How a batch of token writes is applied: which single-use values go into the one insert, and which ops into
/// the bulk updates (the first op on each grant) or after them, one at a time (later ops on the same grant,
/// which then find it used and revoke it, as they would have in order).
pub(super) struct TokenPlan<'a> {
    /// Distinct single-use values, first occurrence only.
    pub onces: Vec<&'a OnceRecord>,
    /// For each write, whether its assertion's and its proof's values are first occurrences (a later duplicate
    /// in the batch is a replay).
    first_once: Vec<[bool; 2]>,
}

impl<'a> TokenPlan<'a> {
    pub(super) fn new(writes: &'a [TokenWrite]) -> Self {
        let mut seen = HashSet::new();
        let mut onces = Vec::new();
        let first_once = writes
            .iter()
            .map(|w| {
                [&w.once, &w.dpop].map(|once| match once {
                    None => true,
                    Some(o) if seen.insert((o.kind.as_str(), o.key.as_str())) => {
                        onces.push(o);
                        true
                    }
                    Some(_) => false,
                })
            })
            .collect();
        Self { onces, first_once }
    }

    /// Whether write `i`'s assertion's and proof's values were recorded, given the keys the insert returned.
    pub(super) fn fresh(&self, i: usize, write: &TokenWrite, recorded: &HashSet<(String, String)>) -> [bool; 2] {
        let first = self.first_once.get(i).copied().unwrap_or([false; 2]);
        let recorded = |once: &Option<OnceRecord>, first: bool| match once {
            None => true,
            Some(o) => first && recorded.contains(&(o.kind.clone(), o.key.clone())),
        };
        [recorded(&write.once, first[0]), recorded(&write.dpop, first[1])]
    }
}

/// Ops to apply, split: the first op on each grant by kind (bulk), and the indexes of the rest (one at a time,
/// afterwards). `applied` are the indexes of the writes whose single-use value was fresh and that carry an op.
pub(super) struct OpSplit<'a> {
    pub redeem: Vec<(usize, &'a GrantOp)>,
    pub rotate: Vec<(usize, &'a GrantOp)>,
    pub later: Vec<(usize, &'a GrantOp)>,
}

impl<'a> OpSplit<'a> {
    pub(super) fn new(ops: impl Iterator<Item = (usize, &'a GrantOp)>) -> Self {
        let mut grants = HashSet::new();
        let mut split = Self { redeem: Vec::new(), rotate: Vec::new(), later: Vec::new() };
        for (i, op) in ops {
            let id = match op {
                GrantOp::Redeem { id, .. } | GrantOp::Rotate { id, .. } => id.as_str(),
            };
            if !grants.insert(id) {
                split.later.push((i, op));
            } else if matches!(op, GrantOp::Redeem { .. }) {
                split.redeem.push((i, op));
            } else {
                split.rotate.push((i, op));
            }
        }
        split
    }
}

/// The grants a bulk update returned, by id.
pub(super) fn by_id(rows: Vec<GrantRow>) -> HashMap<String, GrantRecord> {
    rows.into_iter().map(grant).map(|g| (g.id.clone(), g)).collect()
}

/// `user_columns!`.
pub(super) type UserRow = (String, String, Option<String>, String, String, i64, String, i64, Option<i64>);
/// `session_columns!`.
pub(super) type SessionRow = (
    String,
    String,
    Option<String>,
    String,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<i64>,
);
/// `client_columns!`.
pub(super) type ClientRow = (String, String, String, i64);
/// `grant_columns!`.
pub(super) type GrantRow = (String, String, String, String, Option<String>, Option<String>, String, i64, i64);

pub(super) fn user(r: UserRow) -> PortalUser {
    PortalUser {
        username: r.0,
        display_name: r.1,
        hc_role: r.2,
        password_hash: r.3,
        totp_secret: r.4,
        last_totp_step: r.5,
        created_by: r.6,
        created_at: r.7,
        disabled_at: r.8,
    }
}

pub(super) fn session(r: SessionRow) -> SessionRecord {
    SessionRecord {
        id_hash: r.0,
        person_key: r.1,
        card_id: r.2,
        data: r.3,
        auth_time: r.4,
        created_at: r.5,
        expires_at: r.6,
        ended_at: r.7,
        facility_id: r.8,
        end_reason: r.9,
        presence_hash: r.10,
        presence_until: r.11,
        facility_serial: r.12,
        lend: r.13.map(|until| LendRecord { until, lent_for: r.14.unwrap_or_default(), card_out_at: r.15 }),
    }
}

pub(super) fn client(r: ClientRow) -> OidcClientRecord {
    OidcClientRecord { id: r.0, data: r.1, created_by: r.2, created_at: r.3 }
}

pub(super) fn grant(r: GrantRow) -> GrantRecord {
    GrantRecord {
        id: r.0,
        client_id: r.1,
        session_hash: r.2,
        data: r.3,
        code_hash: r.4,
        refresh_hash: r.5,
        state: r.6,
        created_at: r.7,
        expires_at: r.8,
    }
}

// ---- Session lifecycle and services in the database (migration 0009, D26) ----

/// Sessions another process ends (account disabled, facility suspended or retired): `notified_at` stays
/// NULL until a server replica sends their back-channel logout. `$1` now, `$2` reason, `$3` the key.
pub(super) const END_PERSON_SESSIONS: &str = concat!(
    "UPDATE portal_sessions SET ended_at = $1, end_reason = $2 ",
    "WHERE person_key = $3 AND ended_at IS NULL AND expires_at > $1 RETURNING ",
    session_columns!()
);
/// The person's own "log out everywhere" (`$1` now, `$2` reason, `$3` the person): the server that ends them
/// notifies their clients at once, so they are marked notified.
pub(super) const END_OWN_SESSIONS: &str = concat!(
    "UPDATE portal_sessions SET ended_at = $1, notified_at = $1, end_reason = $2 ",
    "WHERE person_key = $3 AND ended_at IS NULL AND expires_at > $1 RETURNING ",
    session_columns!()
);
/// A person's live sessions, newest first (`$1` the person, `$2` now; the liveness test of `LIVE_SESSION`).
pub(super) const PERSON_SESSIONS: &str = concat!(
    "SELECT ",
    session_columns!(),
    " FROM portal_sessions WHERE person_key = $1 AND ended_at IS NULL AND expires_at > $2 \
     AND (presence_until IS NULL OR presence_until > $2 OR lent_until IS NOT NULL) ORDER BY created_at DESC, id_hash"
);
pub(super) const END_FACILITY_SESSIONS: &str = concat!(
    "UPDATE portal_sessions SET ended_at = $1, end_reason = $2 ",
    "WHERE facility_id = $3 AND ended_at IS NULL AND expires_at > $1 RETURNING ",
    session_columns!()
);
/// The live sessions started at the facility PC whose certificate was just revoked or held (`$1` now, `$2`
/// reason, `$3` the serial; notified later, issue #24 item 9).
pub(super) const END_PC_SESSIONS: &str = concat!(
    "UPDATE portal_sessions SET ended_at = $1, end_reason = $2 ",
    "WHERE facility_serial = $3 AND ended_at IS NULL AND expires_at > $1 RETURNING ",
    session_columns!()
);
/// Whether a facility accepts password + TOTP sign-ins for its admins' changes (issue #24 item 7).
pub(super) const ADMIN_PASSWORD_TOTP: &str =
    "SELECT COUNT(*) FROM facility_admin_password_logins WHERE facility_id = $1";
pub(super) const ALLOW_ADMIN_PASSWORD_TOTP: &str = "INSERT INTO facility_admin_password_logins (facility_id, set_by, \
     set_at) VALUES ($1, $2, $3) ON CONFLICT (facility_id) DO NOTHING";
pub(super) const DENY_ADMIN_PASSWORD_TOTP: &str = "DELETE FROM facility_admin_password_logins WHERE facility_id = $1";
/// The outer `notified_at IS NULL` is re-checked on a row another replica updated meanwhile (PostgreSQL
/// READ COMMITTED re-evaluates the target's conditions), so each session is claimed once.
pub(super) const CLAIM_ENDED_SESSIONS: &str = concat!(
    "UPDATE portal_sessions SET notified_at = $1 WHERE notified_at IS NULL AND ended_at IS NOT NULL AND id_hash IN ",
    "(SELECT id_hash FROM portal_sessions WHERE notified_at IS NULL AND ended_at IS NOT NULL LIMIT $2) RETURNING ",
    session_columns!()
);
/// Card presence: renew the lease of the live session with this token and card (`$1` until, `$2` token hash,
/// `$3` card, `$4` now); end the sessions whose lease lapsed (`$1` now, `$2` reason; notified later).
pub(super) const RENEW_PRESENCE: &str = concat!(
    "UPDATE portal_sessions SET presence_until = $1 WHERE presence_hash = $2 AND card_id = $3 ",
    "AND ended_at IS NULL AND expires_at > $4 AND (presence_until > $4 OR lent_until > $4) RETURNING ",
    session_columns!()
);
/// A lent session's lease is held until its lend ends (D91): the lend's own end decides.
pub(super) const END_LAPSED_SESSIONS: &str = concat!(
    "UPDATE portal_sessions SET ended_at = $1, end_reason = $2 WHERE presence_until <= $1 ",
    "AND lent_until IS NULL AND ended_at IS NULL AND expires_at > $1 RETURNING ",
    session_columns!()
);

/// The session limits' sweep (D175; `$1` now, `$2` the oldest deadline still announced, `$3` last use before
/// which a session is idle — `i64::MIN` when the idle lock is off —, `$4` how many at most): live sessions past
/// their absolute deadline end `expired`, unlent ones not seen in use since `$3` end `idle` (a row with no
/// `seen_at`, made by an older release, only at its next request); notified later, like the
/// other ends of the housekeeping. A deadline older than `$2` is left to the sweep that deletes it.
pub(super) const END_SPENT_SESSIONS: &str = concat!(
    "UPDATE portal_sessions SET ended_at = $1, end_reason = CASE WHEN expires_at <= $1 THEN 'expired' ELSE 'idle' END ",
    "WHERE ended_at IS NULL AND id_hash IN (SELECT id_hash FROM portal_sessions WHERE ended_at IS NULL ",
    "AND expires_at > $2 AND (expires_at <= $1 OR (lent_until IS NULL AND seen_at <= $3)) ",
    "LIMIT $4) RETURNING ",
    session_columns!()
);
/// A live session was seen in use (`$1` now, `$2` its id hash; D175).
pub(super) const SESSION_SEEN: &str = "UPDATE portal_sessions SET seen_at = $1 WHERE id_hash = $2 AND ended_at IS NULL";

// ---- Lending the reader (migration 0025, D91) ----

/// Lend a live card session that is not lent (`$1` until, `$2` what for, `$3` the id hash, `$4` now).
/// The audit entry of a session whose lend ran out (`session.lend.expired`): the system ended it.
pub(super) fn lend_expired_event(s: &SessionRecord) -> AuditEvent {
    let lend = s.lend.as_ref();
    AuditEvent {
        actor: "system".into(),
        action: "session.lend.expired".into(),
        target: s.person_key.clone(),
        outcome: Outcome::Ok,
        detail: json!({
            "reason": "lend-expired",
            "lent_for": lend.map(|l| l.lent_for.as_str()),
            "lent_until": lend.map(|l| l.until),
            "card_out": lend.is_some_and(|l| l.card_out_at.is_some()),
        }),
    }
}

pub(super) const LEND_SESSION: &str = concat!(
    "UPDATE portal_sessions SET lent_until = $1, lent_for = $2, lent_card_out = NULL WHERE id_hash = $3 ",
    "AND card_id IS NOT NULL AND lent_until IS NULL AND ended_at IS NULL AND expires_at > $4 ",
    "AND (presence_until IS NULL OR presence_until > $4) RETURNING ",
    session_columns!()
);
/// The login card was reported out during a running lend (`$1` now, `$2` the id hash).
pub(super) const LEND_CARD_OUT: &str = concat!(
    "UPDATE portal_sessions SET lent_card_out = $1 WHERE id_hash = $2 AND lent_until > $1 ",
    "AND ended_at IS NULL AND expires_at > $1 RETURNING ",
    session_columns!()
);
/// End a running lend (`$1` now, `$2` the id hash, `$3` the new presence lease: kept when NULL).
pub(super) const RETURN_LEND: &str = concat!(
    "UPDATE portal_sessions SET lent_until = NULL, lent_for = NULL, lent_card_out = NULL, ",
    "presence_until = COALESCE($3, presence_until) WHERE id_hash = $2 AND lent_until > $1 ",
    "AND ended_at IS NULL AND expires_at > $1 RETURNING ",
    session_columns!()
);
/// Lends that ran out end their sessions (`$1` now); notified later, as the lapsed leases.
pub(super) const END_LAPSED_LENDS: &str = concat!(
    "UPDATE portal_sessions SET ended_at = $1, end_reason = 'lend-expired' WHERE lent_until <= $1 ",
    "AND ended_at IS NULL AND expires_at > $1 RETURNING ",
    session_columns!()
);
/// The same for one session (`$2` the id hash): the next request of a browser whose lend ran out.
pub(super) const END_LAPSED_LEND: &str = concat!(
    "UPDATE portal_sessions SET ended_at = $1, notified_at = $1, end_reason = 'lend-expired' WHERE lent_until <= $1 ",
    "AND id_hash = $2 AND ended_at IS NULL AND expires_at > $1 RETURNING ",
    session_columns!()
);
pub(super) const SESSION_GRANTS: &str =
    concat!("SELECT ", grant_columns!(), " FROM oidc_grants WHERE session_hash = $1 ORDER BY created_at, id");

/// Password failures (D24, shared since migration 0010). `$3` the idle time after which counting starts afresh.
pub(super) const LOGIN_FAILURES: &str = "SELECT failures, last_at FROM portal_login_failures WHERE username = $1";
/// One password attempt, admitted and counted atomically (issue #24 item 8): the upsert's `WHERE` is the
/// throttle's verdict on the row as it stands when the statement locks it, so of N parallel attempts exactly
/// those the schedule allows are counted and returned; a refused one updates nothing and returns no row. `$2`
/// now, `$3` forget_after, `$4` free_failures, `$5` first_wait, `$6` max_wait: the wait after `failures`
/// attempts is `first_wait << (failures - free_failures)` capped at `max_wait` (the shift clamped to 0..20,
/// as `portal::throttle::wait_after` computes it).
pub(super) const LOGIN_ATTEMPT: &str = "INSERT INTO portal_login_failures (username, failures, last_at) \
     VALUES ($1, 1, $2) ON CONFLICT (username) DO UPDATE SET failures = CASE WHEN $2 - \
     portal_login_failures.last_at >= $3 THEN 1 ELSE portal_login_failures.failures + 1 END, last_at = $2 \
     WHERE portal_login_failures.failures < $4 OR $2 - portal_login_failures.last_at >= $3 \
     OR $2 - portal_login_failures.last_at >= (CASE \
       WHEN portal_login_failures.failures < $4 THEN 0 \
       WHEN portal_login_failures.failures - $4 >= 20 THEN $6 \
       WHEN ($5 << CAST(portal_login_failures.failures - $4 AS INTEGER)) >= $6 THEN $6 \
       ELSE ($5 << CAST(portal_login_failures.failures - $4 AS INTEGER)) END) \
     RETURNING failures";
pub(super) const LOGIN_SUCCEEDED: &str = "DELETE FROM portal_login_failures WHERE username = $1";

pub(super) const SESSION_LIFETIME: &str = "SELECT session_secs FROM portal_facility_sessions WHERE facility_id = $1";
pub(super) const SESSION_LIFETIMES: &str =
    "SELECT facility_id, session_secs, set_by, set_at FROM portal_facility_sessions ORDER BY facility_id";
pub(super) const SET_SESSION_LIFETIME: &str = "INSERT INTO portal_facility_sessions (facility_id, session_secs, \
     set_by, set_at) VALUES ($1, $2, $3, $4) ON CONFLICT (facility_id) DO UPDATE SET session_secs = $2, \
     set_by = $3, set_at = $4";
pub(super) const CLEAR_SESSION_LIFETIME: &str = "DELETE FROM portal_facility_sessions WHERE facility_id = $1";

/// Sweeps: `$1` the deadline (now, or now - grace), `$2` the batch size.
pub(super) const SWEEP_SESSIONS: &str = "DELETE FROM portal_sessions WHERE id_hash IN (SELECT id_hash FROM \
     portal_sessions WHERE expires_at <= $1 OR (ended_at <= $1 AND notified_at IS NOT NULL) LIMIT $2)";
pub(super) const SWEEP_GRANTS: &str =
    "DELETE FROM oidc_grants WHERE id IN (SELECT id FROM oidc_grants WHERE expires_at <= $1 LIMIT $2)";
pub(super) const SWEEP_ONCE_BATCH: &str = "DELETE FROM oidc_once WHERE (kind, key) IN (SELECT kind, key FROM \
     oidc_once WHERE expires_at <= $1 LIMIT $2)";
pub(super) const SWEEP_LOGIN_FAILURES: &str = "DELETE FROM portal_login_failures WHERE username IN (SELECT \
     username FROM portal_login_failures WHERE last_at <= $1 LIMIT $2)";
pub(super) const SWEEP_CHALLENGES: &str = "DELETE FROM login_challenges WHERE challenge IN (SELECT challenge FROM \
     login_challenges WHERE expires_at <= $1 LIMIT $2)";

pub(super) const LIST_SERVICES: &str =
    "SELECT id, position, definition, updated_by, updated_at FROM portal_services ORDER BY position, id";
pub(super) const SERVICES_HEAD: &str = "SELECT generation, seeded FROM portal_services_head WHERE id = 1";
pub(super) const BUMP_SERVICES: &str =
    "UPDATE portal_services_head SET generation = generation + 1, seeded = seeded + $1 WHERE id = 1";
pub(super) const SERVICE_EXISTS: &str = "SELECT COUNT(*) FROM portal_services WHERE id = $1";
pub(super) const NEXT_SERVICE_POSITION: &str = "SELECT COALESCE(MAX(position), 0) + 1 FROM portal_services";
pub(super) const UPSERT_SERVICE: &str = "INSERT INTO portal_services (id, position, definition, updated_by, \
     updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET definition = $3, updated_by = $4, \
     updated_at = $5";
pub(super) const DELETE_SERVICE: &str = "DELETE FROM portal_services WHERE id = $1";

/// `service_columns` of [`LIST_SERVICES`].
pub(super) type ServiceRow = (String, i64, String, String, i64);

pub(super) fn service(r: ServiceRow) -> ServiceRecord {
    ServiceRecord { id: r.0, position: r.1, definition: r.2, updated_by: r.3, updated_at: r.4 }
}

/// `portal.user.<verb>` / `oidc.client.<verb>`, with no secret in the detail.
pub(super) fn event(action: &str, target: &str, actor: &Actor, detail: serde_json::Value) -> AuditEvent {
    AuditEvent {
        actor: actor.as_str().to_owned(),
        action: action.to_owned(),
        target: target.to_owned(),
        outcome: Outcome::Ok,
        detail: if detail.is_null() { json!({}) } else { detail },
    }
}
