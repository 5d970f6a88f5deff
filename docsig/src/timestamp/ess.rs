//! The signingCertificateV2 signed attribute (RFC 5035 §3, required in time-stamp tokens by RFC 5816 §2.2.1):
//! binds the token's signature to the TSA certificate by its hash, so a certificate with the same key but other
//! contents cannot be substituted. CAdES signatures (`crate::signature::cades`) carry the same attribute for the
//! signer certificate.

use der::Sequence;
use der::asn1::OctetString;
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;

/// RFC 5035 §3:
///
/// ```text
/// SigningCertificateV2 ::=  SEQUENCE {
///     certs        SEQUENCE OF ESSCertIDv2,
///     policies     SEQUENCE OF PolicyInformation OPTIONAL }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SigningCertificateV2 {
    /// The signer certificate's ID, alone (the TSA's in a token).
    pub certs: Vec<EssCertIdV2>,
}

/// RFC 5035 §4:
///
/// ```text
/// ESSCertIDv2 ::=  SEQUENCE {
///     hashAlgorithm           AlgorithmIdentifier DEFAULT {algorithm id-sha256},
///     certHash                 Hash,
///     issuerSerial             IssuerSerial OPTIONAL }
/// ```
///
/// hashAlgorithm is always SHA-256, the DEFAULT, so DER leaves it out and so does the type.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct EssCertIdV2 {
    /// SHA-256 of the certificate's DER.
    pub cert_hash: OctetString,
    /// Its issuer and serial.
    pub issuer_serial: IssuerSerial,
}

/// RFC 5035 §4:
///
/// ```text
/// IssuerSerial ::= SEQUENCE {
///     issuer                   GeneralNames,
///     serialNumber             CertificateSerialNumber }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct IssuerSerial {
    /// The issuer's DN as a directoryName.
    pub issuer: Vec<GeneralName>,
    /// The certificate's serial.
    pub serial_number: SerialNumber,
}

impl SigningCertificateV2 {
    /// The attribute naming `certificate` (whose DER is `der`).
    pub fn of(certificate: &Certificate, der: &[u8]) -> der::Result<Self> {
        let tbs = certificate.tbs_certificate();
        let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der);
        Ok(Self {
            certs: vec![EssCertIdV2 {
                cert_hash: OctetString::new(hash.as_ref())?,
                issuer_serial: IssuerSerial {
                    issuer: vec![GeneralName::DirectoryName(tbs.issuer().clone())],
                    serial_number: tbs.serial_number().clone(),
                },
            }],
        })
    }
}
