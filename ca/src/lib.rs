//! hcpki certificate authority core.
//!
//! This crate knows nothing of HTTP. It turns facility registrations and
//! certificate signing requests into certificates through a one-way pipeline
//! (parse → profile → lint → record intent → sign once → store → audit), with
//! every private key behind [`hcpki_pkix::keys::KeySource`] and every row behind
//! [`store::Store`].
//!
//! See `docs/architecture.md` and `docs/issuance-cycle.md` for the why.
#![forbid(unsafe_code)]

pub mod access;
pub mod authority;
mod batch;
pub mod cps;
pub mod crl_shard;
pub mod csr;
pub mod enroll;
pub mod error;
pub mod group_commit;
pub mod halt;
pub mod hierarchy;
pub mod issuer;
pub mod lint;
pub mod pipeline;
pub mod profile;
pub mod psk;
pub mod register_file;
pub mod registrar;
pub mod request;
pub mod revocation;
pub mod revoker;
pub mod router_register;
pub mod serial;

#[cfg(test)]
mod tsa_client_tests;

// The store and the values its rows hold are the crate `hcpki-store` (decision D51), the floor under this one;
// named here too, so `hcpki_ca::store::…`, `crate::facility::…` and the other old paths keep working.
pub use hcpki_store as store;
pub use hcpki_store::{audit, console_grant, facility, fault, ip_prefix, operator, person_key, ra, vetting};

pub use authority::{Authority, AuthorityError, CaName, FacilityRefusal, RegistryError, RevocationError, SigningError};
pub use facility::{FacilityId, FacilityKind, FacilityState, MedicalInstitutionCode};
