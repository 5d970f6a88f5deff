//! The web console (issue #8, D36): server-rendered HTML under `/console/` on the HTTPS listener, for
//! operators (operator certificate) and facility admins (their facility's PC certificate), plus the
//! anonymous application form.
//!
//! It is another adapter over the admin API's operations (`app::operations`): who is calling is the API's
//! [`Caller`] (the same TLS client certificate mapping), whether they may is `hcpki_ca::access::decide` on
//! every request, and every action and refusal is audited by the same code. What the console adds is what
//! a browser needs: HTML, a per-form CSRF token ([`csrf`]) and an `Origin` check on every POST ([`guard`]),
//! security headers on every answer, and Japanese/English text ([`i18n`]). No JavaScript.

pub mod addresses;
pub mod apply;
pub mod audit;
pub mod break_glass;
pub mod compliance;
pub mod device_names;
pub mod download;
pub mod error_page;
pub mod facilities;
pub mod facility_rules;
pub mod halt;
pub mod held;
pub(crate) mod i18n;
pub mod import;
pub mod jobs;
pub mod labels;
pub mod lifecycle;
pub mod lifetime;
pub mod networks;
pub mod no_such_page;
pub mod notice;
pub mod oidc_clients;
pub mod practice;
pub mod problem;
pub mod ras;
pub mod reissue;
pub mod revocation;
pub mod rollover;
pub mod router_models;
pub mod router_register;
mod routers;
pub mod session;
pub mod signin;
pub mod users;
pub mod vetting;
pub mod view;

use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::app::auth::Caller;
use crate::app::{csrf, ticket};
use crate::web::headers::own_origin;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_server::tls::TlsInfo;
use hcpki_ca::access::{self, Action, Principal};
use i18n::{Lang, M};
use problem::Problem;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// Largest form body accepted: the largest form (an application) is well under 2 KiB.
const MAX_FORM_BYTES: usize = 8 * 1024;

/// Every console answer: the security headers, and the language cookie when the switch was used. Every
/// POST: refused (403, audited as `console.csrf`) unless its `Origin` is this server's own and
/// `Sec-Fetch-Site`, when sent, is `same-origin`. Browsers send `Origin` with every form POST (the console
/// sends `Referrer-Policy: same-origin`, under which Chromium does not replace it by `null`, D27).
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let lang = i18n::negotiate(request.uri().query(), request.headers());
    let chosen = request.uri().query().and_then(i18n::query_lang);
    let request_headers = request.headers().clone();
    let mut response = if request.method() == Method::POST {
        match cross_site(&request) {
            Some(why) => {
                let actor = hcpki_ca::store::Actor("console:anonymous".into());
                let e = ApiError::forbidden("cross-site request refused", why);
                crate::app::auth::refuse(&state, &actor, "console.csrf", "-", e).await;
                view::refusal(lang, &Principal::Anonymous, Problem::CrossSite, None)
            }
            None => next.run(request).await,
        }
    } else {
        next.run(request).await
    };
    session::renew(&state, &request_headers, &mut response);
    let h = response.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; \
             base-uri 'none'",
        ),
        (header::STRICT_TRANSPORT_SECURITY, "max-age=31536000"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    if let Some(l) = chosen
        && let Ok(v) =
            HeaderValue::from_str(&format!("{}={}; Path=/console; Secure; SameSite=Strict", i18n::COOKIE, l.code()))
    {
        h.append(header::SET_COOKIE, v);
    }
    response
}

/// Why a POST is cross-site, if it is.
pub fn cross_site(request: &Request) -> Option<String> {
    let headers = request.headers();
    let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if let Some(s) = site.filter(|s| *s != "same-origin") {
        return Some(format!("Sec-Fetch-Site is {s:?}: submit the console's forms from the console"));
    }
    let own = own_origin(request.uri(), headers);
    match headers.get(header::ORIGIN) {
        None => Some("the request has no Origin header: submit the console's forms from a browser".into()),
        Some(o) if own.as_deref().map(str::as_bytes) == Some(o.as_bytes()) => None,
        Some(o) => Some(format!(
            "the form was posted from {:?}, not from this console: use the console's own pages",
            String::from_utf8_lossy(o.as_bytes())
        )),
    }
}

