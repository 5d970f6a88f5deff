//! Software keys: PKCS#8 encrypted at rest, signed with aws-lc-rs.
//!
//! The file is a standard PEM `ENCRYPTED PRIVATE KEY` (PBES2: scrypt +
//! AES-256-CBC), so `openssl pkey` can open it with the same passphrase for
//! a ceremony or a migration into an HSM. aws-lc-rs signs about 5× faster
//! than RustCrypto for P-256 and 7× for RSA here (see docs/benchmarks.md).

use super::algorithm::KeyAlgorithm;
use super::context::KeyContext;
use super::error::KeyError;
use super::source::{Decrypter, KeySource};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use der::Decode;
use pkcs8::{EncryptedPrivateKeyInfoRef, PrivateKeyInfoRef};
use spki::SubjectPublicKeyInfoOwned;
use std::io::Write;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// A key pair held in process memory (decrypted from its file on open).
pub struct SoftwareKey {
    path: PathBuf,
    algorithm: KeyAlgorithm,
    spki: SubjectPublicKeyInfoOwned,
    inner: Inner,
    /// The same RSA key for RSAES-PKCS1-v1_5 decryption ([`Decrypter`]); aws-lc-rs keeps signing and
    /// decrypting keys apart, so it is parsed twice from the PKCS#8.
    decrypting: Option<aws_lc_rs::rsa::PrivateDecryptingKey>,
    rng: SystemRandom,
}

enum Inner {
    Ecdsa(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

impl std::fmt::Debug for SoftwareKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftwareKey").field("path", &self.path).field("algorithm", &self.algorithm).finish()
    }
}

impl SoftwareKey {
    /// Generate a key, write it encrypted to `path` (mode 0600, never overwriting), and return it.
    pub fn generate(path: &Path, algorithm: KeyAlgorithm, ctx: &KeyContext) -> Result<Self, KeyError> {
        let pkcs8 = Zeroizing::new(generate_pkcs8(algorithm)?);
        let passphrase = ctx.passphrase()?;
        let info = PrivateKeyInfoRef::from_der(&pkcs8).map_err(|e| KeyError::Crypto(e.to_string()))?;
        let encrypted = info.encrypt(passphrase.as_slice()).map_err(|e| KeyError::Crypto(e.to_string()))?;
        let pem = encrypted
            .to_pem("ENCRYPTED PRIVATE KEY", der::pem::LineEnding::LF)
            .map_err(|e| KeyError::Crypto(e.to_string()))?;
        write_new_private_file(path, pem.as_bytes())?;
        Self::from_pkcs8(path, &pkcs8)
    }

    /// Open and decrypt a key file.
    pub fn open(path: &Path, ctx: &KeyContext) -> Result<Self, KeyError> {
        let pem = std::fs::read_to_string(path).map_err(|e| KeyError::KeyFile { path: path.to_owned(), source: e })?;
        let (label, doc) = der::Document::from_pem(&pem).map_err(|_| KeyError::Decrypt(path.to_owned()))?;
        if label != "ENCRYPTED PRIVATE KEY" {
            return Err(KeyError::Decrypt(path.to_owned()));
        }
        let passphrase = ctx.passphrase()?;
        let enc =
            EncryptedPrivateKeyInfoRef::from_der(doc.as_bytes()).map_err(|_| KeyError::Decrypt(path.to_owned()))?;
        let plain = enc.decrypt(passphrase.as_slice()).map_err(|_| KeyError::Decrypt(path.to_owned()))?;
        Self::from_pkcs8(path, plain.as_bytes())
    }

    /// Generate an unencrypted PKCS#8 key for a *device* (demo, benchmarks,
    /// tests): the device keeps it, hcpki never stores it.
    pub fn generate_device_key(algorithm: KeyAlgorithm) -> Result<(Self, Zeroizing<Vec<u8>>), KeyError> {
        let pkcs8 = Zeroizing::new(generate_pkcs8(algorithm)?);
        let key = Self::from_pkcs8(Path::new("(device key)"), &pkcs8)?;
        Ok((key, pkcs8))
    }

