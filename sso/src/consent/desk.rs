//! The facility's side of a consent, behind the physician's portal page `/consent/{id}` (issue #28 steps 3–6):
//! the page shows the request to the facility's physician, hands the consent PDF to the card agent (which shows
//! it to the patient and has the My Number card sign it), and posts the signature back here; staff then confirm
//! the patient's identity against the facility's records; a withdrawal and the physician's attestation take the
//! same way. HTTP-free; the time is passed in.
//!
//! A patient's signature is accepted only when it is a B-B PAdES signature of exactly the stored PDF (the
//! signing requests' check), by a JPKI signing certificate valid and not revoked now under a configured JPKI
//! anchor ([`CardVerifier::patient_signer`]); hcpki then adds the time stamp from `[[signing.tsa]]` and the
//! signing certificate's CRL from the login's cache (B-LT: the revocation evidence kept in the document).

use super::ConsentError;
use super::audit::{Actor, action, consent_event};
use super::evidence::{AttestationReason, Evidence, Sha256Hex, Signer};
use super::identity::{CardCertificates, Confirmation};
use super::life::{self, Phase};
use super::record;
use super::request::{facility_name, service_name};
use super::settings::ConsentSettings;
use super::template::Facts;
use crate::desk::page::deny;
use crate::desk::signature::{self, Checked, ExtendError, SignatureTimeStamps, Signed};
use crate::login::{CardLoginError, CardVerifier};
use crate::oidc::Context;
use crate::patient_key::FacilityPatientId;
use crate::session::Session;
use hcpki_ca::person_key::PersonKey;
use hcpki_ca::store::consent::{
    ConsentDocument, ConsentRecord, ConsentState, DocumentKind, EvidenceLevel, IdentityLinkRecord,
};
use hcpki_docsig::consent_document::Statement;
use hcpki_model::ConsentId;
use hcpki_model::signature::{Format, Level};
use hcpki_pkix::jpki::BasicFour;
use hcpki_pkix::time::UnixTime;
use serde_json::json;

/// What checks a card's signature and adds what B-LT needs: the card login's verifier (its trust anchors and
/// CRL cache; none when `[login]` is not configured) and the signers' TSA list.
#[derive(Clone, Copy, Debug)]
pub struct Checkers<'a> {
    pub verifier: Option<&'a CardVerifier>,
    pub stamps: &'a dyn SignatureTimeStamps,
}

/// Largest signed PDF taken back from the page: the consent PDF (a few pages) and the signature's room.
pub const MAX_SIGNED_BYTES: usize = 2 * 1024 * 1024;

/// A consent as the page shows it.
#[derive(Clone, Debug)]
pub struct ConsentView {
    pub consent: ConsentRecord,
    pub phase: Phase,
    /// What the document says (read back from the stored PDF).
    pub statement: Statement,
    /// The service as people know it.
    pub service: String,
    /// When signed by the patient: whether staff confirmed the identity link with this card.
    pub linked: Option<IdentityLinkRecord>,
    /// When signed by the patient and not linked yet: the basic four items of the signing certificate for staff
    /// to confirm (read from the signed PDF each time, never stored apart from it), or why they cannot be read.
    pub unconfirmed_four: Option<Result<BasicFour, String>>,
}

