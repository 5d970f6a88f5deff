//! Certificate profiles: templates that decide names and extensions, and nothing else.
//!
//! Each profile is a [`ProfileSpec`] (data: key usage, EKU, validity, accepted keys,
//! which revocation pointers) plus a name rule (its module) that turns a
//! [`NameRequest`] into a subject and SANs or says why not. [`template`] then
//! assembles the extensions in one place for every profile. Signing is
//! elsewhere ([`crate::issuer`]). Profiles never copy anything from a CSR but
//! its public key. See docs/profiles.md for each profile with a DER dump.

pub mod ca;
mod dn;
mod extensions;
pub mod ocsp;
pub mod operator;
pub mod pc;
pub mod router;
pub mod scep_ra;
pub mod server;

pub use dn::DnBuilder;
pub use extensions::key_identifier;
pub use router::{RouterEku, Vendor};

use crate::asn1::GeneralNames;
use crate::csr::SubjectKeyType;
use crate::facility::{Allocation, Facility, FacilityId};
use crate::revocation::shard::ShardCount;
use x509_cert::ext::Extensions;
use x509_cert::ext::pkix::KeyUsages;
use x509_cert::name::Name;

pub use hcpki_model::ProfileKind;

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
    fn of(t: SubjectKeyType) -> Self {
        match t {
            SubjectKeyType::Rsa(_) => Self::Rsa,
            SubjectKeyType::P256 => Self::P256,
            SubjectKeyType::P384 => Self::P384,
        }
    }
}

/// Deployment settings profiles read (from `hcpki.toml`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProfileSettings {
    /// `O=` in every subject DN (ASCII keeps router DNs small; RFC 4945 §3.1).
    pub organization: String,
    /// DNS zone under which each facility owns `<facility-id>.<zone>` for router identities.
    pub router_zone: String,
    /// Domain of facility identity URIs in PC certificates: `https://<domain>/facility/<id>/device/<device>`.
    pub identity_domain: String,
    /// Base URL of the plain-HTTP publication point (CRLs, CA certificates, OCSP).
    pub http_base_url: String,
    /// Whether certificates point to the OCSP responder in AIA.
    pub ocsp_in_aia: bool,
    /// Router certificate lifetime (days).
    pub router_days: u32,
    /// PC certificate lifetime (days).
    pub pc_days: u32,
    /// Server certificate lifetime (days).
    pub server_days: u32,
    /// OCSP signer certificate lifetime (days).
    pub ocsp_days: u32,
    /// Default router EKU variant when neither --eku nor --vendor is given.
    pub router_eku: RouterEku,
    /// CRL shards of the PC CA (0 = off, at most 4096): each new PC certificate's CRL distribution point
    /// names the shard its serial falls into (`/crl/pc-<k>.crl`) instead of the complete CRL (D20).
    pub pc_crl_shards: ShardCount,
    /// Seconds by which notBefore of certificates and thisUpdate of CRLs and OCSP answers lie before the
    /// moment of signing (at most [`MAX_BACKDATE_SECS`]): a relying party whose clock runs behind ours by less
    /// must not see a certificate, CRL or OCSP answer from the future (D-number in docs/decisions.md).
    pub backdate_secs: u32,
}

/// The largest [`ProfileSettings::backdate_secs`] honoured: an hour covers any clock a relying party could
/// still trust, and more would let a CRL look older than the revocations on it.
pub const MAX_BACKDATE_SECS: u32 = 3600;

impl Default for ProfileSettings {
    fn default() -> Self {
        Self {
            organization: "hcpki".into(),
            router_zone: "router.hcpki.example".into(),
            identity_domain: "hcpki.example".into(),
            http_base_url: "http://127.0.0.1:8080".into(),
            ocsp_in_aia: true,
            router_days: 730,
            pc_days: 397,
            server_days: 397,
            ocsp_days: 30,
            router_eku: RouterEku::None,
            pc_crl_shards: ShardCount::OFF,
            backdate_secs: 300,
        }
    }
}

