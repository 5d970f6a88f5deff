//! Which ATNA event an hcpki audit action is (D97): the DICOM PS3.15 Annex A.5.3 EventID and EventTypeCode, the
//! EventActionCode, and what the entry's target and detail name as participant objects.
//!
//! Actions are matched by name prefix, not listed one by one, so an action added later (break-glass,
//! delegation, new consent steps) falls into its family without a change here. No action is skipped: one
//! outside every family gets the generic mapping (Security Alert / Use of Restricted Function), since every
//! audited hcpki action is a privileged one or the refusal of one.

use hcpki_ca::audit::AuditEntry;

/// A coded value (`csd-code`, `codeSystemName`, `originalText`), as DICOM's CodedValueType.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Code {
    /// The code.
    pub code: &'static str,
    /// The code system (`DCM`, `IHE`, `RFC-3881`, or hcpki's own URN).
    pub system: &'static str,
    /// Its meaning.
    pub text: &'static str,
}

const fn dcm(code: &'static str, text: &'static str) -> Code {
    Code { code, system: "DCM", text }
}

/// hcpki's own code system, for object kinds RFC 3881 has no code for.
pub const HCPKI_OBJECTS: &str = "urn:hcpki:atna:object";
/// The code system of the EventTypeCode every message also carries: the hcpki action name itself.
pub const HCPKI_ACTIONS: &str = "urn:hcpki:audit:action";

/// The families of actions, each with its DICOM event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// A person signed in (portal, console, card).
    Login,
    /// A person signed out, or their session was ended.
    Logout,
    /// An OAuth/OIDC token was issued or refused (IHE IUA ITI-71 "Get Access Token").
    Token,
    /// Emergency access (break-glass).
    BreakGlass,
    /// A physician's delegation to staff, or its end.
    Delegation,
    /// A certificate was issued, revoked, held or released.
    Certificate,
    /// A patient's consent, or the link of a patient's card.
    Consent,
    /// Anything else hcpki audits.
    Other,
}

/// What the message says about one entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// The family the action fell into.
    pub family: Family,
    /// EventID.
    pub event_id: Code,
    /// The standard EventTypeCode, where one fits.
    pub event_type: Option<Code>,
    /// EventActionCode: `C`, `R`, `U`, `D` or `E`.
    pub action_code: char,
    /// EventOutcomeIndicator: 0 success, 4 minor failure (refused), 8 serious failure.
    pub outcome: u8,
    /// The participant objects.
    pub objects: Vec<Object>,
}

/// A ParticipantObjectIdentification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Object {
    /// ParticipantObjectID.
    pub id: String,
    /// ParticipantObjectTypeCode: 1 person, 2 system object.
    pub type_code: u8,
    /// ParticipantObjectTypeCodeRole (RFC 3881): 1 patient, 4 resource, 11 security user entity, 13 security
    /// resource.
    pub role: u8,
    /// ParticipantObjectIDTypeCode.
    pub id_type: Code,
}

/// Prefixes of each family, checked in this order (the first match wins: `portal.logout` before `portal.`).
const FAMILIES: &[(&str, Family)] = &[
    ("break_glass", Family::BreakGlass),
    ("break-glass", Family::BreakGlass),
    ("breakglass", Family::BreakGlass),
    ("delegation", Family::Delegation),
    ("oidc.token", Family::Token),
    // RFC 8693 exchanges are audited under their own name (`hcpki_sso::token_exchange::ACTION`), which the
    // dotted-segment rule does not read as `oidc.token`: without this line they left as "Other" events.
    ("oidc.token_exchange", Family::Token),
    ("oidc.authorize", Family::Token),
    ("oidc.par", Family::Token),
    ("portal.logout", Family::Logout),
    ("portal.sessions.end", Family::Logout),
    ("oidc.logout", Family::Logout),
    ("oidc.backchannel_logout", Family::Logout),
    ("console.logout", Family::Logout),
    ("portal.login", Family::Login),
    ("login.", Family::Login),
    ("console.login", Family::Login),
    ("cert.", Family::Certificate),
    ("consent.", Family::Consent),
    ("identity.", Family::Consent),
];

/// The family of `action`: the first prefix of [`FAMILIES`] it starts with (whole dotted segments, so
/// `certify.x` is not `cert.`), or [`Family::Other`]. A name that merely contains `break_glass` further in (an
/// IUA action such as `oidc.authorize.break_glass`) is break-glass too: emergency access must stand out.
pub fn family(action: &str) -> Family {
    if action.split('.').any(|segment| matches!(segment, "break_glass" | "break-glass" | "breakglass" | "emergency")) {
        return Family::BreakGlass;
    }
    FAMILIES
        .iter()
        .find(|(prefix, _)| {
            action
                .strip_prefix(prefix)
                .is_some_and(|rest| prefix.ends_with('.') || rest.is_empty() || rest.starts_with('.'))
        })
        .map_or(Family::Other, |(_, family)| *family)
}

