//! Signing operations started through the API, and the PIN prompt that waits for the agent's own page.
//!
//! An operation is created by `POST /v1/sign` (a login) or `POST /v1/documents` (a document signature), runs on a blocking thread (PC/SC is blocking), and
//! moves `running → pin_required → running → done | failed`. The portal follows it with
//! `GET /v1/sign/{id}`; the user types the PIN into `/pin/{id}`, a page of the agent's origin. Only
//! the origin that started an operation can see it; ids and page tokens are random 122-bit values.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use zeroize::Zeroizing;

use crate::document::Shown;
use crate::document::signer::SignerShown;
use crate::service::{AgentError, CardKind, KeyRole, PadPrompt, Pin, PinPrompt, PinQuestion, Signed};
use hcpki_agent_protocol::AuthPurpose;
use hcpki_html::Lang;

/// Where an operation is.
#[derive(Clone, Debug)]
pub enum OpState {
    Running,
    /// Waiting for the PIN: what the prompt tells the user.
    PinRequired(PinQuestion),
    Done(Box<Signed>),
    Failed(ApiFailure),
}

impl OpState {
    /// The state's name in the API: `running`, `pin_required`, `done`, `failed`.
    pub fn phase(&self) -> &'static str {
        match self {
            OpState::Running => "running",
            OpState::PinRequired { .. } => "pin_required",
            OpState::Done(_) => "done",
            OpState::Failed(_) => "failed",
        }
    }
}

/// What an operation asks the card for, as the PIN page tells the user: which site asks, and for what.
/// A typed value, not a string, so that a later purpose (signing a named document) is a new variant the page
/// must word, never free text a site could put on the agent's page.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Purpose {
    /// A challenge signed with the authentication key for the portal at `origin` (the origin the card's signature is
    /// bound to): a login, or a patient's identification at reception. `what` is the portal's typed request and is
    /// also bound into the signed message ([`AuthPurpose::message`]), so the page cannot say one and sign the other.
    Login { origin: String, what: AuthPurpose },
    /// A document signature with the signature key, asked by the page at `origin`: what the agent read from the
    /// document (never the requester's description of it) and who signs.
    Document { origin: String, shown: Arc<Shown>, signer: SignerShown },
    /// Several documents listed on one page and confirmed once, each signed on its own (D163).
    Batch { origin: String, documents: Arc<Vec<Shown>>, signer: SignerShown },
}

impl Purpose {
    /// A document signature (the signature key), not a login.
    pub fn is_document(&self) -> bool {
        matches!(self, Purpose::Document { .. } | Purpose::Batch { .. })
    }
}

/// An error as the API reports it: a stable code, the message, tries left for a wrong PIN, and for a card in
/// the wrong place the readers concerned and the kind of card found.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct ApiFailure {
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tries_left: Option<u8>,
    /// `several_cards`: the readers holding a card of the kind asked for; `wrong_card`: the reader holding the
    /// other card.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub readers: Vec<String>,
    /// `wrong_card`: the kind of card found (`hpki`, `jpki`), or `unknown` for a card the agent does not know.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<&'static str>,
}

impl From<&AgentError> for ApiFailure {
    fn from(e: &AgentError) -> Self {
        let (code, tries_left) = match e {
            AgentError::NoService(_) => ("no_service", None),
            AgentError::NoCard(_) => ("no_card", None),
            AgentError::SeveralCards { readers, .. } => {
                return ApiFailure {
                    code: "several_cards",
                    message: e.to_string(),
                    readers: readers.clone(),
                    ..Default::default()
                };
            }
            AgentError::WrongCard { found, reader, .. } => {
                return ApiFailure {
                    code: "wrong_card",
                    message: e.to_string(),
                    readers: vec![reader.clone()],
                    found: Some(found.map_or("unknown", CardKind::as_str)),
                    ..Default::default()
                };
            }
            AgentError::NoSuchReader(_) => ("no_such_reader", None),
            AgentError::WrongPin { tries_left } => ("wrong_pin", Some(*tries_left)),
            AgentError::LastTryNotConfirmed => ("last_try_not_confirmed", Some(1)),
            AgentError::PinBlocked => ("pin_blocked", Some(0)),
            AgentError::BadPinFormat(_) => ("bad_pin_format", None),
            AgentError::NoKey(_) => ("no_key", None),
            AgentError::Cancelled => ("cancelled", None),
            AgentError::NoPinPad(_) => ("no_pin_pad", None),
            AgentError::PinTimedOut(_) => ("pin_timeout", None),
            AgentError::CardRemoved => ("card_removed", None),
            AgentError::Card(_) | AgentError::CardUnreachable(_) => ("card_error", None),
            AgentError::Document(_) => ("bad_document", None),
            AgentError::NoTimeStamp(_) => ("no_time_stamp", None),
            AgentError::Session(r) => (r.code(), None),
            _ => ("internal", None),
        };
        ApiFailure { code, message: e.to_string(), tries_left, ..Default::default() }
    }
}

