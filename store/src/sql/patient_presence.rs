//! SQL and row conversion of patient-presence proofs (migration 0033, D148).

use crate::traits::patient_presence::PresenceRecord;

pub(super) const INSERT: &str = "INSERT INTO patient_presence \
     (jti, service, facility_id, patient_ref, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)";
pub(super) const GET: &str = "SELECT jti, service, facility_id, patient_ref, issued_at, expires_at, used_at, used_by \
     FROM patient_presence WHERE jti = $1";
pub(super) const USE: &str = "UPDATE patient_presence SET used_at = $2, used_by = $3 \
     WHERE jti = $1 AND used_at IS NULL AND expires_at > $2";

/// A row of [`GET`].
pub(super) type Row = (String, String, String, String, i64, i64, Option<i64>, Option<String>);

pub(super) fn record(row: Row) -> PresenceRecord {
    let (jti, service, facility_id, patient_ref, issued_at, expires_at, used_at, used_by) = row;
    PresenceRecord { jti, service, facility_id, patient_ref, issued_at, expires_at, used_at, used_by }
}

/// `impl PatientPresences` for one backend (see [`super::writer`] for why a macro).
macro_rules! patient_presence_store {
    ($store:ident, $db:ty) => {
        #[async_trait::async_trait]
        impl PatientPresences for $store {
            async fn presence_issue(
                &self,
                record: &PresenceRecord,
                event: &AuditEvent,
                at: UnixTime,
            ) -> Result<(), StoreError> {
                let mut w = self.write(at).await?;
                sqlx::query::<$db>(patient_presence::INSERT)
                    .bind(&record.jti)
                    .bind(&record.service)
                    .bind(&record.facility_id)
                    .bind(&record.patient_ref)
                    .bind(record.issued_at)
                    .bind(record.expires_at)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                w.append(event).await?;
                w.commit().await
            }

            async fn presence(&self, jti: &str) -> Result<Option<PresenceRecord>, StoreError> {
                let row = sqlx::query_as::<$db, patient_presence::Row>(patient_presence::GET)
                    .bind(jti)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?;
                Ok(row.map(patient_presence::record))
            }

            async fn presence_use(
                &self,
                jti: &str,
                client: &str,
                event: &AuditEvent,
                at: UnixTime,
            ) -> Result<bool, StoreError> {
                let mut w = self.write(at).await?;
                let used = sqlx::query::<$db>(patient_presence::USE)
                    .bind(jti)
                    .bind(at.as_secs())
                    .bind(client)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?
                    .rows_affected()
                    == 1;
                let mut event = event.clone();
                if !used {
                    event.outcome = crate::audit::Outcome::Denied;
                }
                w.append(&event).await?;
                w.commit().await?;
                Ok(used)
            }
        }
    };
}
pub(super) use patient_presence_store;
