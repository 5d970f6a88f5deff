//! Private keys behind one trait.
//!
//! Every private key hcpki uses — CA keys now; OCSP signers, CRL signers and
//! OIDC token keys later — is a [`KeySource`]. The issuance core hands it the
//! exact bytes to sign and never sees key material. Keys are named by URI:
//!
//! * `file:keys/router.p8` — PKCS#8 `EncryptedPrivateKeyInfo` (PBES2) in PEM,
//!   relative to the hcpki directory; signed in-process with aws-lc-rs.
//! * `pkcs11:token=hcpki;object=router-ca` — a key pair on a PKCS#11 token
//!   (module and PIN file come from the configuration, never the URI).

mod algorithm;
mod pkcs11;
mod software;
mod uri;
pub mod verify;

pub use algorithm::KeyAlgorithm;
pub use pkcs11::{Pkcs11Config, Pkcs11Key};
pub use software::SoftwareKey;
pub use uri::KeyUri;

use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use std::fmt::Debug;
use std::path::PathBuf;
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
/// through [`open_decrypter`].
pub trait Decrypter: KeySource {
    /// RSAES-PKCS1-v1_5 decryption of `ciphertext`. Any padding failure is one opaque error, so a caller
    /// cannot become a padding oracle by reporting it differently.
    fn decrypt_pkcs1v15(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError>;
}

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

/// Generate a new key of `algorithm` where `uri` says and return it ready to sign.
pub fn generate(uri: &KeyUri, algorithm: KeyAlgorithm, ctx: &KeyContext) -> Result<Box<dyn KeySource>, KeyError> {
    match uri {
        KeyUri::File(path) => Ok(Box::new(SoftwareKey::generate(&ctx.base_dir.join(path), algorithm, ctx)?)),
        KeyUri::Pkcs11 { token, object } => {
            let cfg = ctx.pkcs11.as_ref().ok_or(KeyError::Pkcs11NotConfigured)?;
            Ok(Box::new(Pkcs11Key::generate(cfg, token, object, algorithm)?))
        }
    }
}

/// Open an existing key.
pub fn open(uri: &KeyUri, ctx: &KeyContext) -> Result<Box<dyn KeySource>, KeyError> {
    match uri {
        KeyUri::File(path) => Ok(Box::new(SoftwareKey::open(&ctx.base_dir.join(path), ctx)?)),
        KeyUri::Pkcs11 { token, object } => {
            let cfg = ctx.pkcs11.as_ref().ok_or(KeyError::Pkcs11NotConfigured)?;
            Ok(Box::new(Pkcs11Key::open(cfg, token, object)?))
        }
    }
}

/// Open an existing key, making it first (with `algorithm`) when it does not exist yet.
pub fn open_or_generate(
    uri: &KeyUri,
    algorithm: KeyAlgorithm,
    ctx: &KeyContext,
) -> Result<Box<dyn KeySource>, KeyError> {
    match open(uri, ctx) {
        Err(KeyError::KeyFile { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            generate(uri, algorithm, ctx)
        }
        Err(KeyError::Pkcs11NotFound(_)) => generate(uri, algorithm, ctx),
        other => other,
    }
}

/// Open an existing RSA key for decryption as well as signing ([`Decrypter`]), making it first (with
/// `algorithm`) when it does not exist yet.
pub fn open_or_generate_decrypter(
    uri: &KeyUri,
    algorithm: KeyAlgorithm,
    ctx: &KeyContext,
) -> Result<Box<dyn Decrypter>, KeyError> {
    match uri {
        KeyUri::File(path) => {
            let path = ctx.base_dir.join(path);
            match SoftwareKey::open(&path, ctx) {
                Ok(k) => Ok(Box::new(k)),
                Err(KeyError::KeyFile { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                    Ok(Box::new(SoftwareKey::generate(&path, algorithm, ctx)?))
                }
                Err(e) => Err(e),
            }
        }
        KeyUri::Pkcs11 { token, object } => {
            let cfg = ctx.pkcs11.as_ref().ok_or(KeyError::Pkcs11NotConfigured)?;
            match Pkcs11Key::open(cfg, token, object) {
                Ok(k) => Ok(Box::new(k)),
                Err(KeyError::Pkcs11NotFound(_)) => {
                    Ok(Box::new(Pkcs11Key::generate_decrypter(cfg, token, object, algorithm)?))
                }
                Err(e) => Err(e),
            }
        }
    }
}

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

/// `n` bytes from the OS CSPRNG (passphrases, enrollment secrets).
pub fn random_secret(n: usize) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    use aws_lc_rs::rand::SecureRandom;
    let mut buf = Zeroizing::new(vec![0u8; n]);
    aws_lc_rs::rand::SystemRandom::new()
        .fill(&mut buf)
        .map_err(|_| KeyError::Crypto("the system random number generator failed".into()))?;
    Ok(buf)
}