/// What the PIN page delivers.
#[derive(Debug)]
pub enum PinReply {
    Pin(Pin),
    /// A signing session's confirmation (D163): the person clicked "sign" on the page; no PIN.
    Confirm,
    Cancel,
}

/// What the page says of a signing session (D163): this PIN opens one, or this signature is confirmed in one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionShown {
    /// The PIN typed here also opens a session of at most `of` signatures within `hours`.
    Opens { of: u32, hours: u32 },
    /// A session's next signature (or batch): confirmed by a click, no PIN.
    Continues(crate::signing_session::Count),
}

/// One operation.
pub struct Operation {
    pub id: String,
    /// The origin that started it; nobody else may read it.
    pub origin: String,
    /// Token the PIN page embeds in its form (the page is same-origin, so this is defence in depth).
    pub page_token: String,
    /// What the card is asked for, and the kind of card asked: what the PIN page says, also after a failure.
    pub purpose: Purpose,
    pub kind: CardKind,
    pub role: KeyRole,
    /// The language the portal's page asked the agent's page to speak (its own language choice), if it said.
    pub lang: Option<Lang>,
    created: Instant,
    state: watch::Sender<OpState>,
    pin_tx: Mutex<Option<mpsc::SyncSender<PinReply>>>,
    /// Cancelled by whoever started it ([`Operation::cancel`]): a PIN question not yet asked is not asked.
    cancelled: AtomicBool,
    /// How long the operation waited for the person to type the PIN, and when it finished: with the card's own
    /// time, what [`Operation::timing`] splits the operation into.
    pin_wait: Mutex<Duration>,
    finished: Mutex<Option<Instant>>,
    /// A signing session this operation opens or continues, set once before it runs.
    session: OnceLock<SessionShown>,
}

/// Where a finished signature's time went: the card (PC/SC round trips, the card's RSA), the PIN (the agent
/// waiting for the person, window included) and the agent's own work (the rest). Reported as the status's
/// `Server-Timing` header, so a portal's page, or whoever measures a login, sees the card's share without the
/// agent's log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpTiming {
    pub card: Duration,
    pub pin: Duration,
    pub agent: Duration,
}

impl OpTiming {
    /// The `Server-Timing` header value (W3C Server Timing), milliseconds with microsecond precision.
    pub fn header(&self) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        format!(
            "card;dur={:.3};desc=\"card and reader\", pin;dur={:.3};desc=\"waiting for the PIN\", agent;dur={:.3}",
            ms(self.card),
            ms(self.pin),
            ms(self.agent)
        )
    }
}

impl std::fmt::Debug for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operation").field("id", &self.id).field("origin", &self.origin).finish_non_exhaustive()
    }
}

impl Operation {
    pub fn state(&self) -> OpState {
        self.state.borrow().clone()
    }

    /// Done or failed.
    pub fn is_finished(&self) -> bool {
        matches!(*self.state.borrow(), OpState::Done(_) | OpState::Failed(_))
    }

