//! SQL, row conversion and audit events of facility address allocations (migration 0019, issue #24 item 2), and
//! `allocations_store!`, the per-backend bodies the `Facilities` impl (`facilities.rs`) calls.

use crate::audit::{AuditEvent, Outcome};
use crate::facility::{Allocation, FacilityId};
use crate::{Actor, AllocationRecord, StoreError};
use serde_json::json;

macro_rules! allocation_columns {
    () => {
        "facility_id, prefix, added_at, added_by"
    };
}

pub(super) const INSERT: &str = "INSERT INTO facility_allocations (facility_id, prefix, family, first_hex, last_hex, \
     added_at, added_by) VALUES ($1, $2, $3, $4, $5, $6, $7)";
/// The first stored allocation sharing an address with the range `$2`…`$3` of family `$1`. Fixed-width hex
/// compares as the numbers do, and stored allocations never overlap one another (this very check keeps them
/// apart), so only two can be the first: the one starting last at or before `$2` (if it reaches `$2`), else the
/// one starting first inside `$2`…`$3`. Two index seeks: `first_hex <= $3 AND last_hex >= $2` alone walked every
/// allocation below the range, so a national import slowed with each facility added (D174's measurement). Read
/// after the audit head lock, so of two concurrent adds the second sees the first.
pub(super) const OVERLAPPING: &str = concat!(
    "SELECT ",
    allocation_columns!(),
    " FROM (SELECT * FROM (SELECT ",
    allocation_columns!(),
    ", first_hex, last_hex FROM facility_allocations WHERE family = $1 AND first_hex <= $2 \
     ORDER BY first_hex DESC LIMIT 1) AS below WHERE last_hex >= $2 \
     UNION ALL SELECT * FROM (SELECT ",
    allocation_columns!(),
    ", first_hex, last_hex FROM facility_allocations WHERE family = $1 AND first_hex > $2 AND first_hex <= $3 \
     ORDER BY first_hex LIMIT 1) AS within_range) AS overlapping ORDER BY first_hex LIMIT 1"
);
/// [`OVERLAPPING`] outside a writing transaction: who holds an address now (issue #50 item 5).
pub(super) const HOLDING: &str = OVERLAPPING;
pub(super) const REMOVE: &str = concat!(
    "DELETE FROM facility_allocations WHERE facility_id = $1 AND prefix = $2 RETURNING ",
    allocation_columns!()
);
pub(super) const OF_FACILITY: &str = concat!(
    "SELECT ",
    allocation_columns!(),
    " FROM facility_allocations WHERE facility_id = $1 ORDER BY family, first_hex"
);
pub(super) const ALL: &str =
    concat!("SELECT ", allocation_columns!(), " FROM facility_allocations ORDER BY facility_id, family, first_hex");
/// [`OF_FACILITY`] for `n` facilities (`$1`…`$n`): one round trip for an issuance batch. Only the placeholder
/// count varies, never caller text.
pub(super) fn of_facilities(n: usize) -> String {
    format!(
        concat!("SELECT ", allocation_columns!(), " FROM facility_allocations WHERE facility_id IN ({})"),
        super::queries::placeholders(n)
    )
}

/// [`allocation_columns!`].
pub(super) type Row = (String, String, i64, String);

pub(super) fn record(row: Row) -> Result<AllocationRecord, StoreError> {
    let (facility, prefix, added_at, added_by) = row;
    let damaged = |why: String| StoreError::Corrupt(format!("allocation {prefix:?} of {facility}: {why}"));
    Ok(AllocationRecord {
        facility: FacilityId::parse(&facility).map_err(|e| damaged(e.to_string()))?,
        allocation: Allocation::parse(&prefix).map_err(|e| damaged(e.to_string()))?,
        added_at,
        added_by,
    })
}

/// `facility.address.add` or `.remove`, ok.
pub(super) fn event(verb: &str, r: &AllocationRecord, actor: &Actor) -> AuditEvent {
    AuditEvent {
        actor: actor.as_str().to_owned(),
        action: format!("facility.address.{verb}"),
        target: r.facility.to_string(),
        outcome: Outcome::Ok,
        detail: json!({ "prefix": r.allocation.to_string() }),
    }
}

