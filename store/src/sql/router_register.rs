//! SQL and row conversion of the router register (migration 0044, D168).

use crate::StoreError;
use crate::router::{RouterAuth, RouterModelRecord, RouterRecord};

pub(super) const MODELS: &str = "SELECT model, name, auth_methods, psk_vendor, tested, guide, approved_by, approved_at, \
     vendor, firmware FROM router_models ORDER BY model";
pub(super) const MODEL_DELETE: &str = "DELETE FROM router_models WHERE model = $1";
pub(super) const MODEL_INSERT: &str = "INSERT INTO router_models (model, name, auth_methods, psk_vendor, tested, \
     guide, approved_by, approved_at, vendor, firmware) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
pub(super) const ROUTERS: &str = "SELECT facility_id, name, model, firmware, auth_method, addresses, created_by, \
     created_at FROM routers WHERE ($1 IS NULL OR facility_id = $1) ORDER BY facility_id, name";
pub(super) const ROUTER: &str = "SELECT facility_id, name, model, firmware, auth_method, addresses, created_by, \
     created_at FROM routers WHERE facility_id = $1 AND name = $2";
pub(super) const ROUTER_INSERT: &str = "INSERT INTO routers (facility_id, name, model, firmware, auth_method, \
     addresses, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
pub(super) const ROUTER_DELETE: &str = "DELETE FROM routers WHERE facility_id = $1 AND name = $2";
pub(super) const SETTING: &str = "SELECT value FROM router_settings WHERE name = 'approved_models_only'";
pub(super) const SETTING_DELETE: &str = "DELETE FROM router_settings WHERE name = 'approved_models_only'";
pub(super) const SETTING_INSERT: &str = "INSERT INTO router_settings (name, value, changed_by, changed_at) \
     VALUES ('approved_models_only', $1, $2, $3)";

/// A row of [`MODELS`].
pub(super) type ModelRow = (String, String, String, Option<String>, String, String, String, i64, String, String);
/// A row of [`ROUTERS`] and [`ROUTER`].
pub(super) type RouterRow = (String, String, String, String, String, String, String, i64);

pub(super) fn model(row: ModelRow) -> Result<RouterModelRecord, StoreError> {
    let (model, name, methods, psk_vendor, tested, guide, approved_by, approved_at, vendor, firmware) = row;
    let auth_methods = methods
        .split_whitespace()
        .map(|m| m.parse::<RouterAuth>().map_err(|e| StoreError::Corrupt(format!("router_models {model}: {e}"))))
        .collect::<Result<_, _>>()?;
    Ok(RouterModelRecord {
        model,
        name,
        vendor,
        firmware,
        auth_methods,
        psk_vendor,
        tested,
        guide,
        approved_by,
        approved_at,
    })
}

pub(super) fn methods(m: &RouterModelRecord) -> String {
    m.auth_methods.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(" ")
}

pub(super) fn router(row: RouterRow) -> Result<RouterRecord, StoreError> {
    let (facility, name, model, firmware, auth, addresses, created_by, created_at) = row;
    let facility_id = facility.parse().map_err(|e| StoreError::Corrupt(format!("routers facility: {e}")))?;
    let auth = auth.parse().map_err(|e| StoreError::Corrupt(format!("routers {name}: {e}")))?;
    let addresses = addresses.split_whitespace().map(str::to_owned).collect();
    Ok(RouterRecord { facility_id, name, model, firmware, auth, addresses, created_by, created_at })
}