    fn from_pkcs8(path: &Path, pkcs8: &[u8]) -> Result<Self, KeyError> {
        let unsupported = || KeyError::UnsupportedKey(path.display().to_string());
        let info = PrivateKeyInfoRef::from_der(pkcs8).map_err(|_| unsupported())?;
        let (algorithm, inner, spki_der) = if info.algorithm.oid == const_oid::db::rfc5912::ID_EC_PUBLIC_KEY {
            let curve = info
                .algorithm
                .parameters
                .and_then(|p| p.decode_as::<const_oid::ObjectIdentifier>().ok())
                .ok_or_else(unsupported)?;
            let (alg, signing) = if curve == const_oid::db::rfc5912::SECP_256_R_1 {
                (KeyAlgorithm::P256, &signature::ECDSA_P256_SHA256_ASN1_SIGNING)
            } else if curve == const_oid::db::rfc5912::SECP_384_R_1 {
                (KeyAlgorithm::P384, &signature::ECDSA_P384_SHA384_ASN1_SIGNING)
            } else {
                return Err(unsupported());
            };
            let kp = EcdsaKeyPair::from_pkcs8(signing, pkcs8).map_err(|_| unsupported())?;
            let spki = kp.public_key().as_der().map_err(|e| KeyError::Crypto(e.to_string()))?.as_ref().to_vec();
            (alg, Inner::Ecdsa(kp), spki)
        } else if info.algorithm.oid == const_oid::db::rfc5912::RSA_ENCRYPTION {
            let kp = RsaKeyPair::from_pkcs8(pkcs8).map_err(|_| unsupported())?;
            let alg = match kp.public_modulus_len() * 8 {
                2048 => KeyAlgorithm::Rsa2048,
                3072 => KeyAlgorithm::Rsa3072,
                4096 => KeyAlgorithm::Rsa4096,
                _ => return Err(unsupported()),
            };
            let spki = kp.public_key().as_der().map_err(|e| KeyError::Crypto(e.to_string()))?.as_ref().to_vec();
            (alg, Inner::Rsa(kp), spki)
        } else {
            return Err(unsupported());
        };
        let spki = SubjectPublicKeyInfoOwned::from_der(&spki_der)?;
        let decrypting = match inner {
            Inner::Rsa(_) => Some(aws_lc_rs::rsa::PrivateDecryptingKey::from_pkcs8(pkcs8).map_err(|_| unsupported())?),
            Inner::Ecdsa(_) => None,
        };
        Ok(Self { path: path.to_owned(), algorithm, spki, inner, decrypting, rng: SystemRandom::new() })
    }
}

impl KeySource for SoftwareKey {
    fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    fn public_key(&self) -> &SubjectPublicKeyInfoOwned {
        &self.spki
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        match &self.inner {
            Inner::Ecdsa(kp) => {
                kp.sign(&self.rng, message).map(|s| s.as_ref().to_vec()).map_err(|e| KeyError::Crypto(e.to_string()))
            }
            Inner::Rsa(kp) => self.sign_rsa(kp, &signature::RSA_PKCS1_SHA256, message),
        }
    }

    fn sign_pss_sha256(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        match &self.inner {
            Inner::Rsa(kp) => self.sign_rsa(kp, &signature::RSA_PSS_SHA256, message),
            Inner::Ecdsa(_) => {
                Err(KeyError::UnsupportedKey(format!("{} (RSASSA-PSS needs an RSA key)", self.algorithm)))
            }
        }
    }
}

impl SoftwareKey {
    fn sign_rsa(
        &self,
        kp: &RsaKeyPair,
        padding: &'static dyn signature::RsaEncoding,
        message: &[u8],
    ) -> Result<Vec<u8>, KeyError> {
        let mut sig = vec![0u8; kp.public_modulus_len()];
        kp.sign(padding, &self.rng, message, &mut sig).map_err(|e| KeyError::Crypto(e.to_string()))?;
        Ok(sig)
    }
}

impl Decrypter for SoftwareKey {
    fn decrypt_pkcs1v15(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let key = self
            .decrypting
            .as_ref()
            .ok_or_else(|| KeyError::UnsupportedKey(format!("{} (decryption keys are RSA)", self.path.display())))?;
        let key =
            aws_lc_rs::rsa::Pkcs1PrivateDecryptingKey::new(key.clone()).map_err(|e| KeyError::Crypto(e.to_string()))?;
        let mut out = Zeroizing::new(vec![0u8; key.min_output_size()]);
        let n = key.decrypt(ciphertext, &mut out).map_err(|_| KeyError::Crypto("RSA decryption failed".into()))?.len();
        out.truncate(n);
        Ok(out)
    }
}

