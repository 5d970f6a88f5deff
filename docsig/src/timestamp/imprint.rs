//! `MessageImprint` and the hash algorithms a time stamp is asked over.

use super::refusal::Refusal;
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912::{ID_SHA_256, ID_SHA_384, ID_SHA_512};
use der::asn1::OctetString;
use der::{Sequence, Tagged};
use spki::AlgorithmIdentifierOwned;

/// RFC 3161 §2.4.1:
///
/// ```text
/// MessageImprint ::= SEQUENCE  {
///      hashAlgorithm                AlgorithmIdentifier,
///      hashedMessage                OCTET STRING  }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct MessageImprint {
    /// The hash algorithm, echoed as received.
    pub hash_algorithm: AlgorithmIdentifierOwned,
    /// The hash of the data.
    pub hashed_message: OctetString,
}

/// The hashes a time stamp may be asked over: SHA-2 only (SHA-1 and MD5 are broken for this use; RFC 5816
/// and ETSI TS 119 312 no longer accept them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashAlgorithm {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlgorithm {
    /// The algorithm an identifier names, with absent or NULL parameters (RFC 5754 §2 allows both).
    pub fn of(id: &AlgorithmIdentifierOwned) -> Result<Self, Refusal> {
        let algorithm = match id.oid {
            ID_SHA_256 => Self::Sha256,
            ID_SHA_384 => Self::Sha384,
            ID_SHA_512 => Self::Sha512,
            other => {
                return Err(Refusal::BadAlg(format!(
                    "hash algorithm {other} is not accepted: use SHA-256, SHA-384 or SHA-512"
                )));
            }
        };
        match &id.parameters {
            Some(p) if p.tag() != der::Tag::Null || !p.value().is_empty() => {
                Err(Refusal::BadAlg(format!("the {} identifier carries parameters other than NULL", algorithm.name())))
            }
            _ => Ok(algorithm),
        }
    }

    /// The length of a digest, in octets.
    pub fn digest_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// The algorithm's usual name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "SHA-256",
            Self::Sha384 => "SHA-384",
            Self::Sha512 => "SHA-512",
        }
    }

    /// Its OID.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            Self::Sha256 => ID_SHA_256,
            Self::Sha384 => ID_SHA_384,
            Self::Sha512 => ID_SHA_512,
        }
    }

    /// The identifier as the token writes it (parameters absent, RFC 5754 §2's preferred form).
    pub fn identifier(self) -> AlgorithmIdentifierOwned {
        AlgorithmIdentifierOwned { oid: self.oid(), parameters: None }
    }

    /// The digest of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        use aws_lc_rs::digest;
        let algorithm = match self {
            Self::Sha256 => &digest::SHA256,
            Self::Sha384 => &digest::SHA384,
            Self::Sha512 => &digest::SHA512,
        };
        digest::digest(algorithm, data).as_ref().to_vec()
    }
}
