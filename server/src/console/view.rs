//! The console's page chrome: one layout (skip link, menu by role, language switch, `<main>`), the refusal
//! page, and small helpers for tables and forms. Everything interpolated goes through [`esc`].

use super::i18n::{Lang, M};
use crate::html::esc;
use crate::http::api_error::ApiError;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hcpki_ca::access::{AdminBasis, Principal};
use hcpki_ca::operator::OperatorRole;

/// `GET /console/static/console.css`: the only resource a page loads (the CSP allows styles from here).
pub async fn stylesheet() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], include_str!("console.css")).into_response()
}

/// A whole page.
pub fn page(lang: Lang, who: &Principal, status: StatusCode, title: &str, body: &str) -> Response {
    let t = |m: M| m.text(lang);
    let links: Vec<(&str, M)> = match who {
        Principal::Operator { .. } | Principal::Person { .. } => vec![
            ("/console/", M::Applications),
            ("/console/facilities", M::Facilities),
            ("/console/certificates", M::Certificates),
            ("/console/users", M::Users),
            ("/console/audit", M::Audit),
            ("/console/audit?action=login.%2Cportal.login%2Cportal.logout", M::Logins),
            ("/console/jobs", M::Jobs),
        ],
        Principal::FacilityAdmin { .. } => vec![("/console/", M::Home)],
        _ => vec![("/console/", M::Home), ("/console/apply", M::Apply)],
    };
    // A portal sign-in can be ended here; a certificate cannot (the browser holds it), but whoever sits at the
    // browser may sign in with their own card instead (D42: the sign-in then wins over the certificate).
    let signed_in = matches!(who, Principal::Person { .. })
        || matches!(who, Principal::FacilityAdmin { basis: AdminBasis::Person { .. }, .. });
    let session_link = if signed_in { ("/console/logout", M::SignOut) } else { ("/console/login", M::SignInWithCard) };
    let links = [links, vec![session_link]].concat();
    let nav: String = links.iter().map(|(href, m)| format!("<li><a href=\"{href}\">{}</a></li>", t(*m))).collect();
    let identity = match who {
        Principal::Operator { name, role } => {
            let role = if *role == OperatorRole::Auditor { M::Auditor } else { M::Operator };
            format!("{} {} ({})", t(M::SignedInAs), esc(name.as_str()), t(role))
        }
        Principal::Person { name, role, .. } => {
            let role = if *role == OperatorRole::Auditor { M::Auditor } else { M::Operator };
            format!("{} {} ({}, {})", t(M::SignedInAs), esc(name), t(role), t(M::ByCard))
        }
        Principal::FacilityAdmin { facility, basis } => {
            let by = match basis {
                AdminBasis::Certificate(serial) => format!("PC {}, {}", esc(serial), t(M::PcReadOnly)),
                AdminBasis::Credential(_) => "credential".into(),
                AdminBasis::Person { pc, .. } => format!("{}, {} {}", t(M::ByCard), t(M::AtPc), esc(pc)),
            };
            format!("{} {} {} ({by})", t(M::SignedInAs), t(M::FacilityAdmin), esc(facility.as_str()))
        }
        _ => t(M::NotSignedIn).to_owned(),
    };
    let other = lang.other();
    let html = format!(
        "<!doctype html><html lang=\"{code}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} — {console}</title><link rel=\"stylesheet\" href=\"/console/static/console.css\"></head>\
         <body><a class=\"skip\" href=\"#main\">{skip}</a>\
         <header><p class=\"brand\">{console}</p><nav aria-label=\"{menu}\"><ul>{nav}</ul></nav>\
         <p class=\"who\">{identity}</p>\
         <p class=\"lang\"><a href=\"?lang={other_code}\" hreflang=\"{other_code}\" lang=\"{other_code}\">{switch}</a></p>\
         </header><main id=\"main\"><h1>{title}</h1>{body}</main></body></html>",
        code = lang.code(),
        title = esc(title),
        console = t(M::Console),
        skip = t(M::SkipToMain),
        menu = t(M::MainMenu),
        other_code = other.code(),
        switch = t(M::SwitchLanguage),
    );
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

/// A refusal: its status, what went wrong and what to do (the operation's own words).
pub fn refusal(lang: Lang, who: &Principal, e: &ApiError) -> Response {
    let body = format!(
        "<div class=\"error\" role=\"alert\"><p><strong>{}</strong> ({})</p><p>{}</p></div>\
         <p><a href=\"/console/\">{}</a></p>",
        esc(&e.error),
        e.status.as_u16(),
        esc(&e.detail),
        M::Back.text(lang)
    );
    page(lang, who, e.status, M::Refused.text(lang), &body)
}

/// A table with a header row; cells are HTML already.
pub fn table(caption: &str, head: &[&str], rows: &[Vec<String>]) -> String {
    let th: String = head.iter().map(|h| format!("<th scope=\"col\">{h}</th>")).collect();
    let tr: String = rows
        .iter()
        .map(|r| format!("<tr>{}</tr>", r.iter().map(|c| format!("<td>{c}</td>")).collect::<String>()))
        .collect();
    format!("<table><caption>{caption}</caption><thead><tr>{th}</tr></thead><tbody>{tr}</tbody></table>")
}

/// A labelled `<input>`: `id` is the label's target; `id`, `name` and `value` are escaped here, `label` is
/// HTML already, `attrs` adds raw attributes (`" required"`, `" type=\"date\""`).
pub fn input(id: &str, name: &str, label: &str, value: &str, max: usize, attrs: &str) -> String {
    format!(
        "<label for=\"{id}\">{label}</label><input id=\"{id}\" name=\"{name}\" value=\"{}\" maxlength=\"{max}\"{attrs}>",
        esc(value),
        id = esc(id),
        name = esc(name),
    )
}

/// A labelled `<select>` of (value, text) options with `selected` chosen; values and texts are escaped here.
pub fn select(id: &str, name: &str, label: &str, options: &[(&str, &str)], selected: &str) -> String {
    let options: String = options
        .iter()
        .map(|(v, text)| {
            let sel = if *v == selected { " selected" } else { "" };
            format!("<option value=\"{}\"{sel}>{}</option>", esc(v), esc(text))
        })
        .collect();
    format!(
        "<label for=\"{id}\">{label}</label><select id=\"{id}\" name=\"{name}\">{options}</select>",
        id = esc(id),
        name = esc(name)
    )
}

/// Options whose value is their text.
pub fn same<'a>(values: &[&'a str]) -> Vec<(&'a str, &'a str)> {
    values.iter().map(|v| (*v, *v)).collect()
}

/// A hidden CSRF field.
pub fn csrf_field(token: &str) -> String {
    format!("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", esc(token))
}

/// Unix seconds as `YYYY-MM-DD HH:MM UTC`.
pub fn when(unix: i64) -> String {
    let t = hcpki_ca::time::rfc3339(unix);
    match (t.get(..10), t.get(11..16)) {
        (Some(d), Some(hm)) => format!("{d} {hm} UTC"),
        _ => t,
    }
}

/// A status word as a badge class and text.
pub fn badge(word: &str) -> String {
    format!("<span class=\"badge {w}\">{w}</span>", w = esc(word))
}
