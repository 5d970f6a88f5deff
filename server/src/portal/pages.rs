//! Server-rendered HTML of the portal (no JavaScript needed): login, home, refusal, logout.

use crate::policy::{FacilityContext, Service, Subject};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// HTML-escape text.
pub fn esc(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// A page: no caching, no framing, no scripts.
pub fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"ja\"><head><meta charset=\"utf-8\"><title>{t}</title></head>\
         <body><h1>{t}</h1>{body}</body></html>",
        t = esc(title)
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'; form-action 'self'; frame-ancestors 'none'"),
        ],
        html,
    )
        .into_response()
}

/// The login form. `facility` is what the connection's certificate says; `message` an error to show.
pub fn login(facility: Option<&FacilityContext>, return_to: &str, message: Option<&str>) -> Response {
    let at = match facility {
        Some(f) => format!("<p>Facility: {} ({})</p>", esc(&f.name), esc(f.id.as_str())),
        None => "<p>No facility certificate on this connection.</p>".to_owned(),
    };
    let msg = message.map(|m| format!("<p role=\"alert\"><strong>{}</strong></p>", esc(m))).unwrap_or_default();
    let body = format!(
        "{at}{msg}<h2>Password + TOTP (lower assurance: <code>password-totp</code>)</h2>\
         <p>For staff without an HPKI card. Services that need a card login will not open with it.</p>\
         <form method=\"post\" action=\"/login\">\
         <input type=\"hidden\" name=\"return_to\" value=\"{rt}\">\
         <label>User <input name=\"username\" autocomplete=\"username\" required></label>\
         <label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
         <label>Code <input name=\"totp\" inputmode=\"numeric\" autocomplete=\"one-time-code\" required></label>\
         <button type=\"submit\">Sign in</button></form>",
        rt = esc(return_to)
    );
    let status = if message.is_some() { StatusCode::UNAUTHORIZED } else { StatusCode::OK };
    page(status, "hcpki portal: sign in", &body)
}

/// The home page: the services this person may open here.
pub fn home(subject: &Subject, facility: Option<&FacilityContext>, services: &[&Service], csrf: &str) -> Response {
    let level = subject.assurance(facility);
    let at = facility.map(|f| format!(" at {}", esc(&f.name))).unwrap_or_default();
    let list: String =
        services.iter().map(|s| format!("<li data-service=\"{}\">{}</li>", esc(&s.id), esc(&s.name))).collect();
    let body = format!(
        "<p>Signed in as {}{at}; assurance <code>{}</code>.</p><h2>Services</h2><ul>{list}</ul>\
         <form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <button type=\"submit\">Sign out</button></form>",
        esc(subject.name()),
        level,
        esc(csrf)
    );
    page(StatusCode::OK, "hcpki portal", &body)
}

/// A refusal with its reason.
pub fn refused(status: StatusCode, reason: &str) -> Response {
    page(status, "hcpki portal: refused", &format!("<p role=\"alert\">{}</p>", esc(reason)))
}
