//! `services_store!`: [`crate::Services`] on SQL, expanded once per backend (see [`super::writer`] for why a
//! macro): SSO portal's services.

macro_rules! services_store {
    ($store:ident, $db:ty, $backend:expr) => {
        #[async_trait::async_trait]
        impl Services for $store {
            async fn portal_services(&self) -> Result<(Vec<ServiceRecord>, i64, bool), StoreError> {
                // One transaction: the generation belongs to the rows read with it.
                let mut tx = self.pool.begin().await.map_err(Self::err)?;
                let rows = sqlx::query_as::<$db, sso::ServiceRow>(sso::LIST_SERVICES)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(Self::err)?;
                let (generation, seeded) = sqlx::query_as::<$db, (i64, i64)>(sso::SERVICES_HEAD)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(Self::err)?;
                tx.commit().await.map_err(Self::err)?;
                Ok((rows.into_iter().map(sso::service).collect(), generation, seeded > 0))
            }

            async fn portal_services_generation(&self) -> Result<i64, StoreError> {
                sqlx::query_as::<$db, (i64, i64)>(sso::SERVICES_HEAD)
                    .fetch_one(&self.pool)
                    .await
                    .map(|(generation, _)| generation)
                    .map_err(Self::err)
            }

            async fn portal_put_services(
                &self,
                services: &[ServiceRecord],
                replace: bool,
                seed: bool,
                actor: &Actor, at: UnixTime,
            ) -> Result<bool, StoreError> {
                let mut w = self.write(at).await?;
                if seed {
                    let (_, seeded) = sqlx::query_as::<$db, (i64, i64)>(sso::SERVICES_HEAD)
                        .fetch_one(&mut *w.tx)
                        .await
                        .map_err(Self::err)?;
                    if seeded > 0 {
                        return Ok(false);
                    }
                }
                let now = w.now();
                for service in services {
                    let exists = sqlx::query_scalar::<$db, i64>(sso::SERVICE_EXISTS)
                        .bind(&service.id)
                        .fetch_one(&mut *w.tx)
                        .await
                        .map_err(Self::err)?
                        > 0;
                    if exists && !replace {
                        return Err(StoreError::ServiceExists(service.id.clone()));
                    }
                    let position = sqlx::query_scalar::<$db, i64>(sso::NEXT_SERVICE_POSITION)
                        .fetch_one(&mut *w.tx)
                        .await
                        .map_err(Self::err)?;
                    sqlx::query::<$db>(sso::UPSERT_SERVICE)
                        .bind(&service.id)
                        .bind(position)
                        .bind(&service.definition)
                        .bind(actor.as_str())
                        .bind(now)
                        .execute(&mut *w.tx)
                        .await
                        .map_err(Self::err)?;
                    let verb = match (seed, exists) {
                        (true, _) => "portal.service.import",
                        (false, true) => "portal.service.replace",
                        (false, false) => "portal.service.add",
                    };
                    let detail = serde_json::json!({ "definition": service.definition });
                    w.append(&sso::event(verb, &service.id, actor, detail)).await?;
                }
                sqlx::query::<$db>(sso::BUMP_SERVICES)
                    .bind(i64::from(seed))
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                w.commit().await?;
                Ok(true)
            }

            async fn portal_remove_service(&self, id: &str, actor: &Actor, at: UnixTime) -> Result<bool, StoreError> {
                let mut w = self.write(at).await?;
                let gone = sqlx::query::<$db>(sso::DELETE_SERVICE)
                    .bind(id)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?
                    .rows_affected()
                    == 1;
                if !gone {
                    return Ok(false);
                }
                sqlx::query::<$db>(sso::BUMP_SERVICES).bind(0_i64).execute(&mut *w.tx).await.map_err(Self::err)?;
                let event = sso::event("portal.service.remove", id, actor, serde_json::Value::Null);
                w.append(&event).await?;
                w.commit().await?;
                Ok(true)
            }
        }
    };
}

pub(super) use services_store;
