//! SQL and row conversion of consents and identity links (migration 0023, issue #28, D88), and
//! `consents_store!`, the per-backend impl of its trait.

use crate::StoreError;
use crate::consent::{
    ConsentDocument, ConsentRecord, ConsentState, DocumentKind, EvidenceLevel, IdentityLinkRecord, SignatureEvidence,
};

macro_rules! consent_columns {
    () => {
        "id, client_id, purpose, facility_id, patient_key, physician_key, state, created_at, expires_at, shown_at, \
         ended_at, refusal, evidence_level, document_sha256, document_format, document_level, signer_sha256, \
         time_stamp_at, withdrawal_level, withdrawal_sha256, withdrawal_format, withdrawal_doc_level, \
         withdrawal_signer, withdrawal_stamp_at, withdrawn_at, network"
    };
}

macro_rules! link_columns {
    () => {
        "patient_key, facility_id, signing_sha256, auth_sha256, confirmed_by, confirmed_at, created_at, generation"
    };
}

pub(super) const INSERT: &str = "INSERT INTO consents (id, client_id, purpose, facility_id, patient_key, \
     physician_key, state, created_at, expires_at, network) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
pub(super) const BY_ID: &str = concat!("SELECT ", consent_columns!(), " FROM consents WHERE id = $1");
/// `$1` id, `$2` the state read, `$3` now.
pub(super) const SHOW: &str = concat!(
    "UPDATE consents SET state = 'shown', shown_at = $3 WHERE id = $1 AND state = $2 AND expires_at > $3 \
     RETURNING ",
    consent_columns!()
);
/// Signed only while no other consent of the service, patient and purpose is live (the unique index
/// `consents_live` is the backstop when two signatures race on PostgreSQL).
pub(super) const SIGN: &str = concat!(
    "UPDATE consents SET state = 'signed', ended_at = $3, evidence_level = $4, document_sha256 = $5, \
     document_format = $6, document_level = $7, signer_sha256 = $8, time_stamp_at = $9 \
     WHERE id = $1 AND state = $2 AND expires_at > $3 AND NOT EXISTS (SELECT 1 FROM consents live WHERE \
     live.client_id = consents.client_id AND live.patient_key = consents.patient_key AND \
     live.purpose = consents.purpose AND live.state = 'signed') RETURNING ",
    consent_columns!()
);
pub(super) const REFUSE: &str = concat!(
    "UPDATE consents SET state = 'refused', ended_at = $3, refusal = $4 WHERE id = $1 AND state = $2 AND \
     expires_at > $3 RETURNING ",
    consent_columns!()
);
/// A withdrawal has no deadline: it ends a signed consent whenever it comes.
pub(super) const WITHDRAW: &str = concat!(
    "UPDATE consents SET state = 'withdrawn', withdrawn_at = $3, withdrawal_level = $4, withdrawal_sha256 = $5, \
     withdrawal_format = $6, withdrawal_doc_level = $7, withdrawal_signer = $8, withdrawal_stamp_at = $9 \
     WHERE id = $1 AND state = $2 RETURNING ",
    consent_columns!()
);
pub(super) const LIVE: &str = concat!(
    "SELECT ",
    consent_columns!(),
    " FROM consents WHERE client_id = $1 AND patient_key = $2 AND purpose = $3 AND state = 'signed'"
);
pub(super) const HISTORY: &str =
    concat!("SELECT ", consent_columns!(), " FROM consents WHERE patient_key = $1 ORDER BY created_at, id");
/// `$1` unsigned_before, `$2` ended_before, `$3` limit.
pub(super) const SWEEP: &str = "DELETE FROM consents WHERE id IN (SELECT id FROM consents WHERE \
     (state IN ('requested', 'shown') AND expires_at <= $1) OR (state = 'refused' AND ended_at <= $2) OR \
     (state = 'withdrawn' AND withdrawn_at <= $2) LIMIT $3)";

/// The documents of consents the sweep deleted.
pub(super) const SWEEP_DOCUMENTS: &str =
    "DELETE FROM consent_documents WHERE NOT EXISTS (SELECT 1 FROM consents WHERE consents.id = consent_id)";
