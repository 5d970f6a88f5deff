//! SQL and row conversion of signing requests (migration 0022, issue #27 item 3), and `signing_requests_store!`,
//! the per-backend impl of its trait. The sweep is [`SWEEP`], run by `portal_sweep`.

use crate::StoreError;
use crate::signing_request::{SigningRequestRecord, SigningState};
use crate::traits::FacilitySigningLimit;
use hcpki_model::signing_limit::SigningSessionLimit;

pub(super) const PUT_LIMIT: &str = "INSERT INTO facility_signing_limits (facility_id, max_signatures, max_hours, \
     set_by, set_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (facility_id) DO UPDATE SET max_signatures = $2, \
     max_hours = $3, set_by = $4, set_at = $5";
pub(super) const LIMITS_SET: &str = "SELECT COUNT(*) FROM facility_signing_limits";
pub(super) const LIMIT_OF: &str =
    "SELECT max_signatures, max_hours, set_by, set_at FROM facility_signing_limits WHERE facility_id = $1";

/// A row of [`LIMIT_OF`].
pub(super) type LimitRow = (i64, i64, String, i64);

pub(super) fn limit(row: LimitRow) -> Result<FacilitySigningLimit, StoreError> {
    let (signatures, hours, set_by, set_at) = row;
    let corrupt = |e: String| StoreError::Corrupt(format!("signing limit: {e}"));
    let signatures = u32::try_from(signatures).map_err(|e| corrupt(e.to_string()))?;
    let hours = u32::try_from(hours).map_err(|e| corrupt(e.to_string()))?;
    let limit = SigningSessionLimit::new(signatures, hours).map_err(|e| corrupt(e.to_string()))?;
    Ok(FacilitySigningLimit { limit, set_by, set_at })
}

/// How long a request's row is kept past its deadline: a signed result waits this long for its service to
/// fetch it, and the service can still learn that an unsigned one expired.
pub(super) const KEEP_SECS: i64 = 24 * 3600;

macro_rules! request_columns {
    () => {
        "id, client_id, person_key, grant_id, sub, format, level, title, document, document_sha256, state, result, \
         signer_sha256, gen_time, created_at, expires_at, error, signature_mode"
    };
}

pub(super) const INSERT: &str = concat!(
    "INSERT INTO signing_requests (",
    request_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
);
pub(super) const BY_ID: &str = concat!("SELECT ", request_columns!(), " FROM signing_requests WHERE id = $1");
pub(super) const SIGN: &str = concat!(
    "UPDATE signing_requests SET state = 'signed', result = $2, signer_sha256 = $3, gen_time = $4, error = NULL, \
     signature_mode = $6 WHERE id = $1 AND state = 'pending' AND expires_at > $5 RETURNING ",
    request_columns!()
);
pub(super) const CLOSE: &str = concat!(
    "UPDATE signing_requests SET state = $2, error = $3 WHERE id = $1 AND state = 'pending' AND expires_at > $4 \
     RETURNING ",
    request_columns!()
);
pub(super) const NOTE_ERROR: &str =
    "UPDATE signing_requests SET error = $2 WHERE id = $1 AND state = 'pending' AND expires_at > $3";
/// Requests past their deadline by more than [`KEEP_SECS`] (`$1` = now − that), `$2` at a time.
pub(super) const SWEEP: &str = "DELETE FROM signing_requests WHERE id IN (SELECT id FROM signing_requests WHERE \
     expires_at <= $1 LIMIT $2)";

/// A row of [`request_columns!`] (18 columns: more than sqlx's tuples take).
#[derive(sqlx::FromRow)]
pub(super) struct Row {
    id: String,
    client_id: String,
    person_key: String,
    grant_id: String,
    sub: String,
    format: String,
    level: String,
    title: String,
    document: Vec<u8>,
    document_sha256: String,
    state: String,
    result: Option<Vec<u8>>,
    signer_sha256: Option<String>,
    gen_time: Option<i64>,
    created_at: i64,
    expires_at: i64,
    error: Option<String>,
    signature_mode: Option<String>,
}

pub(super) fn request(row: Row) -> Result<SigningRequestRecord, StoreError> {
    let state = SigningState::parse(&row.state)
        .ok_or_else(|| StoreError::Corrupt(format!("signing request {}: unknown state {}", row.id, row.state)))?;
    Ok(SigningRequestRecord {
        id: hcpki_model::SigningRequestId::parse(&row.id).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        client_id: row.client_id,
        person_key: row.person_key,
        grant_id: row.grant_id,
        sub: row.sub,
        format: row.format,
        level: row.level,
        title: row.title,
        document: row.document,
        document_sha256: row.document_sha256,
        state,
        result: row.result,
        signer_sha256: row.signer_sha256,
        gen_time: row.gen_time,
        created_at: row.created_at,
        expires_at: row.expires_at,
        error: row.error,
        signature_mode: row.signature_mode,
    })
}

/// The state a [`crate::signing_request::SigningEnd::Closed`] writes: refused or cancelled, never signed or pending.
pub(super) fn closed_state(state: SigningState) -> Result<&'static str, StoreError> {
    match state {
        SigningState::Refused | SigningState::Cancelled => Ok(state.as_str()),
        other => Err(StoreError::Corrupt(format!("a signing request cannot be closed as {}", other.as_str()))),
    }
}

