//! The axum adapters of the OpenID Connect provider ([`hcpki_sso::oidc`]): each extracts what its endpoint reads
//! (form, query, bearer token, the connection's certificate, the session cookie), parses it into the core's
//! typed request, calls the HTTP-free core with the time, and maps its answer to HTTP. No decision is made here;
//! the URL map is [`super::routes`].

pub mod authorize;
pub mod cors;
pub mod endpoints;
pub mod logout;
pub mod token;

use crate::portal::PortalState;
use axum::extract::Extension;
use axum::http::HeaderValue;
use axum::response::Response;
use axum_server::tls::TlsInfo;
use std::sync::Arc;

/// The connection's TLS details, when the listener is TLS (always, in `hcpki serve`).
pub type Tls = Option<Extension<Arc<TlsInfo>>>;

/// The connection's TLS client certificate (DER), if it presented one.
pub fn certificate(tls: &Tls) -> Option<&[u8]> {
    crate::portal::facility::peer_certificate(tls.as_ref().map(|t| t.0.as_ref()))
}

/// The request's `Authorization` header as text (a client's HTTP Basic credentials at the back-channel endpoints,
/// [`hcpki_sso::oidc::client::ClientCredentials::with_authorization`]).
pub fn authorization(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok())
}

/// The request's `DPoP` proof (RFC 9449 §4.1): none, one, or why the headers are not one.
pub fn dpop_proof(headers: &axum::http::HeaderMap) -> Option<Result<String, hcpki_sso::oidc::dpop::DpopError>> {
    hcpki_sso::oidc::dpop::header(headers.get_all("dpop").iter().map(|v| v.to_str().ok()))
}

/// `response` with a fresh `DPoP-Nonce` (RFC 9449 §8) when the provider requires nonces: on every answer to a
/// request that used DPoP, so a client always holds a current one (and must get one with `use_dpop_nonce`).
pub fn with_dpop_nonce(state: &PortalState, mut response: Response) -> Response {
    if let Some(nonces) = state.oidc.dpop_nonces(&state.secret)
        && let Ok(v) = HeaderValue::from_str(&nonces.issue(state.clock.now_unix()))
    {
        // Browser apps read it across origins because `cors::browser_apps` exposes it (RFC 9449 §8.1).
        response.headers_mut().insert("dpop-nonce", v);
    }
    response
}

/// The provider's context, lent by the portal's state.
pub fn context(state: &PortalState) -> hcpki_sso::oidc::Context<'_> {
    state.oidc_context()
}
