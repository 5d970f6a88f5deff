//! `oidc_store!`: [`crate::Oidc`] on SQL, expanded once per backend (see [`super::writer`] for why a macro):
//! OpenID Connect provider's clients, grants, tokens and single-use values.

macro_rules! oidc_store {
    ($store:ident, $db:ty, $backend:expr) => {
        impl $store {
            async fn insert_grant<'e, E>(ex: E, g: &GrantRecord) -> Result<(), StoreError>
            where
                E: sqlx::Executor<'e, Database = $db>,
            {
                sqlx::query::<$db>(sso::INSERT_GRANT)
                    .bind(&g.id)
                    .bind(&g.client_id)
                    .bind(&g.session_hash)
                    .bind(&g.data)
                    .bind(&g.code_hash)
                    .bind(&g.refresh_hash)
                    .bind(&g.state)
                    .bind(g.created_at)
                    .bind(g.expires_at)
                    .execute(ex)
                    .await
                    .map_err(Self::err)?;
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl Oidc for $store {
            async fn oidc_add_client(
                &self,
                c: &OidcClientRecord,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<(), StoreError> {
                let mut w = self.write(at).await?;
                sqlx::query::<$db>(sso::INSERT_CLIENT)
                    .bind(&c.id)
                    .bind(&c.data)
                    .bind(&c.created_by)
                    .bind(c.created_at)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let detail = serde_json::from_str(&c.data).unwrap_or(serde_json::Value::Null);
                w.append(&sso::event("oidc.client.add", &c.id, actor, detail)).await?;
                w.commit().await
            }

            async fn oidc_client(&self, id: &OidcClientId) -> Result<Option<OidcClientRecord>, StoreError> {
                Ok(sqlx::query_as::<$db, sso::ClientRow>(sso::CLIENT_BY_ID)
                    .bind(id.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(sso::client))
            }

            async fn oidc_clients(&self) -> Result<Vec<OidcClientRecord>, StoreError> {
                Ok(sqlx::query_as::<$db, sso::ClientRow>(sso::LIST_CLIENTS)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(sso::client)
                    .collect())
            }

            async fn oidc_update_client(
                &self,
                id: &OidcClientId,
                expected: &str,
                data: &str,
                event: &crate::audit::AuditEvent,
                at: UnixTime,
            ) -> Result<bool, StoreError> {
                let mut w = self.write(at).await?;
                let changed = sqlx::query::<$db>(sso::UPDATE_CLIENT)
                    .bind(id.as_str())
                    .bind(expected)
                    .bind(data)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?
                    .rows_affected()
                    == 1;
                if !changed {
                    return Ok(false);
                }
                w.append(event).await?;
                w.commit().await?;
                Ok(true)
            }

            async fn oidc_remove_client(
                &self,
                id: &OidcClientId,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<bool, StoreError> {
                let mut w = self.write(at).await?;
                let gone = sqlx::query::<$db>(sso::DELETE_CLIENT)
                    .bind(id.as_str())
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?
                    .rows_affected()
                    == 1;
                if !gone {
                    return Ok(false);
                }
                sqlx::query::<$db>(sso::REVOKE_CLIENT_GRANTS)
                    .bind(id.as_str())
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let event = sso::event("oidc.client.remove", id.as_str(), actor, serde_json::Value::Null);
                w.append(&event).await?;
                w.commit().await?;
                Ok(true)
            }

            async fn oidc_create_grant(&self, g: &GrantRecord) -> Result<(), StoreError> {
                let _writer = self.writer().await;
                Self::insert_grant(&self.pool, g).await
            }

            async fn oidc_create_grant_audited(
                &self,
                g: &GrantRecord,
                event: &AuditEvent,
                at: UnixTime,
            ) -> Result<(), StoreError> {
                let mut w = self.write(at).await?;
                Self::insert_grant(&mut *w.tx, g).await?;
                w.append(event).await?;
                w.commit().await
            }

            async fn oidc_grant(&self, id: &str) -> Result<Option<GrantRecord>, StoreError> {
                Ok(sqlx::query_as::<$db, sso::GrantRow>(sso::GRANT_BY_ID)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(sso::grant))
            }

            async fn oidc_grants(&self, ids: &[String]) -> Result<Vec<GrantRecord>, StoreError> {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let rows = sso::padded(ids.len());
                let mut query = sqlx::query_as::<$db, sso::GrantRow>(sqlx::AssertSqlSafe(sso::grants_by_ids(rows)))
                    .persistent(true);
                for id in ids {
                    query = query.bind(id);
                }
                for _ in ids.len()..rows {
                    query = query.bind(None::<&str>);
                }
                Ok(query.fetch_all(&self.pool).await.map_err(Self::err)?.into_iter().map(sso::grant).collect())
            }

            async fn oidc_token_writes(
                &self,
                writes: &[TokenWrite],
                now: UnixTime,
            ) -> Result<Vec<TokenWritten>, StoreError> {
                let now = now.as_secs();
                let plan = sso::TokenPlan::new(writes);
                // A member of the write group (no audit entry of its own): on SQLite its commit shares the group's
                // fsync with the logins' and grants' writes (D159).
                let mut w = self.write(UnixTime::from_secs(now)).await?;
                let mut recorded = std::collections::HashSet::new();
                if !plan.onces.is_empty() {
                    let rows = sso::padded(plan.onces.len());
                    let sql = sso::insert_onces(rows);
                    let mut query = sqlx::query_as::<$db, (String, String)>(sqlx::AssertSqlSafe(sql)).persistent(true);
                    for once in &plan.onces {
                        query = query.bind(&once.kind).bind(&once.key).bind("").bind(once.expires_at);
                    }
                    for _ in plan.onces.len()..rows {
                        query = query.bind(None::<&str>).bind(None::<&str>).bind(None::<&str>).bind(None::<i64>);
                    }
                    recorded.extend(query.bind(now).fetch_all(&mut *w.tx).await.map_err(Self::err)?);
                }
                let fresh: Vec<[bool; 2]> =
                    writes.iter().enumerate().map(|(i, w)| plan.fresh(i, w, &recorded)).collect();
                // An op is applied only when every single-use value of its request was fresh.
                let split = sso::OpSplit::new(
                    writes
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| fresh.get(*i).is_some_and(|values| values.iter().all(|&v| v)))
                        .filter_map(|(i, w)| w.op.as_ref().map(|op| (i, op))),
                );
                let mut accepted = std::collections::HashMap::new();
                if !split.redeem.is_empty() {
                    let rows = sso::padded(split.redeem.len());
                    let sql = sso::redeem_codes(rows);
                    let mut query = sqlx::query_as::<$db, sso::GrantRow>(sqlx::AssertSqlSafe(sql)).persistent(true);
                    for (_, op) in &split.redeem {
                        if let GrantOp::Redeem { id, code_hash, refresh_hash, expires_at, data } = op {
                            query = query
                                .bind(id)
                                .bind(code_hash)
                                .bind(refresh_hash)
                                .bind(*expires_at)
                                .bind(data.as_deref());
                        }
                    }
                    for _ in split.redeem.len()..rows {
                        query = query
                            .bind(None::<&str>)
                            .bind(None::<&str>)
                            .bind(None::<&str>)
                            .bind(None::<i64>)
                            .bind(None::<&str>);
                    }
                    accepted.extend(sso::by_id(query.bind(now).fetch_all(&mut *w.tx).await.map_err(Self::err)?));
                }
                if !split.rotate.is_empty() {
                    let rows = sso::padded(split.rotate.len());
                    let sql = sso::rotate_refreshes(rows);
                    let mut query = sqlx::query_as::<$db, sso::GrantRow>(sqlx::AssertSqlSafe(sql)).persistent(true);
                    for (_, op) in &split.rotate {
                        if let GrantOp::Rotate { id, old_hash, new_hash } = op {
                            query = query.bind(id).bind(old_hash).bind(new_hash);
                        }
                    }
                    for _ in split.rotate.len()..rows {
                        query = query.bind(None::<&str>).bind(None::<&str>).bind(None::<&str>);
                    }
                    let rotated = sso::by_id(query.bind(now).fetch_all(&mut *w.tx).await.map_err(Self::err)?);
                    // The refresh tokens the rotations spent, recorded before the misses are judged: one presented
                    // again (later in this batch or any time after) is then known as a reuse.
                    let spent: Vec<(&str, &str)> = split
                        .rotate
                        .iter()
                        .filter_map(|(_, op)| match op {
                            GrantOp::Rotate { id, old_hash, .. } if rotated.contains_key(id.as_str()) => {
                                Some((id.as_str(), old_hash.as_str()))
                            }
                            _ => None,
                        })
                        .collect();
                    if !spent.is_empty() {
                        let rows = sso::padded(spent.len());
                        let mut query =
                            sqlx::query::<$db>(sqlx::AssertSqlSafe(sso::insert_spent(rows))).persistent(true);
                        for (id, hash) in &spent {
                            query = query.bind(*id).bind(*hash);
                        }
                        for _ in spent.len()..rows {
                            query = query.bind(None::<&str>).bind(None::<&str>);
                        }
                        query.bind(now).execute(&mut *w.tx).await.map_err(Self::err)?;
                    }
                    accepted.extend(rotated);
                }
                let mut outcomes: Vec<TokenWritten> = fresh
                    .iter()
                    .map(|&[once_fresh, dpop_fresh]| TokenWritten { once_fresh, dpop_fresh, grant: None })
                    .collect();
                // The bulk ops that matched, then every other op in order: a miss (or a later op on a grant the
                // batch already used) of a code is its replay or a guess at a live grant, and revokes the grant
                // (RFC 6749 §4.1.2); a miss of a refresh token revokes it only when the token is one the grant
                // rotated out (RFC 9700 §4.14.2: a reuse, someone kept a copy), while a secret the grant never
                // had is only refused: the grant id is no secret (access tokens carry it as `gid`), and a made-up
                // secret must not let anyone end another's grant (D152). A grant revoked or unknown already is
                // simply refused.
                let mut misses = Vec::new();
                for (i, op) in split.redeem.iter().chain(&split.rotate) {
                    let id = match op {
                        GrantOp::Redeem { id, .. } | GrantOp::Rotate { id, .. } => id,
                    };
                    match (accepted.remove(id.as_str()), outcomes.get_mut(*i)) {
                        (Some(grant), Some(out)) => out.grant = Some(GrantUse::Accepted(grant)),
                        _ => misses.push(*i),
                    }
                }
                misses.extend(split.later.iter().map(|(i, _)| *i));
                misses.sort_unstable();
                for i in misses {
                    let Some(op @ (GrantOp::Redeem { id, .. } | GrantOp::Rotate { id, .. })) =
                        writes.get(i).and_then(|w| w.op.as_ref())
                    else {
                        continue;
                    };
                    if let GrantOp::Rotate { old_hash, .. } = op {
                        let spent = sqlx::query_scalar::<$db, String>(sso::SPENT_REFRESH)
                            .bind(id)
                            .bind(old_hash)
                            .fetch_optional(&mut *w.tx)
                            .await
                            .map_err(Self::err)?;
                        if spent.is_none() {
                            if let Some(out) = outcomes.get_mut(i) {
                                out.grant = Some(GrantUse::Refused);
                            }
                            continue;
                        }
                    }
                    let revoked = sqlx::query_as::<$db, sso::GrantRow>(sso::REVOKE_GRANT)
                        .bind(id)
                        .fetch_optional(&mut *w.tx)
                        .await
                        .map_err(Self::err)?;
                    if let Some(out) = outcomes.get_mut(i) {
                        out.grant = Some(match revoked {
                            Some(row) => GrantUse::Replayed(sso::grant(row)),
                            None => GrantUse::Refused,
                        });
                    }
                }
                w.commit().await?;
                Ok(outcomes)
            }

            async fn oidc_revoke_grant(&self, id: &str) -> Result<Option<GrantRecord>, StoreError> {
                let _writer = self.writer().await;
                Ok(sqlx::query_as::<$db, sso::GrantRow>(sso::REVOKE_GRANT)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(sso::grant))
            }

            async fn oidc_revoke_session_grants(&self, session_hash: &str) -> Result<Vec<GrantRecord>, StoreError> {
                let _writer = self.writer().await;
                Ok(sqlx::query_as::<$db, sso::GrantRow>(sso::REVOKE_SESSION_GRANTS)
                    .bind(session_hash)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(sso::grant)
                    .collect())
            }

            async fn oidc_once_put(
                &self,
                kind: &str,
                key: &str,
                value: &str,
                expires_at: UnixTime,
                now: UnixTime,
            ) -> Result<bool, StoreError> {
                let expires_at = expires_at.as_secs();
                let now = now.as_secs();
                let _writer = self.writer().await;
                // The short-lived pool (no fsync at commit on SQLite, D28), for the single-use values outside
                // the token endpoint (its assertion and DPoP jtis go into its batch, `oidc_token_writes`, D107):
                // a client assertion at the other back-channel endpoints, a DPoP proof at /par or userinfo, a
                // pushed request, a login or break-glass marker — each made durable by the next FULL commit of
                // any request. A lost PAR request only makes the user start again. One autocommitted
                // statement: each statement is a hand-off to the connection's thread on SQLite (D28 addendum).
                let added = sqlx::query::<$db>(sso::INSERT_ONCE)
                    .bind(kind)
                    .bind(key)
                    .bind(value)
                    .bind(expires_at)
                    .bind(now)
                    .execute(self.ephemeral_pool())
                    .await
                    .map_err(Self::err)?
                    .rows_affected()
                    == 1;
                Ok(added)
            }

            async fn oidc_once_take(&self, kind: &str, key: &str, now: UnixTime) -> Result<Option<String>, StoreError> {
                let now = now.as_secs();
                let _writer = self.writer().await;
                sqlx::query_scalar::<$db, String>(sso::TAKE_ONCE)
                    .bind(kind)
                    .bind(key)
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)
            }

            async fn oidc_session_grants(&self, session_hash: &str) -> Result<Vec<GrantRecord>, StoreError> {
                Ok(sqlx::query_as::<$db, sso::GrantRow>(sso::SESSION_GRANTS)
                    .bind(session_hash)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(sso::grant)
                    .collect())
            }
        }
    };
}

pub(super) use oidc_store;