impl ProfileSettings {
    /// [`ProfileSettings::backdate_secs`], capped at [`MAX_BACKDATE_SECS`].
    pub fn backdate(&self) -> i64 {
        i64::from(self.backdate_secs.min(MAX_BACKDATE_SECS))
    }

    /// The spec of a profile under these settings.
    pub fn spec(&self, kind: ProfileKind, router_eku: Option<RouterEku>) -> ProfileSpec {
        match kind {
            ProfileKind::Router => router::spec(self, router_eku.unwrap_or(self.router_eku)),
            ProfileKind::Pc => pc::spec(self),
            ProfileKind::Server => server::spec(self),
            ProfileKind::Ocsp => ocsp::spec(self),
            ProfileKind::ScepRa => scep_ra::spec(self),
            ProfileKind::Operator => operator::spec(self),
        }
    }

    /// The DNS name a facility owns for router identities.
    pub fn router_dns_name(&self, id: &FacilityId) -> String {
        format!("{}.{}", id.dns_label(), self.router_zone.trim_end_matches('.').to_ascii_lowercase())
    }

    /// CRL distribution point URL of a CRL by its name: a CA's complete CRL (`pc`) or one of its shards
    /// (`pc-17`, [`CrlScope::name`]).
    ///
    /// [`CrlScope::name`]: crate::revocation::shard::CrlScope::name
    pub fn crl_url(&self, name: &str) -> String {
        format!("{}/crl/{name}.crl", self.http_base_url.trim_end_matches('/'))
    }

    /// caIssuers URL of a CA's certificate (DER).
    pub fn ca_cert_url(&self, ca: &str) -> String {
        format!("{}/ca/{ca}.crt", self.http_base_url.trim_end_matches('/'))
    }

    /// OCSP responder URL for a CA's certificates.
    pub fn ocsp_url(&self, ca: &str) -> String {
        format!("{}/ocsp/{ca}", self.http_base_url.trim_end_matches('/'))
    }
}

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

/// What the issuer contributes to a certificate.
#[derive(Clone, Debug)]
pub struct IssuerContext<'a> {
    /// The issuing CA's name (`router`, `pc`, …), for URLs.
    pub ca_name: &'a str,
    /// Its subject, which becomes the certificate's issuer.
    pub subject: &'a Name,
    /// Its subject key identifier, which becomes the AKI.
    pub key_id: &'a [u8],
}

/// What a certificate is, for the lints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertClass {
    /// The self-signed root.
    Root,
    /// An issuing CA under the root.
    Issuing,
    /// An end-entity certificate of a profile.
    EndEntity(ProfileKind),
}

/// A profile's output: everything of the TBS but serial, validity start and signature algorithm.
#[derive(Clone, Debug)]
pub struct Template {
    /// What it is.
    pub class: CertClass,
    /// Subject DN.
    pub subject: Name,
    /// Extensions, in a fixed order.
    pub extensions: Extensions,
    /// Lifetime in days.
    pub validity_days: u32,
    /// SANs for display.
    pub sans_display: Vec<String>,
}

impl Template {
    /// Whether the certificate carries cRLDistributionPoints.
    pub fn has_crl_distribution_point(&self) -> bool {
        self.extensions.iter().any(|e| e.extn_id == extensions::CRL_DISTRIBUTION_POINTS)
    }

    /// Point cRLDistributionPoints at `url` (a CRL shard): the shard follows from the serial, which is drawn
    /// after the template is made, once per attempt (D20). A template without the extension is left alone.
    pub fn set_crl_url(&mut self, url: &str) -> Result<(), ProfileError> {
        let cdp = extensions::crl_distribution_point(url)?;
        for e in self.extensions.iter_mut().filter(|e| e.extn_id == cdp.extn_id) {
            *e = cdp.clone();
        }
        Ok(())
    }
}

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

