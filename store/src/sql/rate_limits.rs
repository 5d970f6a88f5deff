//! SQL of the shared rate-limit counts (migration 0016, D31 addendum), and `rate_limits_store!`, the
//! per-backend impl of its trait.

/// How long a window's row is kept after it started: the current and the previous minute are read, plus a
/// minute for replicas whose clocks run behind.
pub(super) const KEEP_SECS: i64 = 180;
/// Rows per statement: 4 parameters each (2 when reading), well under SQLite's 32,766 and PostgreSQL's 65,535.
pub(super) const ROWS_PER_STATEMENT: usize = 500;

pub(super) const HEARTBEAT: &str = "INSERT INTO rate_limit_replicas (replica, alive_until) VALUES ($1, $2) \
     ON CONFLICT (replica) DO UPDATE SET alive_until = $2";
pub(super) const ALIVE: &str = "SELECT COUNT(*) FROM rate_limit_replicas WHERE alive_until >= $1";
/// The start of a multi-row upsert; [`ADD_END`] follows the values.
pub(super) const ADD: &str = "INSERT INTO rate_limit_counts (class, address, window_start, requests) ";
pub(super) const ADD_END: &str = " ON CONFLICT (class, address, window_start) DO UPDATE SET \
     requests = rate_limit_counts.requests + excluded.requests";
/// The start of a read of totals; `(class, address) IN (VALUES …)` follows.
pub(super) const TOTALS: &str =
    "SELECT class, address, window_start, requests FROM rate_limit_counts WHERE window_start >= ";
/// Marks a window refused; affects a row only for the first caller.
pub(super) const ENGAGE: &str = "INSERT INTO rate_limit_counts (class, address, window_start, requests, engaged) \
     VALUES ($1, $2, $3, 0, 1) ON CONFLICT (class, address, window_start) DO UPDATE SET engaged = 1 \
     WHERE rate_limit_counts.engaged = 0";
pub(super) const ENGAGED: &str =
    "SELECT engaged FROM rate_limit_counts WHERE class = $1 AND address = $2 AND window_start = $3";
pub(super) const SWEEP_COUNTS: &str = "DELETE FROM rate_limit_counts WHERE (class, address, window_start) IN \
     (SELECT class, address, window_start FROM rate_limit_counts WHERE window_start <= $1 LIMIT $2)";
/// Replicas gone this long are forgotten by the next sync of any replica (a handful of rows per restart).
pub(super) const FORGET_REPLICAS_SECS: i64 = 3600;
pub(super) const FORGET_REPLICAS: &str = "DELETE FROM rate_limit_replicas WHERE alive_until < $1";

macro_rules! rate_limits_store {
    ($store:ident, $db:ty, $backend:expr) => {
        impl $store {
            async fn rate_limits_sync(&self, sync: &RateSync<'_>) -> Result<RateTotals, StoreError> {
                // Key order: two PostgreSQL replicas adding to the same rows lock them in the same order.
                let mut add: Vec<&RateCount> = sync.add.iter().filter(|c| c.requests != 0).collect();
                add.sort();
                {
                    let _writer = self.writer().await;
                    // Counts are worth losing on power failure rather than an fsync per second (ephemeral pool).
                    let mut tx = self.ephemeral_pool().begin().await.map_err(Self::err)?;
                    sqlx::query::<$db>(rate_limits::HEARTBEAT)
                        .bind(sync.replica)
                        .bind(sync.alive_until)
                        .execute(&mut *tx)
                        .await
                        .map_err(Self::err)?;
                    sqlx::query::<$db>(rate_limits::FORGET_REPLICAS)
                        .bind(sync.now - rate_limits::FORGET_REPLICAS_SECS)
                        .execute(&mut *tx)
                        .await
                        .map_err(Self::err)?;
                    for chunk in add.chunks(rate_limits::ROWS_PER_STATEMENT) {
                        let mut insert = sqlx::QueryBuilder::<$db>::new(rate_limits::ADD);
                        insert.push_values(chunk, |mut row, c| {
                            row.push_bind(&c.class)
                                .push_bind(&c.address)
                                .push_bind(c.window_start)
                                .push_bind(c.requests);
                        });
                        insert.push(rate_limits::ADD_END);
                        insert.build().execute(&mut *tx).await.map_err(Self::err)?;
                    }
                    tx.commit().await.map_err(Self::err)?;
                }
                let mut counts = Vec::new();
                for chunk in sync.watch.chunks(rate_limits::ROWS_PER_STATEMENT) {
                    let mut select = sqlx::QueryBuilder::<$db>::new(rate_limits::TOTALS);
                    select.push_bind(sync.since).push(" AND (class, address) IN (");
                    select.push_values(chunk, |mut row, (class, address)| {
                        row.push_bind(class).push_bind(address);
                    });
                    select.push(")");
                    let rows = select
                        .build_query_as::<(String, String, i64, i64)>()
                        .fetch_all(self.ephemeral_pool())
                        .await
                        .map_err(Self::err)?;
                    counts.extend(rows.into_iter().map(|(class, address, window_start, requests)| RateCount {
                        class,
                        address,
                        window_start,
                        requests,
                    }));
                }
                let replicas = sqlx::query_scalar::<$db, i64>(rate_limits::ALIVE)
                    .bind(sync.now)
                    .fetch_one(self.ephemeral_pool())
                    .await
                    .map_err(Self::err)?;
                Ok(RateTotals { replicas, counts })
            }

            async fn rate_limits_engage(
                &self,
                class: &str,
                address: &str,
                window_start: i64,
            ) -> Result<bool, StoreError> {
                let claimed = {
                    let _writer = self.writer().await;
                    sqlx::query::<$db>(rate_limits::ENGAGE)
                        .bind(class)
                        .bind(address)
                        .bind(window_start)
                        .execute(self.ephemeral_pool())
                        .await
                        .map_err(Self::err)?
                        .rows_affected()
                        > 0
                };
                if !claimed {
                    return Ok(false);
                }
                let before = sqlx::query_scalar::<$db, i64>(rate_limits::ENGAGED)
                    .bind(class)
                    .bind(address)
                    .bind(window_start - 60)
                    .fetch_optional(self.ephemeral_pool())
                    .await
                    .map_err(Self::err)?;
                Ok(before.unwrap_or(0) == 0)
            }
        }

        #[async_trait::async_trait]
        impl RateLimits for $store {
            async fn rate_limit_sync(&self, sync: &RateSync<'_>) -> Result<RateTotals, StoreError> {
                self.rate_limits_sync(sync).await
            }

            async fn rate_limit_engage(
                &self,
                class: &str,
                address: &str,
                window_start: UnixTime,
            ) -> Result<bool, StoreError> {
                let window_start = window_start.as_secs();
                self.rate_limits_engage(class, address, window_start).await
            }
        }
    };
}

pub(super) use rate_limits_store;
