//! What a profile's name rule is asked to name, and what it decides.

use crate::facility::{Allocation, Facility};
use hcpki_pkix::asn1::GeneralNames;
use x509_cert::name::Name;

/// What the caller asks to be named (already authenticated and authorized).
#[derive(Clone, Debug, Default)]
pub struct NameRequest<'a> {
    /// The facility (state already checked), for facility profiles.
    pub facility: Option<&'a Facility>,
    /// The facility's address allocations: the only addresses its router certificates may carry.
    pub allocations: &'a [Allocation],
    /// `--san` values: DNS names and IP addresses.
    pub sans: Vec<String>,
    /// Device identifier for PC certificates; the operator name for operator certificates.
    pub device: Option<String>,
    /// The CA a delegated OCSP signer works for.
    pub ocsp_for: Option<String>,
}

/// Subject and SANs decided by a profile's name rule.
#[derive(Clone, Debug)]
pub struct Names {
    /// Subject DN.
    pub subject: Name,
    /// subjectAltName entries (empty: no extension).
    pub sans: GeneralNames,
    /// SANs in display form, for the registry and audit.
    pub display: Vec<String>,
}