/// `impl SigningRequests` for one backend (see [`super::writer`] for why a macro).
macro_rules! signing_requests_store {
    ($store:ident, $db:ty, $backend:expr) => {
        #[async_trait::async_trait]
        impl SigningRequests for $store {
            async fn signing_request_create(
                &self,
                request: &SigningRequestRecord,
                created: &AuditEvent,
                at: UnixTime,
            ) -> Result<AuditEntry, StoreError> {
                let mut w = self.write(at).await?;
                sqlx::query::<$db>(signing_requests::INSERT)
                    .bind(request.id.as_str())
                    .bind(&request.client_id)
                    .bind(&request.person_key)
                    .bind(&request.grant_id)
                    .bind(&request.sub)
                    .bind(&request.format)
                    .bind(&request.level)
                    .bind(&request.title)
                    .bind(&request.document)
                    .bind(&request.document_sha256)
                    .bind(request.state.as_str())
                    .bind(&request.result)
                    .bind(&request.signer_sha256)
                    .bind(request.gen_time)
                    .bind(request.created_at)
                    .bind(request.expires_at)
                    .bind(&request.error)
                    .bind(&request.signature_mode)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let entry = w.append(created).await?;
                w.commit().await?;
                Ok(entry)
            }

            async fn signing_request(
                &self,
                id: &hcpki_model::SigningRequestId,
            ) -> Result<Option<SigningRequestRecord>, StoreError> {
                sqlx::query_as::<$db, signing_requests::Row>(signing_requests::BY_ID)
                    .bind(id.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(signing_requests::request)
                    .transpose()
            }

            async fn signing_request_finish(
                &self,
                id: &hcpki_model::SigningRequestId,
                end: &SigningEnd,
                event: &AuditEvent,
                at: UnixTime,
            ) -> Result<Option<SigningRequestRecord>, StoreError> {
                let mut w = self.write(at).await?;
                let now = w.now();
                let row = match end {
                    SigningEnd::Signed { result, signer_sha256, gen_time, signature_mode } => {
                        sqlx::query_as::<$db, signing_requests::Row>(signing_requests::SIGN)
                            .bind(id.as_str())
                            .bind(result)
                            .bind(signer_sha256)
                            .bind(*gen_time)
                            .bind(now)
                            .bind(signature_mode)
                            .fetch_optional(&mut *w.tx)
                            .await
                    }
                    SigningEnd::Closed { state, reason } => {
                        sqlx::query_as::<$db, signing_requests::Row>(signing_requests::CLOSE)
                            .bind(id.as_str())
                            .bind(signing_requests::closed_state(*state)?)
                            .bind(reason)
                            .bind(now)
                            .fetch_optional(&mut *w.tx)
                            .await
                    }
                };
                let Some(row) = row.map_err(Self::err)? else { return Ok(None) };
                let request = signing_requests::request(row)?;
                w.append(event).await?;
                w.commit().await?;
                Ok(Some(request))
            }

            async fn signing_request_note_error(
                &self,
                id: &hcpki_model::SigningRequestId,
                error: &str,
                event: &AuditEvent,
                at: UnixTime,
            ) -> Result<bool, StoreError> {
                let mut w = self.write(at).await?;
                let now = w.now();
                let done = sqlx::query::<$db>(signing_requests::NOTE_ERROR)
                    .bind(id.as_str())
                    .bind(error)
                    .bind(now)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                if done.rows_affected() == 0 {
                    return Ok(false);
                }
                w.append(event).await?;
                w.commit().await?;
                Ok(true)
            }

            async fn set_signing_limit(
                &self,
                facility: &FacilityId,
                limit: SigningSessionLimit,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<(), StoreError> {
                let mut w = self.write(at).await?;
                facility_settings::facility_must_exist!($db, w, facility);
                let before = sqlx::query_as::<$db, signing_requests::LimitRow>(signing_requests::LIMIT_OF)
                    .bind(facility.as_str())
                    .fetch_optional(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let now = w.now();
                sqlx::query::<$db>(signing_requests::PUT_LIMIT)
                    .bind(facility.as_str())
                    .bind(i64::from(limit.max_signatures()))
                    .bind(i64::from(limit.max_hours()))
                    .bind(actor.as_str())
                    .bind(now)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let detail = serde_json::json!({
                    "max_signatures": limit.max_signatures(),
                    "max_hours": limit.max_hours(),
                    "previous": before.map(|(n, h, _, _)| serde_json::json!({ "max_signatures": n, "max_hours": h })),
                });
                w.append(&sso::event("facility.signing_limit", facility.as_str(), actor, detail)).await?;
                w.commit().await
            }

            async fn signing_limit(&self, facility: &FacilityId) -> Result<Option<FacilitySigningLimit>, StoreError> {
                sqlx::query_as::<$db, signing_requests::LimitRow>(signing_requests::LIMIT_OF)
                    .bind(facility.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(signing_requests::limit)
                    .transpose()
            }

            async fn signing_limits_set(&self) -> Result<u64, StoreError> {
                let (n,) = sqlx::query_as::<$db, (i64,)>(signing_requests::LIMITS_SET)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(Self::err)?;
                Ok(u64::try_from(n).unwrap_or_default())
            }
        }
    };
}

pub(super) use signing_requests_store;
