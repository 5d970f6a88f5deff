//! `acme_store!`: [`crate::Acme`] on SQL, expanded once per backend (see [`super::writer`] for why a macro):
//! ACME nonces, accounts and orders.

macro_rules! acme_store {
    ($store:ident, $db:ty, $backend:expr) => {
        #[async_trait::async_trait]
        impl Acme for $store {
            async fn acme_put_nonce(&self, nonce: &str, expires_at: UnixTime, now: UnixTime) -> Result<(), StoreError> {
                let expires_at = expires_at.as_secs();
                let now = now.as_secs();
                let _writer = self.writer().await;
                sqlx::query::<$db>(queries::SWEEP_ACME_NONCES)
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(Self::err)?;
                sqlx::query::<$db>(queries::INSERT_ACME_NONCE)
                    .bind(nonce)
                    .bind(expires_at)
                    .execute(&self.pool)
                    .await
                    .map_err(Self::err)?;
                Ok(())
            }

            async fn acme_take_nonce(&self, nonce: &str, now: UnixTime) -> Result<bool, StoreError> {
                let now = now.as_secs();
                let _writer = self.writer().await;
                let done = sqlx::query::<$db>(queries::TAKE_ACME_NONCE)
                    .bind(nonce)
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(Self::err)?;
                Ok(done.rows_affected() == 1)
            }

            async fn acme_create_account(
                &self,
                account: &AcmeAccount,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<(), StoreError> {
                let mut w = self.write(at).await?;
                sqlx::query::<$db>(queries::INSERT_ACME_ACCOUNT)
                    .bind(account.id.as_str())
                    .bind(&account.thumbprint)
                    .bind(&account.jwk)
                    .bind(account.facility.as_str())
                    .bind(account.profile.as_str())
                    .bind(&account.credential)
                    .bind(&account.status)
                    .bind(rows::json_text(&account.contact)?)
                    .bind(account.created_at)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                w.append(&events::acme_account("create", account, actor)).await?;
                w.commit().await
            }

            async fn acme_account(&self, id: &AcmeAccountId) -> Result<Option<AcmeAccount>, StoreError> {
                sqlx::query_as::<$db, rows::AcmeAccountRow>(queries::ACME_ACCOUNT_BY_ID)
                    .bind(id.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(rows::acme_account)
                    .transpose()
            }

            async fn acme_account_by_thumbprint(&self, thumbprint: &str) -> Result<Option<AcmeAccount>, StoreError> {
                sqlx::query_as::<$db, rows::AcmeAccountRow>(queries::ACME_ACCOUNT_BY_THUMBPRINT)
                    .bind(thumbprint)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(rows::acme_account)
                    .transpose()
            }

            async fn acme_update_account(
                &self,
                account: &AcmeAccount,
                action: &str,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<(), StoreError> {
                let mut w = self.write(at).await?;
                sqlx::query::<$db>(queries::UPDATE_ACME_ACCOUNT)
                    .bind(&account.thumbprint)
                    .bind(&account.jwk)
                    .bind(&account.status)
                    .bind(rows::json_text(&account.contact)?)
                    .bind(account.id.as_str())
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                w.append(&events::acme_account(action, account, actor)).await?;
                w.commit().await
            }

            async fn acme_create_order(
                &self,
                order: &AcmeOrder,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<(), StoreError> {
                let mut w = self.write(at).await?;
                sqlx::query::<$db>(queries::INSERT_ACME_ORDER)
                    .bind(order.id.as_str())
                    .bind(order.account.as_str())
                    .bind(&order.status)
                    .bind(order.version)
                    .bind(order.expires_at)
                    .bind(order.certificate.as_deref())
                    .bind(rows::json_text(order)?)
                    .bind(w.now())
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                w.append(&events::acme_order(order, actor)).await?;
                w.commit().await
            }

            async fn acme_order(&self, id: &AcmeOrderId) -> Result<Option<AcmeOrder>, StoreError> {
                sqlx::query_scalar::<$db, String>(queries::ACME_ORDER_BODY)
                    .bind(id.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(|body| rows::acme_order(&body))
                    .transpose()
            }

            async fn acme_update_order(&self, order: &AcmeOrder) -> Result<bool, StoreError> {
                let _writer = self.writer().await;
                let done = sqlx::query::<$db>(queries::UPDATE_ACME_ORDER)
                    .bind(&order.status)
                    .bind(order.version)
                    .bind(order.certificate.as_deref())
                    .bind(rows::json_text(order)?)
                    .bind(order.id.as_str())
                    .bind(order.version - 1)
                    .execute(&self.pool)
                    .await
                    .map_err(Self::err)?;
                Ok(done.rows_affected() == 1)
            }

            async fn acme_certificate_account(&self, serial: &SerialHex) -> Result<Option<AcmeAccountId>, StoreError> {
                sqlx::query_scalar::<$db, String>(queries::ACME_CERTIFICATE_ACCOUNT)
                    .bind(serial.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(|id| rows::acme_account_id(&id))
                    .transpose()
            }
        }
    };
}

pub(super) use acme_store;
