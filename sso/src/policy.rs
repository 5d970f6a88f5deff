//! Authorization policy for the SSO portal: may this person, at this facility, open this service, and which
//! claims does the service receive?
//!
//! [`decide`] is a pure function of its three inputs (no clock, no database, no I/O), so every rule and its
//! precedence is covered by table tests, and an exhaustive sweep over small domains checks the invariants.
//! The login layer builds the [`Subject`] and [`FacilityContext`] from verified evidence; the services come from
//! the operator's services file ([`Services::load`]). See `docs/portal.md` and D22 in `docs/decisions.md`.

mod assurance;
mod purpose;
mod role;
mod services;
mod subject;
#[cfg(test)]
mod tests;

pub use assurance::{Amr, AssuranceLevel};
pub use purpose::{PURPOSE_SYSTEM, PurposeOfUse};
pub use role::HcRole;
pub use services::{Claim, ClientRule, KindRule, RoleRule, SERVICES_FILE_VERSION, Service, Services, ServicesError};
pub use subject::{Credential, FacilityContext, Subject};

use hcpki_ca::FacilityId;
use hcpki_ca::facility::{FacilityKind, FacilityState};
use std::fmt;

/// The outcome of one authorization decision; its `Display` is the audit text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The service may be opened; it receives these claims.
    Allow(Claims),
    /// Refused, with the first rule that failed.
    Deny(DenyReason),
}

impl Decision {
    /// Whether the decision allows access.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Self::Allow(_))
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Allow(_) => f.write_str("allowed"),
            Self::Deny(reason) => write!(f, "denied: {reason}"),
        }
    }
}

/// Why access was refused. Rules are checked in the order of the variants; the first failure is reported.
/// Exhaustive on purpose: the server's home page words every reason (`portal/reasons.rs`), and a new reason must
/// fail its build until it is worded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DenyReason {
    /// The facility is not active (suspended, retired, or not yet active).
    #[error("facility {facility} is {state}, not active")]
    FacilityNotActive {
        /// The facility.
        facility: FacilityId,
        /// Its state.
        state: FacilityState,
    },
    /// The facility is on the service's deny list.
    #[error("facility {0} is on the service's deny list")]
    FacilityDenied(FacilityId),
    /// The service admits only certain facilities and the login came with no facility certificate.
    #[error("the service requires a facility connection and the login has none")]
    NoFacility,
    /// The facility is neither of an admitted kind nor on the allow list.
    #[error("facility {facility} of kind {kind} is not admitted by the service")]
    FacilityNotAdmitted {
        /// The facility.
        facility: FacilityId,
        /// Its kind.
        kind: FacilityKind,
    },
    /// A JPKI login on a service that does not accept JPKI.
    #[error("JPKI (identity-only) logins are not accepted by the service")]
    JpkiNotAccepted,
    /// The service needs a qualification and the login carries none (JPKI, or an HPKI card without hcRole).
    #[error("the service requires a healthcare qualification (hcRole) and the {credential} login carries none")]
    NoQualification {
        /// The credential used.
        credential: &'static str,
    },
    /// The qualification is not among those the service admits.
    #[error("hcRole {0} is not admitted by the service")]
    RoleNotAllowed(HcRole),
    /// The login is weaker than the service requires. Only this reason can be cured by logging in again.
    #[error("assurance {have} is below the service's minimum {need}")]
    AssuranceTooLow {
        /// The login's level.
        have: AssuranceLevel,
        /// The service's minimum.
        need: AssuranceLevel,
    },
}

/// The claims a service receives: exactly those it lists that the login can supply.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Claims {
    /// `name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `hc_role`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hc_role: Option<HcRole>,
    /// `facility_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facility_id: Option<FacilityId>,
    /// `facility_name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facility_name: Option<String>,
    /// `facility_kind`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facility_kind: Option<FacilityKind>,
    /// `acr`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acr: Option<&'static str>,
    /// `amr`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amr: Option<&'static [Amr]>,
}

/// Decide whether `subject`, connected from `facility` (none without a facility certificate), may open `service`.
pub fn decide(subject: &Subject, facility: Option<&FacilityContext>, service: &Service) -> Decision {
    match first_denial(subject, facility, service) {
        Some(reason) => Decision::Deny(reason),
        None => Decision::Allow(claims(subject, facility, service)),
    }
}

/// The services `subject` may open at `facility`, in file order (the home page reads the whole [`listing`]).
#[cfg(test)]
pub fn visible_services<'a>(
    subject: &Subject,
    facility: Option<&FacilityContext>,
    services: &'a Services,
) -> Vec<&'a Service> {
    listing(subject, facility, services).visible()
}

/// [`decide`] for every service, in file order: the portal home page shows the allowed ones, and a login's
/// audit entry records the whole listing (allowed and refused, with the reasons) as it serializes, so the
/// page and the audit log come from one computation.
pub fn listing<'a>(subject: &Subject, facility: Option<&FacilityContext>, services: &'a Services) -> Listing<'a> {
    Listing(services.iter().map(|s| (s, decide(subject, facility, s))).collect())
}

