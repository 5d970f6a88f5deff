//! What the writes about one registered facility share (its settings — the security officer D155, the passkey
//! rule D170, the signing-session limit D172 — and its allocations, its RA, its SCIM client): a transaction that
//! first checks the facility exists.

/// Inside a store impl's write `w` on backend `$db`: return [`StoreError::UnknownFacility`] unless `$facility`
/// (a `&FacilityId`) is registered.
///
/// [`StoreError::UnknownFacility`]: crate::StoreError::UnknownFacility
macro_rules! facility_must_exist {
    ($db:ty, $w:expr, $facility:expr) => {{
        let exists = sqlx::query_scalar::<$db, i64>("SELECT COUNT(*) FROM facilities WHERE id = $1")
            .bind($facility.as_str())
            .fetch_one(&mut *$w.tx)
            .await
            .map_err(Self::err)?;
        if exists == 0 {
            return Err(StoreError::UnknownFacility($facility.clone()));
        }
    }};
}
pub(super) use facility_must_exist;
