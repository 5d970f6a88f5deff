//! The SQLite and PostgreSQL stores.
//!
//! Both run the same SQL ([`queries`]) through the same per-area bodies (one file and one small macro per
//! area, [`writer`] for the plumbing they share), expanded once per backend; only opening a connection pool
//! and running the backend's migrations differ.
//!
//! Concurrency: every writing transaction starts with
//! `UPDATE audit_head SET seq = seq + 1 … RETURNING seq, hash`. On PostgreSQL
//! that takes the head row's lock, on SQLite the database write lock, before
//! anything is read; so writers from any number of processes or replicas queue
//! in one place, each reads current data, and audit sequence numbers are
//! handed out contiguously. A rolled-back transaction gives its number back.

mod acme;
mod allocations;
mod audit_log;
mod ca_rollovers;
mod consents;
mod console_grants;
mod delegations;
mod device_names;
mod enrollment;
mod errors;
mod events;
mod facilities;
mod facility_settings;
mod imported_crls;
mod issuance;
mod issuance_halts;
mod jobs;
mod maintenance;
mod oidc;
mod operators;
mod passkeys;
mod patient_presence;
mod person_keys;
mod portal_users;
mod queries;
mod rate_limits;
mod regional_networks;
mod registration_authorities;
mod revocation;
mod router_psks;
mod router_register;
mod rows;
mod schema_window;
mod scim;
mod security_officers;
mod services;
mod sessions;
mod signing_requests;
mod ssf;
mod sso;
#[cfg(test)]
mod tests;
mod vetting;
mod write_group;
mod writer;

