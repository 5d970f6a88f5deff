//! The second factor's set-up page (D161): shown instead of a session when the right password was typed for an
//! account whose second factor was never confirmed — the new key (a QR code for a phone, the typed form and the
//! `otpauth://` link), until when
//! set-up is offered, and the form posting its first code with the sealed offer to `POST /login/enrol`.

use super::layout::{Chrome, PcFacility, jst, page_with};
use crate::portal::words::M;
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_html::Lang;
use hcpki_sso::enrolment::{Offer, Window};
use hcpki_sso::policy::FacilityContext;
use maud::html;

/// What the set-up page shows.
pub struct EnrolPage<'a> {
    /// The offer (its key shown, its seal carried).
    pub offer: &'a Offer,
    /// The offer sealed, as the form carries it back.
    pub sealed: &'a str,
    /// Until when set-up is offered.
    pub window: Window,
    /// The issuer name the authenticator app shows.
    pub issuer: &'a str,
    /// Where the sign-in goes on to.
    pub return_to: &'a str,
    /// The PC's facility (the header shows it).
    pub facility: Option<&'a FacilityContext>,
    /// The code typed did not match (the page again).
    pub wrong_code: bool,
}

/// The set-up page (200, or 401 when it asks again after a wrong code).
pub fn enrol(lang: Lang, p: &EnrolPage<'_>) -> Response {
    let t = |m: M| m.text(lang);
    let body = html! {
        @if p.wrong_code {
            div class="error" role="alert" id="enrol-problem" { p { (t(M::EnrolWrongCode)) } }
        }
        p { (t(M::EnrolIntro)) }
        @if let Window::Open { overdue: true, .. } = p.window {
            div class="notice" role="note" { p { (t(M::EnrolOverdue)) } }
        }
        @if let Window::Open { closes: Some(closes), .. } = p.window {
            p { (t(M::EnrolBy)) " " (jst(closes.as_secs(), lang)) }
        }
        h2 { (t(M::EnrolKey)) }
        @let uri = p.offer.uri(p.issuer);
        @if let Some(qr) = super::qr_code::svg(&uri, t(M::EnrolQr), 200) {
            figure class="qr" {
                (qr)
                figcaption { (t(M::EnrolQr)) }
            }
        }
        p class="hint" id="key-hint" { (t(M::EnrolKeyHint)) }
        p { code id="enrol-key" class="secret" aria-describedby="key-hint" { (p.offer.typed_key()) } }
        p { a id="enrol-uri" href=(uri) { (t(M::EnrolLink)) } }
        form method="post" action="/login/enrol" class="password" {
            input type="hidden" name="username" value=(p.offer.username);
            input type="hidden" name="offer" value=(p.sealed);
            input type="hidden" name="return_to" value=(p.return_to);
            label for="totp" { (t(M::EnrolCode)) }
            input id="totp" name="totp" inputmode="numeric" autocomplete="one-time-code" autocapitalize="none"
                autofocus required;
            button type="submit" { (t(M::EnrolButton)) }
        }
    };
    // Switching the language starts the sign-in again (this page answers a POST).
    let chrome = Chrome { lang, facility: PcFacility::from(p.facility), switch: Some("/login".to_owned()) };
    let status = if p.wrong_code { StatusCode::UNAUTHORIZED } else { StatusCode::OK };
    page_with(&chrome, status, t(M::EnrolTitle), body, None)
}
