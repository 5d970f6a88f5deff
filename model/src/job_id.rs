//! A long operation's identifier (D38): `j` and 16 lower-case hex digits, drawn at random when the job is made.

use std::fmt;

/// A job's ID such as `j0a1b2c3d4e5f6071`, held exactly as the `jobs.id` column stores it.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JobId(String);

/// A text that is no job ID. A caller shows it as "no such job", as a well-formed but unknown ID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a job ID {0:?}: expected j and 16 lower-case hexadecimal digits, as `hcpki job list` shows")]
pub struct InvalidJobId(pub String);

const RANDOM_OCTETS: usize = 8;

impl JobId {
    /// The ID made of `octets` drawn at random (the caller draws them: this crate holds no random source).
    pub fn from_random(octets: [u8; RANDOM_OCTETS]) -> Self {
        Self(format!("j{}", hex::encode(octets)))
    }

    /// The ID written exactly as stored and shown: no trimming, no case folding.
    pub fn parse(text: &str) -> Result<Self, InvalidJobId> {
        let digits = text.strip_prefix('j').unwrap_or_default();
        if digits.len() == 2 * RANDOM_OCTETS && digits.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(Self(text.to_owned()))
        } else {
            Err(InvalidJobId(text.to_owned()))
        }
    }

    /// The stored text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Debug-formatted as the text (`"j…"`), as the `String` it replaces was, so logs and messages stay the same.
impl fmt::Debug for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Serialized as the text, as the `String` it replaces was (the jobs API's JSON is unchanged).
impl serde::Serialize for JobId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drawn_id_parses_back_and_other_text_does_not() {
        let id = JobId::from_random([0x0a, 1, 2, 3, 4, 5, 6, 0xff]);
        assert_eq!(id.as_str(), "j0a010203040506ff");
        assert_eq!(JobId::parse(id.as_str()), Ok(id));
        for bad in
            ["", "j", "jtest", "J0a010203040506ff", "j0A010203040506ff", "j0a010203040506f", " j0a010203040506ff"]
        {
            assert_eq!(JobId::parse(bad), Err(InvalidJobId(bad.to_owned())), "{bad:?}");
        }
    }
}