use crate::audit::{AuditEntry, AuditEvent, AuditHead};
use crate::console_grant::ConsoleGrant;
use crate::facility::{Allocation, Facility, FacilityId, FacilityState, NewFacility, Transition};
use crate::operator::{OperatorName, OperatorRecord};
use crate::records::{AcmeAccount, AcmeOrder, BackupRecord, CredentialRecord, HeldRequest, HeldState};
use hcpki_model::{AcmeAccountId, AcmeOrderId, CaName, CertProfile, OidcClientId, ProfileKind, SerialHex, UnixTime};
use writer::WriteTx;
// The area traits from their own module, not `store::prelude`: the parent opens these backends, so a path back
// to it would be an import loop.
use crate::consent::{ConsentDocument, ConsentMove, ConsentRecord, ConsentState, DocumentKind, IdentityLinkRecord};
use crate::delegation::DelegationRecord;
use crate::facility::{DeviceName, NamedDevice, NamedSecurityOfficer, SecurityOfficer};
use crate::halt::{ApprovalOutcome, Approver, Decision, Halt, HaltReason, HaltRefusal};
use crate::ra::{Member, Placement, Ra, RaError, RaKind, RaName};
use crate::rollover::{RolloverRecord, RolloverRefusal, RolloverState, RolloverStep};
use crate::router::{RouterModelRecord, RouterRecord};
use crate::router_psk::RouterPskRecord;
use crate::signing_request::{SigningEnd, SigningRequestRecord};
use crate::traits::FacilitySigningLimit;
use crate::traits::PresenceRecord;
use crate::traits::RegistrationAuthorities;
use crate::traits::RouterPsks;
use crate::traits::RouterRegister;
use crate::traits::Vetting;
use crate::traits::{
    Acme, AuditLog, CaRollovers, Consents, ConsoleGrants, Delegations, DeviceNames, Enrollment, Facilities, Issuance,
    IssuanceHalts, Jobs, Maintenance, Oidc, Operators, PatientPresences, PortalUsers, RateLimits, Revocations,
    SecurityOfficers, Services, Sessions, SigningRequests,
};
use crate::traits::{FacilityPasskeyRule, PasskeyRecord, Passkeys};
use crate::traits::{NetworkRecord, RegionalNetworks};
use crate::traits::{ScimAccount, ScimAccountChange, ScimAccounts, ScimClientRecord};
use crate::traits::{SsfOutboxRecord, SsfPersonEvent, SsfStreamRecord, SsfStreams};
use crate::{
    Actor, AllocationRecord, AuthorityRecord, Backend, CertStatus, CertificateFilter, CertificateRecord, Completion,
    ExpiringCertificate, FacilityChange, FacilityFilter, ImportedCrl, IssuanceIntent, LoginChallengeRecord,
    Registration, Revocation, StoreError,
};
use crate::{
    GrantOp, GrantRecord, GrantUse, OidcClientRecord, PortalUser, ServiceRecord, SessionRecord, SweepCounts,
    TokenWrite, TokenWritten,
};
use crate::{ItemOutcome, JobItem, JobRecord, JobState, NewJob};
use crate::{RateCount, RateSync, RateTotals};
use hcpki_model::passkey_attestation::AttestationPolicy;
use hcpki_model::signing_limit::SigningSessionLimit;
use rows::Chain;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;
use writer::{Inserted, Writer};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// How long a SQLite writer waits for another one (in this or another process)
/// before giving up with [`StoreError::Unavailable`].
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// SQLite serializes writers anyway; a few connections serve concurrent readers.
const SQLITE_MAX_CONNECTIONS: u32 = 8;
/// Per replica; PostgreSQL's default server limit is 100.
const POSTGRES_MAX_CONNECTIONS: u32 = 10;
/// How long a request waits for a pooled connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a PostgreSQL connection handed back to the pool may take to answer a ping before it is closed
/// (D139). A connection whose request was cut short while the network to the database dropped packets would
/// otherwise wait in sqlx's release check until TCP gave up (about 15 minutes), keeping its place in the pool:
/// ten such and every request waited out [`ACQUIRE_TIMEOUT`] long after the network was back.
const POSTGRES_RELEASE_CHECK: Duration = Duration::from_secs(5);
/// Session settings of every PostgreSQL connection (D139), bounds the server enforces when this replica stops
/// answering: a transaction whose client went silent (a cut network, a killed replica) releases its row locks
/// (the audit head's among them, which every writer of every replica waits for) after a minute instead of when
/// TCP gives up, and the server drops a connection whose sent data goes unacknowledged for 20 s. No
/// `statement_timeout`: migrations run on these connections and may legitimately take longer.
const POSTGRES_SESSION: [(&str, &str); 2] =
    [("idle_in_transaction_session_timeout", "60s"), ("tcp_user_timeout", "20000")];
/// Bounds of the serving connections only, opened after the migrations (D142): a statement waiting 10 s for a
/// lock (the audit head's, held by a replica whose network was cut until PostgreSQL ends its transaction)
/// fails with 55P03, answered "unavailable, retry later", within the HTTP layer's 20 s deadline instead of
/// after `idle_in_transaction_session_timeout`. Not on the migrating connection: sqlx's migration lock is an
/// advisory lock a replica starting beside another one waits for as long as that one migrates. Still no
/// `statement_timeout`: a streamed export is one statement as long as the export.
const POSTGRES_SERVING: [(&str, &str); 1] = [("lock_timeout", "10s")];

/// The embedded store: one SQLite file in WAL mode, shared safely by several
/// processes on the same machine.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: sqlx::SqlitePool,
    /// SQLite has one writer at a time. Queueing this process's writers here
    /// (a fair, sleeping-free async queue) keeps them out of SQLite's busy
    /// handler, which polls with growing sleeps and gave 300 ms tails under load;
    /// writers in other processes still meet `busy_timeout`. The audited writes share one transaction per
    /// round of the queue on a connection of their own: group commit, one fsync for many (D159).
    group: write_group::GroupCommit,
    /// Connections for short-lived rows whose loss on power failure is harmless (card-login challenges, OIDC
    /// client-assertion jtis and PAR requests, D28): the
    /// same file with `synchronous = NORMAL`, so a commit does not wait for an fsync (it halved the take's p50
    /// in `hcpki bench login`, docs/benchmarks.md). WAL order is kept: a later FULL commit makes these durable.
    ephemeral: sqlx::SqlitePool,
}