/// `$1` consent id, `$2` since, `$3` limit.
pub(super) const WITHDRAWN_SINCE: &str = concat!(
    "SELECT ",
    consent_columns!(),
    " FROM consents WHERE client_id = $1 AND state = 'withdrawn' AND withdrawn_at >= $2 ORDER BY withdrawn_at, id \
     LIMIT $3"
);
/// The consents naming regional network `$1` that were signed (D169), newest first, at most `$2`.
pub(super) const NETWORK_CONSENTS: &str = concat!(
    "SELECT ",
    consent_columns!(),
    " FROM consents WHERE network = $1 AND state IN ('signed', 'withdrawn') ORDER BY created_at DESC, id LIMIT $2"
);
/// `$1` network, `$2` since, `$3` limit.
pub(super) const NETWORK_WITHDRAWN_SINCE: &str = concat!(
    "SELECT ",
    consent_columns!(),
    " FROM consents WHERE network = $1 AND state = 'withdrawn' AND withdrawn_at >= $2 ORDER BY withdrawn_at, id \
     LIMIT $3"
);
pub(super) const DOCUMENT: &str =
    "SELECT kind, bytes, sha256, created_at FROM consent_documents WHERE consent_id = $1 AND kind = $2";
pub(super) const DOCUMENT_DELETE: &str = "DELETE FROM consent_documents WHERE consent_id = $1 AND kind = $2";
pub(super) const DOCUMENT_INSERT: &str =
    "INSERT INTO consent_documents (consent_id, kind, bytes, sha256, created_at) VALUES ($1, $2, $3, $4, $5)";

pub(super) type DocumentRow = (String, Vec<u8>, String, i64);

pub(super) fn document(consent_id: &str, row: DocumentRow) -> Result<ConsentDocument, StoreError> {
    let (kind, bytes, sha256, created_at) = row;
    let kind = DocumentKind::parse(&kind)
        .ok_or_else(|| StoreError::Corrupt(format!("consent {consent_id}: unknown document kind {kind}")))?;
    Ok(ConsentDocument { consent_id: consent_id.to_owned(), kind, bytes, sha256, created_at })
}

