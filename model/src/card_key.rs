//! The key algorithm of a card's key (HPKI or My Number card), decided once from the certificate's
//! SubjectPublicKeyInfo and independent of the card's file layout (D153): today's RSA-2048 cards and the next
//! My Number card generation's ECDSA P-384 (announced for FY2028), which keeps today's layout in hcpki until the
//! new one is published. Everything that differs between the two — what the card is handed, the form of its
//! answer, the X.509 signature algorithm, the verification — follows from this value; the drivers, the agent's
//! broker, the portal's login and the document signatures match on it and on nothing else.
//!
//! ```text
//!  algorithm              the card is handed            the card answers          X.509 / CMS carries
//!  RsaPkcs1Sha256         DER DigestInfo(SHA-256)        RSASSA-PKCS1-v1_5 block    the same block
//!  EcdsaP384Sha384        SHA-384 (48 bytes)             r ‖ s, 48 + 48 bytes       ECDSA-Sig-Value (DER)
//! ```

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use x509_cert::spki::SubjectPublicKeyInfoOwned;

/// A card key's algorithm: the key type, its curve, and the hash the card signs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CardKeyAlgorithm {
    /// RSA (today's cards: 2048 bits), PKCS#1 v1.5 with SHA-256 (`sha256WithRSAEncryption`).
    RsaPkcs1Sha256,
    /// ECDSA on NIST P-384 with SHA-384 (`ecdsa-with-SHA384`): the next My Number card generation.
    EcdsaP384Sha384,
}

/// Why a certificate's key is not one a card signs with in hcpki.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CardKeyError {
    /// An EC key on another curve than P-384 (P-256, brainpool, secp256k1, …), or with no named curve: the My
    /// Number card's ECDSA keys are P-384 (HPKI cards with EC keys follow the same rule).
    #[error(
        "the card certificate's EC key is on curve {curve}, not P-384 (secp384r1): a card with an ECDSA key must \
         use P-384 with SHA-384; ask the card's issuer whether the certificate is the card's own"
    )]
    WrongCurve {
        /// The curve OID found (or "none" when the parameters name no curve).
        curve: String,
    },
    /// Neither RSA nor EC: no card signs with such a key.
    #[error("the card certificate's key algorithm {0} is not RSA or ECDSA P-384: this is not a supported card")]
    UnsupportedKey(String),
}

impl CardKeyAlgorithm {
    /// The algorithm of the key in `spki`.
    pub fn of_spki(spki: &SubjectPublicKeyInfoOwned) -> Result<Self, CardKeyError> {
        let key = spki.algorithm.oid;
        if key == rfc5912::RSA_ENCRYPTION {
            return Ok(Self::RsaPkcs1Sha256);
        }
        if key != rfc5912::ID_EC_PUBLIC_KEY {
            return Err(CardKeyError::UnsupportedKey(key.to_string()));
        }
        let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
        match curve {
            Some(c) if c == rfc5912::SECP_384_R_1 => Ok(Self::EcdsaP384Sha384),
            Some(c) => Err(CardKeyError::WrongCurve { curve: curve_name(c) }),
            None => Err(CardKeyError::WrongCurve { curve: "none".into() }),
        }
    }

    /// The algorithm of the key of the certificate `certificate`.
    pub fn of_certificate(certificate: &x509_cert::Certificate) -> Result<Self, CardKeyError> {
        Self::of_spki(certificate.tbs_certificate().subject_public_key_info())
    }

    /// The X.509 signature algorithm OID a signature by this key carries (certificates, CMS SignerInfo).
    pub fn signature_oid(self) -> ObjectIdentifier {
        match self {
            Self::RsaPkcs1Sha256 => rfc5912::SHA_256_WITH_RSA_ENCRYPTION,
            Self::EcdsaP384Sha384 => rfc5912::ECDSA_WITH_SHA_384,
        }
    }

