//! The data half of a profile: key usage, EKU, validity, accepted keys, facility rule, revocation pointers.

use crate::csr::SubjectKeyType;
use hcpki_model::ProfileKind;
use x509_cert::ext::pkix::KeyUsages;

/// Whether a profile is issued to a facility.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FacilityRule {
    /// Must name an approved or active facility; its ID goes into the certificate.
    Required,
    /// Must not name a facility.
    Forbidden,
}

/// The data half of a profile.
#[derive(Clone, Debug)]
pub struct ProfileSpec {
    /// Which profile.
    pub kind: ProfileKind,
    /// keyUsage bits (always marked critical).
    pub key_usage: &'static [KeyUsages],
    /// extKeyUsage (absent when empty).
    pub eku: Vec<const_oid::ObjectIdentifier>,
    /// Lifetime in days.
    pub validity_days: u32,
    /// Key types this profile certifies.
    pub keys: &'static [KeyClass],
    /// Facility rule.
    pub facility: FacilityRule,
    /// Whether to carry CRL distribution points and AIA (the OCSP signer carries id-pkix-ocsp-nocheck instead).
    pub revocation_pointers: bool,
    /// Whether to add id-pkix-ocsp-nocheck.
    pub ocsp_nocheck: bool,
    /// Whether extKeyUsage is critical: only the TSA's, which RFC 3161 §2.3 requires critical.
    pub eku_critical: bool,
}

/// Classes of subject keys a profile accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyClass {
    /// RSA 2048–4096.
    Rsa,
    /// ECDSA P-256.
    P256,
    /// ECDSA P-384.
    P384,
}

impl KeyClass {
    pub(super) fn of(t: SubjectKeyType) -> Self {
        match t {
            SubjectKeyType::Rsa(_) => Self::Rsa,
            SubjectKeyType::P256 => Self::P256,
            SubjectKeyType::P384 => Self::P384,
        }
    }
}