/// The PostgreSQL store, for several server replicas on one database.
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: sqlx::PgPool,
}

impl SqliteStore {
    /// Open (creating the file if missing) `sqlite:PATH` or `sqlite://PATH`
    /// and bring the schema up to date.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Connect(format!("{url}: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL, not NORMAL: a CA must not lose the record of a certificate it has
            // handed out (or the write-ahead intent of one it is about to sign) on power
            // loss; NORMAL in WAL mode survives only an application crash.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(SQLITE_BUSY_TIMEOUT);
        // No ping before each acquire (sqlx's default): a SQLite connection is a file handle that cannot lose
        // its peer, and the ping is one more hand-off to the connection's thread per statement (D28 addendum).
        let pool = SqlitePoolOptions::new()
            .max_connections(SQLITE_MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .test_before_acquire(false)
            .after_release(|conn, _| Box::pin(out_of_transaction(conn)))
            .connect_with(options.clone())
            .await
            .map_err(|e| errors::connect(Backend::Sqlite, e))?;
        // sqlx takes no lock for SQLite migrations, so two processes opening a new
        // file at once can race; the loser's transaction rolls back, and running
        // again finds the migration applied.
        let file = options.get_filename().to_path_buf();
        let backup = |from: i64| copy_before_upgrade(&pool, &file, from);
        if let Err(first) = schema_window::migrate_within_window!(&pool, SQLITE_MIGRATIONS, backup).await {
            if matches!(first, StoreError::Schema(_)) {
                return Err(first);
            }
            tracing::debug!(error = %first, "SQLite migration failed once; retrying");
            schema_window::migrate_within_window!(&pool, SQLITE_MIGRATIONS, backup).await?;
        }
        // The write connection alone in a pool of its own (D159): never replaced under an open group transaction,
        // never checked on release (the group's transaction outlives each writer's hold), closed with the pools.
        let writing = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .max_lifetime(None)
            .idle_timeout(None)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await
            .map_err(|e| errors::connect(Backend::Sqlite, e))?;
        let ephemeral = SqlitePoolOptions::new()
            .max_connections(2)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .test_before_acquire(false)
            .after_release(|conn, _| Box::pin(out_of_transaction(conn)))
            .connect_with(options.synchronous(SqliteSynchronous::Normal))
            .await
            .map_err(|e| errors::connect(Backend::Sqlite, e))?;
        Ok(Self { pool, group: write_group::GroupCommit::new(writing), ephemeral })
    }
}

/// Before migrations change the schema of a SQLite database already in use, a copy of it as it was, beside the
/// file: `FILE.schema-NNNN.bak`, NNNN the newest migration it had. A copy from an earlier, interrupted attempt
/// at the same upgrade is kept (it is the older state); an in-memory database has nothing to keep.
async fn copy_before_upgrade(pool: &sqlx::SqlitePool, file: &std::path::Path, from: i64) -> Result<(), StoreError> {
    if file.as_os_str().is_empty() || file.as_os_str() == ":memory:" {
        return Ok(());
    }
    let mut name = file.as_os_str().to_owned();
    name.push(format!(".schema-{from:04}.bak"));
    let copy = std::path::PathBuf::from(name);
    if copy.exists() {
        tracing::info!(copy = %copy.display(), "a copy from before this upgrade exists already; keeping it");
        return Ok(());
    }
    vacuum_into(pool, &copy).await?;
    tracing::info!(copy = %copy.display(), "copied the database before migrating it (restore it to go back)");
    Ok(())
}

