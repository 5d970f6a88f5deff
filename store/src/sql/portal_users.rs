//! `portal_users_store!`: [`crate::PortalUsers`] on SQL, expanded once per backend (see [`super::writer`] for
//! why a macro): SSO portal users, sign-in throttling and card-login challenges.

macro_rules! portal_users_store {
    ($store:ident, $db:ty, $backend:expr) => {
        impl $store {
            /// Insert a portal account's row inside `tx` (an account added by the CLI, or by SCIM with its
            /// facility's row, `super::scim`).
            async fn insert_user_in(tx: &mut <$db as sqlx::Database>::Connection, user: &PortalUser) -> Result<(), StoreError> {
                sqlx::query::<$db>(sso::INSERT_USER)
                    .bind(&user.username)
                    .bind(&user.display_name)
                    .bind(&user.hc_role)
                    .bind(&user.password_hash)
                    .bind(&user.totp_secret)
                    .bind(user.last_totp_step)
                    .bind(&user.created_by)
                    .bind(user.created_at)
                    .bind(user.disabled_at)
                    .execute(&mut *tx)
                    .await
                    .map(drop)
                    .map_err(Self::err)
            }

            /// Give `username` the sealed TOTP secret `sealed` with `step` as its last used step, by `change`'s
            /// statement (which says when it applies), audited as `change`'s action and announced as its person
            /// event (D175) in the same transaction: `false`, and nothing written, when the statement changed no row.
            async fn set_totp_secret(
                &self,
                change: (&'static str, &str, &str),
                username: &str,
                sealed: &str,
                step: i64,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<bool, StoreError> {
                let (statement, action, announced) = change;
                let mut w = self.write(at).await?;
                let done = sqlx::query::<$db>(statement)
                    .bind(sealed)
                    .bind(step)
                    .bind(username)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?
                    .rows_affected()
                    == 1;
                if !done {
                    return Ok(false);
                }
                let at = w.at();
                Self::ssf_person_event_in(&mut w.tx, &format!("pwd:{username}"), announced, at).await?;
                w.append(&sso::event(action, username, actor, serde_json::Value::Null)).await?;
                w.commit().await?;
                Ok(true)
            }
        }

        #[async_trait::async_trait]
        impl PortalUsers for $store {
            async fn put_login_challenge(&self, record: &LoginChallengeRecord, now: UnixTime) -> Result<(), StoreError> {
                let now = now.as_secs();
                let _writer = self.writer().await;
                sqlx::query::<$db>(queries::SWEEP_LOGIN_CHALLENGES)
                    .bind(now)
                    .execute(self.ephemeral_pool())
                    .await
                    .map_err(Self::err)?;
                sqlx::query::<$db>(queries::INSERT_LOGIN_CHALLENGE)
                    .bind(&record.challenge)
                    .bind(&record.binding)
                    .bind(&record.origin)
                    .bind(record.issued_at)
                    .bind(record.expires_at)
                    .execute(self.ephemeral_pool())
                    .await
                    .map_err(Self::err)?;
                Ok(())
            }

            async fn take_login_challenge(&self, challenge: &str) -> Result<Option<LoginChallengeRecord>, StoreError> {
                let _writer = self.writer().await;
                sqlx::query_as::<$db, LoginChallengeRecord>(queries::TAKE_LOGIN_CHALLENGE)
                    .bind(challenge)
                    .fetch_optional(self.ephemeral_pool())
                    .await
                    .map_err(Self::err)
            }

            async fn portal_add_user(&self, user: &PortalUser, actor: &Actor, at: UnixTime) -> Result<(), StoreError> {
                let mut w = self.write(at).await?;
                Self::insert_user_in(&mut w.tx, user).await?;
                let detail = serde_json::json!({ "display_name": user.display_name, "hc_role": user.hc_role });
                w.append(&sso::event("portal.user.add", &user.username, actor, detail))
                    .await?;
                w.commit().await
            }

            async fn portal_user(&self, username: &str) -> Result<Option<PortalUser>, StoreError> {
                Ok(sqlx::query_as::<$db, sso::UserRow>(sso::USER_BY_NAME)
                    .bind(username)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(sso::user))
            }

            async fn portal_users(&self) -> Result<Vec<PortalUser>, StoreError> {
                Ok(sqlx::query_as::<$db, sso::UserRow>(sso::LIST_USERS)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(sso::user)
                    .collect())
            }

            async fn portal_disable_user(&self, username: &str, actor: &Actor, at: UnixTime) -> Result<bool, StoreError> {
                let mut w = self.write(at).await?;
                let done = sqlx::query::<$db>(sso::DISABLE_USER)
                    .bind(w.now())
                    .bind(username)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?
                    .rows_affected()
                    == 1;
                if !done {
                    return Ok(false);
                }
                let person = format!("pwd:{username}");
                let now = w.now();
                let ended =
                    Self::end_sessions_in(&mut w.tx, sso::END_PERSON_SESSIONS, &person, "account-disabled", now).await?.len();
                let at = w.at();
                Self::ssf_person_event_in(&mut w.tx, &person, crate::traits::PERSON_ACCOUNT_DISABLED, at).await?;
                let event =
                    sso::event("portal.user.disable", username, actor, serde_json::json!({ "sessions_ended": ended }));
                w.append(&event).await?;
                w.commit().await?;
                Ok(true)
            }

            async fn portal_use_totp_step(&self, username: &str, step: i64) -> Result<bool, StoreError> {
                let _writer = self.writer().await;
                Ok(sqlx::query::<$db>(sso::USE_TOTP_STEP)
                    .bind(step)
                    .bind(username)
                    .execute(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .rows_affected()
                    == 1)
            }

            async fn portal_reset_totp(
                &self,
                username: &str,
                sealed_secret: &str,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<bool, StoreError> {
                let change = (sso::RESET_TOTP, "portal.user.totp_reset", crate::traits::PERSON_TOTP_RESET);
                self.set_totp_secret(change, username, sealed_secret, 0, actor, at).await
            }

            async fn portal_enrol_totp(
                &self,
                username: &str,
                sealed_secret: &str,
                step: i64,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<bool, StoreError> {
                let change = (sso::ENROL_TOTP, "portal.user.totp_enrol", crate::traits::PERSON_TOTP_ENROLLED);
                self.set_totp_secret(change, username, sealed_secret, step, actor, at).await
            }

            async fn portal_login_failures(&self, username: &str) -> Result<Option<(i64, i64)>, StoreError> {
                sqlx::query_as::<$db, (i64, i64)>(sso::LOGIN_FAILURES)
                    .bind(username)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)
            }

            async fn portal_login_attempt(
                &self,
                username: &str,
                now: UnixTime,
                throttle: &crate::LoginThrottle,
            ) -> Result<Option<i64>, StoreError> {
                let now = now.as_secs();
                let _writer = self.writer().await;
                sqlx::query_scalar::<$db, i64>(sso::LOGIN_ATTEMPT)
                    .bind(username)
                    .bind(now)
                    .bind(throttle.forget_after)
                    .bind(throttle.free_failures)
                    .bind(throttle.first_wait)
                    .bind(throttle.max_wait)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)
            }

            async fn portal_login_succeeded(&self, username: &str) -> Result<(), StoreError> {
                let _writer = self.writer().await;
                sqlx::query::<$db>(sso::LOGIN_SUCCEEDED)
                    .bind(username)
                    .execute(&self.pool)
                    .await
                    .map(drop)
                    .map_err(Self::err)
            }

            async fn portal_clear_login_failures(&self, username: &str, actor: &Actor, at: UnixTime) -> Result<bool, StoreError> {
                let mut w = self.write(at).await?;
                let cleared = sqlx::query::<$db>(sso::LOGIN_SUCCEEDED)
                    .bind(username)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?
                    .rows_affected()
                    == 1;
                if !cleared {
                    return Ok(false);
                }
                let event = sso::event("portal.user.clear_lockout", username, actor, serde_json::Value::Null);
                w.append(&event).await?;
                w.commit().await?;
                Ok(true)
            }
        }
    };
}

pub(super) use portal_users_store;
