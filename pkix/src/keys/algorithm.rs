//! Key algorithms hcpki signs with, and their X.509 signature algorithms.

use super::error::KeyError;
use const_oid::db::rfc5912;
use der::asn1::{AnyRef, Null};
use spki::AlgorithmIdentifierOwned;
use std::fmt;
use std::str::FromStr;

/// A key type and size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// ECDSA on NIST P-256, signing with SHA-256.
    P256,
    /// ECDSA on NIST P-384, signing with SHA-384.
    P384,
    /// RSA 2048, PKCS#1 v1.5 with SHA-256.
    Rsa2048,
    /// RSA 3072, PKCS#1 v1.5 with SHA-256.
    Rsa3072,
    /// RSA 4096, PKCS#1 v1.5 with SHA-256.
    Rsa4096,
}

impl KeyAlgorithm {
    /// Every algorithm, in the order help texts list them.
    pub const ALL: [KeyAlgorithm; 5] = [Self::P256, Self::P384, Self::Rsa2048, Self::Rsa3072, Self::Rsa4096];

    /// Stable text form (`p256`, `rsa2048`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::P256 => "p256",
            Self::P384 => "p384",
            Self::Rsa2048 => "rsa2048",
            Self::Rsa3072 => "rsa3072",
            Self::Rsa4096 => "rsa4096",
        }
    }

    /// RSA modulus size in bits, for RSA keys.
    pub fn rsa_bits(self) -> Option<usize> {
        match self {
            Self::Rsa2048 => Some(2048),
            Self::Rsa3072 => Some(3072),
            Self::Rsa4096 => Some(4096),
            Self::P256 | Self::P384 => None,
        }
    }

    /// The signature algorithm identifier for certificates and CRLs signed by this key.
    /// RSA carries an explicit NULL parameter (RFC 4055 §5); ECDSA carries none (RFC 5758 §3.2).
    pub fn signature_algorithm(self) -> AlgorithmIdentifierOwned {
        match self {
            Self::P256 => AlgorithmIdentifierOwned { oid: rfc5912::ECDSA_WITH_SHA_256, parameters: None },
            Self::P384 => AlgorithmIdentifierOwned { oid: rfc5912::ECDSA_WITH_SHA_384, parameters: None },
            Self::Rsa2048 | Self::Rsa3072 | Self::Rsa4096 => AlgorithmIdentifierOwned {
                oid: rfc5912::SHA_256_WITH_RSA_ENCRYPTION,
                parameters: Some(AnyRef::from(Null).into()),
            },
        }
    }

    /// The named-curve OID, for EC keys.
    pub fn curve_oid(self) -> Option<const_oid::ObjectIdentifier> {
        match self {
            Self::P256 => Some(rfc5912::SECP_256_R_1),
            Self::P384 => Some(rfc5912::SECP_384_R_1),
            _ => None,
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyAlgorithm {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        match s.trim().to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "p256" | "ecdsap256" | "prime256v1" | "secp256r1" => Ok(Self::P256),
            "p384" | "ecdsap384" | "secp384r1" => Ok(Self::P384),
            "rsa2048" => Ok(Self::Rsa2048),
            "rsa3072" => Ok(Self::Rsa3072),
            "rsa4096" => Ok(Self::Rsa4096),
            _ => Err(KeyError::UnknownAlgorithm(s.to_owned())),
        }
    }
}
