//! DPoP (RFC 9449): access tokens bound to a key the client holds, for clients that cannot do mutual TLS
//! (phones, browser apps). A client proves the key on each request with a `DPoP` header, a JWS (`typ`
//! `dpop+jwt`) signed by that key and carrying its public JWK, naming the request (`htm`, `htu`), when it was
//! made (`iat`), a single-use `jti`, and at a resource the access token's hash (`ath`). The token endpoint
//! binds the access token to the key's RFC 7638 thumbprint (`cnf.jkt`); userinfo takes such a token only with
//! a proof by the same key.
//!
//! HTTP-free: [`verify`] checks a proof against what the request was ([`Expected`]) at `now`, writing nothing;
//! the caller records [`Proof::once`] (single use, scoped to the key) and binds or compares [`Proof::jkt`].
//! Server nonces (§8) are stateless ([`NonceKey`]): an HMAC of a five-minute window under a key derived from the
//! portal secret, which every replica shares, so any replica accepts a nonce another one issued.

use super::OAuthError;
use super::jws::{self, JwsError, Parsed};
use crate::dpop_nonce::NonceKey;
use hcpki_ca::store::OnceRecord;
// How far a proof's `iat` may be from our clock either way: the skew tolerated everywhere else.
use hcpki_pkix::time::CLOCK_LEEWAY_SECS;
use serde_json::Value;

/// The JWS algorithms a proof may use (discovery's `dpop_signing_alg_values_supported`): those
/// [`jws::Parsed::parse`] accepts; `none` and HS* never.
pub const ALGS: [&str; 3] = ["ES256", "RS256", "PS256"];
/// The `typ` of a proof's header (RFC 9449 §4.2).
pub const TYP: &str = "dpop+jwt";
/// The single-use table's kind for proof jtis.
pub const ONCE_KIND: &str = "dpop";
/// Longest `jti` kept: the single-use table's key is built from it.
const MAX_JTI: usize = 256;
/// JWK members of private keys (RFC 7518 §6.2.2, §6.3.2, §6.4): a proof's key is public.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// What a proof must say for the request it comes with.
#[derive(Clone, Debug)]
pub struct Expected<'a> {
    /// The request's method (`htm`).
    pub htm: &'a str,
    /// The endpoint's URLs (`htu`, without query or fragment): on the portal listener and on the mTLS one.
    pub htu: &'a [String],
    /// At a resource: base64url SHA-256 of the access token presented (`ath`, RFC 9449 §4.2).
    pub ath: Option<&'a str>,
}

/// A proof that verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proof {
    /// RFC 7638 thumbprint of the proof's key (base64url SHA-256): `cnf.jkt`.
    pub jkt: String,
    /// `jti`.
    pub jti: String,
    /// `iat`.
    pub iat: i64,
}

impl Proof {
    /// The proof's jti, to record single-use: scoped to the key (RFC 9449 §11.1), kept while a replica could
    /// still take the proof (its `iat` plus the leeway by its own clock), plus the leeway of the replica that
    /// sweeps the row, plus one more for good measure.
    pub fn once(&self) -> OnceRecord {
        OnceRecord {
            kind: ONCE_KIND.into(),
            // Length-prefixed, like client assertion jtis: no (key, jti) pair collides with another.
            key: format!("{}:{}:{}", self.jkt.len(), self.jkt, self.jti),
            // Saturating: `iat` came from the client (within the leeway of now once verified, but a `Proof` is a
            // plain value and must not wrap into a record that is already expired).
            expires_at: self.iat.saturating_add(3 * CLOCK_LEEWAY_SECS),
        }
    }
}

/// Why a DPoP proof is refused. Each is `invalid_dpop_proof` (RFC 9449 §4.3, §7.1) but a missing or stale
/// server nonce, which is `use_dpop_nonce` (§8) and comes with a fresh one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DpopError {
    /// `Authorization: DPoP` without a `DPoP` header.
    #[error("send the request's DPoP proof in a DPoP header with Authorization: DPoP")]
    Missing,
    /// More than one `DPoP` header.
    #[error("send exactly one DPoP header")]
    Several,
    /// A `DPoP` header that is not text.
    #[error("the DPoP header is not a compact JWS")]
    NotText,
    /// Not a compact JWS, or its parts do not decode.
    #[error("the DPoP proof is malformed: {0}")]
    Malformed(&'static str),
    /// `alg` is not ES256, RS256 or PS256.
    #[error("the DPoP proof's alg {0:?} is not accepted: sign with ES256, RS256 or PS256")]
    Algorithm(String),
    /// The header's `typ` is not `dpop+jwt`.
    #[error("the DPoP proof's typ must be dpop+jwt")]
    Type,
    /// No `jwk` in the header, or not an EC P-256 or RSA public key.
    #[error("the DPoP proof's header must carry its public key as jwk (EC P-256 or RSA)")]
    Key,
    /// The `jwk` holds private key members.
    #[error("the DPoP proof's jwk holds a private key: send the public key only, and replace this key")]
    PrivateKey,
    /// The signature does not verify with the header's key (or the key does not fit `alg`).
    #[error("the DPoP proof's signature does not verify with its jwk")]
    Signature,
    /// No `jti`, or one too long.
    #[error("the DPoP proof needs a jti (a unique id, at most 256 characters)")]
    Jti,
    /// `htm` is not the request's method.
    #[error("the DPoP proof's htm must be this request's method ({0})")]
    Method(String),
    /// `htu` is not this endpoint's URL.
    #[error("the DPoP proof's htu must be this endpoint's URL")]
    Uri,
    /// `iat` missing, or more than the leeway before or after now.
    #[error("the DPoP proof's iat must be within a minute of now: make a fresh proof for each request")]
    Time,
    /// At a resource: no `ath`, or not the hash of the access token presented.
    #[error("the DPoP proof's ath must be the base64url SHA-256 of the access token")]
    TokenHash,
    /// The proof's `jti` was used before with this key.
    #[error("the DPoP proof was used before (jti replay): make a fresh proof for each request")]
    Replayed,
    /// The single-use table could not be written (logged; answered as a server error).
    #[error("the provider cannot record the DPoP proof now: {0}")]
    Store(String),
    /// No server nonce, or one that is not (any longer) ours.
    #[error("the DPoP proof must carry the server's nonce: retry with the DPoP-Nonce this answer carries")]
    Nonce,
}

