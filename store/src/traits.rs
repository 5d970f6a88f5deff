//! The store's traits, one per area; [`crate::Store`] gathers them.

mod acme;
mod audit_log;
mod consents;
mod console_grants;
mod enrollment;
mod facilities;
mod issuance;
mod jobs;
mod maintenance;
mod oidc;
mod operators;
mod portal_users;
mod rate_limits;
mod revocation;
mod services;
mod sessions;
mod signing_requests;

pub use acme::Acme;
pub use audit_log::AuditLog;
pub use consents::Consents;
pub use console_grants::ConsoleGrants;
pub use enrollment::Enrollment;
pub use facilities::Facilities;
pub use issuance::Issuance;
pub use jobs::Jobs;
pub use maintenance::Backend;
pub use maintenance::Maintenance;
pub use oidc::Oidc;
pub use operators::Operators;
pub use portal_users::PortalUsers;
pub use rate_limits::RateLimits;
pub use revocation::Revocations;
pub use services::Services;
pub use sessions::Sessions;
pub use signing_requests::SigningRequests;
