//! Why a key could not be made, opened or used.

use std::path::PathBuf;

/// Why a key could not be made, opened or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key URI is not `file:…` or `pkcs11:token=…;object=…`.
    #[error("invalid key URI {0:?}: use file:PATH or pkcs11:token=LABEL;object=LABEL")]
    Uri(String),
    /// The algorithm name is not one hcpki supports.
    #[error("unsupported key algorithm {0:?}: use p256, p384, rsa2048, rsa3072 or rsa4096")]
    UnknownAlgorithm(String),
    /// Software keys need a passphrase file and none is configured.
    #[error("no passphrase file configured for software keys: set keys.passphrase_file in hcpki.toml")]
    NoPassphrase,
    /// A secret file could not be read.
    #[error("cannot read secret file {path}: {source}")]
    SecretFile {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A secret file is empty.
    #[error("secret file {0} is empty")]
    EmptySecret(PathBuf),
    /// The key file could not be read or written.
    #[error("key file {path}: {source}")]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The key file exists already; hcpki never overwrites a key.
    #[error("key file {0} exists already; move it away or pick another name")]
    KeyFileExists(PathBuf),
    /// The key file is not an encrypted PKCS#8 key this passphrase opens.
    #[error("cannot decrypt key {0}: wrong passphrase or not an encrypted PKCS#8 key")]
    Decrypt(PathBuf),
    /// The key inside is of a type or size hcpki does not sign with.
    #[error("key {0} is not a P-256, P-384 or RSA 2048–4096 key")]
    UnsupportedKey(String),
    /// The crypto library refused to generate or sign.
    #[error("cryptographic operation failed: {0}")]
    Crypto(String),
    /// A PKCS#11 key was named but no module is configured.
    #[error("a pkcs11: key URI needs [pkcs11] module, token label and pin file in hcpki.toml")]
    Pkcs11NotConfigured,
    /// The PKCS#11 module reported an error.
    #[error("PKCS#11: {0}")]
    Pkcs11(String),
    /// The token was reachable once but is not now (an HSM restarting, a token pulled out): retry later; the
    /// process connects again by itself when it is back.
    #[error(
        "the signing device (PKCS#11 token {token:?}) is unavailable: {detail}; retry later — hcpki reconnects \
         by itself when the device is back (check the HSM, its network and its logs)"
    )]
    DeviceUnavailable {
        /// The token label.
        token: String,
        /// What the module answered.
        detail: String,
    },
    /// The named token or object does not exist.
    #[error("PKCS#11: {0} not found; check the token label and object label")]
    Pkcs11NotFound(String),
    /// The token refused the user PIN.
    #[error("PKCS#11 token {token:?} refused the user PIN in {}: put the right PIN in that file (tokens lock after a few wrong tries)", pin_file.display())]
    Pkcs11Pin {
        /// The token label.
        token: String,
        /// The PIN file that was read.
        pin_file: PathBuf,
    },
    /// An object with this label is on the token already; hcpki never overwrites a key.
    #[error(
        "PKCS#11 token {token:?} already holds an object labelled {object:?}; pick another label or delete the old objects"
    )]
    Pkcs11ObjectExists {
        /// The token label.
        token: String,
        /// The object label.
        object: String,
    },
    /// Encoding a structure failed.
    #[error("encoding: {0}")]
    Der(#[from] der::Error),
}
