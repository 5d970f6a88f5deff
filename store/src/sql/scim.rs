//! SQL of SCIM provisioning (migration 0039, D158): `scim_clients` binds an OIDC client to one facility,
//! `scim_accounts` a password + TOTP account (`portal_users`) to one facility.

use crate::StoreError;
use crate::facility::FacilityId;
use crate::traits::scim::{ScimAccount, ScimClientRecord};

pub(super) const CLIENT_PUT: &str = "INSERT INTO scim_clients (client_id, facility_id, added_by, added_at) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (client_id) DO UPDATE SET facility_id = $2, added_by = $3, added_at = $4";
pub(super) const CLIENT: &str =
    "SELECT client_id, facility_id, added_by, added_at FROM scim_clients WHERE client_id = $1";
pub(super) const CLIENTS: &str =
    "SELECT client_id, facility_id, added_by, added_at FROM scim_clients ORDER BY client_id";
pub(super) const CLIENT_REMOVE: &str = "DELETE FROM scim_clients WHERE client_id = $1";
pub(super) const USER_EXISTS: &str = "SELECT COUNT(*) FROM portal_users WHERE username = $1";
pub(super) const ACCOUNT_INSERT: &str = "INSERT INTO scim_accounts (username, facility_id, external_id, updated_at) \
     VALUES ($1, $2, $3, $4)";
pub(super) const ACCOUNT_UPDATE: &str =
    "UPDATE scim_accounts SET external_id = $3, updated_at = $4 WHERE facility_id = $1 AND username = $2";
pub(super) const USER_UPDATE: &str = "UPDATE portal_users SET display_name = $2, hc_role = $3, \
     password_hash = COALESCE($4, password_hash) WHERE username = $1";
pub(super) const ACCOUNT_FACILITY: &str = "SELECT facility_id FROM scim_accounts WHERE username = $1";
pub(super) const ACCOUNT_RELEASE: &str = "DELETE FROM scim_accounts WHERE facility_id = $1 AND username = $2";

/// The columns of an account row: the portal user's, then the provisioning row's and the passkey count.
macro_rules! account_select {
    ($where:literal) => {
        concat!(
            "SELECT u.username, u.display_name, u.hc_role, u.password_hash, u.totp_secret, u.last_totp_step, ",
            "u.created_by, u.created_at, u.disabled_at, a.facility_id, a.external_id, a.updated_at, ",
            "(SELECT COUNT(*) FROM passkeys p WHERE p.person_key = 'pwd:' || u.username AND p.revoked_at IS NULL) ",
            "FROM scim_accounts a JOIN portal_users u ON u.username = a.username ",
            $where
        )
    };
}
pub(super) const ACCOUNTS: &str = account_select!("WHERE a.facility_id = $1 ORDER BY u.username");
pub(super) const ACCOUNT: &str = account_select!("WHERE a.facility_id = $1 AND a.username = $2");

/// A row of [`CLIENT`].
pub(super) type ClientRow = (String, String, String, i64);
/// A row of [`ACCOUNTS`].
pub(super) type AccountRow =
    (String, String, Option<String>, String, String, i64, String, i64, Option<i64>, String, Option<String>, i64, i64);

pub(super) fn client(row: ClientRow) -> Result<ScimClientRecord, StoreError> {
    let (client_id, facility, added_by, added_at) = row;
    Ok(ScimClientRecord { client_id, facility: facility_id(&facility)?, added_by, added_at })
}

pub(super) fn account(r: AccountRow) -> Result<ScimAccount, StoreError> {
    let user = super::sso::user((r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8));
    Ok(ScimAccount { user, facility: facility_id(&r.9)?, external_id: r.10, updated_at: r.11, passkeys: r.12 })
}

pub(super) fn facility_id(text: &str) -> Result<FacilityId, StoreError> {
    text.parse().map_err(|_| StoreError::Corrupt(format!("SCIM facility id {text:?}")))
}

