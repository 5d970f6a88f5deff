//! A CMS SignerInfo's signature (RFC 5652 §5.4, §5.6), checked once for time-stamp tokens and signed documents
//! alike: signed attributes present, the signature over their DER — the very octets of the file, never a
//! re-encoding — verifying with the signer certificate's key, then the contentType attribute naming what is
//! signed and messageDigest the digest of the content. Each caller says the fault in its own terms (a token's
//! [`super::TokenError`], a document's `CadesError`).

use super::token_error::TokenError;
use crate::timestamp::HashAlgorithm;
use cms::signed_data::{SignedAttributes, SignerInfo};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc3161::ID_CT_TST_INFO;
use const_oid::db::rfc5911::{ID_CONTENT_TYPE, ID_MESSAGE_DIGEST};
use const_oid::db::rfc5912;
use der::asn1::OctetString;
use der::{Any, Encode};
use hcpki_pkix::keys::verify::{VerifyError, verify_signature};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;

/// What is wrong with a SignerInfo, in the order it is checked.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SignerInfoFault {
    /// The digestAlgorithm is not one hcpki takes.
    #[error("digestAlgorithm: {0}")]
    Digest(String),
    /// No signed attributes (RFC 5652 §5.3 requires them where the content is not id-data alone; we always do).
    #[error("it has no signed attributes (RFC 5652 §5.3 requires them)")]
    NoSignedAttributes,
    /// The signature does not verify, or its algorithm is not one hcpki takes.
    #[error(transparent)]
    Signature(VerifyError),
    /// contentType or messageDigest missing, repeated or not decodable.
    #[error("the {name} attribute is {problem}")]
    Attribute { name: &'static str, problem: AttributeProblem },
    /// The contentType attribute names another content.
    #[error("the contentType attribute says {found}, not {expected}")]
    ContentType { found: ObjectIdentifier, expected: ObjectIdentifier },
    /// messageDigest is not the digest of the content.
    #[error("the messageDigest attribute is not the content's digest")]
    MessageDigest,
}

/// Why an attribute that must appear once with one value cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AttributeProblem {
    #[error("missing")]
    Missing,
    #[error("repeated")]
    Repeated,
    #[error("not decodable ({0})")]
    Undecodable(String),
}

/// Check `info`, whose signed attributes are the DER `signed` (SET OF tag, as in the file), over `content` (the
/// document, or a token's TSTInfo) of type `content_type`, with `signer`'s key. Returns the signed attributes (for
/// the signing-certificate binding and the other attributes) and the digest algorithm.
pub(crate) fn check<'a>(
    info: &'a SignerInfo,
    signed: &[u8],
    content: &[u8],
    content_type: ObjectIdentifier,
    signer: &Certificate,
) -> Result<(&'a SignedAttributes, HashAlgorithm), SignerInfoFault> {
    let digest = HashAlgorithm::of(&info.digest_alg).map_err(|e| SignerInfoFault::Digest(e.to_string()))?;
    let attributes = info.signed_attrs.as_ref().ok_or(SignerInfoFault::NoSignedAttributes)?;
    // The signature first: an attribute changed after signing is a broken signature, whatever it now says.
    let algorithm = signature_algorithm(&info.signature_algorithm, digest);
    let spki = signer.tbs_certificate().subject_public_key_info();
    verify_signature(spki, &algorithm, signed, info.signature.as_bytes()).map_err(SignerInfoFault::Signature)?;
    let named = |name| move |problem| SignerInfoFault::Attribute { name, problem };
    let found: ObjectIdentifier = decode_single(attributes, ID_CONTENT_TYPE).map_err(named("contentType"))?;
    if found != content_type {
        return Err(SignerInfoFault::ContentType { found, expected: content_type });
    }
    let message_digest: OctetString = decode_single(attributes, ID_MESSAGE_DIGEST).map_err(named("messageDigest"))?;
    if message_digest.as_bytes() != digest.digest(content).as_slice() {
        return Err(SignerInfoFault::MessageDigest);
    }
    Ok((attributes, digest))
}

/// A token's SignerInfo over its TSTInfo (`tst_info`, the eContent octets), `signed` its signed attributes' DER.
pub(super) fn verify<'a>(
    info: &'a SignerInfo,
    signed: &[u8],
    tst_info: &[u8],
    signer: &Certificate,
) -> Result<&'a SignedAttributes, TokenError> {
    let said = |fault: SignerInfoFault| match fault {
        SignerInfoFault::Signature(e) => format!("{e} (the TSA certificate's key)"),
        SignerInfoFault::ContentType { found, .. } => {
            format!("the contentType attribute says {found}, not id-ct-TSTInfo")
        }
        SignerInfoFault::MessageDigest => {
            "the messageDigest attribute is not the TSTInfo's digest (the TSTInfo was changed)".into()
        }
        other => other.to_string(),
    };
    check(info, signed, tst_info, ID_CT_TST_INFO, signer)
        .map(|(attributes, _)| attributes)
        .map_err(|fault| TokenError::BadSignature(said(fault)))
}

/// The value of the one attribute `oid` with exactly one value.
pub(crate) fn single_value(attributes: &SignedAttributes, oid: ObjectIdentifier) -> Result<&Any, AttributeProblem> {
    let mut found = attributes.iter().filter(|a| a.oid == oid);
    let attribute = found.next().ok_or(AttributeProblem::Missing)?;
    if found.next().is_some() || attribute.values.len() != 1 {
        return Err(AttributeProblem::Repeated);
    }
    attribute.values.iter().next().ok_or(AttributeProblem::Missing)
}

/// The value of the one attribute `oid`, decoded as `T`.
pub(crate) fn decode_single<T: der::DecodeOwned<Error = der::Error>>(
    attributes: &SignedAttributes,
    oid: ObjectIdentifier,
) -> Result<T, AttributeProblem> {
    let undecodable = |e: der::Error| AttributeProblem::Undecodable(e.to_string());
    let value = single_value(attributes, oid)?;
    T::from_der(&value.to_der().map_err(undecodable)?).map_err(undecodable)
}

/// The value of the one attribute `oid` with exactly one value, if there is one.
pub(super) fn single(attributes: &SignedAttributes, oid: ObjectIdentifier) -> Option<&Any> {
    single_value(attributes, oid).ok()
}

/// SignerInfo may name the bare key algorithm `rsaEncryption` (OpenSSL does; RFC 3370 §3.2), whose hash is the
/// digestAlgorithm: the RSA-with-hash identifier it stands for; every other identifier as it is. For documents'
/// SignerInfos too (`crate::signature::cades`).
pub(crate) fn signature_algorithm(given: &AlgorithmIdentifierOwned, digest: HashAlgorithm) -> AlgorithmIdentifierOwned {
    if given.oid != rfc5912::RSA_ENCRYPTION {
        return given.clone();
    }
    let oid = match digest {
        HashAlgorithm::Sha256 => rfc5912::SHA_256_WITH_RSA_ENCRYPTION,
        HashAlgorithm::Sha384 => rfc5912::SHA_384_WITH_RSA_ENCRYPTION,
        HashAlgorithm::Sha512 => rfc5912::SHA_512_WITH_RSA_ENCRYPTION,
    };
    AlgorithmIdentifierOwned { oid, parameters: given.parameters.clone() }
}
