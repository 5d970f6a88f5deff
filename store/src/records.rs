//! Rows as the rest of the crate sees them: plain data the store reads and writes. The protocols' records
//! (ACME accounts and orders, enrollment credentials, held SCEP requests) live here too, so the store needs
//! nothing of `enroll`; the protocols re-export them where they used to be.

mod acme;
mod backup;
mod credential;
mod held;

use crate::facility::{Allocation, Facility, FacilityId, FacilityKind, FacilityState, PhoneDigits, Transition};

pub use acme::{AcmeAccount, AcmeOrder, Authorization, Challenge, StoredProblem};
pub use backup::{BackupDatabase, BackupRecord};
pub use credential::{CredentialRecord, Protocol, UnknownProtocol};
pub use hcpki_model::Actor;
use hcpki_model::{CaName, CertProfile, SerialHex};
pub use held::{HeldRequest, HeldState};

/// A CA as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorityRecord {
    /// Which CA.
    pub name: CaName,
    /// Where its key is (`file:…` or `pkcs11:…`).
    pub key_uri: String,
    /// Its certificate (DER).
    pub cert_der: Vec<u8>,
    /// The CA that signed it (`None` for the root).
    pub parent: Option<CaName>,
    /// When it was created (Unix seconds).
    pub created_at: i64,
}

/// A CRL signed elsewhere and imported to be served (the offline root's ARL, issue #9), as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedCrl {
    /// The CA whose CRL it is (`root`).
    pub ca: CaName,
    /// Its cRLNumber: each import must be above every earlier one of the same CA.
    pub number: i64,
    /// The DER CRL, exactly as signed.
    pub der: Vec<u8>,
    /// thisUpdate (Unix seconds).
    pub this_update: i64,
    /// nextUpdate (Unix seconds): after it, relying parties refuse every chain through this CA.
    pub next_update: i64,
    /// How many certificates it lists.
    pub entries: i64,
    /// Lowercase hex SHA-256 of the DER.
    pub sha256: String,
    /// When it was imported (Unix seconds).
    pub imported_at: i64,
    /// Who imported it.
    pub imported_by: String,
}

/// Lifecycle of an issuance row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CertStatus {
    /// Serial and intent recorded; not signed (yet, or the process died).
    Reserved,
    /// Signed and stored.
    Issued,
    /// Signing failed; the serial is burnt.
    Failed,
    /// Revoked (reason and time in `certificate_revocations`; CRL/OCSP publication is issue #5).
    Revoked,
}

impl CertStatus {
    /// Stable text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reserved => "reserved",
            Self::Issued => "issued",
            Self::Failed => "failed",
            Self::Revoked => "revoked",
        }
    }

    /// Parse the stable text form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "reserved" => Some(Self::Reserved),
            "issued" => Some(Self::Issued),
            "failed" => Some(Self::Failed),
            "revoked" => Some(Self::Revoked),
            _ => None,
        }
    }
}

/// A signed certificate to store under its reserved serial, with the actor it was issued for (each
/// certificate of a batch keeps its own requester in the audit log).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    /// The reserved serial.
    pub serial: SerialHex,
    /// The signed certificate.
    pub der: Vec<u8>,
    /// Who asked for it.
    pub actor: Actor,
}

/// What is about to be signed (write-ahead, before the signature exists).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuanceIntent {
    /// Serial, lowercase hex of the DER INTEGER content.
    pub serial: SerialHex,
    /// Issuing CA.
    pub ca: CaName,
    /// Profile (`router`, `pc`, `server`, `ocsp`, …, or `ca-<name>` for a CA certificate).
    pub profile: CertProfile,
    /// The facility, for facility profiles.
    pub facility: Option<FacilityId>,
    /// Subject DN (RFC 4514 string).
    pub subject: String,
    /// SANs in display form (`DNS:…`, `IP:…`, `facility:…`, `device:…`).
    pub sans: Vec<String>,
    /// notBefore (Unix seconds).
    pub not_before: i64,
    /// notAfter (Unix seconds).
    pub not_after: i64,
    /// SHA-256 of the TBS DER to be signed (hex).
    pub tbs_sha256: String,
    /// SHA-256 of the subject public key info (hex): finds all certificates of one key.
    pub spki_sha256: String,
    /// Who asked.
    pub requested_by: String,
    /// The PC CA's CRL shard its CRL distribution point names (D20); `None`: the CA's complete CRL.
    pub crl_shard: Option<u16>,
    /// The certificate this one succeeds (a re-issue, D38): recorded with the write-ahead intent, so "is there
    /// a successor" is answered by the same transaction that stores it.
    pub replaces: Option<SerialHex>,
    /// The issuing CA's generation (1 until its first rollover's switch, D145/D151): which of the CA's CRLs lists
    /// the certificate once revoked.
    pub generation: u32,
}

