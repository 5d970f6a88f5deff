//! The physician's side: the portal page shows a request to the person it names ([`open`]), takes the card's
//! B-B signature back ([`complete`]) or the person's refusal ([`refuse`]). The signer certificate is bound to
//! the session's person as a card login binds its authentication certificate (D79), B-T takes its time
//! stamp from `[[signing.tsa]]` only (D80), and B-LT its validation data from the login's CRL cache (D82).

use super::{Format, Level, api::state_at};
use crate::audit::audit;
use crate::desk::page::{self, service_name};
use crate::desk::signature::{self, ExtendError, SignatureTimeStamps, Signed, sha256_hex};
use crate::login::{CardLoginError, CardVerifier};
use crate::oidc::Context;
use crate::session::Session;
use hcpki_ca::audit::{AuditEvent, Outcome};
use hcpki_ca::store::StoreError;
use hcpki_ca::store::signing_request::{SigningEnd, SigningRequestRecord, SigningState};
use hcpki_model::SigningRequestId;
use hcpki_pkix::time::UnixTime;
use serde_json::{Value, json};

/// Largest `.p7s` taken back from the page (a signature with a few certificates is a few KiB), and the room a
/// signature adds to an e-prescription or a PDF.
pub const MAX_SIGNATURE_BYTES: usize = 64 * 1024;

/// A request the page may show.
#[derive(Clone, Debug)]
pub struct RequestView {
    /// The request.
    pub request: SigningRequestRecord,
    /// The service that asks, as people know it: "name (client id)", or the client id alone.
    pub service: String,
}

/// Why the page shows no request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageRefusal {
    /// No such request (never made, or removed a day after its deadline).
    Unknown,
    /// The request is for another person than the one signed in.
    OtherPerson,
    /// It is not waiting for a signature any more: `signed`, `refused`, `cancelled` or `expired`.
    NotPending(&'static str),
}

impl PageRefusal {
    /// The reason an audit entry records.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Unknown => "no such signing request",
            Self::OtherPerson => "the request is for another person than the one signed in",
            Self::NotPending(_) => "the request is not waiting for a signature",
        }
    }
}

/// A request signed and stored.
#[derive(Clone, Debug)]
pub struct Done {
    /// The request as stored now.
    pub request: SigningRequestRecord,
}

