//! Secrets sealed for storage: AES-256-GCM with a random 96-bit nonce, the ciphertext bound by associated data
//! to what it belongs to (an account name, a facility+peer+key id), so a sealed value copied onto another row
//! does not open there. One seal for the portal's TOTP secrets and the routers' pre-shared keys (D156): on
//! this floor because both the SSO core and the CA's PSK area use it.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use zeroize::Zeroizing;

/// Length of a GCM nonce.
const NONCE_LEN: usize = 12;

/// An AES-256-GCM key that seals and opens stored secrets.
pub struct SealKey(LessSafeKey);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(..)")
    }
}

impl SealKey {
    /// The key from 32 bytes (derived by the caller from its server secret with a label of its own).
    pub fn new(key: &[u8]) -> Result<Self, SealError> {
        UnboundKey::new(&AES_256_GCM, key).map(|k| Self(LessSafeKey::new(k))).map_err(|_| SealError::KeyLength)
    }

    /// Seal `plain`, bound to `bound_to`: base64url of nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, bound_to: &[u8], plain: &[u8]) -> Result<String, SealError> {
        let nonce_bytes = crate::keys::random_secret(NONCE_LEN).map_err(|_| SealError::NoRandom)?;
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&nonce_bytes);
        let mut buf = plain.to_vec();
        self.0
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(bound_to), &mut buf)
            .map_err(|_| SealError::Sealing)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(B64.encode(out))
    }

    /// Open what [`SealKey::seal`] made with the same key and the same `bound_to`.
    pub fn open(&self, bound_to: &[u8], sealed: &str) -> Result<Zeroizing<Vec<u8>>, SealError> {
        let raw = B64.decode(sealed).map_err(|_| SealError::DoesNotOpen)?;
        let (nonce, body) = raw.split_at_checked(NONCE_LEN).ok_or(SealError::DoesNotOpen)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::DoesNotOpen)?;
        let mut buf = Zeroizing::new(body.to_vec());
        let plain = self.0.open_in_place(nonce, Aad::from(bound_to), &mut buf).map_err(|_| SealError::DoesNotOpen)?;
        Ok(Zeroizing::new(plain.to_vec()))
    }
}

/// Why a secret could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The key is not 32 bytes: a caller's bug.
    #[error("the sealing key is not 32 bytes")]
    KeyLength,
    /// The system random source failed.
    #[error("no random bytes for a nonce: check the system's random source and try again")]
    NoRandom,
    /// The crypto library failed.
    #[error("sealing failed in the crypto library")]
    Sealing,
    /// Another key, another binding, or damaged data.
    #[error("a sealed secret does not open with this key: was the server secret file replaced, or the row copied?")]
    DoesNotOpen,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_binding() {
        let k = SealKey::new(&[7u8; 32]).unwrap();
        let other = SealKey::new(&[8u8; 32]).unwrap();
        let sealed = k.seal(b"HF1\0hub\0k1", b"secret").unwrap();
        assert_eq!(k.open(b"HF1\0hub\0k1", &sealed).unwrap().as_slice(), b"secret");
        assert!(k.open(b"HF2\0hub\0k1", &sealed).is_err(), "bound to its owner");
        assert!(other.open(b"HF1\0hub\0k1", &sealed).is_err(), "another key");
        assert_ne!(k.seal(b"a", b"secret").unwrap(), k.seal(b"a", b"secret").unwrap(), "a fresh nonce each time");
        assert!(k.open(b"a", "not base64!").is_err() && k.open(b"a", "AAAA").is_err());
        assert!(SealKey::new(&[0u8; 16]).is_err());
    }
}