    /// The current state once it is no longer in `phase` (the step the client last saw), or when
    /// `timeout` passes. Subscribes before looking, so a change just before the wait is not missed.
    pub async fn wait_while(&self, phase: &str, timeout: Duration) -> OpState {
        let mut rx = self.state.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let current = rx.borrow_and_update().clone();
            if current.phase() != phase {
                return current;
            }
            if tokio::time::timeout_at(deadline, rx.changed()).await.is_err() {
                return current;
            }
        }
    }

    pub fn finish(&self, result: Result<Signed, AgentError>) {
        *self.finished.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
        let state = match result {
            Ok(signed) => OpState::Done(Box::new(signed)),
            Err(e) => OpState::Failed(ApiFailure::from(&e)),
        };
        self.state.send_replace(state);
    }

    /// A finished signature's split (None until it is done, or when it failed).
    pub fn timing(&self) -> Option<OpTiming> {
        let OpState::Done(signed) = &*self.state.borrow() else { return None };
        let finished = (*self.finished.lock().unwrap_or_else(PoisonError::into_inner))?;
        let card = Duration::from_micros(signed.card_micros);
        let pin = *self.pin_wait.lock().unwrap_or_else(PoisonError::into_inner);
        let agent = finished.saturating_duration_since(self.created).saturating_sub(card).saturating_sub(pin);
        Some(OpTiming { card, pin, agent })
    }

    /// Marks the operation as opening or continuing a signing session (before it runs; once).
    pub fn show_session(&self, shown: SessionShown) {
        let _ = self.session.set(shown);
    }

    /// The signing session this operation opens or continues, if any.
    pub fn session(&self) -> Option<SessionShown> {
        self.session.get().copied()
    }

    /// Whether the page asks for a click instead of a PIN (a signing session's signature).
    pub fn confirms(&self) -> bool {
        matches!(self.session(), Some(SessionShown::Continues(_)))
    }

    /// Counts `waited` as time spent waiting for the person's PIN.
    fn waited_for_pin(&self, waited: Duration) {
        *self.pin_wait.lock().unwrap_or_else(PoisonError::into_inner) += waited;
    }

    /// Cancels the operation for the origin that started it (its page saw the PIN window closed by hand, or
    /// started a new login): the open PIN question is answered "cancel", and one not yet asked is cancelled
    /// when the prompt comes to ask it, so the card is free for the next request at once instead of after the
    /// PIN timeout (issue #45 item 5). No try is spent; an operation past its PIN runs to its end. Whether a
    /// question was open.
    pub fn cancel(&self) -> bool {
        self.cancelled.store(true, Ordering::SeqCst);
        self.deliver(PinReply::Cancel)
    }

    /// Hands the PIN (or a cancel) to the waiting prompt. False when no PIN is being asked for.
    ///
    /// The state leaves "PIN required" here, before the page's post is answered: the redirect that follows
    /// must find the operation running (and wait for its end), not the question the PIN just answered, which
    /// it would show again as an empty form if the card thread had not woken yet. Done under the `pin_tx` lock,
    /// which the prompt also holds while it publishes a question and while it takes the answer, so this can
    /// only ever replace the question this PIN answers, never a later state.
    pub fn deliver(&self, reply: PinReply) -> bool {
        let mut pending = self.pin_tx.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(tx) = pending.take() else { return false };
        if tx.try_send(reply).is_err() {
            return false;
        }
        self.state.send_replace(OpState::Running);
        true
    }
}

/// Every live operation.
#[derive(Debug)]
pub struct Operations {
    ops: Mutex<HashMap<String, Arc<Operation>>>,
    ttl: Duration,
}

/// More unfinished operations than this means something is looping: refuse new ones.
const MAX_PENDING: usize = 64;
/// Finished operations kept for their origin to collect, oldest dropped first beyond this.
const MAX_KEPT: usize = 256;

impl Operations {
    pub fn new(ttl: Duration) -> Self {
        Operations { ops: Mutex::new(HashMap::new()), ttl }
    }

