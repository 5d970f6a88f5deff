//! CA key rollover (issue #47, D145): a rollover's record, its states, and [`advance`], the pure rule that says
//! which step a rollover in a given state may take.
//!
//! The values live beside the store (like [`crate::halt`]) because the rows hold them and the store applies
//! [`advance`] inside the writing transaction: two replicas switching the same CA at once queue on the audit head
//! lock, so the second one sees the first one's switch and is refused.
//!
//! ```text
//!   start ──▶ published ──switch──▶ switched ──retire──▶ retired
//!                 │
//!                 └──abort──▶ aborted
//! ```

use hcpki_model::CaName;
use std::fmt;

/// Where a rollover stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RolloverState {
    /// The new generation exists and is served beside the old one; the old one still issues.
    Published,
    /// The new generation issues; the old one is still served and answered for (CRLs, OCSP, chains).
    Switched,
    /// The old generation is out of service: its certificates have ended, or it was declared compromised.
    Retired,
    /// The new generation was dropped before it issued anything.
    Aborted,
}

impl RolloverState {
    /// Every state, in the order a rollover passes them.
    pub const ALL: [Self; 4] = [Self::Published, Self::Switched, Self::Retired, Self::Aborted];

    /// Stable text form, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Published => "published",
            Self::Switched => "switched",
            Self::Retired => "retired",
            Self::Aborted => "aborted",
        }
    }

    /// The state named exactly by its stored form.
    pub fn from_stored(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Whether a rollover in this state is still under way (at most one per CA).
    pub fn is_open(self) -> bool {
        matches!(self, Self::Published | Self::Switched)
    }
}

impl fmt::Display for RolloverState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A step an operator asks of the open rollover of a CA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RolloverStep {
    /// The new generation starts issuing (published → switched).
    Switch,
    /// The old generation leaves service (switched → retired); `compromised` when it is forced early.
    Retire {
        /// Declared compromised: retired although certificates of it are still valid.
        compromised: bool,
    },
    /// The new generation is dropped (published → aborted).
    Abort,
}

impl RolloverStep {
    /// The audit action of this step.
    pub fn action(self) -> &'static str {
        match self {
            Self::Switch => "ca.rollover.switch",
            Self::Retire { .. } => "ca.rollover.retire",
            Self::Abort => "ca.rollover.abort",
        }
    }

    /// The verb as typed (`hcpki ca rollover CA <verb>`).
    pub fn verb(self) -> &'static str {
        match self {
            Self::Switch => "switch",
            Self::Retire { .. } => "retire",
            Self::Abort => "abort",
        }
    }
}

/// A rollover as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RolloverRecord {
    /// The CA rolled over.
    pub ca: CaName,
    /// The new generation's number: 2 for the first rollover (`init` made generation 1).
    pub generation: u32,
    /// Where it stands.
    pub state: RolloverState,
    /// The new generation's key (`file:…` or `pkcs11:…`).
    pub key_uri: String,
    /// The new generation's certificate (DER).
    pub cert_der: Vec<u8>,
    /// The old generation's key.
    pub old_key_uri: String,
    /// The old generation's certificate (DER).
    pub old_cert_der: Vec<u8>,
    /// When it was started (Unix seconds) and by whom.
    pub started_at: i64,
    /// Who started it.
    pub started_by: String,
    /// When the new generation started issuing.
    pub switched_at: Option<i64>,
    /// When it was retired or aborted, and by whom.
    pub ended_at: Option<i64>,
    /// Who retired or aborted it.
    pub ended_by: Option<String>,
    /// Retired early because the old key was declared compromised.
    pub compromised: bool,
    /// A root rollover's link certificates (D160); `None` for an issuing CA's.
    pub links: Option<RootLinks>,
}

