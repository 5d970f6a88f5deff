//! What the parts' group-commit queues answer (`queue` starts their workers): below the parts that hold the
//! sending sides.

use super::error::{RegistryError, RevocationError, SigningError};
use crate::facility::Facility;
use crate::issuer::Issued;
use crate::store::CertificateRecord;

/// An issuance's answer.
pub(super) type Outcome = Result<(Issued, CertificateRecord), SigningError>;
/// A facility transition's answer.
pub(super) type Changed = Result<Facility, RegistryError>;
/// A revocation's answer.
pub(super) type Revoked = Result<CertificateRecord, RevocationError>;
