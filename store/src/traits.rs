//! The store's traits, one per area; [`crate::Store`] gathers them.

mod acme;
mod audit_log;
mod ca_rollovers;
mod consents;
mod console_grants;
mod delegations;
mod device_names;
mod enrollment;
mod facilities;
mod issuance;
mod issuance_halts;
mod jobs;
mod maintenance;
mod oidc;
mod operators;
pub mod passkeys;
pub mod patient_presence;
mod portal_users;
mod rate_limits;
pub mod regional_networks;
mod registration_authorities;
mod revocation;
mod router_psks;
mod router_register;
pub mod scim;
mod security_officers;
mod services;
mod sessions;
mod signing_requests;
pub mod ssf;
mod vetting;

pub use acme::Acme;
pub use audit_log::AuditLog;
pub use ca_rollovers::CaRollovers;
pub use consents::Consents;
pub use console_grants::ConsoleGrants;
pub use delegations::Delegations;
pub use device_names::DeviceNames;
pub use enrollment::Enrollment;
pub use facilities::Facilities;
pub use issuance::Issuance;
pub use issuance_halts::IssuanceHalts;
pub use jobs::Jobs;
pub use maintenance::Backend;
pub use maintenance::Maintenance;
pub use oidc::Oidc;
pub use operators::Operators;
pub use passkeys::{FacilityPasskeyRule, PasskeyRecord, Passkeys};
pub use patient_presence::{PatientPresences, PresenceRecord};
pub use portal_users::PortalUsers;
pub use rate_limits::RateLimits;
pub use regional_networks::{NetworkRecord, RegionalNetworks};
pub use registration_authorities::RegistrationAuthorities;
pub use revocation::Revocations;
pub use router_psks::RouterPsks;
pub use router_register::RouterRegister;
pub use scim::{ScimAccount, ScimAccountChange, ScimAccounts, ScimClientRecord};
pub use security_officers::SecurityOfficers;
pub use services::Services;
pub use sessions::Sessions;
pub use signing_requests::{FacilitySigningLimit, SigningRequests};
pub use ssf::{
    PERSON_ACCOUNT_DISABLED, PERSON_TOTP_ENROLLED, PERSON_TOTP_RESET, SsfOutboxRecord, SsfPersonEvent, SsfStreamRecord,
    SsfStreams,
};
pub use vetting::Vetting;
