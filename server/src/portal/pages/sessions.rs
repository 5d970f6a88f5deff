//! The person's live sessions (issue #8), each with a form ending it, and "log out everywhere".

use super::layout::{jst_bare, page};
use crate::portal::self_service::{Row, SignIn};
use crate::portal::words::M;
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_html::Lang;
use maud::html;

/// The sessions page in `lang`. Rows carry `data-session` (the opaque handle) and `data-current` on this
/// request's session, for tests and scripts.
pub fn sessions(lang: Lang, name: &str, rows: &[Row], csrf: &str) -> Response {
    let t = |m: M| m.text(lang);
    let body = html! {
        p { (t(M::SessionsOf)) strong { (name) } " · " (t(M::TimesInJst)) " · " a href="/" { (t(M::Home)) } }
        div class="scroll" {
        table {
            caption { (t(M::SessionsCaption)) }
            thead { tr {
                th scope="col" { (t(M::Started)) } th scope="col" { (t(M::EndsBy)) }
                th scope="col" { (t(M::SignedInWith)) } th scope="col" { (t(M::Facility)) }
                th scope="col" { (t(M::PcCertificate)) } th scope="col" { (t(M::ServicesInUse)) }
                th scope="col" { span { (t(M::Action)) } }
            } }
            tbody { @for r in rows {
                tr data-session=(r.handle) data-current[r.current] {
                    td {
                        @if r.current { strong { (t(M::ThisSession)) } br; }
                        (jst_bare(r.started))
                    }
                    td { (jst_bare(r.expires)) }
                    td { (sign_in(r.sign_in, lang)) }
                    td { @match &r.facility {
                        Some((id, Some(name))) => { (name) " (" (id) ")" }
                        Some((id, None)) => { (id) }
                        None => "—",
                    } }
                    td { span class="wrap" { (r.device.as_deref().unwrap_or("—")) } }
                    td { @if r.services.is_empty() { "—" } @else { ul { @for s in &r.services { li { (s) } } } } }
                    td { form method="post" action="/sessions/end" {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="session" value=(r.handle);
                        button type="submit" { (t(M::End)) }
                    } }
                }
            } }
        }
        }
        form method="post" action="/sessions/end-all" {
            input type="hidden" name="csrf" value=(csrf);
            button type="submit" class="danger" { (t(M::LogOutEverywhere)) }
        }
    };
    page(lang, StatusCode::OK, t(M::Sessions), body)
}

/// How a session signed in, in words.
fn sign_in(s: SignIn, lang: Lang) -> &'static str {
    let level = match s {
        SignIn::CardPinFacility => hcpki_sso::policy::AssuranceLevel::CardPinFacility,
        SignIn::CardPin => hcpki_sso::policy::AssuranceLevel::CardPin,
        SignIn::PasswordTotp => hcpki_sso::policy::AssuranceLevel::PasswordTotp,
        SignIn::Passkey => hcpki_sso::policy::AssuranceLevel::Passkey,
    };
    crate::portal::reasons::assurance(level, lang)
}
