//! Why an authority operation failed, one enum per area so that each operation answers in its own terms and
//! each message says what to do: [`RegistryError`] (facilities, allocations, operators, console grants,
//! enrollment credentials), [`SigningError`] (CSR, profile, issuance, CA keys, batches, re-issue, held SCEP
//! requests) and [`RevocationError`] (revoking, CRLs, the ARL, shards). [`AuthorityError`] wraps the three for
//! the operations that cross areas (`init`, `load`, adding an operator) and for callers that treat any
//! authority failure alike (D50).

mod facility;
mod registry;
mod revocation;
mod signing;

pub use facility::FacilityRefusal;
pub use registry::RegistryError;
pub use revocation::RevocationError;
pub use signing::SigningError;

use crate::store::StoreError;
use hcpki_model::CaName;
use hcpki_pkix::keys::KeyError;

/// Why an operation that crosses areas failed, or any authority operation for a caller that does not care
/// which area: the area's error as it is (same message), or what only setting up the hierarchy can hit.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthorityError {
    /// A registry operation failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// Issuance failed.
    #[error(transparent)]
    Signing(#[from] SigningError),
    /// Revocation failed.
    #[error(transparent)]
    Revocation(#[from] RevocationError),
    /// A CA name recorded in the database is not one hcpki knows.
    #[error("unknown CA {0:?}: use root, router, pc or server")]
    UnknownCa(String),
    /// The database holds no CAs: run init first.
    #[error("this hcpki directory has no CAs yet: run `hcpki init --dir DIR` first")]
    NotInitialized,
    /// init on a database that already has CAs.
    #[error("CAs exist already in this database; hcpki init never replaces them")]
    AlreadyInitialized,
    /// Storage failed while reading or recording the hierarchy.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<hcpki_model::UnknownCa> for AuthorityError {
    fn from(e: hcpki_model::UnknownCa) -> Self {
        Self::UnknownCa(e.0)
    }
}

/// What an operation meets outside its own kind of error, as the error of the area it belongs to: a malformed
/// facility ID is a facility refusal wherever it is parsed; a key, profile or signature failure while `init`
/// makes the hierarchy is a signing error; an operator's registry trouble while adding one is a registry error.
macro_rules! via {
    ($target:ty, $variant:ident: $($t:ty),*) => {$(
        impl From<$t> for $target {
            fn from(e: $t) -> Self {
                Self::$variant(e.into())
            }
        }
    )*};
}
via!(RegistryError, Facility: crate::facility::FacilityIdError);
via!(SigningError, Facility: crate::facility::FacilityIdError);
via!(AuthorityError, Signing: KeyError, crate::profile::ProfileError, crate::issuer::IssueError, crate::serial::RandomError);
via!(AuthorityError, Registry: crate::facility::FacilityIdError, crate::operator::OperatorError);

/// A CA key that is not on this machine (its file or token object is missing) as [`RevocationError::KeyOffline`],
/// so the operator learns where the work belongs rather than which file was missing; any other error as it is.
pub(crate) fn offline_key(ca: CaName, e: SigningError) -> RevocationError {
    match e {
        SigningError::Key(KeyError::KeyFile { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            RevocationError::KeyOffline(ca)
        }
        SigningError::Key(KeyError::Pkcs11NotFound(_)) => RevocationError::KeyOffline(ca),
        other => other.into(),
    }
}