    /// A new operation for `origin` asking the `role` key of a card of `kind` for `purpose`, its page in `lang` (the
    /// portal's choice) when given, or None when too many are still waiting for a card or a PIN.
    pub fn start(
        &self,
        origin: &str,
        purpose: Purpose,
        kind: CardKind,
        role: KeyRole,
        lang: Option<Lang>,
    ) -> Option<Arc<Operation>> {
        let mut ops = self.ops.lock().unwrap_or_else(PoisonError::into_inner);
        let ttl = self.ttl;
        ops.retain(|_, op| op.created.elapsed() < ttl);
        let pending = ops.values().filter(|op| !op.is_finished()).count();
        if pending >= MAX_PENDING {
            return None;
        }
        if ops.len() >= MAX_KEPT {
            let mut finished: Vec<(Instant, String)> =
                ops.values().filter(|op| op.is_finished()).map(|op| (op.created, op.id.clone())).collect();
            finished.sort();
            for (_, id) in finished.iter().take(ops.len() + 1 - MAX_KEPT) {
                ops.remove(id);
            }
        }
        // A new login from an origin answers its earlier logins' open PIN questions for the same kind of card
        // "cancel": a question whose window was closed (or whose page was reloaded) would otherwise hold the card
        // until its timeout while the new one waits (issue #45 item 5). Only the same kind: at reception a
        // physician's HPKI login and a patient's JPKI identification run at once in two readers from one page's
        // origin, and neither may end the other. Document signatures are left alone: a login never replaces one.
        if !purpose.is_document() {
            let replaced = |op: &&Arc<Operation>| op.origin == origin && op.kind == kind && !op.purpose.is_document();
            for earlier in ops.values().filter(replaced) {
                if earlier.deliver(PinReply::Cancel) {
                    tracing::info!(op = %earlier.id, "a new login replaced this one's open PIN question");
                }
            }
        }
        let (state, _) = watch::channel(OpState::Running);
        let op = Arc::new(Operation {
            id: random_token(),
            origin: origin.to_owned(),
            page_token: random_token(),
            purpose,
            kind,
            role,
            lang,
            created: Instant::now(),
            state,
            pin_tx: Mutex::new(None),
            cancelled: AtomicBool::new(false),
            pin_wait: Mutex::new(Duration::ZERO),
            finished: Mutex::new(None),
            session: OnceLock::new(),
        });
        ops.insert(op.id.clone(), Arc::clone(&op));
        Some(op)
    }

    pub fn get(&self, id: &str) -> Option<Arc<Operation>> {
        let ops = self.ops.lock().unwrap_or_else(PoisonError::into_inner);
        ops.get(id).filter(|op| op.created.elapsed() < self.ttl).cloned()
    }

    /// Cancels every operation waiting for a PIN (its page then says it was cancelled, no try spent), e.g. when the
    /// workstation is locked: a question left open on a locked screen is not answered by whoever unlocks it later.
    /// Returns how many were waiting.
    pub fn cancel_pin_questions(&self) -> usize {
        let ops: Vec<Arc<Operation>> =
            self.ops.lock().unwrap_or_else(PoisonError::into_inner).values().cloned().collect();
        ops.iter().filter(|op| op.deliver(PinReply::Cancel)).count()
    }
}

/// A PIN prompt that publishes "PIN required" on the operation and waits for the agent's page.
pub struct WebPrompt {
    pub op: Arc<Operation>,
    pub timeout: Duration,
}

impl PinPrompt for WebPrompt {
    fn ask(&self, question: &PinQuestion) -> Result<Pin, AgentError> {
        match self.wait_reply(question)? {
            PinReply::Pin(pin) => Ok(pin),
            PinReply::Confirm | PinReply::Cancel => Err(AgentError::Cancelled),
        }
    }

    fn confirm(&self, question: &PinQuestion) -> Result<(), AgentError> {
        match self.wait_reply(question)? {
            PinReply::Confirm => Ok(()),
            // A PIN is never taken where a click was asked for: it is dropped (wiped) unused.
            PinReply::Pin(_) | PinReply::Cancel => Err(AgentError::Cancelled),
        }
    }

    fn on_pad(&self, question: &PinQuestion) -> Result<PadPrompt, AgentError> {
        if self.op.cancelled.load(Ordering::SeqCst) {
            return Err(AgentError::Cancelled);
        }
        self.op.state.send_replace(OpState::PinRequired(question.clone()));
        Ok(self.pad_prompt())
    }

