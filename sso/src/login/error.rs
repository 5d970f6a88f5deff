//! Why a card login was refused: one variant per cause, each saying what the user (or operator) should do,
//! with a short stable code for audit lines and metrics.

use hcpki_ca::store::StoreError;

/// A refused card login. `Display` is the message for the user; [`CardLoginError::code`] the audit reason.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CardLoginError {
    /// The challenge was never issued, or was used already (a replayed post). Reload the login page.
    #[error("this login request is unknown or was already used: reload the login page and tap the card again")]
    UnknownChallenge,
    /// The challenge's lifetime ended before the post arrived. Reload the login page.
    #[error("this login request expired at {expired_at}: reload the login page and tap the card again")]
    ExpiredChallenge {
        /// When it expired (RFC 3339).
        expired_at: String,
    },
    /// The challenge was issued to another browser session than the one posting it.
    #[error("this login request belongs to another browser session: reload the login page in this browser")]
    BindingMismatch,
    /// The challenge was issued for another origin than the one it is presented at.
    #[error("this login request was issued for {issued_for}, not {presented_at}: open the portal at its own address")]
    WrongOrigin {
        /// The origin recorded with the challenge.
        issued_for: String,
        /// The origin the post came to.
        presented_at: String,
    },
    /// The signature does not verify over the message rebuilt from this portal's origin and the challenge
    /// (forged, made for another site, or by another key than the certificate's).
    #[error(
        "the card's signature does not match this login request: open the portal at its own address, make \
         sure the card agent is current, and try again"
    )]
    BadSignature,
    /// The card certificate's key is not one hcpki verifies card signatures with: an EC key on another curve than
    /// P-384, or neither RSA nor EC (D153).
    #[error("the card's key cannot be used for a login ({detail}): use a card whose key is RSA or ECDSA P-384")]
    UnsupportedKey {
        /// What the key is, in words.
        detail: String,
    },
    /// The ECDSA signature posted is not a well-formed P-384 value (bad DER, r or s zero or out of range).
    #[error(
        "the card's signature is malformed ({detail}): update the card agent; if it persists, report the card to \
         the operator"
    )]
    MalformedSignature {
        /// What is wrong with it.
        detail: String,
    },
    /// What was posted is not a signature and a DER certificate chain.
    #[error("the card data is malformed ({what}): update the card agent; if it persists, report it to the operator")]
    Malformed {
        /// What could not be read.
        what: String,
    },
    /// No path from the certificate to a configured HPKI or JPKI trust anchor.
    #[error(
        "the card's certificate is not from a trusted card issuer ({detail}): use an HPKI or My Number card of \
         a recognised issuer, or ask the operator to add its CA"
    )]
    UntrustedChain {
        /// What failed, naming the certificate.
        detail: String,
    },
    /// The card's certificate is past its notAfter.
    #[error("the card's certificate expired on {not_after}: renew the card with its issuer")]
    ExpiredCard {
        /// notAfter (RFC 3339).
        not_after: String,
    },
    /// The card's certificate is not valid yet (or the server's clock is wrong).
    #[error("the card's certificate is valid only from {not_before}: check the card, or the server's clock")]
    NotYetValid {
        /// notBefore (RFC 3339).
        not_before: String,
    },
    /// The card is on its issuer's CRL.
    #[error("the card was revoked by its issuer on {at} (reason: {reason}; {certificate}): contact the card's issuer")]
    Revoked {
        /// RFC 5280 reason name.
        reason: String,
        /// Revocation time (RFC 3339).
        at: String,
        /// Which certificate: issuer and serial.
        certificate: String,
    },
    /// A CA between the card and the trust anchor is on its parent's CRL (an ARL): no card it issued is
    /// accepted, whatever its own status.
    #[error(
        "the card's issuing certificate authority was revoked by its parent on {at} (reason: {reason}; \
         {certificate}): no card of that authority is accepted; contact the card's issuer"
    )]
    IssuerRevoked {
        /// RFC 5280 reason name.
        reason: String,
        /// Revocation time (RFC 3339).
        at: String,
        /// Which CA certificate: its issuer and serial, and its subject.
        certificate: String,
    },
    /// No fresh CRL is cached for a CA of the path and the policy is fail-closed.
    #[error(
        "the card's revocation status cannot be checked now ({detail}): try again later; if it persists, tell \
         the operator that the CRL cache is not current"
    )]
    RevocationUnknown {
        /// Which CA, and why (missing, stale).
        detail: String,
    },
    /// The certificate is not a card authentication certificate (a signature certificate, a CA, wrong usage).
    #[error(
        "the certificate used is not the card's authentication certificate ({detail}): let the card agent use \
         the authentication key"
    )]
    NotAuthCertificate {
        /// What was wrong with it.
        detail: String,
    },
    /// The database could not be reached; nothing about the card is known yet.
    #[error("the login service is unavailable ({0}): try again in a moment")]
    Store(#[from] StoreError),
}

impl CardLoginError {
    /// A short stable reason for audit entries and metrics (`login.card` denied entries carry it as `reason`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownChallenge => "challenge_unknown",
            Self::ExpiredChallenge { .. } => "challenge_expired",
            Self::BindingMismatch => "challenge_binding",
            Self::WrongOrigin { .. } => "wrong_origin",
            Self::BadSignature => "bad_signature",
            Self::Malformed { .. } => "malformed",
            Self::UnsupportedKey { .. } => "unsupported_key",
            Self::MalformedSignature { .. } => "malformed_signature",
            Self::UntrustedChain { .. } => "untrusted_chain",
            Self::ExpiredCard { .. } => "card_expired",
            Self::NotYetValid { .. } => "card_not_yet_valid",
            Self::Revoked { .. } => "card_revoked",
            Self::IssuerRevoked { .. } => "issuer_revoked",
            Self::RevocationUnknown { .. } => "revocation_unknown",
            Self::NotAuthCertificate { .. } => "not_auth_certificate",
            Self::Store(_) => "unavailable",
        }
    }
}
