//! Which card certificates are trusted: the configured HPKI and JPKI anchors (separate sets, so a JPKI chain
//! can never yield an HPKI subject), intermediates from the post or the configuration, and RFC 5280 path
//! validation reduced to what these PKIs use: name chaining, signatures (aws-lc-rs through
//! [`hcpki_ca::keys::verify`]), validity at `now`, basicConstraints with pathLen, keyUsage, and refusal of
//! unknown critical extensions. The leaf's own checks (authentication certificate, validity) are in
//! [`super::card`]; revocation in [`super::crl_cache`].

use super::CardLoginError;
use super::card::CardKind;
use der::{Decode, Encode};
use hcpki_ca::asn1::SignedRaw;
use hcpki_ca::keys::verify::verify_signature;
use std::path::{Path, PathBuf};
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};

/// The longest path accepted (leaf, intermediates, anchor): real HPKI paths have three certificates, JPKI two.
const MAX_PATH: usize = 6;

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
        (hcpki_ca::time::unix(&v.not_before), hcpki_ca::time::unix(&v.not_after))
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

/// Configuration-time errors: the operator's anchor files. Each names the file and what to change.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    /// A configured file or directory cannot be read.
    #[error("{path}: {source}: check [login] anchor and intermediate paths")]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A file holds no certificate, or a broken one.
    #[error("{path}: not a PEM or DER certificate ({reason})")]
    NotCertificate {
        /// The file.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
    /// A configured anchor or intermediate is not a CA certificate.
    #[error("{subject} is not a CA certificate (basicConstraints cA is not set): configure CA certificates only")]
    NotCa {
        /// Its subject.
        subject: String,
    },
    /// The same certificate is an HPKI and a JPKI anchor: then a path to it could not say which card it is.
    #[error("{subject} is configured both as an HPKI and as a JPKI anchor: keep it in one set")]
    InBothSets {
        /// Its subject.
        subject: String,
    },
}

/// A validated path: the card kind (from the anchor's set) and the certificates, leaf first, anchor last.
#[derive(Debug)]
pub struct ValidPath<'a> {
    /// HPKI or JPKI, by the set the anchor is in.
    pub kind: CardKind,
    /// Leaf, intermediates, anchor.
    pub certs: Vec<&'a ParsedCert>,
}

/// The configured anchors and intermediates.
#[derive(Debug, Default)]
pub struct TrustAnchors {
    anchors: Vec<(CardKind, ParsedCert)>,
    intermediates: Vec<ParsedCert>,
}

impl TrustAnchors {
    /// Anchors and intermediates from DER.
    pub fn new(hpki: &[Vec<u8>], jpki: &[Vec<u8>], intermediates: &[Vec<u8>]) -> Result<Self, TrustError> {
        let parse = |der: &Vec<u8>| {
            ParsedCert::from_der(der)
                .map_err(|e| TrustError::NotCertificate { path: PathBuf::from("(DER)"), reason: e.to_string() })
        };
        let mut anchors = Vec::new();
        for (kind, set) in [(CardKind::Hpki, hpki), (CardKind::Jpki, jpki)] {
            for der in set {
                anchors.push((kind, parse(der)?));
            }
        }
        for (kind, a) in &anchors {
            if anchors.iter().any(|(k, b)| k != kind && b.der == a.der) {
                return Err(TrustError::InBothSets { subject: a.subject() });
            }
        }
        let intermediates = intermediates.iter().map(parse).collect::<Result<Vec<_>, _>>()?;
        for c in anchors.iter().map(|(_, c)| c).chain(&intermediates) {
            if !c.basic_constraints().ok().flatten().is_some_and(|bc| bc.ca) {
                return Err(TrustError::NotCa { subject: c.subject() });
            }
        }
        Ok(Self { anchors, intermediates })
    }

    /// Anchors and intermediates from files or directories (every `*.pem`, `*.crt`, `*.cer`, `*.der` in them);
    /// a PEM file may hold several certificates.
    pub fn load(hpki: &[PathBuf], jpki: &[PathBuf], intermediates: &[PathBuf]) -> Result<Self, TrustError> {
        Self::new(&read_all(hpki)?, &read_all(jpki)?, &read_all(intermediates)?)
    }

    /// Whether no anchor is configured (card login is then off).
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// Every configured CA certificate: anchors and intermediates (the CRL cache's possible CRL issuers).
    pub fn ca_certificates(&self) -> impl Iterator<Item = &ParsedCert> {
        self.anchors.iter().map(|(_, c)| c).chain(&self.intermediates)
    }

