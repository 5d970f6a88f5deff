//! The portal's server secret: 32 random bytes in a file (`[portal] secret_file`, made on first start, mode
//! 0600), from which every symmetric key of the portal is derived by HMAC-SHA256 with a label. Replicas
//! share the file, so sessions, sealed TOTP secrets and pairwise `sub` values agree across them (D24).

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use std::path::Path;
use zeroize::Zeroizing;

/// Length of the secret.
const LEN: usize = 32;

/// The loaded secret and the keys derived from it.
pub struct PortalSecret {
    csrf: hmac::Key,
    pairwise: hmac::Key,
    handle: hmac::Key,
    activity: hmac::Key,
    totp_seal: hcpki_pkix::seal::SealKey,
    enrolment_seal: hcpki_pkix::seal::SealKey,
    psk_seal: hcpki_pkix::seal::SealKey,
    patient_keys: crate::patient_key::PatientKeySecret,
    dpop_nonces: crate::dpop_nonce::NonceKey,
}

impl std::fmt::Debug for PortalSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PortalSecret(..)")
    }
}

impl PortalSecret {
    /// Read the secret file, making it first when it does not exist.
    pub fn load_or_create(path: &Path) -> Result<Self, SecretError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => Zeroizing::new(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(path)?,
            Err(source) => return Err(SecretError::Io { path: path.display().to_string(), source }),
        };
        if bytes.len() != LEN {
            return Err(SecretError::Length(path.display().to_string()));
        }
        Self::from_bytes(&bytes)
    }

    fn from_bytes(secret: &[u8]) -> Result<Self, SecretError> {
        let root = hmac::Key::new(hmac::HMAC_SHA256, secret);
        let derive = |label: &str| Zeroizing::new(hmac::sign(&root, label.as_bytes()).as_ref().to_vec());
        let seal = derive("hcpki portal totp-seal v1");
        let totp_seal = hcpki_pkix::seal::SealKey::new(&seal).map_err(|e| SecretError::Crypto(e.to_string()))?;
        Ok(Self {
            csrf: hmac::Key::new(hmac::HMAC_SHA256, &derive("hcpki portal csrf v1")),
            pairwise: hmac::Key::new(hmac::HMAC_SHA256, &derive("hcpki portal pairwise-sub v1")),
            handle: hmac::Key::new(hmac::HMAC_SHA256, &derive("hcpki portal session-handle v1")),
            activity: hmac::Key::new(hmac::HMAC_SHA256, &derive("hcpki portal session-activity v1")),
            totp_seal,
            enrolment_seal: hcpki_pkix::seal::SealKey::new(&derive("hcpki portal enrolment-offer v1"))
                .map_err(|e| SecretError::Crypto(e.to_string()))?,
            psk_seal: hcpki_pkix::seal::SealKey::new(&derive("hcpki router-psk seal v1"))
                .map_err(|e| SecretError::Crypto(e.to_string()))?,
            dpop_nonces: crate::dpop_nonce::NonceKey::new(&derive("hcpki oidc dpop-nonce v1")),
            patient_keys: crate::patient_key::PatientKeySecret::from_server_secret(secret)
                .map_err(|e| SecretError::Crypto(e.to_string()))?,
        })
    }

    /// The key patients' pseudonymous keys are made with (issue #28, D88): the same on every replica.
    pub fn patient_keys(&self) -> &crate::patient_key::PatientKeySecret {
        &self.patient_keys
    }

    /// The key of the OIDC provider's DPoP nonces (RFC 9449 §8): the same on every replica.
    pub fn dpop_nonces(&self) -> &crate::dpop_nonce::NonceKey {
        &self.dpop_nonces
    }

    /// The CSRF token of the session whose cookie id is `session_id`: derived, so nothing more is stored.
    pub fn csrf_token(&self, session_id: &str) -> String {
        B64.encode(hmac::sign(&self.csrf, session_id.as_bytes()))
    }

    /// The MAC of the activity stamp "session `id_hash` was used at `at`" (the idle lock's cookie, D161).
    pub fn activity_mac(&self, id_hash: &str, at: i64) -> String {
        B64.encode(hmac::sign(&self.activity, format!("{id_hash}\0{at}").as_bytes()))
    }

    /// The opaque handle of the session whose id hash is `id_hash` on its person's sessions page: forms name a
    /// session by it, so the page never shows what identifies a session elsewhere (the id hash keys grants
    /// and the database; the `sid` reaches relying parties).
    pub fn session_handle(&self, id_hash: &str) -> String {
        B64.encode(hmac::sign(&self.handle, id_hash.as_bytes()))
    }

    /// The pairwise subject of `person_key` for sector `sector` (OIDC Core §8.1).
    pub fn pairwise_sub(&self, sector: &str, person_key: &str) -> String {
        let mut ctx = hmac::Context::with_key(&self.pairwise);
        ctx.update(sector.as_bytes());
        ctx.update(&[0]);
        ctx.update(person_key.as_bytes());
        B64.encode(ctx.sign())
    }

    /// Seal a TOTP secret for storage, bound to the account name.
    pub fn seal(&self, username: &str, plain: &[u8]) -> Result<String, SecretError> {
        self.totp_seal.seal(username.as_bytes(), plain).map_err(|e| SecretError::Crypto(e.to_string()))
    }

    /// Open a sealed TOTP secret.
    pub fn open(&self, username: &str, sealed: &str) -> Result<Zeroizing<Vec<u8>>, SecretError> {
        self.totp_seal.open(username.as_bytes(), sealed).map_err(|_| SecretError::Sealed)
    }

    /// Seal a second-factor enrolment offer (D161) for `username`: a key of its own, so an offer is never taken
    /// for a stored secret nor the other way round.
    pub fn seal_enrolment(&self, username: &str, plain: &[u8]) -> Result<String, SecretError> {
        self.enrolment_seal.seal(username.as_bytes(), plain).map_err(|e| SecretError::Crypto(e.to_string()))
    }

    /// Open what [`Self::seal_enrolment`] sealed for `username`.
    pub fn open_enrolment(&self, username: &str, sealed: &str) -> Result<Zeroizing<Vec<u8>>, SecretError> {
        self.enrolment_seal.open(username.as_bytes(), sealed).map_err(|_| SecretError::Sealed)
    }

    /// The key that seals routers' pre-shared keys (D156): derived with a label of its own, so it shares
    /// nothing with the TOTP seal but is the same on every replica and in `hcpki psk`.
    pub fn psk_seal_key(&self) -> &hcpki_pkix::seal::SealKey {
        &self.psk_seal
    }
}

