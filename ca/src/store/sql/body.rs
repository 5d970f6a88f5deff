//! The one implementation of [`Store`](crate::store::Store), expanded per backend.
//!
//! `sql_store!(Type, sqlx::Db, Backend::X)` writes `impl Store for Type`
//! (which must have a `pool: sqlx::Pool<Db>` field) with concrete sqlx types.
//! A macro rather than `impl<DB: Database>`: the generic version needs a bound
//! per bound Rust type plus higher-ranked executor bounds, and async-trait's
//! `Send` futures trip over those; expanded with concrete types, each backend
//! is plain code the compiler checks in full. The SQL ([`super::queries`]),
//! the row conversions ([`super::rows`]), the audit events
//! ([`super::events`]) and the error mapping ([`super::errors`]) are ordinary
//! shared items; only the database plumbing lives in the macro.

/// Why `insert_facility` stopped: a store error, or the insert itself failed (kept raw so a
/// unique violation can be turned into the code's holder once the transaction is gone).
pub(super) enum Inserted {
    Store(crate::store::StoreError),
    Failed(sqlx::Error),
}

impl From<crate::store::StoreError> for Inserted {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Store(e)
    }
}

macro_rules! sql_store {
    ($store:ident, $db:ty, $backend:expr) => {
        impl $store {
            fn err(e: sqlx::Error) -> StoreError {
                errors::map($backend, e)
            }

            /// Begin a writing transaction by taking the audit head lock. Every
            /// writer does this first, so writers queue here (no deferred lock
            /// upgrades on SQLite, no deadlocks on PostgreSQL) and the chain
            /// stays contiguous.
            async fn begin_locked(&self) -> Result<(sqlx::Transaction<'static, $db>, Chain), StoreError> {
                let mut tx = self.pool.begin().await.map_err(Self::err)?;
                let (seq, hash) = sqlx::query_as::<$db, (i64, String)>(queries::LOCK_HEAD)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(Self::err)?
                    .ok_or_else(|| StoreError::Corrupt("the audit_head row is missing".into()))?;
                Ok((tx, Chain::locked(seq, hash)))
            }

            /// Append one entry inside the transaction.
            async fn append(
                tx: &mut sqlx::Transaction<'static, $db>,
                chain: &mut Chain,
                event: &AuditEvent,
            ) -> Result<AuditEntry, StoreError> {
                let e = chain.next(event);
                sqlx::query::<$db>(queries::INSERT_AUDIT)
                    .bind(e.seq)
                    .bind(e.at_ms)
                    .bind(&e.actor)
                    .bind(&e.action)
                    .bind(&e.target)
                    .bind(&e.outcome)
                    .bind(&e.detail)
                    .bind(&e.prev_hash)
                    .bind(&e.hash)
                    .execute(&mut **tx)
                    .await
                    .map_err(Self::err)?;
                Ok(e)
            }

            /// Write the head back and commit.
            async fn commit(mut tx: sqlx::Transaction<'static, $db>, chain: Chain) -> Result<(), StoreError> {
                let (seq, hash) = chain.head();
                sqlx::query::<$db>(queries::SET_HEAD)
                    .bind(seq)
                    .bind(hash)
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::err)?;
                tx.commit().await.map_err(Self::err)
            }

            async fn fetch_facility<'e, E>(ex: E, id: &str) -> Result<Option<Facility>, StoreError>
            where
                E: sqlx::Executor<'e, Database = $db>,
            {
                sqlx::query_as::<$db, rows::FacilityRow>(queries::FACILITY_BY_ID)
                    .bind(id)
                    .fetch_optional(ex)
                    .await
                    .map_err(Self::err)?
                    .map(rows::facility)
                    .transpose()
            }

            async fn fetch_certificate<'e, E>(ex: E, serial: &str) -> Result<Option<CertificateRecord>, StoreError>
            where
                E: sqlx::Executor<'e, Database = $db>,
            {
                sqlx::query_as::<$db, rows::CertificateRow>(queries::CERTIFICATE_BY_SERIAL)
                    .bind(serial)
                    .fetch_optional(ex)
                    .await
                    .map_err(Self::err)?
                    .map(rows::certificate)
                    .transpose()
            }

            async fn fetch_credential<'e, E>(ex: E, id: &str) -> Result<Option<CredentialRecord>, StoreError>
            where
                E: sqlx::Executor<'e, Database = $db>,
            {
                sqlx::query_as::<$db, rows::CredentialRow>(queries::CREDENTIAL_BY_ID)
                    .bind(id)
                    .fetch_optional(ex)
                    .await
                    .map_err(Self::err)?
                    .map(rows::credential)
                    .transpose()
            }

            /// The row for `serial` if it is still reserved.
            async fn reserved(
                tx: &mut sqlx::Transaction<'static, $db>,
                serial: &str,
            ) -> Result<CertificateRecord, StoreError> {
                Self::fetch_certificate(&mut **tx, serial)
                    .await?
                    .filter(|c| c.status == CertStatus::Reserved)
                    .ok_or_else(|| StoreError::UnknownSerial(serial.to_owned()))
            }

            /// Apply `t` to `current`, write it and its audit entry.
            async fn set_state(
                tx: &mut sqlx::Transaction<'static, $db>,
                chain: &mut Chain,
                current: Facility,
                t: Transition,
                reason: Option<&str>,
                actor: &Actor,
            ) -> Result<Facility, StoreError> {
                let to = current.state.apply(t)?;
                let now = crate::time::now_unix();
                sqlx::query::<$db>(queries::SET_FACILITY_STATE)
                    .bind(to.as_str())
                    .bind(reason)
                    .bind(actor.as_str())
                    .bind(now)
                    .bind(current.id.as_str())
                    .execute(&mut **tx)
                    .await
                    .map_err(Self::err)?;
                Self::append(tx, chain, &events::transition(&current, t, to, reason, actor)).await?;
                Ok(Facility {
                    state: to,
                    state_reason: reason.map(str::to_owned),
                    state_changed_by: actor.as_str().to_owned(),
                    state_changed_at: now,
                    ..current
                })
            }

            /// One lifecycle change inside a transaction: the state is read there (so a batch's earlier changes
            /// count), then the state, its certificates and its sessions change, each audited. The inner error
            /// is the change's refusal, checked before anything is written, so the transaction stays usable;
            /// the outer one is the database's.
            async fn transition_in(
                tx: &mut sqlx::Transaction<'static, $db>,
                chain: &mut Chain,
                change: &FacilityChange,
            ) -> Result<Result<Facility, StoreError>, StoreError> {
                let FacilityChange { id, transition, reason, actor } = change;
                let Some(current) = Self::fetch_facility(&mut **tx, id.as_str()).await? else {
                    return Ok(Err(StoreError::UnknownFacility(id.clone())));
                };
                if let Err(refused) = current.state.apply(*transition) {
                    return Ok(Err(refused.into()));
                }
                let updated = Self::set_state(tx, chain, current, *transition, reason.as_deref(), actor).await?;
                // The facility's sessions end first, as the facility's: its PC certificates' revocation then
                // finds none of them live.
                Self::end_facility_sessions(tx, chain, id, *transition, actor).await?;
                Self::apply_to_certificates(tx, chain, id, *transition, actor).await?;
                Ok(Ok(updated))
            }

            /// Revoke one issued certificate inside a transaction, audited as `cert.revoke`, answering its
            /// record as revoked. The inner error is the refusal of a serial that is unknown or not `issued`
            /// (nothing written); the outer one, a database failure that must roll the transaction back.
            async fn revoke_in(
                tx: &mut sqlx::Transaction<'static, $db>,
                chain: &mut Chain,
                serial: &str,
                reason: u8,
                actor: &Actor,
            ) -> Result<Result<CertificateRecord, StoreError>, StoreError> {
                let revoked = sqlx::query_as::<$db, rows::CertificateRow>(queries::MARK_REVOKED)
                    .bind(serial)
                    .fetch_optional(&mut **tx)
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
                    .bind(crate::time::now_unix())
                    .bind(actor.as_str())
                    .execute(&mut **tx)
                    .await
                    .map_err(Self::err)?;
                let ended = Self::end_pc_sessions(tx, &record, reason).await?;
                Self::append(tx, chain, &events::revoked(&record, reason, ended.as_deref(), actor)).await?;
                Ok(Ok(record))
            }

            /// A facility PC certificate just revoked or held ends the SSO sessions logged in through it, their
            /// grants with them (issue #24 item 9); their back-channel logout is left to a server replica. The
            /// people whose sessions ended, for the revocation's audit entry; `None` for any other profile.
            async fn end_pc_sessions(
                tx: &mut sqlx::Transaction<'static, $db>,
                record: &CertificateRecord,
                reason: u8,
            ) -> Result<Option<Vec<String>>, StoreError> {
                const HOLD: u8 = 6;
                if record.profile != "pc" {
                    return Ok(None);
                }
                let why = if reason == HOLD { "certificate-held" } else { "certificate-revoked" };
                let now = crate::time::now_unix();
                let ended = Self::end_sessions_in(tx, sso::END_PC_SESSIONS, &record.serial, why, now).await?;
                Ok(Some(ended.into_iter().map(|s| s.1).collect()))
            }

            /// What a facility's state change does to its certificates, in the same transaction: suspending
            /// holds every live one (certificateHold), resuming releases the holds, retiring revokes the live
            /// ones and makes holds permanent (cessationOfOperation). Each change is audited.
            async fn apply_to_certificates(
                tx: &mut sqlx::Transaction<'static, $db>,
                chain: &mut Chain,
                facility: &FacilityId,
                t: Transition,
                actor: &Actor,
            ) -> Result<(), StoreError> {
                const HOLD: u8 = 6;
                const CESSATION: u8 = 5;
                if matches!(t, Transition::Suspend | Transition::Retire) {
                    let reason = if t == Transition::Suspend { HOLD } else { CESSATION };
                    let live = sqlx::query_scalar::<$db, String>(queries::LIVE_OF_FACILITY)
                        .bind(facility.as_str())
                        .bind(crate::time::now_unix())
                        .fetch_all(&mut **tx)
                        .await
                        .map_err(Self::err)?;
                    for serial in live {
                        // Listed as live inside this transaction, so a refusal here means the store is
                        // inconsistent: fail the whole transition.
                        Self::revoke_in(tx, chain, &serial, reason, actor).await??;
                    }
                }
                if !matches!(t, Transition::Retire | Transition::Resume) {
                    return Ok(());
                }
                let held = sqlx::query_scalar::<$db, String>(queries::HELD_OF_FACILITY)
                    .bind(facility.as_str())
                    .fetch_all(&mut **tx)
                    .await
                    .map_err(Self::err)?;
                for serial in held {
                    if t == Transition::Retire {
                        sqlx::query::<$db>(queries::HOLD_TO_CESSATION)
                            .bind(&serial)
                            .bind(actor.as_str())
                            .execute(&mut **tx)
                            .await
                            .map_err(Self::err)?;
                    } else {
                        sqlx::query::<$db>(queries::DELETE_HOLD).bind(&serial).execute(&mut **tx).await.map_err(Self::err)?;
                        sqlx::query::<$db>(queries::MARK_UNREVOKED).bind(&serial).execute(&mut **tx).await.map_err(Self::err)?;
                    }
                    if let Some(record) = Self::fetch_certificate(&mut **tx, &serial).await? {
                        let event = if t == Transition::Retire {
                            events::revoked(&record, CESSATION, None, actor)
                        } else {
                            events::unheld(&record, actor)
                        };
                        Self::append(tx, chain, &event).await?;
                    }
                }
                Ok(())
            }

            /// After a failed facility insert (transaction rolled back): a
            /// unique violation on the 医療機関コード names its holder.
            async fn duplicate_code_or(&self, e: sqlx::Error, new: &NewFacility) -> StoreError {
                let Some(code) = new.medical_code.as_ref().filter(|_| errors::is_unique_violation(&e)) else {
                    return Self::err(e);
                };
                let holder = sqlx::query_scalar::<$db, String>(queries::FACILITY_ID_BY_CODE)
                    .bind(code.as_str())
                    .fetch_optional(&self.pool)
                    .await;
                match holder {
                    Ok(Some(existing)) => StoreError::DuplicateMedicalCode { code: code.to_string(), existing },
                    Ok(None) => Self::err(e),
                    Err(lookup) => Self::err(lookup),
                }
            }

            /// One registration inside a batch's transaction (head lock held): the 医療機関コード is checked
            /// under the lock, so no other registration can slip in between; the UNIQUE constraint remains
            /// the backstop ([`Inserted::Failed`] keeps its error for [`Self::duplicate_code_or`]).
            async fn insert_facility(
                tx: &mut sqlx::Transaction<'static, $db>,
                chain: &mut Chain,
                new: &NewFacility,
                actor: &Actor,
            ) -> Result<Registration, Inserted> {
                if let Some(code) = &new.medical_code {
                    let holder = sqlx::query_scalar::<$db, String>(queries::FACILITY_ID_BY_CODE)
                        .bind(code.as_str())
                        .fetch_optional(&mut **tx)
                        .await
                        .map_err(Self::err)?;
                    if let Some(existing) = holder {
                        return Ok(Registration::AlreadyRegistered { code: code.to_string(), existing });
                    }
                }
                // Every allocation is checked before anything is written, so a refused row leaves no trace
                // but its denied audit entry.
                for allocation in &new.allocations {
                    if let Some(held) = Self::overlapping(tx, allocation).await? {
                        let refused = Registration::AddressHeld {
                            asked: *allocation,
                            holder: held.facility,
                            held: held.allocation,
                        };
                        Self::append(tx, chain, &events::register_refused(new, &refused, actor)).await?;
                        return Ok(refused);
                    }
                }
                let number = sqlx::query_scalar::<$db, i64>(queries::NEXT_FACILITY_NUMBER)
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(Self::err)?
                    .ok_or_else(|| StoreError::Corrupt("the facility counter row is missing".into()))?;
                let id = u64::try_from(number)
                    .map_err(|_| StoreError::Corrupt(format!("facility counter is {number}")))
                    .and_then(|n| FacilityId::from_number(n).map_err(|e| StoreError::Database(e.to_string())))?;
                let now = crate::time::now_unix();
                let facility = Facility {
                    id,
                    name: new.name.clone(),
                    kind: new.kind,
                    medical_code: new.medical_code.clone(),
                    address: new.address.clone(),
                    contact: new.contact.clone(),
                    state: FacilityState::Applied,
                    state_reason: None,
                    state_changed_by: actor.as_str().to_owned(),
                    state_changed_at: now,
                    created_at: now,
                };
                sqlx::query::<$db>(queries::INSERT_FACILITY)
                    .bind(number)
                    .bind(facility.id.as_str())
                    .bind(&facility.name)
                    .bind(facility.kind.as_str())
                    .bind(facility.medical_code.as_ref().map(|c| c.as_str()))
                    .bind(facility.address.as_deref())
                    .bind(facility.contact.as_deref())
                    .bind(facility.state.as_str())
                    .bind(facility.state_reason.as_deref())
                    .bind(&facility.state_changed_by)
                    .bind(facility.state_changed_at)
                    .bind(facility.created_at)
                    .execute(&mut **tx)
                    .await
                    .map_err(Inserted::Failed)?;
                Self::append(tx, chain, &events::register(&facility, actor)).await?;
                for allocation in &new.allocations {
                    Self::insert_allocation(tx, chain, &facility.id, allocation, actor).await?;
                }
                Ok(Registration::New(facility))
            }
        }

        #[async_trait::async_trait]
        impl Store for $store {
            fn backend(&self) -> Backend {
                $backend
            }

            async fn register_facility(&self, new: &NewFacility, actor: &Actor) -> Result<Facility, StoreError> {
                match self.register_facilities(std::slice::from_ref(new), actor).await?.pop() {
                    Some(Registration::New(facility)) => Ok(facility),
                    Some(Registration::AlreadyRegistered { code, existing }) => {
                        Err(StoreError::DuplicateMedicalCode { code, existing })
                    }
                    Some(Registration::AddressHeld { asked, holder, held }) => {
                        Err(StoreError::AllocationHeld { asked, holder, held })
                    }
                    None => Err(StoreError::Corrupt("a one-facility batch answered nothing".into())),
                }
            }

            async fn register_facilities(
                &self,
                batch: &[NewFacility],
                actor: &Actor,
            ) -> Result<Vec<Registration>, StoreError> {
                let _writer = self.writer().await;
                let (mut tx, mut chain) = self.begin_locked().await?;
                let mut out = Vec::with_capacity(batch.len());
                for new in batch {
                    match Self::insert_facility(&mut tx, &mut chain, new, actor).await {
                        Ok(registration) => out.push(registration),
                        Err(Inserted::Store(e)) => return Err(e),
                        Err(Inserted::Failed(e)) => {
                            drop(tx);
                            return Err(self.duplicate_code_or(e, new).await);
                        }
                    }
                }
                Self::commit(tx, chain).await?;
                Ok(out)
            }

            async fn transition_facilities(
                &self,
                batch: &[FacilityChange],
            ) -> Result<Vec<Result<Facility, StoreError>>, StoreError> {
                let _writer = self.writer().await;
                let (mut tx, mut chain) = self.begin_locked().await?;
                let mut out = Vec::with_capacity(batch.len());
                for change in batch {
                    out.push(Self::transition_in(&mut tx, &mut chain, change).await?);
                }
                Self::commit(tx, chain).await?;
                Ok(out)
            }

            async fn add_allocation(
                &self,
                facility: &FacilityId,
                allocation: &Allocation,
                actor: &Actor,
            ) -> Result<AllocationRecord, StoreError> {
                self.allocations_add(facility, allocation, actor).await
            }

            async fn remove_allocation(
                &self,
                facility: &FacilityId,
                allocation: &Allocation,
                actor: &Actor,
            ) -> Result<AllocationRecord, StoreError> {
                self.allocations_remove(facility, allocation, actor).await
            }

            async fn allocations(&self, facility: Option<&FacilityId>) -> Result<Vec<AllocationRecord>, StoreError> {
                self.allocations_list(facility).await
            }

            async fn allocations_of(&self, ids: &[FacilityId]) -> Result<Vec<AllocationRecord>, StoreError> {
                self.allocations_of_many(ids).await
            }

            async fn facility(&self, id: &FacilityId) -> Result<Option<Facility>, StoreError> {
                Self::fetch_facility(&self.pool, id.as_str()).await
            }

            async fn facilities(&self, ids: &[FacilityId]) -> Result<Vec<Facility>, StoreError> {
                let mut found = Vec::with_capacity(ids.len());
                for chunk in ids.chunks(queries::MAX_IDS_PER_QUERY) {
                    let sql = queries::facilities_by_ids(chunk.len());
                    let mut query = sqlx::query_as::<$db, rows::FacilityRow>(sqlx::AssertSqlSafe(sql));
                    for id in chunk {
                        query = query.bind(id.as_str());
                    }
                    for row in query.fetch_all(&self.pool).await.map_err(Self::err)? {
                        found.push(rows::facility(row)?);
                    }
                }
                Ok(found)
            }

            async fn list_facilities(&self, filter: &FacilityFilter) -> Result<Vec<Facility>, StoreError> {
                let after = filter.after.as_ref().map(|id| id.number()).unwrap_or(0);
                sqlx::query_as::<$db, rows::FacilityRow>(queries::LIST_FACILITIES)
                    .bind(filter.state.map(|s| s.as_str()))
                    .bind(filter.kind.map(|k| k.as_str()))
                    .bind(filter.name_contains.as_deref().map(rows::contains_pattern))
                    .bind(i64::try_from(after).unwrap_or(i64::MAX))
                    .bind(rows::limit(filter.limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(rows::facility)
                    .collect()
            }

            async fn put_authority(&self, record: &AuthorityRecord, actor: &Actor) -> Result<(), StoreError> {
                let _writer = self.writer().await;
                let (mut tx, mut chain) = self.begin_locked().await?;
                let exists = sqlx::query_scalar::<$db, String>(queries::AUTHORITY_EXISTS)
                    .bind(&record.name)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(Self::err)?;
                if exists.is_some() {
                    return Err(StoreError::DuplicateAuthority(record.name.clone()));
                }
                sqlx::query::<$db>(queries::INSERT_AUTHORITY)
                    .bind(&record.name)
                    .bind(&record.key_uri)
                    .bind(record.cert_der.as_slice())
                    .bind(record.parent.as_deref())
                    .bind(record.created_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| {
                        if errors::is_unique_violation(&e) {
                            StoreError::DuplicateAuthority(record.name.clone())
                        } else {
                            Self::err(e)
                        }
                    })?;
                Self::append(&mut tx, &mut chain, &events::ca_create(record, actor)).await?;
                Self::commit(tx, chain).await
            }

            async fn authorities(&self) -> Result<Vec<AuthorityRecord>, StoreError> {
                Ok(sqlx::query_as::<$db, rows::AuthorityRow>(queries::LIST_AUTHORITIES)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(rows::authority)
                    .collect())
            }

            async fn record_intents(&self, intents: &[IssuanceIntent]) -> Result<(), StoreError> {
                // One transaction, committed (and so visible to every replica and
                // to crash recovery) before this returns, i.e. before any signature.
                let _writer = self.writer().await;
                let mut tx = self.pool.begin().await.map_err(Self::err)?;
                let now = crate::time::now_unix();
                for intent in intents {
                    let sans = rows::sans_json(&intent.sans)?;
                    let result = sqlx::query::<$db>(queries::INSERT_INTENT)
                        .bind(&intent.serial)
                        .bind(&intent.ca)
                        .bind(&intent.profile)
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
                        .bind(intent.replaces.as_deref())
                        .execute(&mut *tx)
                        .await;
                    match (result, &intent.facility) {
                        (Ok(_), _) => {}
                        (Err(e), _) if errors::is_unique_violation(&e) => {
                            return Err(StoreError::DuplicateSerial(intent.serial.clone()));
                        }
                        (Err(e), Some(f)) if errors::is_foreign_key_violation(&e) => {
                            return Err(StoreError::UnknownFacility(f.clone()));
                        }
                        (Err(e), _) => return Err(Self::err(e)),
                    }
                }
                tx.commit().await.map_err(Self::err)
            }

            async fn complete_issuances(&self, issued: &[Completion]) -> Result<Vec<CertificateRecord>, StoreError> {
                let _writer = self.writer().await;
                let (mut tx, mut chain) = self.begin_locked().await?;
                let now = crate::time::now_unix();
                let mut records = Vec::with_capacity(issued.len());
                for Completion { serial, der, actor } in issued {
                    let mut record = Self::reserved(&mut tx, serial).await?;
                    let done = sqlx::query::<$db>(queries::MARK_ISSUED)
                        .bind(der.as_slice())
                        .bind(now)
                        .bind(serial)
                        .execute(&mut *tx)
                        .await
                        .map_err(Self::err)?;
                    if done.rows_affected() != 1 {
                        return Err(StoreError::UnknownSerial(serial.to_owned()));
                    }
                    record.status = CertStatus::Issued;
                    record.der = Some(der.clone());
                    record.issued_at = Some(now);
                    Self::append(&mut tx, &mut chain, &events::issued(&record, actor)).await?;
                    if let Some(facility_id) = &record.facility {
                        let facility = Self::fetch_facility(&mut *tx, facility_id.as_str()).await?;
                        if let Some(f) = facility.filter(|f| f.state == FacilityState::Approved) {
                            let reason = format!("first certificate {serial}");
                            Self::set_state(&mut tx, &mut chain, f, Transition::Activate, Some(&reason), actor).await?;
                        }
                    }
                    records.push(record);
                }
                Self::commit(tx, chain).await?;
                Ok(records)
            }

            async fn fail_issuance(&self, serial: &str, reason: &str, actor: &Actor) -> Result<(), StoreError> {
                let _writer = self.writer().await;
                let (mut tx, mut chain) = self.begin_locked().await?;
                let record = Self::reserved(&mut tx, serial).await?;
                let done =
                    sqlx::query::<$db>(queries::MARK_FAILED).bind(serial).execute(&mut *tx).await.map_err(Self::err)?;
                if done.rows_affected() != 1 {
                    return Err(StoreError::UnknownSerial(serial.to_owned()));
                }
                Self::append(&mut tx, &mut chain, &events::issue_failed(&record, reason, actor)).await?;
                Self::commit(tx, chain).await
            }

            async fn certificate(&self, serial: &str) -> Result<Option<CertificateRecord>, StoreError> {
                Self::fetch_certificate(&self.pool, serial).await
            }

            async fn list_certificates(
                &self,
                filter: &CertificateFilter,
            ) -> Result<Vec<CertificateRecord>, StoreError> {
                sqlx::query_as::<$db, rows::CertificateRow>(queries::LIST_CERTIFICATES)
                    .bind(filter.facility.as_ref().map(|f| f.as_str()))
                    .bind(filter.profile.as_deref())
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

            async fn append_audit(&self, event: &AuditEvent) -> Result<AuditEntry, StoreError> {
                let _writer = self.writer().await;
                let (mut tx, mut chain) = self.begin_locked().await?;
                let entry = Self::append(&mut tx, &mut chain, event).await?;
                Self::commit(tx, chain).await?;
                Ok(entry)
            }

            async fn append_audits(&self, events: &[AuditEvent]) -> Result<Vec<AuditEntry>, StoreError> {
                if events.is_empty() {
                    return Ok(Vec::new());
                }
                let _writer = self.writer().await;
                let (mut tx, mut chain) = self.begin_locked().await?;
                let mut entries = Vec::with_capacity(events.len());
                for event in events {
                    entries.push(Self::append(&mut tx, &mut chain, event).await?);
                }
                Self::commit(tx, chain).await?;
                Ok(entries)
            }

            async fn audit_entries(&self, after: i64, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
                Ok(sqlx::query_as::<$db, rows::AuditRow>(queries::AUDIT_AFTER)
                    .bind(after)
                    .bind(limit.max(0))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(rows::audit_entry)
                    .collect())
            }

            async fn audit_head(&self) -> Result<AuditHead, StoreError> {
                let (seq, hash) = sqlx::query_as::<$db, (i64, String)>(queries::READ_HEAD)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .ok_or_else(|| StoreError::Corrupt("the audit_head row is missing".into()))?;
                Ok(AuditHead { seq, hash })
            }

            async fn audit_anchor(&self) -> Result<Option<AuditHead>, StoreError> {
                Ok(sqlx::query_as::<$db, (i64, String)>(queries::AUDIT_ANCHOR)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(|(seq, hash)| AuditHead { seq, hash }))
            }

            async fn audit_prune(&self, through: i64, batch: i64) -> Result<Option<AuditHead>, StoreError> {
                let _writer = self.writer().await;
                let mut tx = self.pool.begin().await.map_err(Self::err)?;
                let from = sqlx::query_as::<$db, (i64, String)>(queries::AUDIT_ANCHOR)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(Self::err)?
                    .map_or(0, |(seq, _)| seq);
                let end = through.min(from.saturating_add(batch.max(1)));
                if end <= from {
                    return Ok(None);
                }
                let hash = sqlx::query_scalar::<$db, String>(queries::AUDIT_HASH_AT)
                    .bind(end)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(Self::err)?
                    .ok_or_else(|| StoreError::Corrupt(format!("audit entry {end} is missing: run `hcpki audit verify`")))?;
                sqlx::query::<$db>(queries::AUDIT_DELETE_RANGE)
                    .bind(from)
                    .bind(end)
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::err)?;
                sqlx::query::<$db>(queries::AUDIT_SET_ANCHOR)
                    .bind(end)
                    .bind(&hash)
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::err)?;
                tx.commit().await.map_err(Self::err)?;
                Ok(Some(AuditHead { seq: end, hash }))
            }

            async fn snapshot_into(&self, path: &std::path::Path) -> Result<(), StoreError> {
                self.snapshot(path).await
            }

            async fn release_memory(&self) -> Result<usize, StoreError> {
                self.shrink().await
            }

            async fn create_credential(&self, record: &CredentialRecord, actor: &Actor) -> Result<(), StoreError> {
                let _writer = self.writer().await;
                let (mut tx, mut chain) = self.begin_locked().await?;
                let facility = Self::fetch_facility(&mut *tx, record.facility.as_str())
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
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::err)?;
                Self::append(&mut tx, &mut chain, &events::credential_created(record, actor)).await?;
                Self::commit(tx, chain).await
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

            async fn revoke_credential(&self, id: &str, actor: &Actor) -> Result<CredentialRecord, StoreError> {
                let _writer = self.writer().await;
                let (mut tx, mut chain) = self.begin_locked().await?;
                let mut record = Self::fetch_credential(&mut *tx, id)
                    .await?
                    .ok_or_else(|| StoreError::UnknownCredential(id.to_owned()))?;
                if record.revoked_at.is_some() {
                    return Ok(record);
                }
                let now = crate::time::now_unix();
                sqlx::query::<$db>(queries::REVOKE_CREDENTIAL)
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::err)?;
                record.revoked_at = Some(now);
                let event = events::credential_event("revoke", &record, serde_json::json!({}), actor);
                Self::append(&mut tx, &mut chain, &event).await?;
                Self::commit(tx, chain).await?;
                Ok(record)
            }

            async fn redeem_credential(
                &self,
                id: &str,
                profile: ProfileKind,
                actor: &Actor,
            ) -> Result<(), StoreError> {
                let _writer = self.writer().await;
                let (mut tx, mut chain) = self.begin_locked().await?;
                let now = crate::time::now_unix();
                let done = sqlx::query::<$db>(queries::REDEEM_CREDENTIAL)
                    .bind(now)
                    .bind(actor.as_str())
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::err)?;
                if done.rows_affected() != 1 {
                    return Err(StoreError::CredentialSpent(id.to_owned()));
                }
                let record = Self::fetch_credential(&mut *tx, id)
                    .await?
                    .ok_or_else(|| StoreError::UnknownCredential(id.to_owned()))?;
                let detail = serde_json::json!({ "profile": profile.as_str() });
                Self::append(&mut tx, &mut chain, &events::credential_event("use", &record, detail, actor)).await?;
                Self::commit(tx, chain).await
            }

            async fn release_credential(&self, id: &str, reason: &str, actor: &Actor) -> Result<(), StoreError> {
                let _writer = self.writer().await;
                let (mut tx, mut chain) = self.begin_locked().await?;
                let record = Self::fetch_credential(&mut *tx, id)
                    .await?
                    .ok_or_else(|| StoreError::UnknownCredential(id.to_owned()))?;
                sqlx::query::<$db>(queries::RELEASE_CREDENTIAL)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::err)?;
                let detail = serde_json::json!({ "reason": reason });
                Self::append(&mut tx, &mut chain, &events::credential_event("release", &record, detail, actor)).await?;
                Self::commit(tx, chain).await
            }

            async fn hold_scep_request(&self, request: &HeldRequest, actor: &Actor) -> Result<(), StoreError> {
                let _writer = self.writer().await;
                let (mut tx, mut chain) = self.begin_locked().await?;
                let facility = Self::fetch_facility(&mut *tx, request.facility.as_str())
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
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::err)?;
                Self::append(&mut tx, &mut chain, &events::held_event("hold", request, actor)).await?;
                Self::commit(tx, chain).await
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
                actor: &Actor,
            ) -> Result<HeldRequest, StoreError> {
                let _writer = self.writer().await;
                let (mut tx, mut chain) = self.begin_locked().await?;
                let now = crate::time::now_unix();
                let (serial, reason) = rows::held_outcome(decision);
                let done = sqlx::query::<$db>(queries::DECIDE_HELD)
                    .bind(decision.as_str())
                    .bind(serial)
                    .bind(reason)
                    .bind(now)
                    .bind(actor.as_str())
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::err)?;
                if done.rows_affected() != 1 {
                    return Err(StoreError::UnknownHeldRequest(id.to_owned()));
                }
                let request = sqlx::query_as::<$db, rows::HeldRow>(queries::HELD_BY_ID)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(Self::err)?
                    .map(rows::held)
                    .transpose()?
                    .ok_or_else(|| StoreError::UnknownHeldRequest(id.to_owned()))?;
                let verb = if matches!(decision, HeldState::Issued(_)) { "approve" } else { "reject" };
                Self::append(&mut tx, &mut chain, &events::held_event(verb, &request, actor)).await?;
                Self::commit(tx, chain).await?;
                Ok(request)
            }

            async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query::<$db>(queries::PING).execute(&self.pool).await.map_err(Self::err)?;
                Ok(())
            }

            async fn revoked_of_ca(
                &self,
                ca: &str,
                shard: Option<u16>,
                now: i64,
            ) -> Result<Vec<(String, i64, i64)>, StoreError> {
                sqlx::query_as::<$db, (String, i64, i64)>(queries::REVOKED_OF_CA)
                    .bind(ca)
                    .bind(now)
                    .bind(shard.map(i64::from))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)
            }

            async fn revocations_marker(&self) -> Result<(i64, i64, i64), StoreError> {
                sqlx::query_as::<$db, (i64, i64, i64)>(queries::REVOCATIONS_MARKER)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(Self::err)
            }

            async fn revocation_marker(
                &self,
                ca: &str,
                shard: Option<u16>,
                now: i64,
            ) -> Result<(i64, i64, i64), StoreError> {
                sqlx::query_as::<$db, (i64, i64, i64)>(queries::REVOCATION_MARKER)
                    .bind(ca)
                    .bind(now)
                    .bind(shard.map(i64::from))
                    .fetch_one(&self.pool)
                    .await
                    .map_err(Self::err)
            }

            async fn crl_shard_in_use(&self, ca: &str, shard: u16) -> Result<bool, StoreError> {
                sqlx::query_scalar::<$db, i64>(queries::CRL_SHARD_IN_USE)
                    .bind(ca)
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

            async fn import_crl(&self, crl: &ImportedCrl, actor: &Actor) -> Result<(), StoreError> {
                let _writer = self.writer().await;
                let (mut tx, mut chain) = self.begin_locked().await?;
                let stored = sqlx::query_scalar::<$db, Option<i64>>(imported_crls::HIGHEST_NUMBER)
                    .bind(&crl.ca)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(Self::err)?;
                if let Some(stored) = stored.filter(|n| *n >= crl.number) {
                    return Err(StoreError::CrlNotNewer { ca: crl.ca.clone(), number: crl.number, stored });
                }
                sqlx::query::<$db>(imported_crls::INSERT)
                    .bind(&crl.ca)
                    .bind(crl.number)
                    .bind(crl.der.as_slice())
                    .bind(crl.this_update)
                    .bind(crl.next_update)
                    .bind(crl.entries)
                    .bind(&crl.sha256)
                    .bind(crl.imported_at)
                    .bind(&crl.imported_by)
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::err)?;
                Self::append(&mut tx, &mut chain, &imported_crls::event(crl, actor)).await?;
                Self::commit(tx, chain).await
            }

            async fn imported_crl(&self, ca: &str) -> Result<Option<ImportedCrl>, StoreError> {
                Ok(sqlx::query_as::<$db, imported_crls::Row>(imported_crls::NEWEST)
                    .bind(ca)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(imported_crls::imported))
            }

            async fn revocation(&self, serial: &str) -> Result<Option<(i64, i64)>, StoreError> {
                sqlx::query_as::<$db, (i64, i64)>(queries::REVOCATION_OF)
                    .bind(serial)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)
            }

            async fn live_serials(
                &self,
                ca: &str,
                now: i64,
                after: &str,
                limit: i64,
            ) -> Result<Vec<String>, StoreError> {
                sqlx::query_scalar::<$db, String>(queries::LIVE_SERIALS_OF_CA)
                    .bind(ca)
                    .bind(now)
                    .bind(after)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)
            }

            async fn issued_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
                sqlx::query_as::<$db, (String, i64)>(queries::ISSUED_COUNTS)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)
            }

            async fn expiring_counts(&self, from: i64, until: i64) -> Result<Vec<(String, i64)>, StoreError> {
                sqlx::query_as::<$db, (String, i64)>(queries::EXPIRING_COUNTS)
                    .bind(from)
                    .bind(until)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)
            }

            async fn expiry_claim(
                &self,
                profile: &str,
                from: i64,
                until: i64,
                limit: i64,
                now: i64,
            ) -> Result<Vec<ExpiringCertificate>, StoreError> {
                let _writer = self.writer().await;
                let mut tx = self.pool.begin().await.map_err(Self::err)?;
                let candidates = sqlx::query_as::<$db, ExpiringCertificate>(queries::EXPIRING_UNCLAIMED)
                    .bind(profile)
                    .bind(from)
                    .bind(until)
                    .bind(limit)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(Self::err)?;
                let mut claimed = Vec::with_capacity(candidates.len());
                for c in candidates {
                    // Another replica's transaction may have claimed it since the select: only inserted rows count.
                    let won = sqlx::query_scalar::<$db, String>(queries::CLAIM_EXPIRY_NOTICE)
                        .bind(&c.serial)
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

            async fn expiry_release(&self, serials: &[String], forget_before: i64) -> Result<(), StoreError> {
                let _writer = self.writer().await;
                let mut tx = self.pool.begin().await.map_err(Self::err)?;
                for serial in serials {
                    sqlx::query::<$db>(queries::RELEASE_EXPIRY_NOTICE)
                        .bind(serial)
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

            async fn acme_put_nonce(&self, nonce: &str, expires_at: i64, now: i64) -> Result<(), StoreError> {
                let _writer = self.writer().await;
                sqlx::query::<$db>(queries::SWEEP_ACME_NONCES).bind(now).execute(&self.pool).await.map_err(Self::err)?;
                sqlx::query::<$db>(queries::INSERT_ACME_NONCE)
                    .bind(nonce)
                    .bind(expires_at)
                    .execute(&self.pool)
                    .await
                    .map_err(Self::err)?;
                Ok(())
            }

            async fn acme_take_nonce(&self, nonce: &str, now: i64) -> Result<bool, StoreError> {
                let _writer = self.writer().await;
                let done = sqlx::query::<$db>(queries::TAKE_ACME_NONCE)
                    .bind(nonce)
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(Self::err)?;
                Ok(done.rows_affected() == 1)
            }

            async fn acme_create_account(&self, account: &AcmeAccount, actor: &Actor) -> Result<(), StoreError> {
                let _writer = self.writer().await;
                let (mut tx, mut chain) = self.begin_locked().await?;
                sqlx::query::<$db>(queries::INSERT_ACME_ACCOUNT)
                    .bind(&account.id)
                    .bind(&account.thumbprint)
                    .bind(&account.jwk)
                    .bind(account.facility.as_str())
                    .bind(account.profile.as_str())
                    .bind(&account.credential)
                    .bind(&account.status)
                    .bind(rows::json_text(&account.contact)?)
                    .bind(account.created_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::err)?;
                Self::append(&mut tx, &mut chain, &events::acme_account("create", account, actor)).await?;
                Self::commit(tx, chain).await
            }

            async fn acme_account(&self, id: &str) -> Result<Option<AcmeAccount>, StoreError> {
                sqlx::query_as::<$db, rows::AcmeAccountRow>(queries::ACME_ACCOUNT_BY_ID)
                    .bind(id)
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
            ) -> Result<(), StoreError> {
                let _writer = self.writer().await;
                let (mut tx, mut chain) = self.begin_locked().await?;
                sqlx::query::<$db>(queries::UPDATE_ACME_ACCOUNT)
                    .bind(&account.thumbprint)
                    .bind(&account.jwk)
                    .bind(&account.status)
                    .bind(rows::json_text(&account.contact)?)
                    .bind(&account.id)
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::err)?;
                Self::append(&mut tx, &mut chain, &events::acme_account(action, account, actor)).await?;
                Self::commit(tx, chain).await
            }

            async fn acme_create_order(&self, order: &AcmeOrder, actor: &Actor) -> Result<(), StoreError> {
                let _writer = self.writer().await;
                let (mut tx, mut chain) = self.begin_locked().await?;
                sqlx::query::<$db>(queries::INSERT_ACME_ORDER)
                    .bind(&order.id)
                    .bind(&order.account)
                    .bind(&order.status)
                    .bind(order.version)
                    .bind(order.expires_at)
                    .bind(order.certificate.as_deref())
                    .bind(rows::json_text(order)?)
                    .bind(crate::time::now_unix())
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::err)?;
                Self::append(&mut tx, &mut chain, &events::acme_order(order, actor)).await?;
                Self::commit(tx, chain).await
            }

            async fn acme_order(&self, id: &str) -> Result<Option<AcmeOrder>, StoreError> {
                sqlx::query_scalar::<$db, String>(queries::ACME_ORDER_BODY)
                    .bind(id)
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
                    .bind(&order.id)
                    .bind(order.version - 1)
                    .execute(&self.pool)
                    .await
                    .map_err(Self::err)?;
                Ok(done.rows_affected() == 1)
            }

            async fn acme_certificate_account(&self, serial: &str) -> Result<Option<String>, StoreError> {
                sqlx::query_scalar::<$db, String>(queries::ACME_CERTIFICATE_ACCOUNT)
                    .bind(serial)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)
            }

            async fn revoke_certificates(
                &self,
                batch: &[Revocation],
            ) -> Result<Vec<Result<CertificateRecord, StoreError>>, StoreError> {
                let _writer = self.writer().await;
                let (mut tx, mut chain) = self.begin_locked().await?;
                let mut out = Vec::with_capacity(batch.len());
                for r in batch {
                    out.push(Self::revoke_in(&mut tx, &mut chain, &r.serial, r.reason, &r.actor).await?);
                }
                Self::commit(tx, chain).await?;
                Ok(out)
            }

            async fn put_operator(
                &self,
                record: &OperatorRecord,
                actor: &Actor,
            ) -> Result<OperatorRecord, StoreError> {
                let _writer = self.writer().await;
                let (mut tx, mut chain) = self.begin_locked().await?;
                let existing = sqlx::query_as::<$db, rows::OperatorRow>(queries::OPERATOR_BY_NAME)
                    .bind(record.name.as_str())
                    .fetch_optional(&mut *tx)
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
                            .execute(&mut *tx)
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
                            .execute(&mut *tx)
                            .await
                            .map_err(Self::err)?;
                        (record.clone(), "add")
                    }
                };
                Self::append(&mut tx, &mut chain, &events::operator_event(verb, &stored, actor)).await?;
                Self::commit(tx, chain).await?;
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
            ) -> Result<OperatorRecord, StoreError> {
                let _writer = self.writer().await;
                let (mut tx, mut chain) = self.begin_locked().await?;
                let mut record = sqlx::query_as::<$db, rows::OperatorRow>(queries::OPERATOR_BY_NAME)
                    .bind(name.as_str())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(Self::err)?
                    .map(rows::operator)
                    .transpose()?
                    .ok_or_else(|| StoreError::UnknownOperator(name.to_string()))?;
                if record.disabled_at.is_some() {
                    return Ok(record);
                }
                let now = crate::time::now_unix();
                sqlx::query::<$db>(queries::DISABLE_OPERATOR)
                    .bind(now)
                    .bind(actor.as_str())
                    .bind(name.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::err)?;
                record.disabled_at = Some(now);
                record.disabled_by = Some(actor.as_str().to_owned());
                Self::append(&mut tx, &mut chain, &events::operator_event("disable", &record, actor)).await?;
                Self::commit(tx, chain).await?;
                Ok(record)
            }

            async fn put_login_challenge(&self, record: &LoginChallengeRecord, now: i64) -> Result<(), StoreError> {
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

            // ---- SSO portal and OpenID Connect provider (issue #6, D24) ----

            async fn portal_add_user(&self, user: &PortalUser, actor: &Actor) -> Result<(), StoreError> {
                let _writer = self.writer().await;
                let (mut tx, mut chain) = self.begin_locked().await?;
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
                    .map_err(Self::err)?;
                let detail = serde_json::json!({ "display_name": user.display_name, "hc_role": user.hc_role });
                Self::append(&mut tx, &mut chain, &sso::event("portal.user.add", &user.username, actor, detail))
                    .await?;
                Self::commit(tx, chain).await
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

            async fn portal_disable_user(&self, username: &str, actor: &Actor) -> Result<bool, StoreError> {
                let _writer = self.writer().await;
                let (mut tx, mut chain) = self.begin_locked().await?;
                let done = sqlx::query::<$db>(sso::DISABLE_USER)
                    .bind(crate::time::now_unix())
                    .bind(username)
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::err)?
                    .rows_affected()
                    == 1;
                if !done {
                    return Ok(false);
                }
                let person = format!("pwd:{username}");
                let now = crate::time::now_unix();
                let ended =
                    Self::end_sessions_in(&mut tx, sso::END_PERSON_SESSIONS, &person, "account-disabled", now).await?.len();
                let event =
                    sso::event("portal.user.disable", username, actor, serde_json::json!({ "sessions_ended": ended }));
                Self::append(&mut tx, &mut chain, &event).await?;
                Self::commit(tx, chain).await?;
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

            async fn portal_create_session(
                &self,
                s: &SessionRecord,
                login: &AuditEvent,
            ) -> Result<AuditEntry, StoreError> {
                let _writer = self.writer().await;
                let (mut tx, mut chain) = self.begin_locked().await?;
                let entry = Self::append(&mut tx, &mut chain, login).await?;
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
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::err)?;
                Self::commit(tx, chain).await?;
                Ok(entry)
            }

            async fn portal_session(&self, id_hash: &str, now: i64) -> Result<Option<SessionRecord>, StoreError> {
                Ok(sqlx::query_as::<$db, sso::SessionRow>(sso::LIVE_SESSION)
                    .bind(id_hash)
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(sso::session))
            }

            async fn portal_end_session(&self, id_hash: &str, now: i64) -> Result<Option<SessionRecord>, StoreError> {
                let _writer = self.writer().await;
                Ok(sqlx::query_as::<$db, sso::SessionRow>(sso::END_SESSION)
                    .bind(now)
                    .bind(id_hash)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(sso::session))
            }

            async fn portal_end_card_sessions(
                &self,
                person_key: &str,
                card_id: &str,
                now: i64,
            ) -> Result<Vec<SessionRecord>, StoreError> {
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
                now: i64,
            ) -> Result<Option<String>, StoreError> {
                if let Some(legacy) = self.person_key_linked(person_key).await? {
                    return Ok(Some(legacy));
                }
                let _writer = self.writer().await;
                let (mut tx, mut chain) = self.begin_locked().await?;
                let claimed = sqlx::query::<$db>(person_keys::CLAIM)
                    .bind(person_key)
                    .bind(now)
                    .bind(legacy_key)
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::err)?
                    .rows_affected();
                if claimed == 0 {
                    // Claimed meanwhile by a login of this same card (then linked to it), or never ours.
                    return sqlx::query_scalar::<$db, String>(person_keys::LINKED)
                        .bind(person_key)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(Self::err);
                }
                let moved = sqlx::query::<$db>(person_keys::MOVE_GRANT)
                    .bind(person_key)
                    .bind(legacy_key)
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::err)?
                    .rows_affected();
                let dropped = sqlx::query::<$db>(person_keys::DROP_GRANT)
                    .bind(legacy_key)
                    .execute(&mut *tx)
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
                Self::append(&mut tx, &mut chain, &event).await?;
                Self::commit(tx, chain).await?;
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
                now: i64,
            ) -> Result<Vec<SessionRecord>, StoreError> {
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
                now: i64,
                actor: &Actor,
            ) -> Result<Vec<SessionRecord>, StoreError> {
                let _writer = self.writer().await;
                let (mut tx, mut chain) = self.begin_locked().await?;
                let ended = Self::end_sessions_in(&mut tx, sso::END_OWN_SESSIONS, person_key, reason, now).await?;
                let detail = serde_json::json!({ "reason": reason, "scope": "all", "sessions_ended": ended.len() });
                Self::append(&mut tx, &mut chain, &sso::event("portal.logout", person_key, actor, detail)).await?;
                Self::commit(tx, chain).await?;
                Ok(ended.into_iter().map(sso::session).collect())
            }

            async fn oidc_add_client(&self, c: &OidcClientRecord, actor: &Actor) -> Result<(), StoreError> {
                let _writer = self.writer().await;
                let (mut tx, mut chain) = self.begin_locked().await?;
                sqlx::query::<$db>(sso::INSERT_CLIENT)
                    .bind(&c.id)
                    .bind(&c.data)
                    .bind(&c.created_by)
                    .bind(c.created_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::err)?;
                let detail = serde_json::from_str(&c.data).unwrap_or(serde_json::Value::Null);
                Self::append(&mut tx, &mut chain, &sso::event("oidc.client.add", &c.id, actor, detail)).await?;
                Self::commit(tx, chain).await
            }

            async fn oidc_client(&self, id: &str) -> Result<Option<OidcClientRecord>, StoreError> {
                Ok(sqlx::query_as::<$db, sso::ClientRow>(sso::CLIENT_BY_ID)
                    .bind(id)
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

            async fn oidc_remove_client(&self, id: &str, actor: &Actor) -> Result<bool, StoreError> {
                let _writer = self.writer().await;
                let (mut tx, mut chain) = self.begin_locked().await?;
                let gone = sqlx::query::<$db>(sso::DELETE_CLIENT)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::err)?
                    .rows_affected()
                    == 1;
                if !gone {
                    return Ok(false);
                }
                sqlx::query::<$db>(sso::REVOKE_CLIENT_GRANTS).bind(id).execute(&mut *tx).await.map_err(Self::err)?;
                let event = sso::event("oidc.client.remove", id, actor, serde_json::Value::Null);
                Self::append(&mut tx, &mut chain, &event).await?;
                Self::commit(tx, chain).await?;
                Ok(true)
            }

            async fn oidc_create_grant(&self, g: &GrantRecord) -> Result<(), StoreError> {
                let _writer = self.writer().await;
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
                    .execute(&self.pool)
                    .await
                    .map_err(Self::err)?;
                Ok(())
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
                let mut query =
                    sqlx::query_as::<$db, sso::GrantRow>(sqlx::AssertSqlSafe(sso::grants_by_ids(rows))).persistent(true);
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
                now: i64,
            ) -> Result<Vec<TokenWritten>, StoreError> {
                let plan = sso::TokenPlan::new(writes);
                let _writer = self.writer().await;
                let mut tx = self.pool.begin().await.map_err(Self::err)?;
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
                    recorded.extend(query.bind(now).fetch_all(&mut *tx).await.map_err(Self::err)?);
                }
                let fresh: Vec<bool> =
                    writes.iter().enumerate().map(|(i, w)| plan.fresh(i, w, &recorded)).collect();
                let split = sso::OpSplit::new(
                    writes
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| fresh.get(*i).copied().unwrap_or(false))
                        .filter_map(|(i, w)| w.op.as_ref().map(|op| (i, op))),
                );
                let mut accepted = std::collections::HashMap::new();
                if !split.redeem.is_empty() {
                    let rows = sso::padded(split.redeem.len());
                    let sql = sso::redeem_codes(rows);
                    let mut query = sqlx::query_as::<$db, sso::GrantRow>(sqlx::AssertSqlSafe(sql)).persistent(true);
                    for (_, op) in &split.redeem {
                        if let GrantOp::Redeem { id, code_hash, refresh_hash, expires_at } = op {
                            query = query.bind(id).bind(code_hash).bind(refresh_hash).bind(*expires_at);
                        }
                    }
                    for _ in split.redeem.len()..rows {
                        query = query.bind(None::<&str>).bind(None::<&str>).bind(None::<&str>).bind(None::<i64>);
                    }
                    accepted.extend(sso::by_id(query.bind(now).fetch_all(&mut *tx).await.map_err(Self::err)?));
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
                    accepted.extend(sso::by_id(query.bind(now).fetch_all(&mut *tx).await.map_err(Self::err)?));
                }
                let mut outcomes: Vec<TokenWritten> = fresh
                    .iter()
                    .map(|&once_fresh| TokenWritten { once_fresh, grant: None })
                    .collect();
                // The bulk ops that matched, then every other op in order: a miss (or a later op on a grant the
                // batch already used) is the replay of a spent secret or a guess at a live grant, and revokes
                // the grant (RFC 6749 §4.1.2, OAuth 2.0 Security BCP §4.14.2); a grant revoked or unknown
                // already is simply refused.
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
                    let Some(GrantOp::Redeem { id, .. } | GrantOp::Rotate { id, .. }) =
                        writes.get(i).and_then(|w| w.op.as_ref())
                    else {
                        continue;
                    };
                    let revoked = sqlx::query_as::<$db, sso::GrantRow>(sso::REVOKE_GRANT)
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(Self::err)?;
                    if let Some(out) = outcomes.get_mut(i) {
                        out.grant = Some(match revoked {
                            Some(row) => GrantUse::Replayed(sso::grant(row)),
                            None => GrantUse::Refused,
                        });
                    }
                }
                tx.commit().await.map_err(Self::err)?;
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
                expires_at: i64,
                now: i64,
            ) -> Result<bool, StoreError> {
                let _writer = self.writer().await;
                // The short-lived pool (no fsync at commit on SQLite, D28). At /token a client assertion's jti
                // is made durable by the FULL commit that follows in the same request (code redeemed or refresh
                // token rotated; WAL order); elsewhere by the next FULL commit of any request. A lost PAR request
                // only makes the user start again. One autocommitted statement: each statement is a hand-off to
                // the connection's thread on SQLite (D28 addendum).
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

            async fn oidc_once_take(&self, kind: &str, key: &str, now: i64) -> Result<Option<String>, StoreError> {
                let _writer = self.writer().await;
                sqlx::query_scalar::<$db, String>(sso::TAKE_ONCE)
                    .bind(kind)
                    .bind(key)
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)
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
                now: i64,
                throttle: &crate::store::LoginThrottle,
            ) -> Result<Option<i64>, StoreError> {
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

            // ---- console grants (D42) ----

            async fn console_grant_put(&self, grant: &ConsoleGrant, actor: &Actor) -> Result<(), StoreError> {
                let _writer = self.writer().await;
                let (mut tx, mut chain) = self.begin_locked().await?;
                sqlx::query::<$db>(console_grants::PUT)
                    .bind(&grant.person_key)
                    .bind(grant.role.name())
                    .bind(grant.role.facility().map(|f| f.as_str()))
                    .bind(&grant.note)
                    .bind(grant.granted_at)
                    .bind(&grant.granted_by)
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::err)?;
                let event = sso::event("console.grant.add", &grant.person_key, actor, console_grants::detail(grant));
                Self::append(&mut tx, &mut chain, &event).await?;
                Self::commit(tx, chain).await
            }

            async fn facility_admin_password_totp(&self, facility: &str) -> Result<bool, StoreError> {
                let n = sqlx::query_scalar::<$db, i64>(sso::ADMIN_PASSWORD_TOTP)
                    .bind(facility)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(Self::err)?;
                Ok(n > 0)
            }

            async fn set_facility_admin_password_totp(
                &self,
                facility: &FacilityId,
                allowed: bool,
                actor: &Actor,
            ) -> Result<bool, StoreError> {
                let _writer = self.writer().await;
                let (mut tx, mut chain) = self.begin_locked().await?;
                if Self::fetch_facility(&mut *tx, facility.as_str()).await?.is_none() {
                    return Err(StoreError::UnknownFacility(facility.clone()));
                }
                let done = if allowed {
                    sqlx::query::<$db>(sso::ALLOW_ADMIN_PASSWORD_TOTP)
                        .bind(facility.as_str())
                        .bind(actor.as_str())
                        .bind(crate::time::now_unix())
                        .execute(&mut *tx)
                        .await
                } else {
                    sqlx::query::<$db>(sso::DENY_ADMIN_PASSWORD_TOTP).bind(facility.as_str()).execute(&mut *tx).await
                };
                if done.map_err(Self::err)?.rows_affected() == 0 {
                    return Ok(false);
                }
                let detail = serde_json::json!({ "password_totp": if allowed { "allow" } else { "deny" } });
                let event = sso::event("facility.admin_login", facility.as_str(), actor, detail);
                Self::append(&mut tx, &mut chain, &event).await?;
                Self::commit(tx, chain).await?;
                Ok(true)
            }

            async fn console_grant(&self, person_key: &str) -> Result<Option<ConsoleGrant>, StoreError> {
                sqlx::query_as::<$db, console_grants::Row>(console_grants::BY_PERSON)
                    .bind(person_key)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(console_grants::grant)
                    .transpose()
            }

            async fn console_grants(&self) -> Result<Vec<ConsoleGrant>, StoreError> {
                sqlx::query_as::<$db, console_grants::Row>(console_grants::LIST)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(console_grants::grant)
                    .collect()
            }

            async fn console_grant_remove(
                &self,
                person_key: &str,
                actor: &Actor,
            ) -> Result<Option<ConsoleGrant>, StoreError> {
                let _writer = self.writer().await;
                let (mut tx, mut chain) = self.begin_locked().await?;
                let removed = sqlx::query_as::<$db, console_grants::Row>(console_grants::REMOVE)
                    .bind(person_key)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(Self::err)?
                    .map(console_grants::grant)
                    .transpose()?;
                let Some(grant) = removed else { return Ok(None) };
                let event = sso::event("console.grant.remove", person_key, actor, console_grants::detail(&grant));
                Self::append(&mut tx, &mut chain, &event).await?;
                Self::commit(tx, chain).await?;
                Ok(Some(grant))
            }

            async fn portal_clear_login_failures(&self, username: &str, actor: &Actor) -> Result<bool, StoreError> {
                let _writer = self.writer().await;
                let (mut tx, mut chain) = self.begin_locked().await?;
                let cleared = sqlx::query::<$db>(sso::LOGIN_SUCCEEDED)
                    .bind(username)
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::err)?
                    .rows_affected()
                    == 1;
                if !cleared {
                    return Ok(false);
                }
                let event = sso::event("portal.user.clear_lockout", username, actor, serde_json::Value::Null);
                Self::append(&mut tx, &mut chain, &event).await?;
                Self::commit(tx, chain).await?;
                Ok(true)
            }

            // ---- SSO session lifecycle and services in the database (issue #6, D26) ----

            async fn portal_session_lifetime(&self, facility: &str) -> Result<Option<i64>, StoreError> {
                sqlx::query_scalar::<$db, i64>(sso::SESSION_LIFETIME)
                    .bind(facility)
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
                facility: &str,
                secs: Option<i64>,
                actor: &Actor,
            ) -> Result<bool, StoreError> {
                let _writer = self.writer().await;
                let (mut tx, mut chain) = self.begin_locked().await?;
                let changed = match secs {
                    Some(secs) => sqlx::query::<$db>(sso::SET_SESSION_LIFETIME)
                        .bind(facility)
                        .bind(secs)
                        .bind(actor.as_str())
                        .bind(crate::time::now_unix())
                        .execute(&mut *tx)
                        .await
                        .map_err(Self::err)?,
                    None => sqlx::query::<$db>(sso::CLEAR_SESSION_LIFETIME)
                        .bind(facility)
                        .execute(&mut *tx)
                        .await
                        .map_err(Self::err)?,
                }
                .rows_affected()
                    == 1;
                if !changed {
                    return Ok(false);
                }
                let detail = serde_json::json!({ "session_secs": secs });
                Self::append(&mut tx, &mut chain, &sso::event("portal.session_lifetime", facility, actor, detail))
                    .await?;
                Self::commit(tx, chain).await?;
                Ok(true)
            }

            async fn portal_claim_ended_sessions(
                &self,
                now: i64,
                limit: i64,
            ) -> Result<Vec<SessionRecord>, StoreError> {
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
                until: i64,
                now: i64,
            ) -> Result<Option<SessionRecord>, StoreError> {
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

            async fn portal_end_lapsed_sessions(&self, now: i64) -> Result<usize, StoreError> {
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

            async fn portal_sweep(&self, now: i64, grace: i64, batch: i64) -> Result<SweepCounts, StoreError> {
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
                })
            }

            async fn rate_limit_sync(&self, sync: &RateSync<'_>) -> Result<RateTotals, StoreError> {
                self.rate_limits_sync(sync).await
            }

            async fn rate_limit_engage(
                &self,
                class: &str,
                address: &str,
                window_start: i64,
            ) -> Result<bool, StoreError> {
                self.rate_limits_engage(class, address, window_start).await
            }

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
                actor: &Actor,
            ) -> Result<bool, StoreError> {
                let _writer = self.writer().await;
                let (mut tx, mut chain) = self.begin_locked().await?;
                if seed {
                    let (_, seeded) = sqlx::query_as::<$db, (i64, i64)>(sso::SERVICES_HEAD)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(Self::err)?;
                    if seeded > 0 {
                        return Ok(false);
                    }
                }
                let now = crate::time::now_unix();
                for service in services {
                    let exists = sqlx::query_scalar::<$db, i64>(sso::SERVICE_EXISTS)
                        .bind(&service.id)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(Self::err)?
                        > 0;
                    if exists && !replace {
                        return Err(StoreError::ServiceExists(service.id.clone()));
                    }
                    let position = sqlx::query_scalar::<$db, i64>(sso::NEXT_SERVICE_POSITION)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(Self::err)?;
                    sqlx::query::<$db>(sso::UPSERT_SERVICE)
                        .bind(&service.id)
                        .bind(position)
                        .bind(&service.definition)
                        .bind(actor.as_str())
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(Self::err)?;
                    let verb = match (seed, exists) {
                        (true, _) => "portal.service.import",
                        (false, true) => "portal.service.replace",
                        (false, false) => "portal.service.add",
                    };
                    let detail = serde_json::json!({ "definition": service.definition });
                    Self::append(&mut tx, &mut chain, &sso::event(verb, &service.id, actor, detail)).await?;
                }
                sqlx::query::<$db>(sso::BUMP_SERVICES)
                    .bind(i64::from(seed))
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::err)?;
                Self::commit(tx, chain).await?;
                Ok(true)
            }

            // ---- long operations: the bodies are in `jobs.rs` ----

            async fn create_job(&self, job: &NewJob, actor: &Actor) -> Result<JobRecord, StoreError> {
                self.jobs_create(job, actor).await
            }

            async fn job(&self, id: &str) -> Result<Option<JobRecord>, StoreError> {
                self.jobs_get(id).await
            }

            async fn list_jobs(&self, limit: i64) -> Result<Vec<JobRecord>, StoreError> {
                self.jobs_list(limit).await
            }

            async fn job_items(
                &self,
                id: &str,
                state: Option<&str>,
                after_seq: i64,
                limit: i64,
            ) -> Result<Vec<JobItem>, StoreError> {
                self.jobs_items(id, state, after_seq, limit).await
            }

            async fn claim_job(&self, id: &str, owner: &str, now: i64, stale_before: i64) -> Result<bool, StoreError> {
                self.jobs_claim(id, owner, now, stale_before).await
            }

            async fn record_job_items(
                &self,
                id: &str,
                owner: &str,
                outcomes: &[ItemOutcome],
                now: i64,
            ) -> Result<bool, StoreError> {
                self.jobs_record(id, owner, outcomes, now).await
            }

            async fn end_job(
                &self,
                id: &str,
                owner: Option<&str>,
                state: JobState,
                note: Option<&str>,
                actor: &Actor,
            ) -> Result<bool, StoreError> {
                self.jobs_end(id, owner, state, note, actor).await
            }

            async fn register_facilities_for_job(
                &self,
                id: &str,
                owner: &str,
                batch: &[(i64, NewFacility)],
                approve: bool,
                actor: &Actor,
            ) -> Result<Option<Vec<Registration>>, StoreError> {
                self.jobs_register(id, owner, batch, approve, actor).await
            }

            async fn successor(&self, serial: &str) -> Result<Option<CertificateRecord>, StoreError> {
                self.jobs_successor(serial).await
            }

            async fn portal_remove_service(&self, id: &str, actor: &Actor) -> Result<bool, StoreError> {
                let _writer = self.writer().await;
                let (mut tx, mut chain) = self.begin_locked().await?;
                let gone = sqlx::query::<$db>(sso::DELETE_SERVICE)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::err)?
                    .rows_affected()
                    == 1;
                if !gone {
                    return Ok(false);
                }
                sqlx::query::<$db>(sso::BUMP_SERVICES).bind(0_i64).execute(&mut *tx).await.map_err(Self::err)?;
                let event = sso::event("portal.service.remove", id, actor, serde_json::Value::Null);
                Self::append(&mut tx, &mut chain, &event).await?;
                Self::commit(tx, chain).await?;
                Ok(true)
            }
        }

        impl $store {
            /// End the live sessions `sql` selects by `key` inside a transaction, for `reason`, and revoke
            /// their grants; how many ended. Their back-channel logout is left to a server replica
            /// (`notified_at` stays NULL).
            async fn end_sessions_in(
                tx: &mut sqlx::Transaction<'static, $db>,
                sql: &'static str,
                key: &str,
                reason: &str,
                now: i64,
            ) -> Result<Vec<sso::SessionRow>, StoreError> {
                let ended = sqlx::query_as::<$db, sso::SessionRow>(sql)
                    .bind(now)
                    .bind(reason)
                    .bind(key)
                    .fetch_all(&mut **tx)
                    .await
                    .map_err(Self::err)?;
                Self::revoke_grants_of(tx, &ended).await?;
                Ok(ended)
            }

            /// Revoke the grants of sessions just ended inside a transaction.
            async fn revoke_grants_of(
                tx: &mut sqlx::Transaction<'static, $db>,
                ended: &[sso::SessionRow],
            ) -> Result<(), StoreError> {
                for s in ended {
                    sqlx::query::<$db>(sso::REVOKE_SESSION_GRANTS)
                        .bind(&s.0)
                        .execute(&mut **tx)
                        .await
                        .map_err(Self::err)?;
                }
                Ok(())
            }

            /// A suspended or retired facility's SSO sessions end with it, audited as `portal.sessions.end`.
            async fn end_facility_sessions(
                tx: &mut sqlx::Transaction<'static, $db>,
                chain: &mut Chain,
                id: &FacilityId,
                transition: Transition,
                actor: &Actor,
            ) -> Result<(), StoreError> {
                let reason = match transition {
                    Transition::Suspend => "facility-suspended",
                    Transition::Retire => "facility-retired",
                    _ => return Ok(()),
                };
                let now = crate::time::now_unix();
                let ended = Self::end_sessions_in(tx, sso::END_FACILITY_SESSIONS, id.as_str(), reason, now).await?.len();
                if ended > 0 {
                    let detail = serde_json::json!({ "reason": reason, "sessions_ended": ended });
                    Self::append(tx, chain, &sso::event("portal.sessions.end", id.as_str(), actor, detail)).await?;
                }
                Ok(())
            }
        }

    };
}

pub(super) use sql_store;