/// `impl RouterRegister` for one backend (see [`super::writer`] for why a macro), and the lookup its writes share.
macro_rules! router_register_store {
    ($store:ident, $db:ty) => {
        impl $store {
            /// The facility's router `name`, read inside the writer's transaction.
            async fn router_in(
                w: &mut Writer<'_, $db>,
                facility: &FacilityId,
                name: &str,
            ) -> Result<Option<RouterRecord>, StoreError> {
                sqlx::query_as::<$db, router_register::RouterRow>(router_register::ROUTER)
                    .bind(facility.as_str())
                    .bind(name)
                    .fetch_optional(&mut *w.tx)
                    .await
                    .map_err(Self::err)?
                    .map(router_register::router)
                    .transpose()
            }
        }

        #[async_trait::async_trait]
        impl RouterRegister for $store {
            async fn router_models(&self) -> Result<Vec<RouterModelRecord>, StoreError> {
                sqlx::query_as::<$db, router_register::ModelRow>(router_register::MODELS)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(router_register::model)
                    .collect()
            }

            async fn approve_router_model(
                &self,
                m: &RouterModelRecord,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<(), StoreError> {
                let mut w = self.write(at).await?;
                let now = w.now();
                let replaced = sqlx::query::<$db>(router_register::MODEL_DELETE)
                    .bind(&m.model)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?
                    .rows_affected()
                    > 0;
                sqlx::query::<$db>(router_register::MODEL_INSERT)
                    .bind(&m.model)
                    .bind(&m.name)
                    .bind(router_register::methods(m))
                    .bind(&m.psk_vendor)
                    .bind(&m.tested)
                    .bind(&m.guide)
                    .bind(actor.as_str())
                    .bind(now)
                    .bind(&m.vendor)
                    .bind(&m.firmware)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let detail = serde_json::json!({
                    "name": m.name, "vendor": m.vendor, "firmware": m.firmware,
                    "auth_methods": router_register::methods(m), "psk_vendor": m.psk_vendor,
                    "tested": m.tested, "replaced": replaced,
                });
                w.append(&sso::event("router.model.approve", &m.model, actor, detail)).await?;
                w.commit().await
            }

            async fn remove_router_model(&self, model: &str, actor: &Actor, at: UnixTime) -> Result<(), StoreError> {
                let mut w = self.write(at).await?;
                let gone = sqlx::query::<$db>(router_register::MODEL_DELETE)
                    .bind(model)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?
                    .rows_affected();
                if gone == 0 {
                    return Err(StoreError::UnknownRouterModel(model.to_owned()));
                }
                w.append(&sso::event("router.model.remove", model, actor, serde_json::json!({}))).await?;
                w.commit().await
            }

            async fn routers(&self, facility: Option<&FacilityId>) -> Result<Vec<RouterRecord>, StoreError> {
                sqlx::query_as::<$db, router_register::RouterRow>(router_register::ROUTERS)
                    .bind(facility.map(FacilityId::as_str))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(router_register::router)
                    .collect()
            }

            async fn add_router(&self, r: &RouterRecord, actor: &Actor, at: UnixTime) -> Result<(), StoreError> {
                let mut w = self.write(at).await?;
                if Self::fetch_facility(&mut *w.tx, r.facility_id.as_str()).await?.is_none() {
                    return Err(StoreError::UnknownFacility(r.facility_id.clone()));
                }
                if Self::router_in(&mut w, &r.facility_id, &r.name).await?.is_some() {
                    return Err(StoreError::RouterExists { facility: r.facility_id.clone(), name: r.name.clone() });
                }
                let now = w.now();
                sqlx::query::<$db>(router_register::ROUTER_INSERT)
                    .bind(r.facility_id.as_str())
                    .bind(&r.name)
                    .bind(&r.model)
                    .bind(&r.firmware)
                    .bind(r.auth.as_str())
                    .bind(r.addresses.join(" "))
                    .bind(actor.as_str())
                    .bind(now)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let detail = serde_json::json!({
                    "router": r.name, "model": r.model, "firmware": r.firmware, "auth": r.auth.as_str(),
                    "addresses": r.addresses,
                });
                w.append(&sso::event("router.add", r.facility_id.as_str(), actor, detail)).await?;
                w.commit().await
            }

            async fn remove_router(
                &self,
                facility: &FacilityId,
                name: &str,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<RouterRecord, StoreError> {
                let mut w = self.write(at).await?;
                let Some(record) = Self::router_in(&mut w, facility, name).await? else {
                    return Err(StoreError::UnknownRouter { facility: facility.clone(), name: name.to_owned() });
                };
                sqlx::query::<$db>(router_register::ROUTER_DELETE)
                    .bind(facility.as_str())
                    .bind(name)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let detail = serde_json::json!({ "router": name, "model": record.model });
                w.append(&sso::event("router.remove", facility.as_str(), actor, detail)).await?;
                w.commit().await?;
                Ok(record)
            }

            async fn approved_models_only(&self) -> Result<bool, StoreError> {
                let value = sqlx::query_scalar::<$db, String>(router_register::SETTING)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?;
                Ok(value.as_deref() == Some("on"))
            }

            async fn set_approved_models_only(&self, on: bool, actor: &Actor, at: UnixTime) -> Result<(), StoreError> {
                let mut w = self.write(at).await?;
                let now = w.now();
                sqlx::query::<$db>(router_register::SETTING_DELETE).execute(&mut *w.tx).await.map_err(Self::err)?;
                let value = if on { "on" } else { "off" };
                sqlx::query::<$db>(router_register::SETTING_INSERT)
                    .bind(value)
                    .bind(actor.as_str())
                    .bind(now)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let detail = serde_json::json!({ "approved_models_only": on });
                w.append(&sso::event("router.setting", "approved_models_only", actor, detail)).await?;
                w.commit().await
            }
        }
    };
}
pub(super) use router_register_store;