fn create(path: &Path) -> Result<Zeroizing<Vec<u8>>, SecretError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let io = |source| SecretError::Io { path: path.display().to_string(), source };
    let bytes = hcpki_pkix::keys::random_secret(LEN).map_err(|e| SecretError::Crypto(e.to_string()))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(io)?;
    f.write_all(&bytes).map_err(io)?;
    tracing::info!(path = %path.display(), "portal secret created");
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trip_is_bound_to_the_name() {
        let s = PortalSecret::from_bytes(&[7u8; LEN]).unwrap();
        let sealed = s.seal("alice", b"12345678901234567890").unwrap();
        assert_eq!(s.open("alice", &sealed).unwrap().as_slice(), b"12345678901234567890");
        assert!(s.open("bob", &sealed).is_err());
        assert_ne!(s.pairwise_sub("a.example", "p1"), s.pairwise_sub("b.example", "p1"));
    }

    #[test]
    fn session_handles_are_keyed_and_distinct_from_the_csrf_token() {
        let s = PortalSecret::from_bytes(&[7u8; LEN]).unwrap();
        let other = PortalSecret::from_bytes(&[8u8; LEN]).unwrap();
        assert_eq!(s.session_handle("h1"), s.session_handle("h1"), "stable across requests and replicas");
        assert_ne!(s.session_handle("h1"), s.session_handle("h2"));
        assert_ne!(s.session_handle("h1"), other.session_handle("h1"), "another secret, another handle");
        assert_ne!(s.session_handle("h1"), s.csrf_token("h1"), "a label of its own");
    }
}

/// Why the portal secret is unusable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The file could not be read or made.
    #[error("portal secret file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not 32 bytes.
    #[error("portal secret file {0} is not 32 bytes: restore it from backup (replicas must share it)")]
    Length(String),
    /// A sealed value does not open: another secret file, or damaged data.
    #[error("a sealed TOTP secret does not open with this portal secret: was secret_file replaced?")]
    Sealed,
    /// The crypto library failed.
    #[error("cryptographic operation failed: {0}")]
    Crypto(String),
}