/// Why the page cannot go on; what the person must do is in the message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeskError {
    /// Another facility's consent, or a pending one of another physician.
    #[error(
        "this consent was asked for by another physician or at another facility: open it from the service at the \
         facility where it was asked"
    )]
    NotYours,
    /// The consent's rules refuse the move (expired, already signed, …).
    #[error(transparent)]
    Consent(#[from] ConsentError),
    /// The posted signature is no signature of this document.
    #[error("the signature does not belong to this document: {0}. Nothing was recorded; have the patient sign again")]
    BadSignature(String),
    /// The signer certificate is not a usable My Number signing certificate.
    #[error("{0}")]
    PatientCertificate(String),
    /// The attestation's signer is not the signed-in physician.
    #[error("the attestation must be signed with your own HPKI card, the one you signed in with: {0}")]
    NotThePhysician(String),
    /// The withdrawal's signer is not the patient who consented.
    #[error(
        "the withdrawal was signed with another card than the patient's who consented: have the patient sign with \
         their own card, or confirm the new card's identity first (after an address change)"
    )]
    OtherPatient,
    /// The patient's ID typed by staff is not the consent's patient.
    #[error(
        "the patient ID does not match the patient of this consent: check the ID in the facility's records and \
         type it again; nothing was linked"
    )]
    PatientMismatch,
    /// A time stamp or the revocation data could not be had.
    #[error(transparent)]
    Extend(ExtendError),
    /// Card login (trust anchors) is not configured.
    #[error("this portal has no card trust anchors ([login]), so it cannot check the card's signature")]
    NoTrustAnchors,
    /// The sign-in is not the facility's staff (a My Number card sign-in is a patient's).
    #[error(
        "a consent is asked for by the facility's staff (a physician's HPKI card, or reception's password and \
         second factor): sign in as staff"
    )]
    NotAPhysician,
    /// The session has no facility (the PC has no facility certificate).
    #[error(
        "you are not signed in at a facility (this PC has no facility certificate): a consent belongs to the \
         facility where it is given, so sign in at a facility PC"
    )]
    NoFacility,
    /// The card's answer to a challenge was refused (expired or used challenge, untrusted or revoked card, …).
    #[error("the card's answer was refused: {0}")]
    Card(CardLoginError),
    /// An HPKI card answered where the patient's My Number card was asked for.
    #[error("this is not a My Number card: put the patient's My Number card in the reader and try again")]
    NotAMyNumberCard,
    /// The stored document is missing (it went with the consent's retention).
    #[error("the consent's document is no longer kept: ask the service for a new consent")]
    NoDocument,
    /// The consent's template asks for the patient's signature, and the 4-digit PIN was offered (D130 item 3).
    #[error(
        "this consent asks for the patient's signature (the My Number card's signing password), not the 4-digit \
         PIN: have the patient sign"
    )]
    NeedsSignature,
}

impl From<hcpki_ca::store::StoreError> for DeskError {
    fn from(e: hcpki_ca::store::StoreError) -> Self {
        Self::Consent(ConsentError::Store(e))
    }
}

impl DeskError {
    /// The database failed (the page says "try again later" rather than blaming the person).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Consent(ConsentError::Store(_)))
    }
}

/// `GET /consent/{id}`: the consent for the signed-in `session` (the facility's; a pending one only for the
/// physician it was asked for).
pub async fn open(ctx: Context<'_>, session: &Session, id: &ConsentId, now: i64) -> Result<ConsentView, DeskError> {
    let consent = own(ctx, session, id, "consent.open").await?;
    view(ctx, consent, now).await
}

/// The PDF of `kind` the page hands the card agent (the consent, the withdrawal, the attestation).
pub async fn document(
    ctx: Context<'_>,
    session: &Session,
    id: &ConsentId,
    kind: DocumentKind,
) -> Result<ConsentDocument, DeskError> {
    own(ctx, session, id, "consent.document").await?;
    ctx.provider.store.consent_document(id, kind).await?.ok_or(DeskError::NoDocument)
}

/// The page hands the consent to the card agent, which shows it to the patient: `consent.shown`. Idempotent for
/// a consent shown already (the patient may need a second try).
pub async fn show(
    ctx: Context<'_>,
    session: &Session,
    id: &ConsentId,
    now_ms: i64,
) -> Result<ConsentRecord, DeskError> {
    let consent = own(ctx, session, id, "consent.show").await?;
    if Phase::of(&consent, now_ms.div_euclid(1000)) == Phase::Shown {
        return Ok(consent);
    }
    let step = life::show(&consent, &actor(session), now_ms.div_euclid(1000))?;
    Ok(record::apply(&*ctx.provider.store, step, now_ms).await?)
}

