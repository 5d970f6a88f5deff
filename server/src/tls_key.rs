//! A [`KeySource`] as a rustls signing key, so the TLS server key stays behind the same abstraction as the CA
//! keys (an encrypted file or a PKCS#11 object) and never exists as plain bytes outside `hcpki_pkix::keys`.
//!
//! Only ECDSA keys: TLS 1.3 signs with RSA-PSS (RFC 8446 §4.2.3) and `KeySource` RSA keys sign PKCS#1 v1.5.

use der::Encode;
use hcpki_pkix::keys::{KeyAlgorithm, KeySource};
use rustls::pki_types::SubjectPublicKeyInfoDer;
use rustls::sign::{Signer, SigningKey};
use rustls::{SignatureAlgorithm, SignatureScheme};
use std::sync::Arc;

/// A key source that signs TLS handshakes with the one scheme its curve allows.
#[derive(Debug)]
pub struct KeySourceSigningKey {
    key: Arc<dyn KeySource>,
    scheme: SignatureScheme,
    spki_der: Vec<u8>,
}

impl KeySourceSigningKey {
    /// Wrap a P-256 or P-384 key.
    pub fn new(key: Arc<dyn KeySource>) -> Result<Self, UnsupportedTlsKey> {
        let algorithm = key.algorithm();
        // KeySource hashes as its X.509 signature algorithm says: SHA-256 for P-256, SHA-384 for P-384, the
        // exact pairs TLS 1.3 requires; the DER ECDSA-Sig-Value it returns is TLS's signature encoding.
        let scheme = match algorithm {
            KeyAlgorithm::P256 => SignatureScheme::ECDSA_NISTP256_SHA256,
            KeyAlgorithm::P384 => SignatureScheme::ECDSA_NISTP384_SHA384,
            other => return Err(UnsupportedTlsKey(other)),
        };
        let spki_der = key.public_key().to_der().map_err(|_| UnsupportedTlsKey(algorithm))?;
        Ok(Self { key, scheme, spki_der })
    }
}

impl SigningKey for KeySourceSigningKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        offered
            .contains(&self.scheme)
            .then(|| Box::new(SchemeSigner { key: self.key.clone(), scheme: self.scheme }) as Box<dyn Signer>)
    }

    fn public_key(&self) -> Option<SubjectPublicKeyInfoDer<'_>> {
        Some(SubjectPublicKeyInfoDer::from(self.spki_der.as_slice()))
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::ECDSA
    }
}

#[derive(Debug)]
struct SchemeSigner {
    key: Arc<dyn KeySource>,
    scheme: SignatureScheme,
}

impl Signer for SchemeSigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        self.key.sign(message).map_err(|e| rustls::Error::General(format!("server key cannot sign: {e}")))
    }

    fn scheme(&self) -> SignatureScheme {
        self.scheme
    }
}

/// The server key is not an ECDSA key.
#[derive(Debug, thiserror::Error)]
#[error(
    "the TLS server key is {0}; it must be p256 or p384 (TLS 1.3 needs RSA-PSS, which hcpki keys do not sign): \
     remove the key named in the server certificate section of docs/operator-guide.md and restart to get a P-256 key"
)]
pub struct UnsupportedTlsKey(pub KeyAlgorithm);
