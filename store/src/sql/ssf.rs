//! SQL of the Shared Signals transmitter (migration 0041, D162): `ssf_streams` one stream per client,
//! `ssf_outbox` the SETs waiting for their receiver.

use crate::traits::ssf::{SsfOutboxRecord, SsfStreamRecord};

pub(super) const STREAM_PUT: &str = "INSERT INTO ssf_streams \
     (stream_id, client_id, config, status, status_reason, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (stream_id) DO UPDATE SET \
     config = $3, status = $4, status_reason = $5, updated_at = $7";
pub(super) const STREAM_OF: &str = "SELECT stream_id, client_id, config, status, status_reason, created_at, \
     updated_at FROM ssf_streams WHERE client_id = $1";
/// One grant per client of the person's sessions (the subject is the same in all of them), among clients with
/// a stream.
pub(super) const PERSON_GRANTS: &str = concat!(
    "SELECT id, client_id, session_hash, data, code_hash, refresh_hash, state, created_at, expires_at",
    " FROM oidc_grants WHERE id IN (SELECT MAX(g.id) FROM oidc_grants g ",
    "JOIN portal_sessions s ON s.id_hash = g.session_hash JOIN ssf_streams t ON t.client_id = g.client_id ",
    "WHERE s.person_key = $1 GROUP BY g.client_id)"
);
pub(super) const STREAM_OUTBOX_DELETE: &str = "DELETE FROM ssf_outbox WHERE stream_id = $1";
pub(super) const STREAM_DELETE: &str = "DELETE FROM ssf_streams WHERE stream_id = $1";
pub(super) const ENQUEUE: &str = "INSERT INTO ssf_outbox \
     (jti, stream_id, set_jwt, push, created_at, attempts, next_at, last_error) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
pub(super) const ACK: &str = "DELETE FROM ssf_outbox WHERE stream_id = $1 AND jti = $2 AND push = 0";
pub(super) const POLL: &str = "SELECT jti, stream_id, set_jwt, push, created_at, attempts, next_at, last_error \
     FROM ssf_outbox WHERE stream_id = $1 AND push = 0 ORDER BY created_at, jti LIMIT $2";
/// The due pushes of enabled streams; the lease is written by [`LEASE`] on the same rows.
pub(super) const DUE: &str = "SELECT o.jti, o.stream_id, o.set_jwt, o.push, o.created_at, o.attempts, o.next_at, \
     o.last_error, s.config FROM ssf_outbox o JOIN ssf_streams s ON s.stream_id = o.stream_id \
     WHERE o.push = 1 AND o.next_at <= $1 AND s.status = 'enabled' ORDER BY o.next_at, o.created_at LIMIT $2";
pub(super) const LEASE: &str = "UPDATE ssf_outbox SET next_at = $2 WHERE jti = $1 AND next_at <= $3";
pub(super) const DELIVERED: &str = "DELETE FROM ssf_outbox WHERE jti = $1";
pub(super) const FAILED: &str =
    "UPDATE ssf_outbox SET attempts = attempts + 1, last_error = $2, next_at = $3 WHERE jti = $1";
pub(super) const WAITING: &str = "SELECT COUNT(*) FROM ssf_outbox";
/// A person event, written in the change's own transaction (migration 0050, D175); the same event of the same
/// person in the same millisecond is one.
pub(super) const PERSON_EVENT: &str = "INSERT INTO ssf_person_events (person_key, event, created_at, claimed_until) \
     VALUES ($1, $2, $3, 0) ON CONFLICT (person_key, event, created_at) DO NOTHING";
/// Claim (`$1` lease until, `$2` now, `$3` limit; milliseconds): the outer `claimed_until <= $2` is re-checked on
/// a row another replica claimed meanwhile (PostgreSQL READ COMMITTED re-evaluates it), so one replica gets each.
pub(super) const CLAIM_PERSON_EVENTS: &str = "UPDATE ssf_person_events SET claimed_until = $1 \
     WHERE claimed_until <= $2 AND (person_key, event, created_at) IN (SELECT person_key, event, created_at \
     FROM ssf_person_events WHERE claimed_until <= $2 ORDER BY created_at, person_key, event LIMIT $3) \
     RETURNING person_key, event, created_at";
pub(super) const PERSON_EVENT_DONE: &str =
    "DELETE FROM ssf_person_events WHERE person_key = $1 AND event = $2 AND created_at = $3";

/// A row of [`STREAM_OF`].
pub(super) type StreamRow = (String, String, String, String, Option<String>, i64, i64);
/// A row of [`POLL`].
pub(super) type OutboxRow = (String, String, String, i64, i64, i64, i64, Option<String>);
/// A row of [`DUE`]: the outbox's and the stream's configuration.
pub(super) type DueRow = (String, String, String, i64, i64, i64, i64, Option<String>, String);

