//! Signature verification with aws-lc-rs: CSR proof of possession now, card
//! and chain signatures later.

use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use const_oid::db::rfc5912;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

/// Why a signature did not verify.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// The signature algorithm is not one hcpki accepts.
    #[error("unsupported signature algorithm {0}: use ECDSA or RSA PKCS#1 v1.5 with SHA-256/384/512")]
    UnsupportedAlgorithm(String),
    /// The key type does not match the signature algorithm.
    #[error("signature algorithm {alg} does not fit a {key} key")]
    KeyMismatch {
        /// Signature algorithm OID.
        alg: String,
        /// Key algorithm OID (and curve).
        key: String,
    },
    /// The signature is wrong.
    #[error("the signature does not verify with the given public key")]
    BadSignature,
}

/// Verify `signature` over `message` by the key in `spki`, using `alg` (as found in the signed structure).
pub fn verify_signature(
    spki: &SubjectPublicKeyInfoOwned,
    alg: &AlgorithmIdentifierOwned,
    message: &[u8],
    signature: &[u8],
) -> Result<(), VerifyError> {
    let algorithm = pick(spki, alg)?;
    UnparsedPublicKey::new(algorithm, spki.subject_public_key.raw_bytes())
        .verify(message, signature)
        .map_err(|_| VerifyError::BadSignature)
}

fn pick(
    spki: &SubjectPublicKeyInfoOwned,
    alg: &AlgorithmIdentifierOwned,
) -> Result<&'static dyn VerificationAlgorithm, VerifyError> {
    let key_oid = spki.algorithm.oid;
    let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.decode_as::<const_oid::ObjectIdentifier>().ok());
    let mismatch = || VerifyError::KeyMismatch {
        alg: alg.oid.to_string(),
        key: format!("{key_oid}{}", curve.map(|c| format!(" ({c})")).unwrap_or_default()),
    };
    let is_rsa = key_oid == rfc5912::RSA_ENCRYPTION;
    let is_p256 = key_oid == rfc5912::ID_EC_PUBLIC_KEY && curve == Some(rfc5912::SECP_256_R_1);
    let is_p384 = key_oid == rfc5912::ID_EC_PUBLIC_KEY && curve == Some(rfc5912::SECP_384_R_1);
    let a = alg.oid;
    let chosen: &'static dyn VerificationAlgorithm = if a == rfc5912::ECDSA_WITH_SHA_256 {
        if is_p256 {
            &signature::ECDSA_P256_SHA256_ASN1
        } else if is_p384 {
            &signature::ECDSA_P384_SHA256_ASN1
        } else {
            return Err(mismatch());
        }
    } else if a == rfc5912::ECDSA_WITH_SHA_384 {
        if is_p256 {
            &signature::ECDSA_P256_SHA384_ASN1
        } else if is_p384 {
            &signature::ECDSA_P384_SHA384_ASN1
        } else {
            return Err(mismatch());
        }
    } else if a == rfc5912::SHA_256_WITH_RSA_ENCRYPTION && is_rsa {
        &signature::RSA_PKCS1_2048_8192_SHA256
    } else if a == rfc5912::SHA_384_WITH_RSA_ENCRYPTION && is_rsa {
        &signature::RSA_PKCS1_2048_8192_SHA384
    } else if a == rfc5912::SHA_512_WITH_RSA_ENCRYPTION && is_rsa {
        &signature::RSA_PKCS1_2048_8192_SHA512
    } else if [
        rfc5912::SHA_256_WITH_RSA_ENCRYPTION,
        rfc5912::SHA_384_WITH_RSA_ENCRYPTION,
        rfc5912::SHA_512_WITH_RSA_ENCRYPTION,
    ]
    .contains(&a)
    {
        return Err(mismatch());
    } else {
        return Err(VerifyError::UnsupportedAlgorithm(a.to_string()));
    };
    Ok(chosen)
}
