//! The portal's layout: skip link, a header with the brand, this PC's facility and the language switch, then
//! `<main>` with the page's title, inside the shared document ([`hcpki_html::document`]); the response headers
//! (CSP with `style-src 'self'`, no caching, no framing); and the pieces the pages share.

use crate::portal::words::M;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hcpki_html::{Head, Lang};
use hcpki_sso::policy::FacilityContext;
use maud::{Markup, html};

/// Where the portal serves the shared stylesheet (its CSP allows styles from its own origin only).
pub const STYLESHEET_PATH: &str = "/static/hcpki.css";

/// `GET /static/hcpki.css`: the stylesheet of every portal and console page.
pub async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")],
        hcpki_html::STYLESHEET,
    )
        .into_response()
}

/// What the header says about this PC's facility.
#[derive(Clone, Copy, Debug, Default)]
pub enum PcFacility<'a> {
    /// The page did not look (refusals, sign-out): the header says nothing.
    #[default]
    Unknown,
    /// The connection carries no facility certificate.
    None,
    /// The facility the connection's certificate names.
    Some(&'a FacilityContext),
}

impl<'a> From<Option<&'a FacilityContext>> for PcFacility<'a> {
    fn from(f: Option<&'a FacilityContext>) -> Self {
        f.map_or(Self::None, Self::Some)
    }
}

/// The layout's inputs besides the title and the body.
#[derive(Clone, Debug, Default)]
pub struct Chrome<'a> {
    /// The page's language.
    pub lang: Lang,
    /// This PC's facility, shown in the header when known.
    pub facility: PcFacility<'a>,
    /// The page's own address (path and query) when the request's is not it: a page answering a POST (the
    /// login page after a failed sign-in) names the GET that shows it. The switch links to the GET request's
    /// address, else this one, else the current path, with `lang` set ([`crate::portal::lang::switch_link`]).
    pub switch: Option<String>,
}

impl Chrome<'_> {
    /// The chrome of a page in `lang` that knows nothing of the facility.
    pub fn new(lang: Lang) -> Self {
        Self { lang, ..Self::default() }
    }
}

/// A page: no caching, no framing, no scripts; `body` goes into `<main>` under the title.
pub fn page(lang: Lang, status: StatusCode, title: &str, body: Markup) -> Response {
    page_with(&Chrome::new(lang), status, title, body, None)
}

/// The scripts of a card page: its own script (served by the portal) and the card agent it may talk to.
#[derive(Clone, Copy, Debug)]
pub struct Scripts<'a> {
    /// `/static/….js`.
    pub src: &'a str,
    /// The local card agent's origin (the only other origin the page may connect to).
    pub agent: &'a str,
    /// The `data-*` attributes of `<body>` the script reads.
    pub data: BodyData<'a>,
}

/// The `data-*` attributes of a card page's `<body>`, written in this order when present.
#[derive(Clone, Copy, Debug, Default)]
pub struct BodyData<'a> {
    /// `data-agent`: the card agent's origin.
    pub agent: Option<&'a str>,
    /// `data-card`: the card the session was opened with.
    pub card: Option<&'a str>,
    /// `data-csrf`: the session's CSRF token.
    pub csrf: Option<&'a str>,
    /// `data-presence`: the presence token handed to the agent (D26).
    pub presence: Option<&'a str>,
    /// `data-continue`: where the page goes on to.
    pub continue_to: Option<&'a str>,
    /// `data-lent`: the session's reader is lent (D91); the value is when the lend ends (Unix seconds). The
    /// card watch then waits for the login card to come back instead of ending the session.
    pub lent: Option<&'a str>,
}

/// A page, with the portal's own script when `scripts` is given: the CSP then allows exactly that script
/// origin (`'self'`) and connections to the portal and the local card agent; styles only from the portal.
pub fn page_with(
    chrome: &Chrome<'_>,
    status: StatusCode,
    title: &str,
    body: Markup,
    scripts: Option<Scripts<'_>>,
) -> Response {
    let csp = match scripts {
        Some(s) => format!(
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' {}; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
            s.agent
        ),
        None => "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
            .to_owned(),
    };
    let mut response = (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_FRAME_OPTIONS, "DENY"),
        ],
        document(chrome, title, body, scripts).into_string(),
    )
        .into_response();
    match HeaderValue::from_str(&csp) {
        Ok(v) => {
            response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
            response
        }
        // An agent origin that cannot be a header value (configuration checked at start): refuse to serve
        // the page rather than serve it without a policy.
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "bad [portal] card_agent").into_response(),
    }
}

