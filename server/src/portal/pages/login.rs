//! The login page: this PC's facility, one primary action (the HPKI card), and the weaker ways in (the My
//! Number card, password + one-time code) below it, each saying what it cannot open.

use super::layout::{BodyData, Chrome, PcFacility, Scripts, page_with};
use crate::portal::words::M;
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_html::Lang;
use hcpki_sso::policy::{AssuranceLevel, FacilityContext, Services};
use maud::{Markup, html};

/// The card part of the login page: the agent's origin and the pre-login CSRF token.
#[derive(Clone, Debug)]
pub struct CardSection {
    /// The local card agent's origin.
    pub agent: String,
    /// The CSRF token of the card POSTs.
    pub csrf: String,
}

/// What the login page shows besides its notice.
#[derive(Clone, Debug, Default)]
pub struct LoginPage<'a> {
    /// What the connection's certificate says (none: this PC has no facility certificate).
    pub facility: Option<&'a FacilityContext>,
    /// Where the login goes on to (already a safe local path).
    pub return_to: &'a str,
    /// The card login part, when card login is configured.
    pub card: Option<&'a CardSection>,
    /// The names of the services a password login does not open ([`card_only_services`]).
    pub card_only: Vec<String>,
    /// After a refused password sign-in: the user name as read (kept in its field, never looked up) and the
    /// field to fix, which has the focus.
    pub kept: Option<(&'a str, PasswordField)>,
    /// The passkey sign-in (D157), when the portal is a relying party: the pre-login CSRF token of its POSTs.
    pub passkey: Option<&'a str>,
}

/// A field of the password form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordField {
    /// The user name.
    User,
    /// The password.
    Password,
    /// The one-time code.
    Code,
}

/// Why a password sign-in was refused, as its box says it, in the card path's problem-box style (issue #45
/// item 4). A wrong user name and a wrong password are one problem: the page never tells which.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordProblem {
    /// Unknown or disabled account, wrong password or code.
    Credentials,
    /// The right password with a code already used.
    CodeUsed,
    /// A field no account could have: the rule of `field` (or, without one, a form to open again).
    Malformed(Option<PasswordField>),
}

impl PasswordProblem {
    /// The field to fix, which gets the focus.
    pub fn field(self) -> Option<PasswordField> {
        match self {
            Self::Credentials => Some(PasswordField::Password),
            Self::CodeUsed => Some(PasswordField::Code),
            Self::Malformed(field) => field,
        }
    }

    /// The box: `role="alert"`, what happened, what to do.
    pub fn render(self, lang: Lang) -> Markup {
        let (code, heading, advice) = match self {
            Self::Credentials => ("password_wrong", M::PwdWrong, M::PwdWrongAdvice),
            Self::CodeUsed => ("code_used", M::PwdCodeUsed, M::PwdCodeUsedAdvice),
            Self::Malformed(Some(PasswordField::User)) => ("password_form", M::PwdCheck, M::PwdUserRule),
            Self::Malformed(Some(PasswordField::Password)) => ("password_form", M::PwdCheck, M::PwdPasswordRule),
            Self::Malformed(Some(PasswordField::Code)) => ("password_form", M::PwdCheck, M::PwdCodeRule),
            Self::Malformed(None) => ("password_form", M::PwdCheck, M::PwdReopen),
        };
        html! {
            section class="problem error" role="alert" aria-labelledby={ "problem-" (code) } data-problem=(code) {
                h2 id={ "problem-" (code) } { (heading.text(lang)) }
                p { (advice.text(lang)) }
            }
        }
    }
}

/// The names of the services that need a card login (their minimum assurance is above password + TOTP).
pub fn card_only_services(services: &Services) -> Vec<String> {
    services.iter().filter(|s| s.min_assurance > AssuranceLevel::PasswordTotp).map(|s| s.name.clone()).collect()
}

