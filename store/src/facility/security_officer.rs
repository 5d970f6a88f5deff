//! A facility's named security officer (セキュリティ責任者; issue #50 item 5): the person the network's incident
//! response calls when an address or certificate of the facility is involved. Kept beside the facility, not in
//! any certificate.

/// Most characters of the officer's name.
pub const MAX_NAME: usize = 100;
/// Most characters of how to reach them (a telephone number, a mail address, a department).
pub const MAX_CONTACT: usize = 200;

/// A security officer as the registry records them: a name and how to reach them, each trimmed, non-empty,
/// without control characters.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SecurityOfficer {
    name: String,
    contact: String,
}

/// Why an officer was refused; each says what to type instead.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecurityOfficerError {
    /// The name or the contact is empty.
    #[error("the security officer's {0} is empty: give the person's name and how to reach them (telephone or mail)")]
    Empty(&'static str),
    /// Too long.
    #[error("the security officer's {field} has {chars} characters: use at most {max}")]
    TooLong {
        /// `name` or `contact`.
        field: &'static str,
        /// How many it has.
        chars: usize,
        /// How many it may have.
        max: usize,
    },
    /// A control character (a line break, a tab, …).
    #[error("the security officer's {0} holds a control character: write it on one line")]
    Control(&'static str),
}

impl SecurityOfficer {
    /// The officer as typed.
    pub fn parse(name: &str, contact: &str) -> Result<Self, SecurityOfficerError> {
        Ok(Self { name: field("name", name, MAX_NAME)?, contact: field("contact", contact, MAX_CONTACT)? })
    }

    /// Their name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How to reach them.
    pub fn contact(&self) -> &str {
        &self.contact
    }
}

fn field(what: &'static str, text: &str, max: usize) -> Result<String, SecurityOfficerError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(SecurityOfficerError::Empty(what));
    }
    if text.chars().any(char::is_control) {
        return Err(SecurityOfficerError::Control(what));
    }
    match text.chars().count() {
        n if n > max => Err(SecurityOfficerError::TooLong { field: what, chars: n, max }),
        _ => Ok(text.to_owned()),
    }
}

/// A facility's officer as stored, with who named them and when.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct NamedSecurityOfficer {
    /// The officer.
    #[serde(flatten)]
    pub officer: SecurityOfficer,
    /// Who recorded them (audit actor form).
    pub set_by: String,
    /// When (Unix seconds).
    pub set_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_officer_is_a_name_and_a_contact_on_one_line_each() {
        let o = SecurityOfficer::parse(" 山田 太郎 ", " 03-1234-5678 ").unwrap();
        assert_eq!((o.name(), o.contact()), ("山田 太郎", "03-1234-5678"));
        assert_eq!(SecurityOfficer::parse("", "x"), Err(SecurityOfficerError::Empty("name")));
        assert_eq!(SecurityOfficer::parse("x", "  "), Err(SecurityOfficerError::Empty("contact")));
        assert_eq!(SecurityOfficer::parse("a\nb", "x"), Err(SecurityOfficerError::Control("name")));
        let long = "あ".repeat(MAX_NAME + 1);
        assert!(matches!(SecurityOfficer::parse(&long, "x"), Err(SecurityOfficerError::TooLong { chars: 101, .. })));
    }
}