/// Who is looking at a console page, and the page language: a person signed in through the portal (D42) when
/// the request carries the console's session cookie, else the admin API's [`Caller`] by TLS client
/// certificate. The cookie wins over a certificate the browser also presents: it is a person's explicit
/// sign-in, while the certificate is the machine's (a facility PC's) and would otherwise hide who acts.
pub struct Viewer {
    /// The authenticated caller (actions go through it).
    pub caller: Caller,
    /// The OIDC grant of a portal sign-in (None for a certificate).
    pub session_grant: Option<String>,
    /// The page language.
    pub lang: Lang,
    /// This server's origin as the browser reached it (for the URLs a device is given).
    pub origin: String,
    /// The request's path (where a refused form is sent again).
    path: String,
    /// What CSRF tokens are bound to: the certificate's SHA-256 fingerprint, or `anonymous`.
    binding: String,
    key: Arc<csrf::CsrfKey>,
    /// The process's clock (CSRF tokens' times).
    clock: Arc<dyn hcpki_pkix::time::Clock>,
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let lang = i18n::negotiate(parts.uri.query(), &parts.headers);
        if parts.headers.contains_key(header::AUTHORIZATION) {
            // Enrollment credentials are for devices and scripts; a browser page is a person at a PC.
            return Err(view::refusal(lang, &Principal::Anonymous, Problem::CredentialNotForConsole, None));
        }
        let origin = own_origin(&parts.uri, &parts.headers).unwrap_or_default();
        let path = parts.uri.path().to_owned();
        if let Some(cookie) = crate::portal::cookie::cookie_value(&parts.headers, ticket::SESSION_COOKIE) {
            let tls = parts.extensions.get::<Arc<TlsInfo>>().cloned();
            return match session::current(state, &cookie, tls.as_deref()).await {
                Ok(s) => Ok(Self {
                    caller: Caller::new(s.principal, state),
                    lang,
                    origin,
                    path,
                    // Forms bind to the sign-in, as they bind to the certificate otherwise.
                    binding: format!("console-session:{}", s.grant),
                    session_grant: Some(s.grant),
                    key: state.console.clone(),
                    clock: state.clock.clone(),
                }),
                Err(r) => Err(session::refused_or_held(state, lang, tls.as_deref(), &r).await),
            };
        }
        let caller = match Caller::from_request_parts(parts, state).await {
            Ok(c) => c,
            Err(e) => {
                // A suspended or retired facility's PC: what happened and whom to ask, in the admin's words.
                let der = parts.extensions.get::<Arc<TlsInfo>>().and_then(|i| i.peer_certificates.first().cloned());
                if let Some(der) = der
                    && let Some(page) = held::page(state, lang, &der).await
                {
                    return Err(page);
                }
                return Err(view::refusal(lang, &Principal::Anonymous, Problem::of(&e, Problem::NotFound), None));
            }
        };
        let binding = parts
            .extensions
            .get::<Arc<TlsInfo>>()
            .and_then(|info| info.peer_certificates.first())
            .map(|der| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(der)))
            .unwrap_or_else(|| "anonymous".into());
        Ok(Self {
            caller,
            lang,
            origin,
            path,
            binding,
            session_grant: None,
            key: state.console.clone(),
            clock: state.clock.clone(),
        })
    }
}

impl Viewer {
    /// Who it is.
    pub fn principal(&self) -> &Principal {
        &self.caller.principal
    }

    /// Whether the access decision allows `action` (to show only the forms that will work; every POST asks
    /// again through the operation it calls). An RA's staff see a facility's forms as inside their scope: a page
    /// shows a facility only after reading it through the scope check (D167).
    pub fn can(&self, action: &Action<'_>) -> bool {
        let assumed = action.facility().zip(self.principal().ra()).map(|(f, ra)| ra.inside(f));
        access::decide(self.principal(), action, assumed.as_ref()).is_ok()
    }

    /// Now, in Unix seconds, by the process's clock.
    pub fn now(&self) -> i64 {
        self.clock.now_unix()
    }

