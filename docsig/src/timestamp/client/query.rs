//! The request a signer sends: SHA-256 imprint, a fresh random nonce, certReq, and the configured policy.

use super::StampError;
use crate::timestamp::{HashAlgorithm, MessageImprint, TimeStampReq};
use const_oid::ObjectIdentifier;
use der::asn1::{Int, Null, OctetString};
use der::{Any, Encode};

/// A `TimeStampReq` as sent, with what the answer must repeat.
#[derive(Clone, Debug)]
pub struct Query {
    der: Vec<u8>,
    imprint: MessageImprint,
    nonce: Int,
    policy: Option<ObjectIdentifier>,
}

impl Query {
    /// The request for `digest` (SHA-256 of what is stamped): certReq true, so the token carries the TSA
    /// certificate the checks need; a 63-bit random nonce, so an old answer cannot be replayed; reqPolicy
    /// `policy` when given. The algorithm identifier carries NULL parameters, as `openssl ts -query` writes it
    /// (RFC 5754 §2 allows both forms; every TSA accepts OpenSSL's).
    pub fn sha256(digest: &[u8; 32], policy: Option<ObjectIdentifier>) -> Result<Self, StampError> {
        let mut random = [0u8; 8];
        aws_lc_rs::rand::fill(&mut random).map_err(|_| StampError::Random)?;
        // Positive and exactly eight octets in DER: the first octet 0x40–0x7f.
        random[0] = (random[0] & 0x3f) | 0x40;
        let nonce = Int::new(&random).map_err(StampError::Encode)?;
        let hash_algorithm = spki::AlgorithmIdentifierOwned {
            oid: HashAlgorithm::Sha256.oid(),
            parameters: Some(Any::encode_from(&Null).map_err(StampError::Encode)?),
        };
        let imprint = MessageImprint {
            hash_algorithm,
            hashed_message: OctetString::new(digest.as_slice()).map_err(StampError::Encode)?,
        };
        let der = TimeStampReq {
            version: 1,
            message_imprint: imprint.clone(),
            req_policy: policy,
            nonce: Some(nonce.clone()),
            cert_req: true,
            extensions: None,
        }
        .to_der()
        .map_err(StampError::Encode)?;
        Ok(Self { der, imprint, nonce, policy })
    }

    /// The DER to POST.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The imprint the token must repeat.
    pub fn imprint(&self) -> &MessageImprint {
        &self.imprint
    }

    /// The nonce the token must repeat.
    pub fn nonce(&self) -> &Int {
        &self.nonce
    }

    /// The policy the token must name, when one is configured.
    pub fn policy(&self) -> Option<&ObjectIdentifier> {
        self.policy.as_ref()
    }
}