/// The mapping of one audit entry.
pub fn map(entry: &AuditEntry) -> Mapping {
    let family = family(&entry.action);
    let outcome = match entry.outcome.as_str() {
        "ok" => 0,
        "denied" => 4,
        _ => 8,
    };
    let (event_id, event_type, action_code) = match family {
        Family::Login => (dcm("110114", "User Authentication"), Some(dcm("110122", "Login")), 'E'),
        Family::Logout => (dcm("110114", "User Authentication"), Some(dcm("110123", "Logout")), 'E'),
        Family::Token => (
            dcm("110114", "User Authentication"),
            Some(Code { code: "ITI-71", system: "IHE", text: "Get Access Token" }),
            'E',
        ),
        Family::BreakGlass => (
            dcm("110113", "Security Alert"),
            Some(if verb_ends(&entry.action) {
                dcm("110138", "Emergency Override Stopped")
            } else {
                dcm("110127", "Emergency Override Started")
            }),
            'E',
        ),
        Family::Delegation => {
            (dcm("110113", "Security Alert"), Some(dcm("110136", "Security Roles Changed")), verb_code(&entry.action))
        }
        Family::Certificate => (
            dcm("110113", "Security Alert"),
            Some(dcm("110137", "User Security Attributes Changed")),
            verb_code(&entry.action),
        ),
        Family::Consent => (dcm("110110", "Patient Record"), None, verb_code(&entry.action)),
        Family::Other => (dcm("110113", "Security Alert"), Some(dcm("110132", "Use of Restricted Function")), 'E'),
    };
    Mapping { family, event_id, event_type, action_code, outcome, objects: objects(family, entry) }
}

/// Whether the action's last segment ends something (`…end`, `…revoke`, `…stop`, `…withdrawn`).
fn verb_ends(action: &str) -> bool {
    verb_code(action) == 'D'
}

/// EventActionCode from the verb in the action's last segment: create, read, update, delete, or execute.
fn verb_code(action: &str) -> char {
    let verb = action.rsplit('.').next().unwrap_or(action);
    let starts = |words: &[&str]| words.iter().any(|w| verb.starts_with(w));
    if starts(&["issue", "create", "grant", "add", "start", "request", "sign", "link", "register"]) {
        'C'
    } else if starts(&["read", "show", "list", "view", "open", "document"]) {
        'R'
    } else if starts(&["revoke", "end", "remove", "delete", "withdraw", "stop", "expire", "disable"]) {
        'D'
    } else if starts(&["hold", "unhold", "update", "replace", "correct", "change", "renew", "attest"]) {
        'U'
    } else {
        'E'
    }
}

