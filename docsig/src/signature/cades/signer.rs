//! The signer's certificate: what it may sign, and with which algorithm.

use super::error::CadesError;
use crate::timestamp::HashAlgorithm;
use const_oid::db::rfc5912::{ID_EC_PUBLIC_KEY, RSA_ENCRYPTION, SECP_256_R_1, SECP_384_R_1};
use der::Decode;
use hcpki_pkix::keys::KeyAlgorithm;
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::ext::pkix::KeyUsage;

/// The signer certificate and its CAs, as `prepare` receives them.
#[derive(Debug)]
pub(in crate::signature) struct SignerChain {
    /// The signer's certificate.
    pub(in crate::signature) signer: Certificate,
    /// The signer's certificate, then the CAs, as they go into `certificates`.
    pub(in crate::signature) all: Vec<Certificate>,
}

impl SignerChain {
    /// Decode `chain`: the signer certificate's DER first, then its CAs' (the root may be left out).
    pub(in crate::signature) fn from_der(chain: &[&[u8]]) -> Result<Self, CadesError> {
        let all = chain
            .iter()
            .map(|der| Certificate::from_der(der).map_err(|e| CadesError::Chain(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        let signer = all.first().cloned().ok_or_else(|| CadesError::Chain("no certificate".into()))?;
        Ok(Self { signer, all })
    }
}

/// The signature algorithm a key of `certificate` signs CAdES with: sha256WithRSAEncryption for RSA (HPKI cards
/// are RSA-2048), ecdsa-with-SHA256 for P-256, ecdsa-with-SHA384 for P-384 (the next My Number card, D153). The
/// identifiers are the ones certificates carry.
pub(in crate::signature) fn signature_algorithm(
    certificate: &Certificate,
) -> Result<AlgorithmIdentifierOwned, CadesError> {
    let spki = certificate.tbs_certificate().subject_public_key_info();
    let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.decode_as::<const_oid::ObjectIdentifier>().ok());
    match (spki.algorithm.oid, curve) {
        (RSA_ENCRYPTION, _) => Ok(KeyAlgorithm::Rsa2048.signature_algorithm()),
        (ID_EC_PUBLIC_KEY, Some(SECP_256_R_1)) => Ok(KeyAlgorithm::P256.signature_algorithm()),
        (ID_EC_PUBLIC_KEY, Some(SECP_384_R_1)) => Ok(KeyAlgorithm::P384.signature_algorithm()),
        (oid, curve) => Err(CadesError::UnsupportedKey(match curve {
            Some(c) => format!("{oid} on curve {c}"),
            None => oid.to_string(),
        })),
    }
}

/// The hash of the CMS digestAlgorithm and messageDigest for a signer of `certificate`: the hash its signature
/// algorithm signs with, as RFC 5753 §2.1.1 (ECDSA in CMS) wants them one — SHA-384 for a P-384 key, SHA-256
/// otherwise. OpenSSL hashes the signed attributes with the digestAlgorithm, so a mismatch would not verify there.
pub(in crate::signature) fn digest_algorithm(certificate: &Certificate) -> HashAlgorithm {
    let spki = certificate.tbs_certificate().subject_public_key_info();
    let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.decode_as::<const_oid::ObjectIdentifier>().ok());
    match (spki.algorithm.oid, curve) {
        (ID_EC_PUBLIC_KEY, Some(SECP_384_R_1)) => HashAlgorithm::Sha384,
        _ => HashAlgorithm::Sha256,
    }
}

/// Refuse a certificate whose keyUsage lacks nonRepudiation (contentCommitment): the HPKI authentication
/// certificate has digitalSignature alone and must never sign a document (issue #27 item 2), and a certificate
/// without keyUsage says nothing about commitment.
pub(in crate::signature) fn require_non_repudiation(certificate: &Certificate) -> Result<(), CadesError> {
    match certificate.tbs_certificate().get_extension::<KeyUsage>() {
        Ok(Some((_, usage))) if usage.non_repudiation() => Ok(()),
        _ => Err(CadesError::NotForSignatures { subject: certificate.tbs_certificate().subject().to_string() }),
    }
}
