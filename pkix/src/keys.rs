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
mod context;
mod error;
mod pkcs11;
mod software;
mod source;
mod uri;
pub mod verify;

pub use algorithm::KeyAlgorithm;
pub use context::KeyContext;
pub use error::KeyError;
pub use pkcs11::{Pkcs11Config, Pkcs11Key};
pub use software::SoftwareKey;
pub use source::{Decrypter, KeySource, read_secret_file};
pub use uri::KeyUri;

use zeroize::Zeroizing;

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

/// `n` bytes from the OS CSPRNG (passphrases, enrollment secrets).
pub fn random_secret(n: usize) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    use aws_lc_rs::rand::SecureRandom;
    let mut buf = Zeroizing::new(vec![0u8; n]);
    aws_lc_rs::rand::SystemRandom::new()
        .fill(&mut buf)
        .map_err(|_| KeyError::Crypto("the system random number generator failed".into()))?;
    Ok(buf)
}
