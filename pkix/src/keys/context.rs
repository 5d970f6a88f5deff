//! Where keys are made and found: the hcpki directory, the passphrase file, the PKCS#11 token.

use super::error::KeyError;
use super::pkcs11::Pkcs11Config;
use super::source::read_secret_file;
use std::path::PathBuf;
use zeroize::Zeroizing;

/// Where keys are made and found.
#[derive(Clone, Debug, Default)]
pub struct KeyContext {
    /// Directory that relative `file:` URIs are resolved against.
    pub base_dir: PathBuf,
    /// File holding the passphrase that encrypts software keys at rest.
    pub passphrase_file: Option<PathBuf>,
    /// PKCS#11 module and token, when keys live in an HSM.
    pub pkcs11: Option<Pkcs11Config>,
}

impl KeyContext {
    /// Read the software-key passphrase (trailing newline removed).
    pub fn passphrase(&self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let path = self.passphrase_file.as_ref().ok_or(KeyError::NoPassphrase)?;
        read_secret_file(path)
    }
}
