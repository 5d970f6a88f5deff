//! Persistence behind one trait per area, with a SQLite and a PostgreSQL implementation.
//!
//! Only this crate touches the database. Every mutating method is one
//! transaction that also appends its audit entry (see [`crate::audit`]), so an
//! action and its record commit or vanish together. Schema migrations live in
//! `migrations/sqlite` and `migrations/postgres` at the workspace root.
//!
//! The area traits ([`traits`]) are gathered by [`Store`]; `use hcpki_store::prelude::*` brings all of
//! them into scope where a concrete store's methods are called.
//!
//! The store reads no clock: time is passed in. A method that appends audit entries takes `at_ms` (Unix
//! milliseconds: its entries' time; the rows it writes record that second), any other that needs the time
//! takes `now` (Unix seconds); callers pass their request's time, tests a fixed one.
//!
//! A crate of its own (decision D51), under the CA: it depends on `hcpki-model` and nothing of the CA, so the
//! compiler keeps the floor, and the CA reaches only what is `pub` here. The values the rows hold live beside
//! the store: the audit chain ([`audit`]), facilities ([`facility`], with [`ip_prefix`]), console operators
//! ([`operator`]), console grants ([`console_grant`], with [`person_key`]), and the crash-test points
//! ([`fault`]) its writes pass.
#![forbid(unsafe_code)]

pub mod areas;
pub mod audit;
pub mod consent;
pub mod console_grant;
pub mod delegation;
pub mod facility;
pub mod fault;
pub mod halt;
pub mod ip_prefix;
pub mod operator;
pub mod origin;
pub mod person_key;
pub mod ra;
pub mod rollover;
pub mod router;
pub mod router_psk;
pub mod schema;
pub mod signing_request;
pub mod vetting;

mod error;
mod jobs;
mod rate_limits;
mod records;
mod sql;
mod sso;
pub mod traits;

pub use areas::{CatalogAreas, ClientAreas, SessionAreas};
pub use error::StoreError;
pub use jobs::{ItemOutcome, JobItem, JobRecord, JobState, NewJob};
pub use rate_limits::{RateCount, RateSync, RateTotals};
pub use records::{
    AcmeAccount, AcmeOrder, Actor, AllocationRecord, AuthorityRecord, Authorization, BackupDatabase, BackupRecord,
    CertStatus, CertificateFilter, CertificateRecord, Challenge, Completion, CredentialRecord, ExpiringCertificate,
    FacilityChange, FacilityFilter, HeldRequest, HeldState, ImportedCrl, IssuanceIntent, Protocol, Registration,
    Revocation, StoredProblem, UnknownProtocol,
};
#[allow(unused_imports)]
use sql as _;
pub use sql::{PgStore, SqliteStore};
pub use sso::{
    GrantOp, GrantRecord, GrantUse, LendRecord, LoginChallengeRecord, LoginThrottle, OidcClientRecord, OnceRecord,
    PortalUser, ServiceRecord, SessionRecord, SweepCounts, TokenWrite, TokenWritten,
};
pub use traits::RegistrationAuthorities;
pub use traits::RouterPsks;
pub use traits::RouterRegister;
pub use traits::Vetting;
pub use traits::{
    Acme, AuditLog, Backend, CaRollovers, Consents, ConsoleGrants, Delegations, DeviceNames, Enrollment, Facilities,
    Issuance, IssuanceHalts, Jobs, Maintenance, Oidc, Operators, PasskeyRecord, Passkeys, PatientPresences,
    PortalUsers, PresenceRecord, RateLimits, Revocations, ScimAccount, ScimAccountChange, ScimAccounts,
    ScimClientRecord, SecurityOfficers, Services, Sessions, SigningRequests,
};
pub use traits::{FacilityPasskeyRule, FacilitySigningLimit};
pub use traits::{NetworkRecord, RegionalNetworks};
pub use traits::{
    PERSON_ACCOUNT_DISABLED, PERSON_TOTP_ENROLLED, PERSON_TOTP_RESET, SsfOutboxRecord, SsfPersonEvent, SsfStreamRecord,
    SsfStreams,
};

