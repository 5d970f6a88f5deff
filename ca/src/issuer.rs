//! The signing core: a linted TBS in, one signature out.
//!
//! ```text
//!  Template ──prepare──▶ LintedTbs ──(caller records serial + intent)──▶ sign ──▶ Issued
//!                 │ encode TBS, decode it back, run every lint
//! ```
//! [`LintedTbs`] is not `Clone` and [`LintedTbs::sign`] consumes it: a TBS is
//! signed at most once, and only after it passed the lints. This module sees
//! keys only through [`KeySource`] and knows nothing of HTTP or storage.

use crate::facility::FacilityId;
use crate::lint::{self, Finding, LintFailure};
use crate::profile::{CertClass, Template};
use crate::serial::Serial;
use der::asn1::BitString;
use der::{Any, Decode, Encode};
use hcpki_pkix::asn1::{SignedRaw, TbsCertificateFields};
use hcpki_pkix::keys::{KeyError, KeySource, verify};
use hcpki_pkix::time::UnixTime;
use sha2::{Digest, Sha256};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;
use x509_cert::certificate::Version;
use x509_cert::name::Name;

/// Who signs: an issuing CA, or the root (also for its own certificate).
#[derive(Debug)]
pub struct Signer<'a> {
    /// CA name (`root`, `router`, …).
    pub ca_name: &'a str,
    /// The issuer DN written into the certificate.
    pub issuer: &'a Name,
    /// The issuer's public key (for AKI and lints).
    pub issuer_key: &'a SubjectPublicKeyInfoOwned,
    /// The issuer's notAfter (Unix seconds); `None` when self-signing.
    pub issuer_not_after: Option<i64>,
    /// The private key.
    pub key: &'a dyn KeySource,
}

/// What goes with a TBS besides the template.
#[derive(Debug)]
pub struct TbsInput<'a> {
    /// The serial (drawn by the caller so it can be recorded).
    pub serial: Serial,
    /// The key being certified.
    pub subject_key: &'a SubjectPublicKeyInfoOwned,
    /// notBefore (X.509 encodes whole seconds: the milliseconds are dropped).
    pub not_before: UnixTime,
    /// The facility, for facility profiles (lints check it is carried).
    pub facility: Option<&'a FacilityId>,
    /// The facility's router DNS name (router lint).
    pub facility_dns: Option<&'a str>,
}

/// A TBS that passed every lint, ready to be signed once.
#[derive(Debug)]
pub struct LintedTbs<'a> {
    signer: &'a Signer<'a>,
    der: Vec<u8>,
    serial: Serial,
    class: CertClass,
    subject: String,
    not_before: i64,
    not_after: i64,
    warnings: Vec<Finding>,
}

/// A signed certificate.
#[derive(Clone, Debug)]
pub struct Issued {
    /// DER.
    pub der: Vec<u8>,
    /// Serial (hex), in its stored form.
    pub serial: hcpki_model::SerialHex,
}

impl Issued {
    /// PEM text.
    pub fn pem(&self) -> String {
        der_to_pem("CERTIFICATE", &self.der)
    }
}

/// PEM-armour DER bytes.
pub fn der_to_pem(label: &str, der: &[u8]) -> String {
    der::pem::encode_string(label, der::pem::LineEnding::LF, der).unwrap_or_default()
}

/// Why a certificate could not be prepared or signed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IssueError {
    /// Encoding failed.
    #[error("cannot encode the certificate: {0}")]
    Encoding(#[from] der::Error),
    /// Lints failed (nothing was signed).
    #[error(transparent)]
    Lint(#[from] LintFailure),
    /// The key refused to sign.
    #[error("the CA key could not sign: {0}")]
    Key(#[from] KeyError),
    /// The signature produced does not verify (hardware fault or wrong key): nothing is released.
    #[error("the CA produced a signature that does not verify ({0}); nothing was released — check the CA key and HSM")]
    SelfCheck(String),
}

impl<'a> Signer<'a> {
    /// Encode the TBS for `template`, decode it back and lint it.
    pub fn prepare(&'a self, template: &Template, input: TbsInput<'_>) -> Result<LintedTbs<'a>, IssueError> {
        let mut validity = hcpki_pkix::time::validity(input.not_before.as_secs(), template.validity_days)?;
        if let Some(limit) = self.issuer_not_after {
            // Never outlive the issuer (RFC 5280 path validation would fail after it).
            if hcpki_pkix::time::unix(&validity.not_after) > limit {
                validity = hcpki_pkix::time::validity_until(input.not_before.as_secs(), limit)?;
            }
        }
        let not_before = hcpki_pkix::time::unix(&validity.not_before);
        let not_after = hcpki_pkix::time::unix(&validity.not_after);
        let fields = TbsCertificateFields {
            version: Version::V3,
            serial_number: input.serial.number().clone(),
            signature: self.key.signature_algorithm(),
            issuer: self.issuer.clone(),
            validity,
            subject: template.subject.clone(),
            subject_public_key_info: input.subject_key.clone(),
            extensions: Some(template.extensions.clone()),
        };
        let der = fields.to_der()?;
        let warnings = lint::lint(
            &der,
            template.class,
            self.issuer_key,
            self.issuer_not_after,
            input.facility,
            input.facility_dns,
        )?;
        Ok(LintedTbs {
            signer: self,
            der,
            serial: input.serial,
            class: template.class,
            subject: template.subject.to_string(),
            not_before,
            not_after,
            warnings,
        })
    }
}

impl LintedTbs<'_> {
    /// Serial (hex).
    pub fn serial(&self) -> &str {
        self.serial.hex()
    }

    /// The serial in its stored form (what the intent records).
    pub fn stored_serial(&self) -> hcpki_model::SerialHex {
        self.serial.stored()
    }

    /// SHA-256 of the TBS octets (hex): the record of intent.
    pub fn tbs_sha256(&self) -> String {
        hex::encode(Sha256::digest(&self.der))
    }

    /// Subject DN (RFC 4514).
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// notBefore/notAfter (Unix seconds).
    pub fn validity(&self) -> (i64, i64) {
        (self.not_before, self.not_after)
    }

    /// Warnings the lints recorded.
    pub fn warnings(&self) -> &[Finding] {
        &self.warnings
    }

    /// What kind of certificate this is.
    pub fn class(&self) -> CertClass {
        self.class
    }

    /// Sign, once. RSA signatures are verified before release: a faulty
    /// RSA-CRT signature would leak the CA key (Lenstra), so it must never leave.
    pub fn sign(self) -> Result<Issued, IssueError> {
        let key = self.signer.key;
        let signature = key.sign(&self.der)?;
        let algorithm = key.signature_algorithm();
        if key.algorithm().rsa_bits().is_some() {
            verify::verify_signature(key.public_key(), &algorithm, &self.der, &signature)
                .map_err(|e| IssueError::SelfCheck(e.to_string()))?;
        }
        let cert = SignedRaw {
            to_be_signed: Any::from_der(&self.der)?,
            signature_algorithm: algorithm,
            signature: BitString::from_bytes(&signature)?,
        };
        let der = cert.to_der()?;
        // The result must parse as a certificate, or it is not released.
        Certificate::from_der(&der).map_err(|e| IssueError::SelfCheck(e.to_string()))?;
        Ok(Issued { der, serial: self.serial.stored() })
    }
}

#[cfg(test)]
mod tests;
