//! Patients' consents and identity links (issue #28, D88), as the store keeps them. What the states mean, which
//! transitions are allowed and how a patient key is formed is `server::consent`'s; the store keeps the rows and
//! moves a consent only from the state its caller read (so of two racing writers exactly one wins).
//!
//! A patient appears only as a pseudonymous key; neither the basic four items nor the individual number
//! (個人番号) has a field here.

/// The state of a consent as stored. A requested or shown consent past its `expires_at` reads as expired to
/// the server; the row keeps its state (no writer has to run at the deadline).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsentState {
    /// Asked for by a service (or the portal), not yet shown to the patient.
    Requested,
    /// Shown to the patient on the agent's page.
    Shown,
    /// Signed: the live consent, until withdrawn.
    Signed,
    /// The patient (or the physician for them) declined.
    Refused,
    /// Withdrawn (撤回) by a signed withdrawal: history only.
    Withdrawn,
}

impl ConsentState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Shown => "shown",
            Self::Signed => "signed",
            Self::Refused => "refused",
            Self::Withdrawn => "withdrawn",
        }
    }

    /// Parse a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Requested, Self::Shown, Self::Signed, Self::Refused, Self::Withdrawn]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
}

/// How strongly a signature shows the patient's will (D88).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceLevel {
    /// The patient signed with the My Number card's JPKI signing key (署名用電子証明書).
    PatientSignature,
    /// The weaker alternative: the physician attests the patient's consent with the physician's HPKI signature
    /// (the card has no signing certificate, the password is forgotten or the key locked).
    PhysicianAttestation,
    /// The patient agreed with the My Number card's user-authentication key and its 4-digit PIN where the
    /// consent's template asks for no signature (D130 item 3): below a signature, above an attestation.
    PatientAuthentication,
}

impl EvidenceLevel {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PatientSignature => "patient_signature",
            Self::PhysicianAttestation => "physician_attestation",
            Self::PatientAuthentication => "patient_authentication",
        }
    }

    /// Parse a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::PatientSignature, Self::PhysicianAttestation, Self::PatientAuthentication]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
}

/// What a signature (of consent, or of its withdrawal) leaves on record: hashes and times, not the document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureEvidence {
    /// Whose signature it is.
    pub level: EvidenceLevel,
    /// SHA-256 of the signed document, lower-case hex.
    pub document_sha256: String,
    /// The signature format (`pades`, `cades`), or `card_authentication` for an agreement with the user PIN.
    pub format: String,
    /// The signature level reached (`b-t`, `b-lt`, …), or `timestamped` for an agreement with the user PIN.
    pub signature_level: String,
    /// SHA-256 of the signer certificate, lower-case hex.
    pub signer_sha256: String,
    /// The signature time stamp's genTime (Unix seconds).
    pub time_stamp_at: i64,
}

/// One consent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentRecord {
    /// Random id (256 bits, base64url).
    pub id: hcpki_model::ConsentId,
    /// The service (OIDC client id) that asked, or `portal`.
    pub client_id: String,
    /// The purpose the service declared for it.
    pub purpose: String,
    /// The facility (its `HF…` ID) where it was asked.
    pub facility_id: String,
    /// The patient's pseudonymous key.
    pub patient_key: String,
    /// The signed-in physician's person key.
    pub physician_key: String,
    /// Where it stands.
    pub state: ConsentState,
    /// Created (Unix seconds).
    pub created_at: i64,
    /// The patient must sign before then.
    pub expires_at: i64,
    /// Shown to the patient at.
    pub shown_at: Option<i64>,
    /// Signed or refused at (the withdrawal's time is `withdrawn_at`).
    pub ended_at: Option<i64>,
    /// Why it was refused.
    pub refusal: Option<String>,
    /// The signature of consent, once signed (kept after a withdrawal).
    pub signature: Option<SignatureEvidence>,
    /// The signed withdrawal, once withdrawn.
    pub withdrawal: Option<SignatureEvidence>,
    /// Withdrawn at.
    pub withdrawn_at: Option<i64>,
    /// The regional network (地域医療連携ネットワーク, D169) whose member services may check this consent, named by
    /// the template when it was asked for; `None`: the asking service alone.
    pub network: Option<String>,
}