macro_rules! allocations_store {
    ($store:ident, $db:ty) => {
        impl $store {
            /// Add one allocation inside a writing transaction (head lock held): refused when any stored
            /// allocation shares an address with it, naming the holder. Audited as `facility.address.add`.
            async fn insert_allocation(
                w: &mut Writer<'_, $db>,
                facility: &FacilityId,
                allocation: &Allocation,
                actor: &Actor,
            ) -> Result<AllocationRecord, StoreError> {
                if let Some(held) = Self::overlapping(&mut w.tx, allocation).await? {
                    return Err(StoreError::AllocationHeld {
                        asked: *allocation,
                        holder: held.facility,
                        held: held.allocation,
                    });
                }
                let record = AllocationRecord {
                    facility: facility.clone(),
                    allocation: *allocation,
                    added_at: w.now(),
                    added_by: actor.as_str().to_owned(),
                };
                sqlx::query::<$db>(allocations::INSERT)
                    .bind(facility.as_str())
                    .bind(allocation.to_string())
                    .bind(i64::from(allocation.family()))
                    .bind(allocation.first_hex())
                    .bind(allocation.last_hex())
                    .bind(record.added_at)
                    .bind(&record.added_by)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                w.append(&allocations::event("add", &record, actor)).await?;
                Ok(record)
            }

            /// The first stored allocation sharing an address with `allocation`, read inside the writing
            /// transaction (head lock held).
            async fn overlapping(
                tx: &mut <$db as sqlx::Database>::Connection,
                allocation: &Allocation,
            ) -> Result<Option<AllocationRecord>, StoreError> {
                sqlx::query_as::<$db, allocations::Row>(allocations::OVERLAPPING)
                    .bind(i64::from(allocation.family()))
                    .bind(allocation.first_hex())
                    .bind(allocation.last_hex())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(Self::err)?
                    .map(allocations::record)
                    .transpose()
            }

            async fn allocations_add(
                &self,
                facility: &FacilityId,
                allocation: &Allocation,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<AllocationRecord, StoreError> {
                let mut w = self.write(at).await?;
                facility_settings::facility_must_exist!($db, w, facility);
                let record = Self::insert_allocation(&mut w, facility, allocation, actor).await?;
                w.commit().await?;
                Ok(record)
            }

            async fn allocations_remove(
                &self,
                facility: &FacilityId,
                allocation: &Allocation,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<AllocationRecord, StoreError> {
                let mut w = self.write(at).await?;
                let removed = sqlx::query_as::<$db, allocations::Row>(allocations::REMOVE)
                    .bind(facility.as_str())
                    .bind(allocation.to_string())
                    .fetch_optional(&mut *w.tx)
                    .await
                    .map_err(Self::err)?
                    .map(allocations::record)
                    .transpose()?
                    .ok_or_else(|| StoreError::UnknownAllocation {
                        facility: facility.clone(),
                        allocation: *allocation,
                    })?;
                w.append(&allocations::event("remove", &removed, actor)).await?;
                w.commit().await?;
                Ok(removed)
            }

            async fn allocation_holding(
                &self,
                allocation: &Allocation,
            ) -> Result<Option<AllocationRecord>, StoreError> {
                sqlx::query_as::<$db, allocations::Row>(allocations::HOLDING)
                    .bind(i64::from(allocation.family()))
                    .bind(allocation.first_hex())
                    .bind(allocation.last_hex())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(allocations::record)
                    .transpose()
            }

            async fn allocations_list(
                &self,
                facility: Option<&FacilityId>,
            ) -> Result<Vec<AllocationRecord>, StoreError> {
                let rows = match facility {
                    Some(f) => {
                        sqlx::query_as::<$db, allocations::Row>(allocations::OF_FACILITY)
                            .bind(f.as_str())
                            .fetch_all(&self.pool)
                            .await
                    }
                    None => sqlx::query_as::<$db, allocations::Row>(allocations::ALL).fetch_all(&self.pool).await,
                };
                rows.map_err(Self::err)?.into_iter().map(allocations::record).collect()
            }

            async fn allocations_of_many(&self, ids: &[FacilityId]) -> Result<Vec<AllocationRecord>, StoreError> {
                let mut found = Vec::new();
                for chunk in ids.chunks(queries::MAX_IDS_PER_QUERY) {
                    let sql = allocations::of_facilities(chunk.len());
                    let mut query = sqlx::query_as::<$db, allocations::Row>(sqlx::AssertSqlSafe(sql));
                    for id in chunk {
                        query = query.bind(id.as_str());
                    }
                    for row in query.fetch_all(&self.pool).await.map_err(Self::err)? {
                        found.push(allocations::record(row)?);
                    }
                }
                Ok(found)
            }
        }
    };
}
pub(super) use allocations_store;
