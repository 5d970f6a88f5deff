//! The page a facility's admin sees when the facility's PC certificate is refused because the operating body
//! has suspended or retired the facility (issue #45 item 1): what happened, the reason the operator gave (it is
//! written for the facility), and whom to contact, in Japanese first; the access decision's own English line
//! was a dead end. The refusal itself is audited where the certificate was refused.

use super::i18n::{Lang, M};
use super::labels;
use super::view;
use crate::app::AppState;
use axum::http::StatusCode;
use axum::response::Response;
use axum_server::tls::TlsInfo;
use hcpki_ca::access::Principal;
use hcpki_ca::facility::FacilityState;
use maud::html;

/// The page for a refused console sign-in or session (`refusal`) made at a PC whose certificate is held: a
/// suspended or retired facility's admin signed in by card or password sees what happened to the facility and
/// whom to ask, not "session ended" (issue #45). `None` when the connection's certificate is not such a one.
/// The sign-in gives no access either way: this only chooses the words of the refusal.
pub async fn for_session(state: &AppState, lang: Lang, tls: Option<&TlsInfo>) -> Option<Response> {
    let der = tls?.peer_certificates.first()?;
    page(state, lang, der).await
}

/// The page for certificate `der` when it is a facility certificate of a suspended or retired facility; `None`
/// otherwise (the caller shows the general refusal).
pub async fn page(state: &AppState, lang: Lang, der: &[u8]) -> Option<Response> {
    use der::Decode;
    let cert = x509_cert::Certificate::from_der(der).ok()?;
    let octets = cert.tbs_certificate().serial_number().as_bytes();
    let record = state.admin.pipeline().certificates().certificate_with_serial_octets(octets).await.ok()??;
    // Only the certificate this CA issued, byte for byte, tells whose facility it is.
    if record.der.as_deref() != Some(der) {
        return None;
    }
    let f = state.admin.registrar().facilities().facility(record.facility.as_ref()?).await.ok()??;
    let (title, what, next) = match f.state {
        FacilityState::Suspended => (M::HeldSuspendedTitle, M::HeldSuspended, M::HeldSuspendedNext),
        FacilityState::Retired => (M::HeldRetiredTitle, M::HeldRetired, M::HeldRetiredNext),
        _ => return None,
    };
    let t = |m: M| m.text(lang);
    let body = html! {
        div class="error" role="alert" id="held" {
            p { (t(what)) }
            p { (t(next)) }
        }
        dl {
            dt { (t(M::Id)) } dd { code { (f.id.as_str()) } }
            dt { (t(M::Name)) } dd { (f.name) }
            dt { (t(M::State)) } dd { (labels::state_badge(f.state, lang)) }
            dt { (t(M::StateReason)) } dd id="held-reason" { (f.state_reason.as_deref().unwrap_or("-")) }
            dt { (t(M::Changed)) } dd { (view::jst(f.state_changed_at, lang)) }
        }
    };
    Some(view::page(lang, &Principal::Anonymous, StatusCode::FORBIDDEN, t(title), body))
}
