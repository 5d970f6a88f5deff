//! SQL and row conversion of routers' pre-shared keys (migration 0038, D156).

use crate::StoreError;
use crate::router_psk::RouterPskRecord;

pub(super) const INSERT: &str = "INSERT INTO router_psks (key_id, facility_id, peer, remote_id, vendor, sealed, \
     created_by, created_at, retires_at, withdrawn_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL)";
pub(super) const SET_RETIRES: &str = "UPDATE router_psks SET retires_at = $2 WHERE key_id = $1";
pub(super) const WITHDRAW_FACILITY: &str =
    "UPDATE router_psks SET withdrawn_at = $2 WHERE facility_id = $1 AND withdrawn_at IS NULL";
pub(super) const WITHDRAW_KEY: &str = "UPDATE router_psks SET withdrawn_at = $2 WHERE key_id = $1";
pub(super) const IDS_NOT_WITHDRAWN: &str =
    "SELECT key_id FROM router_psks WHERE facility_id = $1 AND withdrawn_at IS NULL ORDER BY key_id";

pub(super) const OF_FACILITY_PEER: &str = "SELECT key_id, facility_id, peer, remote_id, vendor, sealed, created_by, created_at, retires_at, \
     withdrawn_at FROM router_psks WHERE facility_id = $1 AND peer = $2 AND withdrawn_at IS NULL";
pub(super) const BY_ID: &str = "SELECT key_id, facility_id, peer, remote_id, vendor, sealed, created_by, created_at, retires_at, \
     withdrawn_at FROM router_psks WHERE key_id = $1";
pub(super) const OF_FACILITY: &str = "SELECT key_id, facility_id, peer, remote_id, vendor, sealed, created_by, created_at, retires_at, \
     withdrawn_at FROM router_psks WHERE facility_id = $1 ORDER BY created_at DESC, key_id";
pub(super) const OF_PEER: &str = "SELECT key_id, facility_id, peer, remote_id, vendor, sealed, created_by, created_at, retires_at, \
     withdrawn_at FROM router_psks WHERE peer = $1 AND withdrawn_at IS NULL ORDER BY facility_id, created_at";

/// A row of the selects above.
pub(super) type Row = (String, String, String, String, String, String, String, i64, Option<i64>, Option<i64>);

pub(super) fn record(row: Row) -> Result<RouterPskRecord, StoreError> {
    let (key_id, facility, peer, remote_id, vendor, sealed, created_by, created_at, retires_at, withdrawn_at) = row;
    let facility_id = facility.parse().map_err(|e| StoreError::Corrupt(format!("router_psks facility: {e}")))?;
    Ok(RouterPskRecord {
        key_id,
        facility_id,
        peer,
        remote_id,
        vendor,
        sealed,
        created_by,
        created_at,
        retires_at,
        withdrawn_at,
    })
}

