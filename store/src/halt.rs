//! The issuance stop switch (issue #46 item 5, D135): a halt with its reason and who ordered it, the approvals to
//! resume it, and [`decide`], the pure rule that turns one more approval into "recorded" or "resume".
//!
//! The values live beside the store (like [`crate::operator`]) because the rows hold them and the store applies
//! [`decide`] inside the approving transaction: two replicas approving at the same moment queue on the audit head
//! lock, so the second one sees the first one's approval.

use crate::records::Actor;
use hcpki_model::UnixTime;
use std::fmt;
use std::time::Duration;

/// How many different named people must approve before issuance resumes.
pub const APPROVALS_NEEDED: usize = 2;

/// The longest a reason may be, in characters: a sentence or two for the audit log and the refusal pages.
const REASON_MAX_CHARS: usize = 500;

/// Why issuance was halted, as the operator wrote it: 1–500 characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct HaltReason(String);

impl HaltReason {
    /// Parse a reason as typed (surrounding space trimmed).
    pub fn parse(text: &str) -> Result<Self, HaltRefusal> {
        let t = text.trim();
        let n = t.chars().count();
        if n == 0 || n > REASON_MAX_CHARS || t.chars().any(char::is_control) {
            return Err(HaltRefusal::Reason);
        }
        Ok(Self(t.to_owned()))
    }

    /// The text form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for HaltReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A named person who may approve a resume: the audit actor of an operator by certificate (`operator:<name>`),
/// a person signed in with an operator console grant (`person:<person key>`), or a CLI run under a personal
/// login (`cli:<login>`). Not `cli:root`, `cli:uid:N`, `cli:unknown`, `system` or anything anonymous: those
/// name a machine or a shared account, and two approvals from one of them prove nothing about two people.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Approver(String);

impl Approver {
    /// The approver `actor` stands for, if it names one person.
    pub fn named(actor: &Actor) -> Result<Self, HaltRefusal> {
        let text = actor.as_str();
        let named = match text.split_once(':') {
            Some(("operator" | "person", rest)) => !rest.is_empty(),
            Some(("cli", login)) => {
                !login.is_empty() && !matches!(login, "root" | "unknown") && !login.starts_with("uid:")
            }
            _ => false,
        };
        if named { Ok(Self(text.to_owned())) } else { Err(HaltRefusal::Unnamed(text.to_owned())) }
    }

    /// The stored form (the actor text).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Read back a stored approver (trusted: it passed [`Approver::named`] when written).
    pub(crate) fn stored(text: String) -> Self {
        Self(text)
    }
}

impl fmt::Display for Approver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One approval to resume a halt.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Approval {
    /// Who approved.
    pub approver: Approver,
    /// When, in Unix seconds.
    pub at: i64,
}

/// A halt in force, with every approval given for it so far (expired ones too; [`decide`] skips those).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Halt {
    /// The halt's number, counting from 1 over the installation's life.
    pub id: i64,
    /// Why.
    pub reason: HaltReason,
    /// Who ordered it (audit actor).
    pub halted_by: String,
    /// When, in Unix seconds.
    pub halted_at: i64,
    /// The approvals to resume, oldest first.
    pub approvals: Vec<Approval>,
}

impl Halt {
    /// The approvals still in force at `now` under `ttl`.
    pub fn live_approvals(&self, now: UnixTime, ttl: Duration) -> impl Iterator<Item = &Approval> {
        let oldest = now.minus(ttl).as_secs();
        self.approvals.iter().filter(move |a| a.at > oldest)
    }
}

/// What one more approval does to a halt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Recorded; more approvals are needed.
    Record,
    /// Recorded, and it is the last one needed: issuance resumes.
    Resume,
}

/// What an approval did, as the store recorded it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ApprovalOutcome {
    /// Recorded; `still_needed` more different people must approve before the approvals expire.
    Recorded {
        /// The halt, with this approval.
        halt: Halt,
        /// How many more approvals are needed.
        still_needed: usize,
    },
    /// Issuance resumed: this approval was the last one needed.
    Resumed {
        /// The halt that ended, with every approval.
        halt: Halt,
    },
}

/// Decide what `approver`'s approval at `now` does to `halt`, counting only approvals younger than `ttl`.
pub fn decide(halt: &Halt, approver: &Approver, now: UnixTime, ttl: Duration) -> Result<Decision, HaltRefusal> {
    let live: Vec<&Approval> = halt.live_approvals(now, ttl).collect();
    if live.iter().any(|a| a.approver == *approver) {
        return Err(HaltRefusal::SameApprover(approver.to_string()));
    }
    if live.len() + 1 >= APPROVALS_NEEDED { Ok(Decision::Resume) } else { Ok(Decision::Record) }
}

