//! `enrollment_store!`: [`crate::Enrollment`] on SQL, expanded once per backend (see [`super::writer`] for why
//! a macro): enrollment credentials and held SCEP requests.

macro_rules! enrollment_store {
    ($store:ident, $db:ty, $backend:expr) => {
        #[async_trait::async_trait]
        impl Enrollment for $store {
            async fn create_credential(&self, record: &CredentialRecord, actor: &Actor, at: UnixTime) -> Result<(), StoreError> {
                let mut w = self.write(at).await?;
                let facility = Self::fetch_facility(&mut *w.tx, record.facility.as_str())
                    .await?
                    .ok_or_else(|| StoreError::UnknownFacility(record.facility.clone()))?;
                if !facility.state.may_enroll() {
                    return Err(StoreError::FacilityState { id: facility.id, state: facility.state });
                }
                sqlx::query::<$db>(queries::INSERT_CREDENTIAL)
                    .bind(&record.id)
                    .bind(record.facility.as_str())
                    .bind(record.protocol.as_str())
                    .bind(record.profiles_text())
                    .bind(&record.salt)
                    .bind(&record.secret_hash)
                    .bind(&record.created_by)
                    .bind(record.created_at)
                    .bind(record.expires_at)
                    .bind(record.used_at)
                    .bind(record.used_by.as_deref())
                    .bind(record.revoked_at)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                w.append(&events::credential_created(record, actor)).await?;
                w.commit().await
            }

            async fn credential(&self, id: &str) -> Result<Option<CredentialRecord>, StoreError> {
                Self::fetch_credential(&self.pool, id).await
            }

            async fn list_credentials(
                &self,
                facility: Option<&FacilityId>,
            ) -> Result<Vec<CredentialRecord>, StoreError> {
                sqlx::query_as::<$db, rows::CredentialRow>(queries::LIST_CREDENTIALS)
                    .bind(facility.map(|f| f.as_str()))
                    .bind(rows::limit(None))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(rows::credential)
                    .collect()
            }

            async fn revoke_credential(&self, id: &str, actor: &Actor, at: UnixTime) -> Result<CredentialRecord, StoreError> {
                let mut w = self.write(at).await?;
                let mut record = Self::fetch_credential(&mut *w.tx, id)
                    .await?
                    .ok_or_else(|| StoreError::UnknownCredential(id.to_owned()))?;
                if record.revoked_at.is_some() {
                    return Ok(record);
                }
                let now = w.now();
                sqlx::query::<$db>(queries::REVOKE_CREDENTIAL)
                    .bind(now)
                    .bind(id)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                record.revoked_at = Some(now);
                let event = events::credential_event("revoke", &record, serde_json::json!({}), actor);
                w.append(&event).await?;
                w.commit().await?;
                Ok(record)
            }

            async fn redeem_credential(
                &self,
                id: &str,
                profile: ProfileKind,
                actor: &Actor, at: UnixTime,
            ) -> Result<(), StoreError> {
                let mut w = self.write(at).await?;
                let now = w.now();
                let done = sqlx::query::<$db>(queries::REDEEM_CREDENTIAL)
                    .bind(now)
                    .bind(actor.as_str())
                    .bind(id)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                if done.rows_affected() != 1 {
                    return Err(StoreError::CredentialSpent(id.to_owned()));
                }
                let record = Self::fetch_credential(&mut *w.tx, id)
                    .await?
                    .ok_or_else(|| StoreError::UnknownCredential(id.to_owned()))?;
                let detail = serde_json::json!({ "profile": profile.as_str() });
                w.append(&events::credential_event("use", &record, detail, actor)).await?;
                w.commit().await
            }

            async fn release_credential(&self, id: &str, reason: &str, actor: &Actor, at: UnixTime) -> Result<(), StoreError> {
                let mut w = self.write(at).await?;
                let record = Self::fetch_credential(&mut *w.tx, id)
                    .await?
                    .ok_or_else(|| StoreError::UnknownCredential(id.to_owned()))?;
                sqlx::query::<$db>(queries::RELEASE_CREDENTIAL)
                    .bind(id)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let detail = serde_json::json!({ "reason": reason });
                w.append(&events::credential_event("release", &record, detail, actor)).await?;
                w.commit().await
            }

            async fn hold_scep_request(&self, request: &HeldRequest, actor: &Actor, at: UnixTime) -> Result<(), StoreError> {
                let mut w = self.write(at).await?;
                let facility = Self::fetch_facility(&mut *w.tx, request.facility.as_str())
                    .await?
                    .ok_or_else(|| StoreError::UnknownFacility(request.facility.clone()))?;
                if !facility.state.may_enroll() {
                    return Err(StoreError::FacilityState { id: facility.id, state: facility.state });
                }
                let (serial, reason) = rows::held_outcome(&request.state);
                sqlx::query::<$db>(queries::INSERT_HELD)
                    .bind(&request.id)
                    .bind(&request.transaction_id)
                    .bind(request.profile.as_str())
                    .bind(request.facility.as_str())
                    .bind(&request.csr)
                    .bind(request.state.as_str())
                    .bind(serial)
                    .bind(reason)
                    .bind(request.created_at)
                    .bind(request.decided_at)
                    .bind(request.decided_by.as_deref())
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                w.append(&events::held_event("hold", request, actor)).await?;
                w.commit().await
            }

            async fn scep_request(&self, id: &str) -> Result<Option<HeldRequest>, StoreError> {
                sqlx::query_as::<$db, rows::HeldRow>(queries::HELD_BY_ID)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(rows::held)
                    .transpose()
            }

            async fn scep_request_by_transaction(
                &self,
                profile: ProfileKind,
                transaction_id: &str,
            ) -> Result<Option<HeldRequest>, StoreError> {
                sqlx::query_as::<$db, rows::HeldRow>(queries::HELD_BY_TRANSACTION)
                    .bind(profile.as_str())
                    .bind(transaction_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(rows::held)
                    .transpose()
            }

            async fn list_scep_requests(&self, state: Option<&str>) -> Result<Vec<HeldRequest>, StoreError> {
                sqlx::query_as::<$db, rows::HeldRow>(queries::LIST_HELD)
                    .bind(state)
                    .bind(rows::limit(None))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(rows::held)
                    .collect()
            }

            async fn decide_scep_request(
                &self,
                id: &str,
                decision: &HeldState,
                actor: &Actor, at: UnixTime,
            ) -> Result<HeldRequest, StoreError> {
                let mut w = self.write(at).await?;
                let now = w.now();
                let (serial, reason) = rows::held_outcome(decision);
                let done = sqlx::query::<$db>(queries::DECIDE_HELD)
                    .bind(decision.as_str())
                    .bind(serial)
                    .bind(reason)
                    .bind(now)
                    .bind(actor.as_str())
                    .bind(id)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                if done.rows_affected() != 1 {
                    return Err(StoreError::UnknownHeldRequest(id.to_owned()));
                }
                let request = sqlx::query_as::<$db, rows::HeldRow>(queries::HELD_BY_ID)
                    .bind(id)
                    .fetch_optional(&mut *w.tx)
                    .await
                    .map_err(Self::err)?
                    .map(rows::held)
                    .transpose()?
                    .ok_or_else(|| StoreError::UnknownHeldRequest(id.to_owned()))?;
                let verb = if matches!(decision, HeldState::Issued(_)) { "approve" } else { "reject" };
                w.append(&events::held_event(verb, &request, actor)).await?;
                w.commit().await?;
                Ok(request)
            }
        }
    };
}

pub(super) use enrollment_store;