/// `VACUUM INTO` reads the database in one transaction, so the copy is consistent while writers go on
/// (they wait only for the WAL checkpoint, not for the copy).
async fn vacuum_into(pool: &sqlx::SqlitePool, path: &std::path::Path) -> Result<(), StoreError> {
    let shown = path.display().to_string();
    if path.exists() {
        return Err(StoreError::Snapshot { path: shown, reason: "the file exists already".into() });
    }
    let target = path
        .to_str()
        .ok_or_else(|| StoreError::Snapshot { path: shown.clone(), reason: "the path is not UTF-8".into() })?;
    sqlx::query("VACUUM INTO ?")
        .bind(target)
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(|e| StoreError::Snapshot { path: shown, reason: e.to_string() })
}

/// Whether a SQLite connection handed back to the pool may be used again: only out of any transaction. On a
/// full disk or an I/O error SQLite may roll a transaction back by itself; sqlx's own ROLLBACK then fails and
/// its count of open transactions stays at one, so the connection's next transaction would be a SAVEPOINT,
/// whose failure (ROLLBACK TO) leaves it open and holding the write lock: every writer of every process then
/// got "database is locked" until the server was restarted, long after the disk had space again
/// (`scripts/fault --scenario diskfull`). Such a connection is closed instead and the pool opens a fresh one.
async fn out_of_transaction(conn: &mut sqlx::SqliteConnection) -> Result<bool, sqlx::Error> {
    use sqlx::Connection as _;
    if !conn.is_in_transaction() {
        return Ok(true);
    }
    // A dropped transaction's ROLLBACK may still wait in the connection thread's queue: let it run first.
    conn.ping().await?;
    Ok(!conn.is_in_transaction())
}

impl PgStore {
    /// Connect to `postgres://…` / `postgresql://…` and bring the schema up to
    /// date (sqlx holds an advisory lock while migrating, so replicas may start together).
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| errors::connect(Backend::Postgres, e))?
            .options(POSTGRES_SESSION);
        let connect = |max: u32, options: PgConnectOptions| {
            PgPoolOptions::new()
                .max_connections(max)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .after_release(|conn, _| Box::pin(answers_in_time(conn)))
                .connect_with(options)
        };
        let migrating = connect(1, options.clone()).await.map_err(|e| errors::connect(Backend::Postgres, e))?;
        // PostgreSQL is backed up with its own tools before an upgrade (docs/operator-guide.md, "Upgrading").
        let no_copy = |_: i64| async { Ok::<(), StoreError>(()) };
        schema_window::migrate_within_window!(&migrating, POSTGRES_MIGRATIONS, no_copy).await?;
        migrating.close().await;
        let pool = connect(POSTGRES_MAX_CONNECTIONS, options.options(POSTGRES_SERVING))
            .await
            .map_err(|e| errors::connect(Backend::Postgres, e))?;
        Ok(Self { pool })
    }
}

/// Whether a PostgreSQL connection handed back to the pool answers within [`POSTGRES_RELEASE_CHECK`]; an
/// error makes sqlx drop it without the goodbye it could not deliver either, freeing its place in the pool.
async fn answers_in_time(conn: &mut sqlx::PgConnection) -> Result<bool, sqlx::Error> {
    use sqlx::Connection as _;
    match tokio::time::timeout(POSTGRES_RELEASE_CHECK, conn.ping()).await {
        Ok(answered) => answered.map(|()| true),
        Err(_) => Err(sqlx::Error::PoolTimedOut),
    }
}

impl SqliteStore {
    /// This process's turn to write on another connection than the group's (the ephemeral pool).
    async fn writer(&self) -> Option<write_group::Exclusive> {
        Some(self.group.exclusive().await)
    }

    /// An audited writing transaction: a member of the group transaction.
    async fn begin_write(&self) -> Result<write_group::Member, StoreError> {
        self.group.join().await
    }

    async fn end_write(tx: write_group::Member) -> Result<(), StoreError> {
        tx.commit().await
    }

    async fn undo_write(tx: write_group::Member) -> Option<write_group::Member> {
        Some(tx.roll_back().await)
    }

    /// See [`SqliteStore::ephemeral`].
    fn ephemeral_pool(&self) -> &sqlx::SqlitePool {
        &self.ephemeral
    }

