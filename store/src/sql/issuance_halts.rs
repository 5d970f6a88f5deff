//! SQL and row conversion of the issuance stop switch (migration 0030, D135).

use crate::StoreError;
use crate::audit::{AuditEvent, Outcome};
use crate::halt::{Approval, Approver, Halt, HaltReason};

pub(super) const IN_FORCE: &str = "SELECT id, reason, halted_by, halted_at FROM issuance_halts \
     WHERE resumed_at IS NULL ORDER BY id DESC LIMIT 1";
pub(super) const APPROVALS: &str =
    "SELECT approver, approved_at FROM issuance_halt_approvals WHERE halt_id = $1 ORDER BY approved_at, approver";
pub(super) const NEXT_ID: &str = "SELECT COALESCE(MAX(id), 0) + 1 FROM issuance_halts";
pub(super) const INSERT: &str = "INSERT INTO issuance_halts (id, reason, halted_by, halted_at) VALUES ($1, $2, $3, $4)";
pub(super) const APPROVE: &str =
    "INSERT INTO issuance_halt_approvals (halt_id, approver, approved_at) VALUES ($1, $2, $3)";
pub(super) const RESUME: &str = "UPDATE issuance_halts SET resumed_at = $2, resumed_by = $3 WHERE id = $1";

/// A refused halt or approval, for the audit log: nothing changed but the attempt is on record.
pub(super) fn denied(action: &str, actor: &crate::Actor, detail: serde_json::Value) -> AuditEvent {
    AuditEvent {
        actor: actor.as_str().to_owned(),
        action: action.to_owned(),
        target: "issuance".into(),
        outcome: Outcome::Denied,
        detail,
    }
}

/// A row of [`IN_FORCE`].
pub(super) type HaltRow = (i64, String, String, i64);

pub(super) fn halt(row: HaltRow, approvals: Vec<(String, i64)>) -> Result<Halt, StoreError> {
    let (id, reason, halted_by, halted_at) = row;
    let reason = HaltReason::parse(&reason).map_err(|e| StoreError::Corrupt(format!("reason of halt {id}: {e}")))?;
    let approvals = approvals.into_iter().map(|(who, at)| Approval { approver: Approver::stored(who), at }).collect();
    Ok(Halt { id, reason, halted_by, halted_at, approvals })
}

/// `impl IssuanceHalts` for one backend (see [`super::writer`] for why a macro).
macro_rules! issuance_halts_store {
    ($store:ident, $db:ty) => {
        impl $store {
            /// The halt in force with its approvals, read on `conn` (the pool's or a writer's).
            async fn fetch_halt(conn: &mut <$db as sqlx::Database>::Connection) -> Result<Option<Halt>, StoreError> {
                let Some(row) = sqlx::query_as::<$db, issuance_halts::HaltRow>(issuance_halts::IN_FORCE)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(Self::err)?
                else {
                    return Ok(None);
                };
                let approvals = sqlx::query_as::<$db, (String, i64)>(issuance_halts::APPROVALS)
                    .bind(row.0)
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(Self::err)?;
                issuance_halts::halt(row, approvals).map(Some)
            }
        }

        #[async_trait::async_trait]
        impl IssuanceHalts for $store {
            async fn issuance_halt(&self) -> Result<Option<Halt>, StoreError> {
                let mut conn = self.pool.acquire().await.map_err(Self::err)?;
                Self::fetch_halt(&mut conn).await
            }

            async fn halt_issuance(
                &self,
                reason: &HaltReason,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<Halt, StoreError> {
                let mut w = self.write(at).await?;
                if let Some(h) = Self::fetch_halt(&mut w.tx).await? {
                    let refusal = HaltRefusal::AlreadyHalted { id: h.id, by: h.halted_by.clone() };
                    let detail = serde_json::json!({ "halt": h.id, "reason": reason.as_str(),
                        "refused": refusal.to_string() });
                    w.append(&issuance_halts::denied("ca.issuance.halt", actor, detail)).await?;
                    w.commit().await?;
                    return Err(StoreError::Halt(refusal));
                }
                let id = sqlx::query_scalar::<$db, i64>(issuance_halts::NEXT_ID)
                    .fetch_one(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let now = w.now();
                sqlx::query::<$db>(issuance_halts::INSERT)
                    .bind(id)
                    .bind(reason.as_str())
                    .bind(actor.as_str())
                    .bind(now)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let detail = serde_json::json!({ "halt": id, "reason": reason.as_str() });
                w.append(&sso::event("ca.issuance.halt", "issuance", actor, detail)).await?;
                w.commit().await?;
                Ok(Halt {
                    id,
                    reason: reason.clone(),
                    halted_by: actor.as_str().to_owned(),
                    halted_at: now,
                    approvals: Vec::new(),
                })
            }

            async fn approve_resume(
                &self,
                approver: &Approver,
                ttl: std::time::Duration,
                at: UnixTime,
            ) -> Result<ApprovalOutcome, StoreError> {
                let actor = Actor(approver.as_str().to_owned());
                let mut w = self.write(at).await?;
                let halt = Self::fetch_halt(&mut w.tx).await?;
                let decision = match &halt {
                    None => Err(HaltRefusal::NotHalted),
                    Some(h) => crate::halt::decide(h, approver, at, ttl),
                };
                let (mut halt, decision) = match (halt, decision) {
                    (Some(h), Ok(d)) => (h, d),
                    (h, Err(refusal)) => {
                        let detail = serde_json::json!({ "halt": h.map(|h| h.id), "refused": refusal.to_string() });
                        w.append(&issuance_halts::denied("ca.issuance.resume.approve", &actor, detail)).await?;
                        w.commit().await?;
                        return Err(StoreError::Halt(refusal));
                    }
                    (None, Ok(_)) => return Err(StoreError::Halt(HaltRefusal::NotHalted)),
                };
                let now = w.now();
                sqlx::query::<$db>(issuance_halts::APPROVE)
                    .bind(halt.id)
                    .bind(approver.as_str())
                    .bind(now)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                halt.approvals.push(crate::halt::Approval { approver: approver.clone(), at: now });
                let live: Vec<&str> = halt.live_approvals(at, ttl).map(|a| a.approver.as_str()).collect();
                let detail = serde_json::json!({ "halt": halt.id, "approvers": live });
                w.append(&sso::event("ca.issuance.resume.approve", "issuance", &actor, detail.clone())).await?;
                let outcome = match decision {
                    Decision::Record => {
                        let still_needed = crate::halt::APPROVALS_NEEDED.saturating_sub(live.len());
                        ApprovalOutcome::Recorded { halt, still_needed }
                    }
                    Decision::Resume => {
                        sqlx::query::<$db>(issuance_halts::RESUME)
                            .bind(halt.id)
                            .bind(now)
                            .bind(approver.as_str())
                            .execute(&mut *w.tx)
                            .await
                            .map_err(Self::err)?;
                        w.append(&sso::event("ca.issuance.resume", "issuance", &actor, detail)).await?;
                        ApprovalOutcome::Resumed { halt }
                    }
                };
                w.commit().await?;
                Ok(outcome)
            }
        }
    };
}
pub(super) use issuance_halts_store;
