//! `POST /v1/documents`: a page of an allowed origin hands the agent a **document** (its bytes, format and title)
//! to sign with the card's signature key (D71). The agent reads and shows it on its own page (`/pin/{id}`), hashes
//! it and builds what the card signs itself; the operation is then followed like a login, `GET /v1/sign/{id}`,
//! whose `done` result carries the signed file (`result.document`).
//!
//! With `"role": "auth"` and the portal's `challenge`, a patient agrees to a consent or withdrawal the agent shows
//! with the My Number card's **user-authentication** key and its 4-digit PIN instead (D130 item 3): nothing is
//! added to the document; the card signs [`AuthPurpose::Consent`]'s message over the challenge and the SHA-256 the
//! agent computed of the document it showed, and `done` carries that signature and chain (`result.signature`,
//! `result.chain`) as a login's does.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine as _;

use super::operations::{Operation, Purpose};
use super::reply::{Refusal, decode_challenge, failure, json_body, request_origin, requested_lang};
use super::run::run_operation;
use super::session::{self, Authoriser, Plan, SessionAsk};
use super::state::AppState;
use crate::config::PinEntry;
use crate::document::signer::SignerShown;
use crate::document::time_stamps::TimeStamps;
use crate::document::{self, Document, Format, Level, MAX_DOCUMENT_BYTES, Shown};
use crate::service::{AgentError, CardKind, DocumentSignRequest, KeyRole, SignRequest, Signed};
use hcpki_agent_protocol::AuthPurpose;
use hcpki_agent_protocol::purpose::consent_challenge;

/// The route's body limit: a document at the limit in base64 (4/3) with room for the other fields.
pub(super) const BODY_LIMIT: usize = MAX_DOCUMENT_BYTES / 3 * 4 + 64 * 1024;

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DocumentBody {
    format: Format,
    /// What the person will recognise the document by (shown as the requester's words).
    title: String,
    #[serde(default)]
    file_name: Option<String>,
    /// The document, base64 (standard alphabet).
    content: String,
    kind: CardKind,
    #[serde(default)]
    level: Level,
    #[serde(default)]
    reader: Option<String>,
    #[serde(default)]
    allow_last_try: bool,
    /// The portal page's language (`ja`, `en`): the agent's page speaks it.
    #[serde(default)]
    lang: Option<String>,
    /// `sign` (the default): the signature key signs the document. `auth`: the patient agrees to the consent or
    /// withdrawal shown with the user-authentication key (needs `challenge`).
    #[serde(default = "sign_role")]
    role: KeyRole,
    /// With `role: "auth"`: the portal's challenge (base64url).
    #[serde(default)]
    challenge: Option<String>,
    /// A signing session (D163): opened by this signature's PIN, or continued with its key (a click, no PIN).
    #[serde(default)]
    session: Option<SessionAsk>,
}

fn sign_role() -> KeyRole {
    KeyRole::Sign
}