use std::sync::Arc;

/// Every area trait (and [`Store`]), for `use hcpki_store::prelude::*`: a concrete store's methods resolve.
pub mod prelude {
    pub use super::Store;
    pub use super::traits::RegionalNetworks;
    pub use super::traits::RegistrationAuthorities;
    pub use super::traits::RouterPsks;
    pub use super::traits::RouterRegister;
    pub use super::traits::SsfStreams;
    pub use super::traits::Vetting;
    pub use super::traits::{
        Acme, AuditLog, CaRollovers, Consents, ConsoleGrants, Delegations, DeviceNames, Enrollment, Facilities,
        Issuance, IssuanceHalts, Jobs, Maintenance, Oidc, Operators, Passkeys, PatientPresences, PortalUsers,
        RateLimits, Revocations, ScimAccounts, SecurityOfficers, Services, Sessions, SigningRequests,
    };
}

/// Everything hcpki keeps: every area's trait, so one `Arc<dyn Store>` serves them all. Methods of the area
/// traits resolve on `dyn Store` without importing them; code generic over a concrete store imports
/// [`prelude`].
pub trait Store:
    Maintenance
    + AuditLog
    + Facilities
    + Issuance
    + Revocations
    + Enrollment
    + Acme
    + Operators
    + Jobs
    + RateLimits
    + PortalUsers
    + Sessions
    + ConsoleGrants
    + Services
    + Oidc
    + SigningRequests
    + Consents
    + Delegations
    + DeviceNames
    + SecurityOfficers
    + ScimAccounts
    + IssuanceHalts
    + CaRollovers
    + PatientPresences
    + Passkeys
    + RouterPsks
    + RegistrationAuthorities
    + RouterRegister
    + SsfStreams
    + RegionalNetworks
    + Vetting
    + SessionAreas
    + ClientAreas
    + CatalogAreas
    + std::fmt::Debug
{
}

impl<T> Store for T where
    T: Maintenance
        + AuditLog
        + Facilities
        + Issuance
        + Revocations
        + Enrollment
        + Acme
        + Operators
        + Jobs
        + RateLimits
        + PortalUsers
        + Sessions
        + ConsoleGrants
        + Services
        + Oidc
        + SigningRequests
        + Consents
        + Delegations
        + DeviceNames
        + SecurityOfficers
        + ScimAccounts
        + IssuanceHalts
        + CaRollovers
        + PatientPresences
        + Passkeys
        + RouterPsks
        + RegistrationAuthorities
        + RouterRegister
        + SsfStreams
        + RegionalNetworks
        + Vetting
        + std::fmt::Debug
{
}

/// Open the database named by `url` and bring its schema up to date.
///
/// `sqlite:PATH` / `sqlite://PATH` (created if missing) or `postgres://…` / `postgresql://…`.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::open(url).await?))
    } else {
        Err(StoreError::Url(url.to_owned()))
    }
}

/// Create a fresh, uniquely named PostgreSQL database next to the one `admin_url`
/// names and return its URL (benchmarks and tests: every run starts empty).
pub async fn create_scratch_database(admin_url: &str, prefix: &str) -> Result<String, StoreError> {
    use sqlx::Connection;
    let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(admin_url).await.map_err(|e| StoreError::Connect(e.to_string()))?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .map_err(|e| StoreError::Database(e.to_string()))?;
    let base = admin_url.split('?').next().unwrap_or(admin_url);
    let prefix_end =
        base.rfind('/').filter(|i| *i > base.find("://").map(|s| s + 2).unwrap_or(0)).unwrap_or(base.len());
    Ok(format!("{}/{name}", base.get(..prefix_end).unwrap_or(base)))
}