/// The patient's card signed the consent PDF (`signed`: the agent's B-B PAdES; `card_authentication`: the
/// card's user-authentication certificate the agent read with it): checked, time-stamped, its revocation data
/// added (B-LT), stored with the certificate, `consent.signed`.
pub async fn sign(
    ctx: Context<'_>,
    checkers: Checkers<'_>,
    session: &Session,
    id: &ConsentId,
    signed: &[u8],
    card_authentication: Option<&[u8]>,
    now_ms: i64,
) -> Result<ConsentView, DeskError> {
    let now = now_ms.div_euclid(1000);
    let consent = own(ctx, session, id, "consent.sign").await?;
    // Judge the move first: an expired or ended consent is refused before any TSA is asked.
    match Phase::of(&consent, now) {
        Phase::Shown => {}
        Phase::Requested => return Err(ConsentError::NotShown(consent.id.clone()).into()),
        Phase::Expired => {
            return Err(ConsentError::Expired { id: consent.id.clone(), expired_at: consent.expires_at }.into());
        }
        other => return Err(ConsentError::Ended { id: consent.id.clone(), state: other.as_str() }.into()),
    }
    let document = stored(ctx, id, DocumentKind::Consent).await?;
    let (verifier, stamps) = (checkers.verifier.ok_or(DeskError::NoTrustAnchors)?, checkers.stamps);
    let checked = check(signed, &document.bytes)?;
    let path = match verifier.patient_signer(&checked.chain, now) {
        Ok(p) => p,
        Err(e) => {
            deny(ctx, session, "consent.sign", id.as_str(), &format!("the patient's signing certificate: {e}")).await;
            return Err(patient_refusal(e));
        }
    };
    let leaf = path.first().cloned().unwrap_or_default();
    let authentication = card_authentication.map(authentication_certificate).transpose()?;
    let done = extend(verifier, stamps, &document.bytes, &path, signed).await?;
    let stamped = done.stamp.as_ref().map_or(now, |(t, _)| *t);
    let evidence =
        Evidence::new(Signer::Patient, Sha256Hex::of(&done.document), "pades", "b-lt", Sha256Hex::of(&leaf), stamped)?;
    let mut documents = vec![ConsentDocument::new(id, DocumentKind::SignedConsent, done.document, now)];
    if let Some(der) = authentication {
        documents.push(ConsentDocument::new(id, DocumentKind::CardAuthentication, der, now));
    }
    let step = life::sign(&consent, &evidence, &actor(session), now)?.with_documents(documents);
    let consent = record::apply(&*ctx.provider.store, step, now_ms).await?;
    view(ctx, consent, now).await
}

/// Staff confirmed the four items against the facility's records for `patient_id`: the link of the patient key
/// to the card's certificates is written (or corrected, one generation on), `identity.linked` /
/// `identity.corrected`. The four items themselves are not kept.
pub async fn confirm_identity(
    ctx: Context<'_>,
    session: &Session,
    id: &ConsentId,
    patient_id: &str,
    now_ms: i64,
) -> Result<Option<IdentityLinkRecord>, DeskError> {
    let consent = own(ctx, session, id, "identity.confirm").await?;
    let signature = match (&consent.signature, consent.state) {
        (Some(s), ConsentState::Signed) if s.level == EvidenceLevel::PatientSignature => s,
        _ => {
            return Err(DeskError::Consent(ConsentError::Ended {
                id: consent.id.clone(),
                state: "not signed with the patient's card",
            }));
        }
    };
    let facility = session.facility_id.clone().ok_or(DeskError::NotYours)?;
    let patient =
        ctx.secret.patient_keys().key(&facility, &FacilityPatientId::parse(patient_id).map_err(ConsentError::from)?);
    if patient.as_str() != consent.patient_key {
        deny(ctx, session, "identity.confirm", id.as_str(), "the patient ID does not match the consent's patient")
            .await;
        return Err(DeskError::PatientMismatch);
    }
    let authentication = ctx.provider.store.consent_document(id, DocumentKind::CardAuthentication).await?;
    let card = CardCertificates {
        signing: Sha256Hex::parse("signer_sha256", &signature.signer_sha256)?,
        authentication: authentication.map(|d| Sha256Hex::of(&d.bytes)),
    };
    let staff = PersonKey::parse(&session.person_key).map_err(|_| DeskError::NotYours)?;
    let confirmation = Confirmation { patient, facility, card, staff };
    Ok(record::save_link(&*ctx.provider.store, &confirmation, now_ms).await?)
}