/// A move of a consent from the state its caller read ([`crate::Consents::consent_move`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsentMove {
    /// Shown to the patient.
    Show,
    /// Signed, with its evidence.
    Sign(SignatureEvidence),
    /// Refused, with the reason.
    Refuse(String),
    /// Withdrawn by a signed withdrawal.
    Withdraw(SignatureEvidence),
}

/// The link of a patient key to the JPKI certificates of the patient's My Number card, confirmed by staff
/// (issue #28 step 5, D88). The four items the staff saw are not kept: the signing certificate's hash names
/// the certificate that carries them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityLinkRecord {
    /// The patient's pseudonymous key (one link per key).
    pub patient_key: String,
    /// The facility (its `HF…` ID).
    pub facility_id: String,
    /// SHA-256 (hex) of the JPKI signing certificate.
    pub signing_sha256: String,
    /// SHA-256 (hex) of the JPKI user-authentication certificate, when it was read in the same session.
    pub auth_sha256: Option<String>,
    /// The person key of the staff member who confirmed the four items against the facility's records.
    pub confirmed_by: String,
    /// Confirmed at (Unix seconds).
    pub confirmed_at: i64,
    /// First linked at (Unix seconds).
    pub created_at: i64,
    /// 1 when linked, one more at each correction: what a correction names to update exactly what it read.
    pub generation: i64,
}

/// Which document of a consent (migration 0024).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocumentKind {
    /// The consent PDF the patient is shown and signs, as rendered from the service's template.
    Consent,
    /// The physician's attestation PDF (the weaker alternative), as rendered.
    Attestation,
    /// The withdrawal (撤回) PDF, as rendered.
    Withdrawal,
    /// The signed consent (or attestation): PAdES B-LT, what the service reads back.
    SignedConsent,
    /// The signed withdrawal.
    SignedWithdrawal,
    /// The My Number card's user-authentication certificate (DER), read with the signature; no personal data.
    CardAuthentication,
    /// The proof of a consent given with the user PIN (D130 item 3): the card's answer, its chain and the time
    /// stamp over it, as JSON (`hcpki_sso::consent::agreement::Proof`).
    AgreementProof,
    /// The proof of a withdrawal given with the user PIN.
    WithdrawalProof,
}

impl DocumentKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Consent => "consent",
            Self::Attestation => "attestation",
            Self::Withdrawal => "withdrawal",
            Self::SignedConsent => "signed_consent",
            Self::SignedWithdrawal => "signed_withdrawal",
            Self::CardAuthentication => "card_authentication",
            Self::AgreementProof => "agreement_proof",
            Self::WithdrawalProof => "withdrawal_proof",
        }
    }

    /// Parse a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        [
            Self::Consent,
            Self::Attestation,
            Self::Withdrawal,
            Self::SignedConsent,
            Self::SignedWithdrawal,
            Self::CardAuthentication,
            Self::AgreementProof,
            Self::WithdrawalProof,
        ]
        .into_iter()
        .find(|k| k.as_str() == name)
    }
}

/// One document of a consent.
#[derive(Clone, PartialEq, Eq)]
pub struct ConsentDocument {
    /// The consent.
    pub consent_id: String,
    /// Which document.
    pub kind: DocumentKind,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// SHA-256 of the bytes, lower-case hex.
    pub sha256: String,
    /// Stored at (Unix seconds).
    pub created_at: i64,
}

impl ConsentDocument {
    /// `bytes` as `kind` of consent `consent_id`, hashed here.
    pub fn new(consent_id: &hcpki_model::ConsentId, kind: DocumentKind, bytes: Vec<u8>, created_at: i64) -> Self {
        use sha2::Digest as _;
        let sha256 = hex::encode(sha2::Sha256::digest(&bytes));
        Self { consent_id: consent_id.to_string(), kind, bytes, sha256, created_at }
    }
}

/// Without the bytes: a signed consent carries the patient's certificate.
impl std::fmt::Debug for ConsentDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsentDocument")
            .field("consent_id", &self.consent_id)
            .field("kind", &self.kind)
            .field("bytes", &self.bytes.len())
            .field("sha256", &self.sha256)
            .finish()
    }
}