/// A certificate row.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CertificateRecord {
    /// Serial (hex), serialised in its stored text form.
    pub serial: SerialHex,
    /// Issuing CA, serialised in its stored text form.
    #[serde(serialize_with = "as_text")]
    pub ca: CaName,
    /// Profile, serialised in its stored text form (`scep-ra`, `ca-root`, …).
    pub profile: CertProfile,
    /// Facility, if any.
    pub facility: Option<FacilityId>,
    /// Subject DN.
    pub subject: String,
    /// SANs.
    pub sans: Vec<String>,
    /// notBefore (Unix seconds).
    pub not_before: i64,
    /// notAfter (Unix seconds).
    pub not_after: i64,
    /// Status.
    pub status: CertStatus,
    /// SHA-256 of the TBS (hex).
    pub tbs_sha256: String,
    /// SHA-256 of the SPKI (hex).
    pub spki_sha256: String,
    /// The certificate (DER), once issued.
    #[serde(skip)]
    pub der: Option<Vec<u8>>,
    /// When the intent was recorded (Unix seconds).
    pub created_at: i64,
    /// When it was issued (Unix seconds).
    pub issued_at: Option<i64>,
    /// The issuing CA's generation (D151).
    pub generation: u32,
}

/// One row's result in [`Facilities::register_facilities`](crate::Facilities::register_facilities).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Registration {
    /// Registered now (state `applied`).
    New(Facility),
    /// Not registered: its 医療機関コード already belongs to `existing` (so re-running an import adds nothing).
    AlreadyRegistered {
        /// The code.
        code: String,
        /// The facility holding it.
        existing: String,
    },
    /// Not registered: one of its address allocations shares addresses with another facility's.
    AddressHeld {
        /// The allocation asked for.
        asked: Allocation,
        /// The facility holding the overlapping allocation.
        holder: FacilityId,
        /// That allocation.
        held: Allocation,
    },
}

/// An address allocation as the registry holds it (issue #24, item 2).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AllocationRecord {
    /// The facility it is allocated to.
    pub facility: FacilityId,
    /// The prefix or single address.
    #[serde(rename = "prefix")]
    pub allocation: Allocation,
    /// When it was added (Unix seconds).
    pub added_at: i64,
    /// Who added it (audit actor form).
    pub added_by: String,
}

/// One lifecycle change in [`Facilities::transition_facilities`](crate::Facilities::transition_facilities): the
/// facility, the transition, its reason and who asks for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FacilityChange {
    /// The facility.
    pub id: FacilityId,
    /// The transition.
    pub transition: Transition,
    /// The reason recorded with the new state.
    pub reason: Option<String>,
    /// Who asks for it (the audit entry's actor).
    pub actor: Actor,
}

/// One revocation in [`Revocations::revoke_certificates`](crate::Revocations::revoke_certificates): the serial, its
/// RFC 5280 reason code and who asks for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revocation {
    /// The certificate's serial (hex, as stored).
    pub serial: SerialHex,
    /// The RFC 5280 CRLReason code.
    pub reason: u8,
    /// Who asks for it (the audit entry's actor).
    pub actor: Actor,
}

/// Which facilities to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FacilityFilter {
    /// Only this state.
    pub state: Option<FacilityState>,
    /// Only this kind.
    pub kind: Option<FacilityKind>,
    /// Name contains this text.
    pub name_contains: Option<String>,
    /// The contact holds this telephone number (folded as [`crate::facility::phone`] says).
    pub phone: Option<PhoneDigits>,
    /// At most this many (default 1000).
    pub limit: Option<i64>,
    /// Only IDs after this one (paging).
    pub after: Option<FacilityId>,
    /// Only the facilities in this registration authority's scope (its staff's view, D167).
    pub ra: Option<crate::ra::Ra>,
}

/// Which certificates to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CertificateFilter {
    /// Only this facility.
    pub facility: Option<FacilityId>,
    /// Only this profile.
    pub profile: Option<CertProfile>,
    /// Only this status.
    pub status: Option<CertStatus>,
    /// Only certificates whose notAfter is in `[from, until)` (Unix seconds): expiry monitoring.
    pub expiring: Option<(i64, i64)>,
    /// At most this many (default 1000).
    pub limit: Option<i64>,
}

/// An issued certificate nearing its notAfter with no successor (expiry webhook, issue #8).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ExpiringCertificate {
    /// Serial (hex), serialised in its stored text form.
    pub serial: SerialHex,
    /// Profile, serialised in its stored text form.
    pub profile: CertProfile,
    /// The facility's ID, if the certificate has one.
    pub facility_id: Option<String>,
    /// Subject (RFC 4514).
    pub subject: String,
    /// notAfter (Unix seconds).
    pub not_after: i64,
}

/// A CA name serialised in its stored text form (`as_str()`, which `Display` writes), so JSON output
/// keeps the text the database holds.
fn as_text<T: std::fmt::Display, S: serde::Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}