/// The patient declined (or the physician ends the request for them): `consent.refused` with one of the
/// page's fixed reasons.
pub async fn refuse(
    ctx: Context<'_>,
    session: &Session,
    id: &ConsentId,
    reason: &str,
    now_ms: i64,
) -> Result<ConsentRecord, DeskError> {
    let consent = own(ctx, session, id, "consent.refuse").await?;
    let step = life::refuse(&consent, reason, &actor(session), now_ms.div_euclid(1000))?;
    Ok(record::apply(&*ctx.provider.store, step, now_ms).await?)
}

/// Render the withdrawal (撤回書) of a signed consent for the patient to sign: stored as the consent's
/// withdrawal document, `consent.withdrawal_prepared`.
pub async fn prepare_withdrawal(
    ctx: Context<'_>,
    settings: &ConsentSettings,
    session: &Session,
    id: &ConsentId,
    now_ms: i64,
) -> Result<ConsentDocument, DeskError> {
    let now = now_ms.div_euclid(1000);
    let consent = own(ctx, session, id, "consent.withdrawal_prepare").await?;
    if Phase::of(&consent, now) != Phase::Signed {
        return Err(ConsentError::NotSigned(consent.id.clone()).into());
    }
    let template = settings.template(&consent.client_id, &consent.purpose)?;
    let signed_at = consent.signature.as_ref().map_or(consent.created_at, |s| s.time_stamp_at);
    let statement = template.withdrawal(&facts_owned(ctx, session, &consent, now).await.facts(), signed_at);
    put_rendered(ctx, session, &consent, DocumentKind::Withdrawal, &statement, now_ms).await
}

/// The patient's card signed the withdrawal: the same checks as a consent's signature, the signer the card
/// that consented (or one staff linked to the same patient since), then `consent.withdrawn` at once.
pub async fn withdraw(
    ctx: Context<'_>,
    checkers: Checkers<'_>,
    session: &Session,
    id: &ConsentId,
    signed: &[u8],
    now_ms: i64,
) -> Result<ConsentRecord, DeskError> {
    let now = now_ms.div_euclid(1000);
    let consent = own(ctx, session, id, "consent.withdraw").await?;
    if Phase::of(&consent, now) != Phase::Signed {
        return Err(ConsentError::NotSigned(consent.id.clone()).into());
    }
    let document = stored(ctx, id, DocumentKind::Withdrawal).await?;
    let (verifier, stamps) = (checkers.verifier.ok_or(DeskError::NoTrustAnchors)?, checkers.stamps);
    let checked = check(signed, &document.bytes)?;
    let path = verifier.patient_signer(&checked.chain, now).map_err(patient_refusal)?;
    let signer = Sha256Hex::of(path.first().map(Vec::as_slice).unwrap_or_default());
    let link = ctx.provider.store.identity_link(&consent.patient_key).await?;
    let consented = consent.signature.as_ref().map(|s| s.signer_sha256.as_str());
    let own_card = consented == Some(signer.as_str()) || link.is_some_and(|l| l.signing_sha256 == signer.as_str());
    if !own_card {
        deny(ctx, session, "consent.withdraw", id.as_str(), "the withdrawal's signer is not the patient's card").await;
        return Err(DeskError::OtherPatient);
    }
    let done = extend(verifier, stamps, &document.bytes, &path, signed).await?;
    let stamped = done.stamp.as_ref().map_or(now, |(t, _)| *t);
    let evidence = Evidence::new(Signer::Patient, Sha256Hex::of(&done.document), "pades", "b-lt", signer, stamped)?;
    let documents = vec![ConsentDocument::new(id, DocumentKind::SignedWithdrawal, done.document, now)];
    let step = life::withdraw(&consent, &evidence, &actor(session), now)?.with_documents(documents);
    Ok(record::apply(&*ctx.provider.store, step, now_ms).await?)
}