    /// See [`vacuum_into`].
    async fn snapshot(&self, path: &std::path::Path) -> Result<(), StoreError> {
        vacuum_into(&self.pool, path).await
    }
}

impl SqliteStore {
    /// `PRAGMA shrink_memory` on every idle connection of both pools. The connections are all held until each
    /// has been shrunk, so none is visited twice; one a request is using is not waited for.
    async fn shrink(&self) -> Result<usize, StoreError> {
        let mut held = Vec::new();
        for pool in [&self.pool, &self.ephemeral] {
            while let Some(connection) = pool.try_acquire() {
                held.push(connection);
            }
        }
        for connection in &mut held {
            sqlx::query("PRAGMA shrink_memory").execute(&mut **connection).await.map_err(Self::err)?;
        }
        Ok(held.len())
    }
}

impl PgStore {
    /// The page caches of PostgreSQL live in the database server, not in this process.
    async fn shrink(&self) -> Result<usize, StoreError> {
        Ok(0)
    }

    /// PostgreSQL queues writers on the audit head's row lock without polling.
    async fn writer(&self) -> Option<write_group::Exclusive> {
        None
    }

    /// An audited writing transaction: one of its own (PostgreSQL group-commits concurrent transactions itself).
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, StoreError> {
        self.pool.begin().await.map_err(Self::err)
    }

    async fn end_write(tx: sqlx::Transaction<'static, sqlx::Postgres>) -> Result<(), StoreError> {
        tx.commit().await.map_err(Self::err)
    }

    async fn undo_write(
        tx: sqlx::Transaction<'static, sqlx::Postgres>,
    ) -> Option<sqlx::Transaction<'static, sqlx::Postgres>> {
        if let Err(e) = tx.rollback().await {
            tracing::debug!(error = %e, "rolling back an abandoned write");
        }
        None
    }

    /// PostgreSQL commits are group-committed by the server; short-lived rows use the main pool.
    fn ephemeral_pool(&self) -> &sqlx::PgPool {
        &self.pool
    }

    async fn snapshot(&self, _path: &std::path::Path) -> Result<(), StoreError> {
        Err(StoreError::SnapshotUnsupported)
    }
}

