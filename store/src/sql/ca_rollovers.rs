//! SQL and row conversion of CA key rollovers (migration 0032, D145).

use super::rows::stored_ca;
use crate::StoreError;
use crate::audit::{AuditEvent, Outcome};
use crate::rollover::{RolloverRecord, RolloverState, RootLinks};

/// The columns every read and the insert name, in [`RolloverRow`]'s order.
macro_rules! columns {
    () => {
        "ca, generation, state, key_uri, cert_der, old_key_uri, old_cert_der, started_at, started_by, switched_at, \
         ended_at, ended_by, compromised, new_with_old_der, old_with_new_der"
    };
}
pub(super) const LIST: &str = concat!("SELECT ", columns!(), " FROM ca_rollovers ORDER BY ca, generation");
pub(super) const OPEN_OF: &str =
    concat!("SELECT ", columns!(), " FROM ca_rollovers WHERE ca = $1 AND state IN ('published', 'switched')");
pub(super) const INSERT: &str = concat!(
    "INSERT INTO ca_rollovers (",
    columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
);
pub(super) const SET_STATE: &str = "UPDATE ca_rollovers SET state = $3, switched_at = COALESCE($4, switched_at), \
     ended_at = $5, ended_by = $6, compromised = $7 WHERE ca = $1 AND generation = $2";
/// At the switch the authorities row, which every release reads as the CA that issues, takes the new generation.
pub(super) const SWITCH_AUTHORITY: &str = "UPDATE authorities SET key_uri = $2, cert_der = $3 WHERE name = $1";
/// Certificates of the CA still valid and issued at or before the cut (the switch), by facility. Times are whole
/// seconds, so a certificate of the switch's own second counts as old: the count errs towards refusing a retirement.
/// The root's own certificates (itself, its link certificates) are not holders: an old root is held by the
/// issuing CAs it certified (D160).
pub(super) const OLD_HOLDERS: &str = "SELECT facility_id, COUNT(*) FROM certificates WHERE ca = $1 \
     AND status = 'issued' AND not_after > $2 AND issued_at <= $3 AND profile <> 'ca-root' \
     GROUP BY facility_id ORDER BY facility_id";

/// A row of [`LIST`] / [`OPEN_OF`], its columns named as in the table.
#[derive(sqlx::FromRow)]
pub(super) struct RolloverRow {
    ca: String,
    generation: i64,
    state: String,
    key_uri: String,
    cert_der: Vec<u8>,
    old_key_uri: String,
    old_cert_der: Vec<u8>,
    started_at: i64,
    started_by: String,
    switched_at: Option<i64>,
    ended_at: Option<i64>,
    ended_by: Option<String>,
    compromised: i64,
    new_with_old_der: Option<Vec<u8>>,
    old_with_new_der: Option<Vec<u8>>,
}

pub(super) fn record(row: RolloverRow) -> Result<RolloverRecord, StoreError> {
    let (ca, generation, state) = (&row.ca, row.generation, &row.state);
    let corrupt = |what: &str| StoreError::Corrupt(format!("ca_rollovers {ca}/{generation}: {what}"));
    Ok(RolloverRecord {
        ca: stored_ca(ca).map_err(|e| corrupt(&e))?,
        generation: u32::try_from(generation).map_err(|_| corrupt("generation out of range"))?,
        state: RolloverState::from_stored(state).ok_or_else(|| corrupt(&format!("unknown state {state:?}")))?,
        key_uri: row.key_uri,
        cert_der: row.cert_der,
        old_key_uri: row.old_key_uri,
        old_cert_der: row.old_cert_der,
        started_at: row.started_at,
        started_by: row.started_by,
        switched_at: row.switched_at,
        ended_at: row.ended_at,
        ended_by: row.ended_by,
        compromised: row.compromised != 0,
        links: match (row.new_with_old_der, row.old_with_new_der) {
            (Some(new_with_old), Some(old_with_new)) => Some(RootLinks { new_with_old, old_with_new }),
            (None, None) => None,
            _ => return Err(corrupt("one link certificate of the two")),
        },
    })
}

/// The audit event of a rollover step or its refusal.
pub(super) fn event(
    action: &str,
    ca: &str,
    actor: &crate::Actor,
    outcome: Outcome,
    detail: serde_json::Value,
) -> AuditEvent {
    AuditEvent { actor: actor.as_str().to_owned(), action: action.to_owned(), target: ca.to_owned(), outcome, detail }
}