/// `impl ScimAccounts` for one backend (see [`super::writer`] for why a macro).
macro_rules! scim_store {
    ($store:ident, $db:ty) => {
        #[async_trait::async_trait]
        impl ScimAccounts for $store {
            async fn scim_client_put(&self, record: &ScimClientRecord, actor: &Actor, at: UnixTime) -> Result<(), StoreError> {
                let mut w = self.write(at).await?;
                facility_settings::facility_must_exist!($db, w, record.facility);
                sqlx::query::<$db>(scim::CLIENT_PUT)
                    .bind(&record.client_id)
                    .bind(record.facility.as_str())
                    .bind(actor.as_str())
                    .bind(w.now())
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let detail = serde_json::json!({ "facility": record.facility.as_str() });
                w.append(&sso::event("scim.client.put", &record.client_id, actor, detail)).await?;
                w.commit().await
            }

            async fn scim_client(&self, client_id: &str) -> Result<Option<ScimClientRecord>, StoreError> {
                sqlx::query_as::<$db, scim::ClientRow>(scim::CLIENT)
                    .bind(client_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(scim::client)
                    .transpose()
            }

            async fn scim_clients(&self) -> Result<Vec<ScimClientRecord>, StoreError> {
                sqlx::query_as::<$db, scim::ClientRow>(scim::CLIENTS)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(scim::client)
                    .collect()
            }

            async fn scim_client_remove(&self, client_id: &str, actor: &Actor, at: UnixTime) -> Result<bool, StoreError> {
                let mut w = self.write(at).await?;
                let removed = sqlx::query::<$db>(scim::CLIENT_REMOVE)
                    .bind(client_id)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?
                    .rows_affected()
                    == 1;
                if !removed {
                    return Ok(false);
                }
                w.append(&sso::event("scim.client.remove", client_id, actor, serde_json::Value::Null)).await?;
                w.commit().await?;
                Ok(true)
            }

            async fn scim_accounts(&self, facility: &FacilityId) -> Result<Vec<ScimAccount>, StoreError> {
                sqlx::query_as::<$db, scim::AccountRow>(scim::ACCOUNTS)
                    .bind(facility.as_str())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(scim::account)
                    .collect()
            }

            async fn scim_account_facility(&self, username: &str) -> Result<Option<FacilityId>, StoreError> {
                sqlx::query_scalar::<$db, String>(scim::ACCOUNT_FACILITY)
                    .bind(username)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(|f| scim::facility_id(&f))
                    .transpose()
            }

            async fn scim_account(&self, facility: &FacilityId, username: &str) -> Result<Option<ScimAccount>, StoreError> {
                sqlx::query_as::<$db, scim::AccountRow>(scim::ACCOUNT)
                    .bind(facility.as_str())
                    .bind(username)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(scim::account)
                    .transpose()
            }

            async fn scim_account_add(
                &self,
                user: &PortalUser,
                facility: &FacilityId,
                external_id: Option<&str>,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<bool, StoreError> {
                let mut w = self.write(at).await?;
                let taken = sqlx::query_scalar::<$db, i64>(scim::USER_EXISTS)
                    .bind(&user.username)
                    .fetch_one(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                if taken != 0 {
                    return Ok(false);
                }
                Self::insert_user_in(&mut w.tx, user).await?;
                sqlx::query::<$db>(scim::ACCOUNT_INSERT)
                    .bind(&user.username)
                    .bind(facility.as_str())
                    .bind(external_id)
                    .bind(w.now())
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let detail = serde_json::json!({
                    "display_name": user.display_name,
                    "hc_role": user.hc_role,
                    "facility": facility.as_str(),
                    "external_id": external_id,
                });
                w.append(&sso::event("portal.user.add", &user.username, actor, detail)).await?;
                w.commit().await?;
                Ok(true)
            }

            async fn scim_account_update(
                &self,
                facility: &FacilityId,
                change: &ScimAccountChange<'_>,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<bool, StoreError> {
                let mut w = self.write(at).await?;
                let found = sqlx::query::<$db>(scim::ACCOUNT_UPDATE)
                    .bind(facility.as_str())
                    .bind(change.username)
                    .bind(change.external_id)
                    .bind(w.now())
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?
                    .rows_affected()
                    == 1;
                if !found {
                    return Ok(false);
                }
                sqlx::query::<$db>(scim::USER_UPDATE)
                    .bind(change.username)
                    .bind(change.display_name)
                    .bind(change.hc_role)
                    .bind(change.password_hash)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let detail = serde_json::json!({
                    "display_name": change.display_name,
                    "hc_role": change.hc_role,
                    "facility": facility.as_str(),
                    "external_id": change.external_id,
                    "password_changed": change.password_hash.is_some(),
                });
                w.append(&sso::event("portal.user.update", change.username, actor, detail)).await?;
                w.commit().await?;
                Ok(true)
            }

            async fn scim_account_release(
                &self,
                facility: &FacilityId,
                username: &str,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<bool, StoreError> {
                let mut w = self.write(at).await?;
                let released = sqlx::query::<$db>(scim::ACCOUNT_RELEASE)
                    .bind(facility.as_str())
                    .bind(username)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?
                    .rows_affected()
                    == 1;
                if !released {
                    return Ok(false);
                }
                let detail = serde_json::json!({ "facility": facility.as_str() });
                w.append(&sso::event("scim.user.delete", username, actor, detail)).await?;
                w.commit().await?;
                Ok(true)
            }
        }
    };
}
pub(super) use scim_store;
