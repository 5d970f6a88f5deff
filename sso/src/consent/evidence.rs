//! What a signature of consent or of its withdrawal leaves on record (D88): the signed document's and the
//! signer certificate's SHA-256, the format and level, the time stamp's time and whose signature it is. The
//! documents themselves are not kept here.

use super::ConsentError;
use hcpki_ca::store::consent::{EvidenceLevel, SignatureEvidence};

/// A SHA-256 as 64 lower-case hexadecimal digits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sha256Hex(String);

impl Sha256Hex {
    /// Parse 64 hexadecimal digits (either case; kept lower-case). `what` names the hash in the error.
    pub fn parse(what: &'static str, text: &str) -> Result<Self, ConsentError> {
        if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Self(text.to_ascii_lowercase()))
        } else {
            Err(ConsentError::Hash { what, value: text.chars().take(80).collect() })
        }
    }

    /// The SHA-256 of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        use sha2::Digest as _;
        Self(hex::encode(sha2::Sha256::digest(bytes)))
    }

    /// The hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why the physician attests instead of the patient signing: recorded with the weaker evidence level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttestationReason {
    /// The card has no signing certificate (a PIN-less 顔認証 card).
    NoSigningCertificate,
    /// The patient does not remember the signature password.
    PasswordForgotten,
    /// The signing key is locked after wrong passwords.
    KeyLocked,
}

impl AttestationReason {
    /// The name in audit entries.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoSigningCertificate => "no_signing_certificate",
            Self::PasswordForgotten => "password_forgotten",
            Self::KeyLocked => "key_locked",
        }
    }
}

/// Whose signature: the patient's JPKI signature (署名用電子証明書), the physician's HPKI attestation, or the
/// patient's agreement with the user-authentication key (利用者証明用, 4-digit PIN; D130 item 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signer {
    /// The patient signed with the My Number card.
    Patient,
    /// The physician attested for the patient, for this reason.
    PhysicianAttesting(AttestationReason),
    /// The patient agreed with the My Number card's user PIN: no signature, where the template asks for none.
    PatientAuthenticated,
}

impl Signer {
    /// The level stored.
    pub fn level(self) -> EvidenceLevel {
        match self {
            Self::Patient => EvidenceLevel::PatientSignature,
            Self::PhysicianAttesting(_) => EvidenceLevel::PhysicianAttestation,
            Self::PatientAuthenticated => EvidenceLevel::PatientAuthentication,
        }
    }
}

/// The evidence format of an agreement with the user PIN: the card's authentication answer, not a signature.
pub const AGREEMENT_FORMAT: &str = "card_authentication";
/// Its level: the answer time-stamped by a TSA.
pub const AGREEMENT_LEVEL: &str = "timestamped";

/// A signed document's evidence, checked: what the signature service returns once the signature verified and
/// was time-stamped with its revocation evidence (PAdES or CAdES, B-LT or B-LTA).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    /// Whose signature.
    pub signer: Signer,
    /// SHA-256 of the signed document.
    pub document: Sha256Hex,
    /// `pades` or `cades`.
    pub format: &'static str,
    /// `b-lt` or `b-lta`.
    pub level: &'static str,
    /// SHA-256 of the signer certificate.
    pub signer_certificate: Sha256Hex,
    /// The signature time stamp's genTime (Unix seconds).
    pub time_stamp_at: i64,
}

impl Evidence {
    /// Build from the verifier's answer; the format and level as the signature core names them.
    pub fn new(
        signer: Signer,
        document: Sha256Hex,
        format: &str,
        level: &str,
        signer_certificate: Sha256Hex,
        time_stamp_at: i64,
    ) -> Result<Self, ConsentError> {
        let format = match format {
            "pades" => "pades",
            "cades" => "cades",
            other => return Err(ConsentError::Signature(other.chars().take(40).collect())),
        };
        // B-T would do as a signature, but the consent must keep the signing certificate's status at signing
        // (issue #28: B-LT), so later readers need no JPKI status service.
        let level = match level {
            "b-lt" => "b-lt",
            "b-lta" => "b-lta",
            other => {
                let other: String = other.chars().take(40).collect();
                return Err(ConsentError::Signature(format!("{format} {other}")));
            }
        };
        Ok(Self { signer, document, format, level, signer_certificate, time_stamp_at })
    }

    /// The patient's agreement with the user PIN (D130 item 3) to the document of SHA-256 `document`, by the
    /// user-authentication certificate of SHA-256 `signer_certificate`, time-stamped at `time_stamp_at`: the format
    /// says it is no document signature, the level that a TSA's time stamp covers the card's answer.
    pub fn agreement(document: Sha256Hex, signer_certificate: Sha256Hex, time_stamp_at: i64) -> Self {
        Self {
            signer: Signer::PatientAuthenticated,
            document,
            format: AGREEMENT_FORMAT,
            level: AGREEMENT_LEVEL,
            signer_certificate,
            time_stamp_at,
        }
    }

    /// As the store keeps it.
    pub fn to_record(&self) -> SignatureEvidence {
        SignatureEvidence {
            level: self.signer.level(),
            document_sha256: self.document.as_str().to_owned(),
            format: self.format.to_owned(),
            signature_level: self.level.to_owned(),
            signer_sha256: self.signer_certificate.as_str().to_owned(),
            time_stamp_at: self.time_stamp_at,
        }
    }
}
