//! The audit events the store writes alongside its rows: actions, targets and
//! detail objects, in one place so both backends record exactly the same.

use crate::audit::{AuditEvent, Outcome};
use crate::facility::{Facility, FacilityState, NewFacility, Transition};
use crate::operator::OperatorRecord;
use crate::records::{AcmeAccount, AcmeOrder, CredentialRecord, HeldRequest, HeldState};
use crate::{Actor, AuthorityRecord, CertificateRecord, Registration};
use hcpki_model::CaName;
use serde_json::json;
use sha2::{Digest, Sha256};

/// `facility.register`.
pub(super) fn register(f: &Facility, actor: &Actor) -> AuditEvent {
    AuditEvent {
        actor: actor.as_str().to_owned(),
        action: "facility.register".into(),
        target: f.id.to_string(),
        outcome: Outcome::Ok,
        detail: json!({
            "name": f.name,
            "kind": f.kind.as_str(),
            "medical_code": f.medical_code.as_ref().map(|c| c.as_str()),
        }),
    }
}

/// `facility.address.add`, denied: an application (CSV import) asked for addresses another facility holds, and
/// was not registered. The target is the applicant's name: it has no ID yet.
pub(super) fn register_refused(new: &NewFacility, refused: &Registration, actor: &Actor) -> AuditEvent {
    let detail = match refused {
        Registration::AddressHeld { asked, holder, held } => {
            json!({ "prefix": asked.to_string(), "holder": holder.as_str(), "held": held.to_string(),
                "reason": "the address is allocated to another facility" })
        }
        _ => json!({}),
    };
    AuditEvent {
        actor: actor.as_str().to_owned(),
        action: "facility.address.add".into(),
        target: new.name.clone(),
        outcome: Outcome::Denied,
        detail,
    }
}

/// `facility.<verb>`.
pub(super) fn transition(
    f: &Facility,
    t: Transition,
    to: FacilityState,
    reason: Option<&str>,
    actor: &Actor,
) -> AuditEvent {
    AuditEvent {
        actor: actor.as_str().to_owned(),
        action: format!("facility.{}", t.verb()),
        target: f.id.to_string(),
        outcome: Outcome::Ok,
        detail: json!({ "from": f.state.as_str(), "to": to.as_str(), "reason": reason }),
    }
}

/// `cert.issue`, ok.
pub(super) fn issued(c: &CertificateRecord, actor: &Actor) -> AuditEvent {
    AuditEvent {
        actor: actor.as_str().to_owned(),
        action: "cert.issue".into(),
        target: c.serial.to_string(),
        outcome: Outcome::Ok,
        detail: json!({
            "ca": c.ca.as_str(),
            "profile": c.profile,
            "facility": c.facility.as_ref().map(|f| f.as_str()),
            "subject": c.subject,
            "sans": c.sans,
            "not_after": c.not_after,
        }),
    }
}

/// `cert.issue`, failed.
pub(super) fn issue_failed(c: &CertificateRecord, reason: &str, actor: &Actor) -> AuditEvent {
    AuditEvent {
        actor: actor.as_str().to_owned(),
        action: "cert.issue".into(),
        target: c.serial.to_string(),
        outcome: Outcome::Failed,
        detail: json!({
            "ca": c.ca.as_str(),
            "profile": c.profile,
            "facility": c.facility.as_ref().map(|f| f.as_str()),
            "subject": c.subject,
            "reason": reason,
        }),
    }
}

/// `ca.create`.
pub(super) fn ca_create(a: &AuthorityRecord, actor: &Actor) -> AuditEvent {
    AuditEvent {
        actor: actor.as_str().to_owned(),
        action: "ca.create".into(),
        target: a.name.to_string(),
        outcome: Outcome::Ok,
        detail: json!({
            "key_uri": a.key_uri,
            "parent": a.parent.map(CaName::as_str),
            "cert_sha256": hex::encode(Sha256::digest(&a.cert_der)),
        }),
    }
}

/// `enroll.credential.create` (never the secret, nor its hash).
pub(super) fn credential_created(c: &CredentialRecord, actor: &Actor) -> AuditEvent {
    AuditEvent {
        actor: actor.as_str().to_owned(),
        action: "enroll.credential.create".into(),
        target: c.id.clone(),
        outcome: Outcome::Ok,
        detail: json!({
            "facility": c.facility.as_str(),
            "protocol": c.protocol.as_str(),
            "profiles": c.profiles,
            "expires_at": c.expires_at,
        }),
    }
}

