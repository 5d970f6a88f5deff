//! `operators_store!`: [`crate::Operators`] on SQL, expanded once per backend (see [`super::writer`] for why a
//! macro): operators.

macro_rules! operators_store {
    ($store:ident, $db:ty, $backend:expr) => {
        #[async_trait::async_trait]
        impl Operators for $store {
            async fn put_operator(
                &self,
                record: &OperatorRecord,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<OperatorRecord, StoreError> {
                let mut w = self.write(at).await?;
                let existing = sqlx::query_as::<$db, rows::OperatorRow>(queries::OPERATOR_BY_NAME)
                    .bind(record.name.as_str())
                    .fetch_optional(&mut *w.tx)
                    .await
                    .map_err(Self::err)?
                    .map(rows::operator)
                    .transpose()?;
                let (stored, verb) = match existing {
                    Some(e) if e.disabled_at.is_some() => {
                        return Err(StoreError::OperatorDisabled(e.name.to_string()));
                    }
                    Some(e) => {
                        sqlx::query::<$db>(queries::SET_OPERATOR_ROLE)
                            .bind(record.role.as_str())
                            .bind(record.name.as_str())
                            .execute(&mut *w.tx)
                            .await
                            .map_err(Self::err)?;
                        (OperatorRecord { role: record.role, ..e }, "role")
                    }
                    None => {
                        sqlx::query::<$db>(queries::INSERT_OPERATOR)
                            .bind(record.name.as_str())
                            .bind(record.role.as_str())
                            .bind(&record.created_by)
                            .bind(record.created_at)
                            .bind(record.disabled_at)
                            .bind(record.disabled_by.as_deref())
                            .execute(&mut *w.tx)
                            .await
                            .map_err(Self::err)?;
                        (record.clone(), "add")
                    }
                };
                w.append(&events::operator_event(verb, &stored, actor)).await?;
                w.commit().await?;
                Ok(stored)
            }

            async fn operator(&self, name: &OperatorName) -> Result<Option<OperatorRecord>, StoreError> {
                sqlx::query_as::<$db, rows::OperatorRow>(queries::OPERATOR_BY_NAME)
                    .bind(name.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(rows::operator)
                    .transpose()
            }

            async fn list_operators(&self) -> Result<Vec<OperatorRecord>, StoreError> {
                sqlx::query_as::<$db, rows::OperatorRow>(queries::LIST_OPERATORS)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(rows::operator)
                    .collect()
            }

            async fn disable_operator(
                &self,
                name: &OperatorName,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<OperatorRecord, StoreError> {
                let mut w = self.write(at).await?;
                let mut record = sqlx::query_as::<$db, rows::OperatorRow>(queries::OPERATOR_BY_NAME)
                    .bind(name.as_str())
                    .fetch_optional(&mut *w.tx)
                    .await
                    .map_err(Self::err)?
                    .map(rows::operator)
                    .transpose()?
                    .ok_or_else(|| StoreError::UnknownOperator(name.to_string()))?;
                if record.disabled_at.is_some() {
                    return Ok(record);
                }
                let now = w.now();
                sqlx::query::<$db>(queries::DISABLE_OPERATOR)
                    .bind(now)
                    .bind(actor.as_str())
                    .bind(name.as_str())
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                record.disabled_at = Some(now);
                record.disabled_by = Some(actor.as_str().to_owned());
                w.append(&events::operator_event("disable", &record, actor)).await?;
                w.commit().await?;
                Ok(record)
            }
        }
    };
}

pub(super) use operators_store;
