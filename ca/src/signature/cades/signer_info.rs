//! Checking the document's SignerInfo (RFC 5652 §5.4, §5.6) with the signing-certificate binding of RFC 5035 (a
//! time-stamp token's is [`crate::timestamp::ReceivedToken::verify`]).

use super::attributes::single;
use super::error::CadesError;
use crate::asn1::signed_data::ReceivedSignedData;
use crate::keys::verify::{VerifyError, verify_signature};
use crate::timestamp::HashAlgorithm;
use crate::timestamp::signature::signature_algorithm;
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5911::{ID_CONTENT_TYPE, ID_DATA, ID_MESSAGE_DIGEST};
use der::Encode;
use der::asn1::OctetString;
use x509_cert::Certificate;

/// Check the one SignerInfo of `signed` over `content` (the document): the signature over the signed attributes —
/// their octets as in the file, which the reader took only in DER — with the signer certificate's key, the
/// contentType attribute id-data, messageDigest against `content`, and signingCertificateV2 naming that
/// certificate. Returns the signer certificate.
pub(super) fn verify_signer_info(signed: &ReceivedSignedData, content: &[u8]) -> Result<Certificate, CadesError> {
    const WHAT: &str = "signature";
    let info = signed.signer_info();
    let hash = HashAlgorithm::of(&info.digest_alg).map_err(|refusal| CadesError::Algorithm(refusal.to_string()))?;
    let attributes = info
        .signed_attrs
        .as_ref()
        .ok_or_else(|| CadesError::Attribute { name: "signedAttrs", problem: "missing".into() })?;
    let certificate = signed.signer_certificate().ok_or(CadesError::SignerCertificateMissing(WHAT))?;
    let message = signed.signed_attributes_der();
    let spki = certificate.tbs_certificate().subject_public_key_info();
    verify_signature(spki, &signature_algorithm(&info.signature_algorithm, hash), &message, info.signature.as_bytes())
        .map_err(|e| match e {
            VerifyError::BadSignature => CadesError::BadSignature(WHAT),
            other => CadesError::Algorithm(format!("the {WHAT}: {other}")),
        })?;
    let content_type: ObjectIdentifier = single(attributes, ID_CONTENT_TYPE, "contentType")?;
    if content_type != ID_DATA {
        return Err(CadesError::ContentType {
            what: "contentType attribute",
            found: content_type.to_string(),
            expected: ID_DATA.to_string(),
        });
    }
    let digest: OctetString = single(attributes, ID_MESSAGE_DIGEST, "messageDigest")?;
    if digest.as_bytes() != hash.digest(content) {
        return Err(CadesError::ContentMismatch);
    }
    // The first ESSCertID(v2) is the signer's (RFC 5035 §3): it binds by hash and, when present, issuer and serial.
    // Read as the TSA client reads it (every OPTIONAL and DEFAULT of the ASN.1, v1 with SHA-1 for time stamps of
    // OpenSSL-based TSAs, v2 with an explicit hashAlgorithm): an exact comparison with the form hcpki writes
    // refused tokens of TSAs the client had accepted.
    let der = certificate.to_der().map_err(CadesError::encoding("signer certificate"))?;
    crate::timestamp::binding::check(attributes, &certificate, &der)
        .map_err(|_| CadesError::SigningCertificateMismatch(WHAT))?;
    Ok(certificate)
}