/// Render the physician's attestation for a patient who cannot sign with the card (`reason`), shown first if
/// it was only requested: stored as the consent's attestation document, `consent.attestation_prepared`.
pub async fn prepare_attestation(
    ctx: Context<'_>,
    settings: &ConsentSettings,
    session: &Session,
    id: &ConsentId,
    reason: AttestationReason,
    now_ms: i64,
) -> Result<ConsentDocument, DeskError> {
    let now = now_ms.div_euclid(1000);
    let consent = show(ctx, session, id, now_ms).await?;
    let template = settings.template(&consent.client_id, &consent.purpose)?;
    let statement = template.attestation(&facts_owned(ctx, session, &consent, now).await.facts(), reason);
    put_rendered(ctx, session, &consent, DocumentKind::Attestation, &statement, now_ms).await
}

/// The physician's HPKI signature key signed the attestation: bound to the signed-in physician (D79), B-LT,
/// stored as the consent's signature at the weaker level `physician_attestation` with `reason`.
pub async fn attest(
    ctx: Context<'_>,
    checkers: Checkers<'_>,
    session: &Session,
    id: &ConsentId,
    reason: AttestationReason,
    signed: &[u8],
    now_ms: i64,
) -> Result<ConsentRecord, DeskError> {
    let now = now_ms.div_euclid(1000);
    let consent = own(ctx, session, id, "consent.attest").await?;
    if Phase::of(&consent, now) != Phase::Shown {
        return Err(ConsentError::NotShown(consent.id.clone()).into());
    }
    let document = stored(ctx, id, DocumentKind::Attestation).await?;
    let (verifier, stamps) = (checkers.verifier.ok_or(DeskError::NoTrustAnchors)?, checkers.stamps);
    let checked = check(signed, &document.bytes)?;
    let holder = match verifier.signature_holder(&checked.chain, now) {
        Ok(h) => h,
        Err(e) => {
            deny(ctx, session, "consent.attest", id.as_str(), &format!("the attestation's signer: {e}")).await;
            return Err(DeskError::NotThePhysician(e.to_string()));
        }
    };
    if holder.person.to_string() != session.person_key {
        deny(ctx, session, "consent.attest", id.as_str(), "the attestation's signer is not the signed-in physician")
            .await;
        return Err(DeskError::NotThePhysician("it belongs to another person than the one signed in".into()));
    }
    let leaf = holder.path.first().cloned().unwrap_or_default();
    let done = extend(verifier, stamps, &document.bytes, &holder.path, signed).await?;
    let stamped = done.stamp.as_ref().map_or(now, |(t, _)| *t);
    let signer = Signer::PhysicianAttesting(reason);
    let evidence =
        Evidence::new(signer, Sha256Hex::of(&done.document), "pades", "b-lt", Sha256Hex::of(&leaf), stamped)?;
    let documents = vec![ConsentDocument::new(id, DocumentKind::SignedConsent, done.document, now)];
    let step = life::sign(&consent, &evidence, &actor(session), now)?.with_documents(documents);
    Ok(record::apply(&*ctx.provider.store, step, now_ms).await?)
}

/// The consent of `session`'s facility (a pending one: of its physician); otherwise refused and audited
/// (denied) at `action`.
pub(super) async fn own(
    ctx: Context<'_>,
    session: &Session,
    id: &ConsentId,
    action: &str,
) -> Result<ConsentRecord, DeskError> {
    let found = ctx.provider.store.consent(id).await?;
    let why = match &found {
        None => "no such consent",
        Some(c) if session.facility_id.as_ref().map(|f| f.as_str()) != Some(c.facility_id.as_str()) => {
            "the consent is another facility's"
        }
        Some(c)
            if matches!(c.state, ConsentState::Requested | ConsentState::Shown)
                && c.physician_key != session.person_key =>
        {
            "the pending consent was asked for another physician"
        }
        Some(_) => return found.ok_or(DeskError::NotYours),
    };
    let target = crate::refusals::named(Some(id.as_str()));
    deny(ctx, session, action, &target, why).await;
    match found {
        None => Err(ConsentError::Unknown(id.clone()).into()),
        Some(_) => Err(DeskError::NotYours),
    }
}

