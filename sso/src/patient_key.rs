//! The patient's pseudonymous key: HMAC-SHA256 under a key derived from the server secret over (facility ID,
//! the facility's patient ID). Records and audit entries name a patient only by it; neither the basic four
//! items nor the individual number (個人番号) ever enters it (D88).

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hcpki_ca::FacilityId;

/// The prefix of a key: a new derivation would get `pk2:`, so old and new keys never collide.
const PREFIX: &str = "pk1:";
/// The derivation label: the server secret keys other things too (D24), each under its own label.
const LABEL: &str = "hcpki consent patient-key v1";

/// The key patient keys are made with, derived from the server secret.
pub struct PatientKeySecret(hmac::Key);

impl std::fmt::Debug for PatientKeySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PatientKeySecret(..)")
    }
}

impl PatientKeySecret {
    /// Derive from the server secret (the portal's 32-byte secret file, shared by replicas, so every replica
    /// forms the same key for the same patient).
    pub fn from_server_secret(secret: &[u8]) -> Result<Self, PatientKeyError> {
        if secret.len() < 32 {
            return Err(PatientKeyError::Secret(secret.len()));
        }
        let root = hmac::Key::new(hmac::HMAC_SHA256, secret);
        let derived = zeroize::Zeroizing::new(hmac::sign(&root, LABEL.as_bytes()).as_ref().to_vec());
        Ok(Self(hmac::Key::new(hmac::HMAC_SHA256, &derived)))
    }

    /// The key of the patient whom `facility` knows as `patient`. Both parts are length-prefixed, so no two
    /// different pairs give the same input.
    pub fn key(&self, facility: &FacilityId, patient: &FacilityPatientId) -> PatientKey {
        let mut ctx = hmac::Context::with_key(&self.0);
        for part in [facility.as_str(), patient.as_str()] {
            ctx.update(&u32::try_from(part.len()).unwrap_or(u32::MAX).to_be_bytes());
            ctx.update(part.as_bytes());
        }
        PatientKey(format!("{PREFIX}{}", B64.encode(ctx.sign().as_ref())))
    }
}

/// A facility's own patient ID (患者ID), exactly as its records hold it: 1–64 half-width printable ASCII
/// characters. Full-width digits are refused rather than folded, so that one patient never gets two keys
/// from two spellings.
#[derive(Clone, PartialEq, Eq)]
pub struct FacilityPatientId(String);

impl std::fmt::Debug for FacilityPatientId {
    // Not personal data in itself, but it is what the pseudonym hides: kept out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FacilityPatientId(..)")
    }
}

impl FacilityPatientId {
    /// Parse a patient ID as entered or sent.
    pub fn parse(text: &str) -> Result<Self, PatientKeyError> {
        let ok = (1..=64).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_graphic());
        if ok { Ok(Self(text.to_owned())) } else { Err(PatientKeyError::PatientId(text.chars().take(80).collect())) }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A patient's pseudonymous key as stored: `pk1:` and 43 base64url characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PatientKey(String);

impl PatientKey {
    /// Read a stored key back; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let body = text.strip_prefix(PREFIX)?;
        let ok = body.len() == 43 && B64.decode(body).is_ok_and(|b| b.len() == 32);
        ok.then(|| Self(text.to_owned()))
    }

    /// The stored text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for PatientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a patient key cannot be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PatientKeyError {
    /// The facility's patient ID is empty, too long, or not half-width printable ASCII.
    #[error(
        "the facility's patient ID {0:?} is not usable: give 1 to 64 half-width (半角) letters, digits or signs, \
         exactly as the facility's records hold it"
    )]
    PatientId(String),
    /// The server secret is too short to key the patient keys.
    #[error("the server secret is {0} bytes; the patient keys need at least 32 (check [portal] secret_file)")]
    Secret(usize),
}
