//! SQL and row conversion of delegations (migration 0027, issue #29 item 4, D95), and `delegations_store!`,
//! the per-backend impl of its trait.

use crate::StoreError;
use crate::delegation::DelegationRecord;

macro_rules! delegation_columns {
    () => {
        "id, facility_id, physician_key, physician_name, physician_role, delegate_username, delegate_name, \
         services, created_at, expires_at, ended_at, ended_by"
    };
}

pub(super) const INSERT: &str = concat!(
    "INSERT INTO delegations (",
    delegation_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, NULL)"
);
pub(super) const BY_ID: &str = concat!("SELECT ", delegation_columns!(), " FROM delegations WHERE id = $1");
pub(super) const BY_PHYSICIAN: &str = concat!(
    "SELECT ",
    delegation_columns!(),
    " FROM delegations WHERE physician_key = $1 AND ended_at IS NULL AND expires_at > $2 \
     ORDER BY created_at DESC, id"
);
pub(super) const TO_DELEGATE: &str = concat!(
    "SELECT ",
    delegation_columns!(),
    " FROM delegations WHERE delegate_username = $1 AND ended_at IS NULL AND expires_at > $2 \
     ORDER BY created_at DESC, id"
);
/// `$1` id, `$2` physician, `$3` now, `$4` who.
pub(super) const END: &str = concat!(
    "UPDATE delegations SET ended_at = $3, ended_by = $4 WHERE id = $1 AND physician_key = $2 AND \
     ended_at IS NULL RETURNING ",
    delegation_columns!()
);
/// Every grant of every session that acted under delegation `$1`.
pub(super) const REVOKE_GRANTS: &str = "UPDATE oidc_grants SET state = 'revoked', code_hash = NULL, \
     refresh_hash = NULL WHERE state <> 'revoked' AND session_hash IN \
     (SELECT session_hash FROM delegation_sessions WHERE delegation_id = $1)";
/// `$1` session, `$2` now.
pub(super) const STOP: &str =
    "UPDATE delegation_sessions SET stopped_at = $2 WHERE session_hash = $1 AND stopped_at IS NULL";
/// `$1` session, `$2` delegation, `$3` now.
pub(super) const CHOOSE: &str = "INSERT INTO delegation_sessions (session_hash, delegation_id, chosen_at, \
     stopped_at) VALUES ($1, $2, $3, NULL) ON CONFLICT (session_hash, delegation_id) DO UPDATE SET \
     chosen_at = $3, stopped_at = NULL";
pub(super) const ACTING: &str = "SELECT d.id, d.facility_id, d.physician_key, d.physician_name, \
     d.physician_role, d.delegate_username, d.delegate_name, d.services, d.created_at, d.expires_at, d.ended_at, \
     d.ended_by FROM delegation_sessions s JOIN delegations d ON d.id = s.delegation_id \
     WHERE s.session_hash = $1 AND s.stopped_at IS NULL ORDER BY s.chosen_at DESC LIMIT 1";

/// [`delegation_columns!`].
pub(super) type Row =
    (String, String, String, String, String, String, String, String, i64, i64, Option<i64>, Option<String>);

pub(super) fn delegation(row: Row) -> Result<DelegationRecord, StoreError> {
    let (id, facility_id, physician_key, physician_name, physician_role, delegate_username, delegate_name) =
        (row.0, row.1, row.2, row.3, row.4, row.5, row.6);
    let services: Vec<String> = serde_json::from_str(&row.7)
        .map_err(|e| StoreError::Corrupt(format!("delegation {id}: services {:?}: {e}", row.7)))?;
    let id = hcpki_model::DelegationId::parse(&id).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(DelegationRecord {
        id,
        facility_id,
        physician_key,
        physician_name,
        physician_role,
        delegate_username,
        delegate_name,
        services,
        created_at: row.8,
        expires_at: row.9,
        ended_at: row.10,
        ended_by: row.11,
    })
}

/// The stored form of a delegation's services.
pub(super) fn services(d: &DelegationRecord) -> String {
    serde_json::Value::from(d.services.clone()).to_string()
}

