//! Server-rendered HTML of the portal (no JavaScript needed): login, home, the person's sessions, refusal,
//! logout.

use crate::policy::{FacilityContext, Service, Subject};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub use crate::html::esc;

/// A page: no caching, no framing, no scripts.
pub fn page(status: StatusCode, title: &str, body: &str) -> Response {
    page_with(status, title, body, None)
}

/// The scripts of a card page: its own script (served by the portal) and the card agent it may talk to.
#[derive(Clone, Copy, Debug)]
pub struct Scripts<'a> {
    /// `/static/….js`.
    pub src: &'a str,
    /// The local card agent's origin (the only other origin the page may connect to).
    pub agent: &'a str,
    /// `data-*` attributes of `<body>` the script reads (names without `data-`), escaped here.
    pub data: &'a [(&'a str, &'a str)],
}

/// A page, with the portal's own script when `scripts` is given: the CSP then allows exactly that script
/// origin (`'self'`) and connections to the portal and the local card agent, nothing else.
pub fn page_with(status: StatusCode, title: &str, body: &str, scripts: Option<Scripts<'_>>) -> Response {
    let (attrs, tag, csp) = match scripts {
        Some(s) => (
            s.data.iter().map(|(k, v)| format!(" data-{k}=\"{}\"", esc(v))).collect::<String>(),
            format!("<script src=\"{}\" defer></script>", esc(s.src)),
            format!(
                "default-src 'none'; script-src 'self'; connect-src 'self' {}; form-action 'self'; \
                 frame-ancestors 'none'",
                s.agent
            ),
        ),
        None => {
            (String::new(), String::new(), "default-src 'none'; form-action 'self'; frame-ancestors 'none'".to_owned())
        }
    };
    let html = format!(
        "<!doctype html><html lang=\"ja\"><head><meta charset=\"utf-8\"><title>{t}</title>{tag}</head>\
         <body{attrs}><h1>{t}</h1>{body}</body></html>",
        t = esc(title)
    );
    let mut response = (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_FRAME_OPTIONS, "DENY"),
        ],
        html,
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

/// The login form. `facility` is what the connection's certificate says; `message` an error to show; `card`
/// the card login part, when card login is configured.
pub fn login(
    facility: Option<&FacilityContext>,
    return_to: &str,
    message: Option<&str>,
    card: Option<&CardSection>,
) -> Response {
    let at = match facility {
        Some(f) => format!("<p>Facility: {} ({})</p>", esc(&f.name), esc(f.id.as_str())),
        None => "<p>No facility certificate on this connection.</p>".to_owned(),
    };
    let msg = message.map(|m| format!("<p role=\"alert\"><strong>{}</strong></p>", esc(m))).unwrap_or_default();
    let cards = card.map(|c| {
        format!(
            "<h2>HPKI / マイナンバーカード</h2>\
             <form id=\"card-login\" method=\"post\" action=\"/login/card\" data-agent=\"{agent}\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <input type=\"hidden\" name=\"return_to\" value=\"{rt}\">\
             <input type=\"hidden\" name=\"challenge_id\"><input type=\"hidden\" name=\"kind\">\
             <input type=\"hidden\" name=\"signature\"><input type=\"hidden\" name=\"chain\">\
             <button type=\"button\" data-kind=\"hpki\">HPKI カードでログイン / Sign in with HPKI card</button> \
             <button type=\"button\" data-kind=\"jpki\">マイナンバーカード / My Number card</button>\
             <p id=\"card-status\" role=\"status\"></p></form>",
            agent = esc(&c.agent),
            csrf = esc(&c.csrf),
            rt = esc(return_to)
        )
    });
    let body = format!(
        "{at}{msg}{cards}<h2>Password + TOTP (lower assurance: <code>password-totp</code>)</h2>\
         <p>For staff without an HPKI card. Services that need a card login will not open with it.</p>\
         <form method=\"post\" action=\"/login\">\
         <input type=\"hidden\" name=\"return_to\" value=\"{rt}\">\
         <label>User <input name=\"username\" autocomplete=\"username\" required></label>\
         <label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
         <label>Code <input name=\"totp\" inputmode=\"numeric\" autocomplete=\"one-time-code\" required></label>\
         <button type=\"submit\">Sign in</button></form>",
        rt = esc(return_to),
        cards = cards.unwrap_or_default()
    );
    let status = if message.is_some() { StatusCode::UNAUTHORIZED } else { StatusCode::OK };
    let scripts = card.map(|c| Scripts { src: "/static/card-login.js", agent: &c.agent, data: &[] });
    page_with(status, "hcpki portal: sign in", &body, scripts)
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
    let level = subject.assurance(facility);
    let at = facility.map(|f| format!(" at {}", esc(&f.name))).unwrap_or_default();
    let list: String =
        services.iter().map(|s| format!("<li data-service=\"{}\">{}</li>", esc(&s.id), esc(&s.name))).collect();
    let body = format!(
        "<p>Signed in as {}{at}; assurance <code>{}</code>.</p><h2>Services</h2><ul>{list}</ul>\
         <p><a href=\"/sessions\">ログイン中のセッション / Your sessions</a></p>\
         <form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <button type=\"submit\">Sign out</button></form>",
        esc(subject.name()),
        level,
        esc(csrf)
    );
    let data = card.map(|(agent, id)| {
        let mut data = vec![("agent", agent), ("card", id), ("csrf", csrf)];
        data.extend(presence.map(|p| ("presence", p)));
        data
    });
    let scripts = card.zip(data.as_ref()).map(|((agent, _), data)| Scripts {
        src: "/static/card-watch.js",
        agent,
        data: data.as_slice(),
    });
    page_with(StatusCode::OK, "hcpki portal", &body, scripts)
}

