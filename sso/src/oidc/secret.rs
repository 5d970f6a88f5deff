//! The provider's random tokens (codes, refresh tokens) and the hashes the store keeps of them.

use super::error::OAuthError;
use super::jws;

/// A random base64url token of `n` bytes.
pub fn random_token(n: usize) -> Result<String, OAuthError> {
    use base64::Engine as _;
    let bytes = hcpki_pkix::keys::random_secret(n).map_err(OAuthError::server)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes.as_slice()))
}

/// SHA-256 hex of a secret, as the store keeps codes and refresh tokens.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(jws::sha256(secret.as_bytes()))
}

/// The `sid` clients see for a session: derived from its id hash, never the hash itself.
pub fn sid(session_hash: &str) -> String {
    hash_secret(&format!("sid:{session_hash}")).chars().take(32).collect()
}
