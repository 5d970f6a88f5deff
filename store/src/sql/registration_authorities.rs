//! SQL and row conversion of registration authorities (migration 0043, D167).

use crate::StoreError;
use crate::facility::{FacilityId, MedicalInstitutionCode};
use crate::ra::{Placement, Prefecture, Ra, RaName};

pub(super) const INSERT: &str = "INSERT INTO registration_authorities (name, kind, label, prefectures, created_by, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6)";
pub(super) const LIST: &str = "SELECT name, kind, label, prefectures FROM registration_authorities ORDER BY name";
pub(super) const ONE: &str = "SELECT name, kind, label, prefectures FROM registration_authorities WHERE name = $1";
pub(super) const PROVIDER_OF: &str = "SELECT ra FROM ra_facilities WHERE facility_id = $1";
pub(super) const ASSIGN: &str = "INSERT INTO ra_facilities (facility_id, ra, assigned_by, assigned_at) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (facility_id) DO UPDATE SET ra = $2, assigned_by = $3, assigned_at = $4";
pub(super) const UNASSIGN: &str = "DELETE FROM ra_facilities WHERE facility_id = $1";
pub(super) const RA_OF_MEMBER: &str = "SELECT ra FROM ra_members WHERE member = $1";
pub(super) const PUT_MEMBER: &str = "INSERT INTO ra_members (member, ra, added_by, added_at) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (member) DO UPDATE SET ra = $2, added_by = $3, added_at = $4";
pub(super) const DROP_MEMBER: &str = "DELETE FROM ra_members WHERE member = $1";
pub(super) const MEMBERS: &str = "SELECT member, ra FROM ra_members ORDER BY member";
pub(super) const PLACEMENT: &str = "SELECT f.medical_code, a.ra FROM facilities f \
     LEFT JOIN ra_facilities a ON a.facility_id = f.id WHERE f.id = $1";

/// How a facility or a member points at its RA: the statements and the audit action.
pub(super) struct Link {
    pub(super) current: &'static str,
    pub(super) put: &'static str,
    pub(super) remove: &'static str,
    pub(super) action: &'static str,
    /// Only provider RAs (a facility's assignment; a prefecture RA's scope is its prefectures).
    pub(super) providers_only: bool,
}

pub(super) const FACILITY_LINK: Link =
    Link { current: PROVIDER_OF, put: ASSIGN, remove: UNASSIGN, action: "ra.assign", providers_only: true };
pub(super) const MEMBER_LINK: Link =
    Link { current: RA_OF_MEMBER, put: PUT_MEMBER, remove: DROP_MEMBER, action: "ra.member", providers_only: false };

/// A row of [`LIST`] and [`ONE`].
pub(super) type Row = (String, String, String, String);

pub(super) fn ra(row: Row) -> Result<Ra, StoreError> {
    let (name, kind, label, prefectures) = row;
    let corrupt = |e: crate::ra::RaError| StoreError::Corrupt(format!("registration authority {name}: {e}"));
    let prefectures = prefectures
        .split(',')
        .filter(|p| !p.is_empty())
        .map(Prefecture::parse)
        .collect::<Result<Vec<_>, _>>()
        .map_err(corrupt)?;
    Ra::new(RaName::parse(&name).map_err(corrupt)?, kind.parse().map_err(corrupt)?, &label, prefectures)
        .map_err(corrupt)
}

pub(super) fn placement(facility: &FacilityId, row: (Option<String>, Option<String>)) -> Result<Placement, StoreError> {
    let (code, provider) = row;
    let prefecture = code
        .map(|c| MedicalInstitutionCode::parse(&c))
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("facility {facility}: {e}")))?
        .as_ref()
        .and_then(Prefecture::of_code);
    let provider = provider
        .map(|p| RaName::parse(&p))
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("facility {facility}'s provider: {e}")))?;
    Ok(Placement { facility: facility.clone(), prefecture, provider })
}

