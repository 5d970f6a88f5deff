//! Operators: the people who approve facilities and hand out credentials through the admin API.
//!
//! An operator is a row (name, role, disabled or not) plus any number of `operator` certificates from the
//! server CA naming them (`hcpki_ca::profile::operator`). The certificate proves *who*; the row says *what
//! they may do* and can be switched off at once (decision D18).

use std::fmt;
use std::str::FromStr;

/// An operator's name: 1–64 characters of `a–z 0–9 . _ -`, starting with a letter or digit.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct OperatorName(String);

impl OperatorName {
    /// Parse a name as typed (surrounding space trimmed; case kept, so `Alice` is refused, not folded).
    pub fn parse(text: &str) -> Result<Self, OperatorError> {
        let t = text.trim();
        let ok = (1..=64).contains(&t.len())
            && t.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && t.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        if ok { Ok(Self(t.to_owned())) } else { Err(OperatorError::Name(t.to_owned())) }
    }

    /// The text form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OperatorName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an operator may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OperatorRole {
    /// Approves, rejects, suspends, resumes and retires facilities; manages credentials.
    Operator,
    /// Reads everything, changes nothing.
    Auditor,
}

impl OperatorRole {
    /// Every role.
    pub const ALL: [OperatorRole; 2] = [Self::Operator, Self::Auditor];

    /// Stable text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Operator => "operator",
            Self::Auditor => "auditor",
        }
    }
}

impl fmt::Display for OperatorRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OperatorRole {
    type Err = OperatorError;
    fn from_str(s: &str) -> Result<Self, OperatorError> {
        match s.trim() {
            "operator" => Ok(Self::Operator),
            "auditor" => Ok(Self::Auditor),
            other => Err(OperatorError::Role(other.to_owned())),
        }
    }
}

/// An operator as stored.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OperatorRecord {
    /// The name (certificate CN and URI).
    pub name: OperatorName,
    /// The role.
    pub role: OperatorRole,
    /// Who added the operator.
    pub created_by: String,
    /// Unix seconds.
    pub created_at: i64,
    /// When the operator was disabled; a disabled operator's certificates no longer authenticate.
    pub disabled_at: Option<i64>,
    /// Who disabled the operator.
    pub disabled_by: Option<String>,
}

/// Why an operator could not be added, read or used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum OperatorError {
    /// Malformed name.
    #[error("operator name {0:?} must be 1–64 characters of a–z 0–9 . _ -, starting with a letter or digit")]
    Name(String),
    /// Unknown role.
    #[error("unknown operator role {0:?}: use operator or auditor")]
    Role(String),
    /// No such operator.
    #[error("no operator {0}: check the name with `hcpki operator list`")]
    Unknown(String),
    /// The operator is disabled and stays so.
    #[error("operator {0} is disabled; disabled operators are never re-enabled: add the person under a new name")]
    Disabled(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_roles_parse() {
        for good in ["alice", "a", "ops.tokyo-1", "x_y", "0day"] {
            assert!(OperatorName::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "Alice", "-x", ".x", "a b", "a/b", "名前", &"a".repeat(65)] {
            assert!(OperatorName::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(" operator ".parse::<OperatorRole>(), Ok(OperatorRole::Operator));
        assert_eq!("auditor".parse::<OperatorRole>(), Ok(OperatorRole::Auditor));
        assert!("admin".parse::<OperatorRole>().is_err());
    }
}
