//! Why a change to the registry failed: facilities and their transitions, address allocations, operators,
//! console grants and enrollment credentials.

use super::FacilityRefusal;
use crate::store::StoreError;

/// Why a registry operation failed. Each message says what the operator must do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The facility the request names is malformed, unknown or not in a state to be served.
    #[error(transparent)]
    Facility(#[from] FacilityRefusal),
    /// An address allocation is malformed or not unicast (issue #24, item 2).
    #[error(transparent)]
    Allocation(#[from] crate::facility::AllocationError),
    /// A security officer's name or contact the registry does not take (D155).
    #[error(transparent)]
    SecurityOfficer(#[from] crate::facility::SecurityOfficerError),
    /// A facility's rule on passkeys the registry does not take (D170).
    #[error(transparent)]
    PasskeyRule(#[from] hcpki_model::passkey_attestation::AttestationRuleError),
    /// A facility's limit on signing sessions above the ceiling (D172).
    #[error(transparent)]
    SigningLimit(#[from] hcpki_model::signing_limit::SigningLimitError),
    /// An address lookup was given a prefix rather than one address (issue #50 item 5).
    #[error("{0:?} is a prefix, not one address: give the address seen in the incident, e.g. 192.0.2.7 or 2001:db8::7")]
    NotOneAddress(String),
    /// Vetting evidence the registry does not take (D173).
    #[error(transparent)]
    Vetting(#[from] crate::vetting::VettingError),
    /// A register file refused whole (D173): the message names every bad row.
    #[error(transparent)]
    RegisterFile(#[from] crate::register_file::RegisterFileError),
    /// A code check asked for a facility registered without a 医療機関コード (D173).
    #[error(
        "facility {0} has no 医療機関コード to check against the register: an institution without one is vetted \
         on its documents (approvers whose requirements include the code check cannot approve it)"
    )]
    NoMedicalCode(crate::facility::FacilityId),
    /// A warning asked for a facility with nothing overdue (D173).
    #[error("facility {0} has nothing overdue or due soon: nothing to warn about (see hcpki facility vetting overdue)")]
    NothingOverdue(crate::facility::FacilityId),
    /// A registration authority, an assignment to one or a membership refused (D167).
    #[error(transparent)]
    Ra(#[from] crate::ra::RaError),
    /// An operator could not be added, found or used.
    #[error(transparent)]
    Operator(#[from] crate::operator::OperatorError),
    /// A console grant could not be made (D42).
    #[error(transparent)]
    ConsoleGrant(#[from] crate::console_grant::ConsoleGrantError),
    /// An enrollment credential could not be made or found.
    #[error(transparent)]
    Credential(#[from] crate::enroll::credential::CredentialError),
    /// Storage failed, or refused the change (the store's message says why).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The batch the change went in (group commit) could not be run: the server is stopping, or its worker ended.
    #[error("not applied because its batch could not be run: {0}; retry")]
    Batch(String),
}
