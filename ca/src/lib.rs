//! hcpki certificate authority core.
//!
//! This crate knows nothing of HTTP. It turns facility registrations and
//! certificate signing requests into certificates through a one-way pipeline
//! (parse → profile → lint → record intent → sign once → store → audit), with
//! every private key behind [`keys::KeySource`] and every row behind
//! [`store::Store`].
//!
//! See `docs/architecture.md` and `docs/issuance-cycle.md` for the why.
#![forbid(unsafe_code)]

pub mod access;
pub mod asn1;
pub mod audit;
pub mod authority;
pub mod console_grant;
pub mod csr;
pub mod enroll;
pub mod facility;
pub mod fault;
pub mod group_commit;
pub mod ip_prefix;
pub mod issuer;
pub mod keys;
pub mod lint;
pub mod oid;
pub mod operator;
pub mod person_key;
pub mod profile;
pub mod revocation;
pub mod serial;
pub mod store;
pub mod time;

pub use authority::{Authority, AuthorityError, CaName, FacilityRefusal, RegistryError, RevocationError, SigningError};
pub use facility::{FacilityId, FacilityKind, FacilityState, MedicalInstitutionCode};
