//! Signing sessions and batches at the API (D163): what a document request asks for (`"session"`), what the agent
//! decides before the page opens ([`Plan`]), and the prompt that stands between the card and the page
//! ([`Authoriser`]): the PIN typed once, or a click inside a session, and the same PIN handed to each document of a
//! batch — never to another card. The decisions are [`crate::signing_session`]'s; this is their adapter.

use std::sync::{Mutex, PoisonError};

use axum::http::StatusCode;
use zeroize::Zeroizing;

use super::reply;
use super::state::AppState;
use crate::config::PinEntry;
use crate::service::{AgentError, CardKind, PadPrompt, Pin, PinPrompt, PinQuestion};
use crate::signing_session::{Binding, Count, Limits, Opened, Refusal, SignatureMode, SigningSessions};
use hcpki_agent_protocol::presence as contract;

/// `"session"` in a document request: the portal page's binding (a value of its sign-in, 43 base64url characters),
/// and either the key of the session it continues or the facility's limits for the one it may open.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SessionAsk {
    binding: String,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    max_signatures: Option<u32>,
    #[serde(default)]
    max_hours: Option<u32>,
}

/// What the agent will do about a session for one request, decided before the page opens.
#[derive(Clone, Debug)]
pub(super) enum Plan {
    /// The PIN is asked for this request alone.
    None,
    /// The PIN asked for this (single) document also opens a session within `limits`.
    Open { binding: Binding, limits: Limits },
    /// The session `key` signs, confirmed by a click; `next` is the first signature's count.
    Continue { key: String, binding: Binding, next: Count },
}

/// The plan for a request of `documents` documents from `origin`, or the refusal to answer (logged).
pub(super) fn plan(
    state: &AppState,
    origin: &str,
    kind: CardKind,
    documents: u32,
    ask: Option<SessionAsk>,
    now: i64,
) -> Result<Plan, reply::Refusal> {
    let Some(ask) = ask else { return Ok(Plan::None) };
    if !contract::valid_token(&ask.binding) {
        return Err((
            StatusCode::BAD_REQUEST,
            "bad_session",
            format!("session.binding must be {} base64url characters (the portal page's)", contract::TOKEN_LEN),
        ));
    }
    let binding = Binding { origin: origin.to_owned(), portal: ask.binding };
    if let Some(key) = ask.key {
        return match state.sessions.peek(&key, &binding, kind, documents, now) {
            Ok(next) => Ok(Plan::Continue { key, binding, next }),
            Err(refusal) => {
                tracing::warn!(%origin, code = refusal.code(), "signing session refused: {refusal}");
                Err((StatusCode::CONFLICT, refusal.code(), refusal.to_string()))
            }
        };
    }
    let asked =
        Limits { max_signatures: ask.max_signatures.unwrap_or(u32::MAX), max_hours: ask.max_hours.unwrap_or(u32::MAX) };
    let limits = state.session_limits.lowered_by(asked);
    // Off, a batch (its one PIN covers its listed documents only), or a PIN typed into the terminal (whose
    // confirmation page would not be the agent's): the PIN is asked as always.
    if limits.is_off() || documents != 1 || state.pin_entry != PinEntry::Web {
        return Ok(Plan::None);
    }
    Ok(Plan::Open { binding, limits })
}

impl Plan {
    /// What the page says of the session.
    pub(super) fn shown(&self) -> Option<super::operations::SessionShown> {
        use super::operations::SessionShown;
        match self {
            Plan::None => None,
            Plan::Open { limits, .. } => {
                Some(SessionShown::Opens { of: limits.max_signatures, hours: limits.max_hours })
            }
            Plan::Continue { next, .. } => Some(SessionShown::Continues(*next)),
        }
    }

    /// The mode name for the log.
    pub(super) fn name(&self) -> &'static str {
        match self {
            Plan::None => "pin",
            Plan::Open { .. } => "pin, opens a session",
            Plan::Continue { .. } => "session",
        }
    }
}

/// The PIN prompt of one request's documents: asks the page once (the PIN, or a click inside a session), and gives
/// every later document of a batch the same PIN, for the same card only.
pub(super) struct Authoriser<'a> {
    inner: &'a dyn PinPrompt,
    plan: &'a Plan,
    sessions: &'a SigningSessions,
    now: i64,
    held: Mutex<Held>,
}

