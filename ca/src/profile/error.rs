//! Why a profile refused a request: the one error type every profile file and builder returns.

use hcpki_model::ProfileKind;

/// Why a profile refused a request.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProfileError {
    /// Unknown profile name.
    #[error("unknown profile {0:?}: use router, pc or server")]
    UnknownProfile(String),
    /// The profile needs a facility and none was given.
    #[error("the {0} profile is issued to a facility: pass --facility ID")]
    FacilityRequired(ProfileKind),
    /// The profile must not name a facility.
    #[error("{0} certificates are not facility certificates: omit --facility")]
    FacilityForbidden(ProfileKind),
    /// The key type is not allowed for this profile.
    #[error("{key} keys are not accepted for {profile} certificates")]
    KeyType {
        /// Profile.
        profile: ProfileKind,
        /// Key type.
        key: String,
    },
    /// A SAN value is malformed.
    #[error("{value:?} is not a valid DNS name or IP address: {why}")]
    BadSan {
        /// The value.
        value: String,
        /// Why.
        why: &'static str,
    },
    /// A router DNS name outside the facility's zone.
    #[error("{value:?} is outside facility {facility}'s name space: router names must be {zone} or end in .{zone}")]
    SanOutsideFacility {
        /// The value.
        value: String,
        /// The facility.
        facility: String,
        /// Its DNS name.
        zone: String,
    },
    /// A router address outside the facility's own allocations (issue #24, item 2): it may be another
    /// facility's IKE identity.
    #[error(
        "{address} is not allocated to facility {facility} ({held}): a router certificate carries only addresses \
         allocated to its own facility; ask the network operator to allocate it to your facility \
         (`hcpki facility address add {facility} PREFIX`), or leave the address out"
    )]
    AddressNotAllocated {
        /// The address asked for.
        address: std::net::IpAddr,
        /// The facility.
        facility: String,
        /// What the facility holds, for the message.
        held: String,
    },
    /// SANs are required and none were given.
    #[error("{0} certificates need at least one --san (DNS name or IP address)")]
    SanRequired(ProfileKind),
    /// SANs given where the profile takes none.
    #[error("{0} certificates take no --san: {1}")]
    SanNotAllowed(ProfileKind, &'static str),
    /// Device identifier malformed.
    #[error("device identifier {0:?} must be 1–64 characters of A–Z a–z 0–9 . _ -")]
    Device(String),
    /// Unknown router EKU variant or vendor.
    #[error("{0}")]
    Variant(String),
    /// Encoding failed (a bug or an absurd input size).
    #[error("cannot encode certificate fields: {0}")]
    Encoding(String),
}

impl From<hcpki_model::UnknownProfile> for ProfileError {
    fn from(e: hcpki_model::UnknownProfile) -> Self {
        Self::UnknownProfile(e.0)
    }
}

impl From<der::Error> for ProfileError {
    fn from(e: der::Error) -> Self {
        Self::Encoding(e.to_string())
    }
}
