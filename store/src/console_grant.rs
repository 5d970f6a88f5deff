//! Console grants (D42): which person, signed in to the SSO portal, may use the web console, and as what.
//!
//! A grant names a person by the portal's person key (a card holder's key, or `pwd:<name>` for a password +
//! TOTP account, D34) and gives one role: `operator`, `auditor`, or `facility-admin` of one facility. The role
//! is mapped onto the admin API's principals (`hcpki_ca::access::Principal`), so the one decision table applies.

use crate::facility::FacilityId;
use crate::operator::OperatorRole;
use crate::person_key::{PersonKey, PersonKeyError};
use std::fmt;

/// What a console grant lets its person do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsoleRole {
    /// An operator or an auditor (card login only): decided as the admin API's operator of that role.
    Staff(OperatorRole),
    /// The administrator of one facility (a login at one of that facility's PCs).
    FacilityAdmin(FacilityId),
}

impl ConsoleRole {
    /// Parse `operator`, `auditor` or `facility-admin` (which needs `facility`; the others refuse one).
    pub fn parse(role: &str, facility: Option<&str>) -> Result<Self, ConsoleGrantError> {
        match (role.trim(), facility.map(str::trim).filter(|f| !f.is_empty())) {
            ("operator", None) => Ok(Self::Staff(OperatorRole::Operator)),
            ("auditor", None) => Ok(Self::Staff(OperatorRole::Auditor)),
            ("facility-admin", Some(f)) => {
                f.parse().map(Self::FacilityAdmin).map_err(|_| ConsoleGrantError::Facility(f.to_owned()))
            }
            ("facility-admin", None) => Err(ConsoleGrantError::FacilityMissing),
            ("operator" | "auditor", Some(_)) => Err(ConsoleGrantError::FacilityNotExpected),
            (other, _) => Err(ConsoleGrantError::Role(other.to_owned())),
        }
    }

    /// The stored role name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Staff(role) => role.as_str(),
            Self::FacilityAdmin(_) => "facility-admin",
        }
    }

    /// The facility of a facility admin.
    pub fn facility(&self) -> Option<&FacilityId> {
        match self {
            Self::FacilityAdmin(f) => Some(f),
            Self::Staff(_) => None,
        }
    }
}

/// `{"role": NAME, "facility": ID or null}`, the shape the CLI and the API take.
impl serde::Serialize for ConsoleRole {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("role", self.name())?;
        map.serialize_entry("facility", &self.facility().map(FacilityId::as_str))?;
        map.end()
    }
}

impl fmt::Display for ConsoleRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FacilityAdmin(id) => write!(f, "facility-admin of {id}"),
            other => f.write_str(other.name()),
        }
    }
}

/// A person key as granted ([`PersonKey`]), in its stored form. A card key without its trust anchor (from
/// before migration 0021) is refused: no login produces it any more (issue #24, item 10).
pub fn parse_person_key(text: &str) -> Result<String, ConsoleGrantError> {
    Ok(PersonKey::parse(text)?.to_string())
}

/// A grant as stored.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ConsoleGrant {
    /// The portal person key.
    pub person_key: String,
    /// The role.
    #[serde(flatten)]
    pub role: ConsoleRole,
    /// A note for people reading the list (e.g. the person's name); never used to decide.
    pub note: String,
    /// When it was made or last changed.
    pub granted_at: i64,
    /// Who made it (audit actor).
    pub granted_by: String,
}

/// Why a grant cannot be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConsoleGrantError {
    /// Not one of the three roles.
    #[error("unknown console role {0:?}: use operator, auditor or facility-admin")]
    Role(String),
    /// A facility admin grant without its facility.
    #[error("a facility-admin grant needs the facility: add --facility ID")]
    FacilityMissing,
    /// An operator or auditor grant naming a facility.
    #[error("operator and auditor grants are for every facility: drop --facility")]
    FacilityNotExpected,
    /// Not a facility ID.
    #[error("{0:?} is not a facility ID")]
    Facility(String),
    /// Not a person key, or one of the form before trust-anchor binding; the message says which key to use.
    #[error(transparent)]
    PersonKey(#[from] PersonKeyError),
    /// The note is too long or has control characters.
    #[error("the note must be at most 200 characters without control characters")]
    Note,
}

/// A note as given: at most 200 characters, no control characters.
pub fn parse_note(text: &str) -> Result<String, ConsoleGrantError> {
    let t = text.trim();
    if t.chars().count() <= 200 && !t.chars().any(char::is_control) {
        Ok(t.to_owned())
    } else {
        Err(ConsoleGrantError::Note)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse() {
        assert_eq!(ConsoleRole::parse("operator", None), Ok(ConsoleRole::Staff(OperatorRole::Operator)));
        assert_eq!(ConsoleRole::parse("auditor", Some("")), Ok(ConsoleRole::Staff(OperatorRole::Auditor)));
        assert_eq!(ConsoleRole::parse("facility-admin", None), Err(ConsoleGrantError::FacilityMissing));
        assert_eq!(ConsoleRole::parse("operator", Some("X")), Err(ConsoleGrantError::FacilityNotExpected));
        assert!(matches!(ConsoleRole::parse("root", None), Err(ConsoleGrantError::Role(_))));
        assert!(matches!(ConsoleRole::parse("facility-admin", Some("nope")), Err(ConsoleGrantError::Facility(_))));
        let f = FacilityId::from_number(1).unwrap();
        assert_eq!(ConsoleRole::parse("facility-admin", Some(f.as_str())), Ok(ConsoleRole::FacilityAdmin(f)));
        assert!(parse_person_key("a\nb").is_err());
        assert!(parse_person_key("hpki:HCPKI TEST:Test000001").is_err(), "no trust anchor: from before 0021");
        let bound = format!("hpki:{}:HCPKI TEST:Test000001", "0a".repeat(16));
        assert_eq!(parse_person_key(&bound).as_deref(), Ok(bound.as_str()));
        assert!(parse_person_key("").is_err());
        assert_eq!(parse_person_key(" pwd:alice ").as_deref(), Ok("pwd:alice"));
        assert!(parse_note("x\ny").is_err());
        let g = ConsoleGrant {
            person_key: "pwd:a".into(),
            role: ConsoleRole::Staff(OperatorRole::Auditor),
            note: String::new(),
            granted_at: 1,
            granted_by: "x".into(),
        };
        let v = serde_json::to_value(&g).unwrap();
        assert_eq!((&v["role"], &v["facility"]), (&serde_json::json!("auditor"), &serde_json::Value::Null), "{v}");
    }
}