#[derive(Default)]
struct Held {
    pin: Option<Zeroizing<String>>,
    card_id: Option<String>,
    /// Each signature's session count, in order (Continue only).
    counts: Vec<Count>,
    asked: bool,
}

impl<'a> Authoriser<'a> {
    pub(super) fn new(inner: &'a dyn PinPrompt, plan: &'a Plan, sessions: &'a SigningSessions, now: i64) -> Self {
        Authoriser { inner, plan, sessions, now, held: Mutex::new(Held::default()) }
    }

    /// Each document's mode, in order, once all `items` are signed; a session opened by this request's PIN is
    /// opened here (its key goes to the page in the first mode).
    pub(super) fn modes(&self, items: u32, card_id: &str, kind: CardKind) -> Vec<SignatureMode> {
        let held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let counts = |i: usize| held.counts.get(i).copied();
        match self.plan {
            Plan::Open { binding, limits } => {
                let opened = held
                    .pin
                    .as_ref()
                    .and_then(|pin| self.sessions.open(binding.clone(), card_id, kind, pin, *limits, self.now));
                match opened {
                    Some(Opened { key, count }) => {
                        tracing::info!(card_id, of = count.of, expires_at = count.expires_at, "signing session opened");
                        vec![SignatureMode::Session { count, key: Some(key) }]
                    }
                    // A PIN typed on the reader's pad never reached the agent: no session.
                    None => vec![SignatureMode::Single],
                }
            }
            _ if items == 1 => {
                vec![counts(0).map_or(SignatureMode::Single, |count| SignatureMode::Session { count, key: None })]
            }
            _ => (0..items).map(|i| SignatureMode::Batch { item: i + 1, items, session: counts(i as usize) }).collect(),
        }
    }

    /// After a failure: a session's signature that failed for anything but the person's own cancel or a timeout
    /// ends the session (a card pulled, a PIN blocked or changed, a card error).
    pub(super) fn failed(&self, error: &AgentError) {
        if let Plan::Continue { key, .. } = self.plan
            && !matches!(error, AgentError::Cancelled | AgentError::PinTimedOut(_))
            && self.sessions.end(key)
        {
            tracing::warn!(error = %error, "signing session ended by a failed signature");
        }
    }

    fn session_pin(&self, key: &str, binding: &Binding, card_id: &str, held: &mut Held) -> Result<Pin, AgentError> {
        match self.sessions.use_one(key, binding, card_id, self.now) {
            Ok((count, pin)) => {
                held.counts.push(count);
                Ok(Pin(pin))
            }
            Err(refusal) => {
                tracing::warn!(card_id, code = refusal.code(), "signing session refused: {refusal}");
                Err(AgentError::Session(refusal))
            }
        }
    }
}

impl PinPrompt for Authoriser<'_> {
    fn ask(&self, question: &PinQuestion) -> Result<Pin, AgentError> {
        let card_id = question.card_id.clone().unwrap_or_default();
        let asked = self.held.lock().unwrap_or_else(PoisonError::into_inner).asked;
        if !asked {
            // The one question of the request, to the page: a click inside a session, else the PIN.
            let pin = match self.plan {
                Plan::Continue { key, binding, .. } => {
                    self.inner.confirm(question)?;
                    let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
                    self.session_pin(key, binding, &card_id, &mut held)?
                }
                Plan::None | Plan::Open { .. } => self.inner.ask(question)?,
            };
            let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
            held.pin = Some(Zeroizing::new(pin.0.as_str().to_owned()));
            held.card_id = Some(card_id);
            held.asked = true;
            return Ok(pin);
        }
        // A later document of the batch: the same card, or nothing.
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        if held.card_id.as_deref() != Some(card_id.as_str()) {
            return Err(AgentError::Session(Refusal::OtherCard));
        }
        if let Plan::Continue { key, binding, .. } = self.plan {
            return self.session_pin(key, binding, &card_id, &mut held);
        }
        let pin = held.pin.as_ref().map(|p| Pin(Zeroizing::new(p.as_str().to_owned())));
        pin.ok_or(AgentError::Cancelled)
    }

    fn on_pad(&self, question: &PinQuestion) -> Result<PadPrompt, AgentError> {
        // A session's PIN is the agent's; a reader's pad takes each PIN on its keys (no session was opened there).
        if matches!(self.plan, Plan::Continue { .. }) {
            return Err(AgentError::Session(Refusal::Off));
        }
        self.inner.on_pad(question)
    }

    fn pad_done(&self) {
        self.inner.pad_done();
    }
}