/// The participant objects of an entry: who or what its target is, and for consents the patient.
fn objects(family: Family, entry: &AuditEntry) -> Vec<Object> {
    let target = entry.target.trim();
    let mut objects = Vec::new();
    let detail: serde_json::Value = serde_json::from_str(&entry.detail).unwrap_or(serde_json::Value::Null);
    if family == Family::Consent
        && let Some(patient) = detail.get("patient").and_then(serde_json::Value::as_str)
    {
        objects.push(Object {
            id: patient.to_owned(),
            type_code: 1,
            role: 1,
            id_type: Code { code: "2", system: "RFC-3881", text: "Patient Number" },
        });
    }
    if target.is_empty() || target == "-" {
        return objects;
    }
    let user = Code { code: "11", system: "RFC-3881", text: "User Identifier" };
    let object = match family {
        Family::Login | Family::Logout | Family::Delegation => {
            Object { id: target.to_owned(), type_code: 1, role: 11, id_type: user }
        }
        Family::Token => Object {
            id: target.to_owned(),
            type_code: 2,
            role: 13,
            id_type: Code { code: "oidc-client", system: HCPKI_OBJECTS, text: "OAuth client identifier" },
        },
        Family::Certificate => Object {
            id: target.to_owned(),
            type_code: 2,
            role: 13,
            id_type: Code { code: "certificate-serial", system: HCPKI_OBJECTS, text: "Certificate serial number" },
        },
        Family::Consent => Object {
            id: target.to_owned(),
            type_code: 2,
            role: 4,
            id_type: Code { code: "consent", system: HCPKI_OBJECTS, text: "Consent identifier" },
        },
        Family::BreakGlass | Family::Other => Object {
            id: target.to_owned(),
            type_code: 2,
            role: 13,
            id_type: Code { code: "audit-target", system: HCPKI_OBJECTS, text: "hcpki audit target" },
        },
    };
    // A consent's target may be the patient key itself (identity links): once is enough.
    if !objects.iter().any(|o| o.id == object.id) {
        objects.push(object);
    }
    objects
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(action: &str, outcome: &str, target: &str, detail: &str) -> AuditEntry {
        AuditEntry {
            seq: 1,
            at_ms: 0,
            actor: "portal:pk".into(),
            action: action.into(),
            target: target.into(),
            outcome: outcome.into(),
            detail: detail.into(),
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    #[test]
    fn families_by_prefix_including_actions_not_written_yet() {
        for (action, expected) in [
            ("portal.login", Family::Login),
            ("login.card", Family::Login),
            ("portal.logout", Family::Logout),
            ("portal.sessions.end", Family::Logout),
            ("oidc.logout", Family::Logout),
            ("oidc.token", Family::Token),
            ("oidc.token.exchange", Family::Token),
            (hcpki_sso::token_exchange::ACTION, Family::Token),
            ("oidc.authorize", Family::Token),
            ("break_glass.use", Family::BreakGlass),
            ("oidc.authorize.break_glass", Family::BreakGlass),
            ("portal.emergency.confirm", Family::BreakGlass),
            ("delegation.grant", Family::Delegation),
            ("delegation.end", Family::Delegation),
            ("cert.issue", Family::Certificate),
            ("cert.revoke", Family::Certificate),
            ("consent.signed", Family::Consent),
            ("consent.future_step", Family::Consent),
            ("identity.linked", Family::Consent),
            ("facility.register", Family::Other),
            ("certify.something", Family::Other),
            ("oidc.tokens", Family::Other),
            ("portal.login_page", Family::Other),
            ("", Family::Other),
        ] {
            assert_eq!(family(action), expected, "{action}");
        }
    }

    #[test]
    fn event_codes_action_codes_and_outcomes() {
        let login = map(&entry("portal.login", "ok", "alice", "{}"));
        assert_eq!(
            (login.event_id.code, login.event_type.map(|c| c.code), login.outcome),
            ("110114", Some("110122"), 0)
        );
        let refused = map(&entry("oidc.token", "denied", "client-1", "{}"));
        assert_eq!((refused.event_type.map(|c| (c.code, c.system)), refused.outcome), (Some(("ITI-71", "IHE")), 4));
        assert_eq!(map(&entry("cert.issue", "failed", "01ab", "{}")).outcome, 8);
        assert_eq!(map(&entry("cert.issue", "ok", "01ab", "{}")).action_code, 'C');
        assert_eq!(map(&entry("cert.revoke", "ok", "01ab", "{}")).action_code, 'D');
        assert_eq!(map(&entry("cert.unhold", "ok", "01ab", "{}")).action_code, 'U');
        assert_eq!(map(&entry("consent.shown", "ok", "c1", "{}")).action_code, 'R');
        assert_eq!(map(&entry("consent.withdrawn", "ok", "c1", "{}")).action_code, 'D');
        let stop = map(&entry("break_glass.end", "ok", "-", "{}"));
        assert_eq!(stop.event_type.map(|c| c.code), Some("110138"));
        let other = map(&entry("facility.register", "ok", "F1", "{}"));
        assert_eq!((other.event_id.code, other.event_type.map(|c| c.code)), ("110113", Some("110132")));
    }

    #[test]
    fn consents_name_the_patient_and_empty_targets_no_object() {
        let m = map(&entry("consent.signed", "ok", "c-7", r#"{"patient":"pk-1","client":"svc"}"#));
        assert_eq!(m.objects.len(), 2);
        assert_eq!((m.objects[0].id.as_str(), m.objects[0].type_code, m.objects[0].role), ("pk-1", 1, 1));
        assert_eq!((m.objects[1].id.as_str(), m.objects[1].role), ("c-7", 4));
        let linked = map(&entry("identity.linked", "ok", "pk-1", r#"{"patient":"pk-1"}"#));
        assert_eq!(linked.objects.len(), 1, "the patient once");
        assert!(map(&entry("portal.logout", "ok", "-", "{}")).objects.is_empty());
        assert!(map(&entry("consent.read", "ok", "", "not json")).objects.is_empty());
    }
}
