//! `POST /api/v1/signatures/verify` (issue #27 item 5, D73): a signature and its document, Base64 in JSON, judged
//! by `hcpki_ca::signature::validation` against `[signing]`; the verdict as JSON. Any authenticated caller of the
//! admin API may ask; every call is audited (verdict, level, the SHA-256 of the signature and of the document —
//! never the document). The server fetches nothing for it: revocation data must travel in the signature (B-LT),
//! because URLs taken from a posted certificate would let a caller make the server connect anywhere.

use super::AppState;
use super::api_error::ApiError;
use super::auth::Caller;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use hcpki_ca::signature::cades;
use hcpki_ca::signature::validation::{FetchRequest, Report};
use serde::Deserialize;

/// The largest request body: 768 KiB of JSON, so about 570 KiB of signature and document together (Base64 adds a
/// third). Larger: 413, audited up to the admin API's 1 MiB buffer, refused by that guard beyond; verify larger
/// files with `hcpki signature verify`.
pub const MAX_VERIFY_BYTES: usize = 768 * 1024;
const ACTION: &str = "signature.verify";

/// What the endpoint takes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyBody {
    /// The signature (a detached CAdES `.p7s`), Base64.
    signature: String,
    /// The signed document, Base64.
    data: String,
}

/// `POST /api/v1/signatures/verify`.
pub async fn verify(State(state): State<AppState>, caller: Caller, body: Body) -> Result<Response, ApiError> {
    caller.authenticated(ACTION).await?;
    let Ok(bytes) = super::body::read_limited(body, MAX_VERIFY_BYTES).await else {
        return Err(caller.refuse(ACTION, "-", ApiError::too_large(MAX_VERIFY_BYTES)).await);
    };
    let bad = |detail: String| ApiError::bad_request("invalid request", detail);
    let parsed: VerifyBody = match serde_json::from_slice(&bytes) {
        Ok(b) => b,
        Err(e) => {
            let e = bad(format!("{e}: send {{\"signature\": BASE64, \"data\": BASE64}}"));
            return Err(caller.refuse(ACTION, "-", e).await);
        }
    };
    let decode = |field: &str, text: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|e| bad(format!("{field} is not Base64 ({e}): encode the file's bytes with standard Base64")))
    };
    let (p7s, data) = match (decode("signature", &parsed.signature), decode("data", &parsed.data)) {
        (Ok(p), Ok(d)) => (p, d),
        (Err(e), _) | (_, Err(e)) => return Err(caller.refuse(ACTION, "-", e).await),
    };
    let trust = state.signatures.clone();
    let now = state.clock.now_unix();
    let target = hex::encode(sha256(&p7s));
    let document = hex::encode(sha256(&data));
    let report = tokio::task::spawn_blocking(move || {
        let no_fetch = |_: &FetchRequest<'_>| {
            Err::<Vec<u8>, String>(
                "the server fetches no revocation data for posted signatures: embed it (B-LT)".into(),
            )
        };
        cades::validate(&p7s, &data, &trust, now, &no_fetch)
    })
    .await
    .map_err(ApiError::unavailable)?;
    let detail = serde_json::json!({
        "verdict": report.verdict(),
        "level": report.level,
        "document_sha256": document,
        "signer": report.signer.as_ref().map(|c| c.tbs_certificate().subject().to_string()),
    });
    state.admin.audit_admin_event(&caller.actor(), ACTION, &target, detail).await;
    Ok(Json(json_report(&report)).into_response())
}

/// A verdict as JSON: the API's answer and `hcpki signature verify --json`.
pub fn json_report(report: &Report) -> serde_json::Value {
    serde_json::json!({
        "verdict": report.verdict(),
        "indication": report.indication,
        "sub_indication": report.sub_indication,
        "detail": report.detail,
        "signer": report.signer.as_ref().map(|c| c.tbs_certificate().subject().to_string()),
        "hc_roles": report.hc_roles,
        "level": report.level,
        "time_stamp": report.time_stamp.map(hcpki_ca::time::rfc3339),
        "archive_time_stamp": report.archive_time_stamp.map(hcpki_ca::time::rfc3339),
        "revocation": report.revocation,
        "notes": report.notes,
    })
}

fn sha256(data: &[u8]) -> Vec<u8> {
    hcpki_ca::timestamp::HashAlgorithm::Sha256.digest(data)
}
