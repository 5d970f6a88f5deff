//! SQL and row conversion of regional networks (migration 0045, D169), and `regional_networks_store!`, the
//! per-backend impl of its trait. The consents' queries are in `consents` (they read its columns).

use crate::StoreError;
use crate::traits::regional_networks::NetworkRecord;

macro_rules! network_columns {
    () => {
        "name, title, responsible_name, responsible_contact, items, purpose, joint_users, facilities, services, \
         declared_at, declared_by"
    };
}

pub(super) const GET: &str = concat!("SELECT ", network_columns!(), " FROM regional_networks WHERE name = $1");
pub(super) const ALL: &str = concat!("SELECT ", network_columns!(), " FROM regional_networks ORDER BY name");
pub(super) const UPSERT: &str = "INSERT INTO regional_networks (name, title, responsible_name, \
     responsible_contact, items, purpose, joint_users, facilities, services, declared_at, declared_by) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (name) DO UPDATE SET title = $2, \
     responsible_name = $3, responsible_contact = $4, items = $5, purpose = $6, joint_users = $7, facilities = $8, \
     services = $9, declared_at = $10, declared_by = $11";
/// A row of [`GET`].
#[derive(sqlx::FromRow)]
pub(super) struct Row {
    name: String,
    title: String,
    responsible_name: String,
    responsible_contact: String,
    items: String,
    purpose: String,
    joint_users: String,
    facilities: String,
    services: String,
    declared_at: i64,
    declared_by: String,
}

pub(super) fn record(row: Row) -> Result<NetworkRecord, StoreError> {
    let list = |what: &str, text: &str| {
        serde_json::from_str::<Vec<String>>(text)
            .map_err(|e| StoreError::Corrupt(format!("regional network {}: {what} {e}", row.name)))
    };
    let (facilities, services) = (list("facilities", &row.facilities)?, list("services", &row.services)?);
    Ok(NetworkRecord {
        name: row.name,
        title: row.title,
        responsible_name: row.responsible_name,
        responsible_contact: row.responsible_contact,
        items: row.items,
        purpose: row.purpose,
        joint_users: row.joint_users,
        facilities,
        services,
        declared_at: row.declared_at,
        declared_by: row.declared_by,
    })
}

/// A list as its column keeps it.
pub(super) fn list(items: &[String]) -> String {
    serde_json::Value::from(items.to_vec()).to_string()
}

/// `impl RegionalNetworks` for one backend (see [`super::writer`] for why a macro).
macro_rules! regional_networks_store {
    ($store:ident, $db:ty) => {
        #[async_trait::async_trait]
        impl RegionalNetworks for $store {
            async fn network_declare(
                &self,
                network: &NetworkRecord,
                event: &AuditEvent,
                at: UnixTime,
            ) -> Result<(), StoreError> {
                let mut w = self.write(at).await?;
                sqlx::query::<$db>(regional_networks::UPSERT)
                    .bind(&network.name)
                    .bind(&network.title)
                    .bind(&network.responsible_name)
                    .bind(&network.responsible_contact)
                    .bind(&network.items)
                    .bind(&network.purpose)
                    .bind(&network.joint_users)
                    .bind(regional_networks::list(&network.facilities))
                    .bind(regional_networks::list(&network.services))
                    .bind(network.declared_at)
                    .bind(&network.declared_by)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                w.append(event).await?;
                w.commit().await
            }

            async fn network(&self, name: &str) -> Result<Option<NetworkRecord>, StoreError> {
                sqlx::query_as::<$db, regional_networks::Row>(regional_networks::GET)
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(regional_networks::record)
                    .transpose()
            }

            async fn networks(&self) -> Result<Vec<NetworkRecord>, StoreError> {
                sqlx::query_as::<$db, regional_networks::Row>(regional_networks::ALL)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(regional_networks::record)
                    .collect()
            }

            async fn network_consents(&self, network: &str, limit: i64) -> Result<Vec<ConsentRecord>, StoreError> {
                sqlx::query_as::<$db, consents::Row>(consents::NETWORK_CONSENTS)
                    .bind(network)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(consents::consent)
                    .collect()
            }

            async fn network_withdrawn_since(
                &self,
                network: &str,
                since: UnixTime,
                limit: i64,
            ) -> Result<Vec<ConsentRecord>, StoreError> {
                sqlx::query_as::<$db, consents::Row>(consents::NETWORK_WITHDRAWN_SINCE)
                    .bind(network)
                    .bind(since.as_secs())
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(consents::consent)
                    .collect()
            }
        }
    };
}
pub(super) use regional_networks_store;
