//! The key trait every backend implements, what opening a key needs, and reading a secret file: below the
//! backends (`software`, `pkcs11`), which `keys` chooses between by URI.

use super::algorithm::KeyAlgorithm;
use super::error::KeyError;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use std::fmt::Debug;
use zeroize::Zeroizing;

/// A private key that can sign, wherever it lives.
pub trait KeySource: Send + Sync + Debug {
    /// The key's algorithm and size.
    fn algorithm(&self) -> KeyAlgorithm;

    /// The public key as it goes into certificates.
    fn public_key(&self) -> &SubjectPublicKeyInfoOwned;

    /// The X.509 signature algorithm this key signs with
    /// (ecdsa-with-SHA256/384 or sha256WithRSAEncryption).
    fn signature_algorithm(&self) -> AlgorithmIdentifierOwned {
        self.algorithm().signature_algorithm()
    }

    /// Sign `message` (hashing it as the signature algorithm says) and return
    /// the signature value as X.509 carries it: DER `ECDSA-Sig-Value` for
    /// ECDSA, the PKCS#1 v1.5 block for RSA.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError>;

    /// RSASSA-PSS over `message` with SHA-256, MGF1-SHA-256 and a 32-byte salt (RFC 8017 §8.1; JWS's
    /// PS256, RFC 7518 §3.5). X.509 here never uses PSS, so only RSA keys that sign tokens are asked; keys
    /// that cannot refuse.
    fn sign_pss_sha256(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let _ = message;
        Err(KeyError::UnsupportedKey(format!("{} (RSASSA-PSS needs an RSA key)", self.algorithm())))
    }
}

/// An RSA key that can also unwrap what was encrypted to it: the SCEP RA, whose clients send the request's
/// content-encryption key RSAES-PKCS1-v1_5-encrypted to the RA certificate (RFC 8894 §3.2.2).
///
/// Separate from [`KeySource`] because no CA key ever decrypts; only keys made for this purpose are opened
/// through [`crate::keys::open_decrypter`].
pub trait Decrypter: KeySource {
    /// RSAES-PKCS1-v1_5 decryption of `ciphertext`. Any padding failure is one opaque error, so a caller
    /// cannot become a padding oracle by reporting it differently.
    fn decrypt_pkcs1v15(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError>;
}

/// Read a secret (passphrase, PIN) from a file, dropping one trailing newline.
pub fn read_secret_file(path: &std::path::Path) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let mut bytes =
        Zeroizing::new(std::fs::read(path).map_err(|e| KeyError::SecretFile { path: path.to_owned(), source: e })?);
    while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        bytes.pop();
    }
    if bytes.is_empty() {
        return Err(KeyError::EmptySecret(path.to_owned()));
    }
    Ok(bytes)
}
