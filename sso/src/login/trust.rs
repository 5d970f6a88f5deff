//! Which card certificates are trusted: the configured HPKI and JPKI anchors (separate sets, so a JPKI chain
//! can never yield an HPKI subject), intermediates from the post or the configuration, and RFC 5280 path
//! validation reduced to what these PKIs use ([`hcpki_pkix::path::find`], shared with the TSA client and the
//! signature verifier): name chaining, signatures, validity at `now`, basicConstraints with pathLen, keyUsage,
//! and refusal of unknown critical extensions. The leaf's own checks (authentication certificate, validity) are in
//! [`super::card`]; revocation in [`super::crl_cache`].

use super::CardLoginError;
use super::card::CardKind;
use der::{Decode, Encode};
use hcpki_pkix::path::{self, PathProblem};
use std::path::{Path, PathBuf};
use x509_cert::Certificate;

/// The longest path accepted (leaf, intermediates, anchor): real HPKI paths have three certificates, JPKI two.
const MAX_PATH: usize = 6;

/// A certificate with the octets its signature covers: [`hcpki_pkix::path`]'s, shared with the TSA client and
/// the signature verifier (re-exported here, where login code has always found it).
pub use hcpki_pkix::path::ParsedCert;

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
    /// intermediates; every CA on it valid at `now`, allowed to sign certificates and within its pathLen
    /// ([`hcpki_pkix::path::find`]).
    pub fn validate<'a>(&'a self, chain: &'a [ParsedCert], now: i64) -> Result<ValidPath<'a>, CardLoginError> {
        let (leaf, posted) =
            chain.split_first().ok_or_else(|| CardLoginError::Malformed { what: "empty certificate chain".into() })?;
        if let Some(oid) = leaf.unknown_critical_extension() {
            return Err(CardLoginError::UntrustedChain {
                detail: format!("the card certificate has an unsupported critical extension {oid}"),
            });
        }
        let pool: Vec<&ParsedCert> = posted.iter().chain(&self.intermediates).collect();
        match path::find(leaf, &pool, &self.anchors, now, MAX_PATH) {
            Ok((kind, certs)) => Ok(ValidPath { kind, certs }),
            Err(PathProblem::NoIssuer { issuer }) => Err(CardLoginError::UntrustedChain {
                detail: format!("no configured anchor or intermediate is its issuer {issuer}"),
            }),
            Err(problem) => Err(CardLoginError::UntrustedChain { detail: problem.to_string() }),
        }
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
