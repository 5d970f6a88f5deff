//! Server-rendered HTML of the portal (no JavaScript needed): login, home, the person's sessions, refusal,
//! logout. Pages are maud templates in the shared layout ([`hcpki_html::document`]): every value is escaped
//! there, none here.

use super::problem::Problem;
use crate::policy::{FacilityContext, Service, Subject};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hcpki_html::{Head, Lang};
use maud::{Markup, html};

/// A page: no caching, no framing, no scripts.
pub fn page(status: StatusCode, title: &str, body: Markup) -> Response {
    page_with(status, title, body, None)
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
}

/// A page, with the portal's own script when `scripts` is given: the CSP then allows exactly that script
/// origin (`'self'`) and connections to the portal and the local card agent, nothing else.
pub fn page_with(status: StatusCode, title: &str, body: Markup, scripts: Option<Scripts<'_>>) -> Response {
    let csp = match scripts {
        Some(s) => format!(
            "default-src 'none'; script-src 'self'; connect-src 'self' {}; form-action 'self'; \
             frame-ancestors 'none'",
            s.agent
        ),
        None => "default-src 'none'; form-action 'self'; frame-ancestors 'none'".to_owned(),
    };
    let data = scripts.map(|s| s.data).unwrap_or_default();
    let head = Head {
        lang: "ja",
        title,
        meta: html! {},
        assets: html! { @if let Some(s) = scripts { script src=(s.src) defer {} } },
    };
    let body = html! {
        body data-agent=[data.agent] data-card=[data.card] data-csrf=[data.csrf] data-presence=[data.presence]
            data-continue=[data.continue_to] {
            h1 { (title) }
            (body)
        }
    };
    let mut response = (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_FRAME_OPTIONS, "DENY"),
        ],
        hcpki_html::document(head, body).into_string(),
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

/// The card part of the login page: the agent's origin and the pre-login CSRF token.
#[derive(Clone, Debug)]
pub struct CardSection {
    /// The local card agent's origin.
    pub agent: String,
    /// The CSRF token of the card POSTs.
    pub csrf: String,
}

/// The login form. `facility` is what the connection's certificate says; `notice` a problem to show (a
/// [`Problem`](super::problem::Problem)'s box, which makes the answer 401); `card` the card login part, when
/// card login is configured.
pub fn login(
    facility: Option<&FacilityContext>,
    return_to: &str,
    notice: Option<Markup>,
    card: Option<&CardSection>,
) -> Response {
    let message = notice.is_some();
    let body = html! {
        @match facility {
            Some(f) => p { "Facility: " (f.name) " (" (f.id.as_str()) ")" },
            None => p { "No facility certificate on this connection." },
        }
        @if let Some(n) = notice { (n) }
        @if let Some(c) = card {
            h2 { "HPKI / マイナンバーカード" }
            form id="card-login" method="post" action="/login/card" data-agent=(c.agent) {
                input type="hidden" name="csrf" value=(c.csrf);
                input type="hidden" name="return_to" value=(return_to);
                input type="hidden" name="challenge_id"; input type="hidden" name="kind";
                input type="hidden" name="signature"; input type="hidden" name="chain";
                button type="button" data-kind="hpki" { "HPKI カードでログイン / Sign in with HPKI card" } " "
                button type="button" data-kind="jpki" { "マイナンバーカード / My Number card" }
                p id="card-status" role="status" {}
            }
        }
        h2 { "Password + TOTP (lower assurance: " code { "password-totp" } ")" }
        p { "For staff without an HPKI card. Services that need a card login will not open with it." }
        form method="post" action="/login" {
            input type="hidden" name="return_to" value=(return_to);
            label { "User " input name="username" autocomplete="username" required; }
            label { "Password " input name="password" type="password" autocomplete="current-password" required; }
            label { "Code " input name="totp" inputmode="numeric" autocomplete="one-time-code" required; }
            button type="submit" { "Sign in" }
        }
    };
    let status = if message { StatusCode::UNAUTHORIZED } else { StatusCode::OK };
    let scripts = card.map(|c| Scripts { src: "/static/card-login.js", agent: &c.agent, data: BodyData::default() });
    page_with(status, "hcpki portal: sign in", body, scripts)
}

/// The home page: the services this person may open here. `card` is (agent origin, card id) of a card
/// session: the page then watches the card and ends the session when it leaves the reader.
pub fn home(
    subject: &Subject,
    facility: Option<&FacilityContext>,
    services: &[&Service],
    csrf: &str,
    card: Option<(&str, &str)>,
    presence: Option<&str>,
) -> Response {
    let body = html! {
        p {
            "Signed in as " (subject.name())
            @if let Some(f) = facility { " at " (f.name) }
            "; assurance " code { (subject.assurance(facility)) } "."
        }
        h2 { "Services" }
        ul { @for s in services { li data-service=(s.id) { (s.name) } } }
        p { a href="/sessions" { "ログイン中のセッション / Your sessions" } }
        (sign_out_form(csrf, "Sign out"))
    };
    let scripts = card.map(|(agent, id)| Scripts {
        src: "/static/card-watch.js",
        agent,
        data: BodyData { agent: Some(agent), card: Some(id), csrf: Some(csrf), presence, continue_to: None },
    });
    page_with(StatusCode::OK, "hcpki portal", body, scripts)
}

