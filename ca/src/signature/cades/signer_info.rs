//! Checking one SignerInfo (RFC 5652 §5.4, §5.6) with the signing-certificate binding of RFC 5035: the same
//! steps for the document's signature and for the TSA's token inside it.

use super::attributes::single;
use super::error::CadesError;
use crate::keys::verify::{VerifyError, verify_signature};
use crate::timestamp::HashAlgorithm;
use cms::cert::CertificateChoices;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5911::{ID_CONTENT_TYPE, ID_MESSAGE_DIGEST};
use const_oid::db::rfc5912::{
    RSA_ENCRYPTION, SHA_256_WITH_RSA_ENCRYPTION, SHA_384_WITH_RSA_ENCRYPTION, SHA_512_WITH_RSA_ENCRYPTION,
};
use der::Encode;
use der::asn1::OctetString;
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectKeyIdentifier;

/// What is checked, and what errors call it.
#[derive(Debug)]
pub(super) struct Expected {
    /// `signature` or `time-stamp token`.
    pub(super) what: &'static str,
    /// The contentType attribute required (id-data, id-ct-TSTInfo).
    pub(super) content_type: ObjectIdentifier,
}

/// Check `info` of `signed` over `content`: the signature over the signed attributes with the signer
/// certificate's key, the contentType attribute, messageDigest against `content`, and signingCertificateV2
/// naming that certificate. Returns the signer certificate.
pub(super) fn verify_signer_info(
    signed: &SignedData,
    info: &SignerInfo,
    content: &[u8],
    expected: &Expected,
) -> Result<Certificate, CadesError> {
    let what = expected.what;
    let hash = HashAlgorithm::of(&info.digest_alg).map_err(|refusal| CadesError::Algorithm(refusal.to_string()))?;
    let attributes = info
        .signed_attrs
        .as_ref()
        .ok_or_else(|| CadesError::Attribute { name: "signedAttrs", problem: "missing".into() })?;
    let certificate = signer_certificate(signed, &info.sid).ok_or(CadesError::SignerCertificateMissing(what))?;
    // The decoder keeps DER only (parsed::signed_data), so these are the bytes that were signed.
    let message = attributes.to_der().map_err(CadesError::encoding("signed attributes"))?;
    let spki = certificate.tbs_certificate().subject_public_key_info();
    verify_signature(spki, &signature_algorithm(info, hash), &message, info.signature.as_bytes()).map_err(
        |e| match e {
            VerifyError::BadSignature => CadesError::BadSignature(what),
            other => CadesError::Algorithm(format!("the {what}: {other}")),
        },
    )?;
    let content_type: ObjectIdentifier = single(attributes, ID_CONTENT_TYPE, "contentType")?;
    if content_type != expected.content_type {
        return Err(CadesError::ContentType {
            what: "contentType attribute",
            found: content_type.to_string(),
            expected: expected.content_type.to_string(),
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
        .map_err(|_| CadesError::SigningCertificateMismatch(what))?;
    Ok(certificate)
}

/// The certificate `sid` names, among those `signed` carries.
pub(super) fn signer_certificate(signed: &SignedData, sid: &SignerIdentifier) -> Option<Certificate> {
    signed.certificates.as_ref()?.0.iter().find_map(|choice| match choice {
        CertificateChoices::Certificate(c) if names(sid, c) => Some(c.clone()),
        _ => None,
    })
}

fn names(sid: &SignerIdentifier, certificate: &Certificate) -> bool {
    let tbs = certificate.tbs_certificate();
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(id) => {
            id.issuer == *tbs.issuer() && id.serial_number == *tbs.serial_number()
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            matches!(tbs.get_extension::<SubjectKeyIdentifier>(), Ok(Some((_, own))) if own == *ski)
        }
    }
}

/// The signature algorithm to verify with: as written, except that CMS allows plain rsaEncryption with the
/// digest named in digestAlgorithm (RFC 3370 §3.2), which OpenSSL writes.
fn signature_algorithm(info: &SignerInfo, hash: HashAlgorithm) -> AlgorithmIdentifierOwned {
    if info.signature_algorithm.oid != RSA_ENCRYPTION {
        return info.signature_algorithm.clone();
    }
    let oid = match hash {
        HashAlgorithm::Sha256 => SHA_256_WITH_RSA_ENCRYPTION,
        HashAlgorithm::Sha384 => SHA_384_WITH_RSA_ENCRYPTION,
        HashAlgorithm::Sha512 => SHA_512_WITH_RSA_ENCRYPTION,
    };
    AlgorithmIdentifierOwned { oid, parameters: info.signature_algorithm.parameters.clone() }
}
