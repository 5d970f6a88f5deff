//! A consent (or its withdrawal) given with the My Number card's **user-authentication key** and its 4-digit PIN,
//! where the consent's template says `evidence = "authentication"` (D130 item 3): the law asks for the patient's
//! consent there but no signature, and many patients have forgotten the 6–16 character signing password.
//!
//! The card agent shows the consent PDF as for a signature and the card signs
//! [`AuthPurpose::Consent`]'s message over the portal's single-use challenge followed by the SHA-256 of the
//! document the agent showed: the answer agrees to that document, once, at this portal. hcpki checks it as a card
//! login's (chain to a configured JPKI anchor, validity, revocation), has a TSA time-stamp the answer, and keeps
//! the proof ([`Proof`]) beside the PDF; the record says `patient_authentication`, below a signature and above a
//! physician's attestation. A signature is always accepted instead (it is the stronger evidence).
//!
//! The challenge is bound to the portal session and the consent under a prefix of its own, so it finishes neither
//! a login nor an identification, nor another consent's agreement. HTTP-free; the time is passed in.

use super::ConsentError;
use super::desk::{self, Checkers, ConsentView, DeskError, actor, own, stored};
use super::evidence::{Evidence, Sha256Hex};
use super::life::{self, Phase};
use super::record;
use super::settings::ConsentSettings;
use super::template::ConsentEvidence;
use crate::desk::page::deny;
use crate::login::{CardKind, challenge};
use crate::oidc::Context;
use crate::session::Session;
use base64::Engine as _;
use hcpki_agent_protocol::AuthPurpose;
use hcpki_ca::store::consent::{ConsentDocument, ConsentRecord, DocumentKind, EvidenceLevel};
use hcpki_model::ConsentId;
use sha2::Digest as _;

pub use super::identification::CardAnswer;

/// Which of the patient's documents the PIN agrees to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Agreement {
    /// The consent (同意書).
    Consent,
    /// Its withdrawal (撤回書), once signed or agreed.
    Withdrawal,
}

impl Agreement {
    fn document(self) -> DocumentKind {
        match self {
            Self::Consent => DocumentKind::Consent,
            Self::Withdrawal => DocumentKind::Withdrawal,
        }
    }

    fn proof(self) -> DocumentKind {
        match self {
            Self::Consent => DocumentKind::AgreementProof,
            Self::Withdrawal => DocumentKind::WithdrawalProof,
        }
    }

    fn action(self) -> &'static str {
        match self {
            Self::Consent => "consent.agree",
            Self::Withdrawal => "consent.withdraw",
        }
    }
}

/// The challenge's binding: the session's id hash and the consent, under this use's prefix.
fn binding(session: &Session, id: &ConsentId) -> String {
    format!("consent:{}:{id}", session.id_hash)
}

/// A challenge for the patient's card to agree to consent `id`'s document, for `session` at `origin`, valid
/// `ttl_secs` from `now`; refused unless the consent's template asks for the PIN.
pub async fn challenge(
    ctx: Context<'_>,
    settings: &ConsentSettings,
    origin: &str,
    ttl_secs: u32,
    session: &Session,
    id: &ConsentId,
    now: i64,
) -> Result<challenge::IssuedChallenge, DeskError> {
    let consent = own(ctx, session, id, "consent.challenge").await?;
    asks_pin(settings, &consent)?;
    challenge::issue(&*ctx.provider.store, &binding(session, id), origin, ttl_secs, now).await.map_err(DeskError::Card)
}

fn asks_pin(settings: &ConsentSettings, consent: &ConsentRecord) -> Result<(), DeskError> {
    match settings.evidence(&consent.client_id, &consent.purpose) {
        ConsentEvidence::Authentication => Ok(()),
        _ => Err(DeskError::NeedsSignature),
    }
}

/// What is kept of an agreement: enough for anyone to check it later without hcpki — the message is
/// `context 00 origin 00 challenge ‖ document_sha256`, signed by `chain[0]` with the algorithm its key names
/// (`sha256WithRSAEncryption`, or ECDSA P-384 / SHA-384 as a DER value for the next My Number card, D153); the
/// RFC 3161 token's imprint is the SHA-256 of `signature`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Proof {
    /// `hcpki consent agreement v1`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The message's domain separator, as text.
    pub context: String,
    /// The portal's origin the card answered for.
    pub origin: String,
    /// The portal's challenge, base64url.
    pub challenge: String,
    /// SHA-256 of the document agreed to (the stored PDF), hex.
    pub document_sha256: String,
    /// The card's signature, base64.
    pub signature: String,
    /// The user-authentication certificate and its issuers, DER in base64, end entity first.
    pub chain: Vec<String>,
    /// The RFC 3161 time-stamp token over SHA-256(signature), base64.
    pub time_stamp: String,
    /// Its genTime, Unix seconds.
    pub time_stamped_at: i64,
}

/// The proof's `type`.
pub const PROOF_TYPE: &str = "hcpki consent agreement v1";