/// The login page in `lang`. `notice` is shown above the ways in (what went wrong and what to do); the page
/// answers 401 with one, 200 without.
pub fn login(lang: Lang, page: &LoginPage<'_>, notice: Option<Markup>) -> Response {
    let t = |m: M| m.text(lang);
    let status = if notice.is_some() { StatusCode::UNAUTHORIZED } else { StatusCode::OK };
    let return_to = page.return_to;
    let kept_user = page.kept.map(|(user, _)| user).filter(|u| !u.is_empty());
    let focus = page.kept.map(|(_, field)| field);
    let body = html! {
        @if page.facility.is_none() {
            div class="notice warn" id="no-facility" { p { (t(M::NoFacilityExplained)) } }
        }
        @if let Some(n) = notice { div class="notice-slot" { (n) } }
        @if let Some(c) = page.card {
            section class="primary" aria-labelledby="hpki-heading" {
                h2 id="hpki-heading" { (t(M::HpkiButton)) }
                p { (t(M::HpkiHelp)) }
                form id="card-login" method="post" action="/login/card" data-agent=(c.agent)
                    data-say-preparing=(t(M::StatusPreparing)) data-say-pin=(t(M::StatusPin))
                    data-say-cancelled=(t(M::StatusCancelled)) data-say-verifying=(t(M::StatusVerifying))
                    data-say-failed=(t(M::StatusFailed)) data-say-confirm-first=(t(M::StatusConfirmFirst))
                    data-say-pin-blocked=(t(M::StatusPinBlocked)) {
                    input type="hidden" name="csrf" value=(c.csrf);
                    input type="hidden" name="return_to" value=(return_to);
                    input type="hidden" name="challenge_id"; input type="hidden" name="kind";
                    input type="hidden" name="signature"; input type="hidden" name="chain";
                    button type="button" class="primary" data-kind="hpki" { (t(M::HpkiButton)) }
                    p id="card-status" role="status" {}
                    details class="secondary" {
                        summary { (t(M::JpkiHeading)) }
                        p { (t(M::JpkiHelp)) }
                        button type="button" class="secondary" data-kind="jpki" { (t(M::JpkiButton)) }
                    }
                }
            }
        } @else {
            section class="primary" aria-labelledby="hpki-heading" {
                h2 id="hpki-heading" { (t(M::HpkiButton)) }
                div class="notice warn" id="card-off" { p { (t(M::CardOff)) } }
            }
        }
        section class="secondary" aria-labelledby="other-heading" {
            h2 id="other-heading" { (t(M::OtherWays)) }
            p { (t(M::OtherWaysHelp)) }
            details class="secondary" open[page.card.is_none() || page.kept.is_some()] {
                summary { (t(M::PasswordHeading)) }
                p { (t(M::PasswordHelp)) }
                @if !page.card_only.is_empty() {
                    p { (t(M::CardOnlyServices)) }
                    ul class="card-only" { @for name in &page.card_only { li { (name) } } }
                }
                // The level this form signs in at, for scripts (the relying-party peers check the page marks it).
                @if let Some(csrf) = page.passkey {
                    (passkey_form(lang, csrf, return_to, page.card.is_some()))
                }
                form method="post" action="/login" class="password" data-assurance="password-totp" {
                    input type="hidden" name="return_to" value=(return_to);
                    label for="username" { (t(M::User)) }
                    p class="hint" id="username-hint" { (t(M::UserHint)) }
                    // "webauthn": the browser offers passkeys in this field's autofill (conditional UI, D157).
                    input id="username" name="username"
                        autocomplete=(if page.passkey.is_some() { "username webauthn" } else { "username" })
                        autocapitalize="none"
                        spellcheck="false" aria-describedby="username-hint" value=[kept_user]
                        autofocus[focus == Some(PasswordField::User)] required;
                    label for="password" { (t(M::Password)) }
                    input id="password" name="password" type="password" autocomplete="current-password"
                        autofocus[focus == Some(PasswordField::Password)] required;
                    label for="totp" { (t(M::Totp)) }
                    p class="hint" id="totp-hint" { (t(M::TotpHint)) }
                    // Not `required`: a person whose second factor was never set up has no code yet (D161).
                    input id="totp" name="totp" inputmode="numeric" autocomplete="one-time-code"
                        autocapitalize="none" aria-describedby="totp-hint"
                        autofocus[focus == Some(PasswordField::Code)];
                    button type="submit" class="secondary" { (t(M::SignInButton)) }
                }
            }
        }
    };
    let scripts = match (page.card, page.passkey) {
        (Some(c), _) => Some(Scripts { src: "/static/card-login.js", agent: &c.agent, data: BodyData::default() }),
        (None, Some(_)) => Some(Scripts { src: super::passkeys::SCRIPT_PATH, agent: "", data: BodyData::default() }),
        (None, None) => None,
    };
    // Answering a failed sign-in's POST, the page's own address: the login page going on to `return_to`.
    let switch =
        format!("/login?{}", hcpki_sso::oidc::authorize::encode(&[("return_to".into(), return_to.to_owned())]));
    let chrome = Chrome { lang, facility: PcFacility::from(page.facility), switch: Some(switch) };
    page_with(&chrome, status, t(M::SignIn), body, scripts)
}

/// The passkey sign-in (D157): a button for the browser's passkey dialog, and the form its answer is posted in
/// (with the card's script on the page, the passkey script comes beside it).
fn passkey_form(lang: Lang, csrf: &str, return_to: &str, beside_card_script: bool) -> Markup {
    let s = |ja, en| super::passkeys::say(lang, ja, en);
    html! {
        div class="passkey" {
            h3 { (s("パスキーでログイン", "Sign in with a passkey")) }
            p { (s("登録したパスキー(指紋・顔認証・PIN で解錠)でログインします。ユーザー名の欄でも候補が表示されます。",
                   "Sign in with a passkey you registered (unlocked by fingerprint, face or PIN); the user name field offers it too.")) }
            form id="passkey-login" method="post" action="/login/passkey" data-assurance="passkey"
                data-say-working=(s("認証器の操作を待っています…", "Waiting for your authenticator…"))
                data-say-cancelled=(s("パスキーでのログインは取り消されました。もう一度押すか、パスワードでログインしてください。", "The passkey sign-in was cancelled: press again, or sign in with your password.")) {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="return_to" value=(return_to);
                input type="hidden" name="id"; input type="hidden" name="clientDataJSON";
                input type="hidden" name="authenticatorData"; input type="hidden" name="signature";
                input type="hidden" name="userHandle";
                button type="button" class="secondary" id="passkey-login-button" { (s("パスキーでログイン", "Sign in with a passkey")) }
                p id="passkey-login-status" role="status" {}
            }
            @if beside_card_script { script src=(super::passkeys::SCRIPT_PATH) defer {} }
        }
    }
}
