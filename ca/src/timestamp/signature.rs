//! The token's CMS signature (RFC 5652 §5.4, §5.6): signed attributes present, contentType id-ct-TSTInfo,
//! messageDigest the digest of the TSTInfo, and the signature over the attributes' DER — the very octets of the
//! token, never a re-encoding — verifying with the signer certificate's key.

use super::token_error::TokenError;
use crate::keys::verify::verify_signature;
use crate::timestamp::HashAlgorithm;
use cms::signed_data::{SignedAttributes, SignerInfo};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc3161::ID_CT_TST_INFO;
use const_oid::db::rfc5911::{ID_CONTENT_TYPE, ID_MESSAGE_DIGEST};
use const_oid::db::rfc5912;
use der::Any;
use der::asn1::OctetString;
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;

/// Verify `info`, whose signed attributes are the DER `signed` (SET OF tag, as in the token), over `tst_info`
/// (the eContent octets) with `signer`'s key; the signed attributes, for the ESS check.
pub(super) fn verify<'a>(
    info: &'a SignerInfo,
    signed: &[u8],
    tst_info: &[u8],
    signer: &Certificate,
) -> Result<&'a SignedAttributes, TokenError> {
    let bad = |why: String| TokenError::BadSignature(why);
    let digest = HashAlgorithm::of(&info.digest_alg).map_err(|e| bad(format!("digestAlgorithm: {e}")))?;
    let attributes = info
        .signed_attrs
        .as_ref()
        .ok_or_else(|| bad("it has no signed attributes (RFC 5652 §5.3 requires them)".into()))?;
    let content_type = single(attributes, ID_CONTENT_TYPE)
        .and_then(|v| v.decode_as::<ObjectIdentifier>().ok())
        .ok_or_else(|| bad("no single contentType attribute".into()))?;
    if content_type != ID_CT_TST_INFO {
        return Err(bad(format!("the contentType attribute says {content_type}, not id-ct-TSTInfo")));
    }
    let message_digest = single(attributes, ID_MESSAGE_DIGEST)
        .and_then(|v| v.decode_as::<OctetString>().ok())
        .ok_or_else(|| bad("no single messageDigest attribute".into()))?;
    if message_digest.as_bytes() != digest.digest(tst_info).as_slice() {
        return Err(bad("the messageDigest attribute is not the TSTInfo's digest (the TSTInfo was changed)".into()));
    }
    let algorithm = signature_algorithm(&info.signature_algorithm, digest);
    let spki = signer.tbs_certificate().subject_public_key_info();
    verify_signature(spki, &algorithm, signed, info.signature.as_bytes())
        .map_err(|e| bad(format!("{e} (the TSA certificate's key)")))?;
    Ok(attributes)
}

/// The value of the one attribute `oid` with exactly one value.
pub(super) fn single(attributes: &SignedAttributes, oid: ObjectIdentifier) -> Option<&Any> {
    let mut found = attributes.iter().filter(|a| a.oid == oid);
    let attribute = found.next()?;
    if found.next().is_some() || attribute.values.len() != 1 {
        return None;
    }
    attribute.values.iter().next()
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
