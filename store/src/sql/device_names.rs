//! SQL and row conversion of device display names (migration 0029, D134).

use crate::StoreError;
use crate::facility::device_name::{DeviceName, NamedDevice};

pub(super) const PUT: &str = "INSERT INTO device_names (facility_id, device, name, named_by, named_at) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (facility_id, device) DO UPDATE SET name = $3, named_by = $4, \
     named_at = $5";
pub(super) const NAME_OF: &str = "SELECT name FROM device_names WHERE facility_id = $1 AND device = $2";
pub(super) const OF_FACILITY: &str =
    "SELECT device, name, named_by, named_at FROM device_names WHERE facility_id = $1 ORDER BY device";

/// A row of [`OF_FACILITY`].
pub(super) type Row = (String, String, String, i64);

pub(super) fn named(row: Row) -> Result<NamedDevice, StoreError> {
    let (device, name, named_by, named_at) = row;
    let name = DeviceName::parse(&name).map_err(|e| StoreError::Corrupt(format!("device name of {device}: {e}")))?;
    Ok(NamedDevice { device, name, named_by, named_at })
}

/// `impl DeviceNames` for one backend (see [`super::writer`] for why a macro).
macro_rules! device_names_store {
    ($store:ident, $db:ty) => {
        #[async_trait::async_trait]
        impl DeviceNames for $store {
            async fn name_device(
                &self,
                facility: &FacilityId,
                device: &str,
                name: &DeviceName,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<(), StoreError> {
                let mut w = self.write(at).await?;
                let before = sqlx::query_scalar::<$db, String>(device_names::NAME_OF)
                    .bind(facility.as_str())
                    .bind(device)
                    .fetch_optional(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let now = w.now();
                sqlx::query::<$db>(device_names::PUT)
                    .bind(facility.as_str())
                    .bind(device)
                    .bind(name.as_str())
                    .bind(actor.as_str())
                    .bind(now)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let detail = serde_json::json!({ "device": device, "name": name.as_str(), "previous": before });
                w.append(&sso::event("facility.device.name", facility.as_str(), actor, detail)).await?;
                w.commit().await
            }

            async fn device_names(&self, facility: &FacilityId) -> Result<Vec<NamedDevice>, StoreError> {
                sqlx::query_as::<$db, device_names::Row>(device_names::OF_FACILITY)
                    .bind(facility.as_str())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(device_names::named)
                    .collect()
            }
        }
    };
}
pub(super) use device_names_store;
