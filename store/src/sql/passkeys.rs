//! SQL and row conversion of passkeys (migration 0034, D147).

use crate::StoreError;
use crate::traits::passkeys::{FacilityPasskeyRule, PasskeyRecord};
use hcpki_model::passkey_attestation::AttestationPolicy;

macro_rules! passkey_columns {
    () => {
        "credential_id, person_key, user_handle, subject_name, subject_role, public_key, algorithm, sign_count, \
         backup_flags, transports, aaguid, attestation, name, created_at, last_used_at, revoked_at"
    };
}

pub(super) const INSERT: &str = concat!(
    "INSERT INTO passkeys (",
    passkey_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
     ON CONFLICT (credential_id) DO NOTHING"
);
pub(super) const GET: &str = concat!("SELECT ", passkey_columns!(), " FROM passkeys WHERE credential_id = $1");
pub(super) const OF_PERSON: &str =
    concat!("SELECT ", passkey_columns!(), " FROM passkeys WHERE person_key = $1 ORDER BY created_at, credential_id");
pub(super) const USE: &str = "UPDATE passkeys SET sign_count = $2, backup_flags = (backup_flags & 1) | $3, last_used_at = $4 \
     WHERE credential_id = $1 AND revoked_at IS NULL AND ($2 > sign_count OR ($2 = 0 AND sign_count = 0))";
pub(super) const RENAME: &str =
    "UPDATE passkeys SET name = $3 WHERE person_key = $1 AND credential_id = $2 AND revoked_at IS NULL";
pub(super) const REVOKE: &str = concat!(
    "UPDATE passkeys SET revoked_at = $3 WHERE person_key = $1 AND credential_id = $2 AND revoked_at IS NULL \
     RETURNING ",
    passkey_columns!()
);

/// The live sessions a passkey opened (`$3` their `card_id`, `passkey:<credential id>`), ended as it is revoked
/// (`$1` now, `$2` reason): `notified_at` stays NULL, so a server replica sends their back-channel logout (the
/// help desk's `hcpki portal passkey revoke` has none to send it). Lent or not: a revoked key opens nothing.
pub(super) const END_SESSIONS: &str = "UPDATE portal_sessions SET ended_at = $1, end_reason = $2 \
     WHERE card_id = $3 AND ended_at IS NULL AND expires_at > $1 RETURNING id_hash";

/// The end reason of the sessions of a revoked passkey.
pub(super) const REVOKED: &str = "passkey-revoked";

/// A row of the SELECTs.
pub(super) type Row = (
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    i64,
    i64,
    i64,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
);

const ELIGIBLE: i64 = 1;
const BACKED_UP: i64 = 2;

/// The `backup_flags` column of BE and BS.
pub(super) fn backup_flags(eligible: bool, backed_up: bool) -> i64 {
    (if eligible { ELIGIBLE } else { 0 }) | (if backed_up { BACKED_UP } else { 0 })
}

pub(super) fn record(row: Row) -> PasskeyRecord {
    let (
        credential_id,
        person_key,
        user_handle,
        subject_name,
        subject_role,
        public_key,
        algorithm,
        sign_count,
        backup_flags,
        transports,
        aaguid,
        attestation,
        name,
        created_at,
        last_used_at,
        revoked_at,
    ) = row;
    PasskeyRecord {
        credential_id,
        person_key,
        user_handle,
        subject_name,
        subject_role,
        public_key,
        algorithm,
        sign_count,
        backup_eligible: backup_flags & ELIGIBLE != 0,
        backup_state: backup_flags & BACKED_UP != 0,
        transports,
        aaguid,
        attestation,
        name,
        created_at,
        last_used_at,
        revoked_at,
    }
}

pub(super) const PUT_RULE: &str = "INSERT INTO facility_passkey_rules (facility_id, rule, models, set_by, set_at) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (facility_id) DO UPDATE SET rule = $2, models = $3, set_by = $4, \
     set_at = $5";
pub(super) const RULE_OF: &str =
    "SELECT rule, models, set_by, set_at FROM facility_passkey_rules WHERE facility_id = $1";

/// A row of [`RULE_OF`].
pub(super) type RuleRow = (String, String, String, i64);

/// The models of `rule` as kept: UUIDs separated by spaces (empty unless it lists models).
pub(super) fn models_text(rule: &AttestationPolicy) -> String {
    rule.models().iter().map(ToString::to_string).collect::<Vec<_>>().join(" ")
}

pub(super) fn rule(row: RuleRow) -> Result<FacilityPasskeyRule, StoreError> {
    let (name, models, set_by, set_at) = row;
    let models: Vec<&str> = models.split_whitespace().collect();
    let rule =
        AttestationPolicy::parse(&name, &models).map_err(|e| StoreError::Corrupt(format!("passkey rule: {e}")))?;
    Ok(FacilityPasskeyRule { rule, set_by, set_at })
}