/// `impl RegistrationAuthorities` for one backend (see [`super::writer`] for why a macro).
macro_rules! registration_authorities_store {
    ($store:ident, $db:ty) => {
        #[async_trait::async_trait]
        impl RegistrationAuthorities for $store {
            async fn create_ra(&self, ra: &Ra, actor: &Actor, at: UnixTime) -> Result<(), StoreError> {
                let mut w = self.write(at).await?;
                let exists = sqlx::query_as::<$db, registration_authorities::Row>(registration_authorities::ONE)
                    .bind(ra.name.as_str())
                    .fetch_optional(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                if exists.is_some() {
                    return Err(RaError::Exists(ra.name.clone()).into());
                }
                let now = w.now();
                sqlx::query::<$db>(registration_authorities::INSERT)
                    .bind(ra.name.as_str())
                    .bind(ra.kind.as_str())
                    .bind(&ra.label)
                    .bind(ra.prefecture_list())
                    .bind(actor.as_str())
                    .bind(now)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let detail = serde_json::json!({
                    "kind": ra.kind.as_str(), "label": ra.label, "prefectures": ra.prefecture_list(),
                });
                w.append(&sso::event("ra.create", ra.name.as_str(), actor, detail)).await?;
                w.commit().await
            }

            async fn list_ras(&self) -> Result<Vec<Ra>, StoreError> {
                sqlx::query_as::<$db, registration_authorities::Row>(registration_authorities::LIST)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(registration_authorities::ra)
                    .collect()
            }

            async fn ra(&self, name: &RaName) -> Result<Option<Ra>, StoreError> {
                sqlx::query_as::<$db, registration_authorities::Row>(registration_authorities::ONE)
                    .bind(name.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(registration_authorities::ra)
                    .transpose()
            }

            async fn assign_facility(
                &self,
                facility: &FacilityId,
                ra: Option<&RaName>,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<(), StoreError> {
                let mut w = self.write(at).await?;
                facility_settings::facility_must_exist!($db, w, facility);
                Self::link_to_ra(&mut w, &registration_authorities::FACILITY_LINK, facility.as_str(), ra, actor).await?;
                w.commit().await
            }

            async fn set_ra_member(
                &self,
                member: &Member,
                ra: Option<&RaName>,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<(), StoreError> {
                let mut w = self.write(at).await?;
                Self::link_to_ra(&mut w, &registration_authorities::MEMBER_LINK, member.as_str(), ra, actor).await?;
                w.commit().await
            }

            async fn ra_of_member(&self, member: &Member) -> Result<Option<Ra>, StoreError> {
                let name = sqlx::query_scalar::<$db, String>(registration_authorities::RA_OF_MEMBER)
                    .bind(member.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?;
                let Some(name) = name else { return Ok(None) };
                sqlx::query_as::<$db, registration_authorities::Row>(registration_authorities::ONE)
                    .bind(&name)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(registration_authorities::ra)
                    .transpose()?
                    .ok_or_else(|| StoreError::Corrupt(format!("{member} belongs to RA {name}, which is missing")))
                    .map(Some)
            }

            async fn ra_members(&self) -> Result<Vec<(Member, RaName)>, StoreError> {
                sqlx::query_as::<$db, (String, String)>(registration_authorities::MEMBERS)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(|(m, r)| {
                        let r = RaName::parse(&r).map_err(|e| StoreError::Corrupt(format!("RA member {m}: {e}")))?;
                        Ok((Member::from_stored(m), r))
                    })
                    .collect()
            }

            async fn placement(&self, facility: &FacilityId) -> Result<Option<Placement>, StoreError> {
                sqlx::query_as::<$db, (Option<String>, Option<String>)>(registration_authorities::PLACEMENT)
                    .bind(facility.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(|row| registration_authorities::placement(facility, row))
                    .transpose()
            }
        }

        impl $store {
            /// Point `key` (a facility, a member) at the RA `ra` or at none, as `link` says, audited with the RA
            /// before; the RA must exist (and be a provider, for facilities).
            async fn link_to_ra(
                w: &mut Writer<'_, $db>,
                link: &registration_authorities::Link,
                key: &str,
                ra: Option<&RaName>,
                actor: &Actor,
            ) -> Result<(), StoreError> {
                if let Some(name) = ra {
                    let found = sqlx::query_as::<$db, registration_authorities::Row>(registration_authorities::ONE)
                        .bind(name.as_str())
                        .fetch_optional(&mut *w.tx)
                        .await
                        .map_err(Self::err)?
                        .map(registration_authorities::ra)
                        .transpose()?;
                    match found {
                        None => return Err(RaError::Unknown(name.clone()).into()),
                        Some(r) if link.providers_only && r.kind != RaKind::Provider => {
                            return Err(RaError::NotProvider(name.clone()).into());
                        }
                        Some(_) => {}
                    }
                }
                let before = sqlx::query_scalar::<$db, String>(link.current)
                    .bind(key)
                    .fetch_optional(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let now = w.now();
                match ra {
                    Some(name) => sqlx::query::<$db>(link.put)
                        .bind(key)
                        .bind(name.as_str())
                        .bind(actor.as_str())
                        .bind(now)
                        .execute(&mut *w.tx)
                        .await
                        .map_err(Self::err)?,
                    None => sqlx::query::<$db>(link.remove).bind(key).execute(&mut *w.tx).await.map_err(Self::err)?,
                };
                let detail = serde_json::json!({ "ra": ra.map(RaName::as_str), "previous": before });
                w.append(&sso::event(link.action, key, actor, detail)).await.map(drop)
            }
        }
    };
}
pub(super) use registration_authorities_store;
