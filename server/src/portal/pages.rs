//! Server-rendered HTML of the portal (no JavaScript needed): login, home, the person's sessions, refusal,
//! logout. Every page is in the portal's layout (`layout.rs`: skip link, a header with the brand, this PC's
//! facility and the language switch, then `<main>`) inside the shared document ([`hcpki_html::document`]),
//! styled by the stylesheet the console uses too ([`hcpki_html::STYLESHEET`], served at [`STYLESHEET_PATH`]),
//! in the request's language ([`super::lang`]). Pages are maud templates: every value is escaped there, none
//! here.

pub mod consent;
pub mod delegation;
mod enrol;
mod home;
mod layout;
mod login;
pub mod passkeys;
pub mod patient_consents;
pub mod patient_desk;
mod qr_code;
mod sessions;
pub mod signing;
mod simple;

pub use enrol::{EnrolPage, enrol};
pub use home::{HomePage, home};
// The layout's parts are the API of every portal page, also those of other modules (the problem pages).
#[allow(unused_imports, reason = "the layout API for the portal's other pages")]
pub use layout::{
    BodyData, Chrome, PcFacility, STYLESHEET_PATH, Scripts, jst, jst_seconds, jst_seconds_bare, page, page_with,
    stylesheet, with_form_target,
};
pub use login::{CardSection, LoginPage, PasswordField, PasswordProblem, card_only_services, login};
pub use sessions::sessions;
pub use simple::{
    busy, confirm_logout, continuing, internal_error, no_such_page, problem, refused, refused_ja, signed_out,
    unavailable_in,
};