pub(super) async fn view(ctx: Context<'_>, consent: ConsentRecord, now: i64) -> Result<ConsentView, DeskError> {
    let document = stored(ctx, &consent.id, DocumentKind::Consent).await?;
    let statement = hcpki_docsig::consent_document::read(&document.bytes)
        .map_err(|e| ConsentError::Store(hcpki_ca::store::StoreError::Corrupt(format!("consent document: {e}"))))?
        .ok_or(DeskError::NoDocument)?;
    let service = service_name(ctx, &consent.client_id).await;
    let linked = match &consent.signature {
        Some(s) if s.level == EvidenceLevel::PatientSignature => ctx
            .provider
            .store
            .identity_link(&consent.patient_key)
            .await?
            .filter(|l| l.signing_sha256 == s.signer_sha256),
        // An agreement with the user PIN names the card by its user-authentication certificate.
        Some(s) if s.level == EvidenceLevel::PatientAuthentication => ctx
            .provider
            .store
            .identity_link(&consent.patient_key)
            .await?
            .filter(|l| l.auth_sha256.as_deref() == Some(s.signer_sha256.as_str())),
        _ => None,
    };
    let unconfirmed_four = match (&consent.signature, &linked) {
        (Some(s), None) if s.level == EvidenceLevel::PatientSignature && consent.state == ConsentState::Signed => {
            let signed = ctx.provider.store.consent_document(&consent.id, DocumentKind::SignedConsent).await?;
            Some(signed.ok_or_else(|| "the signed document is not kept".to_owned()).and_then(|d| signer_four(&d.bytes)))
        }
        _ => None,
    };
    Ok(ConsentView { phase: Phase::of(&consent, now), consent, statement, service, linked, unconfirmed_four })
}

pub(super) async fn stored(ctx: Context<'_>, id: &ConsentId, kind: DocumentKind) -> Result<ConsentDocument, DeskError> {
    ctx.provider.store.consent_document(id, kind).await?.ok_or(DeskError::NoDocument)
}

/// The B-B check of the signing requests: a PAdES signature appended to exactly `document`, intact.
fn check(signed: &[u8], document: &[u8]) -> Result<Checked, DeskError> {
    if signed.is_empty() || signed.len() > MAX_SIGNED_BYTES {
        return Err(DeskError::BadSignature(format!("a signed PDF of {} bytes", signed.len())));
    }
    signature::check_b_b(Format::Pades, signed, document).map_err(DeskError::BadSignature)
}

/// B-LT: the signature time stamp and the signer's CRL at its time.
async fn extend(
    verifier: &CardVerifier,
    stamps: &dyn SignatureTimeStamps,
    document: &[u8],
    path: &[Vec<u8>],
    signed: &[u8],
) -> Result<Signed, DeskError> {
    let start = Signed::b_b(signed, String::new());
    signature::extend(verifier, stamps, Format::Pades, Level::BaselineLt, document, path, start)
        .await
        .map_err(DeskError::Extend)
}

/// The words for a signer certificate the consent cannot take.
fn patient_refusal(e: CardLoginError) -> DeskError {
    DeskError::PatientCertificate(match e {
        CardLoginError::Revoked { .. } => "このカードの署名用電子証明書は失効しています(住所や氏名の変更などで)。\
             市区町村の窓口で新しい証明書を受け取ってから、もう一度署名してください。同意は記録されていません。 \
             (The card's signing certificate is revoked, e.g. after an address change: the patient gets a new one \
             at the municipal office and signs again. Nothing was recorded.)"
            .to_owned(),
        CardLoginError::ExpiredCard { .. } => "このカードの署名用電子証明書は有効期限が切れています。\
             市区町村の窓口で更新してから、もう一度署名してください。同意は記録されていません。 \
             (The card's signing certificate has expired: the patient renews it at the municipal office and signs \
             again. Nothing was recorded.)"
            .to_owned(),
        CardLoginError::RevocationUnknown { detail } => format!(
            "署名用電子証明書の失効情報を確認できないため、同意を記録できません。運用担当者に連絡してください。 \
             (The signing certificate's revocation status cannot be checked, so nothing was recorded: the \
             operator checks the JPKI CRL in [login] crl_urls. {detail})"
        ),
        other => format!(
            "マイナンバーカードの署名用電子証明書による署名ではありません。患者さんご本人のカードで署名してください。 \
             (This is not a signature with a My Number card's signing certificate: {other}. Have the patient sign \
             with their own card.)"
        ),
    })
}

