//! The home page: who is signed in (name, qualification, facility, how), the services that open here as large
//! tiles, the services that do not open here with the reason and what would allow it, and the session's end.

use super::layout::{BodyData, Chrome, PcFacility, Scripts, jst, page_with, sign_out_form};
use crate::portal::reasons;
use crate::portal::words::M;
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_html::Lang;
use hcpki_sso::policy::{FacilityContext, Listing, Service, Subject};
use maud::{Markup, html};

/// What the home page shows.
#[derive(Clone, Copy, Debug)]
pub struct HomePage<'a> {
    /// Who is signed in.
    pub subject: &'a Subject,
    /// This PC's facility (none: no facility certificate).
    pub facility: Option<&'a FacilityContext>,
    /// Every service's decision for this person here ([`hcpki_sso::policy::listing`]).
    pub listing: &'a Listing<'a>,
    /// The session's CSRF token (the sign-out form).
    pub csrf: &'a str,
    /// (agent origin, card id) of a card session: the page then watches the card and ends the session when it
    /// leaves the reader.
    pub card: Option<(&'a str, &'a str)>,
    /// The presence token handed to the agent (D26).
    pub presence: Option<&'a str>,
    /// When the session ends at the latest (Unix seconds).
    pub expires_at: i64,
    /// The portal's issuer (the `iss` a service's login initiation receives).
    pub issuer: &'a str,
}

/// The home page in `lang`.
pub fn home(lang: Lang, page: &HomePage<'_>) -> Response {
    let t = |m: M| m.text(lang);
    let subject = page.subject;
    let visible = page.listing.visible();
    let refused: Vec<_> = page.listing.refused().collect();
    let level = subject.assurance(page.facility);
    let body = html! {
        section class="who" aria-label=(t(M::Home)) {
            p class="person" { strong { (subject.name()) } }
            dl {
                dt { (t(M::Qualification)) }
                dd { (subject.role().map_or(t(M::NoQualification), |r| reasons::qualification(r, lang))) }
                dt { (t(M::Facility)) }
                dd { @match page.facility {
                    Some(f) => { (f.name) " (" (f.id.as_str()) ")" },
                    None => { (t(M::NoFacilityShort)) },
                } }
                dt { (t(M::Assurance)) }
                // The level's services-file name for scripts and tests; the words for people.
                dd data-assurance=(level.as_str()) { (reasons::assurance(level, lang)) }
                dt { (t(M::SessionEnds)) }
                dd { (jst(page.expires_at, lang)) }
            }
            @if page.card.is_some() { p class="notice" { (t(M::CardLeaves)) } }
        }
        section aria-labelledby="services-heading" {
            h2 id="services-heading" { (t(M::Services)) }
            @if visible.is_empty() { p { (t(M::NoServices)) } }
            @else { ul class="tiles" { @for s in &visible { li data-service=(s.id) { (tile(s, page.issuer, lang)) } } } }
        }
        @if !refused.is_empty() {
            section aria-labelledby="not-here-heading" {
                h2 id="not-here-heading" { (t(M::NotHere)) }
                ul class="refused" {
                    @for (s, reason) in &refused {
                        @let words = reasons::explain(reason, lang);
                        li data-refused=(s.id) {
                            strong { (s.name) } ": " (words.why) " " span class="remedy" { (words.remedy) }
                        }
                    }
                }
            }
        }
        nav class="actions" aria-label=(t(M::Sessions)) {
            @if page.facility.is_some() {
                // The patient desk (issue #28): asking for a consent, identifying a returning patient.
                a href=(super::patient_desk::NEW_CONSENT_PATH) { (if lang == Lang::Ja { "患者さんの同意を求める" } else { "Ask a patient for consent" }) }
                a href=(super::patient_desk::IDENTIFY_PATH) { (if lang == Lang::Ja { "再来の患者さんの確認" } else { "Identify a returning patient" }) }
            }
            a href="/sessions" { (t(M::Sessions)) }
            // The account's passkeys (D157): a card holder's page says passkeys are for staff accounts.
            a href="/passkeys" { (super::passkeys::say(lang, "パスキー", "Passkeys")) }
            a href="/delegations" { (t(M::Delegations)) }
            (sign_out_form(page.csrf, t(M::SignOut)))
        }
    };
    let scripts = page.card.map(|(agent, id)| Scripts {
        src: "/static/card-watch.js",
        agent,
        data: BodyData {
            agent: Some(agent),
            card: Some(id),
            csrf: Some(page.csrf),
            presence: page.presence,
            continue_to: None,
            lent: None,
        },
    });
    let chrome = Chrome { lang, facility: PcFacility::from(page.facility), switch: None };
    page_with(&chrome, StatusCode::OK, t(M::Home), body, scripts)
}

/// A service's tile: its name and description, a link to where its login starts when the catalogue says
/// (OpenID Connect third-party-initiated login: one click, and `/authorize` answers within the session).
fn tile(s: &Service, issuer: &str, lang: Lang) -> Markup {
    let inner = html! {
        span class="name" { (s.name) }
        @if let Some(d) = &s.description { span class="description" { (d) } }
    };
    match &s.initiate_login_uri {
        Some(uri) => html! { a class="tile" href=(launch(uri, issuer)) { (inner) } },
        None => html! { div class="tile" { (inner) span class="description" { (M::NoLaunch.text(lang)) } } },
    }
}

/// `uri` with the portal's issuer as `iss` (OpenID Connect Core §4).
fn launch(uri: &str, issuer: &str) -> String {
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}iss={}", hcpki_sso::uri::percent(issuer))
}
