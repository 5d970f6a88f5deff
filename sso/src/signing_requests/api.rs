//! The service's side: create a request (`POST /api/v1/signing-requests`) and follow it (`GET …/{id}`), each
//! authenticated as a registered confidential OIDC client exactly as `/introspect` authenticates one
//! (`private_key_jwt` assertion, `tls_client_auth` / `self_signed_tls_client_auth` on the mTLS listener, or a
//! `client_secret_post` secret; never a public client's bare `client_id`: [`API`]).

use super::{API_PATH, LIFETIME_SECS, NewRequest, PAGE_PATH};
use crate::audit::audit;
use crate::desk::service::{Created, authenticate, forbidden, not_found, physician_session, refused};
use crate::desk::signature::sha256_hex;
use crate::oidc::client::{ClientCredentials, Endpoint};
use crate::oidc::{Context, OAuthError};
use crate::policy::ClientRule;
use base64::Engine as _;
use hcpki_ca::audit::{AuditEvent, Outcome};
use hcpki_ca::person_key::PersonKey;
use hcpki_ca::store::signing_request::{SigningRequestRecord, SigningState};
use hcpki_model::SigningRequestId;
use hcpki_pkix::time::UnixTime;
use serde_json::{Value, json};
use std::collections::HashMap;

/// The API: confidential clients only (issue #42 item 1). The service acts on its own authority here — it asks
/// a physician to sign and collects the signed document — and a public client's `client_id` proves nothing:
/// anyone may send it, with a token of that client a person's device holds.
pub const API: Endpoint = Endpoint { path: API_PATH, callers: ClientRule::Confidential };

/// What the service learns of its request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// The request.
    pub request: SigningRequestRecord,
    /// `pending`, `signed`, `refused`, `cancelled` or `expired` (pending past its deadline).
    pub state: &'static str,
}

impl Status {
    /// The JSON answer: always id, state, format, level, title, the document's SHA-256 and the deadline; the
    /// last attempt's error while pending; once signed the signed document (base64), the signer certificate's
    /// SHA-256 and, at B-T, the time stamp's genTime.
    pub fn to_json(&self) -> Value {
        let r = &self.request;
        let mut body = json!({
            "id": r.id, "state": self.state, "format": r.format, "level": r.level, "title": r.title,
            "document_sha256": r.document_sha256, "created_at": r.created_at, "expires_at": r.expires_at,
        });
        if let Some(map) = body.as_object_mut() {
            if let Some(error) = &r.error {
                map.insert("error".into(), json!(error));
            }
            if let Some(result) = &r.result {
                map.insert("signed_document".into(), json!(base64::engine::general_purpose::STANDARD.encode(result)));
                map.insert("signer_certificate_sha256".into(), json!(r.signer_sha256));
                map.insert("gen_time".into(), json!(r.gen_time));
                map.insert("gen_time_rfc3339".into(), json!(r.gen_time.map(hcpki_pkix::time::rfc3339)));
                // How the card agent says it was authorised (D163), when the page relayed it.
                if let Some(mode) = r.signature_mode.as_deref().and_then(|m| serde_json::from_str::<Value>(m).ok()) {
                    map.insert("signing".into(), mode);
                }
            }
        }
        body
    }
}