    /// Now, by the process's clock, as the store's records take it.
    pub fn at(&self) -> hcpki_pkix::time::UnixTime {
        self.clock.now()
    }

    /// A fresh CSRF token for a form on this page.
    pub fn csrf(&self) -> String {
        self.key.token(&self.binding, self.at())
    }

    /// The refusal page of `problem` for this viewer.
    pub fn refusal(&self, problem: Problem) -> Response {
        view::refusal(self.lang, self.principal(), problem, None)
    }

    /// Audit `e` as a refusal of `action` on `target` (its English reason is for the log), and answer with the
    /// page of `problem` (the viewer's words).
    pub async fn refused(&self, problem: Problem, action: &str, target: &str, e: ApiError) -> Response {
        self.caller.refuse(action, target, e).await;
        self.refusal(problem)
    }

    /// The form body as `T`, after its CSRF token: 413 over [`MAX_FORM_BYTES`], 403 for a missing, forged
    /// or expired token (audited as `console.csrf`), 400 with the field named for malformed fields; every
    /// refusal audited as `action` on `target` with this viewer as actor.
    pub async fn form<T: DeserializeOwned>(&self, action: &str, target: &str, body: Body) -> Result<T, Response> {
        let hint = format!("console forms are at most {MAX_FORM_BYTES} bytes: shorten the fields");
        self.form_limited(action, target, body, MAX_FORM_BYTES, &hint, None).await
    }

    /// [`Viewer::form`] for a form that carries a file's content (the CSV import): at most `max` bytes, and
    /// `hint` says what to do when it is larger (in the audit record), `advice` the same in the viewer's words.
    pub async fn form_limited<T: DeserializeOwned>(
        &self,
        action: &str,
        target: &str,
        body: Body,
        max: usize,
        hint: &str,
        advice: Option<M>,
    ) -> Result<T, Response> {
        let bytes = match crate::web::body::read_limited(body, max).await {
            Ok(b) => b,
            Err(_) => {
                let e = ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "form too large", hint.to_owned());
                self.caller.refuse(action, target, e).await;
                return Err(error_page::too_large(self.lang, self.principal(), max, advice));
            }
        };
        match csrf::read_form(&self.key, &bytes, &self.binding, self.at()) {
            Ok(t) => Ok(t),
            Err(csrf::FormError::Token(why)) => {
                let e = ApiError::forbidden("form refused", why.to_string());
                self.caller.refuse("console.csrf", target, e).await;
                // What was typed, to send again with a fresh token (a page left open past its token's life).
                let fields: Vec<(String, String)> = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|(k, _)| k != "csrf")
                    .collect();
                let csrf = self.csrf();
                let resend = view::Resend { action: &self.path, fields: &fields, csrf: &csrf };
                Err(view::refusal(self.lang, self.principal(), Problem::FormExpired, Some(&resend)))
            }
            Err(e) => Err(self
                .refused(Problem::FormUnreadable, action, target, ApiError::bad_request("invalid form", e.to_string()))
                .await),
        }
    }
}

/// An operation's refusal (already audited by the operation) as this viewer's error page.
// The error is the page axum answers with, moved once; boxing it would only add an allocation.
#[allow(clippy::result_large_err)]
pub trait OrPage<T> {
    /// The value, or the error page.
    fn or_page(self, viewer: &Viewer) -> Result<T, Response>;

    /// [`OrPage::or_page`] for a lookup: a 404 is `missing` (which record the page looked for).
    fn or_missing(self, viewer: &Viewer, missing: Problem) -> Result<T, Response>;
}

impl<T> OrPage<T> for Result<T, ApiError> {
    fn or_page(self, viewer: &Viewer) -> Result<T, Response> {
        self.or_missing(viewer, Problem::NotFound)
    }

    fn or_missing(self, viewer: &Viewer, missing: Problem) -> Result<T, Response> {
        self.map_err(|e| viewer.refusal(Problem::of(&e, missing)))
    }
}

/// `303 See Other` to a console page (after a POST, so reloading does not repeat it).
pub fn see_other(location: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, location.to_owned())]).into_response()
}
