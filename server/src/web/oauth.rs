//! The OAuth error answer (RFC 6749 §5.2) every adapter that speaks OAuth gives: the OIDC endpoints, the consent
//! and signing-request APIs, and the portal's own JSON endpoints. Here rather than in the OIDC adapter so the
//! portal can answer with it without reaching up into `http`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hcpki_sso::oidc::{ErrorStatus, OAuthError};
use serde_json::json;

/// The HTTP status of an OAuth error.
pub fn status(status: ErrorStatus) -> StatusCode {
    StatusCode::from_u16(status.code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The OAuth error shape (RFC 6749 §5.2): JSON `error` and `error_description`, `Cache-Control: no-store`, and
/// `WWW-Authenticate` on a 401. The core's `OAuthError` is `hcpki_sso`'s, which knows no HTTP: this trait answers
/// it (`e.into_response()`, where the trait is in scope), and [`OAuthReply`] is a handler's error type.
pub trait OAuthResponse {
    /// The HTTP answer.
    fn into_response(self) -> Response;
}

impl OAuthResponse for OAuthError {
    fn into_response(self) -> Response {
        let code = status(self.status);
        let mut response =
            (code, Json(json!({ "error": self.error, "error_description": self.description }))).into_response();
        if code == StatusCode::UNAUTHORIZED
            && let Ok(v) = HeaderValue::from_str("Bearer error=\"invalid_client\"")
        {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

/// A handler's OAuth error (RFC 6749 §5.2), answered by [`OAuthResponse`].
#[derive(Debug)]
pub struct OAuthReply(pub OAuthError);

impl From<OAuthError> for OAuthReply {
    fn from(e: OAuthError) -> Self {
        Self(e)
    }
}

impl IntoResponse for OAuthReply {
    fn into_response(self) -> Response {
        OAuthResponse::into_response(self.0)
    }
}
