//! Facility enrollment: the credentials operators hand out, and the protocol front ends devices speak.
//!
//! Each protocol module ([`est`]; SCEP and ACME later) is request → response with no HTTP, over a narrow
//! interface it declares itself ([`est::EstAuthority`]); [`crate::Authority`] implements those in
//! `authority/enroll.rs`. What is common to them lives here: who may enroll ([`Grant`]) and how a
//! refusal is classed ([`EnrollError`]), which each protocol turns into its own error shape.

pub mod acme;
pub mod credential;
pub mod est;
mod pkcs7;
pub mod scep;

pub use credential::{CredentialRecord, NewCredential, Protocol, Refusal};
pub use pkcs7::certs_only;

use crate::facility::FacilityId;
use crate::profile::ProfileKind;

/// What every enrollment protocol needs of the CA; each protocol's own interface ([`est::EstAuthority`],
/// [`scep::ScepAuthority`]) extends it. Implemented by [`crate::Authority`] in `authority/enroll.rs`.
#[async_trait::async_trait]
pub trait EnrollAuthority: Send + Sync + std::fmt::Debug {
    /// The chain of the CA issuing `profile`, issuing CA first, root last (DER).
    fn chain(&self, profile: ProfileKind) -> Result<Vec<Vec<u8>>, EnrollError>;

    /// During a rollover of the CA issuing `profile` (D145), its other generation's certificate (DER): the next
    /// one before the switch, the previous one after it; during a root rollover (D160) also the other root and
    /// both link certificates. Served beside [`EnrollAuthority::chain`].
    fn other_generation(&self, _profile: ProfileKind) -> Vec<Vec<u8>> {
        Vec::new()
    }

    /// The next generation of the CA issuing `profile`, published and not issuing yet (SCEP `GetNextCACert`).
    fn next_ca(&self, _profile: ProfileKind) -> Option<Vec<u8>> {
        None
    }

    /// Check the credential `id` against `secret` for `protocol` and `profile` (`None`: its default) and
    /// redeem it atomically; audits acceptance and refusal alike.
    async fn redeem(
        &self,
        protocol: Protocol,
        id: &str,
        secret: &str,
        profile: Option<ProfileKind>,
    ) -> Result<Grant, EnrollError>;

    /// The registry's view of a facility certificate a device authenticates with (over TLS for EST, as the
    /// SignedData signer for SCEP renewal): refused unless it is on record, issued, unexpired and its
    /// facility may enroll. Refusals are audited under `protocol`.
    async fn holder(&self, protocol: Protocol, certificate_der: &[u8]) -> Result<Holder, EnrollError>;

    /// Issue `grant.profile` for `grant.facility` with the CSR's key and this name request. A refusal gives a
    /// redeemed credential back, so the device may retry with a corrected request.
    async fn issue(
        &self,
        protocol: Protocol,
        grant: &Grant,
        csr: crate::csr::Csr,
        sans: Vec<String>,
        device: Option<String>,
    ) -> Result<Vec<u8>, EnrollError>;

    /// Audit a request refused before any credential or certificate was looked at.
    async fn refused(&self, protocol: Protocol, operation: &str, reason: &str);
}

/// What a device has proven it may receive: one profile for one facility.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// The facility the certificate is for.
    pub facility: FacilityId,
    /// The profile to issue.
    pub profile: ProfileKind,
    /// What proved it.
    pub basis: Basis,
}

/// How a device authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Basis {
    /// A redeemed enrollment credential (its ID).
    Credential(String),
    /// A current facility certificate (its serial), presented over TLS.
    Certificate(String),
    /// An ACME account (its ID), bound to the facility when it redeemed its EAB credential.
    Account(hcpki_model::AcmeAccountId),
}

impl Grant {
    /// The audit actor of what is done under this grant, e.g. `est:credential:<id>`.
    pub fn actor(&self, protocol: Protocol) -> crate::store::Actor {
        match &self.basis {
            Basis::Credential(id) => crate::store::Actor(format!("{protocol}:credential:{id}")),
            Basis::Certificate(serial) => crate::store::Actor(format!("{protocol}:certificate:{serial}")),
            Basis::Account(id) => crate::store::Actor(format!("{protocol}:account:{id}")),
        }
    }
}

/// A facility certificate presented over TLS, as the registry knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    /// Its serial.
    pub serial: String,
    /// Its facility.
    pub facility: FacilityId,
    /// Its profile.
    pub profile: ProfileKind,
    /// Its SANs as a name request would give them (`router.example`, `192.0.2.1`), for re-enrollment.
    pub sans: Vec<String>,
    /// Its device identifier (pc profile).
    pub device: Option<String>,
}

impl Holder {
    /// What this certificate may enroll or renew: its own profile for its own facility, nothing else (issue #24,
    /// item 1). `requested` is the profile the request names (an EST label, a SCEP endpoint); `None` takes the
    /// certificate's own. A router's key sits in router configs, NVRAM and backups, and a PC certificate is a
    /// facility administrator, so a certificate that could enroll another profile would turn a stolen router
    /// key into a PC; another profile needs a single-use enrollment credential, which a person hands out.
    /// The one check for EST `simpleenroll`, `serverkeygen`, `simplereenroll` and SCEP renewal.
    pub fn own_grant(&self, requested: Option<ProfileKind>) -> Result<Grant, EnrollError> {
        if let Some(other) = requested.filter(|p| *p != self.profile) {
            return Err(EnrollError::Forbidden(format!(
                "certificate {serial} is a {own} certificate, and a {own} certificate enrolls and renews only {own} \
                 certificates (under /.well-known/est/{own}/ or /scep/{own}), never {other} ones: ask the facility \
                 administrator for a single-use enrollment credential for a {other} certificate",
                serial = self.serial,
                own = self.profile,
            )));
        }
        Ok(Grant {
            facility: self.facility.clone(),
            profile: self.profile,
            basis: Basis::Certificate(self.serial.clone()),
        })
    }
}

/// Why an enrollment was refused, classed for the protocol's error shape. The text says what to do and is
/// safe to show the device (it never reveals whether an unknown credential exists).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnrollError {
    /// No or wrong authentication: send a valid credential or certificate.
    #[error("{0}")]
    Unauthenticated(String),
    /// Authenticated, but not allowed this (another profile, a used or expired credential, a suspended facility).
    #[error("{0}")]
    Forbidden(String),
    /// The request itself is malformed (encoding, CSR, names the profile refuses).
    #[error("{0}")]
    BadRequest(String),
    /// The request body is over the protocol's limit.
    #[error("{0}")]
    TooLarge(String),
    /// Issuance is halted by the operators (D135): retry after the configured `Retry-After` (D141) or later.
    #[error("{0}")]
    Halted(String),
    /// The CA could not serve the request now (database, keys); retry later.
    #[error("{0}")]
    Unavailable(String),
}