pub(super) async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<DocumentBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let body = match json_body(body, BODY_LIMIT) {
        Ok(b) => b,
        Err((status, code, message)) => return failure(status, code, &message),
    };
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(body.content.as_bytes()) else {
        return failure(StatusCode::BAD_REQUEST, "bad_document", "content is not base64: send the document's bytes");
    };
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return failure(StatusCode::PAYLOAD_TOO_LARGE, "too_large", &document::too_large(bytes.len()).to_string());
    }
    let lang = match requested_lang(body.lang.as_deref()) {
        Ok(l) => l,
        Err((status, code, message)) => return failure(status, code, &message),
    };
    let size = bytes.len();
    let doc = match Document::new(body.format, &body.title, body.file_name.as_deref(), bytes) {
        Ok(d) => d,
        Err(e) => {
            // Not the reason: it may quote the document, which the log never holds.
            let origin = request_origin(&headers);
            tracing::warn!(%origin, format = body.format.as_str(), size, "document refused before any card work");
            return failure(StatusCode::BAD_REQUEST, "bad_document", &e.to_string());
        }
    };
    if let Err(e) = doc.check_signer(body.kind) {
        return failure(StatusCode::BAD_REQUEST, "bad_document", &e.to_string());
    }
    if body.role == KeyRole::Auth {
        if body.session.is_some() {
            let message = "a patient's agreement is given with the PIN each time: drop \"session\" for role auth";
            return failure(StatusCode::BAD_REQUEST, "bad_session", message);
        }
        return agree(state, &headers, body, doc, lang);
    }
    let time_stamps = match time_stamps_for(&state, body.level) {
        Ok(t) => t,
        Err((status, code, message)) => return failure(status, code, &message),
    };
    let origin = request_origin(&headers);
    let plan = match session::plan(&state, &origin, body.kind, 1, body.session, hcpki_pkix::time::now_unix()) {
        Ok(p) => p,
        Err((status, code, message)) => return failure(status, code, &message),
    };
    // Who signs, from the signature certificate the card shows without a PIN (read before the page opens).
    let signer = signer_for(&state, body.kind, body.reader.as_deref()).await;
    let shown = Arc::new(doc.shown(body.level));
    if state.pin_entry == PinEntry::Terminal {
        // The PIN is typed into the agent's terminal: it shows what is signed there, as the page would.
        eprint!("Requested by {origin}\n{}", shown.terminal_text(body.kind, &signer));
    }
    let purpose = Purpose::Document { origin: origin.clone(), shown: Arc::clone(&shown), signer };
    let Some(op) = state.ops.start(&origin, purpose, body.kind, crate::service::KeyRole::Sign, lang) else {
        return busy();
    };
    tracing::info!(
        op = %op.id, %origin, kind = ?body.kind, format = body.format.as_str(), level = body.level.name(),
        document_sha256 = %hex::encode(shown.sha256), size = shown.size, authorised_by = plan.name(),
        statement = shown.statement.as_ref().map(|s| crate::document::statement_kind_name(&s.kind)),
        reference = shown.statement.as_ref().map(|s| s.reference.as_str()), "document signature requested"
    );
    let request = DocumentSignRequest { reader: body.reader, kind: body.kind, allow_last_try: body.allow_last_try };
    run_signatures(&state, op, vec![doc], request, plan, time_stamps)
}

/// Most documents one batch lists: a morning's prescriptions, not a data set.
pub const MAX_BATCH: usize = 100;

/// One document of a batch.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BatchItem {
    format: Format,
    title: String,
    #[serde(default)]
    file_name: Option<String>,
    content: String,
}

/// `POST /v1/documents/batch`: several documents (e.g. a morning's prescriptions), each read, summarised and
/// listed on one page, confirmed once (the signature PIN, or a click inside a signing session) and each signed on
/// its own with the signature key (D163).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BatchBody {
    documents: Vec<BatchItem>,
    kind: CardKind,
    #[serde(default)]
    level: Level,
    #[serde(default)]
    reader: Option<String>,
    #[serde(default)]
    allow_last_try: bool,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    session: Option<SessionAsk>,
}

pub(super) async fn start_batch(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<BatchBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let body = match json_body(body, BODY_LIMIT) {
        Ok(b) => b,
        Err((status, code, message)) => return failure(status, code, &message),
    };
    if body.documents.is_empty() || body.documents.len() > MAX_BATCH {
        let message = format!("a batch lists 1 to {MAX_BATCH} documents: split it, or send one to /v1/documents");
        return failure(StatusCode::BAD_REQUEST, "bad_request", &message);
    }
    let lang = match requested_lang(body.lang.as_deref()) {
        Ok(l) => l,
        Err((status, code, message)) => return failure(status, code, &message),
    };
    let mut docs = Vec::with_capacity(body.documents.len());
    let mut total = 0usize;
    for (i, item) in body.documents.into_iter().enumerate() {
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(item.content.as_bytes()) else {
            let message = format!("document {} is not base64: send the document's bytes", i + 1);
            return failure(StatusCode::BAD_REQUEST, "bad_document", &message);
        };
        total = total.saturating_add(bytes.len());
        if total > MAX_DOCUMENT_BYTES {
            return failure(StatusCode::PAYLOAD_TOO_LARGE, "too_large", &document::too_large(total).to_string());
        }
        let doc = match Document::new(item.format, &item.title, item.file_name.as_deref(), bytes) {
            Ok(d) => d,
            Err(e) => {
                let message = format!("document {}: {e}", i + 1);
                return failure(StatusCode::BAD_REQUEST, "bad_document", &message);
            }
        };
        // A consent or attestation is one person's statement, read and signed on its own page.
        if doc.statement().is_some() {
            let message = format!(
                "document {} is a consent statement: sign it on its own through /v1/documents, not in a batch",
                i + 1
            );
            return failure(StatusCode::BAD_REQUEST, "bad_document", &message);
        }
        docs.push(doc);
    }
    let time_stamps = match time_stamps_for(&state, body.level) {
        Ok(t) => t,
        Err((status, code, message)) => return failure(status, code, &message),
    };
    let origin = request_origin(&headers);
    let items = u32::try_from(docs.len()).unwrap_or(u32::MAX);
    let plan = match session::plan(&state, &origin, body.kind, items, body.session, hcpki_pkix::time::now_unix()) {
        Ok(p) => p,
        Err((status, code, message)) => return failure(status, code, &message),
    };
    let signer = signer_for(&state, body.kind, body.reader.as_deref()).await;
    let shown: Arc<Vec<Shown>> = Arc::new(docs.iter().map(|d| d.shown(body.level)).collect());
    if state.pin_entry == PinEntry::Terminal {
        for (i, one) in shown.iter().enumerate() {
            eprint!("Requested by {origin}, document {} of {items}\n{}", i + 1, one.terminal_text(body.kind, &signer));
        }
    }
    let purpose = Purpose::Batch { origin: origin.clone(), documents: Arc::clone(&shown), signer };
    let Some(op) = state.ops.start(&origin, purpose, body.kind, KeyRole::Sign, lang) else {
        return busy();
    };
    tracing::info!(
        op = %op.id, %origin, kind = ?body.kind, items, level = body.level.name(), size = total,
        authorised_by = plan.name(), "batch signature requested"
    );
    let request = DocumentSignRequest { reader: body.reader, kind: body.kind, allow_last_try: body.allow_last_try };
    run_signatures(&state, op, docs, request, plan, time_stamps)
}