/// Why a halt or an approval was refused. Each message says what to do.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum HaltRefusal {
    /// The reason is empty, too long or holds control characters.
    #[error("give the halt a reason of 1–500 characters on one line (it is shown to every refused requester)")]
    Reason,
    /// Issuance is already halted.
    #[error(
        "issuance is already halted (halt {id}, by {by}): see `hcpki ca halt-status`; the reason of the halt in \
         force stays"
    )]
    AlreadyHalted {
        /// The halt in force.
        id: i64,
        /// Who ordered it.
        by: String,
    },
    /// There is no halt to approve the end of.
    #[error("issuance is not halted: there is nothing to resume")]
    NotHalted,
    /// The approver's earlier approval of this halt is still in force.
    #[error(
        "{0} has already approved resuming this halt: a second, different operator must approve \
         (`hcpki ca resume` under their own login, or `POST /api/v1/ca/halt/approve` with their own operator \
         certificate)"
    )]
    SameApprover(String),
    /// The actor names no person (root, a numeric uid, the system, anonymous).
    #[error(
        "{0} is not a named person: approve as yourself (an operator certificate, the console signed in with an \
         operator grant, or `hcpki ca resume` under your own login, not root)"
    )]
    Unnamed(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn halt(approvals: &[(&str, i64)]) -> Halt {
        Halt {
            id: 1,
            reason: HaltReason::parse("mis-issuance under investigation").unwrap(),
            halted_by: "operator:alice".into(),
            halted_at: 1_000,
            approvals: approvals
                .iter()
                .map(|(who, at)| Approval { approver: Approver::stored((*who).into()), at: *at })
                .collect(),
        }
    }

    fn approver(actor: &str) -> Result<Approver, HaltRefusal> {
        Approver::named(&Actor(actor.into()))
    }

    #[test]
    fn only_named_people_approve() {
        for ok in ["operator:alice", "person:JP-HPKI:123", "cli:alice"] {
            assert!(approver(ok).is_ok(), "{ok}");
        }
        for bad in ["cli:root", "cli:uid:0", "cli:uid:1000", "cli:unknown", "cli:", "system", "api:anonymous", "-"] {
            assert_eq!(approver(bad), Err(HaltRefusal::Unnamed(bad.into())), "{bad}");
        }
    }

    #[test]
    fn two_different_people_resume_and_one_person_twice_does_not() {
        let ttl = Duration::from_secs(3600);
        let now = UnixTime::from_secs(2_000);
        let alice = approver("operator:alice").unwrap();
        let bob = approver("cli:bob").unwrap();
        assert_eq!(decide(&halt(&[]), &alice, now, ttl), Ok(Decision::Record));
        assert_eq!(decide(&halt(&[("operator:alice", 1_900)]), &bob, now, ttl), Ok(Decision::Resume));
        assert_eq!(
            decide(&halt(&[("operator:alice", 1_900)]), &alice, now, ttl),
            Err(HaltRefusal::SameApprover("operator:alice".into()))
        );
    }

    #[test]
    fn expired_approvals_do_not_count() {
        let ttl = Duration::from_secs(3600);
        let alice = approver("operator:alice").unwrap();
        let bob = approver("operator:bob").unwrap();
        // Alice approved 3,600 s ago: expired, so Bob's is the first again, and Alice may approve anew.
        let h = halt(&[("operator:alice", 1_000)]);
        assert_eq!(decide(&h, &bob, UnixTime::from_secs(4_600), ttl), Ok(Decision::Record));
        assert_eq!(decide(&h, &alice, UnixTime::from_secs(4_600), ttl), Ok(Decision::Record));
        assert_eq!(decide(&h, &bob, UnixTime::from_secs(4_599), ttl), Ok(Decision::Resume));
    }

    #[test]
    fn reasons_are_one_line_and_bounded() {
        assert!(HaltReason::parse("  CA key suspected compromised ").is_ok());
        assert!(HaltReason::parse(&"あ".repeat(500)).is_ok());
        for bad in ["", "   ", "two\nlines", &"x".repeat(501)] {
            assert_eq!(HaltReason::parse(bad), Err(HaltRefusal::Reason));
        }
    }
}
