//! Whom a TSA entry trusts: the certificates configured as its roots (self-signed roots, or the TSA's issuing
//! CA, or the TSA certificate itself when pinned), each a trust anchor for this TSA only. The token's TSA
//! certificate must be a TSA certificate (RFC 3161 §2.3: extended key usage present, critical, timeStamping
//! alone; keyUsage, when present, digitalSignature or nonRepudiation only) and chain to one of them through the
//! token's other certificates, every certificate on the path valid at genTime, every CA marked cA and allowed
//! to sign certificates. Revocation of the TSA certificate is the verifier's business (B-LT gathers it).

use super::StampError;
use crate::asn1::SignedRaw;
use crate::keys::verify::verify_signature;
use der::{Decode, Encode};
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage};

/// The longest path accepted, TSA certificate to anchor.
const MAX_PATH: usize = 5;

/// The trust anchors of one TSA entry.
#[derive(Clone, Debug)]
pub struct TsaTrust {
    anchors: Vec<Certificate>,
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
            .map(|der| Certificate::from_der(der).map_err(TrustError::NotCertificate))
            .collect::<Result<_, _>>()?;
        Ok(Self { anchors })
    }

    /// The anchors' subjects, for messages.
    pub fn subjects(&self) -> Vec<String> {
        self.anchors.iter().map(|c| c.tbs_certificate().subject().to_string()).collect()
    }

    /// Check `tsa` (the token's signer) is a TSA certificate valid at `at` with a path to an anchor through
    /// `pool` (the token's certificates).
    pub(super) fn validate(&self, tsa: &Certificate, pool: &[&Certificate], at: i64) -> Result<(), StampError> {
        let subject = tsa.tbs_certificate().subject().to_string();
        tsa_certificate(tsa).map_err(|reason| StampError::NotTsaCertificate { subject: subject.clone(), reason })?;
        if let Err(reason) = valid_at(tsa, at) {
            return Err(StampError::Untrusted { subject, reason });
        }
        if self.anchors.iter().any(|anchor| anchor == tsa) {
            return Ok(());
        }
        let mut why = Vec::new();
        if self.extend(&mut vec![tsa], pool, at, &mut why) {
            return Ok(());
        }
        let reason = why.into_iter().next().unwrap_or_else(|| {
            format!(
                "no root configured for it ({}) and no certificate in the token issued it ({})",
                self.subjects().join("; "),
                tsa.tbs_certificate().issuer()
            )
        });
        Err(StampError::Untrusted { subject, reason })
    }

    /// Depth-first from the path's last certificate to an anchor; anchors first at every step.
    fn extend<'a>(
        &'a self,
        path: &mut Vec<&'a Certificate>,
        pool: &[&'a Certificate],
        at: i64,
        why: &mut Vec<String>,
    ) -> bool {
        let Some(current) = path.last().copied() else { return false };
        let issuer = current.tbs_certificate().issuer();
        for anchor in self.anchors.iter().filter(|a| a.tbs_certificate().subject() == issuer) {
            match may_issue(anchor, current, at) {
                Ok(()) => return true,
                Err(e) => why.push(e),
            }
        }
        if path.len() >= MAX_PATH {
            why.push(format!("the path is longer than {MAX_PATH} certificates"));
            return false;
        }
        for candidate in pool.iter().copied().filter(|c| c.tbs_certificate().subject() == issuer) {
            if path.contains(&candidate) {
                continue;
            }
            match may_issue(candidate, current, at) {
                Ok(()) => {
                    path.push(candidate);
                    if self.extend(path, pool, at, why) {
                        return true;
                    }
                    path.pop();
                }
                Err(e) => why.push(e),
            }
        }
        false
    }
}

/// RFC 3161 §2.3 and the keyUsage OpenSSL's timestampsign purpose allows.
fn tsa_certificate(cert: &Certificate) -> Result<(), String> {
    let tbs = cert.tbs_certificate();
    match tbs.get_extension::<ExtendedKeyUsage>() {
        Ok(Some((true, eku))) if eku.0 == [crate::oid::KP_TIME_STAMPING] => {}
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

fn valid_at(cert: &Certificate, at: i64) -> Result<(), String> {
    let validity = cert.tbs_certificate().validity();
    let (from, to) = (crate::time::unix(&validity.not_before), crate::time::unix(&validity.not_after));
    if at < from || at > to {
        return Err(format!(
            "{} is valid from {} to {}, not at genTime {}",
            cert.tbs_certificate().subject(),
            crate::time::rfc3339(from),
            crate::time::rfc3339(to),
            crate::time::rfc3339(at)
        ));
    }
    Ok(())
}

/// May `ca` have issued `child`, as seen at `at`?
fn may_issue(ca: &Certificate, child: &Certificate, at: i64) -> Result<(), String> {
    let name = ca.tbs_certificate().subject().to_string();
    let signed = child.to_der().ok().and_then(|der| SignedRaw::from_der(&der).ok());
    let verifies = signed.is_some_and(|s| {
        s.tbs_der().is_ok_and(|tbs| {
            let spki = ca.tbs_certificate().subject_public_key_info();
            verify_signature(spki, &s.signature_algorithm, &tbs, s.signature.raw_bytes()).is_ok()
        })
    });
    if !verifies {
        return Err(format!(
            "the signature of {} does not verify with the key of {name}",
            child.tbs_certificate().subject()
        ));
    }
    valid_at(ca, at)?;
    match ca.tbs_certificate().get_extension::<BasicConstraints>() {
        Ok(Some((_, bc))) if bc.ca => {}
        _ => return Err(format!("{name} is not a CA certificate")),
    }
    match ca.tbs_certificate().get_extension::<KeyUsage>() {
        Ok(Some((_, ku))) if !ku.key_cert_sign() => Err(format!("CA {name} may not sign certificates (keyUsage)")),
        _ => Ok(()),
    }
}
