//! Pre-signing lints: every certificate is checked before its one signature.
//!
//! The lints decode the exact TBS octets that will be signed (not the
//! template that produced them), so an encoder bug cannot slip through.
//! Each rule has a stable ID (`e_` blocks issuance, `w_` is recorded), the
//! standard it comes from, and a one-line description; `hcpki lint rules`
//! and docs/profiles.md list them. Boulder runs zlint the same way; zlint is
//! not available here, so hcpki carries its own rules and CI additionally
//! runs pkilint on the result.

mod rule;
mod rules;

pub use rule::{Level, Rule, Subject};
pub use rules::RULES;

use crate::facility::FacilityId;
use crate::profile::CertClass;
use der::Decode;
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::TbsCertificate;

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
