//! `maintenance_store!`: [`crate::Maintenance`] on SQL, expanded once per backend (see [`super::writer`] for
//! why a macro): which database this is, health checks, snapshots, the backups' records and cache release.

use crate::StoreError;
use crate::records::{BackupDatabase, BackupRecord};
use hcpki_model::UnixTime;

pub(super) const RECORD_BACKUP: &str = "INSERT INTO backups (manifest_sha256, taken_at, taken_by, location, \
     database_kind, audit_head_seq, files, includes_secrets) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
pub(super) const LAST_BACKUP: &str = "SELECT manifest_sha256, taken_at, taken_by, location, database_kind, \
     audit_head_seq, files, includes_secrets FROM backups ORDER BY taken_at DESC, manifest_sha256 LIMIT 1";

/// A row of [`LAST_BACKUP`].
pub(super) type BackupRow = (String, i64, String, String, String, i64, i64, i64);

pub(super) fn backup(row: BackupRow) -> Result<BackupRecord, StoreError> {
    let (manifest_sha256, taken_at, taken_by, location, database, audit_head_seq, files, secrets) = row;
    let database = BackupDatabase::parse(&database)
        .ok_or_else(|| StoreError::Corrupt(format!("backup {manifest_sha256}: unknown database kind {database}")))?;
    Ok(BackupRecord {
        manifest_sha256,
        taken_at: UnixTime::from_secs(taken_at),
        taken_by,
        location,
        database,
        audit_head_seq,
        files: u64::try_from(files).unwrap_or_default(),
        includes_secrets: secrets != 0,
    })
}

macro_rules! maintenance_store {
    ($store:ident, $db:ty, $backend:expr) => {
        #[async_trait::async_trait]
        impl Maintenance for $store {
            fn backend(&self) -> Backend {
                $backend
            }

            async fn snapshot_into(&self, path: &std::path::Path) -> Result<(), StoreError> {
                self.snapshot(path).await
            }

            async fn release_memory(&self) -> Result<usize, StoreError> {
                self.shrink().await
            }

            async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query::<$db>(queries::PING).execute(&self.pool).await.map_err(Self::err)?;
                Ok(())
            }

            async fn record_backup(
                &self,
                backup: &BackupRecord,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<(), StoreError> {
                let mut w = self.write(at).await?;
                sqlx::query::<$db>(maintenance::RECORD_BACKUP)
                    .bind(&backup.manifest_sha256)
                    .bind(backup.taken_at.as_secs())
                    .bind(&backup.taken_by)
                    .bind(&backup.location)
                    .bind(backup.database.as_str())
                    .bind(backup.audit_head_seq)
                    .bind(i64::try_from(backup.files).unwrap_or(i64::MAX))
                    .bind(i64::from(backup.includes_secrets))
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let detail = serde_json::json!({
                    "location": backup.location,
                    "database": backup.database.as_str(),
                    "audit_head_seq": backup.audit_head_seq,
                    "files": backup.files,
                    "includes_secrets": backup.includes_secrets,
                });
                w.append(&sso::event("backup.taken", &backup.manifest_sha256, actor, detail)).await?;
                w.commit().await
            }

            async fn last_backup(&self) -> Result<Option<BackupRecord>, StoreError> {
                sqlx::query_as::<$db, maintenance::BackupRow>(maintenance::LAST_BACKUP)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(maintenance::backup)
                    .transpose()
            }
        }
    };
}

pub(super) use maintenance_store;