/// `POST /api/v1/signing-requests` at `now_ms`: the client authenticated from `credentials` (and the
/// connection's `certificate` on the mTLS listener), the physician's `bearer` access token active and issued to
/// that client (a certificate-bound one only with its certificate), its grant's person signed in with an HPKI
/// card, `fields` a valid request. Stored with its audit entry `signing_request.create`; refusals audited too.
pub async fn create(
    ctx: Context<'_>,
    credentials: &ClientCredentials,
    certificate: Option<&[u8]>,
    bearer: Option<&str>,
    fields: &HashMap<String, String>,
    now_ms: i64,
) -> Result<Created, OAuthError> {
    let now = now_ms.div_euclid(1000);
    let client = authenticate(ctx, API, credentials, certificate, now).await?;
    let deny = |e: OAuthError, more: Value| refused(ctx, &client.id, "signing_request.create", e, more);
    let (claims, session) = match physician_session(ctx, &client.id, bearer, certificate, now).await? {
        Ok(found) => found,
        Err((e, more)) => return Err(deny(e, more).await),
    };
    let gid = claims.get("gid").and_then(Value::as_str).unwrap_or_default().to_owned();
    let person = session.person_key;
    if !matches!(PersonKey::parse(&person), Ok(PersonKey::Hpki { .. })) {
        let e = forbidden(
            "the physician did not sign in with an HPKI card (or the card carries no registration number): \
             documents are signed with the card, so ask them to sign in with it",
        );
        return Err(deny(e, json!({ "reason": "not an HPKI card sign-in", "grant": gid })).await);
    }
    let request = match NewRequest::parse(fields) {
        Ok(r) => r,
        Err(e) => return Err(deny(e, json!({})).await),
    };
    let id = SigningRequestId::parse(&crate::oidc::random_token(32)?).map_err(OAuthError::server)?;
    let record = SigningRequestRecord {
        id: id.clone(),
        client_id: client.id.clone(),
        person_key: person.clone(),
        grant_id: gid.clone(),
        sub: claims.get("sub").and_then(Value::as_str).unwrap_or_default().to_owned(),
        format: request.format.as_str().into(),
        level: request.level.as_str().into(),
        title: request.title,
        document_sha256: sha256_hex(&request.document),
        document: request.document,
        state: SigningState::Pending,
        result: None,
        signer_sha256: None,
        gen_time: None,
        created_at: now,
        expires_at: now + LIFETIME_SECS,
        error: None,
        signature_mode: None,
    };
    let event = AuditEvent {
        actor: format!("oidc:{}", client.id),
        action: "signing_request.create".into(),
        target: id.to_string(),
        outcome: Outcome::Ok,
        detail: json!({ "client": client.id, "person": person, "grant": gid, "format": record.format,
            "level": record.level, "document_sha256": record.document_sha256, "bytes": record.document.len(),
            "expires_at": record.expires_at }),
    };
    ctx.provider.store.signing_request_create(&record, &event, UnixTime::from_millis(now_ms)).await?;
    Ok(Created::new(ctx, PAGE_PATH, API_PATH, id.to_string(), record.expires_at))
}

/// `GET /api/v1/signing-requests/{id}` at `now_ms`: the request, to the client that created it only (any other
/// is answered 404, as for an unknown id). Each answer that carries the signed document is audited
/// `signing_request.fetch`.
pub async fn status(
    ctx: Context<'_>,
    credentials: &ClientCredentials,
    certificate: Option<&[u8]>,
    id: &SigningRequestId,
    now_ms: i64,
) -> Result<Status, OAuthError> {
    let now = now_ms.div_euclid(1000);
    let client = authenticate(ctx, API, credentials, certificate, now).await?;
    let request = match ctx.provider.store.signing_request(id).await? {
        Some(r) if r.client_id == client.id => r,
        _ => {
            let e = not_found(
                "no signing request of yours has this id (it may have been removed a day after its deadline): \
                 create a new one",
            );
            let more = json!({ "request": crate::refusals::named(Some(id.as_str())) });
            return Err(refused(ctx, &client.id, "signing_request.fetch", e, more).await);
        }
    };
    let state = state_at(&request, now);
    if request.result.is_some() {
        let detail = json!({ "client": client.id, "format": request.format, "level": request.level,
            "document_sha256": request.document_sha256, "signer_sha256": request.signer_sha256,
            "gen_time": request.gen_time });
        let actor = format!("oidc:{}", client.id);
        audit(ctx.provider.store.as_ref(), now_ms, &actor, "signing_request.fetch", id.as_str(), Outcome::Ok, detail)
            .await;
    }
    Ok(Status { request, state })
}

/// The state a request shows at `now`: its stored one, or `expired` for a pending one past its deadline.
pub fn state_at(request: &SigningRequestRecord, now: i64) -> &'static str {
    match request.state {
        SigningState::Pending if request.expires_at <= now => "expired",
        s => s.as_str(),
    }
}
