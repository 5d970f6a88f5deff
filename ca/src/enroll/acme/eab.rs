//! External Account Binding keys, derived rather than stored (decision D17).
//!
//! `eab_hmac_key = HMAC-SHA-256(K, "hcpki acme eab v1" ‖ kid ‖ salt)`, where K is the deployment's 256-bit
//! enrollment key (`secrets/enrollment-key`, the same class of root secret as the key passphrase) and `kid`
//! and `salt` are the credential's. The credential row keeps only the salted hash of the derived key, like
//! every other credential, so the database alone yields no EAB key; verifying an EAB MAC re-derives it.

use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Domain separation for the derivation, versioned so a later scheme cannot collide.
const LABEL: &[u8] = b"hcpki acme eab v1";
/// Bytes in K.
const KEY_BYTES: usize = 32;
/// Where K lives, relative to the hcpki directory.
pub const ENROLLMENT_KEY_FILE: &str = "secrets/enrollment-key";

/// The deployment's enrollment key K.
pub struct EnrollmentKey(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for EnrollmentKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EnrollmentKey(..)")
    }
}

/// Why K could not be read or made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EabKeyError {
    /// The file could not be read or created.
    #[error(
        "cannot use the enrollment key {path}: {source}; it must be a 0600 file of 64 hex digits shared by all \
         server replicas"
    )]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file holds something else than 64 hex digits.
    #[error("the enrollment key {0} is damaged: it must hold 64 hex digits; restore it from backup")]
    Damaged(PathBuf),
    /// The random generator failed.
    #[error("cannot make an enrollment key: {0}")]
    Random(String),
}

impl EnrollmentKey {
    /// Read `<dir>/secrets/enrollment-key`, creating it (0600, 256 random bits as hex) on first need.
    pub fn load_or_create(dir: &Path) -> Result<Self, EabKeyError> {
        let path = dir.join(ENROLLMENT_KEY_FILE);
        match Self::load(&path) {
            Err(EabKeyError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => Self::create(&path),
            other => other,
        }
    }

    /// Read an existing K.
    pub fn load(path: &Path) -> Result<Self, EabKeyError> {
        let text = Zeroizing::new(
            std::fs::read_to_string(path).map_err(|source| EabKeyError::Io { path: path.to_owned(), source })?,
        );
        let bytes = Zeroizing::new(hex::decode(text.trim()).map_err(|_| EabKeyError::Damaged(path.to_owned()))?);
        if bytes.len() != KEY_BYTES {
            return Err(EabKeyError::Damaged(path.to_owned()));
        }
        Ok(Self(bytes))
    }

    fn create(path: &Path) -> Result<Self, EabKeyError> {
        let io = |source| EabKeyError::Io { path: path.to_owned(), source };
        let bytes = hcpki_pkix::keys::random_secret(KEY_BYTES).map_err(|e| EabKeyError::Random(e.to_string()))?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        match opts.open(path) {
            Ok(mut f) => {
                let text = Zeroizing::new(hex::encode(bytes.as_slice()));
                std::io::Write::write_all(&mut f, text.as_bytes()).map_err(io)?;
                f.sync_all().map_err(io)?;
                Ok(Self(bytes))
            }
            // Another process made it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::load(path),
            Err(e) => Err(io(e)),
        }
    }

    /// A key for another of the deployment's shared secrets (e.g. the web console's CSRF tokens), named by
    /// `purpose`: every replica on the same hcpki directory derives the same one, and no EAB key equals it
    /// (another label).
    pub fn derive_for(&self, purpose: &str) -> Zeroizing<Vec<u8>> {
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &self.0);
        let mut ctx = aws_lc_rs::hmac::Context::with_key(&key);
        ctx.update(b"hcpki derived key v1\0");
        ctx.update(purpose.as_bytes());
        Zeroizing::new(ctx.sign().as_ref().to_vec())
    }

    /// The EAB HMAC key of credential `kid` with `salt`.
    pub fn derive(&self, kid: &str, salt: &str) -> Zeroizing<Vec<u8>> {
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &self.0);
        let mut ctx = aws_lc_rs::hmac::Context::with_key(&key);
        ctx.update(LABEL);
        ctx.update(kid.as_bytes());
        ctx.update(salt.as_bytes());
        Zeroizing::new(ctx.sign().as_ref().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_and_derivation_depends_on_everything() {
        let dir = tempfile::tempdir().unwrap();
        let k = EnrollmentKey::load_or_create(dir.path()).unwrap();
        let again = EnrollmentKey::load_or_create(dir.path()).unwrap();
        assert_eq!(k.derive("a", "s").as_slice(), again.derive("a", "s").as_slice());
        assert_ne!(k.derive("a", "s").as_slice(), k.derive("b", "s").as_slice());
        assert_ne!(k.derive("a", "s").as_slice(), k.derive("a", "t").as_slice());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(ENROLLMENT_KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(dir.path().join(ENROLLMENT_KEY_FILE), "zz").unwrap();
        assert!(matches!(EnrollmentKey::load_or_create(dir.path()), Err(EabKeyError::Damaged(_))));
    }
}
