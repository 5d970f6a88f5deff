//! `POST /api/v1/signatures/verify` (issue #27 item 5, D73): a signed file (a detached CAdES signature with its
//! document, an XAdES e-prescription or a signed PDF, the format read from the file), Base64 in JSON, judged by
//! `hcpki_docsig::signature::verdict` against `[signing]`; the verdict as JSON. Any authenticated caller of the
//! admin API may ask; every call is audited (verdict, level, the SHA-256 of the signature and of the document —
//! never the document). The server fetches nothing for it: revocation data must travel in the signature (B-LT),
//! because URLs taken from a posted certificate would let a caller make the server connect anywhere.

use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::app::auth::Caller;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use hcpki_docsig::signature::validation::{FetchRequest, Level, Report};
use hcpki_docsig::signature::verdict::{self, Verdict};
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
    /// The signed file (a detached CAdES `.p7s`, an XAdES e-prescription, a PDF), Base64.
    signature: String,
    /// The signed document, Base64: for a detached CAdES signature only.
    #[serde(default)]
    data: Option<String>,
}

/// `POST /api/v1/signatures/verify`.
pub async fn verify(State(state): State<AppState>, caller: Caller, body: Body) -> Result<Response, ApiError> {
    caller.authenticated(ACTION).await?;
    let Ok(bytes) = crate::web::body::read_limited(body, MAX_VERIFY_BYTES).await else {
        return Err(caller.refuse(ACTION, "-", ApiError::too_large(MAX_VERIFY_BYTES)).await);
    };
    let bad = |detail: String| ApiError::bad_request("invalid request", detail);
    let parsed: VerifyBody = match serde_json::from_slice(&bytes) {
        Ok(b) => b,
        Err(e) => {
            let e = bad(format!(
                "{e}: send {{\"signature\": BASE64}} (a PDF, an e-prescription) or {{\"signature\": BASE64, \"data\": \
                 BASE64}} (a detached CAdES signature and its document)"
            ));
            return Err(caller.refuse(ACTION, "-", e).await);
        }
    };
    let decode = |field: &str, text: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|e| bad(format!("{field} is not Base64 ({e}): encode the file's bytes with standard Base64")))
    };
    let signed = match decode("signature", &parsed.signature) {
        Ok(s) => s,
        Err(e) => return Err(caller.refuse(ACTION, "-", e).await),
    };
    let data = match parsed.data.as_deref().map(|d| decode("data", d)).transpose() {
        Ok(d) => d,
        Err(e) => return Err(caller.refuse(ACTION, "-", e).await),
    };
    let trust = state.signatures.clone();
    let now = state.clock.now_unix();
    let target = hex::encode(sha256(&signed));
    let document = data.as_deref().map(|d| hex::encode(sha256(d)));
    let judged = tokio::task::spawn_blocking(move || {
        let no_fetch = |_: &FetchRequest<'_>| {
            Err::<Vec<u8>, String>(
                "the server fetches no revocation data for posted signatures: embed it (B-LT)".into(),
            )
        };
        verdict::judge(&signed, data.as_deref(), &trust, now, &no_fetch)
    })
    .await
    .map_err(ApiError::unavailable)?;
    let verdict = match judged {
        Ok(v) => v,
        Err(e) => return Err(caller.refuse(ACTION, &target, bad(e.to_string())).await),
    };
    let overall = verdict.overall();
    let detail = serde_json::json!({
        "format": verdict.format.family(),
        "verdict": overall.report.verdict(),
        "level": overall.report.level.map(Level::name),
        "signatures": verdict.signatures.len(),
        "revisions": verdict.revisions.as_ref().map(|h| h.revisions.len()),
        "document_sha256": document,
        "signer": overall.report.signer.as_ref().map(|c| c.tbs_certificate().subject().to_string()),
    });
    state.admin.registrar().audit_admin_event(&caller.actor(), ACTION, &target, detail).await;
    Ok(Json(json_verdict(&verdict)).into_response())
}

/// A file's verdict as JSON: the API's answer and `hcpki signature verify --json`. The file's verdict (the worst
/// of its signatures') at the top, as [`json_report`] writes it, with the format and every signature's own
/// verdict under `signatures` (one for CAdES and XAdES; one per signature field for a PDF, with its `field` and
/// the `revision` it signed). For a PDF, `revisions` lists each revision (`revision`, `end`, the `signatures`
/// and `document_time_stamps` it holds, the `changes` it made after the first signature, or what it changed
/// that is `refused`), and `after_last_revision` the bytes no revision accounts for (`padding` or
/// `unaccounted`); both null for the other formats.
pub fn json_verdict(verdict: &Verdict) -> serde_json::Value {
    let overall = verdict.overall();
    let revision_of = |field: Option<&str>| {
        let history = verdict.revisions.as_ref()?;
        let field = field?;
        history.revisions.iter().find(|r| r.signatures.iter().any(|s| s == field)).map(|r| r.revision)
    };
    let mut json = json_report(&overall.report, overall.field.as_deref());
    json.insert("format".into(), serde_json::json!(verdict.format.family()));
    let signatures = verdict.signatures.iter().map(|one| {
        let mut entry = json_report(&one.report, one.field.as_deref());
        entry.insert("revision".into(), serde_json::json!(revision_of(one.field.as_deref())));
        serde_json::Value::Object(entry)
    });
    json.insert("signatures".into(), signatures.collect());
    let history = verdict.revisions.as_ref();
    json.insert("revisions".into(), serde_json::json!(history.map(|h| &h.revisions)));
    json.insert("after_last_revision".into(), serde_json::json!(history.and_then(|h| h.after_last_revision)));
    json.into()
}

/// One signature's verdict as JSON, with its PDF field's name (null for the other formats).
fn json_report(report: &Report, field: Option<&str>) -> serde_json::Map<String, serde_json::Value> {
    use serde_json::json;
    [
        ("verdict", json!(report.verdict())),
        ("indication", json!(report.indication)),
        ("sub_indication", json!(report.sub_indication)),
        ("detail", json!(report.detail)),
        ("field", json!(field)),
        ("signer", json!(report.signer.as_ref().map(|c| c.tbs_certificate().subject().to_string()))),
        ("hc_roles", json!(report.hc_roles)),
        ("level", json!(report.level.map(Level::name))),
        ("time_stamp", json!(report.time_stamp.map(hcpki_pkix::time::rfc3339))),
        ("archive_time_stamp", json!(report.archive_time_stamp.map(hcpki_pkix::time::rfc3339))),
        ("revocation", json!(report.revocation)),
        ("notes", json!(report.notes)),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value))
    .collect()
}

fn sha256(data: &[u8]) -> Vec<u8> {
    hcpki_docsig::timestamp::HashAlgorithm::Sha256.digest(data)
}