    /// A path from `chain[0]` (the card's certificate) to an anchor, using `chain[1..]` and the configured
    /// intermediates; every CA on it valid at `now`, allowed to sign certificates and within its pathLen.
    pub fn validate<'a>(&'a self, chain: &'a [ParsedCert], now: i64) -> Result<ValidPath<'a>, CardLoginError> {
        let (leaf, posted) =
            chain.split_first().ok_or_else(|| CardLoginError::Malformed { what: "empty certificate chain".into() })?;
        if let Some(oid) = leaf.unknown_critical_extension() {
            return Err(CardLoginError::UntrustedChain {
                detail: format!("the card certificate has an unsupported critical extension {oid}"),
            });
        }
        let pool: Vec<&ParsedCert> = posted.iter().chain(&self.intermediates).collect();
        let mut path = vec![leaf];
        let mut why = Vec::new();
        match self.extend(&mut path, &pool, now, &mut why) {
            Some(kind) => Ok(ValidPath { kind, certs: path }),
            None => Err(CardLoginError::UntrustedChain {
                detail: why.into_iter().next().unwrap_or_else(|| {
                    format!(
                        "no configured anchor or intermediate is its issuer {}",
                        leaf.cert.tbs_certificate().issuer()
                    )
                }),
            }),
        }
    }

    /// Depth-first: extend `path` (whose last element needs an issuer) to an anchor. Anchors are tried first at
    /// every step, so a posted copy of a root is never needed. `why` collects the reasons candidates failed.
    fn extend<'a>(
        &'a self,
        path: &mut Vec<&'a ParsedCert>,
        pool: &[&'a ParsedCert],
        now: i64,
        why: &mut Vec<String>,
    ) -> Option<CardKind> {
        let cur = *path.last()?;
        // CA certificates strictly between the leaf and the candidate issuer.
        let below = path.len() - 1;
        for (kind, anchor) in self.anchors.iter().filter(|(_, a)| a.subject_der == cur.issuer_der) {
            match ca_check(anchor, cur, below, now) {
                Ok(()) => {
                    path.push(anchor);
                    return Some(*kind);
                }
                Err(e) => why.push(e),
            }
        }
        if path.len() >= MAX_PATH - 1 {
            why.push(format!("the path is longer than {MAX_PATH} certificates"));
            return None;
        }
        for cand in pool.iter().copied().filter(|c| c.subject_der == cur.issuer_der) {
            if path.iter().any(|p| p.der == cand.der) {
                continue;
            }
            if let Some(oid) = cand.unknown_critical_extension() {
                why.push(format!("CA {} has an unsupported critical extension {oid}", cand.subject()));
                continue;
            }
            match ca_check(cand, cur, below, now) {
                Ok(()) => {
                    path.push(cand);
                    if let Some(kind) = self.extend(path, pool, now, why) {
                        return Some(kind);
                    }
                    path.pop();
                }
                Err(e) => why.push(e),
            }
        }
        None
    }
}

/// May `ca` have issued `child` at `now`, with `below` CA certificates under it on the path?
fn ca_check(ca: &ParsedCert, child: &ParsedCert, below: usize, now: i64) -> Result<(), String> {
    let name = ca.subject();
    if !child.issued_by(ca) {
        return Err(format!("the signature of {} does not verify with the key of {name}", child.subject()));
    }
    let (not_before, not_after) = ca.validity();
    if now < not_before || now > not_after {
        return Err(format!(
            "CA {name} is valid only from {} to {}",
            hcpki_ca::time::rfc3339(not_before),
            hcpki_ca::time::rfc3339(not_after)
        ));
    }
    let bc = ca.basic_constraints().map_err(|e| format!("CA {name}: bad basicConstraints ({e})"))?;
    match bc {
        Some(bc) if bc.ca => {
            if let Some(len) = bc.path_len_constraint
                && below > usize::from(len)
            {
                return Err(format!("CA {name} allows {len} CA certificates below it, the path has {below}"));
            }
        }
        _ => return Err(format!("{name} is not a CA certificate")),
    }
    match ca.key_usage().map_err(|e| format!("CA {name}: bad keyUsage ({e})"))? {
        Some(ku) if !ku.key_cert_sign() => Err(format!("CA {name} is not allowed to sign certificates (keyUsage)")),
        _ => Ok(()),
    }
}

fn read_all(paths: &[PathBuf]) -> Result<Vec<Vec<u8>>, TrustError> {
    let mut out = Vec::new();
    for path in paths {
        let io = |source| TrustError::Io { path: path.clone(), source };
        if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(io)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension().and_then(|e| e.to_str()).is_some_and(|e| ["pem", "crt", "cer", "der"].contains(&e))
                })
                .collect();
            files.sort();
            for file in files {
                out.extend(read_certificates(&file)?);
            }
        } else {
            out.extend(read_certificates(path)?);
        }
    }
    Ok(out)
}

/// The certificates in one file: PEM (one or more) or a single DER certificate.
pub fn read_certificates(path: &Path) -> Result<Vec<Vec<u8>>, TrustError> {
    let bytes = std::fs::read(path).map_err(|source| TrustError::Io { path: path.to_owned(), source })?;
    let bad = |reason: String| TrustError::NotCertificate { path: path.to_owned(), reason };
    if bytes.starts_with(b"-----") || bytes.iter().take(64).all(|b| b.is_ascii()) {
        let certs = Certificate::load_pem_chain(&bytes).map_err(|e| bad(e.to_string()))?;
        if certs.is_empty() {
            return Err(bad("no CERTIFICATE block".into()));
        }
        return certs.iter().map(|c| c.to_der().map_err(|e| bad(e.to_string()))).collect();
    }
    Certificate::from_der(&bytes).map_err(|e| bad(e.to_string()))?;
    Ok(vec![bytes])
}
