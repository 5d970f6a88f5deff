//! The portal's consent routes (issue #28): `GET /consent/{id}` (the consent for the facility's physician),
//! `GET /consent/{id}/document?kind=` (the PDF the card agent shows and signs), `POST /consent/{id}/prepare`
//! (show it / render the withdrawal or the attestation; JSON for the page's script), `POST /consent/{id}` (the
//! card's signature, the staff's identity confirmation, or the refusal; CSRF token and origin checked).
//! Decisions are [`hcpki_sso::consent::desk`]'s; this adapts them to pages.

use super::lang::PageLang;
use super::pages::{self, unavailable_in};
use super::path_id::PathId;
use super::respond::check_form_csrf;
use super::state::PortalState;
use axum::Json;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use hcpki_ca::store::consent::{ConsentRecord, DocumentKind};
use hcpki_html::Lang;
use hcpki_model::ConsentId;
use hcpki_sso::consent::agreement::{self, Agreement, CardAnswer};
use hcpki_sso::consent::desk::{self, DeskError};
use hcpki_sso::consent::evidence::AttestationReason;
use hcpki_sso::session::Session;
use serde_json::json;

/// `GET /consent/{id}`.
pub async fn show(
    State(state): State<PortalState>,
    PageLang(lang): PageLang,
    PathId(id): PathId<ConsentId>,
    headers: HeaderMap,
) -> Response {
    let (session, csrf) = match signed_in(&state, lang, &headers, &id).await {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    match desk::open(state.oidc_context(), &session, &id, state.clock.now_unix()).await {
        Ok(view) => {
            let presence = presence_of(&session, &csrf);
            pages::consent::consent(
                lang,
                &view,
                &csrf,
                page_context(&state, &session, presence.as_deref(), &view.consent),
            )
        }
        Err(e) => refused(lang, &e),
    }
}

/// The query of [`document`].
#[derive(Debug, serde::Deserialize)]
pub struct DocumentQuery {
    kind: Option<String>,
}

/// `GET /consent/{id}/document?kind=consent|withdrawal|attestation|signed`: the PDF.
pub async fn document(
    State(state): State<PortalState>,
    PageLang(lang): PageLang,
    PathId(id): PathId<ConsentId>,
    Query(query): Query<DocumentQuery>,
    headers: HeaderMap,
) -> Response {
    let (session, _) = match signed_in(&state, lang, &headers, &id).await {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    let kind = match query.kind.as_deref().unwrap_or("consent") {
        "consent" => DocumentKind::Consent,
        "withdrawal" => DocumentKind::Withdrawal,
        "attestation" => DocumentKind::Attestation,
        "signed" => DocumentKind::SignedConsent,
        "signed_withdrawal" => DocumentKind::SignedWithdrawal,
        "agreement_proof" => DocumentKind::AgreementProof,
        "withdrawal_proof" => DocumentKind::WithdrawalProof,
        _ => return pages::refused(lang, StatusCode::BAD_REQUEST, unknown_kind(lang)),
    };
    match desk::document(state.oidc_context(), &session, &id, kind).await {
        Ok(d) => (
            [
                (header::CONTENT_TYPE, content_type(kind).to_owned()),
                (header::CACHE_CONTROL, "no-store".to_owned()),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"{}-{}.{}\"",
                        kind.as_str(),
                        d.sha256.get(..12).unwrap_or_default(),
                        if content_type(kind) == "application/json" { "json" } else { "pdf" }
                    ),
                ),
            ],
            d.bytes,
        )
            .into_response(),
        Err(e) => refused(lang, &e),
    }
}

/// A stored document's media type: the agreement proofs are JSON, the rest PDF.
fn content_type(kind: DocumentKind) -> &'static str {
    match kind {
        DocumentKind::AgreementProof | DocumentKind::WithdrawalProof => "application/json",
        _ => "application/pdf",
    }
}

/// The form of [`prepare`].
#[derive(Debug, serde::Deserialize)]
pub struct PrepareForm {
    csrf: Option<String>,
    /// `show`, `withdrawal` or `attestation`.
    step: Option<String>,
    /// For an attestation: `no_signing_certificate`, `password_forgotten`, `key_locked`.
    reason: Option<String>,
    /// `auth`: the patient agrees with the 4-digit PIN (D130 item 3); the answer carries a challenge for it.
    role: Option<String>,
}

