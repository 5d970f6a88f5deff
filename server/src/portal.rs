//! The SSO portal (issue #6, D24): its own HTTPS listener that requests (never requires) a facility PC
//! certificate, SSO sessions, the password + TOTP login, the home page of the services a person may open,
//! and the OpenID Connect provider's endpoints ([`hcpki_sso::oidc`], adapted by `crate::http::oidc`). Its URLs
//! are declared with every other listener's in `crate::http::routes`.
//!
//! Card login (HPKI/JPKI, [`card_login`]) starts sessions through [`session::Sessions::create`] the same way
//! the password + TOTP login does.
//!
//! Layout (issue #25): [`PortalState`] (`state`) is what every handler reaches; the handlers (`handlers`, the
//! card login's endpoints, self-service) sit above it and share `respond`; this file only declares the modules
//! and points at what other modules use, so nothing here is imported back.

pub mod break_glass;
pub mod card_login;
#[cfg(test)]
mod clock_tests;
pub mod consent;
pub mod cookie;
pub mod delegation;
pub mod facility;
mod handlers;
pub mod housekeeping;
mod idle_lock;
pub mod lang;
pub mod lending_endpoints;
pub mod login_form;
mod pages;
mod passkey_login;
pub mod passkeys;
mod password_login;
pub mod path_id;
pub mod patient_desk;
pub mod problem;
mod reasons;
pub mod request_body;
mod respond;
pub mod self_service;
pub mod server_timing;
pub mod signing;
mod state;
mod terminal;
mod words;

pub use handlers::{catch_panic, csrf_guard, enrol, home, login, login_page, logout, method_not_allowed, not_found};
/// The admission gate's busy page (D138), which `crate::app::admission` answers portal pages with.
pub use pages::busy as busy_page;
pub use pages::consent::SCRIPT_PATH as CONSENT_SCRIPT_PATH;
/// Times in 日本時間, also on the console's pages (one date format, issue #45 item 1).
pub use pages::jst;
pub use pages::signing::SCRIPT_PATH as SIGN_REQUEST_SCRIPT_PATH;
pub use pages::{STYLESHEET_PATH, stylesheet};
// Japan time as every page shows it (the console's audit log too, issue #45 item 3).
pub use pages::{jst_seconds, jst_seconds_bare};
pub use respond::{confirm_logout, end_session, problem_page, refused_page, signed_out};
pub use state::PortalState;