/// The patient's card agreed to consent `id`'s document (`what`) with the user PIN: the challenge taken, the
/// answer checked against the stored document, time-stamped, recorded as `patient_authentication` with its proof.
/// A withdrawal must come from the card that agreed (or one staff linked to the same patient).
#[allow(clippy::too_many_arguments)]
pub async fn agree(
    ctx: Context<'_>,
    settings: &ConsentSettings,
    checkers: Checkers<'_>,
    origin: &str,
    session: &Session,
    id: &ConsentId,
    what: Agreement,
    answer: &CardAnswer<'_>,
    now_ms: i64,
) -> Result<ConsentView, DeskError> {
    let now = now_ms.div_euclid(1000);
    let consent = own(ctx, session, id, what.action()).await?;
    // The challenge goes first whatever else is wrong: a refused answer cannot be posted again.
    let taken = challenge::take(&*ctx.provider.store, answer.challenge, &binding(session, id), origin, now).await;
    asks_pin(settings, &consent)?;
    match (what, Phase::of(&consent, now)) {
        (Agreement::Consent, Phase::Shown) | (Agreement::Withdrawal, Phase::Signed) => {}
        (Agreement::Consent, Phase::Requested) => return Err(ConsentError::NotShown(consent.id.clone()).into()),
        (Agreement::Consent, Phase::Expired) => {
            return Err(ConsentError::Expired { id: consent.id.clone(), expired_at: consent.expires_at }.into());
        }
        (Agreement::Withdrawal, _) => return Err(ConsentError::NotSigned(consent.id.clone()).into()),
        (_, other) => return Err(ConsentError::Ended { id: consent.id.clone(), state: other.as_str() }.into()),
    }
    let document = stored(ctx, id, what.document()).await?;
    let (verifier, stamps) = (checkers.verifier.ok_or(DeskError::NoTrustAnchors)?, checkers.stamps);
    let sha: [u8; 32] = sha2::Sha256::digest(&document.bytes).into();
    let checked = taken.and_then(|c| {
        verifier
            .verify_as(AuthPurpose::Consent, &c.for_document(&sha), answer.signature, answer.chain, now)
            .map(|v| (c, v))
    });
    let (taken, card) = match checked {
        Ok(ok) => ok,
        Err(e) => {
            deny(ctx, session, what.action(), id.as_str(), &format!("the card's answer was refused: {e}")).await;
            return Err(DeskError::Card(e));
        }
    };
    if card.kind != CardKind::Jpki {
        deny(ctx, session, what.action(), id.as_str(), "not a My Number card").await;
        return Err(DeskError::NotAMyNumberCard);
    }
    let leaf = Sha256Hex::of(answer.chain.first().map(Vec::as_slice).unwrap_or_default());
    if what == Agreement::Withdrawal && !same_patient(ctx, &consent, &leaf).await? {
        deny(ctx, session, what.action(), id.as_str(), "the withdrawal's card is not the patient's").await;
        return Err(DeskError::OtherPatient);
    }
    let digest: [u8; 32] = sha2::Sha256::digest(answer.signature).into();
    let (stamp, _url) = stamps
        .stamp(&digest)
        .await
        .map_err(|e| DeskError::Extend(crate::desk::signature::ExtendError::NoTimeStamp(e)))?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let proof = Proof {
        kind: PROOF_TYPE.to_owned(),
        context: String::from_utf8_lossy(AuthPurpose::Consent.context()).into_owned(),
        origin: origin.to_owned(),
        challenge: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(taken.bytes()),
        document_sha256: hex::encode(sha),
        signature: b64.encode(answer.signature),
        chain: answer.chain.iter().map(|c| b64.encode(c)).collect(),
        time_stamp: b64.encode(&stamp.token),
        time_stamped_at: stamp.gen_time,
    };
    let proof_json = serde_json::to_vec(&proof)
        .map_err(|e| ConsentError::Store(hcpki_ca::store::StoreError::Corrupt(format!("agreement proof: {e}"))))?;
    let evidence = Evidence::agreement(Sha256Hex::of(&document.bytes), leaf, stamp.gen_time);
    let documents = vec![ConsentDocument::new(id, what.proof(), proof_json, now)];
    let step = match what {
        Agreement::Consent => life::sign(&consent, &evidence, &actor(session), now)?,
        Agreement::Withdrawal => life::withdraw(&consent, &evidence, &actor(session), now)?,
    };
    let consent = record::apply(&*ctx.provider.store, step.with_documents(documents), now_ms).await?;
    desk::view(ctx, consent, now).await
}

/// Whether the certificate of SHA-256 `leaf` is the card that consented, or one staff linked to its patient.
async fn same_patient(ctx: Context<'_>, consent: &ConsentRecord, leaf: &Sha256Hex) -> Result<bool, DeskError> {
    let consented = consent
        .signature
        .as_ref()
        .filter(|s| s.level == EvidenceLevel::PatientAuthentication)
        .is_some_and(|s| s.signer_sha256 == leaf.as_str());
    if consented {
        return Ok(true);
    }
    let link = ctx.provider.store.identity_link(&consent.patient_key).await?;
    Ok(link.is_some_and(|l| l.auth_sha256.as_deref() == Some(leaf.as_str())))
}
