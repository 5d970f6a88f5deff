//! Who is calling the admin API, in one place: [`Caller`] maps the TLS client certificate (from
//! axum-server's `TlsInfo`) or an HTTP Basic enrollment credential to a [`Principal`] through
//! `hcpki_ca::Authority`, and [`browser_guard`] keeps cross-site browser requests out. Whether the principal
//! may do what it asks is `hcpki_ca::access::decide`'s, called by the handlers through [`Caller::may`].

use super::AppState;
use super::api_error::ApiError;
use crate::web::headers::{basic_credentials, own_origin};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_server::tls::TlsInfo;
use hcpki_ca::access::{self, Action, Denial, Principal, Unauthenticated};
use std::sync::Arc;

/// The authenticated caller of an admin API request.
#[derive(Clone, Debug)]
pub struct Caller {
    /// Who it is.
    pub principal: Principal,
    state: AppState,
}

impl Caller {
    /// A caller authenticated another way than this extractor's (the console's portal sign-in, D42).
    pub fn new(principal: Principal, state: &AppState) -> Self {
        Self { principal, state: state.clone() }
    }

    /// Allow `action` or refuse it (audited, with the caller as actor). For a registration authority's staff
    /// the action's facility is placed first (its prefecture, its provider RA), which the decision holds to the
    /// RA's scope (D167).
    pub async fn may(&self, action: Action<'_>) -> Result<(), ApiError> {
        let placement = match (self.principal.ra(), action.facility()) {
            (Some(_), Some(f)) => self.state.admin.registrar().placement(f).await.map_err(ApiError::unavailable)?,
            _ => None,
        };
        match access::decide(&self.principal, &action, placement.as_ref()) {
            Ok(()) => Ok(()),
            Err(denial) => {
                let target = action.facility().map(|f| f.to_string()).unwrap_or_else(|| "-".into());
                Err(self.refuse(&action.name(), &target, ApiError::from(denial)).await)
            }
        }
    }

    /// Refuse an anonymous caller before anything is looked up (audited).
    pub async fn authenticated(&self, action: &str) -> Result<(), ApiError> {
        match access::authenticated(&self.principal) {
            Ok(()) => Ok(()),
            Err(denial) => Err(self.refuse(action, "-", ApiError::from(denial)).await),
        }
    }

    /// Audit a refusal of this caller's request and hand the error back.
    pub async fn refuse(&self, action: &str, target: &str, error: ApiError) -> ApiError {
        refuse(&self.state, &self.principal.actor(), action, target, error).await
    }

    /// The audit actor.
    pub fn actor(&self) -> hcpki_ca::store::Actor {
        self.principal.actor()
    }
}

/// Audit a refusal (actor, action, target, the reason) and hand the error back.
pub async fn refuse(
    state: &AppState,
    actor: &hcpki_ca::store::Actor,
    action: &str,
    target: &str,
    error: ApiError,
) -> ApiError {
    tracing::info!(status = error.status.as_u16(), actor = actor.as_str(), action, reason = %error.detail, "admin request refused");
    state.admin.registrar().audit_admin_refusal(actor, action, target, &error.detail).await;
    error
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let certificate = parts.extensions.get::<Arc<TlsInfo>>().and_then(|info| info.peer_certificates.first());
        let basic = parts.headers.get(header::AUTHORIZATION);
        let anonymous = hcpki_ca::store::Actor("api:anonymous".into());
        let resolved = match (certificate, basic) {
            (None, None) => return Ok(Self { principal: Principal::Anonymous, state: state.clone() }),
            (Some(_), Some(_)) => {
                let e = ApiError::bad_request(
                    "authenticate with either a client certificate or a credential, not both",
                    "drop the Authorization header when presenting a certificate",
                );
                return Err(refuse(state, &anonymous, "admin.authenticate", "-", e).await);
            }
            (Some(der), None) => state.admin.registrar().principal_for_certificate(der).await,
            (None, Some(value)) => match basic_credentials(value.as_bytes()) {
                Some((id, secret)) => state.admin.registrar().principal_for_credential(&id, &secret).await,
                None => Ok(Err(Denial::Unauthenticated(Unauthenticated::NotBasic))),
            },
        };
        match resolved {
            Ok(Ok(principal)) => Ok(Self { principal, state: state.clone() }),
            Ok(Err(denial)) => Err(refuse(state, &anonymous, "admin.authenticate", "-", ApiError::from(denial)).await),
            Err(e) => Err(ApiError::unavailable(e)),
        }
    }
}

/// The most a request body to the admin API is buffered to before anything else looks at it.
const BUFFER_LIMIT: usize = 1024 * 1024;

/// Cross-site request forgery guard for the admin API. A browser that holds a PC or operator certificate
/// presents it to any page's request, so a hostile page could make the browser call the API. Two rules stop
/// that without tokens: every POST must be `Content-Type: application/json` (a cross-site HTML form cannot
/// send that, and a cross-site `fetch` with it needs a CORS preflight, which this server never grants), and a
/// request whose `Origin` is present must come from this server's own origin (`https://` + the host it was
/// sent to). Non-browser clients (curl, scripts) send no `Origin` and are unaffected.
pub async fn browser_guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let anonymous = hcpki_ca::store::Actor("api:anonymous".into());
    // The whole body first (up to 1 MiB; handlers apply their own, smaller limits): on HTTP/2, an answer sent
    // while the client is still uploading resets the stream, and curl shows a framing error (92) instead of the
    // refusal. Every refusal below and in the handlers (unauthenticated, forbidden, …) then comes after it.
    let (parts, body) = request.into_parts();
    let body = match crate::web::body::read_limited(body, BUFFER_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) => {
            let e = ApiError::too_large(BUFFER_LIMIT);
            return refuse(&state, &anonymous, "admin.request", "-", e).await.into_response();
        }
    };
    let request = Request::from_parts(parts, axum::body::Body::from(body));
    if let Some(origin) = request.headers().get(header::ORIGIN)
        && own_origin(request.uri(), request.headers()).as_deref().map(str::as_bytes) != Some(origin.as_bytes())
    {
        let e = ApiError::forbidden(
            "cross-origin request refused",
            "the admin API only answers its own origin; call it directly, not from another site's page",
        );
        return refuse(&state, &anonymous, "admin.csrf", "-", e).await.into_response();
    }
    if request.method() == Method::POST {
        let json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            let e = ApiError::unsupported_media_type();
            return refuse(&state, &anonymous, "admin.csrf", "-", e).await.into_response();
        }
    }
    next.run(request).await
}
