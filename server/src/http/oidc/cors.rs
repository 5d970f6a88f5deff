//! CORS for browser apps (issue #30 item 2, [`hcpki_sso::oidc::web_origins`]): the endpoints a public client's page
//! calls (`/token`, `/par`, `/userinfo`, `/revoke`) answer a preflight from a registered browser app's origin
//! and let the browser hand that page their answers; discovery and the JWKS are public documents any page may
//! read. Cookies are never allowed (`Access-Control-Allow-Credentials` is not sent): these endpoints take none,
//! so a page elsewhere cannot borrow the person's session through them.
//!
//! A request from another origin is still answered (CORS binds the browser, not the server; the endpoints
//! authenticate the client as for any request), but without the headers, so the page cannot read the answer;
//! its preflight is refused with a 403 saying why, for the app's developer.

use crate::portal::PortalState;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The request headers a browser app sends: `Authorization` (its access token at userinfo, as `DPoP` or
/// `Bearer`), the form's `Content-Type`, and its `DPoP` proof.
const ALLOW_HEADERS: &str = "authorization, content-type, dpop";
/// The response headers a browser app must read: the next DPoP nonce (RFC 9449 §8.1), and a resource's
/// challenge (RFC 6750 §3, RFC 9449 §7.1).
const EXPOSE_HEADERS: &str = "DPoP-Nonce, WWW-Authenticate";
/// How long a browser may keep a preflight's answer: ten minutes, so a registration removed stops being
/// honoured by browsers soon after the server stops honouring it.
const MAX_AGE_SECS: &str = "600";

/// The browser-app endpoints' layer: a preflight answered here, every other request passed on and its answer
/// marked readable by the page when the page's origin is a registered browser app's.
pub async fn browser_apps(State(state): State<PortalState>, request: Request, next: Next) -> Response {
    let Some(origin) = request.headers().get(header::ORIGIN).and_then(|o| o.to_str().ok()).map(str::to_owned) else {
        return next.run(request).await;
    };
    // A registry that cannot be read allows nobody: the page's call fails closed, the server's answer is kept.
    let allowed = state.oidc.clients.is_web_origin(&origin).await.unwrap_or(false);
    let preflight =
        request.method() == Method::OPTIONS && request.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        if !allowed {
            let why = format!(
                "{origin} is not the origin of a browser app registered here: register the app as a public client \
                 (hcpki oidc client add --auth none) with a redirect URI on that origin"
            );
            return (StatusCode::FORBIDDEN, why).into_response();
        }
        let mut response = StatusCode::NO_CONTENT.into_response();
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST"));
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(ALLOW_HEADERS));
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(MAX_AGE_SECS));
        return allow(private_network(response, &request), &origin);
    }
    let response = next.run(request).await;
    if allowed {
        let mut response = allow(response, &origin);
        response.headers_mut().insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSE_HEADERS));
        response
    } else {
        vary(response)
    }
}

/// Discovery's and the JWKS's layer: public documents, readable from any page (their preflight, which a
/// browser sends for them only under Private Network Access, answered here).
pub async fn public_documents(request: Request, next: Next) -> Response {
    let preflight =
        request.method() == Method::OPTIONS && request.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if preflight {
        let mut response = private_network(StatusCode::NO_CONTENT.into_response(), &request);
        response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET"));
        response.headers_mut().insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(MAX_AGE_SECS));
        response
    } else {
        next.run(request).await
    };
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

/// A preflight's answer saying yes to Private Network Access when the browser asks (WICG Private Network
/// Access §3.2): hcpki sits on the facilities' closed network, and a browser app's page served from outside it
/// reaches it only with this answer.
fn private_network(mut response: Response, request: &Request) -> Response {
    let asked = request
        .headers()
        .get("access-control-request-private-network")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
    if asked {
        response.headers_mut().insert("access-control-allow-private-network", HeaderValue::from_static("true"));
    }
    response
}

/// `response` readable by a page at `origin`.
fn allow(response: Response, origin: &str) -> Response {
    let mut response = vary(response);
    if let Ok(v) = HeaderValue::from_str(origin) {
        response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    response
}

/// The answer depends on the request's `Origin`: caches must not hand one origin's answer to another.
fn vary(mut response: Response) -> Response {
    response.headers_mut().append(header::VARY, HeaderValue::from_static("Origin"));
    response
}
