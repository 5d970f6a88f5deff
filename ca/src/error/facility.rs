//! Why a facility named in a request cannot be served: met by the registry (credentials, allocations, console
//! grants, transitions) and by signing (a certificate for a facility) alike.

use crate::facility::{FacilityId, FacilityIdError};

/// Why the facility a request names cannot be served.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FacilityRefusal {
    /// Facility ID malformed.
    #[error(transparent)]
    Id(#[from] FacilityIdError),
    /// The facility does not exist.
    #[error("no facility {0}: check the ID with `hcpki facility list`")]
    Unknown(FacilityId),
    /// The facility may not receive certificates (or enrollment credentials) in its state.
    #[error("facility {id} is {state}; only approved or active facilities receive certificates")]
    State {
        /// The facility.
        id: FacilityId,
        /// Its state.
        state: crate::facility::FacilityState,
    },
}