/// `impl Passkeys` for one backend (see [`super::writer`] for why a macro).
macro_rules! passkeys_store {
    ($store:ident, $db:ty) => {
        impl $store {
            /// End a registration or a use whose statement `done` (or not): its audit entry, marked denied when
            /// refused, and the commit. A refusal is audited as one, so it is written either way.
            async fn passkey_settle(
                mut w: Writer<'_, $db>,
                event: &AuditEvent,
                done: bool,
            ) -> Result<bool, StoreError> {
                let mut event = event.clone();
                if !done {
                    event.outcome = crate::audit::Outcome::Denied;
                }
                w.append(&event).await?;
                w.commit().await?;
                Ok(done)
            }
        }

        #[async_trait::async_trait]
        impl Passkeys for $store {
            async fn passkey_add(
                &self,
                r: &PasskeyRecord,
                event: &AuditEvent,
                at: UnixTime,
            ) -> Result<bool, StoreError> {
                let mut w = self.write(at).await?;
                let added = sqlx::query::<$db>(passkeys::INSERT)
                    .bind(&r.credential_id)
                    .bind(&r.person_key)
                    .bind(&r.user_handle)
                    .bind(&r.subject_name)
                    .bind(&r.subject_role)
                    .bind(&r.public_key)
                    .bind(r.algorithm)
                    .bind(r.sign_count)
                    .bind(passkeys::backup_flags(r.backup_eligible, r.backup_state))
                    .bind(&r.transports)
                    .bind(&r.aaguid)
                    .bind(&r.attestation)
                    .bind(&r.name)
                    .bind(r.created_at)
                    .bind(r.last_used_at)
                    .bind(r.revoked_at)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?
                    .rows_affected()
                    == 1;
                Self::passkey_settle(w, event, added).await
            }

            async fn passkey(&self, credential_id: &str) -> Result<Option<PasskeyRecord>, StoreError> {
                let row = sqlx::query_as::<$db, passkeys::Row>(passkeys::GET)
                    .bind(credential_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?;
                Ok(row.map(passkeys::record))
            }

            async fn passkeys_of(&self, person_key: &str) -> Result<Vec<PasskeyRecord>, StoreError> {
                let rows = sqlx::query_as::<$db, passkeys::Row>(passkeys::OF_PERSON)
                    .bind(person_key)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?;
                Ok(rows.into_iter().map(passkeys::record).collect())
            }

            async fn passkey_use(
                &self,
                credential_id: &str,
                sign_count: i64,
                backup_state: bool,
                event: &AuditEvent,
                at: UnixTime,
            ) -> Result<bool, StoreError> {
                let mut w = self.write(at).await?;
                let used = sqlx::query::<$db>(passkeys::USE)
                    .bind(credential_id)
                    .bind(sign_count)
                    .bind(passkeys::backup_flags(false, backup_state))
                    .bind(at.as_secs())
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?
                    .rows_affected()
                    == 1;
                Self::passkey_settle(w, event, used).await
            }

            async fn passkey_rename(
                &self,
                person_key: &str,
                credential_id: &str,
                name: &str,
                event: &AuditEvent,
                at: UnixTime,
            ) -> Result<bool, StoreError> {
                let mut w = self.write(at).await?;
                let renamed = sqlx::query::<$db>(passkeys::RENAME)
                    .bind(person_key)
                    .bind(credential_id)
                    .bind(name)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?
                    .rows_affected()
                    == 1;
                if renamed {
                    w.append(event).await?;
                }
                w.commit().await?;
                Ok(renamed)
            }

            async fn passkey_revoke(
                &self,
                person_key: &str,
                credential_id: &str,
                event: &AuditEvent,
                at: UnixTime,
            ) -> Result<Option<(PasskeyRecord, usize)>, StoreError> {
                let mut w = self.write(at).await?;
                let row = sqlx::query_as::<$db, passkeys::Row>(passkeys::REVOKE)
                    .bind(person_key)
                    .bind(credential_id)
                    .bind(at.as_secs())
                    .fetch_optional(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let Some(row) = row else {
                    return Ok(None);
                };
                let ended = sqlx::query_scalar::<$db, String>(passkeys::END_SESSIONS)
                    .bind(at.as_secs())
                    .bind(passkeys::REVOKED)
                    .bind(format!("passkey:{credential_id}"))
                    .fetch_all(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                for session in &ended {
                    sqlx::query::<$db>(sso::REVOKE_SESSION_GRANTS)
                        .bind(session)
                        .execute(&mut *w.tx)
                        .await
                        .map_err(Self::err)?;
                }
                w.append(event).await?;
                w.commit().await?;
                Ok(Some((passkeys::record(row), ended.len())))
            }

            async fn set_passkey_rule(
                &self,
                facility: &FacilityId,
                rule: &AttestationPolicy,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<(), StoreError> {
                let mut w = self.write(at).await?;
                facility_settings::facility_must_exist!($db, w, facility);
                let before = sqlx::query_as::<$db, passkeys::RuleRow>(passkeys::RULE_OF)
                    .bind(facility.as_str())
                    .fetch_optional(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let models = passkeys::models_text(rule);
                let now = w.now();
                sqlx::query::<$db>(passkeys::PUT_RULE)
                    .bind(facility.as_str())
                    .bind(rule.name())
                    .bind(&models)
                    .bind(actor.as_str())
                    .bind(now)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let detail = serde_json::json!({
                    "rule": rule.name(),
                    "models": models,
                    "previous": before.map(|(rule, models, _, _)| serde_json::json!({ "rule": rule, "models": models })),
                });
                w.append(&sso::event("facility.passkey_rule", facility.as_str(), actor, detail)).await?;
                w.commit().await
            }

            async fn passkey_rule(&self, facility: &FacilityId) -> Result<Option<FacilityPasskeyRule>, StoreError> {
                sqlx::query_as::<$db, passkeys::RuleRow>(passkeys::RULE_OF)
                    .bind(facility.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(passkeys::rule)
                    .transpose()
            }
        }
    };
}
pub(super) use passkeys_store;