/// `impl CaRollovers` for one backend (see [`super::writer`] for why a macro).
macro_rules! ca_rollovers_store {
    ($store:ident, $db:ty) => {
        impl $store {
            /// The open rollover of `ca`, read on `conn` (a writer's, so under the audit head lock).
            async fn fetch_open_rollover(
                conn: &mut <$db as sqlx::Database>::Connection,
                ca: CaName,
            ) -> Result<Option<RolloverRecord>, StoreError> {
                sqlx::query_as::<$db, ca_rollovers::RolloverRow>(ca_rollovers::OPEN_OF)
                    .bind(ca.as_str())
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(Self::err)?
                    .map(ca_rollovers::record)
                    .transpose()
            }
        }

        #[async_trait::async_trait]
        impl CaRollovers for $store {
            async fn rollovers(&self) -> Result<Vec<RolloverRecord>, StoreError> {
                sqlx::query_as::<$db, ca_rollovers::RolloverRow>(ca_rollovers::LIST)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(ca_rollovers::record)
                    .collect()
            }

            async fn start_rollover(&self, record: &RolloverRecord, actor: &Actor, at: UnixTime) -> Result<(), StoreError> {
                let ca = record.ca;
                let mut w = self.write(at).await?;
                if let Some(open) = Self::fetch_open_rollover(&mut w.tx, ca).await? {
                    let refusal =
                        RolloverRefusal::AlreadyOpen { ca, generation: open.generation, state: open.state };
                    let detail = serde_json::json!({ "generation": record.generation, "refused": refusal.to_string() });
                    w.append(&ca_rollovers::event("ca.rollover.start", ca.as_str(), actor, crate::audit::Outcome::Denied, detail))
                        .await?;
                    w.commit().await?;
                    return Err(StoreError::Rollover(refusal));
                }
                sqlx::query::<$db>(ca_rollovers::INSERT)
                    .bind(ca.as_str())
                    .bind(i64::from(record.generation))
                    .bind(RolloverState::Published.as_str())
                    .bind(&record.key_uri)
                    .bind(record.cert_der.as_slice())
                    .bind(&record.old_key_uri)
                    .bind(record.old_cert_der.as_slice())
                    .bind(record.started_at)
                    .bind(&record.started_by)
                    .bind(None::<i64>)
                    .bind(None::<i64>)
                    .bind(None::<String>)
                    .bind(0_i64)
                    .bind(record.links.as_ref().map(|l| l.new_with_old.as_slice()))
                    .bind(record.links.as_ref().map(|l| l.old_with_new.as_slice()))
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let detail = serde_json::json!({ "generation": record.generation, "key_uri": record.key_uri,
                    "old_key_uri": record.old_key_uri });
                w.append(&ca_rollovers::event("ca.rollover.start", ca.as_str(), actor, crate::audit::Outcome::Ok, detail)).await?;
                w.commit().await
            }

            async fn advance_rollover(
                &self,
                ca: CaName,
                step: RolloverStep,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<RolloverRecord, StoreError> {
                let mut w = self.write(at).await?;
                let open = Self::fetch_open_rollover(&mut w.tx, ca).await?;
                let decided = match open {
                    None => Err((None, RolloverRefusal::NotOpen { ca })),
                    Some(r) => match crate::rollover::advance(ca, r.generation, r.state, step) {
                        Ok(state) => Ok((r, state)),
                        Err(refusal) => Err((Some(r), refusal)),
                    },
                };
                let (mut record, state) = match decided {
                    Ok(found) => found,
                    Err((open, refusal)) => {
                        let detail = serde_json::json!({ "generation": open.map(|r| r.generation),
                            "refused": refusal.to_string() });
                        w.append(&ca_rollovers::event(step.action(), ca.as_str(), actor, crate::audit::Outcome::Denied, detail))
                            .await?;
                        w.commit().await?;
                        return Err(StoreError::Rollover(refusal));
                    }
                };
                let now = w.now();
                record.state = state;
                match step {
                    RolloverStep::Switch => {
                        record.switched_at = Some(now);
                        sqlx::query::<$db>(ca_rollovers::SWITCH_AUTHORITY)
                            .bind(ca.as_str())
                            .bind(&record.key_uri)
                            .bind(record.cert_der.as_slice())
                            .execute(&mut *w.tx)
                            .await
                            .map_err(Self::err)?;
                    }
                    RolloverStep::Retire { compromised } => {
                        record.ended_at = Some(now);
                        record.ended_by = Some(actor.as_str().to_owned());
                        record.compromised = compromised;
                    }
                    RolloverStep::Abort => {
                        record.ended_at = Some(now);
                        record.ended_by = Some(actor.as_str().to_owned());
                    }
                }
                sqlx::query::<$db>(ca_rollovers::SET_STATE)
                    .bind(ca.as_str())
                    .bind(i64::from(record.generation))
                    .bind(state.as_str())
                    .bind(record.switched_at)
                    .bind(record.ended_at)
                    .bind(record.ended_by.as_deref())
                    .bind(i64::from(record.compromised))
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let detail = serde_json::json!({ "generation": record.generation, "state": state.as_str(),
                    "compromised": record.compromised });
                w.append(&ca_rollovers::event(step.action(), ca.as_str(), actor, crate::audit::Outcome::Ok, detail)).await?;
                w.commit().await?;
                Ok(record)
            }

            async fn old_generation_holders(
                &self,
                ca: CaName,
                issued_before: UnixTime,
                now: UnixTime,
            ) -> Result<Vec<(Option<String>, i64)>, StoreError> {
                sqlx::query_as::<$db, (Option<String>, i64)>(ca_rollovers::OLD_HOLDERS)
                    .bind(ca.as_str())
                    .bind(now.as_secs())
                    .bind(issued_before.as_secs())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)
            }
        }
    };
}
pub(super) use ca_rollovers_store;
