//! `sessions_store!`: [`crate::Sessions`] on SQL, expanded once per backend (see [`super::writer`] for why a
//! macro): SSO sessions, presence leases, lifetimes, person keys and the sweep.

macro_rules! sessions_store {
    ($store:ident, $db:ty, $backend:expr) => {
        impl $store {
            /// End the live sessions `sql` selects by `key` inside a transaction, for `reason`, and revoke
            /// their grants; how many ended. Their back-channel logout is left to a server replica
            /// (`notified_at` stays NULL).
            async fn end_sessions_in(
                tx: &mut <$db as sqlx::Database>::Connection,
                sql: &'static str,
                key: &str,
                reason: &str,
                now: i64,
            ) -> Result<Vec<sso::SessionRow>, StoreError> {
                let ended = sqlx::query_as::<$db, sso::SessionRow>(sql)
                    .bind(now)
                    .bind(reason)
                    .bind(key)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(Self::err)?;
                Self::revoke_grants_of(tx, &ended).await?;
                Ok(ended)
            }

            /// Revoke the grants of sessions just ended inside a transaction.
            async fn revoke_grants_of(
                tx: &mut <$db as sqlx::Database>::Connection,
                ended: &[sso::SessionRow],
            ) -> Result<(), StoreError> {
                for s in ended {
                    sqlx::query::<$db>(sso::REVOKE_SESSION_GRANTS)
                        .bind(&s.0)
                        .execute(&mut *tx)
                        .await
                        .map_err(Self::err)?;
                }
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl Sessions for $store {
            async fn portal_create_session(
                &self,
                s: &SessionRecord,
                login: &AuditEvent, at: UnixTime,
            ) -> Result<AuditEntry, StoreError> {
                let mut w = self.write(at).await?;
                let entry = w.append(login).await?;
                sqlx::query::<$db>(sso::INSERT_SESSION)
                    .bind(&s.id_hash)
                    .bind(&s.person_key)
                    .bind(&s.card_id)
                    .bind(&s.data)
                    .bind(s.auth_time)
                    .bind(s.created_at)
                    .bind(s.expires_at)
                    .bind(s.ended_at)
                    .bind(&s.facility_id)
                    .bind(&s.end_reason)
                    .bind(&s.presence_hash)
                    .bind(s.presence_until)
                    .bind(&s.facility_serial)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                w.commit().await?;
                Ok(entry)
            }

            async fn portal_session(&self, id_hash: &str, now: UnixTime) -> Result<Option<SessionRecord>, StoreError> {
                let now = now.as_secs();
                Ok(sqlx::query_as::<$db, sso::SessionRow>(sso::LIVE_SESSION)
                    .bind(id_hash)
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(sso::session))
            }

            async fn portal_session_record(&self, id_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
                Ok(sqlx::query_as::<$db, sso::SessionRow>(sso::ANY_SESSION)
                    .bind(id_hash)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(sso::session))
            }

            async fn portal_end_session(
                &self,
                id_hash: &str,
                reason: &str,
                now: UnixTime,
            ) -> Result<Option<SessionRecord>, StoreError> {
                let now = now.as_secs();
                let _writer = self.writer().await;
                Ok(sqlx::query_as::<$db, sso::SessionRow>(sso::END_SESSION)
                    .bind(now)
                    .bind(id_hash)
                    .bind(reason)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(sso::session))
            }

            async fn portal_end_card_sessions(
                &self,
                person_key: &str,
                card_id: &str,
                now: UnixTime,
            ) -> Result<Vec<SessionRecord>, StoreError> {
                let now = now.as_secs();
                let _writer = self.writer().await;
                Ok(sqlx::query_as::<$db, sso::SessionRow>(sso::END_CARD_SESSIONS)
                    .bind(now)
                    .bind(card_id)
                    .bind(person_key)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(sso::session)
                    .collect())
            }

            async fn person_key_link(
                &self,
                person_key: &str,
                legacy_key: &str,
                now: UnixTime,
            ) -> Result<Option<String>, StoreError> {
                let now = now.as_secs();
                if let Some(legacy) = self.person_key_linked(person_key).await? {
                    return Ok(Some(legacy));
                }
                let claimable = sqlx::query_scalar::<$db, i32>(person_keys::CLAIMABLE)
                    .bind(legacy_key)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?;
                if claimable.is_none() {
                    // Nothing listed for this card, or claimed: no write turn needed. Claimed meanwhile by a login of
                    // this same card, it is linked to it (read again, as after a lost claim below).
                    return self.person_key_linked(person_key).await;
                }
                let mut w = self.write(UnixTime::from_secs(now)).await?;
                let claimed = sqlx::query::<$db>(person_keys::CLAIM)
                    .bind(person_key)
                    .bind(now)
                    .bind(legacy_key)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?
                    .rows_affected();
                if claimed == 0 {
                    // Claimed meanwhile by a login of this same card (then linked to it), or never ours.
                    return sqlx::query_scalar::<$db, String>(person_keys::LINKED)
                        .bind(person_key)
                        .fetch_optional(&mut *w.tx)
                        .await
                        .map_err(Self::err);
                }
                let moved = sqlx::query::<$db>(person_keys::MOVE_GRANT)
                    .bind(person_key)
                    .bind(legacy_key)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?
                    .rows_affected();
                let dropped = sqlx::query::<$db>(person_keys::DROP_GRANT)
                    .bind(legacy_key)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?
                    .rows_affected();
                let event = AuditEvent {
                    actor: format!("card:{person_key}"),
                    action: "person.key-linked".into(),
                    target: person_key.to_owned(),
                    outcome: crate::audit::Outcome::Ok,
                    detail: serde_json::json!({ "legacy_key": legacy_key, "console_grant_moved": moved > 0,
                        "console_grant_superseded": dropped > 0 }),
                };
                w.append(&event).await?;
                w.commit().await?;
                Ok(Some(legacy_key.to_owned()))
            }

            async fn person_key_linked(&self, person_key: &str) -> Result<Option<String>, StoreError> {
                sqlx::query_scalar::<$db, String>(person_keys::LINKED)
                    .bind(person_key)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)
            }

            async fn portal_person_sessions(
                &self,
                person_key: &str,
                now: UnixTime,
            ) -> Result<Vec<SessionRecord>, StoreError> {
                let now = now.as_secs();
                Ok(sqlx::query_as::<$db, sso::SessionRow>(sso::PERSON_SESSIONS)
                    .bind(person_key)
                    .bind(now)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(sso::session)
                    .collect())
            }

            async fn portal_end_person_sessions(
                &self,
                person_key: &str,
                reason: &str,
                now: UnixTime,
                actor: &Actor,
            ) -> Result<Vec<SessionRecord>, StoreError> {
                let now = now.as_secs();
                let mut w = self.write(UnixTime::from_secs(now)).await?;
                let ended = Self::end_sessions_in(&mut w.tx, sso::END_OWN_SESSIONS, person_key, reason, now).await?;
                let detail = serde_json::json!({ "reason": reason, "scope": "all", "sessions_ended": ended.len() });
                w.append(&sso::event("portal.logout", person_key, actor, detail)).await?;
                w.commit().await?;
                Ok(ended.into_iter().map(sso::session).collect())
            }

            async fn portal_session_lifetime(&self, facility: &FacilityId) -> Result<Option<i64>, StoreError> {
                sqlx::query_scalar::<$db, i64>(sso::SESSION_LIFETIME)
                    .bind(facility.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)
            }

            async fn portal_session_lifetimes(&self) -> Result<Vec<(String, i64, String, i64)>, StoreError> {
                sqlx::query_as::<$db, (String, i64, String, i64)>(sso::SESSION_LIFETIMES)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)
            }

            async fn portal_set_session_lifetime(
                &self,
                facility: &FacilityId,
                secs: Option<i64>,
                actor: &Actor, at: UnixTime,
            ) -> Result<bool, StoreError> {
                let mut w = self.write(at).await?;
                let changed = match secs {
                    Some(secs) => sqlx::query::<$db>(sso::SET_SESSION_LIFETIME)
                        .bind(facility.as_str())
                        .bind(secs)
                        .bind(actor.as_str())
                        .bind(w.now())
                        .execute(&mut *w.tx)
                        .await
                        .map_err(Self::err)?,
                    None => sqlx::query::<$db>(sso::CLEAR_SESSION_LIFETIME)
                        .bind(facility.as_str())
                        .execute(&mut *w.tx)
                        .await
                        .map_err(Self::err)?,
                }
                .rows_affected()
                    == 1;
                if !changed {
                    return Ok(false);
                }
                let detail = serde_json::json!({ "session_secs": secs });
                w.append(&sso::event("portal.session_lifetime", facility.as_str(), actor, detail))
                    .await?;
                w.commit().await?;
                Ok(true)
            }

            async fn portal_claim_ended_sessions(
                &self,
                now: UnixTime,
                limit: i64,
            ) -> Result<Vec<SessionRecord>, StoreError> {
                let now = now.as_secs();
                let _writer = self.writer().await;
                Ok(sqlx::query_as::<$db, sso::SessionRow>(sso::CLAIM_ENDED_SESSIONS)
                    .bind(now)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(sso::session)
                    .collect())
            }

            async fn portal_renew_presence(
                &self,
                presence_hash: &str,
                card_id: &str,
                until: UnixTime,
                now: UnixTime,
            ) -> Result<Option<SessionRecord>, StoreError> {
                let until = until.as_secs();
                let now = now.as_secs();
                let _writer = self.writer().await;
                Ok(sqlx::query_as::<$db, sso::SessionRow>(sso::RENEW_PRESENCE)
                    .bind(until)
                    .bind(presence_hash)
                    .bind(card_id)
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(sso::session))
            }

            async fn portal_end_lapsed_sessions(&self, now: UnixTime) -> Result<usize, StoreError> {
                let now = now.as_secs();
                let _writer = self.writer().await;
                let mut tx = self.pool.begin().await.map_err(Self::err)?;
                let ended = sqlx::query_as::<$db, sso::SessionRow>(sso::END_LAPSED_SESSIONS)
                    .bind(now)
                    .bind("presence-lapsed")
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(Self::err)?;
                Self::revoke_grants_of(&mut tx, &ended).await?;
                tx.commit().await.map_err(Self::err)?;
                Ok(ended.len())
            }

            async fn portal_end_spent_sessions(
                &self,
                now: UnixTime,
                since: UnixTime,
                idle_before: Option<UnixTime>,
                limit: i64,
            ) -> Result<usize, StoreError> {
                let _writer = self.writer().await;
                let mut tx = self.pool.begin().await.map_err(Self::err)?;
                let ended = sqlx::query_as::<$db, sso::SessionRow>(sso::END_SPENT_SESSIONS)
                    .bind(now.as_secs())
                    .bind(since.as_secs())
                    .bind(idle_before.map_or(i64::MIN, UnixTime::as_secs))
                    .bind(limit)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(Self::err)?;
                Self::revoke_grants_of(&mut tx, &ended).await?;
                tx.commit().await.map_err(Self::err)?;
                Ok(ended.len())
            }

            async fn portal_session_seen(&self, id_hash: &str, now: UnixTime) -> Result<(), StoreError> {
                let _writer = self.writer().await;
                sqlx::query::<$db>(sso::SESSION_SEEN)
                    .bind(now.as_secs())
                    .bind(id_hash)
                    .execute(&self.pool)
                    .await
                    .map(drop)
                    .map_err(Self::err)
            }

            async fn portal_lend_session(
                &self,
                id_hash: &str,
                until: UnixTime,
                lent_for: &str,
                entry: &AuditEvent,
                at: UnixTime,
            ) -> Result<Option<SessionRecord>, StoreError> {
                let until = until.as_secs();
                let mut w = self.write(at).await?;
                let lent = sqlx::query_as::<$db, sso::SessionRow>(sso::LEND_SESSION)
                    .bind(until)
                    .bind(lent_for)
                    .bind(id_hash)
                    .bind(w.now())
                    .fetch_optional(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                if lent.is_none() {
                    return Ok(None);
                }
                w.append(entry).await?;
                w.commit().await?;
                Ok(lent.map(sso::session))
            }

            async fn portal_lend_card_out(&self, id_hash: &str, now: UnixTime) -> Result<Option<SessionRecord>, StoreError> {
                let now = now.as_secs();
                let _writer = self.writer().await;
                Ok(sqlx::query_as::<$db, sso::SessionRow>(sso::LEND_CARD_OUT)
                    .bind(now)
                    .bind(id_hash)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(sso::session))
            }

            async fn portal_return_lend(
                &self,
                id_hash: &str,
                presence_until: Option<UnixTime>,
                entry: &AuditEvent,
                at: UnixTime,
            ) -> Result<Option<SessionRecord>, StoreError> {
                let presence_until = presence_until.map(UnixTime::as_secs);
                let mut w = self.write(at).await?;
                let returned = sqlx::query_as::<$db, sso::SessionRow>(sso::RETURN_LEND)
                    .bind(w.now())
                    .bind(id_hash)
                    .bind(presence_until)
                    .fetch_optional(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                if returned.is_none() {
                    return Ok(None);
                }
                w.append(entry).await?;
                w.commit().await?;
                Ok(returned.map(sso::session))
            }

            async fn portal_end_lapsed_lends(
                &self,
                now: UnixTime,
                only: Option<&str>,
            ) -> Result<Vec<SessionRecord>, StoreError> {
                let now = now.as_secs();
                let mut w = self.write(UnixTime::from_secs(now)).await?;
                let ended = match only {
                    Some(id_hash) => sqlx::query_as::<$db, sso::SessionRow>(sso::END_LAPSED_LEND)
                        .bind(now)
                        .bind(id_hash)
                        .fetch_all(&mut *w.tx)
                        .await
                        .map_err(Self::err)?,
                    None => sqlx::query_as::<$db, sso::SessionRow>(sso::END_LAPSED_LENDS)
                        .bind(now)
                        .fetch_all(&mut *w.tx)
                        .await
                        .map_err(Self::err)?,
                };
                if ended.is_empty() {
                    return Ok(Vec::new());
                }
                // The housekeeping's: revoked here, notified through the claim. One browser's: the calling server
                // revokes and notifies at once, as it does after a card removal.
                if only.is_none() {
                    Self::revoke_grants_of(&mut w.tx, &ended).await?;
                }
                let ended: Vec<SessionRecord> = ended.into_iter().map(sso::session).collect();
                for s in &ended {
                    w.append(&sso::lend_expired_event(s)).await?;
                }
                w.commit().await?;
                Ok(ended)
            }

            async fn portal_sweep(&self, now: UnixTime, grace: i64, batch: i64) -> Result<SweepCounts, StoreError> {
                let now = now.as_secs();
                let _writer = self.writer().await;
                let run = |sql: &'static str, deadline: i64| async move {
                    sqlx::query::<$db>(sql)
                        .bind(deadline)
                        .bind(batch)
                        .execute(&self.pool)
                        .await
                        .map(|r| r.rows_affected())
                        .map_err(Self::err)
                };
                Ok(SweepCounts {
                    sessions: run(sso::SWEEP_SESSIONS, now - grace).await?,
                    grants: run(sso::SWEEP_GRANTS, now - grace).await?,
                    once: run(sso::SWEEP_ONCE_BATCH, now).await?,
                    challenges: run(sso::SWEEP_CHALLENGES, now).await?,
                    login_failures: run(sso::SWEEP_LOGIN_FAILURES, now - grace).await?,
                    rate_limit_counts: run(rate_limits::SWEEP_COUNTS, now - rate_limits::KEEP_SECS).await?,
                    signing_requests: run(signing_requests::SWEEP, now - signing_requests::KEEP_SECS).await?,
                })
            }
        }
    };
}

pub(super) use sessions_store;