pub(super) fn stream(r: StreamRow) -> SsfStreamRecord {
    let (stream_id, client_id, config, status, status_reason, created_at, updated_at) = r;
    SsfStreamRecord { stream_id, client_id, config, status, status_reason, created_at, updated_at }
}

pub(super) fn due(r: DueRow) -> (SsfOutboxRecord, String) {
    let (jti, stream_id, set_jwt, push, created_at, attempts, next_at, last_error, config) = r;
    (outbox((jti, stream_id, set_jwt, push, created_at, attempts, next_at, last_error)), config)
}

pub(super) fn outbox(r: OutboxRow) -> SsfOutboxRecord {
    let (jti, stream_id, set_jwt, push, created_at, attempts, next_at, last_error) = r;
    SsfOutboxRecord { jti, stream_id, set_jwt, push: push == 1, created_at, attempts, next_at, last_error }
}

/// `impl SsfStreams` for one backend (see [`super::writer`] for why a macro).
macro_rules! ssf_store {
    ($store:ident, $db:ty) => {
        impl $store {
            /// Record the person event `event` about `person_key` inside the transaction of the change it
            /// announces, at `at` (D175).
            pub(super) async fn ssf_person_event_in(
                tx: &mut <$db as sqlx::Database>::Connection,
                person_key: &str,
                event: &str,
                at: UnixTime,
            ) -> Result<(), StoreError> {
                sqlx::query::<$db>(ssf::PERSON_EVENT)
                    .bind(person_key)
                    .bind(event)
                    .bind(at.as_millis())
                    .execute(&mut *tx)
                    .await
                    .map(drop)
                    .map_err(Self::err)
            }
        }

        #[async_trait::async_trait]
        impl SsfStreams for $store {
            async fn ssf_stream_put(
                &self,
                stream: &SsfStreamRecord,
                detail: serde_json::Value,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<(), StoreError> {
                let mut w = self.write(at).await?;
                sqlx::query::<$db>(ssf::STREAM_PUT)
                    .bind(&stream.stream_id)
                    .bind(&stream.client_id)
                    .bind(&stream.config)
                    .bind(&stream.status)
                    .bind(&stream.status_reason)
                    .bind(stream.created_at)
                    .bind(stream.updated_at)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                w.append(&sso::event("ssf.stream.put", &stream.client_id, actor, detail)).await?;
                w.commit().await
            }

            async fn ssf_stream_of(&self, client_id: &str) -> Result<Option<SsfStreamRecord>, StoreError> {
                Ok(sqlx::query_as::<$db, ssf::StreamRow>(ssf::STREAM_OF)
                    .bind(client_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(ssf::stream))
            }

            async fn ssf_person_grants(&self, person_key: &str) -> Result<Vec<GrantRecord>, StoreError> {
                Ok(sqlx::query_as::<$db, sso::GrantRow>(ssf::PERSON_GRANTS)
                    .bind(person_key)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(sso::grant)
                    .collect())
            }

            async fn ssf_stream_delete(&self, stream_id: &str, actor: &Actor, at: UnixTime) -> Result<bool, StoreError> {
                let mut w = self.write(at).await?;
                sqlx::query::<$db>(ssf::STREAM_OUTBOX_DELETE)
                    .bind(stream_id)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let removed = sqlx::query::<$db>(ssf::STREAM_DELETE)
                    .bind(stream_id)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?
                    .rows_affected()
                    == 1;
                if !removed {
                    return Ok(false);
                }
                let detail = serde_json::json!({ "stream_id": stream_id });
                w.append(&sso::event("ssf.stream.delete", stream_id, actor, detail)).await?;
                w.commit().await?;
                Ok(true)
            }

            async fn ssf_enqueue(&self, sets: &[SsfOutboxRecord]) -> Result<(), StoreError> {
                if sets.is_empty() {
                    return Ok(());
                }
                let _writer = self.writer().await;
                let mut tx = self.pool.begin().await.map_err(Self::err)?;
                for s in sets {
                    sqlx::query::<$db>(ssf::ENQUEUE)
                        .bind(&s.jti)
                        .bind(&s.stream_id)
                        .bind(&s.set_jwt)
                        .bind(i64::from(s.push))
                        .bind(s.created_at)
                        .bind(s.attempts)
                        .bind(s.next_at)
                        .bind(&s.last_error)
                        .execute(&mut *tx)
                        .await
                        .map_err(Self::err)?;
                }
                tx.commit().await.map_err(Self::err)
            }

            async fn ssf_poll(
                &self,
                stream_id: &str,
                ack: &[String],
                max: i64,
            ) -> Result<(Vec<SsfOutboxRecord>, bool), StoreError> {
                if !ack.is_empty() {
                    let _writer = self.writer().await;
                    let mut tx = self.pool.begin().await.map_err(Self::err)?;
                    for jti in ack {
                        sqlx::query::<$db>(ssf::ACK)
                            .bind(stream_id)
                            .bind(jti)
                            .execute(&mut *tx)
                            .await
                            .map_err(Self::err)?;
                    }
                    tx.commit().await.map_err(Self::err)?;
                }
                let mut rows: Vec<SsfOutboxRecord> = sqlx::query_as::<$db, ssf::OutboxRow>(ssf::POLL)
                    .bind(stream_id)
                    .bind(max.saturating_add(1))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(ssf::outbox)
                    .collect();
                let more = i64::try_from(rows.len()).unwrap_or(i64::MAX) > max;
                rows.truncate(usize::try_from(max).unwrap_or(0));
                Ok((rows, more))
            }

            async fn ssf_due(
                &self,
                now: UnixTime,
                lease_until: UnixTime,
                limit: i64,
            ) -> Result<Vec<(SsfOutboxRecord, String)>, StoreError> {
                let candidates: Vec<(SsfOutboxRecord, String)> = sqlx::query_as::<$db, ssf::DueRow>(ssf::DUE)
                    .bind(now.as_secs())
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(ssf::due)
                    .collect();
                let mut claimed = Vec::new();
                let _writer = self.writer().await;
                for c in candidates {
                    // The lease moves next_at forward only where it is still due: another replica that claimed
                    // the row first keeps it.
                    let taken = sqlx::query::<$db>(ssf::LEASE)
                        .bind(&c.0.jti)
                        .bind(lease_until.as_secs())
                        .bind(now.as_secs())
                        .execute(&self.pool)
                        .await
                        .map_err(Self::err)?
                        .rows_affected()
                        == 1;
                    if taken {
                        claimed.push(c);
                    }
                }
                Ok(claimed)
            }

            async fn ssf_delivered(&self, jti: &str) -> Result<(), StoreError> {
                let _writer = self.writer().await;
                sqlx::query::<$db>(ssf::DELIVERED).bind(jti).execute(&self.pool).await.map_err(Self::err)?;
                Ok(())
            }

            async fn ssf_failed(&self, jti: &str, error: &str, next_at: UnixTime) -> Result<(), StoreError> {
                let _writer = self.writer().await;
                sqlx::query::<$db>(ssf::FAILED)
                    .bind(jti)
                    .bind(error)
                    .bind(next_at.as_secs())
                    .execute(&self.pool)
                    .await
                    .map_err(Self::err)?;
                Ok(())
            }

            async fn ssf_waiting(&self) -> Result<i64, StoreError> {
                sqlx::query_scalar::<$db, i64>(ssf::WAITING).fetch_one(&self.pool).await.map_err(Self::err)
            }

            async fn ssf_claim_person_events(
                &self,
                now: UnixTime,
                lease_until: UnixTime,
                limit: i64,
            ) -> Result<Vec<SsfPersonEvent>, StoreError> {
                let _writer = self.writer().await;
                let rows = sqlx::query_as::<$db, (String, String, i64)>(ssf::CLAIM_PERSON_EVENTS)
                    .bind(lease_until.as_millis())
                    .bind(now.as_millis())
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?;
                let mut events: Vec<SsfPersonEvent> = rows
                    .into_iter()
                    .map(|(person_key, event, created_at)| SsfPersonEvent { person_key, event, created_at })
                    .collect();
                events.sort_by(|a, b| (a.created_at, &a.person_key, &a.event).cmp(&(b.created_at, &b.person_key, &b.event)));
                Ok(events)
            }

            async fn ssf_person_events_done(&self, events: &[SsfPersonEvent]) -> Result<(), StoreError> {
                if events.is_empty() {
                    return Ok(());
                }
                let _writer = self.writer().await;
                let mut tx = self.pool.begin().await.map_err(Self::err)?;
                for e in events {
                    sqlx::query::<$db>(ssf::PERSON_EVENT_DONE)
                        .bind(&e.person_key)
                        .bind(&e.event)
                        .bind(e.created_at)
                        .execute(&mut *tx)
                        .await
                        .map_err(Self::err)?;
                }
                tx.commit().await.map_err(Self::err)
            }
        }
    };
}
pub(super) use ssf_store;