/// `POST /consent/{id}/prepare`: JSON `{document}` (the PDF's URL) for the page's script, or `{error}`.
pub async fn prepare(
    State(state): State<PortalState>,
    PageLang(lang): PageLang,
    PathId(id): PathId<ConsentId>,
    headers: HeaderMap,
    Form(form): Form<PrepareForm>,
) -> Response {
    let (session, csrf) = match signed_in(&state, lang, &headers, &id).await {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    if let Err(refused) = check_form_csrf(lang, &state, &session, &csrf, form.csrf.as_deref()).await {
        return refused;
    }
    let ctx = state.oidc_context();
    let now_ms = state.clock.now_unix_ms();
    let done = match form.step.as_deref() {
        Some("show") => desk::show(ctx, &session, &id, now_ms).await.map(|_| "consent"),
        Some("withdrawal") => {
            desk::prepare_withdrawal(ctx, &state.consent, &session, &id, now_ms).await.map(|_| "withdrawal")
        }
        Some("attestation") => match reason(form.reason.as_deref()) {
            Some(r) => {
                desk::prepare_attestation(ctx, &state.consent, &session, &id, r, now_ms).await.map(|_| "attestation")
            }
            None => return json_error(StatusCode::BAD_REQUEST, pages::consent::no_reason(lang)),
        },
        _ => return json_error(StatusCode::BAD_REQUEST, unknown_kind(lang)),
    };
    let done = match (done, form.role.as_deref()) {
        (Ok(kind), Some("auth")) => agreement_challenge(&state, &session, &id).await.map(|c| (kind, Some(c))),
        (done, _) => done.map(|kind| (kind, None)),
    };
    match done {
        Ok((kind, challenge)) => Json(json!({
            "document": format!("/consent/{id}/document?kind={kind}"),
            "challenge": challenge.map(|c| c.challenge),
        }))
        .into_response(),
        Err(e) => {
            let (status, text) = pages::consent::refusal_words(lang, &e);
            json_error(status, &text)
        }
    }
}

/// A challenge for the patient's card to agree to consent `id` with the 4-digit PIN.
async fn agreement_challenge(
    state: &PortalState,
    session: &Session,
    id: &ConsentId,
) -> Result<hcpki_sso::login::challenge::IssuedChallenge, DeskError> {
    let cards = state.cards.as_ref().ok_or(DeskError::NoTrustAnchors)?;
    let now = state.clock.now_unix();
    agreement::challenge(state.oidc_context(), &state.consent, &cards.origin, cards.ttl_secs, session, id, now).await
}

/// The form of [`post`].
#[derive(Debug, serde::Deserialize)]
pub struct ConsentForm {
    csrf: Option<String>,
    /// `sign`, `withdraw`, `attest`, `confirm` or `refuse`.
    action: Option<String>,
    /// The card agent's signed PDF, standard base64.
    signature: Option<String>,
    /// The card's user-authentication certificate the agent read with the signature, standard base64.
    authentication_certificate: Option<String>,
    /// The attestation's or the refusal's reason.
    reason: Option<String>,
    /// The facility's patient ID, typed by staff to confirm the identity.
    patient_id: Option<String>,
    /// An agreement with the 4-digit PIN: the portal's challenge (base64url) and the card's chain (DER in
    /// base64, comma-separated; the signature is in `signature`).
    challenge: Option<String>,
    chain: Option<String>,
}

/// `POST /consent/{id}`.
pub async fn post(
    State(state): State<PortalState>,
    PageLang(lang): PageLang,
    PathId(id): PathId<ConsentId>,
    headers: HeaderMap,
    Form(form): Form<ConsentForm>,
) -> Response {
    let (session, csrf) = match signed_in(&state, lang, &headers, &id).await {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    if let Err(refused) = check_form_csrf(lang, &state, &session, &csrf, form.csrf.as_deref()).await {
        return refused;
    }
    let ctx = state.oidc_context();
    let now_ms = state.clock.now_unix_ms();
    let checkers =
        desk::Checkers { verifier: state.cards.as_ref().map(|c| &c.verifier), stamps: state.time_stamps.as_ref() };
    let decode = |s: &Option<String>| {
        s.as_deref().and_then(|s| base64::engine::general_purpose::STANDARD.decode(s.trim()).ok()).unwrap_or_default()
    };
    let presence = presence_of(&session, &csrf);
    match form.action.as_deref() {
        Some("sign") => {
            let certificate =
                form.authentication_certificate.as_ref().map(|_| decode(&form.authentication_certificate));
            let signed = decode(&form.signature);
            match desk::sign(ctx, checkers, &session, &id, &signed, certificate.as_deref(), now_ms).await {
                Ok(view) => {
                    let page = page_context(&state, &session, presence.as_deref(), &view.consent);
                    pages::consent::consent(lang, &view, &csrf, page)
                }
                Err(e) => refused(lang, &e),
            }
        }
        Some("withdraw") => {
            let signed = decode(&form.signature);
            match desk::withdraw(ctx, checkers, &session, &id, &signed, now_ms).await {
                Ok(_) => reopen(&state, lang, &session, &id, &csrf).await,
                Err(e) => refused(lang, &e),
            }
        }
        Some("attest") => {
            let Some(reason) = reason(form.reason.as_deref()) else {
                return pages::refused(lang, StatusCode::BAD_REQUEST, pages::consent::no_reason(lang));
            };
            let signed = decode(&form.signature);
            match desk::attest(ctx, checkers, &session, &id, reason, &signed, now_ms).await {
                Ok(_) => reopen(&state, lang, &session, &id, &csrf).await,
                Err(e) => refused(lang, &e),
            }
        }
        Some(step @ ("agree" | "agree_withdrawal")) => {
            let what = if step == "agree" { Agreement::Consent } else { Agreement::Withdrawal };
            let field = |f: &Option<String>| f.as_deref().unwrap_or_default().to_owned();
            let decoded = match hcpki_sso::login::answer::decode(&field(&form.signature), &field(&form.chain)) {
                Ok(d) => d,
                Err(e) => return refused(lang, &DeskError::Card(e)),
            };
            let Some(cards) = state.cards.as_ref() else { return refused(lang, &DeskError::NoTrustAnchors) };
            let challenge = field(&form.challenge);
            let answer = CardAnswer { challenge: &challenge, signature: &decoded.signature, chain: &decoded.chain };
            let settings = &state.consent;
            match agreement::agree(ctx, settings, checkers, &cards.origin, &session, &id, what, &answer, now_ms).await {
                Ok(_) => reopen(&state, lang, &session, &id, &csrf).await,
                Err(e) => refused(lang, &e),
            }
        }
        Some("confirm") => {
            let patient_id = form.patient_id.as_deref().unwrap_or_default();
            match desk::confirm_identity(ctx, &session, &id, patient_id, now_ms).await {
                Ok(_) => reopen(&state, lang, &session, &id, &csrf).await,
                Err(e) => refused(lang, &e),
            }
        }
        Some("refuse") => {
            let reason = pages::consent::refusal_reason(form.reason.as_deref());
            match desk::refuse(ctx, &session, &id, reason, now_ms).await {
                Ok(_) => reopen(&state, lang, &session, &id, &csrf).await,
                Err(e) => refused(lang, &e),
            }
        }
        _ => pages::refused(lang, StatusCode::BAD_REQUEST, unknown_kind(lang)),
    }
}

/// The consent page as it stands after a move.
async fn reopen(state: &PortalState, lang: Lang, session: &Session, id: &ConsentId, csrf: &str) -> Response {
    match desk::open(state.oidc_context(), session, id, state.clock.now_unix()).await {
        Ok(view) => {
            let presence = presence_of(session, csrf);
            pages::consent::consent(lang, &view, csrf, page_context(state, session, presence.as_deref(), &view.consent))
        }
        Err(e) => refused(lang, &e),
    }
}

/// What the page's script needs: the agent, the session's card and its presence token.
fn page_context<'a>(
    state: &'a PortalState,
    session: &'a Session,
    presence: Option<&'a str>,
    consent: &ConsentRecord,
) -> pages::consent::PageContext<'a> {
    let evidence = state.consent.evidence(&consent.client_id, &consent.purpose);
    pages::consent::PageContext {
        agent: state.cards.as_ref().map(|c| c.agent.as_str()),
        card: session.credential.card_id.as_deref(),
        presence,
        evidence,
    }
}