pub(super) const LINK: &str = concat!("SELECT ", link_columns!(), " FROM identity_links WHERE patient_key = $1");
pub(super) const LINKS_OF_CERTIFICATE: &str = concat!(
    "SELECT ",
    link_columns!(),
    " FROM identity_links WHERE facility_id = $1 AND (signing_sha256 = $2 OR auth_sha256 = $2) ORDER BY patient_key"
);
pub(super) const LINK_INSERT: &str =
    concat!("INSERT INTO identity_links (", link_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
/// `$8` the new generation, `$9` the one the caller read.
pub(super) const LINK_UPDATE: &str = "UPDATE identity_links SET facility_id = $2, signing_sha256 = $3, \
     auth_sha256 = $4, confirmed_by = $5, confirmed_at = $6, created_at = $7, generation = $8 \
     WHERE patient_key = $1 AND generation = $9";

/// A row of [`consent_columns!`] (26 columns: more than sqlx's tuples take).
#[derive(sqlx::FromRow)]
pub(super) struct Row {
    id: String,
    client_id: String,
    purpose: String,
    facility_id: String,
    patient_key: String,
    physician_key: String,
    state: String,
    created_at: i64,
    expires_at: i64,
    shown_at: Option<i64>,
    ended_at: Option<i64>,
    refusal: Option<String>,
    evidence_level: Option<String>,
    document_sha256: Option<String>,
    document_format: Option<String>,
    document_level: Option<String>,
    signer_sha256: Option<String>,
    time_stamp_at: Option<i64>,
    withdrawal_level: Option<String>,
    withdrawal_sha256: Option<String>,
    withdrawal_format: Option<String>,
    withdrawal_doc_level: Option<String>,
    withdrawal_signer: Option<String>,
    withdrawal_stamp_at: Option<i64>,
    withdrawn_at: Option<i64>,
    network: Option<String>,
}

pub(super) fn consent(row: Row) -> Result<ConsentRecord, StoreError> {
    let corrupt = |what: &str, value: &str| StoreError::Corrupt(format!("consent {}: {what} {value}", row.id));
    let state = ConsentState::parse(&row.state).ok_or_else(|| corrupt("unknown state", &row.state))?;
    let signature = evidence(
        &row.id,
        "signature",
        row.evidence_level.as_deref(),
        row.document_sha256,
        row.document_format,
        row.document_level,
        row.signer_sha256,
        row.time_stamp_at,
    )?;
    let withdrawal = evidence(
        &row.id,
        "withdrawal",
        row.withdrawal_level.as_deref(),
        row.withdrawal_sha256,
        row.withdrawal_format,
        row.withdrawal_doc_level,
        row.withdrawal_signer,
        row.withdrawal_stamp_at,
    )?;
    Ok(ConsentRecord {
        id: hcpki_model::ConsentId::parse(&row.id).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        client_id: row.client_id,
        purpose: row.purpose,
        facility_id: row.facility_id,
        patient_key: row.patient_key,
        physician_key: row.physician_key,
        state,
        created_at: row.created_at,
        expires_at: row.expires_at,
        shown_at: row.shown_at,
        ended_at: row.ended_at,
        refusal: row.refusal,
        signature,
        withdrawal,
        withdrawn_at: row.withdrawn_at,
        network: row.network,
    })
}

/// One signature's evidence from its six columns: all present, or all absent.
#[allow(clippy::too_many_arguments)]
fn evidence(
    id: &str,
    which: &str,
    level: Option<&str>,
    document_sha256: Option<String>,
    format: Option<String>,
    signature_level: Option<String>,
    signer_sha256: Option<String>,
    time_stamp_at: Option<i64>,
) -> Result<Option<SignatureEvidence>, StoreError> {
    match (level, document_sha256, format, signature_level, signer_sha256, time_stamp_at) {
        (None, None, None, None, None, None) => Ok(None),
        (Some(level), Some(document_sha256), Some(format), Some(signature_level), Some(signer_sha256), Some(at)) => {
            let level = EvidenceLevel::parse(level)
                .ok_or_else(|| StoreError::Corrupt(format!("consent {id}: unknown {which} evidence level {level}")))?;
            Ok(Some(SignatureEvidence {
                level,
                document_sha256,
                format,
                signature_level,
                signer_sha256,
                time_stamp_at: at,
            }))
        }
        _ => Err(StoreError::Corrupt(format!("consent {id}: {which} evidence is incomplete"))),
    }
}

pub(super) type LinkRow = (String, String, String, Option<String>, String, i64, i64, i64);

pub(super) fn link(row: LinkRow) -> IdentityLinkRecord {
    let (patient_key, facility_id, signing_sha256, auth_sha256, confirmed_by, confirmed_at, created_at, generation) =
        row;
    IdentityLinkRecord {
        patient_key,
        facility_id,
        signing_sha256,
        auth_sha256,
        confirmed_by,
        confirmed_at,
        created_at,
        generation,
    }
}

/// The generation a save must write: one more than the one read, 1 for a new link.
pub(super) fn check_generation(link: &IdentityLinkRecord, previous: Option<i64>) -> Result<(), StoreError> {
    let expected = previous.map_or(Some(1), |p| p.checked_add(1));
    if expected == Some(link.generation) {
        Ok(())
    } else {
        Err(StoreError::Corrupt(format!(
            "identity link {}: generation {} does not follow {previous:?}",
            link.patient_key, link.generation
        )))
    }
}

/// `impl Consents` for one backend (see [`super::writer`] for why a macro).
macro_rules! consents_store {
    // A document replaced inside the writer's transaction.
    (@put $w:ident, $db:ty, $document:expr) => {
        sqlx::query::<$db>(consents::DOCUMENT_DELETE)
            .bind(&$document.consent_id)
            .bind($document.kind.as_str())
            .execute(&mut *$w.tx)
            .await
            .map_err(Self::err)?;
        sqlx::query::<$db>(consents::DOCUMENT_INSERT)
            .bind(&$document.consent_id)
            .bind($document.kind.as_str())
            .bind(&$document.bytes)
            .bind(&$document.sha256)
            .bind($document.created_at)
            .execute(&mut *$w.tx)
            .await
            .map_err(Self::err)?;
    };
    ($store:ident, $db:ty) => {
        #[async_trait::async_trait]
        impl Consents for $store {
            async fn consent_create(
                &self,
                consent: &ConsentRecord,
                documents: &[ConsentDocument],
                event: &AuditEvent,
                at: UnixTime,
            ) -> Result<AuditEntry, StoreError> {
                let mut w = self.write(at).await?;
                sqlx::query::<$db>(consents::INSERT)
                    .bind(consent.id.as_str())
                    .bind(&consent.client_id)
                    .bind(&consent.purpose)
                    .bind(&consent.facility_id)
                    .bind(&consent.patient_key)
                    .bind(&consent.physician_key)
                    .bind(ConsentState::Requested.as_str())
                    .bind(consent.created_at)
                    .bind(consent.expires_at)
                    .bind(&consent.network)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                for document in documents {
                    consents::consents_store!(@put w, $db, document);
                }
                let entry = w.append(event).await?;
                w.commit().await?;
                Ok(entry)
            }

            async fn consent(&self, id: &hcpki_model::ConsentId) -> Result<Option<ConsentRecord>, StoreError> {
                sqlx::query_as::<$db, consents::Row>(consents::BY_ID)
                    .bind(id.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(consents::consent)
                    .transpose()
            }

            async fn consent_move(
                &self,
                id: &hcpki_model::ConsentId,
                from: ConsentState,
                change: &ConsentMove,
                documents: &[ConsentDocument],
                event: &AuditEvent,
                at: UnixTime,
            ) -> Result<Option<ConsentRecord>, StoreError> {
                let mut w = self.write(at).await?;
                let now = w.now();
                let row = match change {
                    ConsentMove::Show => {
                        sqlx::query_as::<$db, consents::Row>(consents::SHOW)
                            .bind(id.as_str())
                            .bind(from.as_str())
                            .bind(now)
                            .fetch_optional(&mut *w.tx)
                            .await
                    }
                    ConsentMove::Refuse(reason) => {
                        sqlx::query_as::<$db, consents::Row>(consents::REFUSE)
                            .bind(id.as_str())
                            .bind(from.as_str())
                            .bind(now)
                            .bind(reason)
                            .fetch_optional(&mut *w.tx)
                            .await
                    }
                    ConsentMove::Sign(e) | ConsentMove::Withdraw(e) => {
                        let sql =
                            if matches!(change, ConsentMove::Sign(_)) { consents::SIGN } else { consents::WITHDRAW };
                        sqlx::query_as::<$db, consents::Row>(sql)
                            .bind(id.as_str())
                            .bind(from.as_str())
                            .bind(now)
                            .bind(e.level.as_str())
                            .bind(&e.document_sha256)
                            .bind(&e.format)
                            .bind(&e.signature_level)
                            .bind(&e.signer_sha256)
                            .bind(e.time_stamp_at)
                            .fetch_optional(&mut *w.tx)
                            .await
                    }
                };
                let row = match row {
                    Ok(Some(row)) => row,
                    Ok(None) => return Ok(None),
                    // Two signatures of one service, patient and purpose racing past the NOT EXISTS: one wins.
                    Err(e) if errors::is_unique_violation(&e) => return Ok(None),
                    Err(e) => return Err(Self::err(e)),
                };
                let consent = consents::consent(row)?;
                for document in documents {
                    consents::consents_store!(@put w, $db, document);
                }
                w.append(event).await?;
                w.commit().await?;
                Ok(Some(consent))
            }

            async fn consent_live(
                &self,
                client_id: &str,
                patient_key: &str,
                purpose: &str,
            ) -> Result<Option<ConsentRecord>, StoreError> {
                sqlx::query_as::<$db, consents::Row>(consents::LIVE)
                    .bind(client_id)
                    .bind(patient_key)
                    .bind(purpose)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(consents::consent)
                    .transpose()
            }

            async fn consent_history(&self, patient_key: &str) -> Result<Vec<ConsentRecord>, StoreError> {
                sqlx::query_as::<$db, consents::Row>(consents::HISTORY)
                    .bind(patient_key)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(consents::consent)
                    .collect()
            }

            async fn consent_sweep(
                &self,
                unsigned_before: UnixTime,
                ended_before: UnixTime,
                limit: i64,
            ) -> Result<u64, StoreError> {
                let unsigned_before = unsigned_before.as_secs();
                let ended_before = ended_before.as_secs();
                let mut tx = self.pool.begin().await.map_err(Self::err)?;
                let done = sqlx::query::<$db>(consents::SWEEP)
                    .bind(unsigned_before)
                    .bind(ended_before)
                    .bind(limit)
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::err)?;
                if done.rows_affected() > 0 {
                    sqlx::query::<$db>(consents::SWEEP_DOCUMENTS).execute(&mut *tx).await.map_err(Self::err)?;
                }
                tx.commit().await.map_err(Self::err)?;
                Ok(done.rows_affected())
            }

            async fn consent_document(
                &self,
                consent_id: &hcpki_model::ConsentId,
                kind: DocumentKind,
            ) -> Result<Option<ConsentDocument>, StoreError> {
                sqlx::query_as::<$db, consents::DocumentRow>(consents::DOCUMENT)
                    .bind(consent_id.as_str())
                    .bind(kind.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(|row| consents::document(consent_id.as_str(), row))
                    .transpose()
            }

            async fn consent_document_put(
                &self,
                document: &ConsentDocument,
                event: &AuditEvent,
                at: UnixTime,
            ) -> Result<AuditEntry, StoreError> {
                let mut w = self.write(at).await?;
                consents::consents_store!(@put w, $db, document);
                let entry = w.append(event).await?;
                w.commit().await?;
                Ok(entry)
            }

            async fn consents_withdrawn_since(
                &self,
                client_id: &str,
                since: UnixTime,
                limit: i64,
            ) -> Result<Vec<ConsentRecord>, StoreError> {
                let since = since.as_secs();
                sqlx::query_as::<$db, consents::Row>(consents::WITHDRAWN_SINCE)
                    .bind(client_id)
                    .bind(since)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(consents::consent)
                    .collect()
            }

            async fn identity_link(&self, patient_key: &str) -> Result<Option<IdentityLinkRecord>, StoreError> {
                Ok(sqlx::query_as::<$db, consents::LinkRow>(consents::LINK)
                    .bind(patient_key)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(consents::link))
            }

            async fn identity_links_of_certificate(
                &self,
                facility_id: &FacilityId,
                certificate_sha256: &str,
            ) -> Result<Vec<IdentityLinkRecord>, StoreError> {
                Ok(sqlx::query_as::<$db, consents::LinkRow>(consents::LINKS_OF_CERTIFICATE)
                    .bind(facility_id.as_str())
                    .bind(certificate_sha256)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(consents::link)
                    .collect())
            }

            async fn identity_link_save(
                &self,
                link: &IdentityLinkRecord,
                previous_generation: Option<i64>,
                event: &AuditEvent,
                at: UnixTime,
            ) -> Result<bool, StoreError> {
                consents::check_generation(link, previous_generation)?;
                let mut w = self.write(at).await?;
                let sql = if previous_generation.is_some() { consents::LINK_UPDATE } else { consents::LINK_INSERT };
                let query = sqlx::query::<$db>(sql)
                    .bind(&link.patient_key)
                    .bind(&link.facility_id)
                    .bind(&link.signing_sha256)
                    .bind(&link.auth_sha256)
                    .bind(&link.confirmed_by)
                    .bind(link.confirmed_at)
                    .bind(link.created_at)
                    .bind(link.generation);
                let query = match previous_generation {
                    Some(previous) => query.bind(previous),
                    None => query,
                };
                let done = query.execute(&mut *w.tx).await;
                match done {
                    Ok(done) if done.rows_affected() == 1 => {}
                    Ok(_) => return Ok(false),
                    // Linked already by another writer since the caller read it.
                    Err(e) if errors::is_unique_violation(&e) => return Ok(false),
                    Err(e) => return Err(Self::err(e)),
                }
                w.append(event).await?;
                w.commit().await?;
                Ok(true)
            }
        }
    };
}

pub(super) use consents_store;