/// The TSAs for `level`, or the refusal: B-T needs `[[signing.tsa]]`; B-LT and B-LTA are a service's to make.
fn time_stamps_for(state: &AppState, level: Level) -> Result<Option<Arc<TimeStamps>>, Refusal> {
    match (level, &state.time_stamps) {
        (Level::BaselineT, None) => Err((
            StatusCode::BAD_REQUEST,
            "no_tsa",
            "level b-t needs a time-stamping authority: add [[signing.tsa]] to agent.toml (docs/card-agent.md)".into(),
        )),
        (Level::BaselineT, Some(t)) => Ok(Some(Arc::clone(t))),
        (Level::BaselineB, _) => Ok(None),
        (other @ (Level::BaselineLt | Level::BaselineLta), _) => {
            let message = format!(
                "level {} is not made by the agent: send b-b or b-t (a service extends the signature)",
                other.as_str()
            );
            Err((StatusCode::BAD_REQUEST, "bad_request", message))
        }
    }
}

/// Who signs, from the signature certificate the card shows without a PIN (read before the page opens).
async fn signer_for(state: &AppState, kind: CardKind, reader: Option<&str>) -> SignerShown {
    let service = Arc::clone(&state.service);
    let reader = reader.map(str::to_owned);
    tokio::task::spawn_blocking(move || signer_of(service.as_ref(), kind, reader.as_deref())).await.unwrap_or_default()
}

fn busy() -> Response {
    failure(StatusCode::TOO_MANY_REQUESTS, "busy", "too many signing operations are waiting; finish or cancel one")
}

