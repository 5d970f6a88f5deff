//! A staff member's sign-in acting for a physician (D95): at the authorization endpoint, the delegation the
//! session chose is checked again (still running, this service, this facility, this account), and the grant is
//! made for the physician as principal with the staff member as actor.
//!
//! The policy decides on the physician's qualification with the staff member's own sign-in strength: a service
//! that needs a card sign-in still refuses a password one, whoever it acts for.

use super::act::{Act, DelegationClaim};
use super::{account_key, action};
use crate::audit::audit;
use crate::policy::{Credential, HcRole, Subject};
use crate::session::Session;
use hcpki_ca::FacilityId;
use hcpki_ca::audit::Outcome;
use hcpki_ca::store::delegation::DelegationRecord;
use hcpki_ca::store::{AuditLog, Delegations, StoreError};
use hcpki_pkix::time::Clock;
use serde_json::{Value, json};

/// A sign-in acting under a delegation.
#[derive(Clone, Debug)]
pub struct Acting {
    /// The delegation.
    pub delegation: DelegationRecord,
    /// Whom the policy decides on: the physician's name and hcRole, the staff member's credential.
    pub subject: Subject,
    /// The staff member's person key.
    pub delegate_key: String,
}

impl Acting {
    /// The principal's person key (the token's `sub` is made from it).
    pub fn principal_key(&self) -> &str {
        &self.delegation.physician_key
    }

    /// The service's claims with `act` added: the staff member as actor, by `delegate_sub` (their pairwise
    /// subject at the service) and name, under this delegation.
    pub fn claims(&self, mut claims: Value, delegate_sub: String) -> Value {
        let d = &self.delegation;
        let act = Act::delegate(
            delegate_sub,
            d.delegate_name.clone(),
            DelegationClaim { id: d.id.clone(), exp: d.expires_at },
        );
        if let Some(map) = claims.as_object_mut() {
            map.insert("act".into(), act.to_value());
        }
        claims
    }
}

/// The delegation `session` acts under for `service` at `now`, if it chose one: `Ok(None)` when it acts as
/// itself. A use is audited `delegation.use` (both people, the service) at `clock`'s time, whether allowed or
/// refused. The authorization endpoint (`crate::oidc::authorize`, a floor above) calls it with its provider's store
/// and clock.
pub async fn find(
    store: &(impl Delegations + AuditLog + ?Sized),
    clock: &dyn Clock,
    session: &Session,
    service: &str,
    client: &str,
    now: i64,
) -> Result<Option<Acting>, FindError> {
    let Some(delegation) = store.delegation_acting(&session.id_hash).await? else { return Ok(None) };
    let judged = judge(&delegation, session, service, now);
    let detail = json!({
        "physician": delegation.physician_key, "delegate": session.person_key, "service": service,
        "client": client, "facility": session.facility_id.as_ref().map(ToString::to_string),
        "reason": judged.as_ref().err().map(ToString::to_string),
    });
    let outcome = if judged.is_ok() { Outcome::Ok } else { Outcome::Denied };
    let actor = format!("portal:{}", session.person_key);
    audit(store, clock.now_unix_ms(), &actor, action::USE, delegation.id.as_str(), outcome, detail).await;
    let subject = judged?;
    Ok(Some(Acting { delegation, subject, delegate_key: session.person_key.clone() }))
}

/// Whether `session` may act under `d` for `service` at `now`: the subject the policy decides on, or why not.
pub fn judge(d: &DelegationRecord, session: &Session, service: &str, now: i64) -> Result<Subject, UseRefused> {
    let physician = d.physician_name.clone();
    if session.person_key != account_key(&d.delegate_username) {
        return Err(UseRefused::NotTheDelegate { physician });
    }
    if let Some(at) = d.ended_at {
        return Err(UseRefused::Ended { physician, at });
    }
    if now >= d.expires_at {
        return Err(UseRefused::RanOut { physician, at: d.expires_at });
    }
    if session.facility_id.as_ref().map(FacilityId::to_string).as_deref() != Some(d.facility_id.as_str()) {
        return Err(UseRefused::OtherFacility { physician, facility: d.facility_id.clone() });
    }
    if !d.services.iter().any(|s| s == service) {
        return Err(UseRefused::ServiceNotCovered { physician, service: service.to_owned() });
    }
    let role = HcRole::from_code(&d.physician_role).ok_or_else(|| UseRefused::UnknownRole(d.physician_role.clone()))?;
    Ok(match session.subject.credential() {
        Credential::PasswordTotp => Subject::password_totp(d.physician_name.clone(), Some(role)),
        // A delegate who signed in with their account's passkey acts at the passkey's level: the physician's role,
        // as for password + TOTP, never the card's assurance.
        Credential::Passkey => Subject::passkey(d.physician_name.clone(), Some(role)),
        Credential::Hpki => Subject::hpki(d.physician_name.clone(), Some(role)),
        // Never reached: only password + TOTP accounts are delegated to. A JPKI sign-in proves no more than
        // identity, so it carries no qualification, whoever it acts for.
        Credential::Jpki => Subject::jpki(d.physician_name.clone()),
    })
}

/// Why a sign-in acting under a delegation is refused (the service gets `access_denied` with this text; the
/// staff member stops acting on the portal's delegation page to sign in as themselves).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UseRefused {
    /// The session's person is not the delegation's staff account.
    #[error(
        "this sign-in is not the staff account {physician} delegated to: stop acting for them on the portal's delegation page"
    )]
    NotTheDelegate {
        /// The physician's name.
        physician: String,
    },
    /// The physician ended it.
    #[error(
        "{physician} ended the delegation (at {at}): stop acting for them on the portal's delegation page to sign in as yourself"
    )]
    Ended {
        /// The physician's name.
        physician: String,
        /// When (Unix seconds).
        at: i64,
    },
    /// Its time ran out.
    #[error(
        "the delegation from {physician} ran out (at {at}): ask them for a new one, or stop acting for them on the portal's delegation page"
    )]
    RanOut {
        /// The physician's name.
        physician: String,
        /// When (Unix seconds).
        at: i64,
    },
    /// The session is not at the delegation's facility.
    #[error("the delegation from {physician} holds at facility {facility} only: sign in from a PC of that facility")]
    OtherFacility {
        /// The physician's name.
        physician: String,
        /// The delegation's facility.
        facility: String,
    },
    /// The service is not in the delegation's set.
    #[error(
        "the delegation from {physician} does not cover service {service}: stop acting for them on the portal's delegation page to use it as yourself"
    )]
    ServiceNotCovered {
        /// The physician's name.
        physician: String,
        /// The service asked for.
        service: String,
    },
    /// The stored hcRole is not one this server knows (a newer server wrote it).
    #[error("the delegation names hcRole {0:?}, which this server does not know: ask the physician for a new one")]
    UnknownRole(String),
}

/// Why [`find`] gives no answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FindError {
    /// The use is refused (audited).
    #[error(transparent)]
    Refused(#[from] UseRefused),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg(test)]
mod tests;