/// Why a posted signature was not taken; nothing is stored as signed, and the request stays pending (the
/// physician may try again) except where it ended meanwhile.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The page's request cannot be signed now.
    #[error("{}", .0.reason())]
    Page(PageRefusal),
    /// What was posted is no signature of this document (malformed, another document, an authentication
    /// certificate, a time stamp already in it). Sign again from the page with the card.
    #[error("the signature is not a valid B-B signature of this document: {0}")]
    BadSignature(String),
    /// The signer certificate is not the signed-in physician's HPKI signature certificate (D79): another card,
    /// an untrusted issuer, expired or revoked. Sign with your own card, the one you signed in with.
    #[error("the signer certificate is not yours: {0}")]
    NotThePhysician(String),
    /// Card login is not configured, so no signer can be bound to a person: the operator adds `[login]`
    /// trust anchors.
    #[error("this portal has no HPKI trust anchors ([login]), so it cannot check whose card signed")]
    NoTrustAnchors,
    /// No configured TSA gave a time stamp (B-T): nothing was signed; the operator checks `hcpki tsa check`.
    #[error("no time stamp could be had, so nothing was signed: {0}")]
    NoTimeStamp(String),
    /// B-LT or B-LTA was asked and the signer's revocation data (its CA's CRL, current at the time stamp's
    /// time) is not in the login's CRL cache: nothing was signed; the operator configures that CRL (D82).
    #[error("the validation data for B-LT could not be gathered, so nothing was signed: {0}")]
    NoValidationData(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ExtendError> for SignError {
    fn from(e: ExtendError) -> Self {
        match e {
            ExtendError::BadSignature(why) => Self::BadSignature(why),
            ExtendError::NoTimeStamp(why) => Self::NoTimeStamp(why),
            ExtendError::NoValidationData(why) => Self::NoValidationData(why),
        }
    }
}

/// `GET /sign/{id}` for `session` at `now_ms`: the request when it is this person's and pending; shown and
/// refused pages are audited `signing_request.show`.
pub async fn open(
    ctx: Context<'_>,
    session: &Session,
    id: &SigningRequestId,
    now_ms: i64,
) -> Result<Result<RequestView, PageRefusal>, StoreError> {
    let request = match own_pending(ctx, session, id, "signing_request.show", now_ms).await? {
        Ok(r) => r,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let actor = page::actor(session);
    audit(
        ctx.provider.store.as_ref(),
        now_ms,
        &actor,
        "signing_request.show",
        id.as_str(),
        Outcome::Ok,
        summary(&request),
    )
    .await;
    let service = service_name(ctx, &request.client_id).await;
    Ok(Ok(RequestView { request, service }))
}

/// `GET /sign/{id}/document` for `session` at `now_ms`: the request when it is this person's and pending (the
/// page's script hands its document to the card agent); a refusal is audited `signing_request.document`.
pub async fn document(
    ctx: Context<'_>,
    session: &Session,
    id: &SigningRequestId,
    now_ms: i64,
) -> Result<Result<SigningRequestRecord, PageRefusal>, StoreError> {
    own_pending(ctx, session, id, "signing_request.document", now_ms).await
}

/// What the page posts with `action=sign`: the card's signature, and the card agent's word on how it was authorised
/// (its `signing` object as JSON text, D163), if the page relayed one.
#[derive(Clone, Copy, Debug)]
pub struct Posted<'a> {
    pub p7s: &'a [u8],
    pub mode: Option<&'a str>,
}

/// `POST /sign/{id}` with the card's B-B `.p7s` for `session` at `now_ms`: checked against the stored document
/// (`cades::verify`: signature, messageDigest, signingCertificateV2, nonRepudiation), its signer bound to the
/// session's person through `verifier`'s trust anchors (D79), a time stamp from `stamps` added from B-T, the
/// validation data from `verifier`'s CRL cache from B-LT and an archive time stamp at B-LTA (D82), stored and
/// audited `signing_request.sign`. A refusal is audited (denied) with its reason; a missing time stamp or CRL
/// (failed) is also noted on the request, which stays pending.
pub async fn complete(
    ctx: Context<'_>,
    verifier: Option<&CardVerifier>,
    stamps: &dyn SignatureTimeStamps,
    session: &Session,
    id: &SigningRequestId,
    signature: Posted<'_>,
    now_ms: i64,
) -> Result<Done, SignError> {
    let Posted { p7s, mode } = signature;
    let request = own_pending(ctx, session, id, "signing_request.sign", now_ms).await?.map_err(SignError::Page)?;
    let outcome = sign(verifier, stamps, &request, p7s, now_ms.div_euclid(1000)).await;
    let actor = page::actor(session);
    let signed = match outcome {
        Ok(signed) => signed,
        Err(e) => {
            let mut detail = summary(&request);
            insert(&mut detail, "reason", json!(crate::oidc::refused::reason(&e.to_string())));
            let kept = match &e {
                SignError::NoTimeStamp(why) => Some(format!("no time stamp could be had: {why}")),
                SignError::NoValidationData(_) => Some(e.to_string()),
                _ => None,
            };
            if let Some(error) = kept {
                // Kept on the request so that the service, polling, learns why it is not signed yet.
                let event = event(&actor, "signing_request.sign", id.as_str(), Outcome::Failed, detail);
                ctx.provider
                    .store
                    .signing_request_note_error(id, &error, &event, UnixTime::from_millis(now_ms))
                    .await?;
            } else {
                ctx.refusals.record(&actor, "signing_request.sign", id.as_str(), detail).await;
            }
            return Err(e);
        }
    };
    let mut detail = summary(&request);
    insert(&mut detail, "signer_sha256", json!(signed.signer_sha256));
    if let Some((gen_time, url)) = &signed.stamp {
        insert(&mut detail, "gen_time", json!(hcpki_pkix::time::rfc3339(*gen_time)));
        insert(&mut detail, "tsa", json!(url));
    }
    if let Some((certificates, crls)) = signed.validation_data {
        insert(&mut detail, "validation_data", json!({ "certificates": certificates, "crls": crls }));
    }
    if let Some((gen_time, url)) = &signed.archive {
        insert(&mut detail, "archive_gen_time", json!(hcpki_pkix::time::rfc3339(*gen_time)));
        insert(&mut detail, "archive_tsa", json!(url));
    }
    // The agent's word on how the signature was authorised (D163): kept when it reads, noted when it does not
    // (the signature itself is checked above and stands either way).
    let mode = match mode.filter(|m| !m.is_empty()).map(super::SignatureMode::parse) {
        Some(Ok(m)) => Some(m.to_json()),
        Some(Err(why)) => {
            insert(&mut detail, "signature_mode_unreadable", json!(why));
            None
        }
        None => None,
    };
    if let Some(m) = &mode {
        insert(&mut detail, "signature_mode", m.clone());
    }
    let end = SigningEnd::Signed {
        result: signed.document,
        signer_sha256: signed.signer_sha256,
        gen_time: signed.stamp.map(|(t, _)| t),
        signature_mode: mode.map(|m| m.to_string()),
    };
    let event = event(&actor, "signing_request.sign", id.as_str(), Outcome::Ok, detail);
    match ctx.provider.store.signing_request_finish(id, &end, &event, UnixTime::from_millis(now_ms)).await? {
        Some(request) => Ok(Done { request }),
        // Ended by another post, or its time ran out while the TSA answered.
        None => Err(SignError::Page(ended_meanwhile(ctx, id, now_ms).await?)),
    }
}

/// `POST /sign/{id}` with the person's refusal: the request ends `refused`, audited `signing_request.refuse`.
pub async fn refuse(
    ctx: Context<'_>,
    session: &Session,
    id: &SigningRequestId,
    now_ms: i64,
) -> Result<Result<SigningRequestRecord, PageRefusal>, StoreError> {
    let request = match own_pending(ctx, session, id, "signing_request.refuse", now_ms).await? {
        Ok(r) => r,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let actor = page::actor(session);
    let end = SigningEnd::Closed { state: SigningState::Refused, reason: "the physician declined to sign".into() };
    let event = event(&actor, "signing_request.refuse", id.as_str(), Outcome::Ok, summary(&request));
    match ctx.provider.store.signing_request_finish(id, &end, &event, UnixTime::from_millis(now_ms)).await? {
        Some(request) => Ok(Ok(request)),
        None => Ok(Err(ended_meanwhile(ctx, id, now_ms).await?)),
    }
}

/// How a request that was pending a moment ago stands now that finishing it found it ended: signed or refused by
/// another post, or its time ran out.
async fn ended_meanwhile(ctx: Context<'_>, id: &SigningRequestId, now_ms: i64) -> Result<PageRefusal, StoreError> {
    Ok(match ctx.provider.store.signing_request(id).await? {
        Some(r) => match state_at(&r, now_ms.div_euclid(1000)) {
            "pending" => PageRefusal::NotPending("expired"),
            state => PageRefusal::NotPending(state),
        },
        None => PageRefusal::Unknown,
    })
}

/// The checks and the additions of [`complete`]: the card's B-B checked and bound to the request's person,
/// then, as the level asks, the signature time stamp (B-T), the validation data gathered at the time stamp's
/// time (B-LT) and the archive time stamp (B-LTA).
pub(super) async fn sign(
    verifier: Option<&CardVerifier>,
    stamps: &dyn SignatureTimeStamps,
    request: &SigningRequestRecord,
    signed: &[u8],
    now: i64,
) -> Result<Signed, SignError> {
    let bad = |why: String| SignError::BadSignature(why);
    let format = request.format.parse::<Format>().map_err(|_| bad(format!("format {} is unknown", request.format)))?;
    let level = request.level.parse::<Level>().map_err(|_| bad(format!("level {} is unknown", request.level)))?;
    if signed.is_empty() || signed.len() > max_signed_bytes(format) {
        return Err(bad(format!("a signed document of {} bytes (at most {})", signed.len(), max_signed_bytes(format))));
    }
    let checked = signature::check_b_b(format, signed, &request.document).map_err(bad)?;
    let verifier = verifier.ok_or(SignError::NoTrustAnchors)?;
    let holder = verifier
        .signature_holder(&checked.chain, now)
        .map_err(|e: CardLoginError| SignError::NotThePhysician(e.to_string()))?;
    if holder.person.to_string() != request.person_key {
        return Err(SignError::NotThePhysician(
            "it belongs to another person (issuer organisation and registration number) than the one signed in".into(),
        ));
    }
    let signer_sha256 = checked.chain.first().map(|signer| sha256_hex(signer)).unwrap_or_default();
    let done = Signed::b_b(signed, signer_sha256);
    Ok(signature::extend(verifier, stamps, format, level, &request.document, &holder.path, done).await?)
}

/// The largest signed document taken back from the page: a `.p7s` is a few KiB; an e-prescription or a PDF is
/// the document itself with the signature in it.
pub fn max_signed_bytes(format: Format) -> usize {
    match format {
        Format::Cades => MAX_SIGNATURE_BYTES,
        Format::XadesEprescription | Format::Pades => super::MAX_DOCUMENT_BYTES + MAX_SIGNATURE_BYTES,
    }
}

/// A request of `session`'s person, pending at `now_ms`; otherwise the refusal, audited (denied) at `action`.
async fn own_pending(
    ctx: Context<'_>,
    session: &Session,
    id: &SigningRequestId,
    action: &str,
    now_ms: i64,
) -> Result<Result<SigningRequestRecord, PageRefusal>, StoreError> {
    let found = ctx.provider.store.signing_request(id).await?;
    let refusal = match &found {
        None => PageRefusal::Unknown,
        Some(r) if r.person_key != session.person_key => PageRefusal::OtherPerson,
        Some(r) => match state_at(r, now_ms.div_euclid(1000)) {
            "pending" => return Ok(found.ok_or(PageRefusal::Unknown)),
            state => PageRefusal::NotPending(state),
        },
    };
    let mut detail = found.as_ref().map(summary).unwrap_or_else(|| json!({}));
    insert(&mut detail, "reason", json!(refusal.reason()));
    if let PageRefusal::NotPending(state) = refusal {
        insert(&mut detail, "state", json!(state));
    }
    let target = crate::refusals::named(Some(id.as_str()));
    page::refused(ctx, session, action, &target, detail).await;
    Ok(Err(refusal))
}

/// What every entry of a request says: the service, format, level and the document's SHA-256.
fn summary(r: &SigningRequestRecord) -> Value {
    json!({ "client": r.client_id, "format": r.format, "level": r.level, "document_sha256": r.document_sha256 })
}

fn insert(detail: &mut Value, key: &str, value: Value) {
    if let Some(map) = detail.as_object_mut() {
        map.insert(key.into(), value);
    }
}

fn event(actor: &str, action: &str, target: &str, outcome: Outcome, detail: Value) -> AuditEvent {
    AuditEvent { actor: actor.into(), action: action.into(), target: target.into(), outcome, detail }
}