/// Runs the signatures of `docs`, in order, each with its own card transaction and VERIFY, all authorised by one
/// answer of the page ([`Authoriser`]: the PIN, or a click in a signing session). Any failure ends the operation
/// and hands out nothing (the documents signed before it in a batch included); each result names its mode.
fn run_signatures(
    state: &AppState,
    op: Arc<Operation>,
    docs: Vec<Document>,
    request: DocumentSignRequest,
    plan: Plan,
    time_stamps: Option<Arc<TimeStamps>>,
) -> Response {
    if let Some(shown) = plan.shown() {
        op.show_session(shown);
    }
    let service = Arc::clone(&state.service);
    let sessions = Arc::clone(&state.sessions);
    let ca_certificates = Arc::clone(&state.ca_certificates);
    let runtime = tokio::runtime::Handle::current();
    run_operation(state, op, move |prompt| {
        let now = hcpki_pkix::time::now_unix();
        let auth = Authoriser::new(prompt, &plan, &sessions, now);
        let mut files = Vec::with_capacity(docs.len());
        let mut last: Option<Signed> = None;
        for doc in &docs {
            let signed =
                document::sign(service.as_ref(), doc, &request, &auth, now, &ca_certificates).and_then(|mut signed| {
                    if let Some(tsas) = &time_stamps {
                        runtime.block_on(tsas.add_to(doc.format(), &mut signed))?;
                    }
                    Ok(signed.into_signed(doc.format()))
                });
            let mut signed = match signed {
                Ok(s) => s,
                Err(e) => {
                    auth.failed(&e);
                    return Err(e);
                }
            };
            files.extend(signed.document.take());
            if let Some(before) = &last {
                signed.apdus = signed.apdus.saturating_add(before.apdus);
                signed.card_micros = signed.card_micros.saturating_add(before.card_micros);
            }
            last = Some(signed);
        }
        let mut signed = last.ok_or_else(|| AgentError::Other("no document was given".into()))?;
        let items = u32::try_from(files.len()).unwrap_or(u32::MAX);
        for (file, mode) in files.iter_mut().zip(auth.modes(items, &signed.card_id, signed.kind)) {
            file.signing = mode;
            tracing::info!(card_id = %signed.card_id, mode = file.signing.name(), signing = ?file.signing, "document signature authorised");
        }
        if files.len() == 1 {
            signed.document = files.pop();
        } else {
            signed.documents = files;
        }
        Ok(signed)
    })
}

/// `role: "auth"`: the patient agrees to the consent or withdrawal shown with the user-authentication key. Only a
/// patient's statement read from the document (never a bare document: the key would then vouch for bytes nobody
/// was shown in words), only a My Number card, only with the portal's challenge.
fn agree(
    state: AppState,
    headers: &HeaderMap,
    body: DocumentBody,
    doc: Document,
    lang: Option<hcpki_html::Lang>,
) -> Response {
    let patients = doc.statement().is_some_and(|s| {
        matches!(s.kind, crate::document::StatementKind::Consent | crate::document::StatementKind::Withdrawal)
    });
    if !patients || body.kind != CardKind::Jpki || body.format != Format::Pades {
        return failure(
            StatusCode::BAD_REQUEST,
            "bad_document",
            "role auth agrees only to a patient's consent or withdrawal PDF with the My Number card (kind jpki, \
             format pades): send other documents with the signature key",
        );
    }
    let challenge = match body.challenge.as_deref().map(decode_challenge) {
        Some(Ok(c)) => c,
        Some(Err(why)) => return failure(StatusCode::BAD_REQUEST, "bad_challenge", &why),
        None => {
            return failure(
                StatusCode::BAD_REQUEST,
                "bad_challenge",
                "role auth needs the portal's challenge: ask the portal for one and send it as \"challenge\"",
            );
        }
    };
    let origin = request_origin(headers);
    let shown = Arc::new(doc.shown(Level::BaselineB));
    if state.pin_entry == PinEntry::Terminal {
        eprint!("Requested by {origin}\n{}", shown.terminal_text(body.kind, &SignerShown::default()));
    }
    let message = AuthPurpose::Consent.message(&origin, &consent_challenge(&challenge, &shown.sha256));
    let purpose =
        Purpose::Document { origin: origin.clone(), shown: Arc::clone(&shown), signer: SignerShown::default() };
    let Some(op) = state.ops.start(&origin, purpose, body.kind, KeyRole::Auth, lang) else {
        return busy();
    };
    tracing::info!(
        op = %op.id, %origin, document_sha256 = %hex::encode(shown.sha256),
        reference = shown.statement.as_ref().map(|s| s.reference.as_str()), "consent by authentication requested"
    );
    let request = SignRequest { reader: body.reader, kind: body.kind, message, allow_last_try: body.allow_last_try };
    let service = Arc::clone(&state.service);
    run_operation(&state, op, move |prompt| service.sign(&request, prompt))
}

/// The signer shown for the card of `kind` (in `reader`), from the listing; nothing when it is not there yet.
fn signer_of(service: &dyn crate::service::CardService, kind: CardKind, reader: Option<&str>) -> SignerShown {
    let readers: Vec<_> = service.readers().unwrap_or_default();
    let card = readers
        .iter()
        .filter(|r| reader.is_none_or(|name| r.name == name))
        .filter_map(|r| r.card.as_ref())
        .find(|c| c.kind == kind);
    card.map(|c| SignerShown::from_certificates(&c.certificates)).unwrap_or_default()
}
