//! Whom a TSA entry trusts: the certificates configured as its roots (self-signed roots, or the TSA's issuing
//! CA, or the TSA certificate itself when pinned), each a trust anchor for this TSA only. The token's TSA
//! certificate must be a TSA certificate (RFC 3161 §2.3: extended key usage present, critical, timeStamping
//! alone; keyUsage, when present, digitalSignature or nonRepudiation only) and chain to one of them through the
//! token's other certificates, every certificate on the path valid at genTime, every CA marked cA and allowed
//! to sign certificates ([`hcpki_pkix::path::find`], the validation the login and the verifier use too). Revocation
//! of the TSA certificate is the verifier's business (B-LT gathers it).

use super::StampError;
use hcpki_pkix::path::{self, ParsedCert, PathProblem};
use x509_cert::Certificate;
use x509_cert::ext::pkix::{ExtendedKeyUsage, KeyUsage};

/// The longest path accepted, TSA certificate and anchor counted.
const MAX_PATH: usize = 6;

/// The trust anchors of one TSA entry.
#[derive(Clone, Debug)]
pub struct TsaTrust {
    anchors: Vec<((), ParsedCert)>,
}

/// Why configured roots cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    /// No certificate was given.
    #[error("no root certificate: give the TSA's root (PEM or DER) in roots")]
    Empty,
    /// A given certificate does not decode.
    #[error("a root is not a DER X.509 certificate ({0}): give PEM or DER certificates")]
    NotCertificate(der::Error),
}

impl TsaTrust {
    /// Anchors from DER certificates.
    pub fn new(certificates: &[Vec<u8>]) -> Result<Self, TrustError> {
        if certificates.is_empty() {
            return Err(TrustError::Empty);
        }
        let anchors = certificates
            .iter()
            .map(|der| ParsedCert::from_der(der).map(|c| ((), c)).map_err(TrustError::NotCertificate))
            .collect::<Result<_, _>>()?;
        Ok(Self { anchors })
    }

    /// The anchors' subjects, for messages.
    pub fn subjects(&self) -> Vec<String> {
        self.anchors.iter().map(|(_, c)| c.subject()).collect()
    }

    /// Check `tsa` (the token's signer) is a TSA certificate valid at `at` with a path to an anchor through
    /// `pool` (the token's certificates).
    pub(crate) fn validate(&self, tsa: &Certificate, pool: &[&Certificate], at: i64) -> Result<(), StampError> {
        let subject = tsa.tbs_certificate().subject().to_string();
        tsa_certificate(tsa).map_err(|reason| StampError::NotTsaCertificate { subject: subject.clone(), reason })?;
        let untrusted = |reason: String| StampError::Untrusted { subject: subject.clone(), reason };
        let leaf = ParsedCert::from_cert(tsa).map_err(|e| untrusted(format!("it does not re-encode ({e})")))?;
        let (from, to) = leaf.validity();
        if at < from || at > to {
            return Err(untrusted(format!(
                "{subject} is valid from {} to {}, not at genTime {}",
                hcpki_pkix::time::rfc3339(from),
                hcpki_pkix::time::rfc3339(to),
                hcpki_pkix::time::rfc3339(at)
            )));
        }
        if self.anchors.iter().any(|(_, anchor)| anchor.cert == *tsa) {
            return Ok(());
        }
        // A certificate of the token that does not re-encode cannot be on a path; it is left out.
        let pool: Vec<ParsedCert> = pool.iter().filter_map(|c| ParsedCert::from_cert(c).ok()).collect();
        let pool: Vec<&ParsedCert> = pool.iter().collect();
        match path::find(&leaf, &pool, &self.anchors, at, MAX_PATH) {
            Ok(_) => Ok(()),
            Err(PathProblem::NoIssuer { issuer }) => Err(untrusted(format!(
                "no root configured for it ({}) and no certificate in the token issued it ({issuer})",
                self.subjects().join("; "),
            ))),
            Err(problem) => Err(untrusted(problem.to_string())),
        }
    }
}

/// RFC 3161 §2.3 and the keyUsage OpenSSL's timestampsign purpose allows.
pub(crate) fn tsa_certificate(cert: &Certificate) -> Result<(), String> {
    let tbs = cert.tbs_certificate();
    match tbs.get_extension::<ExtendedKeyUsage>() {
        Ok(Some((true, eku))) if eku.0 == [hcpki_pkix::oid::KP_TIME_STAMPING] => {}
        Ok(Some((false, _))) => return Err("its extended key usage is not critical (RFC 3161 §2.3)".into()),
        Ok(Some(_)) => return Err("its extended key usage is not timeStamping alone (RFC 3161 §2.3)".into()),
        Ok(None) => return Err("it has no extended key usage timeStamping (RFC 3161 §2.3)".into()),
        Err(e) => return Err(format!("its extended key usage does not decode ({e})")),
    }
    match tbs.get_extension::<KeyUsage>() {
        Ok(Some((_, ku))) if ku.digital_signature() || ku.non_repudiation() => Ok(()),
        Ok(Some(_)) => Err("its keyUsage allows neither digitalSignature nor nonRepudiation".into()),
        Ok(None) => Ok(()),
        Err(e) => Err(format!("its keyUsage does not decode ({e})")),
    }
}
