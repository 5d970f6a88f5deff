//! A lint rule and what it looks at: below the rule table (`rules`) and the runner (`lint`), which both use it.

use crate::facility::FacilityId;
use crate::profile::CertClass;
use der::Decode;
use hcpki_pkix::asn1::GeneralNames;
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::TbsCertificate;
use x509_cert::ext::Extension;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Blocks issuance.
    Error,
    /// Recorded; does not block.
    Warning,
}

/// One lint rule.
#[derive(Debug)]
pub struct Rule {
    /// Stable ID, e.g. `e_rfc4945_ku_digital_signature`.
    pub id: &'static str,
    /// Where the requirement comes from.
    pub source: &'static str,
    /// What it checks.
    pub description: &'static str,
    /// Severity.
    pub level: Level,
    /// The check: `Some(message)` is a finding.
    pub check: fn(&Subject<'_>) -> Option<String>,
}

/// Everything a rule may look at.
#[derive(Debug)]
pub struct Subject<'a> {
    /// The decoded TBS.
    pub tbs: &'a TbsCertificate,
    /// What it is meant to be.
    pub class: CertClass,
    /// The issuer's public key (the subject's own for the root).
    pub issuer_key: &'a SubjectPublicKeyInfoOwned,
    /// The issuer's notAfter (Unix seconds), None for the root.
    pub issuer_not_after: Option<i64>,
    /// The facility the certificate is for.
    pub facility: Option<&'a FacilityId>,
    /// The router DNS name that facility owns.
    pub facility_dns: Option<&'a str>,
}

impl Subject<'_> {
    /// All extensions.
    pub fn extensions(&self) -> &[Extension] {
        self.tbs.extensions().map(|e| e.as_slice()).unwrap_or(&[])
    }

    /// The extension with this OID, if present.
    pub fn extension(&self, oid: const_oid::ObjectIdentifier) -> Option<&Extension> {
        self.extensions().iter().find(|e| e.extn_id == oid)
    }

    /// Decode an extension's value as `T`; `None` if absent, `Some(Err)` if malformed.
    pub fn decode<T: for<'b> Decode<'b>>(&self, oid: const_oid::ObjectIdentifier) -> Option<Result<T, String>> {
        self.extension(oid).map(|e| T::from_der(e.extn_value.as_bytes()).map_err(|err| err.to_string()))
    }

    /// The SANs, decoded with hcpki's GeneralName (large-arc otherNames allowed).
    pub fn sans(&self) -> Option<Result<GeneralNames, String>> {
        self.decode::<GeneralNames>(const_oid::db::rfc5280::ID_CE_SUBJECT_ALT_NAME)
    }

    /// Whether this is a CA certificate by class.
    pub fn is_ca(&self) -> bool {
        matches!(self.class, CertClass::Root | CertClass::Issuing)
    }
}
