//! The request bodies of the portal's routes (issue #24 item 5): each route reads at most a few KiB, and a
//! sign-in form that cannot be read is refused with a page, both audited through the group-committed refusal
//! writer ([`hcpki_sso::refusals`]) with nothing of what was sent.
//!
//! Without a cap, axum's form extractor takes up to 2 MB, and the password sign-in wrote the user name it held
//! into the permanent audit chain. The caps are per route, the smallest by default, so a new route is bounded
//! before anyone thinks of it:
//!
//! | routes | cap | why |
//! |---|---|---|
//! | every browser form (`/login`, `/logout`, `/sessions/…`, the card challenge, `/presence`, the passkey options and sign-in, rename, revoke) | [`FORM_BYTES`] | a few short fields and a `return_to` |
//! | `/login/card` | [`CARD_ANSWER_BYTES`] | up to four base64 certificates (`answer::MAX_POSTED_CERTS`) |
//! | `/passkeys/register` | [`CARD_ANSWER_BYTES`] | an attestation object, which may carry its maker's certificates (D157) |
//! | `/authorize` (POST), `/token`, `/par`, `/introspect`, `/revoke`, `/userinfo` | [`PROTOCOL_BYTES`] | OAuth parameters and a signed client assertion |
//! | `/api/v1/signing-requests` | [`hcpki_sso::signing_requests::MAX_BODY_BYTES`] | a document of up to 10 MiB in base64 |
//! | `/api/v1/signing-requests/{id}` | [`PROTOCOL_BYTES`] | a signed client assertion |
//! | `/sign/{id}` | [`SIGNATURE_FORM_BYTES`] | the signed document the card agent returned (a `.p7s`, or the signed XML or PDF) in base64 |
//! | `/api/v1/consents`, `/api/v1/consents/…`, `/api/v1/consent-events` | [`PROTOCOL_BYTES`] | a signed client assertion, a patient ID and a purpose |
//! | `/consent/{id}` | [`CONSENT_FORM_BYTES`] | the signed consent PDF (a few pages) and the card's certificate in base64 |

use super::pages;
use super::state::PortalState;
use crate::web::body::{BodyError, read_limited};
use crate::web::oauth::OAuthResponse;
use axum::body::Body;
use axum::extract::{Form, FromRequest, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hcpki_sso::oidc::OAuthError;
use hcpki_sso::refusals::named;
use serde_json::json;

/// The cap of the browser forms.
pub const FORM_BYTES: usize = 8 * 1024;
/// The cap of the card login's answer: four RSA-4096 certificates in base64, form-encoded, are about 13 KiB.
pub const CARD_ANSWER_BYTES: usize = 16 * 1024;
/// The cap of the OAuth endpoints.
pub const PROTOCOL_BYTES: usize = 16 * 1024;
/// The cap of a signing request's page post: the signed document in base64, form-encoded — a `.p7s` of a few KiB,
/// or an e-prescription or PDF of up to 10 MiB with its signature (base64 adds a third, the form's escapes of `+`,
/// `/` and `=` at most a quarter more).
pub const SIGNATURE_FORM_BYTES: usize =
    (hcpki_sso::signing_requests::MAX_DOCUMENT_BYTES + hcpki_sso::signing_requests::MAX_SIGNATURE_BYTES) / 3 * 4 / 4
        * 5
        + 8 * 1024;

/// The cap of a consent page's post: the signed PDF (at most [`hcpki_sso::consent::desk::MAX_SIGNED_BYTES`]) and the
/// card's certificate, base64 and form-encoded as above.
pub const CONSENT_FORM_BYTES: usize = hcpki_sso::consent::desk::MAX_SIGNED_BYTES / 3 * 4 / 4 * 5 + 16 * 1024;

/// How a route's refusals look: a page for a browser, OAuth's JSON for a client or the card agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Page,
    Json,
}

/// The cap and refusal shape of `path`.
fn limit_of(path: &str) -> (usize, Shape) {
    match path {
        // A passkey's attestation may carry its maker's certificate chain (D157).
        "/login/card" | "/passkeys/register" => (CARD_ANSWER_BYTES, Shape::Page),
        "/authorize" => (PROTOCOL_BYTES, Shape::Page),
        "/token" | "/par" | "/introspect" | "/presence/introspect" | "/revoke" | "/userinfo" => {
            (PROTOCOL_BYTES, Shape::Json)
        }
        "/login/card/challenge" | "/presence" | "/login/passkey/options" | "/passkeys/options" => {
            (FORM_BYTES, Shape::Json)
        }
        hcpki_sso::signing_requests::API_PATH => (hcpki_sso::signing_requests::MAX_BODY_BYTES, Shape::Json),
        p if p.starts_with("/api/v1/signing-requests/") => (PROTOCOL_BYTES, Shape::Json),
        p if p.starts_with("/sign/") => (SIGNATURE_FORM_BYTES, Shape::Page),
        p if p.starts_with("/api/v1/consent") => (PROTOCOL_BYTES, Shape::Json),
        p if p.starts_with("/consent/") && !p.ends_with("/prepare") => (CONSENT_FORM_BYTES, Shape::Page),
        _ => (FORM_BYTES, Shape::Page),
    }
}