impl DpopError {
    /// The OAuth error (RFC 9449 §4.3, §8): `use_dpop_nonce` for a nonce, `invalid_dpop_proof` otherwise.
    pub fn error(&self) -> &'static str {
        match self {
            Self::Nonce => "use_dpop_nonce",
            Self::Store(_) => "server_error",
            _ => "invalid_dpop_proof",
        }
    }

    /// The answer at the token endpoint: 400 with [`DpopError::error`] (a server error for the store's).
    pub fn oauth(&self) -> OAuthError {
        match self {
            Self::Store(cause) => OAuthError::server(cause),
            _ => OAuthError::new(self.error(), self.to_string()),
        }
    }
}

/// The value of a request's `DPoP` headers: none, one proof, or why not (several, not text).
pub fn header<'a>(values: impl IntoIterator<Item = Option<&'a str>>) -> Option<Result<String, DpopError>> {
    let mut values = values.into_iter();
    let first = values.next()?;
    if values.next().is_some() {
        return Some(Err(DpopError::Several));
    }
    Some(first.map(str::to_owned).ok_or(DpopError::NotText))
}

/// Verify `proof` for the request `expected` describes at `now` (RFC 9449 §4.3), with the server nonce when
/// `nonces` is given (nonces required). Writes nothing: the caller records [`Proof::once`].
pub fn verify(proof: &str, expected: &Expected<'_>, nonces: Option<&NonceKey>, now: i64) -> Result<Proof, DpopError> {
    let parsed = Parsed::parse(proof).map_err(|e| match e {
        JwsError::Algorithm(alg) => DpopError::Algorithm(alg),
        JwsError::Malformed(why) => DpopError::Malformed(why),
        _ => DpopError::Malformed("not a compact JWS"),
    })?;
    if parsed.header.get("typ").and_then(Value::as_str) != Some(TYP) {
        return Err(DpopError::Type);
    }
    let jwk = parsed.header.get("jwk").filter(|k| k.is_object()).ok_or(DpopError::Key)?;
    if PRIVATE_MEMBERS.iter().any(|m| jwk.get(*m).is_some()) {
        return Err(DpopError::PrivateKey);
    }
    let public = match jwk.get("kty").and_then(Value::as_str) {
        Some("EC") => jwk.get("crv").and_then(Value::as_str) == Some("P-256"),
        Some("RSA") => true,
        _ => false,
    };
    if !public {
        return Err(DpopError::Key);
    }
    jws::verify_with(jwk, &parsed).map_err(|_| DpopError::Signature)?;
    let claims = &parsed.claims;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let jti = text("jti").filter(|j| !j.is_empty() && j.len() <= MAX_JTI).ok_or(DpopError::Jti)?;
    if text("htm") != Some(expected.htm) {
        return Err(DpopError::Method(expected.htm.to_owned()));
    }
    // §4.3: compared without the query and fragment.
    let htu = text("htu").map(|u| u.split(['?', '#']).next().unwrap_or_default());
    if !htu.is_some_and(|u| expected.htu.iter().any(|e| e == u)) {
        return Err(DpopError::Uri);
    }
    let iat = claims.get("iat").and_then(Value::as_i64).ok_or(DpopError::Time)?;
    // The distance without overflow: `(iat - now).abs()` is `i64::MIN` for `iat = i64::MIN + now`, which wraps
    // to itself in a release build (negative, so "within the leeway"), and the proof's single-use record would
    // then expire at once (issue #42 item 6).
    if iat.abs_diff(now) > CLOCK_LEEWAY_SECS.unsigned_abs() {
        return Err(DpopError::Time);
    }
    if let Some(ath) = expected.ath
        && text("ath") != Some(ath)
    {
        return Err(DpopError::TokenHash);
    }
    if let Some(nonces) = nonces
        && !text("nonce").is_some_and(|n| nonces.accepts(n, now))
    {
        return Err(DpopError::Nonce);
    }
    Ok(Proof { jkt: jws::thumbprint(jwk), jti: jti.to_owned(), iat })
}

/// `ath`: base64url SHA-256 of an access token (RFC 9449 §4.2).
pub fn token_hash(access_token: &str) -> String {
    jws::sha256_b64(access_token.as_bytes())
}

#[cfg(test)]
mod tests;