    fn pad_done(&self) {
        self.op.state.send_replace(OpState::Running);
    }
}

impl WebPrompt {
    /// Publishes `question` on the operation and waits for the page's answer (a PIN, a click, or cancel).
    fn wait_reply(&self, question: &PinQuestion) -> Result<PinReply, AgentError> {
        let (tx, rx) = mpsc::sync_channel(1);
        {
            // Question and sender published together, under the lock `deliver` takes (see there).
            let mut pending = self.op.pin_tx.lock().unwrap_or_else(PoisonError::into_inner);
            // Checked under the lock `cancel` delivers under: a cancel either finds this question or is seen here.
            if self.op.cancelled.load(Ordering::SeqCst) {
                return Err(AgentError::Cancelled);
            }
            *pending = Some(tx);
            self.op.state.send_replace(OpState::PinRequired(question.clone()));
        }
        let asked = Instant::now();
        let reply = rx.recv_timeout(self.timeout);
        self.op.waited_for_pin(asked.elapsed());
        {
            let mut pending = self.op.pin_tx.lock().unwrap_or_else(PoisonError::into_inner);
            pending.take();
            self.op.state.send_replace(OpState::Running);
        }
        match reply {
            Ok(reply) => Ok(reply),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(AgentError::Cancelled),
            Err(mpsc::RecvTimeoutError::Timeout) => Err(AgentError::PinTimedOut(self.timeout.as_secs())),
        }
    }

    /// The pad's prompt: the page's language, the agent's PIN timeout (the reader counts at most 255 s).
    fn pad_prompt(&self) -> PadPrompt {
        let timeout_secs = u8::try_from(self.timeout.as_secs()).unwrap_or(u8::MAX);
        PadPrompt { lang: self.op.lang.unwrap_or(hcpki_html::Lang::Ja), timeout_secs }
    }
}

/// A terminal prompt inside an API operation: the state still says "PIN required" while the user types.
pub struct ObservedPrompt<'a> {
    pub op: Arc<Operation>,
    pub inner: &'a dyn PinPrompt,
}

impl PinPrompt for ObservedPrompt<'_> {
    fn ask(&self, question: &PinQuestion) -> Result<Pin, AgentError> {
        self.op.state.send_replace(OpState::PinRequired(question.clone()));
        let asked = Instant::now();
        let pin = self.inner.ask(question);
        self.op.waited_for_pin(asked.elapsed());
        self.op.state.send_replace(OpState::Running);
        pin
    }
}