    /// The hash the signature is made over (and, for a CMS signature, the SignerInfo's digestAlgorithm:
    /// RFC 5753 §2.1.1 wants ECDSA's hash and the message digest to be one).
    pub fn hash_oid(self) -> ObjectIdentifier {
        match self {
            Self::RsaPkcs1Sha256 => rfc5912::ID_SHA_256,
            Self::EcdsaP384Sha384 => rfc5912::ID_SHA_384,
        }
    }

    /// A short name for logs, audit details and the agent's API (`rsa-sha256`, `ecdsa-p384-sha384`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RsaPkcs1Sha256 => "rsa-sha256",
            Self::EcdsaP384Sha384 => "ecdsa-p384-sha384",
        }
    }
}

impl std::fmt::Display for CardKeyAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A curve's usual name where one is known, else its OID: what the refusal names.
fn curve_name(curve: ObjectIdentifier) -> String {
    const SECP256K1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.10");
    const BRAINPOOL_P384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.36.3.3.2.8.1.1.11");
    let name = match curve {
        c if c == rfc5912::SECP_256_R_1 => "P-256 (secp256r1)",
        c if c == rfc5912::SECP_521_R_1 => "P-521 (secp521r1)",
        c if c == rfc5912::SECP_224_R_1 => "P-224 (secp224r1)",
        c if c == SECP256K1 => "secp256k1",
        c if c == BRAINPOOL_P384R1 => "brainpoolP384r1",
        _ => return curve.to_string(),
    };
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::asn1::BitString;
    use x509_cert::spki::AlgorithmIdentifierOwned;

    fn spki(oid: ObjectIdentifier, curve: Option<ObjectIdentifier>) -> SubjectPublicKeyInfoOwned {
        SubjectPublicKeyInfoOwned {
            algorithm: AlgorithmIdentifierOwned { oid, parameters: curve.map(|c| der::Any::encode_from(&c).unwrap()) },
            subject_public_key: BitString::from_bytes(&[4, 1, 2]).unwrap(),
        }
    }

    #[test]
    fn the_key_decides_the_algorithm() {
        assert_eq!(
            CardKeyAlgorithm::of_spki(&spki(rfc5912::RSA_ENCRYPTION, None)),
            Ok(CardKeyAlgorithm::RsaPkcs1Sha256)
        );
        let p384 = spki(rfc5912::ID_EC_PUBLIC_KEY, Some(rfc5912::SECP_384_R_1));
        assert_eq!(CardKeyAlgorithm::of_spki(&p384), Ok(CardKeyAlgorithm::EcdsaP384Sha384));
        assert_eq!(CardKeyAlgorithm::EcdsaP384Sha384.signature_oid(), rfc5912::ECDSA_WITH_SHA_384);
        assert_eq!(CardKeyAlgorithm::EcdsaP384Sha384.hash_oid(), rfc5912::ID_SHA_384);
    }

    #[test]
    fn another_curve_is_refused_by_name() {
        let p256 = spki(rfc5912::ID_EC_PUBLIC_KEY, Some(rfc5912::SECP_256_R_1));
        let err = CardKeyAlgorithm::of_spki(&p256).unwrap_err();
        assert_eq!(err, CardKeyError::WrongCurve { curve: "P-256 (secp256r1)".into() });
        assert!(err.to_string().contains("not P-384"), "{err}");
        let k1 = spki(rfc5912::ID_EC_PUBLIC_KEY, Some(ObjectIdentifier::new_unwrap("1.3.132.0.10")));
        assert_eq!(CardKeyAlgorithm::of_spki(&k1), Err(CardKeyError::WrongCurve { curve: "secp256k1".into() }));
        let unnamed = spki(rfc5912::ID_EC_PUBLIC_KEY, None);
        assert_eq!(CardKeyAlgorithm::of_spki(&unnamed), Err(CardKeyError::WrongCurve { curve: "none".into() }));
        let ed = spki(ObjectIdentifier::new_unwrap("1.3.101.112"), None);
        assert!(matches!(CardKeyAlgorithm::of_spki(&ed), Err(CardKeyError::UnsupportedKey(_))));
    }
}