/// `response` (a login page) allowed to post its forms to `origin` too: the origin of the relying service the
/// login goes back to (`respond::return_origin`), which the POST's redirects reach. Only the CSP's
/// `form-action` changes.
pub fn with_form_target(mut response: Response, origin: Option<&str>) -> Response {
    let Some(origin) = origin else { return response };
    let widened = response
        .headers()
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .map(|csp| csp.replacen("form-action 'self'", &format!("form-action 'self' {origin}"), 1))
        .and_then(|csp| HeaderValue::from_str(&csp).ok());
    if let Some(v) = widened {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    response
}

/// The document of [`page_with`].
fn document(chrome: &Chrome<'_>, title: &str, body: Markup, scripts: Option<Scripts<'_>>) -> Markup {
    let lang = chrome.lang;
    let t = |m: M| m.text(lang);
    let data = scripts.map(|s| s.data).unwrap_or_default();
    let other = lang.other();
    let here = crate::portal::lang::current_address().or_else(|| chrome.switch.clone()).unwrap_or_default();
    let switch = crate::portal::lang::switch_link(&here, other);
    let head = Head {
        lang: lang.code(),
        title: &format!("{title} — {}", t(M::Portal)),
        meta: html! { meta name="viewport" content="width=device-width, initial-scale=1"; },
        assets: html! {
            link rel="stylesheet" href=(STYLESHEET_PATH);
            @if let Some(s) = scripts { script src=(s.src) defer {} }
        },
    };
    let body = html! {
        body class="portal" data-agent=[data.agent] data-card=[data.card] data-csrf=[data.csrf]
            data-presence=[data.presence] data-continue=[data.continue_to] data-lent=[data.lent] {
            a class="skip" href="#main" { (t(M::SkipToMain)) }
            header {
                p class="brand" { a href="/" { (t(M::Portal)) } }
                @match chrome.facility {
                    PcFacility::Some(f) => p class="facility" {
                        span class="label" { (t(M::FacilityOfPc)) ": " }
                        strong { (f.name) } " (" (f.id.as_str()) ")"
                    },
                    PcFacility::None => p class="facility none" { (t(M::NoFacilityShort)) },
                    PcFacility::Unknown => {},
                }
                p class="lang" { a href=(switch) hreflang=(other.code()) lang=(other.code()) { (lang.switch_label()) } }
            }
            main id="main" {
                h1 { (title) }
                (body)
            }
        }
    };
    hcpki_html::document(head, body)
}

/// The form that ends the session (and, through it, every service's). It names the sign-in's signing-session
/// binding (D163), so that a card session's page ends that sign-in's signing sessions in the agent first.
pub(super) fn sign_out_form(csrf: &str, label: &str) -> Markup {
    let binding = hcpki_sso::signing_requests::session_binding(csrf);
    html! {
        form method="post" action="/logout" data-signing-session-binding=(binding) {
            input type="hidden" name="csrf" value=(csrf);
            button type="submit" { (label) }
        }
    }
}

/// Unix seconds as Japan time, `YYYY-MM-DD HH:MM (日本時間)` (the portal serves Japan's clinics), in a `<time>`
/// whose `datetime` is the UTC instant.
pub fn jst(unix: i64, lang: Lang) -> Markup {
    let zone = if lang == Lang::Ja { "(日本時間)" } else { " (Japan time)" };
    html! { (jst_bare(unix)) (zone) }
}

/// [`jst`] to the second, `YYYY-MM-DD HH:MM:SS (日本時間)` (the console's audit log, whose entries are seconds
/// apart).
pub fn jst_seconds(unix: i64, lang: Lang) -> Markup {
    let zone = if lang == Lang::Ja { "(日本時間)" } else { " (Japan time)" };
    html! { (local_time(unix, 19)) (zone) }
}

/// [`jst_seconds`] without the zone's name (the console's audit table says it once, in its column's heading).
pub fn jst_seconds_bare(unix: i64) -> Markup {
    local_time(unix, 19)
}

/// [`jst`] without the zone's name (a table says it once).
pub(super) fn jst_bare(unix: i64) -> Markup {
    local_time(unix, 16)
}

/// Japan time's `YYYY-MM-DD HH:MM[:SS]` (the first `len` characters, `T` as a space) in a `<time>` of the UTC
/// instant.
fn local_time(unix: i64, len: usize) -> Markup {
    let utc = hcpki_pkix::time::rfc3339(unix);
    let local = hcpki_pkix::time::rfc3339(unix.saturating_add(9 * 3600));
    let shown = match (local.get(..10), local.get(11..len)) {
        (Some(d), Some(hm)) => format!("{d} {hm}"),
        _ => local.clone(),
    };
    html! { time datetime=(utc) { (shown) } }
}
