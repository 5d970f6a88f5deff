//! `facilities_store!`: [`crate::Facilities`] on SQL, expanded once per backend (see [`super::writer`] for why
//! a macro): facilities, their lifecycle (with what it does to certificates and sessions), allocations and CAs.

macro_rules! facilities_store {
    ($store:ident, $db:ty, $backend:expr) => {
        impl $store {
            /// Apply `t` to `current`, write it and its audit entry.
            async fn set_state(
                w: &mut Writer<'_, $db>,
                current: Facility,
                t: Transition,
                reason: Option<&str>,
                actor: &Actor,
            ) -> Result<Facility, StoreError> {
                let to = current.state.apply(t)?;
                let now = w.now();
                sqlx::query::<$db>(queries::SET_FACILITY_STATE)
                    .bind(to.as_str())
                    .bind(reason)
                    .bind(actor.as_str())
                    .bind(now)
                    .bind(current.id.as_str())
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                w.append(&events::transition(&current, t, to, reason, actor)).await?;
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
                w: &mut Writer<'_, $db>,
                change: &FacilityChange,
            ) -> Result<Result<Facility, StoreError>, StoreError> {
                let FacilityChange { id, transition, reason, actor } = change;
                let Some(current) = Self::fetch_facility(&mut *w.tx, id.as_str()).await? else {
                    return Ok(Err(StoreError::UnknownFacility(id.clone())));
                };
                if let Err(refused) = current.state.apply(*transition) {
                    return Ok(Err(refused.into()));
                }
                // Every path that approves comes here: the vetting evidence its approver's requirements name
                // is checked inside the transaction (D173).
                if *transition == Transition::Approve
                    && let Some(refused) = Self::vetting_refusal_in(w, &current, actor).await?
                {
                    return Ok(Err(refused));
                }
                let updated = Self::set_state(w, current, *transition, reason.as_deref(), actor).await?;
                // The facility's sessions end first, as the facility's: its PC certificates' revocation then
                // finds none of them live.
                Self::end_facility_sessions(w, id, *transition, actor).await?;
                Self::apply_to_certificates(w, id, *transition, actor).await?;
                // A suspended or retired facility's router keys stop at the hub's next reload (D156); resuming
                // does not bring them back: the administrator issues new ones.
                if matches!(transition, Transition::Suspend | Transition::Retire) {
                    Self::psk_withdraw_in(w, id, actor).await?;
                }
                Ok(Ok(updated))
            }

            /// What a facility's state change does to its certificates, in the same transaction: suspending
            /// holds every live one (certificateHold), resuming releases the holds, retiring revokes the live
            /// ones and makes holds permanent (cessationOfOperation). Each change is audited.
            async fn apply_to_certificates(
                w: &mut Writer<'_, $db>,
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
                        .bind(w.now())
                        .fetch_all(&mut *w.tx)
                        .await
                        .map_err(Self::err)?;
                    for serial in live {
                        // Listed as live inside this transaction, so a refusal here means the store is
                        // inconsistent: fail the whole transition.
                        Self::revoke_in(w, &serial, reason, actor).await??;
                    }
                }
                if !matches!(t, Transition::Retire | Transition::Resume) {
                    return Ok(());
                }
                let held = sqlx::query_scalar::<$db, String>(queries::HELD_OF_FACILITY)
                    .bind(facility.as_str())
                    .fetch_all(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                for serial in held {
                    if t == Transition::Retire {
                        sqlx::query::<$db>(queries::HOLD_TO_CESSATION)
                            .bind(&serial)
                            .bind(actor.as_str())
                            .execute(&mut *w.tx)
                            .await
                            .map_err(Self::err)?;
                    } else {
                        sqlx::query::<$db>(queries::DELETE_HOLD).bind(&serial).execute(&mut *w.tx).await.map_err(Self::err)?;
                        sqlx::query::<$db>(queries::MARK_UNREVOKED).bind(&serial).execute(&mut *w.tx).await.map_err(Self::err)?;
                    }
                    if let Some(record) = Self::fetch_certificate(&mut *w.tx, &serial).await? {
                        let event = if t == Transition::Retire {
                            events::revoked(&record, CESSATION, None, actor)
                        } else {
                            events::unheld(&record, actor)
                        };
                        w.append(&event).await?;
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
                w: &mut Writer<'_, $db>,
                new: &NewFacility,
                actor: &Actor,
            ) -> Result<Registration, Inserted> {
                if let Some(code) = &new.medical_code {
                    let holder = sqlx::query_scalar::<$db, String>(queries::FACILITY_ID_BY_CODE)
                        .bind(code.as_str())
                        .fetch_optional(&mut *w.tx)
                        .await
                        .map_err(Self::err)?;
                    if let Some(existing) = holder {
                        return Ok(Registration::AlreadyRegistered { code: code.to_string(), existing });
                    }
                }
                // Every allocation is checked before anything is written, so a refused row leaves no trace
                // but its denied audit entry.
                for allocation in &new.allocations {
                    if let Some(held) = Self::overlapping(&mut w.tx, allocation).await? {
                        let refused = Registration::AddressHeld {
                            asked: *allocation,
                            holder: held.facility,
                            held: held.allocation,
                        };
                        w.append(&events::register_refused(new, &refused, actor)).await?;
                        return Ok(refused);
                    }
                }
                let number = sqlx::query_scalar::<$db, i64>(queries::NEXT_FACILITY_NUMBER)
                    .fetch_optional(&mut *w.tx)
                    .await
                    .map_err(Self::err)?
                    .ok_or_else(|| StoreError::Corrupt("the facility counter row is missing".into()))?;
                let id = u64::try_from(number)
                    .map_err(|_| StoreError::Corrupt(format!("facility counter is {number}")))
                    .and_then(|n| FacilityId::from_number(n).map_err(|e| StoreError::Database(e.to_string())))?;
                let now = w.now();
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
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Inserted::Failed)?;
                w.append(&events::register(&facility, actor)).await?;
                for allocation in &new.allocations {
                    Self::insert_allocation(w, &facility.id, allocation, actor).await?;
                }
                Ok(Registration::New(facility))
            }

            /// A suspended or retired facility's SSO sessions end with it, audited as `portal.sessions.end`.
            async fn end_facility_sessions(
                w: &mut Writer<'_, $db>,
                id: &FacilityId,
                transition: Transition,
                actor: &Actor,
            ) -> Result<(), StoreError> {
                let reason = match transition {
                    Transition::Suspend => "facility-suspended",
                    Transition::Retire => "facility-retired",
                    _ => return Ok(()),
                };
                let now = w.now();
                let ended = Self::end_sessions_in(&mut w.tx, sso::END_FACILITY_SESSIONS, id.as_str(), reason, now).await?.len();
                if ended > 0 {
                    let detail = serde_json::json!({ "reason": reason, "sessions_ended": ended });
                    w.append(&sso::event("portal.sessions.end", id.as_str(), actor, detail)).await?;
                }
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl Facilities for $store {
            async fn register_facility(&self, new: &NewFacility, actor: &Actor, at: UnixTime) -> Result<Facility, StoreError> {
                match self.register_facilities(std::slice::from_ref(new), actor, at).await?.pop() {
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
                actor: &Actor, at: UnixTime,
            ) -> Result<Vec<Registration>, StoreError> {
                let mut w = self.write(at).await?;
                let mut out = Vec::with_capacity(batch.len());
                for new in batch {
                    match Self::insert_facility(&mut w, new, actor).await {
                        Ok(registration) => out.push(registration),
                        Err(Inserted::Store(e)) => return Err(e),
                        Err(Inserted::Failed(e)) => {
                            let _queue = w.abandon().await;
                            return Err(self.duplicate_code_or(e, new).await);
                        }
                    }
                }
                w.commit().await?;
                Ok(out)
            }

            async fn transition_facilities(
                &self,
                batch: &[FacilityChange], at: UnixTime,
            ) -> Result<Vec<Result<Facility, StoreError>>, StoreError> {
                let mut w = self.write(at).await?;
                let mut out = Vec::with_capacity(batch.len());
                for change in batch {
                    out.push(Self::transition_in(&mut w, change).await?);
                }
                w.commit().await?;
                Ok(out)
            }

            async fn add_allocation(
                &self,
                facility: &FacilityId,
                allocation: &Allocation,
                actor: &Actor, at: UnixTime,
            ) -> Result<AllocationRecord, StoreError> {
                self.allocations_add(facility, allocation, actor, at).await
            }

            async fn remove_allocation(
                &self,
                facility: &FacilityId,
                allocation: &Allocation,
                actor: &Actor, at: UnixTime,
            ) -> Result<AllocationRecord, StoreError> {
                self.allocations_remove(facility, allocation, actor, at).await
            }

            async fn allocations(&self, facility: Option<&FacilityId>) -> Result<Vec<AllocationRecord>, StoreError> {
                self.allocations_list(facility).await
            }

            async fn allocations_of(&self, ids: &[FacilityId]) -> Result<Vec<AllocationRecord>, StoreError> {
                self.allocations_of_many(ids).await
            }

            async fn allocation_overlapping(
                &self,
                allocation: &Allocation,
            ) -> Result<Option<AllocationRecord>, StoreError> {
                self.allocation_holding(allocation).await
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
                sqlx::query_as::<$db, rows::FacilityRow>(queries::LIST_FACILITIES.as_str())
                    .bind(filter.state.map(|s| s.as_str()))
                    .bind(filter.kind.map(|k| k.as_str()))
                    .bind(filter.name_contains.as_deref().map(rows::contains_pattern))
                    .bind(filter.phone.as_ref().map(|p| format!("%{p}%")))
                    .bind(i64::try_from(after).unwrap_or(i64::MAX))
                    .bind(rows::limit(filter.limit))
                    .bind(filter.ra.as_ref().filter(|r| r.kind == RaKind::Prefecture).map(Ra::prefecture_list))
                    .bind(filter.ra.as_ref().filter(|r| r.kind == RaKind::Provider).map(|r| r.name.as_str()))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(rows::facility)
                    .collect()
            }

            async fn put_authority(&self, record: &AuthorityRecord, actor: &Actor, at: UnixTime) -> Result<(), StoreError> {
                let mut w = self.write(at).await?;
                let exists = sqlx::query_scalar::<$db, String>(queries::AUTHORITY_EXISTS)
                    .bind(record.name.as_str())
                    .fetch_optional(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                if exists.is_some() {
                    return Err(StoreError::DuplicateAuthority(record.name));
                }
                sqlx::query::<$db>(queries::INSERT_AUTHORITY)
                    .bind(record.name.as_str())
                    .bind(&record.key_uri)
                    .bind(record.cert_der.as_slice())
                    .bind(record.parent.map(CaName::as_str))
                    .bind(record.created_at)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(|e| {
                        if errors::is_unique_violation(&e) {
                            StoreError::DuplicateAuthority(record.name)
                        } else {
                            Self::err(e)
                        }
                    })?;
                w.append(&events::ca_create(record, actor)).await?;
                w.commit().await
            }

            async fn authorities(&self) -> Result<Vec<AuthorityRecord>, StoreError> {
                Ok(sqlx::query_as::<$db, rows::AuthorityRow>(queries::LIST_AUTHORITIES)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(rows::authority)
                    .collect::<Result<_, _>>()?)
            }
        }
    };
}

pub(super) use facilities_store;