/// Apply `spec`'s name rule to `request`.
pub fn names(spec: &ProfileSpec, settings: &ProfileSettings, request: &NameRequest<'_>) -> Result<Names, ProfileError> {
    let facility = match (spec.facility, request.facility) {
        (FacilityRule::Required, None) => return Err(ProfileError::FacilityRequired(spec.kind)),
        (FacilityRule::Forbidden, Some(_)) => return Err(ProfileError::FacilityForbidden(spec.kind)),
        (_, f) => f,
    };
    match spec.kind {
        ProfileKind::Router => router::names(settings, facility, request),
        ProfileKind::Pc => pc::names(settings, facility, request),
        ProfileKind::Server => server::names(settings, request),
        ProfileKind::Ocsp => ocsp::names(settings, request),
        ProfileKind::ScepRa => scep_ra::names(settings, request),
        ProfileKind::Operator => operator::names(settings, request),
    }
}

/// Check the subject key against the profile.
pub fn check_key(spec: &ProfileSpec, key: SubjectKeyType) -> Result<(), ProfileError> {
    if spec.keys.contains(&KeyClass::of(key)) {
        Ok(())
    } else {
        Err(ProfileError::KeyType { profile: spec.kind, key: key.to_string() })
    }
}

/// Build the full template for an end-entity certificate.
pub fn template(
    spec: &ProfileSpec,
    settings: &ProfileSettings,
    names: Names,
    subject_key: &spki::SubjectPublicKeyInfoOwned,
    issuer: &IssuerContext<'_>,
) -> Result<Template, ProfileError> {
    let mut b = extensions::ExtensionsBuilder::default();
    b.basic_constraints(false, None)?;
    b.key_usage(spec.key_usage)?;
    if !spec.eku.is_empty() {
        b.extended_key_usage(&spec.eku)?;
    }
    b.subject_key_identifier(subject_key)?;
    b.authority_key_identifier(issuer.key_id)?;
    if !names.sans.is_empty() {
        // RFC 5280 §4.2.1.6: critical only when the subject is empty, which hcpki never issues.
        b.subject_alt_name(&names.sans, names.subject.is_empty())?;
    }
    if spec.revocation_pointers {
        b.crl_distribution_point(&settings.crl_url(issuer.ca_name))?;
        let ocsp = settings.ocsp_in_aia.then(|| settings.ocsp_url(issuer.ca_name));
        b.authority_info_access(ocsp.as_deref(), &settings.ca_cert_url(issuer.ca_name))?;
    }
    if spec.ocsp_nocheck {
        b.ocsp_nocheck()?;
    }
    Ok(Template {
        class: CertClass::EndEntity(spec.kind),
        subject: names.subject,
        extensions: b.finish(),
        validity_days: spec.validity_days,
        sans_display: names.display,
    })
}

/// Validate a DNS name for a SAN: lowercase LDH labels, no wildcard, ≤ 253 octets.
pub(crate) fn dns_name(value: &str) -> Result<String, ProfileError> {
    let v = value.trim().trim_end_matches('.').to_ascii_lowercase();
    let bad = |why| ProfileError::BadSan { value: value.to_owned(), why };
    if v.is_empty() || v.len() > 253 {
        return Err(bad("length must be 1–253"));
    }
    if v.contains('*') {
        return Err(bad("wildcards are not allowed (RFC 4945 §5.1.3.6)"));
    }
    for label in v.split('.') {
        let ok_chars = label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if label.is_empty() || label.len() > 63 || !ok_chars || label.starts_with('-') || label.ends_with('-') {
            return Err(bad("each label must be 1–63 letters, digits or inner hyphens"));
        }
    }
    if v.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(bad("looks like a malformed IP address"));
    }
    Ok(v)
}

/// Parse an IP SAN: a single unicast host address, v4 or v6 (never a range or subnet).
pub(crate) fn ip_address(value: &str) -> Option<Result<std::net::IpAddr, ProfileError>> {
    let addr: std::net::IpAddr = value.trim().parse().ok()?;
    let bad = |why| ProfileError::BadSan { value: value.to_owned(), why };
    Some(if addr.is_unspecified() {
        Err(bad("the unspecified address cannot identify a host"))
    } else if addr.is_multicast() || addr == std::net::IpAddr::from([255, 255, 255, 255]) {
        Err(bad("multicast and broadcast addresses cannot identify a host"))
    } else {
        Ok(addr)
    })
}