/// `impl RouterPsks` for one backend (see [`super::writer`] for why a macro), and the withdrawal the facility
/// transitions call inside their own transaction.
macro_rules! router_psks_store {
    ($store:ident, $db:ty) => {
        impl $store {
            /// The key `key_id` if it is `facility`'s and works now, else [`StoreError::PskUnavailable`].
            async fn psk_working_in(
                w: &mut Writer<'_, $db>,
                facility: &FacilityId,
                key_id: &str,
            ) -> Result<RouterPskRecord, StoreError> {
                let now = w.now();
                sqlx::query_as::<$db, router_psks::Row>(router_psks::BY_ID)
                    .bind(key_id)
                    .fetch_optional(&mut *w.tx)
                    .await
                    .map_err(Self::err)?
                    .map(router_psks::record)
                    .transpose()?
                    .filter(|r| &r.facility_id == facility && r.works_at(now))
                    .ok_or_else(|| StoreError::PskUnavailable(key_id.to_owned()))
            }

            /// Withdraw every key of `facility` inside a suspension's or retirement's transaction, audited as
            /// `psk.withdraw` with their ids when there were any.
            async fn psk_withdraw_in(
                w: &mut Writer<'_, $db>,
                facility: &FacilityId,
                actor: &Actor,
            ) -> Result<(), StoreError> {
                let ids = sqlx::query_scalar::<$db, String>(router_psks::IDS_NOT_WITHDRAWN)
                    .bind(facility.as_str())
                    .fetch_all(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                if ids.is_empty() {
                    return Ok(());
                }
                let now = w.now();
                sqlx::query::<$db>(router_psks::WITHDRAW_FACILITY)
                    .bind(facility.as_str())
                    .bind(now)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let detail = serde_json::json!({ "key_ids": ids });
                w.append(&sso::event("psk.withdraw", facility.as_str(), actor, detail)).await?;
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl RouterPsks for $store {
            async fn psk_issue(
                &self,
                new: &RouterPskRecord,
                overlap_secs: i64,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<(), StoreError> {
                let mut w = self.write(at).await?;
                let facility = Self::fetch_facility(&mut *w.tx, new.facility_id.as_str())
                    .await?
                    .ok_or_else(|| StoreError::UnknownFacility(new.facility_id.clone()))?;
                if !facility.state.may_enroll() {
                    return Err(StoreError::FacilityState { id: facility.id, state: facility.state });
                }
                let now = w.now();
                let kept = sqlx::query_as::<$db, router_psks::Row>(router_psks::OF_FACILITY_PEER)
                    .bind(new.facility_id.as_str())
                    .bind(&new.peer)
                    .fetch_all(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let mut rotated = Vec::new();
                for old in kept.into_iter().map(router_psks::record) {
                    let old = old?;
                    if !old.works_at(now) {
                        continue;
                    }
                    let until = hcpki_model::overlap::retired_by_rotation(old.retires_at, now, overlap_secs);
                    sqlx::query::<$db>(router_psks::SET_RETIRES)
                        .bind(&old.key_id)
                        .bind(until)
                        .execute(&mut *w.tx)
                        .await
                        .map_err(Self::err)?;
                    rotated.push(serde_json::json!({ "key_id": old.key_id, "retires_at": until }));
                }
                sqlx::query::<$db>(router_psks::INSERT)
                    .bind(&new.key_id)
                    .bind(new.facility_id.as_str())
                    .bind(&new.peer)
                    .bind(&new.remote_id)
                    .bind(&new.vendor)
                    .bind(&new.sealed)
                    .bind(actor.as_str())
                    .bind(now)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let action = if rotated.is_empty() { "psk.issue" } else { "psk.rotate" };
                let detail = serde_json::json!({
                    "key_id": new.key_id,
                    "peer": new.peer,
                    "remote_id": new.remote_id,
                    "vendor": new.vendor,
                    "rotated_out": rotated,
                });
                w.append(&sso::event(action, new.facility_id.as_str(), actor, detail)).await?;
                w.commit().await
            }

            async fn psk_view(
                &self,
                facility: &FacilityId,
                key_id: &str,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<RouterPskRecord, StoreError> {
                let mut w = self.write(at).await?;
                let record = Self::psk_working_in(&mut w, facility, key_id).await?;
                let detail = serde_json::json!({ "key_id": record.key_id, "peer": record.peer });
                w.append(&sso::event("psk.view", facility.as_str(), actor, detail)).await?;
                w.commit().await?;
                Ok(record)
            }

            async fn psk_withdraw(
                &self,
                facility: &FacilityId,
                key_id: &str,
                reason: &str,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<RouterPskRecord, StoreError> {
                let mut w = self.write(at).await?;
                let now = w.now();
                let mut record = Self::psk_working_in(&mut w, facility, key_id).await?;
                sqlx::query::<$db>(router_psks::WITHDRAW_KEY)
                    .bind(key_id)
                    .bind(now)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                record.withdrawn_at = Some(now);
                let detail = serde_json::json!({ "key_ids": [key_id], "peer": record.peer, "reason": reason });
                w.append(&sso::event("psk.withdraw", facility.as_str(), actor, detail)).await?;
                w.commit().await?;
                Ok(record)
            }

            async fn psk_list(&self, facility: &FacilityId) -> Result<Vec<RouterPskRecord>, StoreError> {
                sqlx::query_as::<$db, router_psks::Row>(router_psks::OF_FACILITY)
                    .bind(facility.as_str())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(router_psks::record)
                    .collect()
            }

            async fn psk_hub_export(
                &self,
                peer: &str,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<Vec<RouterPskRecord>, StoreError> {
                let mut w = self.write(at).await?;
                let now = w.now();
                let mut working = Vec::new();
                for row in sqlx::query_as::<$db, router_psks::Row>(router_psks::OF_PEER)
                    .bind(peer)
                    .fetch_all(&mut *w.tx)
                    .await
                    .map_err(Self::err)?
                {
                    let r = router_psks::record(row)?;
                    if r.works_at(now) {
                        working.push(r);
                    }
                }
                let ids: Vec<&str> = working.iter().map(|r| r.key_id.as_str()).collect();
                let detail = serde_json::json!({ "peer": peer, "key_ids": ids });
                w.append(&sso::event("psk.hub_export", peer, actor, detail)).await?;
                w.commit().await?;
                Ok(working)
            }
        }
    };
}
pub(super) use router_psks_store;
