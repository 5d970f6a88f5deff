//! Bulk re-issue (D38): choose issued certificates by CA, profile, facility, issue date and expiry, and
//! re-issue each through `Authority::reissue_many` (same subject, names, profile and public key; current CA
//! key; audited `cert.issue` per certificate). One piece of code for `hcpki cert reissue` and the console.

use super::{JobError, failed};
use hcpki_ca::facility::FacilityId;
use hcpki_ca::profile::{CertProfile, ProfileKind};
use hcpki_ca::store::{Actor, CertStatus, CertificateFilter, CertificateRecord, ItemOutcome, JobItem};
use hcpki_ca::{Authority, AuthorityError, CaName, SigningError};
use std::str::FromStr;

/// Certificates per batch: they share one group commit (intents, then results with their audit entries).
pub const BATCH: usize = 64;

/// Which certificates to re-issue; every field narrows the choice. Only issued, unexpired device
/// certificates (router, PC, server) without a successor are ever chosen.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Selection {
    /// Issued by this CA (`router`, `pc`, `server`).
    pub ca: Option<String>,
    /// Of this profile.
    pub profile: Option<String>,
    /// Of this facility.
    pub facility: Option<String>,
    /// Issued before this time (Unix seconds).
    pub issued_before: Option<i64>,
    /// Expiring within this many days from now.
    pub expiring_within_days: Option<i64>,
    /// Revoke each predecessor (reason superseded) once its successor is stored.
    #[serde(default)]
    pub revoke_old: bool,
}

/// Why a selection is refused before anything is chosen.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SelectionError {
    /// Unknown CA name.
    #[error("unknown CA {0:?}: use router, pc or server")]
    Ca(String),
    /// Unknown or not re-issuable profile.
    #[error("profile {0:?} cannot be re-issued: use router, pc or server")]
    Profile(String),
    /// Malformed facility ID.
    #[error(transparent)]
    Facility(#[from] AuthorityError),
    /// Nothing narrows the choice.
    #[error("choose the certificates with at least one of CA, profile, facility, issued-before or expiring-within")]
    Unbounded,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] hcpki_ca::store::StoreError),
}

/// The profiles a re-issue makes successors for.
const PROFILES: [CertProfile; 3] = [
    CertProfile::EndEntity(ProfileKind::Router),
    CertProfile::EndEntity(ProfileKind::Pc),
    CertProfile::EndEntity(ProfileKind::Server),
];

/// The certificates `selection` chooses, oldest first.
pub async fn select(authority: &Authority, selection: &Selection) -> Result<Vec<CertificateRecord>, SelectionError> {
    let s = selection;
    if s.ca.is_none()
        && s.profile.is_none()
        && s.facility.is_none()
        && s.issued_before.is_none()
        && s.expiring_within_days.is_none()
    {
        return Err(SelectionError::Unbounded);
    }
    let ca = s.ca.as_deref().map(|c| CaName::from_str(c).map_err(|_| SelectionError::Ca(c.to_owned()))).transpose()?;
    // Exactly a stored form, as the listing's filter compared it before it was typed.
    let profile = s
        .profile
        .as_deref()
        .map(|p| {
            CertProfile::from_stored(p)
                .filter(|p| PROFILES.contains(p))
                .ok_or_else(|| SelectionError::Profile(p.to_owned()))
        })
        .transpose()?;
    let facility = s.facility.as_deref().map(FacilityId::parse).transpose().map_err(AuthorityError::from)?;
    let now = authority.clock().now_unix();
    let filter = CertificateFilter {
        facility,
        profile,
        status: Some(CertStatus::Issued),
        expiring: Some((
            now,
            s.expiring_within_days.map_or(i64::MAX, |d| now.saturating_add(d.saturating_mul(86_400))),
        )),
        limit: Some(i64::MAX),
    };
    let mut chosen = Vec::new();
    for c in authority.pipeline().certificates().list_certificates(&filter).await? {
        let wanted = PROFILES.contains(&c.profile)
            && ca.is_none_or(|ca| ca == c.ca)
            && s.issued_before.is_none_or(|t| c.issued_at.is_some_and(|i| i < t));
        if wanted && authority.pipeline().certificates().successor(&c.serial).await?.is_none() {
            chosen.push(c);
        }
    }
    chosen.reverse();
    Ok(chosen)
}

/// The job's parameters and items.
pub fn job_parts(selection: &Selection, chosen: &[CertificateRecord]) -> (serde_json::Value, Vec<(String, String)>) {
    let params = serde_json::to_value(selection).unwrap_or(serde_json::Value::Null);
    (params, chosen.iter().map(|c| (c.serial.to_string(), "{}".to_owned())).collect())
}

/// Re-issue one batch of items: a certificate already re-issued (before a crash, or by another job) is skipped
/// with its successor as the result.
pub(super) async fn work(
    authority: &Authority,
    id: &hcpki_model::JobId,
    params: &serde_json::Value,
    items: &[JobItem],
    actor: &Actor,
) -> Result<Vec<ItemOutcome>, JobError> {
    let revoke_old = params.get("revoke_old").and_then(serde_json::Value::as_bool).unwrap_or(false);
    let mut outcomes = Vec::with_capacity(items.len());
    let mut todo: Vec<(&JobItem, CertificateRecord)> = Vec::new();
    for item in items {
        match authority.pipeline().certificates().certificate_by_text(&item.key).await? {
            Some(c) => todo.push((item, c)),
            None => outcomes.push(failed(item, format!("no certificate {}", item.key))),
        }
    }
    let old: Vec<CertificateRecord> = todo.iter().map(|(_, c)| c.clone()).collect();
    let results = authority.reissue_many(&old, revoke_old, actor).await;
    // A halt refuses the whole batch before anything is signed (D135): the items stay pending, the job pauses.
    if let Some(Err(halted @ SigningError::Halted { .. })) =
        results.iter().find(|r| matches!(r, Err(SigningError::Halted { .. })))
    {
        return Err(JobError::Halted { id: id.clone(), why: halted.to_string() });
    }
    for ((item, _), result) in todo.into_iter().zip(results) {
        outcomes.push(match result {
            Ok((_, new)) => {
                ItemOutcome { seq: item.seq, state: "done", result: Some(new.serial.into_string()), error: None }
            }
            Err(SigningError::AlreadyReissued { successor, .. }) => {
                ItemOutcome { seq: item.seq, state: "skipped", result: Some(successor), error: None }
            }
            Err(e) => failed(item, e.to_string()),
        });
    }
    Ok(outcomes)
}