/// Fresh PKCS#8 v1 DER for `algorithm`.
fn generate_pkcs8(algorithm: KeyAlgorithm) -> Result<Vec<u8>, KeyError> {
    let crypto = |e: aws_lc_rs::error::Unspecified| KeyError::Crypto(e.to_string());
    match algorithm {
        KeyAlgorithm::P256 | KeyAlgorithm::P384 => {
            let alg = if algorithm == KeyAlgorithm::P256 {
                &signature::ECDSA_P256_SHA256_ASN1_SIGNING
            } else {
                &signature::ECDSA_P384_SHA384_ASN1_SIGNING
            };
            let kp = EcdsaKeyPair::generate(alg).map_err(crypto)?;
            Ok(kp.to_pkcs8v1().map_err(crypto)?.as_ref().to_vec())
        }
        KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096 => {
            let size = match algorithm {
                KeyAlgorithm::Rsa2048 => KeySize::Rsa2048,
                KeyAlgorithm::Rsa3072 => KeySize::Rsa3072,
                _ => KeySize::Rsa4096,
            };
            let kp = RsaKeyPair::generate(size).map_err(crypto)?;
            let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der<'static>>::as_der(&kp).map_err(crypto)?;
            Ok(der.as_ref().to_vec())
        }
    }
}

/// Create `path` (and its directory) with owner-only permissions; refuse to overwrite.
pub(crate) fn write_new_private_file(path: &Path, contents: &[u8]) -> Result<(), KeyError> {
    let io = |e: std::io::Error| KeyError::KeyFile { path: path.to_owned(), source: e };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists { KeyError::KeyFileExists(path.to_owned()) } else { io(e) }
    })?;
    f.write_all(contents).map_err(io)?;
    f.sync_all().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::verify;

    fn ctx(dir: &Path) -> KeyContext {
        let pass = dir.join("pass");
        std::fs::write(&pass, "correct horse battery staple\n").unwrap();
        KeyContext { base_dir: dir.to_owned(), passphrase_file: Some(pass), pkcs11: None }
    }

    #[test]
    fn generate_reopen_sign_verify_each_algorithm() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = ctx(dir.path());
        for alg in [KeyAlgorithm::P256, KeyAlgorithm::P384, KeyAlgorithm::Rsa2048] {
            let path = dir.path().join(format!("{alg}.p8"));
            let k = SoftwareKey::generate(&path, alg, &ctx).unwrap();
            let k2 = SoftwareKey::open(&path, &ctx).unwrap();
            assert_eq!(k.public_key(), k2.public_key());
            assert_eq!(k2.algorithm(), alg);
            let sig = k2.sign(b"message").unwrap();
            verify::verify_signature(k.public_key(), &alg.signature_algorithm(), b"message", &sig).unwrap();
            assert!(verify::verify_signature(k.public_key(), &alg.signature_algorithm(), b"other", &sig).is_err());
            assert!(matches!(SoftwareKey::generate(&path, alg, &ctx), Err(KeyError::KeyFileExists(_))));
        }
    }

    /// PS256 token signing: RSASSA-PSS verifies with aws-lc-rs; an EC key refuses.
    #[test]
    fn rsa_pss_signatures_verify() {
        use aws_lc_rs::signature::{RSA_PSS_2048_8192_SHA256, UnparsedPublicKey};
        let dir = tempfile::tempdir().unwrap();
        let ctx = ctx(dir.path());
        let key = SoftwareKey::generate(&dir.path().join("rsa.p8"), KeyAlgorithm::Rsa2048, &ctx).unwrap();
        let sig = key.sign_pss_sha256(b"header.payload").unwrap();
        let public = UnparsedPublicKey::new(&RSA_PSS_2048_8192_SHA256, key.public_key().subject_public_key.raw_bytes());
        public.verify(b"header.payload", &sig).unwrap();
        assert!(public.verify(b"other", &sig).is_err());
        let ec = SoftwareKey::generate(&dir.path().join("ec.p8"), KeyAlgorithm::P256, &ctx).unwrap();
        assert!(matches!(ec.sign_pss_sha256(b"x"), Err(KeyError::UnsupportedKey(_))));
    }

    #[test]
    fn wrong_passphrase_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let ctx1 = ctx(dir.path());
        let path = dir.path().join("k.p8");
        SoftwareKey::generate(&path, KeyAlgorithm::P256, &ctx1).unwrap();
        std::fs::write(dir.path().join("pass"), "wrong").unwrap();
        assert!(matches!(SoftwareKey::open(&path, &ctx1), Err(KeyError::Decrypt(_))));
    }
}