/// The person's live sessions (issue #8), each with a form ending it, and "log out everywhere". Rows carry
/// `data-session` (the opaque handle) and `data-current` on this request's session, for tests and scripts.
pub fn sessions(name: &str, rows: &[super::self_service::Row], csrf: &str) -> Response {
    let time = |t: i64| {
        let text = hcpki_ca::time::rfc3339(t);
        html! { time datetime=(text) { (text) } }
    };
    let body = html! {
        p { (name) " のセッション / Sessions of " (name) ". " a href="/" { "ホーム / Home" } }
        table {
            caption { "ログイン中のセッション(新しい順)/ Live sessions, newest first" }
            thead { tr {
                th scope="col" { "開始 / Started" } th scope="col" { "期限 / Ends by" }
                th scope="col" { "ログイン方法 / Signed in with" } th scope="col" { "施設 / Facility" }
                th scope="col" { "端末証明書 / PC certificate" } th scope="col" { "利用中のサービス / Services" }
                th scope="col" { span { "操作 / Action" } }
            } }
            tbody { @for r in rows {
                tr data-session=(r.handle) data-current[r.current] {
                    td {
                        @if r.current { strong { "この端末 / this session" } br; }
                        (time(r.started))
                    }
                    td { (time(r.expires)) }
                    td { (r.sign_in.label()) }
                    td { @match &r.facility {
                        Some((id, Some(name))) => { (name) " (" (id) ")" }
                        Some((id, None)) => { (id) }
                        None => "—",
                    } }
                    td { (r.device.as_deref().unwrap_or("—")) }
                    td { @if r.services.is_empty() { "—" } @else { ul { @for s in &r.services { li { (s) } } } } }
                    td { form method="post" action="/sessions/end" {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="session" value=(r.handle);
                        button type="submit" { "終了 / End" }
                    } }
                }
            } }
        }
        form method="post" action="/sessions/end-all" {
            input type="hidden" name="csrf" value=(csrf);
            button type="submit" { "すべての端末からログアウト / Log out everywhere" }
        }
    };
    page(StatusCode::OK, "hcpki portal: sessions", body)
}

/// The answer to a card login whose session lives on a presence lease (D26): its `card-watch.js` hands the
/// agent the presence token (`presence`), then goes on to `return_to` (already a safe local path); the link
/// does the same without scripts. The session's CSRF token and card complete what the script reads.
pub fn continuing(return_to: &str, agent: &str, card_id: &str, csrf: &str, presence: &str) -> Response {
    let body = html! { p { "Signed in. " a id="continue" href=(return_to) { "Continue" } } };
    let data = BodyData {
        agent: Some(agent),
        card: Some(card_id),
        csrf: Some(csrf),
        presence: Some(presence),
        continue_to: Some(return_to),
    };
    let scripts = Scripts { src: "/static/card-watch.js", agent, data };
    page_with(StatusCode::OK, "hcpki portal: signed in", body, Some(scripts))
}

/// The page after sign-out.
pub fn signed_out() -> Response {
    page(StatusCode::OK, "hcpki portal: signed out", html! { p { "You are signed out." } })
}

/// The logout confirmation form (RP-initiated logout without a valid `id_token_hint`).
pub fn confirm_logout(csrf: &str) -> Response {
    page(StatusCode::OK, "hcpki portal: sign out?", sign_out_form(csrf, "Sign out of every service"))
}

/// A problem's own page (issue #26): what happened, what to do, and the refusal in full as `detail`.
pub fn problem(status: StatusCode, lang: Lang, problem: &Problem, detail: Option<&str>) -> Response {
    page(status, problem.heading(lang), problem.render(lang, false, detail))
}

/// A refusal with its reason.
pub fn refused(status: StatusCode, reason: &str) -> Response {
    page(status, "hcpki portal: refused", html! { p role="alert" { (reason) } })
}

/// A refusal whose `message` is written Japanese first, then English (`日本語 / English`), with the way back
/// to the sign-in page.
pub fn refused_ja(status: StatusCode, message: &str) -> Response {
    let body = html! {
        p role="alert" { (message) }
        p { a href="/login" { "ログインページへ / To the sign-in page" } }
    };
    page(status, "hcpki ポータル: 受け付けられません / hcpki portal: refused", body)
}

/// The form that ends the session (and, through it, every service's).
fn sign_out_form(csrf: &str, label: &str) -> Markup {
    html! {
        form method="post" action="/logout" {
            input type="hidden" name="csrf" value=(csrf);
            button type="submit" { (label) }
        }
    }
}

/// The page of a failure of ours (the database, mostly): logged, and the person asked to retry.
pub fn unavailable(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "portal request failed");
    refused(StatusCode::SERVICE_UNAVAILABLE, "the portal cannot answer now; try again shortly")
}
