//! `revocation_store!`: [`crate::Revocations`] on SQL, expanded once per backend (see [`super::writer`] for
//! why a macro): revocation and what CRLs and OCSP read.

macro_rules! revocation_store {
    ($store:ident, $db:ty, $backend:expr) => {
        impl $store {
            /// Revoke one issued certificate inside a transaction, audited as `cert.revoke`, answering its
            /// record as revoked. The inner error is the refusal of a serial that is unknown or not `issued`
            /// (nothing written); the outer one, a database failure that must roll the transaction back.
            async fn revoke_in(
                w: &mut Writer<'_, $db>,
                serial: &str,
                reason: u8,
                actor: &Actor,
            ) -> Result<Result<CertificateRecord, StoreError>, StoreError> {
                let revoked = sqlx::query_as::<$db, rows::CertificateRow>(queries::MARK_REVOKED)
                    .bind(serial)
                    .fetch_optional(&mut *w.tx)
                    .await
                    .map_err(Self::err)?
                    .map(rows::certificate)
                    .transpose()?;
                let Some(record) = revoked else {
                    return Ok(Err(StoreError::UnknownSerial(serial.to_owned())));
                };
                sqlx::query::<$db>(queries::INSERT_REVOCATION)
                    .bind(serial)
                    .bind(i64::from(reason))
                    .bind(w.now())
                    .bind(actor.as_str())
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let at = w.at();
                let ended = Self::end_pc_sessions(&mut w.tx, &record, reason, at).await?;
                w.append(&events::revoked(&record, reason, ended.as_deref(), actor)).await?;
                Ok(Ok(record))
            }

            /// A facility PC certificate just revoked or held ends the SSO sessions logged in through it, their
            /// grants with them (issue #24 item 9); their back-channel logout is left to a server replica. The
            /// people whose sessions ended, for the revocation's audit entry; `None` for any other profile.
            async fn end_pc_sessions(
                tx: &mut <$db as sqlx::Database>::Connection,
                record: &CertificateRecord,
                reason: u8,
                at: UnixTime,
            ) -> Result<Option<Vec<String>>, StoreError> {
                const HOLD: u8 = 6;
                if record.profile != CertProfile::EndEntity(ProfileKind::Pc) {
                    return Ok(None);
                }
                let why = if reason == HOLD { "certificate-held" } else { "certificate-revoked" };
                let ended =
                    Self::end_sessions_in(tx, sso::END_PC_SESSIONS, record.serial.as_str(), why, at.as_secs()).await?;
                Ok(Some(ended.into_iter().map(|s| s.1).collect()))
            }
        }

        #[async_trait::async_trait]
        impl Revocations for $store {
            async fn revoked_of_ca(
                &self,
                ca: CaName,
                generation: Option<u32>,
                shard: Option<u16>,
                now: UnixTime,
            ) -> Result<Vec<(SerialHex, i64, i64)>, StoreError> {
                let now = now.as_secs();
                sqlx::query_as::<$db, (String, i64, i64)>(queries::REVOKED_OF_CA)
                    .bind(ca.as_str())
                    .bind(now)
                    .bind(shard.map(i64::from))
                    .bind(generation.map(i64::from))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(|(serial, at, reason)| Ok((rows::stored_serial("certificate", serial)?, at, reason)))
                    .collect()
            }

            async fn revocations_marker(&self) -> Result<(i64, i64, i64), StoreError> {
                sqlx::query_as::<$db, (i64, i64, i64)>(queries::REVOCATIONS_MARKER)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(Self::err)
            }

            async fn revocation_marker(
                &self,
                ca: CaName,
                generation: Option<u32>,
                shard: Option<u16>,
                now: UnixTime,
            ) -> Result<(i64, i64, i64), StoreError> {
                let now = now.as_secs();
                sqlx::query_as::<$db, (i64, i64, i64)>(queries::REVOCATION_MARKER)
                    .bind(ca.as_str())
                    .bind(now)
                    .bind(shard.map(i64::from))
                    .bind(generation.map(i64::from))
                    .fetch_one(&self.pool)
                    .await
                    .map_err(Self::err)
            }

            async fn crl_shard_in_use(&self, ca: CaName, shard: u16) -> Result<bool, StoreError> {
                sqlx::query_scalar::<$db, i64>(queries::CRL_SHARD_IN_USE)
                    .bind(ca.as_str())
                    .bind(i64::from(shard))
                    .fetch_one(&self.pool)
                    .await
                    .map(|n| n > 0)
                    .map_err(Self::err)
            }

            async fn next_crl_number(&self, crl: &str) -> Result<i64, StoreError> {
                let _writer = self.writer().await;
                sqlx::query_scalar::<$db, i64>(queries::NEXT_CRL_NUMBER)
                    .bind(format!("crl:{crl}"))
                    .fetch_one(&self.pool)
                    .await
                    .map_err(Self::err)
            }

            async fn import_crl(&self, crl: &ImportedCrl, actor: &Actor, at: UnixTime) -> Result<(), StoreError> {
                let mut w = self.write(at).await?;
                let stored = sqlx::query_scalar::<$db, Option<i64>>(imported_crls::HIGHEST_NUMBER)
                    .bind(crl.ca.as_str())
                    .fetch_one(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                if let Some(stored) = stored.filter(|n| *n >= crl.number) {
                    return Err(StoreError::CrlNotNewer { ca: crl.ca, number: crl.number, stored });
                }
                sqlx::query::<$db>(imported_crls::INSERT)
                    .bind(crl.ca.as_str())
                    .bind(crl.number)
                    .bind(crl.der.as_slice())
                    .bind(crl.this_update)
                    .bind(crl.next_update)
                    .bind(crl.entries)
                    .bind(&crl.sha256)
                    .bind(crl.imported_at)
                    .bind(&crl.imported_by)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                w.append(&imported_crls::event(crl, actor)).await?;
                w.commit().await
            }

            async fn imported_crl(&self, ca: CaName) -> Result<Option<ImportedCrl>, StoreError> {
                Ok(sqlx::query_as::<$db, imported_crls::Row>(imported_crls::NEWEST)
                    .bind(ca.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(imported_crls::imported)
                    .transpose()?)
            }

            async fn revocation(&self, serial: &SerialHex) -> Result<Option<(i64, i64)>, StoreError> {
                sqlx::query_as::<$db, (i64, i64)>(queries::REVOCATION_OF)
                    .bind(serial.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)
            }

            async fn revoke_certificates(
                &self,
                batch: &[Revocation],
                at: UnixTime,
            ) -> Result<Vec<Result<CertificateRecord, StoreError>>, StoreError> {
                let mut w = self.write(at).await?;
                let mut out = Vec::with_capacity(batch.len());
                for r in batch {
                    out.push(Self::revoke_in(&mut w, r.serial.as_str(), r.reason, &r.actor).await?);
                }
                w.commit().await?;
                Ok(out)
            }
        }
    };
}

pub(super) use revocation_store;
