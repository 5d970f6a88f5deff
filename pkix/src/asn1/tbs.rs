//! The to-be-signed part of a certificate, as hcpki writes it.
//!
//! ```text
//! -- RFC 5280 §4.1
//! TBSCertificate  ::=  SEQUENCE  {
//!      version         [0]  EXPLICIT Version DEFAULT v1,
//!      serialNumber         CertificateSerialNumber,
//!      signature            AlgorithmIdentifier,
//!      issuer               Name,
//!      validity             Validity,
//!      subject              Name,
//!      subjectPublicKeyInfo SubjectPublicKeyInfo,
//!      extensions      [3]  EXPLICIT Extensions OPTIONAL }
//! ```
//! x509-cert 0.3 keeps `TbsCertificate`'s fields private and ties its builder
//! to RustCrypto signer types. hcpki signs through [`crate::keys::KeySource`]
//! (aws-lc-rs, PKCS#11), so it encodes this mirror, then decodes the bytes
//! back into `x509_cert::TbsCertificate` for linting: the lints see exactly
//! the bytes that will be signed.

use der::Sequence;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::certificate::Version;
use x509_cert::ext::Extensions;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Validity;

/// Encoder-side mirror of `TBSCertificate` (always v3, no unique IDs).
#[derive(Clone, Debug, Sequence)]
pub struct TbsCertificateFields {
    /// Always [`Version::V3`].
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    pub version: Version,
    /// `serialNumber`.
    pub serial_number: SerialNumber,
    /// `signature`: the issuer's signature algorithm.
    pub signature: AlgorithmIdentifierOwned,
    /// `issuer`.
    pub issuer: Name,
    /// `validity`.
    pub validity: Validity,
    /// `subject`.
    pub subject: Name,
    /// `subjectPublicKeyInfo`.
    pub subject_public_key_info: SubjectPublicKeyInfoOwned,
    /// `extensions`.
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    pub extensions: Option<Extensions>,
}
