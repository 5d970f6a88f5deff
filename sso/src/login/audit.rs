//! The `login.card` audit entry, built the same way by every caller (portal handler, CLI): who, which card,
//! and for a refusal the reason code and message. The caller appends it (`Store::append_audit`).

use super::{CardLoginError, VerifiedCard};
use hcpki_ca::audit::{AuditEvent, Outcome};
use serde_json::json;

/// The audit action of a card login.
pub const ACTION: &str = "login.card";

/// The audit event for one card-login outcome at `origin`. `client` says who asked (e.g. `ip:192.0.2.7` or a
/// CLI actor): it is the actor of a refusal, and recorded in the detail of a success, whose actor is the card
/// holder (`card:<person_key>`). A success says which table mapped the hcRole (`hc_role_source`: `built-in` or
/// `configured`, D39) or, for an unmapped text, what the operator would add.
pub fn audit_event(result: &Result<VerifiedCard, CardLoginError>, origin: &str, client: &str) -> AuditEvent {
    match result {
        Ok(card) => AuditEvent {
            actor: format!("card:{}", card.person_key),
            action: ACTION.into(),
            target: card.person_key.clone(),
            outcome: Outcome::Ok,
            detail: json!({
                "kind": card.kind,
                "name": card.subject.name(),
                "hc_role": card.subject.role().map(|r| r.code()),
                "hc_role_source": card.role_source,
                "unrecognised_role": card.unrecognised_role,
                "unrecognised_role_hint": card.unrecognised_role.as_deref().map(super::hc_role::unrecognised_hint),
                "issuer": card.issuer,
                "serial": card.serial,
                "not_after": card.not_after,
                "revocation": card.revocation,
                "origin": origin,
                "client": client,
            }),
        },
        Err(e) => AuditEvent {
            actor: client.to_owned(),
            action: ACTION.into(),
            target: "card-login".into(),
            outcome: Outcome::Denied,
            detail: json!({ "reason": e.code(), "message": e.to_string(), "origin": origin }),
        },
    }
}