/// A random token (UUID v4 simple form: 122 random bits from the OS).
pub fn random_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A PIN from a form field, moved into zeroizing memory at once.
pub fn pin_from_form(value: String) -> Pin {
    Pin(Zeroizing::new(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login() -> Purpose {
        Purpose::Login { origin: "https://portal.example".into(), what: AuthPurpose::Login }
    }

    #[test]
    fn finished_operations_do_not_block_new_ones() {
        let ops = Operations::new(Duration::from_secs(300));
        for _ in 0..(MAX_KEPT * 2) {
            let op = ops
                .start("https://portal.example", login(), CardKind::Jpki, KeyRole::Auth, None)
                .expect("a finished operation frees its place");
            op.finish(Err(AgentError::Cancelled));
        }
        assert!(ops.ops.lock().unwrap().len() <= MAX_KEPT);
        // Unfinished ones are capped.
        let pending: Vec<_> = (0..MAX_PENDING)
            .map(|_| ops.start("https://portal.example", login(), CardKind::Jpki, KeyRole::Auth, None).unwrap())
            .collect();
        assert!(ops.start("https://portal.example", login(), CardKind::Jpki, KeyRole::Auth, None).is_none());
        pending[0].finish(Err(AgentError::Cancelled));
        assert!(ops.start("https://portal.example", login(), CardKind::Jpki, KeyRole::Auth, None).is_some());
    }

    #[test]
    fn locking_the_workstation_cancels_the_pin_questions_only() {
        let ops = Operations::new(Duration::from_secs(300));
        let asking = ops.start("https://portal.example", login(), CardKind::Jpki, KeyRole::Auth, None).unwrap();
        let working = ops.start("https://portal.example", login(), CardKind::Hpki, KeyRole::Auth, None).unwrap();
        let (tx, rx) = mpsc::sync_channel(1);
        *asking.pin_tx.lock().unwrap() = Some(tx);
        asking.state.send_replace(OpState::PinRequired(PinQuestion::new(CardKind::Jpki, KeyRole::Auth, Some(3))));
        assert_eq!(ops.cancel_pin_questions(), 1);
        assert!(matches!(rx.try_recv(), Ok(PinReply::Cancel)));
        assert_eq!(working.state().phase(), "running", "an operation at the card is left to finish");
    }

    #[test]
    fn a_new_login_cancels_the_open_pin_question_of_the_same_origin_and_card_kind_only() {
        let ops = Operations::new(Duration::from_secs(300));
        let asking = |origin: &str, kind: CardKind| {
            let op = ops.start(origin, login(), kind, KeyRole::Auth, None).unwrap();
            let (tx, rx) = mpsc::sync_channel(1);
            *op.pin_tx.lock().unwrap() = Some(tx);
            op.state.send_replace(OpState::PinRequired(PinQuestion::new(kind, KeyRole::Auth, Some(3))));
            (op, rx)
        };
        let (_closed, closed_rx) = asking("https://portal.example", CardKind::Hpki);
        let (_other, other_rx) = asking("https://other.example", CardKind::Hpki);
        let (_patient, patient_rx) = asking("https://portal.example", CardKind::Jpki);
        assert!(closed_rx.try_recv().is_err() && other_rx.try_recv().is_err() && patient_rx.try_recv().is_err());
        let again = ops.start("https://portal.example", login(), CardKind::Hpki, KeyRole::Auth, None).unwrap();
        assert!(matches!(closed_rx.try_recv(), Ok(PinReply::Cancel)), "the window closed by hand is answered");
        assert!(other_rx.try_recv().is_err(), "another origin's question is not this page's to end");
        assert!(patient_rx.try_recv().is_err(), "a JPKI question in the other reader is another person's");
        assert_eq!(again.state().phase(), "running");
    }

    #[test]
    fn a_cancelled_operation_never_asks_for_the_pin() {
        let ops = Operations::new(Duration::from_secs(300));
        let op = ops.start("https://portal.example", login(), CardKind::Hpki, KeyRole::Auth, None).unwrap();
        assert!(!op.cancel(), "no question open yet");
        let prompt = WebPrompt { op: Arc::clone(&op), timeout: Duration::from_secs(300) };
        let asked = prompt.ask(&PinQuestion::new(CardKind::Hpki, KeyRole::Auth, Some(3)));
        assert!(matches!(asked, Err(AgentError::Cancelled)), "the question is not asked after a cancel");
        assert_eq!(op.state().phase(), "running", "never published as pin_required");
    }

    /// The page's post redirects to the page at once: by then the operation must say "running" even though
    /// the card thread (here: nobody) has not taken the PIN yet, or the page shows the answered question again
    /// as an empty form and waits for nothing (the flake pin_page once showed with a card pulled out).
    #[test]
    fn a_delivered_pin_leaves_the_question_before_the_card_thread_wakes() {
        let ops = Operations::new(Duration::from_secs(300));
        let op = ops.start("https://portal.example", login(), CardKind::Jpki, KeyRole::Auth, None).unwrap();
        assert!(!op.deliver(PinReply::Cancel), "no question asked: nothing to answer");
        assert_eq!(op.state().phase(), "running");

        let (tx, rx) = mpsc::sync_channel(1);
        *op.pin_tx.lock().unwrap() = Some(tx);
        op.state.send_replace(OpState::PinRequired(PinQuestion::new(CardKind::Jpki, KeyRole::Auth, Some(3))));
        assert!(op.deliver(PinReply::Pin(pin_from_form("1234".into()))));
        assert_eq!(op.state().phase(), "running", "the answered question is still shown");
        assert!(matches!(rx.try_recv(), Ok(PinReply::Pin(p)) if p.0.as_str() == "1234"));
        assert!(!op.deliver(PinReply::Cancel), "a question is answered once");
    }
}
