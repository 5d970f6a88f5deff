//! Pre-signing lints: every certificate is checked before its one signature.
//!
//! The lints decode the exact TBS octets that will be signed (not the
//! template that produced them), so an encoder bug cannot slip through.
//! Each rule has a stable ID (`e_` blocks issuance, `w_` is recorded), the
//! standard it comes from, and a one-line description; `hcpki lint rules`
//! and docs/profiles.md list them. Boulder runs zlint the same way; zlint is
//! not available here, so hcpki carries its own rules and CI additionally
//! runs pkilint on the result.

mod rules;

pub use rules::RULES;

use crate::asn1::GeneralNames;
use crate::facility::FacilityId;
use crate::profile::CertClass;
use der::Decode;
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

/// A finding.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// Rule ID.
    pub id: &'static str,
    /// Severity.
    pub level: Level,
    /// What is wrong.
    pub message: String,
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

/// The certificate failed lints.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("certificate failed pre-signing lints (nothing was signed): {}", summary(.0))]
pub struct LintFailure(pub Vec<Finding>);

fn summary(f: &[Finding]) -> String {
    f.iter().map(|f| format!("{}: {}", f.id, f.message)).collect::<Vec<_>>().join("; ")
}

/// Decode the TBS octets and run every rule. Errors fail; warnings are returned.
pub fn lint(
    tbs_der: &[u8],
    class: CertClass,
    issuer_key: &SubjectPublicKeyInfoOwned,
    issuer_not_after: Option<i64>,
    facility: Option<&FacilityId>,
    facility_dns: Option<&str>,
) -> Result<Vec<Finding>, LintFailure> {
    let tbs = TbsCertificate::from_der(tbs_der).map_err(|e| {
        LintFailure(vec![Finding {
            id: "e_der_tbs_decodes",
            level: Level::Error,
            message: format!("the TBS does not decode: {e}"),
        }])
    })?;
    let subject = Subject { tbs: &tbs, class, issuer_key, issuer_not_after, facility, facility_dns };
    let findings: Vec<Finding> = RULES
        .iter()
        .filter_map(|r| (r.check)(&subject).map(|message| Finding { id: r.id, level: r.level, message }))
        .collect();
    if findings.iter().any(|f| f.level == Level::Error) {
        return Err(LintFailure(findings));
    }
    Ok(findings)
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
