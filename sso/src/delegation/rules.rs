//! Who may delegate what to whom, for how long (D95): a pure check of the physician's sign-in, the form and
//! the staff account, giving the record to store or the reason it is refused.

use crate::accounts::Username;
use crate::policy::{Credential, HcRole, Services};
use crate::session::Session;
use hcpki_ca::FacilityId;
use hcpki_ca::store::PortalUser;
use hcpki_ca::store::delegation::DelegationRecord;

/// The most `[portal] delegation_max_hours` may be.
pub const MAX_HOURS_CEILING: u32 = 24;

/// The physician making a delegation: a sign-in with an HPKI card that carries an hcRole, at a facility PC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Physician {
    /// The card holder's person key.
    pub person_key: String,
    /// The name on the card.
    pub name: String,
    /// The card's hcRole.
    pub role: HcRole,
    /// The facility of the sign-in's PC.
    pub facility: FacilityId,
}

impl Physician {
    /// The physician of `session`, or why that sign-in may not delegate.
    pub fn of(session: &Session) -> Result<Self, DelegationError> {
        if session.subject.credential() != Credential::Hpki {
            return Err(DelegationError::NotHpkiCard);
        }
        let role = session.subject.role().ok_or(DelegationError::NoQualification)?;
        let facility = session.facility_id.clone().ok_or(DelegationError::NoFacility)?;
        Ok(Self { person_key: session.person_key.clone(), name: session.subject.name().to_owned(), role, facility })
    }
}

/// What the physician asked for on the page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDelegation {
    /// The staff account's user name.
    pub delegate: String,
    /// For how many hours.
    pub hours: String,
    /// The service ids ticked.
    pub services: Vec<String>,
}

/// Check `request` of `physician` for staff account `delegate` (as the store has it, if it does) against the
/// services `offered` and `max_hours`, at `now`: the delegation to store under `id`, or why not.
pub fn check(
    physician: &Physician,
    request: &NewDelegation,
    delegate: Option<&PortalUser>,
    offered: &Services,
    max_hours: u32,
    id: hcpki_model::DelegationId,
    now: i64,
) -> Result<DelegationRecord, DelegationError> {
    let name = request.delegate.trim();
    if Username::parse(name).is_none() {
        return Err(DelegationError::UnknownAccount(name.to_owned()));
    }
    let account =
        delegate.filter(|u| u.username == name).ok_or_else(|| DelegationError::UnknownAccount(name.to_owned()))?;
    if account.disabled_at.is_some() {
        return Err(DelegationError::AccountDisabled(name.to_owned()));
    }
    let max = max_hours.clamp(1, MAX_HOURS_CEILING);
    let hours: u32 = request.hours.trim().parse().map_err(|_| DelegationError::Hours { max })?;
    if hours == 0 || hours > max {
        return Err(DelegationError::TooLong { hours, max });
    }
    if request.services.is_empty() {
        return Err(DelegationError::NoServices);
    }
    let mut services: Vec<String> = Vec::with_capacity(request.services.len());
    for s in &request.services {
        if offered.get(s).is_none() {
            return Err(DelegationError::UnknownService(s.clone()));
        }
        if !services.contains(s) {
            services.push(s.clone());
        }
    }
    Ok(DelegationRecord {
        id,
        facility_id: physician.facility.to_string(),
        physician_key: physician.person_key.clone(),
        physician_name: physician.name.clone(),
        physician_role: physician.role.code().to_owned(),
        delegate_username: account.username.clone(),
        delegate_name: account.display_name.clone(),
        services,
        created_at: now,
        expires_at: now + i64::from(hours) * 3600,
        ended_at: None,
        ended_by: None,
    })
}

/// Why a delegation is not made or not ended; the text says what to do. Nothing is stored.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DelegationError {
    /// The sign-in is not an HPKI card's (a password, a My Number card).
    #[error("delegating needs a sign-in with an HPKI card: sign out and sign in with your HPKI card")]
    NotHpkiCard,
    /// The HPKI card carries no hcRole.
    #[error("delegating needs an HPKI card that carries a healthcare qualification (hcRole); this card has none")]
    NoQualification,
    /// The sign-in came through no facility PC.
    #[error("delegating needs a sign-in at a facility PC (with its facility certificate): sign in from one")]
    NoFacility,
    /// No such staff account (or a malformed name).
    #[error("there is no staff account {0:?}: check the user name with the staff member")]
    UnknownAccount(String),
    /// The staff account is disabled.
    #[error("the staff account {0:?} is disabled: ask your facility's administrator, or choose another account")]
    AccountDisabled(String),
    /// The hours are not a number.
    #[error("give the time as whole hours from 1 to {max}")]
    Hours {
        /// The most allowed.
        max: u32,
    },
    /// Zero or too many hours.
    #[error("a delegation lasts 1 to {max} hours, not {hours}: choose a shorter time")]
    TooLong {
        /// Asked for.
        hours: u32,
        /// The most allowed (`[portal] delegation_max_hours`).
        max: u32,
    },
    /// No service ticked.
    #[error("tick at least one service the staff member may use for you")]
    NoServices,
    /// A service that is not offered.
    #[error("service {0:?} is not offered here: tick services from the list")]
    UnknownService(String),
    /// Ending: not a live delegation of this physician.
    #[error("no running delegation of yours has that id: it ended already, or it is not yours")]
    NotYours,
    /// The form named a text that is no delegation id (the page's forms carry one): nothing is looked up.
    #[error("{0}: reload the delegations page and use its buttons")]
    Malformed(hcpki_model::InvalidSsoId),
}

