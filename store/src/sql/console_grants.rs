//! SQL and row conversion of console grants (migration 0015, D42).

use crate::StoreError;
use crate::console_grant::{ConsoleGrant, ConsoleRole};

macro_rules! grant_columns {
    () => {
        "person_key, role, facility_id, note, granted_at, granted_by"
    };
}

pub(super) const PUT: &str = concat!(
    "INSERT INTO console_grants (",
    grant_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (person_key) DO UPDATE SET role = $2, facility_id = $3, \
     note = $4, granted_at = $5, granted_by = $6"
);
pub(super) const BY_PERSON: &str = concat!("SELECT ", grant_columns!(), " FROM console_grants WHERE person_key = $1");
pub(super) const LIST: &str = concat!("SELECT ", grant_columns!(), " FROM console_grants ORDER BY person_key");
pub(super) const REMOVE: &str =
    concat!("DELETE FROM console_grants WHERE person_key = $1 RETURNING ", grant_columns!());

/// [`grant_columns!`].
pub(super) type Row = (String, String, Option<String>, String, i64, String);

pub(super) fn grant(row: Row) -> Result<ConsoleGrant, StoreError> {
    let (person_key, role, facility, note, granted_at, granted_by) = row;
    let role = ConsoleRole::parse(&role, facility.as_deref())
        .map_err(|e| StoreError::Corrupt(format!("console grant of {person_key}: {e}")))?;
    Ok(ConsoleGrant { person_key, role, note, granted_at, granted_by })
}

/// The audit detail of a grant change.
pub(super) fn detail(grant: &ConsoleGrant) -> serde_json::Value {
    serde_json::json!({ "role": grant.role.name(), "facility": grant.role.facility().map(|f| f.as_str()),
        "note": grant.note })
}

/// `impl ConsoleGrants` for one backend (see [`super::writer`] for why a macro).
macro_rules! console_grants_store {
    ($store:ident, $db:ty, $backend:expr) => {
        #[async_trait::async_trait]
        impl ConsoleGrants for $store {
            async fn console_grant_put(&self, grant: &ConsoleGrant, actor: &Actor, at: UnixTime) -> Result<(), StoreError> {
                let mut w = self.write(at).await?;
                sqlx::query::<$db>(console_grants::PUT)
                    .bind(&grant.person_key)
                    .bind(grant.role.name())
                    .bind(grant.role.facility().map(|f| f.as_str()))
                    .bind(&grant.note)
                    .bind(grant.granted_at)
                    .bind(&grant.granted_by)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let event = sso::event("console.grant.add", &grant.person_key, actor, console_grants::detail(grant));
                w.append(&event).await?;
                w.commit().await
            }

            async fn facility_admin_password_totp(&self, facility: &FacilityId) -> Result<bool, StoreError> {
                let n = sqlx::query_scalar::<$db, i64>(sso::ADMIN_PASSWORD_TOTP)
                    .bind(facility.as_str())
                    .fetch_one(&self.pool)
                    .await
                    .map_err(Self::err)?;
                Ok(n > 0)
            }

            async fn set_facility_admin_password_totp(
                &self,
                facility: &FacilityId,
                allowed: bool,
                actor: &Actor, at: UnixTime,
            ) -> Result<bool, StoreError> {
                let mut w = self.write(at).await?;
                if Self::fetch_facility(&mut *w.tx, facility.as_str()).await?.is_none() {
                    return Err(StoreError::UnknownFacility(facility.clone()));
                }
                let done = if allowed {
                    sqlx::query::<$db>(sso::ALLOW_ADMIN_PASSWORD_TOTP)
                        .bind(facility.as_str())
                        .bind(actor.as_str())
                        .bind(w.now())
                        .execute(&mut *w.tx)
                        .await
                } else {
                    sqlx::query::<$db>(sso::DENY_ADMIN_PASSWORD_TOTP).bind(facility.as_str()).execute(&mut *w.tx).await
                };
                if done.map_err(Self::err)?.rows_affected() == 0 {
                    return Ok(false);
                }
                let detail = serde_json::json!({ "password_totp": if allowed { "allow" } else { "deny" } });
                let event = sso::event("facility.admin_login", facility.as_str(), actor, detail);
                w.append(&event).await?;
                w.commit().await?;
                Ok(true)
            }

            async fn console_grant(&self, person_key: &str) -> Result<Option<ConsoleGrant>, StoreError> {
                sqlx::query_as::<$db, console_grants::Row>(console_grants::BY_PERSON)
                    .bind(person_key)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(console_grants::grant)
                    .transpose()
            }

            async fn console_grants(&self) -> Result<Vec<ConsoleGrant>, StoreError> {
                sqlx::query_as::<$db, console_grants::Row>(console_grants::LIST)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(console_grants::grant)
                    .collect()
            }

            async fn console_grant_remove(
                &self,
                person_key: &str,
                actor: &Actor, at: UnixTime,
            ) -> Result<Option<ConsoleGrant>, StoreError> {
                let mut w = self.write(at).await?;
                let removed = sqlx::query_as::<$db, console_grants::Row>(console_grants::REMOVE)
                    .bind(person_key)
                    .fetch_optional(&mut *w.tx)
                    .await
                    .map_err(Self::err)?
                    .map(console_grants::grant)
                    .transpose()?;
                let Some(grant) = removed else { return Ok(None) };
                let event = sso::event("console.grant.remove", person_key, actor, console_grants::detail(&grant));
                w.append(&event).await?;
                w.commit().await?;
                Ok(Some(grant))
            }
        }
    };
}

pub(super) use console_grants_store;
