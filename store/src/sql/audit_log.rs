//! `audit_log_store!`: [`crate::AuditLog`] on SQL, expanded once per backend (see [`super::writer`] for why a
//! macro): audit chain: appending, reading, the head and anchor, pruning.

macro_rules! audit_log_store {
    ($store:ident, $db:ty, $backend:expr) => {
        #[async_trait::async_trait]
        impl AuditLog for $store {
            async fn append_audit(&self, event: &AuditEvent, at: UnixTime) -> Result<AuditEntry, StoreError> {
                let mut w = self.write(at).await?;
                let entry = w.append(event).await?;
                w.commit().await?;
                Ok(entry)
            }

            async fn append_audits(&self, events: &[AuditEvent], at: UnixTime) -> Result<Vec<AuditEntry>, StoreError> {
                if events.is_empty() {
                    return Ok(Vec::new());
                }
                let mut w = self.write(at).await?;
                let mut entries = Vec::with_capacity(events.len());
                for event in events {
                    entries.push(w.append(event).await?);
                }
                w.commit().await?;
                Ok(entries)
            }

            async fn audit_entries(&self, after: i64, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
                Ok(sqlx::query_as::<$db, rows::AuditRow>(queries::AUDIT_AFTER)
                    .bind(after)
                    .bind(limit.max(0))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(rows::audit_entry)
                    .collect())
            }

            async fn audit_head(&self) -> Result<AuditHead, StoreError> {
                let (seq, hash) = sqlx::query_as::<$db, (i64, String)>(queries::READ_HEAD)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .ok_or_else(|| StoreError::Corrupt("the audit_head row is missing".into()))?;
                Ok(AuditHead { seq, hash })
            }

            async fn audit_anchor(&self) -> Result<Option<AuditHead>, StoreError> {
                Ok(sqlx::query_as::<$db, (i64, String)>(queries::AUDIT_ANCHOR)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(|(seq, hash)| AuditHead { seq, hash }))
            }

            async fn audit_prune(&self, through: i64, batch: i64) -> Result<Option<AuditHead>, StoreError> {
                let _writer = self.writer().await;
                let mut tx = self.pool.begin().await.map_err(Self::err)?;
                let from = sqlx::query_as::<$db, (i64, String)>(queries::AUDIT_ANCHOR)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(Self::err)?
                    .map_or(0, |(seq, _)| seq);
                let end = through.min(from.saturating_add(batch.max(1)));
                if end <= from {
                    return Ok(None);
                }
                let hash = sqlx::query_scalar::<$db, String>(queries::AUDIT_HASH_AT)
                    .bind(end)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(Self::err)?
                    .ok_or_else(|| {
                        StoreError::Corrupt(format!("audit entry {end} is missing: run `hcpki audit verify`"))
                    })?;
                sqlx::query::<$db>(queries::AUDIT_DELETE_RANGE)
                    .bind(from)
                    .bind(end)
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::err)?;
                sqlx::query::<$db>(queries::AUDIT_SET_ANCHOR)
                    .bind(end)
                    .bind(&hash)
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::err)?;
                tx.commit().await.map_err(Self::err)?;
                Ok(Some(AuditHead { seq: end, hash }))
            }

            async fn audit_forwarded(&self, destination: &str) -> Result<Option<i64>, StoreError> {
                sqlx::query_scalar::<$db, i64>(queries::AUDIT_FORWARDED)
                    .bind(destination)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)
            }

            async fn set_audit_forwarded(&self, destination: &str, seq: i64, now: UnixTime) -> Result<(), StoreError> {
                let now = now.as_secs();
                sqlx::query::<$db>(queries::AUDIT_SET_FORWARDED)
                    .bind(destination)
                    .bind(seq)
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(Self::err)?;
                Ok(())
            }
        }
    };
}

pub(super) use audit_log_store;
