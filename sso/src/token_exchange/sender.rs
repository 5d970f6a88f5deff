//! The sender constraint across a token exchange (issue #42 item 2). A subject token bound to a DPoP key
//! (`cnf.jkt`, RFC 9449 §6) or to a client certificate (`cnf.x5t#S256`, RFC 8705 §3) is exchanged only when the
//! caller proves possession at the exchange — a DPoP proof by that key, or that certificate on the mTLS
//! connection — and the token issued is bound the same way. Otherwise whoever stole a bound token and could
//! authenticate as its audience would turn it into a bearer token for another service, and the binding would
//! have bought nothing. An unbound subject token is bound to what the caller proved, if anything, as the token
//! endpoint binds the tokens of a code or a refresh.
//!
//! Pure: [`Binding::of`] reads a verified token's `cnf`, [`carried`] decides; proving the DPoP key (the proof's
//! signature, `htu`, nonce, single-use `jti`) and the certificate's status in the registry are the caller's.

use crate::oidc::claims::Confirmation;
use crate::oidc::jws;
use serde_json::Value;

/// How a token is bound: its `cnf` claim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Binding {
    /// No `cnf`: a bearer token.
    Bearer,
    /// `cnf.jkt`: the RFC 7638 thumbprint of a DPoP key.
    Key(String),
    /// `cnf.x5t#S256`: base64url SHA-256 of a client certificate's DER.
    Certificate(String),
}

impl Binding {
    /// The binding a verified token's `claims` carry. A `cnf` this provider never writes (neither member, or
    /// both) is refused rather than read as no binding.
    pub fn of(claims: &Value) -> Result<Self, SenderError> {
        let Some(cnf) = claims.get("cnf") else { return Ok(Self::Bearer) };
        let member = |name: &str| cnf.get(name).and_then(Value::as_str).map(str::to_owned);
        match (member("jkt"), member("x5t#S256")) {
            (Some(jkt), None) => Ok(Self::Key(jkt)),
            (None, Some(x5t)) => Ok(Self::Certificate(x5t)),
            _ => Err(SenderError::UnknownBinding),
        }
    }
}

/// What the caller proved at the exchange.
#[derive(Clone, Copy, Debug, Default)]
pub struct Possession<'a> {
    /// The thumbprint of the key of the request's DPoP proof, verified and its `jti` recorded.
    pub dpop_jkt: Option<&'a str>,
    /// The client certificate of the mTLS connection (DER).
    pub certificate: Option<&'a [u8]>,
}

/// The `cnf` of the token issued for a subject token bound as `subject`, to a caller that proved `possession`;
/// none for a bearer token, which only an unbound subject token exchanged without a key or a certificate gives.
pub fn carried(subject: &Binding, possession: Possession<'_>) -> Result<Option<Confirmation>, SenderError> {
    match subject {
        Binding::Key(bound) => match possession.dpop_jkt {
            Some(jkt) if jkt == bound => Ok(Some(Confirmation::dpop(jkt))),
            Some(_) => Err(SenderError::OtherKey),
            None => Err(SenderError::KeyNotProven),
        },
        Binding::Certificate(bound) => match possession.certificate {
            Some(der) if jws::sha256_b64(der) == *bound => Ok(Some(Confirmation::certificate(der))),
            _ => Err(SenderError::CertificateNotPresented),
        },
        Binding::Bearer => Ok(match (possession.dpop_jkt, possession.certificate) {
            (Some(jkt), _) => Some(Confirmation::dpop(jkt)),
            (None, Some(der)) => Some(Confirmation::certificate(der)),
            (None, None) => None,
        }),
    }
}

/// Why a bound subject token is not exchanged; the OAuth error of each is [`SenderError::error`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SenderError {
    /// Bound to a DPoP key, and the request carried no proof.
    #[error(
        "the subject_token is bound to a DPoP key (cnf.jkt): exchange it with a DPoP proof made with that key, over \
         a connection without a client certificate"
    )]
    KeyNotProven,
    /// Bound to a DPoP key, and the proof was made with another.
    #[error(
        "the subject_token is bound to another DPoP key than the proof's: exchange it with a proof made with the \
         key it is bound to"
    )]
    OtherKey,
    /// Bound to a client certificate the connection did not present.
    #[error(
        "the subject_token is bound to a client certificate (cnf.x5t#S256, RFC 8705): exchange it at the mTLS \
         token endpoint with that certificate"
    )]
    CertificateNotPresented,
    /// The certificate it is bound to no longer vouches for it (revoked, on hold, expired).
    #[error("the subject_token cannot be exchanged: {0}")]
    Withdrawn(String),
    /// A `cnf` this provider never writes.
    #[error("the subject_token's cnf binds it in a way this provider does not know: it cannot be exchanged")]
    UnknownBinding,
}

impl SenderError {
    /// The OAuth error: `invalid_dpop_proof` where a proof by the token's key is what is missing (RFC 9449 §5,
    /// as at a refresh of a bound grant), `invalid_request` for an unacceptable subject token (RFC 8693 §2.2.2).
    pub fn error(&self) -> &'static str {
        match self {
            Self::KeyNotProven | Self::OtherKey => "invalid_dpop_proof",
            _ => "invalid_request",
        }
    }
}