/// `impl Delegations` for one backend (see [`super::writer`] for why a macro).
macro_rules! delegations_store {
    ($store:ident, $db:ty) => {
        #[async_trait::async_trait]
        impl Delegations for $store {
            async fn delegation_create(
                &self,
                d: &DelegationRecord,
                event: &AuditEvent,
                at: UnixTime,
            ) -> Result<AuditEntry, StoreError> {
                let mut w = self.write(at).await?;
                sqlx::query::<$db>(delegations::INSERT)
                    .bind(d.id.as_str())
                    .bind(&d.facility_id)
                    .bind(&d.physician_key)
                    .bind(&d.physician_name)
                    .bind(&d.physician_role)
                    .bind(&d.delegate_username)
                    .bind(&d.delegate_name)
                    .bind(delegations::services(d))
                    .bind(d.created_at)
                    .bind(d.expires_at)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let entry = w.append(event).await?;
                w.commit().await?;
                Ok(entry)
            }

            async fn delegation(&self, id: &hcpki_model::DelegationId) -> Result<Option<DelegationRecord>, StoreError> {
                sqlx::query_as::<$db, delegations::Row>(delegations::BY_ID)
                    .bind(id.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(delegations::delegation)
                    .transpose()
            }

            async fn delegations_by(
                &self,
                physician_key: &str,
                now: UnixTime,
            ) -> Result<Vec<DelegationRecord>, StoreError> {
                let now = now.as_secs();
                sqlx::query_as::<$db, delegations::Row>(delegations::BY_PHYSICIAN)
                    .bind(physician_key)
                    .bind(now)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(delegations::delegation)
                    .collect()
            }

            async fn delegations_to(&self, username: &str, now: UnixTime) -> Result<Vec<DelegationRecord>, StoreError> {
                let now = now.as_secs();
                sqlx::query_as::<$db, delegations::Row>(delegations::TO_DELEGATE)
                    .bind(username)
                    .bind(now)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(delegations::delegation)
                    .collect()
            }

            async fn delegation_end(
                &self,
                id: &hcpki_model::DelegationId,
                physician_key: &str,
                event: &AuditEvent,
                at: UnixTime,
            ) -> Result<Option<(DelegationRecord, u64)>, StoreError> {
                let mut w = self.write(at).await?;
                let ended = sqlx::query_as::<$db, delegations::Row>(delegations::END)
                    .bind(id.as_str())
                    .bind(physician_key)
                    .bind(w.now())
                    .bind(&event.actor)
                    .fetch_optional(&mut *w.tx)
                    .await
                    .map_err(Self::err)?
                    .map(delegations::delegation)
                    .transpose()?;
                let Some(ended) = ended else { return Ok(None) };
                let revoked = sqlx::query::<$db>(delegations::REVOKE_GRANTS)
                    .bind(id.as_str())
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?
                    .rows_affected();
                w.append(event).await?;
                w.commit().await?;
                Ok(Some((ended, revoked)))
            }

            async fn delegation_choose(
                &self,
                session_hash: &str,
                id: Option<&hcpki_model::DelegationId>,
                event: &AuditEvent,
                at: UnixTime,
            ) -> Result<AuditEntry, StoreError> {
                let mut w = self.write(at).await?;
                let now = w.now();
                sqlx::query::<$db>(delegations::STOP)
                    .bind(session_hash)
                    .bind(now)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                if let Some(id) = id {
                    sqlx::query::<$db>(delegations::CHOOSE)
                        .bind(session_hash)
                        .bind(id.as_str())
                        .bind(now)
                        .execute(&mut *w.tx)
                        .await
                        .map_err(Self::err)?;
                }
                let entry = w.append(event).await?;
                w.commit().await?;
                Ok(entry)
            }

            async fn delegation_acting(&self, session_hash: &str) -> Result<Option<DelegationRecord>, StoreError> {
                sqlx::query_as::<$db, delegations::Row>(delegations::ACTING)
                    .bind(session_hash)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(delegations::delegation)
                    .transpose()
            }
        }
    };
}

pub(super) use delegations_store;