/// A root rollover's link certificates, RFC 4210 §4.4's root key update (D160): each root generation certifies the
/// other's key under the one name, so a relying party holding either root builds a path to either generation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RootLinks {
    /// The new root's key certified by the old root (DER): the path from the old root to the new generation.
    pub new_with_old: Vec<u8>,
    /// The old root's key certified by the new root (DER): the path from the new root to the old generation.
    pub old_with_new: Vec<u8>,
}

/// A rollover step refused. Nothing changed; the refusal is audited.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RolloverRefusal {
    /// A rollover of this CA is under way already: finish it (switch, then retire) or abort it first.
    #[error(
        "a rollover of the {ca} CA to generation {generation} is under way already ({state}): finish it \
         (`hcpki ca rollover {ca} switch`, then `retire`) or abort it (`hcpki ca rollover {ca} abort`, before the \
         switch) before starting another"
    )]
    AlreadyOpen {
        /// The CA.
        ca: CaName,
        /// The open rollover's new generation.
        generation: u32,
        /// Its state.
        state: RolloverState,
    },
    /// No rollover of this CA is under way, so there is nothing to switch, retire or abort.
    #[error("no rollover of the {ca} CA is under way: start one first (`hcpki ca rollover {ca} start`)")]
    NotOpen {
        /// The CA.
        ca: CaName,
    },
    /// The step does not apply in the rollover's state (e.g. abort after the switch, retire before it).
    #[error("the rollover of the {ca} CA to generation {generation} is {state}: {hint}")]
    WrongState {
        /// The CA.
        ca: CaName,
        /// The open rollover's new generation.
        generation: u32,
        /// Its state.
        state: RolloverState,
        /// What the operator can do instead.
        hint: &'static str,
    },
}

/// The state `step` takes an open rollover in `state` to, or why it may not.
pub fn advance(
    ca: CaName,
    generation: u32,
    state: RolloverState,
    step: RolloverStep,
) -> Result<RolloverState, RolloverRefusal> {
    let wrong = |hint| RolloverRefusal::WrongState { ca, generation, state, hint };
    match (state, step) {
        (RolloverState::Published, RolloverStep::Switch) => Ok(RolloverState::Switched),
        (RolloverState::Published, RolloverStep::Abort) => Ok(RolloverState::Aborted),
        (RolloverState::Switched, RolloverStep::Retire { .. }) => Ok(RolloverState::Retired),
        (RolloverState::Published, RolloverStep::Retire { .. }) => {
            Err(wrong("switch first (`switch`): the old generation still issues, so it cannot be retired"))
        }
        (RolloverState::Switched, RolloverStep::Switch) => Err(wrong("it has switched already; `retire` comes next")),
        (RolloverState::Switched, RolloverStep::Abort) => Err(wrong(
            "the new generation has issued certificates already, so it cannot be aborted; roll over again \
             instead, or retire the old generation",
        )),
        (RolloverState::Retired | RolloverState::Aborted, _) => Err(RolloverRefusal::NotOpen { ca }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_and_step() {
        use RolloverState::*;
        use RolloverStep::*;
        let retire = Retire { compromised: false };
        let table = [
            (Published, Switch, Some(Switched)),
            (Published, Abort, Some(Aborted)),
            (Published, retire, None),
            (Switched, retire, Some(Retired)),
            (Switched, Retire { compromised: true }, Some(Retired)),
            (Switched, Switch, None),
            (Switched, Abort, None),
            (Retired, Switch, None),
            (Aborted, retire, None),
        ];
        for (state, step, want) in table {
            assert_eq!(advance(CaName::Router, 2, state, step).ok(), want, "{state} {step:?}");
        }
        let e = advance(CaName::Pc, 3, Switched, Abort).unwrap_err().to_string();
        assert!(e.contains("cannot be aborted"), "{e}");
    }

    #[test]
    fn stored_forms_round_trip() {
        for s in RolloverState::ALL {
            assert_eq!(RolloverState::from_stored(s.as_str()), Some(s));
        }
        assert_eq!(RolloverState::from_stored("Published"), None);
    }
}
