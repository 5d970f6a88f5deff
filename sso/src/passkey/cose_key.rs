//! Credential public keys as COSE_Key (RFC 9052 §7, RFC 9053): the three algorithms a portal asks for, and the
//! signature check with aws-lc-rs (already the sso crate's crypto, no OpenSSL).
//!
//! ```text
//! EC2 (kty 2): 1 => 2, 3 => -7 (ES256), -1 => 1 (P-256), -2 => x (32), -3 => y (32)
//! RSA (kty 3): 1 => 3, 3 => -257 (RS256), -1 => n, -2 => e
//! OKP (kty 1): 1 => 1, 3 => -8 (EdDSA), -1 => 6 (Ed25519), -2 => x (32)
//! ```

use super::PasskeyError;
use super::cbor;
use aws_lc_rs::signature::{self, UnparsedPublicKey};
use ciborium::value::Value;

const PART: &str = "credentialPublicKey";

/// COSE algorithm ES256 (ECDSA P-256 with SHA-256).
pub const ES256: i64 = -7;
/// COSE algorithm EdDSA (here Ed25519).
pub const EDDSA: i64 = -8;
/// COSE algorithm RS256 (RSASSA-PKCS1-v1_5 with SHA-256).
pub const RS256: i64 = -257;
/// What the portal asks authenticators for, preferred first (`pubKeyCredParams`).
pub const ACCEPTED: [i64; 3] = [ES256, EDDSA, RS256];

/// A credential's public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicKey {
    /// P-256, as the uncompressed point `04 || x || y`.
    Es256(Vec<u8>),
    /// Ed25519, its 32 bytes.
    EdDsa(Vec<u8>),
    /// RSA modulus and exponent, big-endian.
    Rs256 {
        /// Modulus.
        n: Vec<u8>,
        /// Public exponent.
        e: Vec<u8>,
    },
}

impl PublicKey {
    /// Read a COSE_Key (the bytes kept with the credential).
    pub fn from_cose(bytes: &[u8]) -> Result<Self, PasskeyError> {
        let value = cbor::whole(bytes, PART)?;
        Self::from_value(&value)
    }

    fn from_value(value: &Value) -> Result<Self, PasskeyError> {
        let entries = cbor::map(value, PART)?;
        let int = |label: i64| cbor::int_key(entries, label).and_then(cbor::int);
        let bytes = |label: i64, what: &str| {
            cbor::int_key(entries, label)
                .and_then(Value::as_bytes)
                .ok_or_else(|| PasskeyError::malformed(PART, format!("no {what}")))
        };
        let kty = int(1).ok_or_else(|| PasskeyError::malformed(PART, "no key type (label 1)"))?;
        let alg = int(3).ok_or_else(|| PasskeyError::malformed(PART, "no algorithm (label 3)"))?;
        match (kty, alg) {
            (2, ES256) => {
                if int(-1) != Some(1) {
                    return Err(PasskeyError::UnsupportedAlgorithm(alg));
                }
                let (x, y) = (bytes(-2, "x")?, bytes(-3, "y")?);
                if x.len() != 32 || y.len() != 32 {
                    return Err(PasskeyError::malformed(PART, "P-256 coordinates are not 32 bytes"));
                }
                Ok(Self::Es256([&[4u8][..], x, y].concat()))
            }
            (1, EDDSA) => {
                let x = bytes(-2, "x")?;
                if int(-1) != Some(6) {
                    return Err(PasskeyError::UnsupportedAlgorithm(alg));
                }
                if x.len() != 32 {
                    return Err(PasskeyError::malformed(PART, "Ed25519 key is not 32 bytes"));
                }
                Ok(Self::EdDsa(x.clone()))
            }
            (3, RS256) => Ok(Self::Rs256 { n: bytes(-1, "n")?.clone(), e: bytes(-2, "e")?.clone() }),
            _ => Err(PasskeyError::UnsupportedAlgorithm(alg)),
        }
    }

    /// The COSE algorithm.
    pub fn algorithm(&self) -> i64 {
        match self {
            Self::Es256(_) => ES256,
            Self::EdDsa(_) => EDDSA,
            Self::Rs256 { .. } => RS256,
        }
    }

    /// Check `sig` over `message` (ES256 signatures are DER, as WebAuthn §6.5.5 says).
    pub fn verify(&self, message: &[u8], sig: &[u8]) -> Result<(), PasskeyError> {
        let checked = match self {
            Self::Es256(point) => {
                UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_ASN1, point).verify(message, sig)
            }
            Self::EdDsa(key) => UnparsedPublicKey::new(&signature::ED25519, key).verify(message, sig),
            Self::Rs256 { n, e } => {
                signature::RsaPublicKeyComponents { n, e }.verify(&signature::RSA_PKCS1_2048_8192_SHA256, message, sig)
            }
        };
        checked.map_err(|_| PasskeyError::BadSignature)
    }
}
