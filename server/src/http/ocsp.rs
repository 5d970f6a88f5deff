//! The OCSP responder's HTTP binding (RFC 6960 Appendix A, RFC 5019 §5–6) on the plain-HTTP listener, at the
//! URL in every certificate's AIA (`<http_base_url>/ocsp/<ca>`):
//!
//! * `POST /ocsp/<ca>` with `Content-Type: application/ocsp-request` and the DER request as body;
//! * `GET /ocsp/<ca>/<url-encoding of base64 of the DER request>`, which HTTP caches and CDNs can keep: a
//!   pre-signed answer carries `Cache-Control: max-age` until it is re-signed, `Last-Modified` (thisUpdate)
//!   and `Expires` (nextUpdate).
//!
//! OCSP errors (`malformedRequest`, `unauthorized`, `tryLater`) are OCSP responses with HTTP 200, as clients
//! expect; HTTP errors are kept for what is not OCSP at all (unknown path, wrong media type, oversize body).
//! Which CA answers is decided by the request's CertID, not the path: the path only has to name a served CA.

use super::crl::http_date;
use crate::app::AppState;
use crate::web::body::{BodyError, read_limited};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use hcpki_ca::revocation::ocsp::Reply;

/// Requests are a few hundred bytes (eight certificates with a nonce stay under 1 KiB).
pub const MAX_REQUEST: usize = 4096;
const OCSP_RESPONSE: &str = "application/ocsp-response";

/// `POST /ocsp/{ca}`.
pub async fn post(State(state): State<AppState>, Path(ca): Path<String>, headers: HeaderMap, body: Body) -> Response {
    if let Some(refusal) = unknown_ca(&ca) {
        return refusal;
    }
    let media = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !media.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/ocsp-request")) {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the DER OCSP request with Content-Type: application/ocsp-request\n",
        )
            .into_response();
    }
    let der = match read_limited(body, MAX_REQUEST).await {
        Ok(der) => der,
        Err(BodyError::TooLarge(limit)) => {
            return (StatusCode::PAYLOAD_TOO_LARGE, format!("OCSP requests are at most {limit} bytes\n"))
                .into_response();
        }
        Err(e) => return (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response(),
    };
    answer(&state, &der, false).await
}

/// `GET /ocsp/{ca}/{*request}`.
pub async fn get(State(state): State<AppState>, Path((ca, encoded)): Path<(String, String)>) -> Response {
    if let Some(refusal) = unknown_ca(&ca) {
        return refusal;
    }
    if encoded.len() > MAX_REQUEST * 2 {
        return (StatusCode::URI_TOO_LONG, "OCSP GET requests are at most 4 KiB of DER; use POST\n").into_response();
    }
    // Path extraction has undone the URL encoding; some clients send base64url, or drop the padding.
    let trimmed = encoded.trim_end_matches('=');
    let der = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(trimmed)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(trimmed))
        .unwrap_or_default();
    answer(&state, &der, true).await
}

/// `GET /ocsp/{ca}` without a request: how to ask (404 for a path that is no responder).
pub async fn usage(Path(ca): Path<String>) -> Response {
    unknown_ca(&ca).unwrap_or_else(|| {
        (
            StatusCode::BAD_REQUEST,
            format!(
                "this is the OCSP responder for the {ca} CA: POST a DER OCSP request (Content-Type: \
                 application/ocsp-request) or GET /ocsp/{ca}/<base64 of it>\n"
            ),
        )
            .into_response()
    })
}

/// The responder's answer as HTTP: cache headers only on pre-signed answers fetched with GET.
async fn answer(state: &AppState, der: &[u8], get: bool) -> Response {
    let reply = state.ocsp.respond(der).await;
    if let Reply::Refused(status, cause) = &reply {
        tracing::debug!(?status, cause, "OCSP request refused");
    }
    let mut response = ([(header::CONTENT_TYPE, OCSP_RESPONSE)], reply.der()).into_response();
    if let (true, Reply::Cached(cached)) = (get, &reply) {
        let now = state.clock.now_unix();
        let h = response.headers_mut();
        for (name, value) in [
            (header::CACHE_CONTROL, format!("public, max-age={}, no-transform", (cached.refresh_at() - now).max(0))),
            (header::LAST_MODIFIED, http_date(cached.window.this_update)),
            (header::EXPIRES, http_date(cached.window.next_update)),
        ] {
            if let Ok(v) = HeaderValue::from_str(&value) {
                h.insert(name, v);
            }
        }
    }
    response
}

fn unknown_ca(ca: &str) -> Option<Response> {
    let served = crate::app::ocsp_signer::SERVED.iter().any(|c| c.as_str() == ca);
    (!served).then(|| {
        (StatusCode::NOT_FOUND, format!("no OCSP responder {ca:?}: use /ocsp/router, /ocsp/pc or /ocsp/server\n"))
            .into_response()
    })
}