/// Middleware over every portal route: the body read up to its route's cap, or 413, audited `portal.request`
/// (denied) with the path and the cap.
pub async fn cap(State(state): State<PortalState>, request: Request, next: Next) -> Response {
    let (limit, shape) = limit_of(request.uri().path());
    let (parts, body) = request.into_parts();
    match read_limited(body, limit).await {
        Ok(bytes) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Err(BodyError::TooLarge(_)) => {
            let path = named(Some(parts.uri.path()));
            let detail = json!({ "reason": "request body too large", "limit": limit, "path": path });
            state.refusals.record("portal:anonymous", "portal.request", &path, detail).await;
            too_large(super::lang::negotiate(parts.uri.query(), &parts.headers), shape, limit)
        }
        // The client went away mid-body: nobody to answer, nothing to audit.
        Err(BodyError::Read(e)) => {
            tracing::debug!(error = %e, "portal request body not read");
            StatusCode::BAD_REQUEST.into_response()
        }
    }
}

fn too_large(lang: super::lang::Lang, shape: Shape, limit: usize) -> Response {
    match shape {
        Shape::Json => {
            let mut e = OAuthError::invalid_request(format!("request body over {limit} bytes"));
            e.status = hcpki_sso::oidc::ErrorStatus::PayloadTooLarge;
            e.into_response()
        }
        Shape::Page => pages::refused_ja(
            lang,
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!(
                "送信されたデータが大きすぎます(上限 {limit} バイト)。ページを開き直して、もう一度送ってください。 / \
                 The request is over {limit} bytes: open the page again and resend it."
            ),
        ),
    }
}

/// A sign-in form (`T` one of `login_form`'s raw forms, every field defaulted): a body that is not a form,
/// or repeats a field, is refused with a page (400) and audited `portal.form` (denied), instead of axum's
/// plain-text rejection.
#[derive(Debug)]
pub struct SignInForm<T>(pub T);

impl<T: serde::de::DeserializeOwned> FromRequest<PortalState> for SignInForm<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &PortalState) -> Result<Self, Response> {
        let lang = super::lang::negotiate(request.uri().query(), request.headers());
        let path = named(Some(request.uri().path()));
        // The rejection is not `Send`: only its status is kept across the audit's await.
        let status = match Form::<T>::from_request(request, state).await {
            Ok(Form(form)) => return Ok(Self(form)),
            Err(rejection) => rejection.status().as_u16(),
        };
        let detail = json!({ "reason": "not a form", "status": status, "path": path });
        state.refusals.record("portal:anonymous", "portal.form", &path, detail).await;
        Err(pages::refused_ja(
            lang,
            StatusCode::BAD_REQUEST,
            "フォームを読み取れません: ログインページを開き直してください。 / \
             The form cannot be read: open the login page again.",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_has_a_cap_of_a_few_kib_and_unknown_ones_the_smallest() {
        assert_eq!(limit_of("/login"), (FORM_BYTES, Shape::Page));
        assert_eq!(limit_of("/login/card"), (CARD_ANSWER_BYTES, Shape::Page));
        assert_eq!(limit_of("/token"), (PROTOCOL_BYTES, Shape::Json));
        assert_eq!(limit_of("/presence/introspect"), (PROTOCOL_BYTES, Shape::Json));
        assert_eq!(limit_of("/presence"), (FORM_BYTES, Shape::Json));
        assert_eq!(limit_of("/no-such-route"), (FORM_BYTES, Shape::Page));
        assert!([FORM_BYTES, CARD_ANSWER_BYTES, PROTOCOL_BYTES].iter().all(|b| *b <= 16 * 1024));
        // A signing request carries its document; its page's post the card's signature.
        assert_eq!(limit_of("/api/v1/signing-requests").0, hcpki_sso::signing_requests::MAX_BODY_BYTES);
        assert_eq!(limit_of("/api/v1/signing-requests/abc"), (PROTOCOL_BYTES, Shape::Json));
        assert_eq!(limit_of("/sign/abc"), (SIGNATURE_FORM_BYTES, Shape::Page));
    }
}
