//! A signed structure read without re-encoding its to-be-signed part.
//!
//! ```text
//! -- RFC 5280 §4.1 (Certificate, CertificateList) and RFC 2986 §4 (CertificationRequest)
//! SIGNED ::= SEQUENCE {
//!      toBeSigned           ANY,
//!      signatureAlgorithm   AlgorithmIdentifier,
//!      signature            BIT STRING }
//! ```
//! Verifying a signature over a decoded-then-re-encoded value would accept
//! or reject the wrong bytes; this type keeps the exact `toBeSigned` octets.

use der::asn1::BitString;
use der::{Any, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;

/// Any `SIGNED { ToBeSigned }` structure.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SignedRaw {
    /// The to-be-signed value, complete with tag and length.
    pub to_be_signed: Any,
    /// `signatureAlgorithm`.
    pub signature_algorithm: AlgorithmIdentifierOwned,
    /// `signature`.
    pub signature: BitString,
}

impl SignedRaw {
    /// The exact DER octets that were signed.
    pub fn tbs_der(&self) -> der::Result<Vec<u8>> {
        self.to_be_signed.to_der()
    }
}
