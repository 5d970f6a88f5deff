//! sqlx errors → [`StoreError`], the same way on both backends.

use crate::{Backend, StoreError};
use sqlx::error::ErrorKind;

/// SQLite primary result codes that mean "try again later" rather than "this is wrong".
const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;
const SQLITE_READONLY: i64 = 8;
const SQLITE_FULL: i64 = 13;
const SQLITE_IOERR: i64 = 10;
const SQLITE_CANTOPEN: i64 = 14;

/// The generic mapping: connection-level and resource trouble is
/// [`StoreError::Unavailable`] (the caller may retry), everything else
/// [`StoreError::Database`]. Constraint violations that mean something to the
/// caller (duplicate serial, 医療機関コード, CA) are recognised by the methods
/// themselves before this is called.
pub(super) fn map(backend: Backend, e: sqlx::Error) -> StoreError {
    if let Some(what_to_do) = storage_trouble(backend, &e) {
        StoreError::Unavailable(format!("{e}: {what_to_do}"))
    } else if is_unavailable(backend, &e) {
        StoreError::Unavailable(e.to_string())
    } else {
        StoreError::Database(e.to_string())
    }
}

/// A migration failure.
pub(super) fn migrate(e: sqlx::migrate::MigrateError) -> StoreError {
    use sqlx::migrate::MigrateError;
    match e {
        MigrateError::Dirty(version) => StoreError::Schema(crate::schema::SchemaRefusal::Unfinished(version)),
        MigrateError::VersionMismatch(version) => StoreError::Migrate(format!(
            "migration {version:04} applied to the database differs from the one this hcpki carries (a migration \
             file was edited after it was applied; released migrations are never edited, migrations/README.md): \
             run a released hcpki, or restore the backup taken before this binary first ran"
        )),
        other => StoreError::Migrate(other.to_string()),
    }
}

/// A failure to open or connect. A full, failing or read-only disk keeps its own advice: "check the URL" would
/// send the operator the wrong way.
pub(super) fn connect(backend: Backend, e: sqlx::Error) -> StoreError {
    if storage_trouble(backend, &e).is_some() {
        return map(backend, e);
    }
    match map(backend, e) {
        StoreError::Unavailable(m) | StoreError::Database(m) => StoreError::Connect(m),
        other => other,
    }
}

/// A UNIQUE or PRIMARY KEY violation.
pub(super) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.kind() == ErrorKind::UniqueViolation)
}

/// A FOREIGN KEY violation.
pub(super) fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.kind() == ErrorKind::ForeignKeyViolation)
}

/// What the operator must do when the database's storage, not the request, is the problem.
fn storage_trouble(backend: Backend, e: &sqlx::Error) -> Option<&'static str> {
    let sqlx::Error::Database(d) = e else { return None };
    let code = d.code()?;
    const FULL: &str = "the disk holding the database is full or failing: free space (or check the disk), then retry";
    const READ_ONLY: &str =
        "the database is read-only (file permissions, a read-only mount, mode=ro, or a standby): make it writable";
    match backend {
        Backend::Sqlite => match code.parse::<i64>().ok()? & 0xff {
            SQLITE_FULL | SQLITE_IOERR => Some(FULL),
            SQLITE_READONLY => Some(READ_ONLY),
            SQLITE_CANTOPEN => Some(
                "the database file cannot be opened: check that it and its directory exist and are writable \
                 (SQLite in WAL mode creates -wal and -shm files beside it, also to read)",
            ),
            _ => None,
        },
        Backend::Postgres => match code.as_ref() {
            "53100" | "58030" => Some(FULL),
            "25006" => Some(READ_ONLY),
            _ => None,
        },
    }
}

fn is_unavailable(backend: Backend, e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Protocol(message) => closed_before_ssl_answer(message),
        sqlx::Error::Database(d) => {
            let Some(code) = d.code() else { return false };
            match backend {
                Backend::Postgres => postgres_unavailable(&code),
                Backend::Sqlite => code.parse::<i64>().is_ok_and(sqlite_unavailable),
            }
        }
        _ => false,
    }
}

/// sqlx 0.9.0 reports a peer that accepts the TCP connection and closes it before answering the SSLRequest as
/// the protocol error "unexpected response from SSLRequest: 0x00" (the unread buffer's byte, not one the server
/// sent): transact-rs/sqlx#4395, fixed upstream by #4406 as an I/O error. That is what a TCP proxy in front of
/// PostgreSQL does while no server behind it is up (HAProxy during a fail-over, `scripts/fault --scenario
/// failover`), so it is a lost connection, not a fault of the request. Drop this once sqlx reports it as I/O.
fn closed_before_ssl_answer(message: &str) -> bool {
    message.starts_with("unexpected response from SSLRequest: 0x00 ")
}

/// SQLSTATE classes 08 (connection exception), 57 (operator intervention:
/// shutdown, cancel), 53 (insufficient resources: disk full, too many
/// connections), 25006 (read-only transaction: a standby) and 55P03 (`lock_timeout` ran out, D142: a lock
/// held by a silent client or a stuck writer; the request is retried later, as for a lost connection).
fn postgres_unavailable(sqlstate: &str) -> bool {
    sqlstate.starts_with("08")
        || sqlstate.starts_with("57")
        || sqlstate.starts_with("53")
        || sqlstate == "25006"
        || sqlstate == "55P03"
}

/// sqlx reports SQLite's extended result code; the primary code is its low byte.
fn sqlite_unavailable(extended: i64) -> bool {
    matches!(extended & 0xff, SQLITE_BUSY | SQLITE_LOCKED | SQLITE_READONLY | SQLITE_FULL | SQLITE_IOERR)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_codes() {
        assert!(postgres_unavailable("08006") && postgres_unavailable("57P01") && postgres_unavailable("53100"));
        assert!(postgres_unavailable("55P03"), "lock_timeout");
        assert!(!postgres_unavailable("23505") && !postgres_unavailable("42P01"));
        // SQLITE_BUSY_SNAPSHOT = 5 | 2 << 8, SQLITE_READONLY_DBMOVED = 8 | 4 << 8.
        assert!(sqlite_unavailable(5) && sqlite_unavailable(517) && sqlite_unavailable(1032) && sqlite_unavailable(13));
        assert!(!sqlite_unavailable(2067) && !sqlite_unavailable(1));
        assert!(matches!(map(Backend::Postgres, sqlx::Error::PoolTimedOut), StoreError::Unavailable(_)));
        assert!(matches!(map(Backend::Sqlite, sqlx::Error::RowNotFound), StoreError::Database(_)));
        // A connection closed at the SSLRequest (sqlx 0.9.0's wording, with its source location) is a lost
        // connection; a real unexpected byte stays a database error.
        let closed = "unexpected response from SSLRequest: 0x00 (sqlx_postgres::connection::tls:95)";
        assert!(matches!(map(Backend::Postgres, sqlx::Error::Protocol(closed.into())), StoreError::Unavailable(_)));
        let other = "unexpected response from SSLRequest: 0x45 (sqlx_postgres::connection::tls:95)";
        assert!(matches!(map(Backend::Postgres, sqlx::Error::Protocol(other.into())), StoreError::Database(_)));
    }
}