/// Every service's decision for one person at one facility ([`listing`]). Serializes as the audit record
/// `{"listed": [ids], "refused": [{"service": id, "reason": text}]}`, the reason being the [`DenyReason`] text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listing<'a>(Vec<(&'a Service, Decision)>);

impl<'a> Listing<'a> {
    /// The services allowed, in file order.
    pub fn visible(&self) -> Vec<&'a Service> {
        self.0.iter().filter(|(_, d)| d.is_allowed()).map(|(s, _)| *s).collect()
    }

    /// The services refused, with the first rule that failed.
    pub fn refused(&self) -> impl Iterator<Item = (&'a Service, &DenyReason)> {
        self.0.iter().filter_map(|(s, d)| match d {
            Decision::Deny(reason) => Some((*s, reason)),
            Decision::Allow(_) => None,
        })
    }
}

impl serde::Serialize for Listing<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct Refused<'r> {
            service: &'r str,
            reason: String,
        }
        #[derive(serde::Serialize)]
        struct Record<'r> {
            listed: Vec<&'r str>,
            refused: Vec<Refused<'r>>,
        }
        let record = Record {
            listed: self.visible().into_iter().map(|s| s.id.as_str()).collect(),
            refused: self.refused().map(|(s, r)| Refused { service: &s.id, reason: r.to_string() }).collect(),
        };
        record.serialize(serializer)
    }
}

/// The rules in precedence order: facility state, deny list, facility admission, credential and role, assurance.
/// Assurance comes last so that `AssuranceTooLow` always means "a stronger login would be allowed".
fn first_denial(subject: &Subject, facility: Option<&FacilityContext>, service: &Service) -> Option<DenyReason> {
    if let Some(f) = facility {
        if f.state != FacilityState::Active {
            return Some(DenyReason::FacilityNotActive { facility: f.id.clone(), state: f.state });
        }
        if service.facilities_deny.contains(&f.id) {
            return Some(DenyReason::FacilityDenied(f.id.clone()));
        }
    }
    if let Some(reason) = facility_admission(facility, service) {
        return Some(reason);
    }
    if let Some(reason) = qualification(subject, service) {
        return Some(reason);
    }
    let have = subject.assurance(facility);
    (have < service.min_assurance).then_some(DenyReason::AssuranceTooLow { have, need: service.min_assurance })
}

/// A facility is admitted by its kind or by the allow list; without a facility only `facility_kinds = ["*"]` admits.
fn facility_admission(facility: Option<&FacilityContext>, service: &Service) -> Option<DenyReason> {
    match (&service.facility_kinds, facility) {
        (KindRule::Any, _) => None,
        (KindRule::OneOf(_), None) => Some(DenyReason::NoFacility),
        (KindRule::OneOf(kinds), Some(f)) => (!kinds.contains(&f.kind) && !service.facilities_allow.contains(&f.id))
            .then(|| DenyReason::FacilityNotAdmitted { facility: f.id.clone(), kind: f.kind }),
    }
}

fn qualification(subject: &Subject, service: &Service) -> Option<DenyReason> {
    if subject.credential() == Credential::Jpki && !service.allow_jpki {
        return Some(DenyReason::JpkiNotAccepted);
    }
    let credential = match subject.credential() {
        Credential::Hpki => "HPKI card",
        Credential::Jpki => "JPKI card",
        Credential::PasswordTotp => "password+TOTP",
        Credential::Passkey => "passkey",
    };
    match (&service.roles, subject.role()) {
        (RoleRule::NoneRequired, _) => None,
        (RoleRule::AnyRole | RoleRule::OneOf(_), None) => Some(DenyReason::NoQualification { credential }),
        (RoleRule::AnyRole, Some(_)) => None,
        (RoleRule::OneOf(roles), Some(role)) => (!roles.contains(&role)).then_some(DenyReason::RoleNotAllowed(role)),
    }
}

fn claims(subject: &Subject, facility: Option<&FacilityContext>, service: &Service) -> Claims {
    let want = |c: Claim| service.claims.contains(&c);
    let at = |c: Claim| facility.filter(|_| want(c));
    Claims {
        name: want(Claim::Name).then(|| subject.name().to_owned()),
        hc_role: subject.role().filter(|_| want(Claim::HcRole)),
        facility_id: at(Claim::FacilityId).map(|f| f.id.clone()),
        facility_name: at(Claim::FacilityName).map(|f| f.name.clone()),
        facility_kind: at(Claim::FacilityKind).map(|f| f.kind),
        acr: want(Claim::Acr).then(|| subject.assurance(facility).acr()),
        amr: want(Claim::Amr).then(|| subject.amr()),
    }
}
