//! Why a passkey registration or sign-in was refused. Each message says what the person (or the operator) does
//! next; the audit entry carries the variant's code ([`PasskeyError::code`]).

/// A refused WebAuthn ceremony.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PasskeyError {
    /// The browser's answer is not well-formed (truncated CBOR, a missing field, a wrong length): nothing was
    /// registered or signed in. Try again; if it repeats, use another authenticator or browser.
    #[error("the authenticator's answer is not well-formed ({part}: {why}): try again, or use another authenticator")]
    Malformed {
        /// Which part: `clientDataJSON`, `authenticatorData`, `attestationObject`, `publicKey`, …
        part: &'static str,
        /// What was wrong with it.
        why: String,
    },
    /// The client data names another ceremony (a registration answer posted to the sign-in, or the reverse).
    #[error("this answer is for another step ({found}, expected {expected}): start again from the page")]
    WrongType {
        /// `webauthn.create` or `webauthn.get`.
        expected: &'static str,
        /// What the client data said.
        found: String,
    },
    /// The challenge is unknown, used, expired or of another browser session: a replayed or stale answer.
    #[error("this answer's challenge is unknown, used or expired: reload the page and try again")]
    Challenge,
    /// The answer was made for another web origin (a phishing site, or a page not of this portal).
    #[error(
        "this answer was made for {found}, not for this portal ({expected}): sign in only on the portal's own address"
    )]
    WrongOrigin {
        /// The portal's origin.
        expected: String,
        /// The origin in the client data.
        found: String,
    },
    /// The page asking was inside a frame of another origin.
    #[error("passkeys are not accepted from a page framed by another site: open the portal directly")]
    CrossOrigin,
    /// The authenticator signed for another relying party id.
    #[error("the authenticator answered for another site (RP id hash differs): use a passkey made for this portal")]
    WrongRpId,
    /// The user-present flag is not set: nobody touched the authenticator.
    #[error("the authenticator did not confirm that someone is present: touch it when asked")]
    UserNotPresent,
    /// The user-verified flag is not set: no PIN or biometric check, so the passkey is one factor only.
    #[error(
        "the authenticator did not verify you (PIN or biometrics): set up its PIN or fingerprint, or use another way \
         to sign in"
    )]
    UserNotVerified,
    /// The backup-state flag without the backup-eligible flag, or eligibility changed since registration.
    #[error("the authenticator's backup flags are inconsistent: remove this passkey and register it again")]
    BackupFlags,
    /// A key type or algorithm this portal does not accept.
    #[error("this authenticator's key algorithm ({0}) is not accepted: use ES256, RS256 or EdDSA")]
    UnsupportedAlgorithm(i64),
    /// An attestation format this portal does not read.
    #[error("the attestation format {0:?} is not supported: register without attestation or with `packed`")]
    AttestationFormat(String),
    /// The facility's attestation policy does not admit this authenticator model.
    #[error("this authenticator model is not admitted by the facility's policy: use one of the facility's keys")]
    AttestationRefused,
    /// The signature does not verify with the key registered (or, at registration, the attestation's).
    #[error("the authenticator's signature does not verify: try again, or remove and register this passkey again")]
    BadSignature,
    /// The signature counter did not increase: two authenticators hold the same key (a cloned authenticator).
    #[error(
        "this passkey's signature counter went backwards ({presented} after {stored}): it may have been copied; it \
         is refused, ask the help desk"
    )]
    CounterWentBack {
        /// The counter after the last accepted use.
        stored: u32,
        /// The counter in this answer.
        presented: u32,
    },
    /// No passkey with this credential id is registered (or it was revoked).
    #[error("this passkey is not registered here, or it was revoked: sign in another way and register it again")]
    UnknownCredential,
    /// The answer's user handle is not the one the credential was registered for.
    #[error("this passkey belongs to another account: use your own passkey")]
    OtherUser,
    /// The credential is already registered (to this or another person).
    #[error("this passkey is already registered: use it to sign in, or remove it first")]
    AlreadyRegistered,
    /// The database could not be reached: nothing was changed; try again in a moment.
    #[error("the portal cannot answer now ({0}): try again in a moment")]
    Store(#[from] hcpki_ca::store::StoreError),
}

impl PasskeyError {
    /// The short code audited with the refusal.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed { .. } => "malformed",
            Self::WrongType { .. } => "wrong-type",
            Self::Challenge => "challenge",
            Self::WrongOrigin { .. } => "wrong-origin",
            Self::CrossOrigin => "cross-origin",
            Self::WrongRpId => "wrong-rp-id",
            Self::UserNotPresent => "user-not-present",
            Self::UserNotVerified => "user-not-verified",
            Self::BackupFlags => "backup-flags",
            Self::UnsupportedAlgorithm(_) => "unsupported-algorithm",
            Self::AttestationFormat(_) => "attestation-format",
            Self::AttestationRefused => "attestation-refused",
            Self::BadSignature => "bad-signature",
            Self::CounterWentBack { .. } => "cloned-counter",
            Self::UnknownCredential => "unknown-credential",
            Self::OtherUser => "other-user",
            Self::AlreadyRegistered => "already-registered",
            Self::Store(_) => "unavailable",
        }
    }

    pub(super) fn malformed(part: &'static str, why: impl std::fmt::Display) -> Self {
        Self::Malformed { part, why: why.to_string() }
    }
}