/// `enroll.credential.<verb>` (use, release, revoke) on a credential.
pub(super) fn credential_event(
    verb: &str,
    c: &CredentialRecord,
    detail: serde_json::Value,
    actor: &Actor,
) -> AuditEvent {
    let mut detail = detail;
    if let Some(o) = detail.as_object_mut() {
        o.insert("facility".into(), c.facility.as_str().into());
        o.insert("protocol".into(), c.protocol.as_str().into());
    }
    AuditEvent {
        actor: actor.as_str().to_owned(),
        action: format!("enroll.credential.{verb}"),
        target: c.id.clone(),
        outcome: Outcome::Ok,
        detail,
    }
}

/// `acme.account.<action>`.
pub(super) fn acme_account(action: &str, a: &AcmeAccount, actor: &Actor) -> AuditEvent {
    AuditEvent {
        actor: actor.as_str().to_owned(),
        action: format!("acme.account.{action}"),
        target: a.id.to_string(),
        outcome: Outcome::Ok,
        detail: json!({
            "facility": a.facility.as_str(),
            "profile": a.profile.as_str(),
            "credential": a.credential,
            "thumbprint": a.thumbprint,
            "status": a.status,
        }),
    }
}

/// `acme.order.create`.
pub(super) fn acme_order(o: &AcmeOrder, actor: &Actor) -> AuditEvent {
    AuditEvent {
        actor: actor.as_str().to_owned(),
        action: "acme.order.create".into(),
        target: o.id.to_string(),
        outcome: Outcome::Ok,
        detail: json!({ "account": o.account, "identifiers": o.identifiers }),
    }
}

/// `cert.revoke`; for a facility PC certificate, with the people whose SSO sessions from that PC ended with it.
pub(super) fn revoked(
    c: &CertificateRecord,
    reason: u8,
    sessions_ended: Option<&[String]>,
    actor: &Actor,
) -> AuditEvent {
    let mut detail = json!({
        "ca": c.ca.as_str(),
        "profile": c.profile,
        "facility": c.facility.as_ref().map(|f| f.as_str()),
        "reason": reason,
    });
    if let (Some(persons), Some(o)) = (sessions_ended, detail.as_object_mut()) {
        o.insert("sessions_ended".into(), persons.len().into());
        o.insert("session_persons".into(), persons.into());
    }
    AuditEvent {
        actor: actor.as_str().to_owned(),
        action: "cert.revoke".into(),
        target: c.serial.to_string(),
        outcome: Outcome::Ok,
        detail,
    }
}

/// `cert.unhold`: a certificate on hold is valid again (its facility resumed).
pub(super) fn unheld(c: &CertificateRecord, actor: &Actor) -> AuditEvent {
    AuditEvent {
        actor: actor.as_str().to_owned(),
        action: "cert.unhold".into(),
        target: c.serial.to_string(),
        outcome: Outcome::Ok,
        detail: json!({ "ca": c.ca.as_str(), "profile": c.profile, "facility": c.facility.as_ref().map(|f| f.as_str()) }),
    }
}

/// `scep.request.<verb>` (hold, approve, reject) on a held SCEP request.
pub(super) fn held_event(verb: &str, r: &HeldRequest, actor: &Actor) -> AuditEvent {
    let mut detail = json!({
        "facility": r.facility.as_str(),
        "profile": r.profile.as_str(),
        "transaction_id": r.transaction_id,
        "state": r.state.as_str(),
    });
    if let (Some(o), HeldState::Issued(serial)) = (detail.as_object_mut(), &r.state) {
        o.insert("serial".into(), serial.as_str().into());
    }
    if let (Some(o), HeldState::Rejected(reason)) = (detail.as_object_mut(), &r.state) {
        o.insert("reason".into(), reason.as_str().into());
    }
    AuditEvent {
        actor: actor.as_str().to_owned(),
        action: format!("scep.request.{verb}"),
        target: r.id.clone(),
        outcome: Outcome::Ok,
        detail,
    }
}

/// `operator.<verb>` (add, role, disable).
pub(super) fn operator_event(verb: &str, o: &OperatorRecord, actor: &Actor) -> AuditEvent {
    AuditEvent {
        actor: actor.as_str().to_owned(),
        action: format!("operator.{verb}"),
        target: o.name.to_string(),
        outcome: Outcome::Ok,
        detail: json!({ "role": o.role.as_str() }),
    }
}
