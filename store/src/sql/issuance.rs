//! `issuance_store!`: [`crate::Issuance`] on SQL, expanded once per backend (see [`super::writer`] for why a
//! macro): issuance: write-ahead intents, completion, failure and reading certificates.

macro_rules! issuance_store {
    ($store:ident, $db:ty, $backend:expr) => {
        impl $store {
            /// The row for `serial` if it is still reserved.
            async fn reserved(
                tx: &mut <$db as sqlx::Database>::Connection,
                serial: &SerialHex,
            ) -> Result<CertificateRecord, StoreError> {
                Self::fetch_certificate(&mut *tx, serial.as_str())
                    .await?
                    .filter(|c| c.status == CertStatus::Reserved)
                    .ok_or_else(|| StoreError::UnknownSerial(serial.to_string()))
            }
        }

        #[async_trait::async_trait]
        impl Issuance for $store {
            async fn record_intents(&self, intents: &[IssuanceIntent], now: UnixTime) -> Result<(), StoreError> {
                let now = now.as_secs();
                // One transaction, committed (and so visible to every replica and
                // to crash recovery) before this returns, i.e. before any signature.
                let _writer = self.writer().await;
                let mut tx = self.pool.begin().await.map_err(Self::err)?;
                for intent in intents {
                    let sans = rows::sans_json(&intent.sans)?;
                    let result = sqlx::query::<$db>(queries::INSERT_INTENT)
                        .bind(intent.serial.as_str())
                        .bind(intent.ca.as_str())
                        .bind(intent.profile.as_str())
                        .bind(intent.facility.as_ref().map(|f| f.as_str()))
                        .bind(&intent.subject)
                        .bind(&sans)
                        .bind(intent.not_before)
                        .bind(intent.not_after)
                        .bind(&intent.tbs_sha256)
                        .bind(&intent.spki_sha256)
                        .bind(&intent.requested_by)
                        .bind(now)
                        .bind(intent.crl_shard.map(i64::from))
                        .bind(intent.replaces.as_ref().map(SerialHex::as_str))
                        .bind(i64::from(intent.generation))
                        .execute(&mut *tx)
                        .await;
                    match (result, &intent.facility) {
                        (Ok(_), _) => {}
                        (Err(e), _) if errors::is_unique_violation(&e) => {
                            return Err(StoreError::DuplicateSerial(intent.serial.to_string()));
                        }
                        (Err(e), Some(f)) if errors::is_foreign_key_violation(&e) => {
                            return Err(StoreError::UnknownFacility(f.clone()));
                        }
                        (Err(e), _) => return Err(Self::err(e)),
                    }
                }
                tx.commit().await.map_err(Self::err)
            }

            async fn complete_issuances(
                &self,
                issued: &[Completion],
                at: UnixTime,
            ) -> Result<Vec<CertificateRecord>, StoreError> {
                let mut w = self.write(at).await?;
                let now = w.now();
                let mut records = Vec::with_capacity(issued.len());
                for Completion { serial, der, actor } in issued {
                    let mut record = Self::reserved(&mut w.tx, serial).await?;
                    let done = sqlx::query::<$db>(queries::MARK_ISSUED)
                        .bind(der.as_slice())
                        .bind(now)
                        .bind(serial.as_str())
                        .execute(&mut *w.tx)
                        .await
                        .map_err(Self::err)?;
                    if done.rows_affected() != 1 {
                        return Err(StoreError::UnknownSerial(serial.to_string()));
                    }
                    record.status = CertStatus::Issued;
                    record.der = Some(der.clone());
                    record.issued_at = Some(now);
                    w.append(&events::issued(&record, actor)).await?;
                    if let Some(facility_id) = &record.facility {
                        let facility = Self::fetch_facility(&mut *w.tx, facility_id.as_str()).await?;
                        if let Some(f) = facility.filter(|f| f.state == FacilityState::Approved) {
                            let reason = format!("first certificate {serial}");
                            Self::set_state(&mut w, f, Transition::Activate, Some(&reason), actor).await?;
                        }
                    }
                    records.push(record);
                }
                w.commit().await?;
                Ok(records)
            }

            async fn fail_issuance(
                &self,
                serial: &SerialHex,
                reason: &str,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<(), StoreError> {
                let mut w = self.write(at).await?;
                let record = Self::reserved(&mut w.tx, serial).await?;
                let done = sqlx::query::<$db>(queries::MARK_FAILED)
                    .bind(serial.as_str())
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                if done.rows_affected() != 1 {
                    return Err(StoreError::UnknownSerial(serial.to_string()));
                }
                w.append(&events::issue_failed(&record, reason, actor)).await?;
                w.commit().await
            }

            async fn certificate(&self, serial: &SerialHex) -> Result<Option<CertificateRecord>, StoreError> {
                Self::fetch_certificate(&self.pool, serial.as_str()).await
            }

            async fn list_certificates(
                &self,
                filter: &CertificateFilter,
            ) -> Result<Vec<CertificateRecord>, StoreError> {
                sqlx::query_as::<$db, rows::CertificateRow>(queries::LIST_CERTIFICATES)
                    .bind(filter.facility.as_ref().map(|f| f.as_str()))
                    .bind(filter.profile.map(CertProfile::as_str))
                    .bind(filter.status.map(CertStatus::as_str))
                    .bind(filter.expiring.map(|(from, _)| from))
                    .bind(filter.expiring.map(|(_, until)| until))
                    .bind(rows::limit(filter.limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(rows::certificate)
                    .collect()
            }

            async fn certificates_naming(
                &self,
                address: std::net::IpAddr,
            ) -> Result<Vec<CertificateRecord>, StoreError> {
                // The profiles write `IP:{address}` with the address's canonical text (RFC 5952 for IPv6).
                sqlx::query_as::<$db, rows::CertificateRow>(queries::CERTIFICATES_NAMING)
                    .bind(format!("%\"IP:{address}\"%"))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(rows::certificate)
                    .collect()
            }

            async fn live_serials(
                &self,
                ca: CaName,
                generation: u32,
                now: UnixTime,
                after: Option<&SerialHex>,
                limit: i64,
            ) -> Result<Vec<SerialHex>, StoreError> {
                let now = now.as_secs();
                // `serial > ''` holds for every row: the first page.
                sqlx::query_scalar::<$db, String>(queries::LIVE_SERIALS_OF_CA)
                    .bind(ca.as_str())
                    .bind(now)
                    .bind(after.map_or("", SerialHex::as_str))
                    .bind(limit)
                    .bind(i64::from(generation))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(|serial| rows::stored_serial("certificate", serial))
                    .collect()
            }

            async fn issued_counts(&self) -> Result<Vec<(CertProfile, i64)>, StoreError> {
                let counts = sqlx::query_as::<$db, (String, i64)>(queries::ISSUED_COUNTS)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?;
                rows::profile_counts(counts)
            }

            async fn expiring_counts(
                &self,
                from: UnixTime,
                until: UnixTime,
            ) -> Result<Vec<(CertProfile, i64)>, StoreError> {
                let from = from.as_secs();
                let until = until.as_secs();
                let counts = sqlx::query_as::<$db, (String, i64)>(queries::EXPIRING_COUNTS)
                    .bind(from)
                    .bind(until)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?;
                rows::profile_counts(counts)
            }

            async fn expiry_claim(
                &self,
                profile: CertProfile,
                from: UnixTime,
                until: UnixTime,
                limit: i64,
                now: UnixTime,
            ) -> Result<Vec<ExpiringCertificate>, StoreError> {
                let from = from.as_secs();
                let until = until.as_secs();
                let now = now.as_secs();
                let _writer = self.writer().await;
                let mut tx = self.pool.begin().await.map_err(Self::err)?;
                let candidates = sqlx::query_as::<$db, rows::ExpiringRow>(queries::EXPIRING_UNCLAIMED)
                    .bind(profile.as_str())
                    .bind(from)
                    .bind(until)
                    .bind(limit)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(rows::expiring)
                    .collect::<Result<Vec<ExpiringCertificate>, StoreError>>()?;
                let mut claimed = Vec::with_capacity(candidates.len());
                for c in candidates {
                    // Another replica's transaction may have claimed it since the select: only inserted rows count.
                    let won = sqlx::query_scalar::<$db, String>(queries::CLAIM_EXPIRY_NOTICE)
                        .bind(c.serial.as_str())
                        .bind(c.not_after)
                        .bind(now)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(Self::err)?;
                    if won.is_some() {
                        claimed.push(c);
                    }
                }
                tx.commit().await.map_err(Self::err)?;
                Ok(claimed)
            }

            async fn expiry_release(&self, serials: &[SerialHex], forget_before: UnixTime) -> Result<(), StoreError> {
                let forget_before = forget_before.as_secs();
                let _writer = self.writer().await;
                let mut tx = self.pool.begin().await.map_err(Self::err)?;
                for serial in serials {
                    sqlx::query::<$db>(queries::RELEASE_EXPIRY_NOTICE)
                        .bind(serial.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(Self::err)?;
                }
                sqlx::query::<$db>(queries::FORGET_EXPIRY_NOTICES)
                    .bind(forget_before)
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::err)?;
                tx.commit().await.map_err(Self::err)
            }

            async fn successor(&self, serial: &SerialHex) -> Result<Option<CertificateRecord>, StoreError> {
                self.jobs_successor(serial.as_str()).await
            }
        }
    };
}

pub(super) use issuance_store;
