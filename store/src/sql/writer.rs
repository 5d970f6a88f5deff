//! The database plumbing every area of the SQL store shares: error mapping, the writing transaction that takes
//! the audit head lock and appends audit entries, and the row fetches several areas use.
//!
//! Each area's file holds a small `macro_rules!` writing that area's trait impl for a concrete store type
//! (`SqliteStore` with `sqlx::Sqlite`, `PgStore` with `sqlx::Postgres`), expanded in [`super`]. A macro rather
//! than `impl<DB: Database>`: the generic version needs a bound per bound Rust type plus higher-ranked executor
//! bounds, and async-trait's `Send` futures trip over those; expanded with concrete types, each backend is plain
//! code the compiler checks in full. The SQL ([`super::queries`]), the row conversions ([`super::rows`]), the
//! audit events ([`super::events`]) and the error mapping ([`super::errors`]) are ordinary shared items; only
//! the database plumbing lives in the macros.

use super::rows::Chain;
use hcpki_model::UnixTime;

/// Why `insert_facility` stopped: a store error, or the insert itself failed (kept raw so a
/// unique violation can be turned into the code's holder once the transaction is gone).
pub(super) enum Inserted {
    Store(crate::StoreError),
    Failed(sqlx::Error),
}

impl From<crate::StoreError> for Inserted {
    fn from(e: crate::StoreError) -> Self {
        Self::Store(e)
    }
}

/// How a backend holds an audited writing transaction: SQLite a member of this process's group transaction
/// ([`super::write_group`]), PostgreSQL a transaction of its own (the server group-commits itself).
pub(super) trait WriteTx: sqlx::Database {
    /// What the writer's statements run on (`&mut *w.tx`).
    type Tx: std::ops::DerefMut<Target = Self::Connection> + Send + std::fmt::Debug;
}

impl WriteTx for sqlx::Sqlite {
    type Tx = super::write_group::Member;
}

impl WriteTx for sqlx::Postgres {
    type Tx = sqlx::Transaction<'static, sqlx::Postgres>;
}

/// An audited writing transaction: the store's `write()` takes the audit head lock, `append` adds entries and
/// `commit` writes the head back and commits: the one sequence every audited mutation goes through. Dropped
/// without a commit, it rolls back and gives its sequence numbers back.
pub(super) struct Writer<'s, DB: WriteTx> {
    /// The transaction: statements run on `&mut *w.tx`.
    pub(super) tx: DB::Tx,
    pub(super) chain: Chain,
    /// Borrowed from its store, as the queue place it stands for.
    pub(super) _store: std::marker::PhantomData<&'s ()>,
}

impl<DB: WriteTx> Writer<'_, DB> {
    /// The time passed to `write`, in Unix seconds: what the rows of this transaction record.
    pub(super) fn now(&self) -> i64 {
        self.chain.now()
    }

    /// The time passed to `write`.
    pub(super) fn at(&self) -> UnixTime {
        self.chain.at()
    }
}

macro_rules! writer_store {
    ($store:ident, $db:ty, $backend:expr) => {
        impl $store {
            fn err(e: sqlx::Error) -> StoreError {
                errors::map($backend, e)
            }

            /// Begin an audited writing transaction: queue behind this process's other writers (SQLite), then
            /// take the audit head lock. Every audited mutation starts here, so writers queue in one place (no
            /// deferred lock upgrades on SQLite, no deadlocks on PostgreSQL) and the chain stays contiguous.
            /// `at` (the caller's time) is the time of every audit entry appended.
            async fn write(&self, at: UnixTime) -> Result<Writer<'_, $db>, StoreError> {
                let mut tx = self.begin_write().await?;
                let (seq, hash) = sqlx::query_as::<$db, (i64, String)>(queries::LOCK_HEAD)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(Self::err)?
                    .ok_or_else(|| StoreError::Corrupt("the audit_head row is missing".into()))?;
                Ok(Writer { tx, chain: Chain::locked(seq, hash, at), _store: std::marker::PhantomData })
            }

            async fn fetch_facility<'e, E>(ex: E, id: &str) -> Result<Option<Facility>, StoreError>
            where
                E: sqlx::Executor<'e, Database = $db>,
            {
                sqlx::query_as::<$db, rows::FacilityRow>(queries::FACILITY_BY_ID)
                    .bind(id)
                    .fetch_optional(ex)
                    .await
                    .map_err(Self::err)?
                    .map(rows::facility)
                    .transpose()
            }

            async fn fetch_certificate<'e, E>(ex: E, serial: &str) -> Result<Option<CertificateRecord>, StoreError>
            where
                E: sqlx::Executor<'e, Database = $db>,
            {
                sqlx::query_as::<$db, rows::CertificateRow>(queries::CERTIFICATE_BY_SERIAL)
                    .bind(serial)
                    .fetch_optional(ex)
                    .await
                    .map_err(Self::err)?
                    .map(rows::certificate)
                    .transpose()
            }

            async fn fetch_credential<'e, E>(ex: E, id: &str) -> Result<Option<CredentialRecord>, StoreError>
            where
                E: sqlx::Executor<'e, Database = $db>,
            {
                sqlx::query_as::<$db, rows::CredentialRow>(queries::CREDENTIAL_BY_ID)
                    .bind(id)
                    .fetch_optional(ex)
                    .await
                    .map_err(Self::err)?
                    .map(rows::credential)
                    .transpose()
            }
        }

        impl<'s> Writer<'s, $db> {
            /// Append one audit entry inside the transaction, chained to the one before.
            async fn append(&mut self, event: &AuditEvent) -> Result<AuditEntry, StoreError> {
                let e = self.chain.next(event);
                sqlx::query::<$db>(queries::INSERT_AUDIT)
                    .bind(e.seq)
                    .bind(e.at_ms)
                    .bind(&e.actor)
                    .bind(&e.action)
                    .bind(&e.target)
                    .bind(&e.outcome)
                    .bind(&e.detail)
                    .bind(&e.prev_hash)
                    .bind(&e.hash)
                    .execute(&mut *self.tx)
                    .await
                    .map_err($store::err)?;
                Ok(e)
            }

            /// Write the head back and commit; the queue place is given up after the commit.
            async fn commit(self) -> Result<(), StoreError> {
                let Self { mut tx, chain, _store } = self;
                let (seq, hash) = chain.head();
                sqlx::query::<$db>(queries::SET_HEAD)
                    .bind(seq)
                    .bind(hash)
                    .execute(&mut *tx)
                    .await
                    .map_err($store::err)?;
                $store::end_write(tx).await
            }

            /// Roll the transaction back but keep the place in this process's writer queue (returned) for what
            /// the caller still has to read before giving it up.
            async fn abandon(self) -> Option<<$db as WriteTx>::Tx> {
                let Self { tx, chain: _, _store } = self;
                $store::undo_write(tx).await
            }
        }
    };
}

pub(super) use writer_store;
