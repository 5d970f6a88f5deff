//! SQL and row conversion of facilities' security officers (migration 0037, D155).

use crate::StoreError;
use crate::facility::security_officer::{NamedSecurityOfficer, SecurityOfficer};

pub(super) const PUT: &str = "INSERT INTO facility_security_officers (facility_id, name, contact, set_by, set_at) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (facility_id) DO UPDATE SET name = $2, contact = $3, set_by = $4, \
     set_at = $5";
pub(super) const OF_FACILITY: &str =
    "SELECT name, contact, set_by, set_at FROM facility_security_officers WHERE facility_id = $1";

/// A row of [`OF_FACILITY`].
pub(super) type Row = (String, String, String, i64);

pub(super) fn named(row: Row) -> Result<NamedSecurityOfficer, StoreError> {
    let (name, contact, set_by, set_at) = row;
    let officer =
        SecurityOfficer::parse(&name, &contact).map_err(|e| StoreError::Corrupt(format!("security officer: {e}")))?;
    Ok(NamedSecurityOfficer { officer, set_by, set_at })
}

/// `impl SecurityOfficers` for one backend (see [`super::writer`] for why a macro).
macro_rules! security_officers_store {
    ($store:ident, $db:ty) => {
        #[async_trait::async_trait]
        impl SecurityOfficers for $store {
            async fn set_security_officer(
                &self,
                facility: &FacilityId,
                officer: &SecurityOfficer,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<(), StoreError> {
                let mut w = self.write(at).await?;
                facility_settings::facility_must_exist!($db, w, facility);
                let before = sqlx::query_as::<$db, security_officers::Row>(security_officers::OF_FACILITY)
                    .bind(facility.as_str())
                    .fetch_optional(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let now = w.now();
                sqlx::query::<$db>(security_officers::PUT)
                    .bind(facility.as_str())
                    .bind(officer.name())
                    .bind(officer.contact())
                    .bind(actor.as_str())
                    .bind(now)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let detail = serde_json::json!({
                    "name": officer.name(),
                    "contact": officer.contact(),
                    "previous": before.map(|(name, contact, _, _)| serde_json::json!({ "name": name, "contact": contact })),
                });
                w.append(&sso::event("facility.security_officer", facility.as_str(), actor, detail)).await?;
                w.commit().await
            }

            async fn security_officer(
                &self,
                facility: &FacilityId,
            ) -> Result<Option<NamedSecurityOfficer>, StoreError> {
                sqlx::query_as::<$db, security_officers::Row>(security_officers::OF_FACILITY)
                    .bind(facility.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(security_officers::named)
                    .transpose()
            }
        }
    };
}
pub(super) use security_officers_store;