/// The card's user-authentication certificate as the agent read it: a JPKI 利用者証明用 certificate, or refused.
fn authentication_certificate(der: &[u8]) -> Result<Vec<u8>, DeskError> {
    use der::Decode as _;
    let bad = |why: &str| DeskError::BadSignature(format!("the card's authentication certificate {why}"));
    let cert = x509_cert::Certificate::from_der(der).map_err(|_| bad("does not decode"))?;
    match hcpki_pkix::jpki::certificate_kind(&cert) {
        Ok(Some(hcpki_pkix::jpki::CertificateKind::UserAuthentication)) => Ok(der.to_vec()),
        _ => Err(bad("is not a My Number card's user-authentication certificate")),
    }
}

/// The basic four items of the signing certificate of the signed PDF's (first) signature.
fn signer_four(signed: &[u8]) -> Result<BasicFour, String> {
    let verified = hcpki_docsig::signature::pades::verify(signed).map_err(|e| e.to_string())?;
    let first = verified.signatures.first().ok_or_else(|| "the signed document holds no signature".to_owned())?;
    BasicFour::from_certificate(&first.signer).map_err(|e| e.to_string())
}

pub(super) fn actor(session: &Session) -> Actor {
    match PersonKey::parse(&session.person_key) {
        Ok(key) => Actor::Person(key),
        Err(_) => Actor::Service(format!("portal-session:{}", session.id_hash)),
    }
}

/// The facts of a document rendered after the request (withdrawal, attestation), owned.
struct OwnedFacts {
    facility_name: String,
    facility_id: String,
    physician: String,
    service: String,
    date: i64,
    reference: String,
}

impl OwnedFacts {
    fn facts(&self) -> Facts<'_> {
        Facts {
            facility_name: &self.facility_name,
            facility_id: &self.facility_id,
            physician: &self.physician,
            service: &self.service,
            date: self.date,
            reference: &self.reference,
        }
    }
}

async fn facts_owned(ctx: Context<'_>, session: &Session, consent: &ConsentRecord, now: i64) -> OwnedFacts {
    let facility_name = match consent.facility_id.parse() {
        Ok(f) => facility_name(ctx, &f).await,
        Err(_) => consent.facility_id.clone(),
    };
    OwnedFacts {
        facility_name,
        facility_id: consent.facility_id.clone(),
        physician: session.subject.name().to_owned(),
        service: service_name(ctx, &consent.client_id).await,
        date: now,
        reference: consent.id.to_string(),
    }
}

async fn put_rendered(
    ctx: Context<'_>,
    session: &Session,
    consent: &ConsentRecord,
    kind: DocumentKind,
    statement: &Statement,
    now_ms: i64,
) -> Result<ConsentDocument, DeskError> {
    let now = now_ms.div_euclid(1000);
    let pdf = hcpki_docsig::consent_document::render(statement, now)
        .map_err(|e| ConsentError::Store(hcpki_ca::store::StoreError::Corrupt(format!("consent document: {e}"))))?;
    let document = ConsentDocument::new(&consent.id, kind, pdf, now);
    let what = match kind {
        DocumentKind::Withdrawal => action::WITHDRAWAL_PREPARED,
        _ => action::ATTESTATION_PREPARED,
    };
    let event = consent_event(&actor(session), what, consent, json!({ "document_sha256": document.sha256 }));
    ctx.provider.store.consent_document_put(&document, &event, UnixTime::from_millis(now_ms)).await?;
    Ok(document)
}