/// The presence token of `session` (D26), when it lives on a lease.
fn presence_of(session: &Session, csrf: &str) -> Option<String> {
    session.presence.then(|| hcpki_sso::session::presence_token(csrf))
}

fn reason(text: Option<&str>) -> Option<AttestationReason> {
    match text? {
        "no_signing_certificate" => Some(AttestationReason::NoSigningCertificate),
        "password_forgotten" => Some(AttestationReason::PasswordForgotten),
        "key_locked" => Some(AttestationReason::KeyLocked),
        _ => None,
    }
}

fn refused(lang: Lang, e: &DeskError) -> Response {
    if e.is_unavailable() {
        return unavailable_in(lang, e);
    }
    let (status, text) = pages::consent::refusal_words(lang, e);
    pages::refused(lang, status, &text)
}

fn json_error(status: StatusCode, text: &str) -> Response {
    (status, Json(json!({ "error": text }))).into_response()
}

fn unknown_kind(lang: Lang) -> &'static str {
    if lang == Lang::Ja {
        "この操作は分かりません。ページを開き直してください。"
    } else {
        "This action is unknown: reload the page."
    }
}

/// The live session with its CSRF token, lent or not (the consent flow is what a lend is for, D91); without one, the
/// login page that comes back here.
async fn signed_in(
    state: &PortalState,
    lang: Lang,
    headers: &HeaderMap,
    id: &ConsentId,
) -> Result<(Session, String), Response> {
    super::respond::signed_in_or_login(state, lang, headers, &format!("/consent/{id}"), true).await
}

/// `GET /static/consent.js`.
pub async fn script() -> Response {
    super::respond::script(include_str!("consent.js"))
}
