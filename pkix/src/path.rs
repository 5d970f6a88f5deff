//! Certification path validation (RFC 5280 §6) reduced to what the PKIs hcpki relies on use, shared by every
//! relying party in hcpki: the card login (HPKI/JPKI anchors), the TSA client (per-TSA roots) and the signature
//! verifier (signing anchors and TSA anchors). Name chaining, signatures over the exact to-be-signed octets
//! (aws-lc-rs through [`crate::keys::verify`]), every CA valid at the time asked, basicConstraints cA with
//! pathLen, keyUsage keyCertSign, and refusal of unknown critical extensions. The leaf's own checks (its
//! validity, its purpose) and revocation belong to each caller: they differ (a login is judged now, a signature
//! at its time stamp's time).
//!
//! Anchors are tagged with a value of the caller's choosing (the login's card kind; nothing for a TSA), which the
//! path found returns: the anchor set, never the certificate's content, says what the path means.

use crate::asn1::SignedRaw;
use crate::keys::verify::verify_signature;
use der::{Decode, Encode};
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};

/// Extensions this validator understands; any other marked critical makes the certificate unusable (RFC 5280
/// §4.2). basicConstraints, keyUsage, certificatePolicies (critical in HPKI), subjectAltName,
/// subjectDirectoryAttributes, CRL distribution points, authority/subject key identifiers, extendedKeyUsage.
const UNDERSTOOD: [&str; 9] = [
    "2.5.29.19",
    "2.5.29.15",
    "2.5.29.32",
    "2.5.29.17",
    "2.5.29.9",
    "2.5.29.31",
    "2.5.29.35",
    "2.5.29.14",
    "2.5.29.37",
];

/// A certificate with the exact octets its signature covers and its names as DER, for chaining.
#[derive(Clone, Debug)]
pub struct ParsedCert {
    /// The decoded certificate.
    pub cert: Certificate,
    /// As received.
    pub der: Vec<u8>,
    signed: SignedRaw,
    subject_der: Vec<u8>,
    issuer_der: Vec<u8>,
}

impl ParsedCert {
    /// Parse one DER certificate.
    pub fn from_der(der: &[u8]) -> Result<Self, der::Error> {
        let cert = Certificate::from_der(der)?;
        let signed = SignedRaw::from_der(der)?;
        let subject_der = cert.tbs_certificate().subject().to_der()?;
        let issuer_der = cert.tbs_certificate().issuer().to_der()?;
        Ok(Self { cert, der: der.to_vec(), signed, subject_der, issuer_der })
    }

    /// A decoded certificate (re-encoded: x509-cert keeps DER as it was read, so these are its octets).
    pub fn from_cert(cert: &Certificate) -> Result<Self, der::Error> {
        Self::from_der(&cert.to_der()?)
    }

    /// The subject, RFC 4514, for messages.
    pub fn subject(&self) -> String {
        self.cert.tbs_certificate().subject().to_string()
    }

    /// The subject name as DER (the key CRLs and children name it by).
    pub fn subject_der(&self) -> &[u8] {
        &self.subject_der
    }

    /// The issuer name as DER.
    pub fn issuer_der(&self) -> &[u8] {
        &self.issuer_der
    }

    /// notBefore and notAfter, Unix seconds.
    pub fn validity(&self) -> (i64, i64) {
        let v = self.cert.tbs_certificate().validity();
        (crate::time::unix(&v.not_before), crate::time::unix(&v.not_after))
    }

    /// Whether `issuer`'s key verifies this certificate's signature.
    pub fn issued_by(&self, issuer: &ParsedCert) -> bool {
        issuer.key_verifies(&self.signed)
    }

    /// Whether this certificate's key verifies `signed` (a certificate's or a CRL's signature), over the exact
    /// to-be-signed octets received.
    pub fn key_verifies(&self, signed: &SignedRaw) -> bool {
        let spki = self.cert.tbs_certificate().subject_public_key_info();
        signed.tbs_der().is_ok_and(|tbs| {
            verify_signature(spki, &signed.signature_algorithm, &tbs, signed.signature.raw_bytes()).is_ok()
        })
    }

    /// keyUsage, if the certificate has the extension.
    pub fn key_usage(&self) -> Result<Option<KeyUsage>, der::Error> {
        Ok(self.cert.tbs_certificate().get_extension::<KeyUsage>()?.map(|(_, ku)| ku))
    }

    /// basicConstraints, if present.
    pub fn basic_constraints(&self) -> Result<Option<BasicConstraints>, der::Error> {
        Ok(self.cert.tbs_certificate().get_extension::<BasicConstraints>()?.map(|(_, bc)| bc))
    }

    /// The first critical extension this validator does not understand.
    pub fn unknown_critical_extension(&self) -> Option<String> {
        self.cert.tbs_certificate().extensions().into_iter().flatten().find_map(|e| {
            let oid = e.extn_id.to_string();
            (e.critical && !UNDERSTOOD.contains(&oid.as_str())).then_some(oid)
        })
    }
}