impl DelegationError {
    /// A short code for the audit entry.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotHpkiCard => "not-hpki-card",
            Self::NoQualification => "no-hc-role",
            Self::NoFacility => "no-facility",
            Self::UnknownAccount(_) => "unknown-account",
            Self::AccountDisabled(_) => "account-disabled",
            Self::Hours { .. } | Self::TooLong { .. } => "beyond-time",
            Self::NoServices => "no-services",
            Self::UnknownService(_) => "service-not-offered",
            Self::NotYours => "not-yours",
            Self::Malformed(_) => "malformed-id",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;
    const SERVICES: &str = "version = 1\n[[service]]\nid = \"emr\"\nname = \"EMR\"\nroles = [\"*\"]\n\
        facility_kinds = [\"*\"]\nmin_assurance = \"password-totp\"\nclaims = [\"name\"]\n";

    fn physician() -> Physician {
        Physician {
            person_key: "hpki:dr".into(),
            name: "Dr A".into(),
            role: HcRole::from_code("medical-doctor").unwrap(),
            facility: FacilityId::from_number(1).unwrap(),
        }
    }

    fn clerk(disabled: bool) -> PortalUser {
        PortalUser {
            username: "clerk".into(),
            display_name: "Clerk B".into(),
            hc_role: None,
            password_hash: String::new(),
            totp_secret: String::new(),
            last_totp_step: 0,
            created_by: "op".into(),
            created_at: 0,
            disabled_at: disabled.then_some(1),
        }
    }

    fn ask(delegate: &str, hours: &str, services: &[&str]) -> NewDelegation {
        NewDelegation {
            delegate: delegate.into(),
            hours: hours.into(),
            services: services.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn a_delegation_is_made_for_the_hours_and_services_asked_or_refused_with_its_reason() {
        let offered = Services::parse(SERVICES).unwrap();
        let check = |req: &NewDelegation, user: Option<&PortalUser>| {
            check(&physician(), req, user, &offered, 12, "d1".parse().unwrap(), NOW)
        };
        let made = check(&ask("clerk", "8", &["emr", "emr"]), Some(&clerk(false))).unwrap();
        assert_eq!((made.expires_at, made.services.clone()), (NOW + 8 * 3600, vec!["emr".to_owned()]));
        assert_eq!(
            (made.physician_role.as_str(), made.facility_id.clone()),
            ("medical-doctor", FacilityId::from_number(1).unwrap().to_string())
        );
        let cases: [(NewDelegation, Option<PortalUser>, DelegationError); 7] = [
            (ask("clerk", "8", &["emr"]), Some(clerk(true)), DelegationError::AccountDisabled("clerk".into())),
            (ask("nobody", "8", &["emr"]), None, DelegationError::UnknownAccount("nobody".into())),
            (ask("Bad Name", "8", &["emr"]), None, DelegationError::UnknownAccount("Bad Name".into())),
            (ask("clerk", "13", &["emr"]), Some(clerk(false)), DelegationError::TooLong { hours: 13, max: 12 }),
            (ask("clerk", "0", &["emr"]), Some(clerk(false)), DelegationError::TooLong { hours: 0, max: 12 }),
            (ask("clerk", "8", &[]), Some(clerk(false)), DelegationError::NoServices),
            (ask("clerk", "8", &["lab"]), Some(clerk(false)), DelegationError::UnknownService("lab".into())),
        ];
        for (req, user, want) in cases {
            assert_eq!(check(&req, user.as_ref()), Err(want.clone()), "{req:?}");
        }
        assert_eq!(check(&ask("clerk", "x", &["emr"]), Some(&clerk(false))), Err(DelegationError::Hours { max: 12 }));
    }
}