/// The person's live sessions (issue #8), each with a form ending it, and "log out everywhere". Rows carry
/// `data-session` (the opaque handle) and `data-current` on this request's session, for tests and scripts.
pub fn sessions(name: &str, rows: &[super::self_service::Row], csrf: &str) -> Response {
    let csrf = esc(csrf);
    let time = |t: i64| {
        let text = esc(&hcpki_ca::time::rfc3339(t));
        format!("<time datetime=\"{text}\">{text}</time>")
    };
    let list: String = rows
        .iter()
        .map(|r| {
            let facility = match &r.facility {
                Some((id, Some(name))) => format!("{} ({})", esc(name), esc(id)),
                Some((id, None)) => esc(id),
                None => "—".to_owned(),
            };
            let services = if r.services.is_empty() {
                "—".to_owned()
            } else {
                format!("<ul>{}</ul>", r.services.iter().map(|s| format!("<li>{}</li>", esc(s))).collect::<String>())
            };
            let (current, marker) = if r.current {
                (" data-current", "<strong>この端末 / this session</strong><br>")
            } else {
                ("", "")
            };
            format!(
                "<tr data-session=\"{h}\"{current}><td>{marker}{started}</td><td>{expires}</td><td>{how}</td>\
                 <td>{facility}</td><td>{device}</td><td>{services}</td><td>\
                 <form method=\"post\" action=\"/sessions/end\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <input type=\"hidden\" name=\"session\" value=\"{h}\">\
                 <button type=\"submit\">終了 / End</button></form></td></tr>",
                h = esc(&r.handle),
                started = time(r.started),
                expires = time(r.expires),
                how = esc(r.sign_in.label()),
                device = r.device.as_deref().map(esc).unwrap_or_else(|| "—".to_owned()),
            )
        })
        .collect();
    let body = format!(
        "<p>{name} のセッション / Sessions of {name}. <a href=\"/\">ホーム / Home</a></p>\
         <table><caption>ログイン中のセッション(新しい順)/ Live sessions, newest first</caption>\
         <thead><tr><th scope=\"col\">開始 / Started</th><th scope=\"col\">期限 / Ends by</th>\
         <th scope=\"col\">ログイン方法 / Signed in with</th><th scope=\"col\">施設 / Facility</th>\
         <th scope=\"col\">端末証明書 / PC certificate</th><th scope=\"col\">利用中のサービス / Services</th>\
         <th scope=\"col\"><span>操作 / Action</span></th></tr></thead><tbody>{list}</tbody></table>\
         <form method=\"post\" action=\"/sessions/end-all\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button type=\"submit\">すべての端末からログアウト / Log out everywhere</button></form>",
        name = esc(name)
    );
    page(StatusCode::OK, "hcpki portal: sessions", &body)
}

/// The answer to a card login whose session lives on a presence lease (D26): its `card-watch.js` hands the
/// agent the presence token (`presence`), then goes on to `return_to` (already a safe local path); the link
/// does the same without scripts. The session's CSRF token and card complete what the script reads.
pub fn continuing(return_to: &str, agent: &str, card_id: &str, csrf: &str, presence: &str) -> Response {
    let body = format!("<p>Signed in. <a id=\"continue\" href=\"{}\">Continue</a></p>", esc(return_to));
    let data = [("agent", agent), ("card", card_id), ("csrf", csrf), ("presence", presence), ("continue", return_to)];
    let scripts = Scripts { src: "/static/card-watch.js", agent, data: &data };
    page_with(StatusCode::OK, "hcpki portal: signed in", &body, Some(scripts))
}

/// A refusal with its reason.
pub fn refused(status: StatusCode, reason: &str) -> Response {
    page(status, "hcpki portal: refused", &format!("<p role=\"alert\">{}</p>", esc(reason)))
}

/// A refusal whose `message` is written Japanese first, then English (`日本語 / English`), with the way back
/// to the sign-in page.
pub fn refused_ja(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<p role=\"alert\">{}</p><p><a href=\"/login\">ログインページへ / To the sign-in page</a></p>",
        esc(message)
    );
    page(status, "hcpki ポータル: 受け付けられません / hcpki portal: refused", &body)
}