/// Why no path was found: the first problem met on the way (the most useful one to show).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathProblem {
    /// No anchor and no candidate certificate carries the issuer's name: the chain is incomplete or its root
    /// is not trusted. Callers word this one themselves (what is configured differs).
    #[error("no certificate given or configured is its issuer {issuer}")]
    NoIssuer {
        /// The issuer name the path stopped at (RFC 4514).
        issuer: String,
    },
    /// A certificate with the right name did not sign the child.
    #[error("the signature of {child} does not verify with the key of {ca}")]
    BadSignature {
        /// The child's subject.
        child: String,
        /// The candidate issuer's subject.
        ca: String,
    },
    /// A CA on the path is not valid at the time asked.
    #[error("CA {ca} is valid only from {from} to {to}")]
    CaOutOfValidity {
        /// The CA's subject.
        ca: String,
        /// notBefore, RFC 3339.
        from: String,
        /// notAfter, RFC 3339.
        to: String,
    },
    /// A certificate on the path breaks a constraint: not a CA, pathLen exceeded, keyCertSign missing, an
    /// unknown critical extension, the path too long.
    #[error("{0}")]
    Constraint(String),
}

/// A path from `leaf` to one of `anchors` through `pool` (certificates carried by the message and configured
/// intermediates), every CA on it valid at `at`, allowed to sign certificates and within its pathLen, no
/// certificate with an unknown critical extension, at most `max_len` certificates (leaf and anchor counted).
/// Anchors are tried first at every step, so a carried copy of a root is never needed. Returns the anchor's
/// tag and the path, leaf first, anchor last.
pub fn find<'a, T: Copy>(
    leaf: &'a ParsedCert,
    pool: &[&'a ParsedCert],
    anchors: &'a [(T, ParsedCert)],
    at: i64,
    max_len: usize,
) -> Result<(T, Vec<&'a ParsedCert>), PathProblem> {
    if let Some(oid) = leaf.unknown_critical_extension() {
        return Err(PathProblem::Constraint(format!(
            "the certificate {} has an unsupported critical extension {oid}",
            leaf.subject()
        )));
    }
    let mut path = vec![leaf];
    let mut why = Vec::new();
    match extend(&mut path, pool, anchors, at, max_len, &mut why) {
        Some(tag) => Ok((tag, path)),
        None => Err(why
            .into_iter()
            .next()
            .unwrap_or_else(|| PathProblem::NoIssuer { issuer: leaf.cert.tbs_certificate().issuer().to_string() })),
    }
}

/// Depth-first: extend `path` (whose last element needs an issuer) to an anchor. `why` collects the reasons
/// candidates failed.
fn extend<'a, T: Copy>(
    path: &mut Vec<&'a ParsedCert>,
    pool: &[&'a ParsedCert],
    anchors: &'a [(T, ParsedCert)],
    at: i64,
    max_len: usize,
    why: &mut Vec<PathProblem>,
) -> Option<T> {
    let cur = *path.last()?;
    // CA certificates strictly between the leaf and the candidate issuer.
    let below = path.len() - 1;
    for (tag, anchor) in anchors.iter().filter(|(_, a)| a.subject_der == cur.issuer_der) {
        match ca_check(anchor, cur, below, at) {
            Ok(()) => {
                path.push(anchor);
                return Some(*tag);
            }
            Err(e) => why.push(e),
        }
    }
    if path.len() >= max_len.saturating_sub(1) {
        why.push(PathProblem::Constraint(format!("the path is longer than {max_len} certificates")));
        return None;
    }
    for cand in pool.iter().copied().filter(|c| c.subject_der == cur.issuer_der) {
        if path.iter().any(|p| p.der == cand.der) {
            continue;
        }
        if let Some(oid) = cand.unknown_critical_extension() {
            why.push(PathProblem::Constraint(format!(
                "CA {} has an unsupported critical extension {oid}",
                cand.subject()
            )));
            continue;
        }
        match ca_check(cand, cur, below, at) {
            Ok(()) => {
                path.push(cand);
                if let Some(tag) = extend(path, pool, anchors, at, max_len, why) {
                    return Some(tag);
                }
                path.pop();
            }
            Err(e) => why.push(e),
        }
    }
    None
}

/// May `ca` have issued `child` at `at`, with `below` CA certificates under it on the path?
fn ca_check(ca: &ParsedCert, child: &ParsedCert, below: usize, at: i64) -> Result<(), PathProblem> {
    let name = ca.subject();
    if !child.issued_by(ca) {
        return Err(PathProblem::BadSignature { child: child.subject(), ca: name });
    }
    let (not_before, not_after) = ca.validity();
    if at < not_before || at > not_after {
        return Err(PathProblem::CaOutOfValidity {
            ca: name,
            from: crate::time::rfc3339(not_before),
            to: crate::time::rfc3339(not_after),
        });
    }
    let constraint = |text: String| PathProblem::Constraint(text);
    let bc = ca.basic_constraints().map_err(|e| constraint(format!("CA {name}: bad basicConstraints ({e})")))?;
    match bc {
        Some(bc) if bc.ca => {
            if let Some(len) = bc.path_len_constraint
                && below > usize::from(len)
            {
                return Err(constraint(format!(
                    "CA {name} allows {len} CA certificates below it, the path has {below}"
                )));
            }
        }
        _ => return Err(constraint(format!("{name} is not a CA certificate"))),
    }
    match ca.key_usage().map_err(|e| constraint(format!("CA {name}: bad keyUsage ({e})")))? {
        Some(ku) if !ku.key_cert_sign() => {
            Err(constraint(format!("CA {name} is not allowed to sign certificates (keyUsage)")))
        }
        _ => Ok(()),
    }
}
