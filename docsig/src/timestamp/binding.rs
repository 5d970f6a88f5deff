//! The ESS binding of the token's signature to the TSA certificate (RFC 3161 §2.4.2 requires it; RFC 5816
//! allows the V2 form): signingCertificate (RFC 2634 §5.4, SHA-1 certHash) or signingCertificateV2 (RFC 5035,
//! SHA-2), whose first ESSCertID must hash to the certificate that verified the signature and, when it has an
//! issuerSerial, name that certificate's issuer and serial. Without it a certificate with the same key but other
//! contents (another EKU, a later validity) could be swapped in.
//!
//! The types here are the reading side, with every OPTIONAL and DEFAULT of the ASN.1 (other TSAs write
//! hashAlgorithm and policies); `crate::timestamp::ess` writes this TSA's fixed form.

use super::signature::single;
use crate::timestamp::HashAlgorithm;
use cms::signed_data::SignedAttributes;
use const_oid::db::rfc5911::{ID_AA_SIGNING_CERTIFICATE, ID_AA_SIGNING_CERTIFICATE_V_2};
use der::Sequence;
use der::asn1::OctetString;
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;

/// RFC 2634 §5.4.1: `SigningCertificate ::= SEQUENCE { certs SEQUENCE OF ESSCertID, policies … OPTIONAL }`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct SigningCertificate {
    certs: Vec<EssCertId>,
    #[asn1(optional = "true")]
    policies: Option<der::Any>,
}

/// RFC 2634 §5.4.1: `ESSCertID ::= SEQUENCE { certHash Hash (SHA-1), issuerSerial IssuerSerial OPTIONAL }`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct EssCertId {
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<IssuerSerial>,
}

/// RFC 5035 §3: `SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, policies … OPTIONAL }`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
    #[asn1(optional = "true")]
    policies: Option<der::Any>,
}

/// RFC 5035 §4: `ESSCertIDv2 ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier DEFAULT {id-sha256}, certHash
/// Hash, issuerSerial IssuerSerial OPTIONAL }`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct EssCertIdV2 {
    #[asn1(optional = "true")]
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<IssuerSerial>,
}

/// RFC 5035 §4: `IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber }`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct IssuerSerial {
    issuer: Vec<GeneralName>,
    serial_number: SerialNumber,
}

/// Check the binding of `attributes` to `signer` (whose DER is `der`); why not, in words. Also the CAdES check's
/// for document signatures: one reading of ESS for every place a token or a signature is judged.
pub(crate) fn check(attributes: &SignedAttributes, signer: &Certificate, der: &[u8]) -> Result<(), String> {
    let bad = |why: &str| why.to_owned();
    let (hash, expected, issuer_serial) = if let Some(v2) = single(attributes, ID_AA_SIGNING_CERTIFICATE_V_2) {
        let v2: SigningCertificateV2 = v2.decode_as().map_err(|_| bad("signingCertificateV2 does not decode"))?;
        let first = v2.certs.into_iter().next().ok_or_else(|| bad("signingCertificateV2 names no certificate"))?;
        let hash = match &first.hash_algorithm {
            None => HashAlgorithm::Sha256.digest(der),
            Some(alg) => HashAlgorithm::of(alg).map_err(|e| format!("signingCertificateV2 hash: {e}"))?.digest(der),
        };
        (hash, first.cert_hash, first.issuer_serial)
    } else if let Some(v1) = single(attributes, ID_AA_SIGNING_CERTIFICATE) {
        let v1: SigningCertificate = v1.decode_as().map_err(|_| bad("signingCertificate does not decode"))?;
        let first = v1.certs.into_iter().next().ok_or_else(|| bad("signingCertificate names no certificate"))?;
        let hash = <sha1::Sha1 as sha1::Digest>::digest(der).to_vec();
        (hash, first.cert_hash, first.issuer_serial)
    } else {
        return Err(bad(
            "the token has no signingCertificate or signingCertificateV2 attribute (RFC 3161 §2.4.2 requires one): \
             the TSA is not compliant; do not use it",
        ));
    };
    if expected.as_bytes() != hash.as_slice() {
        return Err(bad("the certificate hash it names is not the hash of the certificate that signed the token"));
    }
    if let Some(named) = issuer_serial {
        let tbs = signer.tbs_certificate();
        let issuer_named =
            named.issuer.iter().any(|n| matches!(n, GeneralName::DirectoryName(dn) if dn == tbs.issuer()));
        if !issuer_named || named.serial_number != *tbs.serial_number() {
            return Err(bad("its issuerSerial names another certificate than the one that signed the token"));
        }
    }
    Ok(())
}