writer::writer_store!(SqliteStore, sqlx::Sqlite, Backend::Sqlite);
maintenance::maintenance_store!(SqliteStore, sqlx::Sqlite, Backend::Sqlite);
audit_log::audit_log_store!(SqliteStore, sqlx::Sqlite, Backend::Sqlite);
facilities::facilities_store!(SqliteStore, sqlx::Sqlite, Backend::Sqlite);
issuance::issuance_store!(SqliteStore, sqlx::Sqlite, Backend::Sqlite);
revocation::revocation_store!(SqliteStore, sqlx::Sqlite, Backend::Sqlite);
enrollment::enrollment_store!(SqliteStore, sqlx::Sqlite, Backend::Sqlite);
acme::acme_store!(SqliteStore, sqlx::Sqlite, Backend::Sqlite);
operators::operators_store!(SqliteStore, sqlx::Sqlite, Backend::Sqlite);
jobs::jobs_store!(SqliteStore, sqlx::Sqlite, Backend::Sqlite);
rate_limits::rate_limits_store!(SqliteStore, sqlx::Sqlite, Backend::Sqlite);
portal_users::portal_users_store!(SqliteStore, sqlx::Sqlite, Backend::Sqlite);
sessions::sessions_store!(SqliteStore, sqlx::Sqlite, Backend::Sqlite);
console_grants::console_grants_store!(SqliteStore, sqlx::Sqlite, Backend::Sqlite);
services::services_store!(SqliteStore, sqlx::Sqlite, Backend::Sqlite);
oidc::oidc_store!(SqliteStore, sqlx::Sqlite, Backend::Sqlite);
allocations::allocations_store!(SqliteStore, sqlx::Sqlite);
signing_requests::signing_requests_store!(SqliteStore, sqlx::Sqlite, Backend::Sqlite);
consents::consents_store!(SqliteStore, sqlx::Sqlite);
delegations::delegations_store!(SqliteStore, sqlx::Sqlite);
device_names::device_names_store!(SqliteStore, sqlx::Sqlite);
security_officers::security_officers_store!(SqliteStore, sqlx::Sqlite);
issuance_halts::issuance_halts_store!(SqliteStore, sqlx::Sqlite);
patient_presence::patient_presence_store!(SqliteStore, sqlx::Sqlite);
passkeys::passkeys_store!(SqliteStore, sqlx::Sqlite);
router_psks::router_psks_store!(SqliteStore, sqlx::Sqlite);
registration_authorities::registration_authorities_store!(SqliteStore, sqlx::Sqlite);
router_register::router_register_store!(SqliteStore, sqlx::Sqlite);
ca_rollovers::ca_rollovers_store!(SqliteStore, sqlx::Sqlite);
scim::scim_store!(SqliteStore, sqlx::Sqlite);
ssf::ssf_store!(SqliteStore, sqlx::Sqlite);
regional_networks::regional_networks_store!(SqliteStore, sqlx::Sqlite);
vetting::vetting_store!(SqliteStore, sqlx::Sqlite);
writer::writer_store!(PgStore, sqlx::Postgres, Backend::Postgres);
maintenance::maintenance_store!(PgStore, sqlx::Postgres, Backend::Postgres);
audit_log::audit_log_store!(PgStore, sqlx::Postgres, Backend::Postgres);
facilities::facilities_store!(PgStore, sqlx::Postgres, Backend::Postgres);
issuance::issuance_store!(PgStore, sqlx::Postgres, Backend::Postgres);
revocation::revocation_store!(PgStore, sqlx::Postgres, Backend::Postgres);
enrollment::enrollment_store!(PgStore, sqlx::Postgres, Backend::Postgres);
acme::acme_store!(PgStore, sqlx::Postgres, Backend::Postgres);
operators::operators_store!(PgStore, sqlx::Postgres, Backend::Postgres);
jobs::jobs_store!(PgStore, sqlx::Postgres, Backend::Postgres);
rate_limits::rate_limits_store!(PgStore, sqlx::Postgres, Backend::Postgres);
portal_users::portal_users_store!(PgStore, sqlx::Postgres, Backend::Postgres);
sessions::sessions_store!(PgStore, sqlx::Postgres, Backend::Postgres);
console_grants::console_grants_store!(PgStore, sqlx::Postgres, Backend::Postgres);
services::services_store!(PgStore, sqlx::Postgres, Backend::Postgres);
oidc::oidc_store!(PgStore, sqlx::Postgres, Backend::Postgres);
allocations::allocations_store!(PgStore, sqlx::Postgres);
signing_requests::signing_requests_store!(PgStore, sqlx::Postgres, Backend::Postgres);
consents::consents_store!(PgStore, sqlx::Postgres);
delegations::delegations_store!(PgStore, sqlx::Postgres);
device_names::device_names_store!(PgStore, sqlx::Postgres);
security_officers::security_officers_store!(PgStore, sqlx::Postgres);
issuance_halts::issuance_halts_store!(PgStore, sqlx::Postgres);
patient_presence::patient_presence_store!(PgStore, sqlx::Postgres);
passkeys::passkeys_store!(PgStore, sqlx::Postgres);
router_psks::router_psks_store!(PgStore, sqlx::Postgres);
registration_authorities::registration_authorities_store!(PgStore, sqlx::Postgres);
router_register::router_register_store!(PgStore, sqlx::Postgres);
ca_rollovers::ca_rollovers_store!(PgStore, sqlx::Postgres);
scim::scim_store!(PgStore, sqlx::Postgres);
ssf::ssf_store!(PgStore, sqlx::Postgres);
regional_networks::regional_networks_store!(PgStore, sqlx::Postgres);
vetting::vetting_store!(PgStore, sqlx::Postgres);
