//! Checking the document's SignerInfo (RFC 5652 §5.4, §5.6) — the check time-stamp tokens share,
//! [`crate::timestamp::signature::check`] — with the signing-certificate binding of RFC 5035.

use super::error::CadesError;
use crate::timestamp::signature::{SignerInfoFault, check};
use const_oid::db::rfc5911::ID_DATA;
use der::Encode;
use hcpki_pkix::asn1::signed_data::ReceivedSignedData;
use hcpki_pkix::keys::verify::VerifyError;
use x509_cert::Certificate;

/// Check the one SignerInfo of `signed` over `content` (the document): the signature over the signed attributes —
/// their octets as in the file, which the reader took only in DER — with the signer certificate's key, the
/// contentType attribute id-data, messageDigest against `content`, and signingCertificateV2 naming that
/// certificate. Returns the signer certificate.
pub(super) fn verify_signer_info(signed: &ReceivedSignedData, content: &[u8]) -> Result<Certificate, CadesError> {
    const WHAT: &str = "signature";
    let info = signed.signer_info();
    let certificate = signed.signer_certificate().ok_or(CadesError::SignerCertificateMissing(WHAT))?;
    let message = signed.signed_attributes_der();
    let (attributes, _) = check(info, &message, content, ID_DATA, &certificate).map_err(|fault| match fault {
        SignerInfoFault::Digest(refusal) => CadesError::Algorithm(refusal),
        SignerInfoFault::NoSignedAttributes => CadesError::Attribute { name: "signedAttrs", problem: "missing".into() },
        SignerInfoFault::Signature(VerifyError::BadSignature) => CadesError::BadSignature(WHAT),
        SignerInfoFault::Signature(other) => CadesError::Algorithm(format!("the {WHAT}: {other}")),
        SignerInfoFault::Attribute { name, problem } => CadesError::Attribute { name, problem: problem.to_string() },
        SignerInfoFault::ContentType { found, expected } => CadesError::ContentType {
            what: "contentType attribute",
            found: found.to_string(),
            expected: expected.to_string(),
        },
        SignerInfoFault::MessageDigest => CadesError::ContentMismatch,
    })?;
    // The first ESSCertID(v2) is the signer's (RFC 5035 §3): it binds by hash and, when present, issuer and serial.
    // Read as the TSA client reads it (every OPTIONAL and DEFAULT of the ASN.1, v1 with SHA-1 for time stamps of
    // OpenSSL-based TSAs, v2 with an explicit hashAlgorithm): an exact comparison with the form hcpki writes
    // refused tokens of TSAs the client had accepted.
    let der = certificate.to_der().map_err(CadesError::encoding("signer certificate"))?;
    crate::timestamp::binding::check(attributes, &certificate, &der)
        .map_err(|_| CadesError::SigningCertificateMismatch(WHAT))?;
    Ok(certificate)
}
