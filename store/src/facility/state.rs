//! The facility lifecycle: `applied → approved → active → suspended → retired`, or `applied → rejected`.
//!
//! ```text
//!   applied ──approve──▶ approved ──first certificate──▶ active
//!      │                    │   ▲                          │  ▲
//!      │                    │   └───────────┐              │  │ resume
//!      │                 suspend         (resume)       suspend│
//!      │                    ▼               │              ▼  │
//!      │                 suspended ◀────────┴──────────── suspended
//!      ├──reject──▶ rejected
//!      └──retire──▶ retired ◀──retire── (approved, active, suspended)
//! ```
//! Only `approved` and `active` facilities may receive certificates. `rejected` and `retired` are both final and
//! behave alike (no certificates, no sign-in, the ID never reused); they differ only in what they tell a reader
//! (D132). Rejections made before `rejected` existed stay `retired`.

use std::fmt;
use std::str::FromStr;

/// Lifecycle state of a facility.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FacilityState {
    /// Applied; waiting for an operator.
    Applied,
    /// Approved by an operator; may enroll.
    Approved,
    /// Has at least one certificate.
    Active,
    /// Temporarily barred (e.g. security incident, unpaid); certificates held.
    Suspended,
    /// Permanently gone (closed, merged; before D132 also rejected). Its ID is never reused.
    Retired,
    /// An application an operator turned down. Final, like `Retired`; its ID is never reused.
    Rejected,
}

/// An operator or system action on a facility's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// applied → approved.
    Approve,
    /// applied → rejected.
    Reject,
    /// approved → active, when the first certificate is issued.
    Activate,
    /// approved/active → suspended.
    Suspend,
    /// suspended → active.
    Resume,
    /// any but retired or rejected → retired.
    Retire,
}

/// A transition that the current state does not allow.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("cannot {action} a facility that is {from}")]
pub struct TransitionError {
    /// The action attempted.
    pub action: &'static str,
    /// The current state.
    pub from: FacilityState,
}

impl FacilityState {
    /// Every state, in lifecycle order.
    pub const ALL: [FacilityState; 6] =
        [Self::Applied, Self::Approved, Self::Active, Self::Suspended, Self::Retired, Self::Rejected];

    /// The stable text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Approved => "approved",
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Retired => "retired",
            Self::Rejected => "rejected",
        }
    }

    /// Whether certificates may be issued to a facility in this state.
    pub fn may_enroll(self) -> bool {
        matches!(self, Self::Approved | Self::Active)
    }

    /// The state after `t`, or why it is not allowed.
    pub fn apply(self, t: Transition) -> Result<Self, TransitionError> {
        use FacilityState::*;
        let next = match (self, t) {
            (Applied, Transition::Approve) => Approved,
            (Applied, Transition::Reject) => Rejected,
            (Approved, Transition::Activate) => Active,
            (Approved | Active, Transition::Suspend) => Suspended,
            (Suspended, Transition::Resume) => Active,
            (Applied | Approved | Active | Suspended, Transition::Retire) => Retired,
            _ => return Err(TransitionError { action: t.verb(), from: self }),
        };
        Ok(next)
    }
}

impl Transition {
    /// The verb, for messages and audit actions.
    pub fn verb(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::Activate => "activate",
            Self::Suspend => "suspend",
            Self::Resume => "resume",
            Self::Retire => "retire",
        }
    }
}

impl fmt::Display for FacilityState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A state name that is not one of ours (only from a damaged database).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown facility state {0:?}")]
pub struct UnknownState(pub String);

impl FromStr for FacilityState {
    type Err = UnknownState;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| UnknownState(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use FacilityState::*;

    #[test]
    fn transition_table() {
        let all = FacilityState::ALL;
        let ts = [
            Transition::Approve,
            Transition::Reject,
            Transition::Activate,
            Transition::Suspend,
            Transition::Resume,
            Transition::Retire,
        ];
        let allowed = [
            (Applied, Transition::Approve, Approved),
            (Applied, Transition::Reject, Rejected),
            (Approved, Transition::Activate, Active),
            (Approved, Transition::Suspend, Suspended),
            (Active, Transition::Suspend, Suspended),
            (Suspended, Transition::Resume, Active),
            (Applied, Transition::Retire, Retired),
            (Approved, Transition::Retire, Retired),
            (Active, Transition::Retire, Retired),
            (Suspended, Transition::Retire, Retired),
        ];
        for s in all {
            for t in ts {
                let expect = allowed.iter().find(|(a, b, _)| *a == s && *b == t).map(|x| x.2);
                assert_eq!(s.apply(t).ok(), expect, "{s:?} {t:?}");
            }
        }
        assert!(!Suspended.may_enroll() && !Applied.may_enroll() && Active.may_enroll());
        assert!(!Rejected.may_enroll() && !Retired.may_enroll());
        for s in all {
            assert_eq!(s.as_str().parse::<FacilityState>(), Ok(s));
        }
    }
}
