//! The broker: the single owner of every reader. HPKI and JPKI cards go through it alone, so two
//! vendor stacks never fight over a reader (the demonstration's finding).
//!
//! * One [`Slot`] per reader. Its operation lock is held for the whole of an operation (PIN status,
//!   PIN entry, sign), so operations on one card are serialised while two cards in two readers work
//!   at the same time. Each APDU sequence also runs in one PC/SC transaction, which keeps other
//!   programs' APDUs out of it.
//! * What front ends list comes from a snapshot ([`Slot::info`]) that is never behind the operation
//!   lock: listing cards does not wait for a user typing a PIN.
//! * Certificates are cached by card identity. A card already identified in its reader costs no
//!   certificate read; a card re-inserted is recognised with three APDUs (select, select EF, read the
//!   certificate's last 32 bytes) instead of a full read.
//!
//! ```text
//!  watcher thread ──ReaderChange──▶ Broker ──CardEvent──▶ broadcast (SSE, portal logout)
//!  API / CLI ──sign──▶ Broker ─▶ Slot(op lock) ─▶ Connection::begin (PC/SC txn) ─▶ Driver ─▶ card
//! ```

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::broadcast;

use crate::driver::{self, BasicAttributes, Driver, DriverError, PadEntry, PinSource, PinStatus, TextPin, registry};
use crate::pin_pad::{PadUse, PinLength};
use crate::readers::{ReaderBackend, ReaderWatcher};
use crate::service::{
    AgentError, CardEvent, CardInfo, CardKind, CardService, DeriveToBeSigned, DocumentSignRequest, KeyRole, Pin,
    PinPrompt, PinQuestion, ReaderInfo, SignRequest, Signed,
};
use crate::transport::pcsc::ReaderChange;
use crate::transport::{Connection, Session, TransportError};

/// Cards whose certificates are remembered after removal (a shared workstation sees a few per shift).
const CACHE_CARDS: usize = 32;
/// Cached cards tried when recognising a re-inserted card: each try costs three APDUs.
const RECOGNISE_TRIES: usize = 4;
/// How long the watcher blocks in PC/SC before checking whether it should stop.
const WATCH_TICK: Duration = Duration::from_millis(500);

/// Owns every reader; see the module documentation.
pub struct Broker {
    backend: Box<dyn ReaderBackend>,
    slots: Mutex<Vec<Arc<Slot>>>,
    cache: Mutex<VecDeque<CachedCard>>,
    events: broadcast::Sender<CardEvent>,
    /// Every APDU and all card time since the broker started (identification included).
    totals: Mutex<OpStats>,
    /// Whether a reader's PIN pad takes the PIN (agent.toml `pin_pad`).
    pad_use: PadUse,
}

impl std::fmt::Debug for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Broker").field("readers", &lock(&self.slots).len()).finish_non_exhaustive()
    }
}

/// One reader.
struct Slot {
    name: String,
    /// Held for a whole operation; owns the connection.
    op: Mutex<SlotCard>,
    /// What is known about the card, for listing without the operation lock.
    info: Mutex<SlotInfo>,
}

/// The card side of a slot, behind the operation lock.
#[derive(Default)]
struct SlotCard {
    conn: Option<Box<dyn Connection>>,
    card: Option<KnownCard>,
}

#[derive(Clone, Default)]
struct SlotInfo {
    card: Option<CardInfo>,
    unknown_card: bool,
}

#[derive(Clone)]
struct KnownCard {
    driver: Driver,
    info: CardInfo,
}

#[derive(Clone)]
struct CachedCard {
    driver: Driver,
    atr: Vec<u8>,
    info: CardInfo,
}

impl Broker {
    /// A broker over `backend`. Nothing is touched until the first call.
    pub fn new(backend: impl ReaderBackend) -> Self {
        let (events, _) = broadcast::channel(64);
        Broker {
            backend: Box::new(backend),
            slots: Mutex::new(Vec::new()),
            cache: Mutex::new(VecDeque::new()),
            events,
            totals: Mutex::new(OpStats::default()),
            pad_use: PadUse::default(),
        }
    }

    /// The broker using readers' PIN pads as `pad_use` says.
    pub fn with_pin_pad(mut self, pad_use: PadUse) -> Self {
        self.pad_use = pad_use;
        self
    }

    /// The PIN pad's control code for this operation: the reader's `FEATURE_VERIFY_PIN_DIRECT` unless pads are
    /// off; refused under `require` when the reader has none.
    fn pad_of(&self, slot: &Slot, held: &mut SlotCard) -> Result<Option<u32>, AgentError> {
        if self.pad_use == PadUse::Off {
            return Ok(None);
        }
        let conn = held.conn.as_mut().ok_or(AgentError::CardRemoved)?;
        let code = conn.features().map_err(transport_error)?.verify_pin_direct();
        match (code, self.pad_use) {
            (None, PadUse::Require) => Err(AgentError::NoPinPad(slot.name.clone())),
            (code, _) => Ok(code),
        }
    }

    /// Starts the thread that follows insertions and removals and publishes them as [`CardEvent`]s.
    /// It stops soon after `stop` is set. When the PC/SC service goes away it reports every reader as
    /// removed and waits for the service to come back.
    pub fn spawn_watcher(self: &Arc<Self>, stop: Arc<AtomicBool>) -> std::io::Result<std::thread::JoinHandle<()>> {
        let broker = Arc::clone(self);
        std::thread::Builder::new().name("card-watcher".into()).spawn(move || broker.watch(&stop))
    }

    fn watch(&self, stop: &AtomicBool) {
        let mut watcher: Option<Box<dyn ReaderWatcher>> = None;
        let mut service_down_logged = false;
        while !stop.load(Ordering::Relaxed) {
            let w = match watcher.as_mut() {
                Some(w) => w,
                None => match self.backend.watcher() {
                    Ok(w) => {
                        service_down_logged = false;
                        watcher.insert(w)
                    }
                    Err(e) => {
                        if !service_down_logged {
                            tracing::warn!(error = %e, "card watcher: PC/SC not available; waiting for it");
                            service_down_logged = true;
                        }
                        // Windows: until the Smart Card service starts again (a reader plugged in), not a fixed
                        // pause; within a tick either way, so that a stop is not kept waiting.
                        self.backend.wait_for_service(WATCH_TICK);
                        continue;
                    }
                },
            };
            match w.wait(WATCH_TICK) {
                Ok(changes) => {
                    for change in changes {
                        self.apply(change);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "card watcher: PC/SC failed; every reader is gone until it is back");
                    watcher = None;
                    self.drop_all_readers();
                    std::thread::sleep(WATCH_TICK);
                }
            }
        }
    }

    fn apply(&self, change: ReaderChange) {
        tracing::debug!(?change, "reader change");
        match change {
            ReaderChange::ReaderAdded(reader) => {
                self.slot_for(&reader);
                self.emit(CardEvent::ReaderAdded { reader });
            }
            ReaderChange::ReaderRemoved(reader) => {
                let removed = {
                    let mut slots = lock(&self.slots);
                    let at = slots.iter().position(|s| s.name == reader);
                    at.map(|i| slots.remove(i))
                };
                if let Some(slot) = removed {
                    self.forget_card(&slot);
                }
                self.emit(CardEvent::ReaderRemoved { reader });
            }
            ReaderChange::CardInserted { reader, .. } => {
                let slot = self.slot_for(&reader);
                // A swap can arrive as "inserted" without a removal in between: start clean.
                self.forget_card(&slot);
                let (kind, card_id) = match self.identify(&slot) {
                    Ok(Some(card)) => (Some(card.info.kind), Some(card.info.card_id)),
                    Ok(None) => (None, None),
                    Err(e) => {
                        tracing::warn!(reader = %reader, error = %e, "could not read the inserted card");
                        (None, None)
                    }
                };
                self.emit(CardEvent::Inserted { reader, kind, card_id });
            }
            ReaderChange::CardRemoved(reader) => {
                if let Some(slot) = self.find_slot(&reader) {
                    self.forget_card(&slot);
                }
            }
        }
    }

    fn drop_all_readers(&self) {
        let slots = std::mem::take(&mut *lock(&self.slots));
        for slot in slots {
            self.forget_card(&slot);
            self.emit(CardEvent::ReaderRemoved { reader: slot.name.clone() });
        }
    }

    /// Forgets the card in `slot` (its connection too) and reports it removed, once.
    fn forget_card(&self, slot: &Slot) {
        let previous = {
            let mut info = lock(&slot.info);
            let previous = info.card.take().map(|c| c.card_id);
            let was_present = previous.is_some() || info.unknown_card;
            info.unknown_card = false;
            was_present.then_some(previous)
        };
        // The operation lock may be held by a sign that is about to fail with "removed"; it clears
        // its own state then. Otherwise clear it now.
        if let Some(mut card) = try_lock(&slot.op) {
            *card = SlotCard::default();
        }
        if let Some(card_id) = previous {
            self.emit(CardEvent::Removed { reader: slot.name.clone(), card_id });
        }
    }

    fn emit(&self, event: CardEvent) {
        // No subscriber is not an error: nobody is listening yet.
        let _ = self.events.send(event);
    }

    fn find_slot(&self, reader: &str) -> Option<Arc<Slot>> {
        lock(&self.slots).iter().find(|s| s.name == reader).cloned()
    }

    fn slot_for(&self, reader: &str) -> Arc<Slot> {
        let mut slots = lock(&self.slots);
        if let Some(slot) = slots.iter().find(|s| s.name == reader) {
            return Arc::clone(slot);
        }
        let slot = Arc::new(Slot {
            name: reader.to_owned(),
            op: Mutex::new(SlotCard::default()),
            info: Mutex::new(SlotInfo::default()),
        });
        slots.push(Arc::clone(&slot));
        slot
    }

    /// Brings the slot list in line with the backend's readers and identifies any card not yet
    /// identified. Listing (`wait = false`) skips a slot another thread is busy with; finding the card
    /// for an operation (`wait = true`) waits for it, since that thread may be identifying the very
    /// card asked for.
    fn refresh(&self, wait: bool) -> Result<Vec<Arc<Slot>>, AgentError> {
        let names = self.backend.readers().map_err(transport_error)?;
        {
            let mut slots = lock(&self.slots);
            slots.retain(|s| names.contains(&s.name));
        }
        let slots: Vec<Arc<Slot>> = names.iter().map(|n| self.slot_for(n)).collect();
        for slot in &slots {
            if lock(&slot.info).card.is_some() {
                continue;
            }
            let guard = if wait { Some(lock(&slot.op)) } else { try_lock(&slot.op) };
            if let Some(mut guard) = guard
                && let Err(e) = self.identify_held(slot, &mut guard)
            {
                tracing::debug!(reader = %slot.name, error = %e, "card not identified");
            }
        }
        Ok(slots)
    }

    /// Reads again what is in an idle slot whose card is believed known, for when the broker may have
    /// missed a swap. Events go out only when the card really changed.
    fn revalidate(&self, slot: &Slot) {
        let Some(mut guard) = try_lock(&slot.op) else { return };
        let before = lock(&slot.info).card.as_ref().map(|c| c.card_id.clone());
        *guard = SlotCard::default();
        let after = self.identify_held(slot, &mut guard).ok().flatten();
        let after_id = after.as_ref().map(|c| c.info.card_id.clone());
        if before != after_id {
            if let Some(card_id) = before {
                self.emit(CardEvent::Removed { reader: slot.name.clone(), card_id: Some(card_id) });
            }
            if let Some(card) = after {
                self.emit(CardEvent::Inserted {
                    reader: slot.name.clone(),
                    kind: Some(card.info.kind),
                    card_id: after_id,
                });
            }
        }
    }

    /// Identifies the card in `slot` (probe, then cache or read). A slot busy with an operation is
    /// skipped: whoever holds it identifies the card itself.
    fn identify(&self, slot: &Slot) -> Result<Option<KnownCard>, AgentError> {
        let Some(mut guard) = try_lock(&slot.op) else { return Ok(None) };
        self.identify_held(slot, &mut guard)
    }

    /// [`identify`](Self::identify) with the operation lock held; keeps the listing snapshot in step.
    fn identify_held(&self, slot: &Slot, guard: &mut SlotCard) -> Result<Option<KnownCard>, AgentError> {
        if let Some(card) = guard.card.clone() {
            return Ok(Some(card));
        }
        let result = self.identify_locked(&slot.name, guard);
        let mut info = lock(&slot.info);
        *info = match &result {
            Ok(Some(card)) => SlotInfo { card: Some(card.info.clone()), unknown_card: false },
            Ok(None) => SlotInfo { card: None, unknown_card: guard.conn.is_some() },
            Err(_) => SlotInfo::default(),
        };
        result
    }

    fn identify_locked(&self, reader: &str, slot: &mut SlotCard) -> Result<Option<KnownCard>, AgentError> {
        if slot.conn.is_none() {
            match self.connect(reader) {
                Ok(conn) => slot.conn = Some(conn),
                Err(TransportError::NoCard | TransportError::Removed) => return Ok(None),
                Err(e) => return Err(transport_error(e)),
            }
        }
        let candidates: Vec<CachedCard> = lock(&self.cache).iter().cloned().collect();
        let mut stats = OpStats::default();
        // A card just inserted is what other programs touch first (retry.rs): identification waits them out too.
        let mut others = retry::OtherPrograms::default();
        let known = loop {
            match with_session_counted(slot, &mut stats, |atr, s| recognise(s, atr, &candidates)) {
                Err(DriverError::Transport(e @ (TransportError::Reset | TransportError::Sharing))) => {
                    match others.after(&e) {
                        retry::Next::Reconnect => {
                            if let Some(Err(e)) = slot.conn.as_mut().map(|c| c.reconnect()) {
                                break Err(DriverError::Transport(e));
                            }
                        }
                        retry::Next::Wait(pause) => std::thread::sleep(pause),
                        retry::Next::GiveUp => break Err(DriverError::Transport(others.exhausted(e))),
                    }
                }
                other => break other,
            }
        };
        self.account(&stats);
        let known = match known {
            Ok(known) => known,
            Err(e) => {
                *slot = SlotCard::default();
                return Err(driver_error(e));
            }
        };
        let Some(Recognised { driver, info, atr, from_cache }) = known else { return Ok(None) };
        tracing::info!(reader, kind = ?info.kind, card_id = %info.card_id, from_cache, "card identified");
        self.remember(CachedCard { driver, atr, info: info.clone() });
        let card = KnownCard { driver, info };
        slot.card = Some(card.clone());
        Ok(Some(card))
    }

    fn account(&self, s: &OpStats) {
        let mut t = lock(&self.totals);
        t.apdus = t.apdus.saturating_add(s.apdus);
        t.in_card += s.in_card;
    }

    /// APDUs and card time since the broker started, identification included (for the benchmark).
    pub fn totals(&self) -> OpStats {
        *lock(&self.totals)
    }

    fn remember(&self, entry: CachedCard) {
        let mut cache = lock(&self.cache);
        cache.retain(|c| c.info.card_id != entry.info.card_id);
        cache.push_front(entry);
        cache.truncate(CACHE_CARDS);
    }

    /// The slot holding the card a request is for. When none matches, idle readers are read again
    /// once: a card may have been swapped without the watcher having said so yet (or without a
    /// watcher, in one-shot CLI use).
    fn target(&self, reader: Option<&str>, kind: CardKind) -> Result<Arc<Slot>, AgentError> {
        match self.target_once(reader, kind) {
            Err(AgentError::NoCard(_) | AgentError::WrongCard { .. }) => {
                for slot in lock(&self.slots).clone() {
                    self.revalidate(&slot);
                }
                self.target_once(reader, kind)
            }
            other => other,
        }
    }

    fn target_once(&self, reader: Option<&str>, kind: CardKind) -> Result<Arc<Slot>, AgentError> {
        let slots = self.refresh(true)?;
        if let Some(name) = reader {
            let slot =
                slots.into_iter().find(|s| s.name == name).ok_or_else(|| AgentError::NoSuchReader(name.into()))?;
            return match held(&slot) {
                Held::Card(k) if k == kind => Ok(slot),
                Held::Nothing => Err(AgentError::NoCard(kind)),
                other => Err(wrong_card(kind, other, &slot.name)),
            };
        }
        let (matching, others): (Vec<_>, Vec<_>) = slots
            .into_iter()
            .map(|s| (held(&s), s))
            .filter(|(h, _)| *h != Held::Nothing)
            .partition(|(h, _)| *h == Held::Card(kind));
        let mut matching: Vec<Arc<Slot>> = matching.into_iter().map(|(_, s)| s).collect();
        match (matching.pop(), matching.is_empty()) {
            (Some(slot), true) => Ok(slot),
            (Some(last), false) => {
                let mut readers: Vec<String> = matching.iter().map(|s| s.name.clone()).collect();
                readers.push(last.name.clone());
                Err(AgentError::SeveralCards { kind, readers })
            }
            // None of the kind asked for: another card in a reader is most likely the one meant (a physician's
            // HPKI card left in when the patient's My Number card is asked for), and the person is told so.
            (None, _) => match others.first() {
                Some((h, slot)) => Err(wrong_card(kind, *h, &slot.name)),
                None => Err(AgentError::NoCard(kind)),
            },
        }
    }

    /// PIN status, PIN, VERIFY + sign; the slot's operation lock is held throughout. The key follows from what
    /// is signed ([`ToSign::role`]): a login the authentication key, a document the signature key, nothing else.
    fn sign_held(
        &self,
        slot: &Slot,
        guard: &mut SlotCard,
        card: KnownCard,
        to_sign: ToSign<'_, '_>,
        allow_last_try: bool,
        prompt: &dyn PinPrompt,
    ) -> Result<Signed, AgentError> {
        let driver = card.driver;
        let role = to_sign.role();
        let mut stats = OpStats::default();

        // 1. The retry counter, without spending a try, so the prompt can warn before the last one.
        let status = self.run(slot, guard, &mut stats, |s| driver.pin_status(s, role))?;
        let tries_left = guard_tries(status, allow_last_try)?;

        // 2. The PIN, from the agent's own prompt only, checked against the card's format before any try is
        //    spent; or on the reader's PIN pad, which completes the VERIFY itself (the page only says where to type).
        let holder = driver.holder_name(&card.info.certificates);
        let pad = self.pad_of(slot, guard)?;
        let question = PinQuestion {
            kind: card.info.kind,
            role,
            tries_left,
            holder,
            on_pad: pad.is_some(),
            card_id: Some(card.info.card_id.clone()),
        };
        let typed;
        let pin_source = match pad {
            Some(code) => {
                let announced = prompt.on_pad(&question)?;
                let labels = registry::pin_labels(card.info.kind, role);
                let length = PinLength { min: labels.min_len, max: labels.max_len };
                PinSource::Pad(PadEntry { code, length, timeout_secs: announced.timeout_secs, lang: announced.lang })
            }
            None => {
                let pin = prompt.ask(&question)?;
                typed = driver.check_pin(role, &pin).map_err(|e| AgentError::BadPinFormat(e.to_string()))?;
                PinSource::Typed(&typed)
            }
        };

        // 3. VERIFY and sign in one transaction.
        let known = card.info.certificates.iter().find(|c| c.role == role).map(|c| c.chain.clone());
        // What the card is handed, and how its answer is read, follow from its key's algorithm (D153), known from
        // the certificate: today's RSA cards, or ECDSA P-384 in the same file layout.
        let mut algorithm = None;
        let out = match to_sign {
            ToSign::Login(message) => {
                let key = key_algorithm(known.as_deref())?;
                algorithm = Some(key);
                let input = hcpki_agent_protocol::card_input(key, message);
                self.run(slot, guard, &mut stats, |s| {
                    driver.sign(s, KeyRole::Auth, &pin_source, &input, known.is_none())
                })
            }
            ToSign::Document(derive) => {
                // The callback's own error is kept whole (it says what to do); the driver only learns "refused".
                let mut refusal = None;
                let mut to_input = |chain: &[Vec<u8>]| {
                    let key = key_algorithm(Some(chain)).map_err(|e| DriverError::Refused(e.to_string()))?;
                    algorithm = Some(key);
                    match derive(chain) {
                        Ok(bytes) => Ok(hcpki_agent_protocol::card_input(key, &bytes)),
                        Err(e) => {
                            let reason = e.to_string();
                            refusal = Some(e);
                            Err(DriverError::Refused(reason))
                        }
                    }
                };
                let out = self.run(slot, guard, &mut stats, |s| {
                    driver.sign_derived(s, &pin_source, known.as_deref(), &mut to_input)
                });
                match (out, refusal) {
                    (Err(_), Some(e)) => Err(e),
                    (out, _) => out,
                }
            }
        };
        if pad.is_some() {
            prompt.pad_done();
        }
        // A typed PIN is zeroized when `typed` goes at the end of this function.
        let mut out = out?;
        // The card's answer in the form X.509 carries (an ECDSA card's r ‖ s as DER): the one conversion.
        if let Some(key) = algorithm {
            out.signature = hcpki_pkix::card_signature::from_card_answer(key, &out.signature).map_err(|e| {
                AgentError::Card(format!(
                    "the card's signature is malformed ({e}): nothing was handed out; report the card"
                ))
            })?;
        }
        // The authentication certificate read with the signature names the card that signed: the one identified
        // (the card id is its hash). Another one means the card was swapped unseen; nothing is handed out.
        if let Some(auth) = &out.authentication_certificate
            && driver::card_id(auth) != card.info.card_id
        {
            return Err(AgentError::Card(
                "the card in the reader is not the one the agent identified (swapped during the operation): \
                 nothing was handed out; take the card out, insert it and sign again"
                    .into(),
            ));
        }
        let chain = out.chain.or(known).unwrap_or_default();
        Ok(Signed {
            reader: slot.name.clone(),
            kind: card.info.kind,
            card_id: card.info.card_id.clone(),
            signature: out.signature,
            chain,
            apdus: stats.apdus,
            card_micros: u64::try_from(stats.in_card.as_micros()).unwrap_or(u64::MAX),
            authentication_certificate: out.authentication_certificate,
            document: None,
            documents: Vec::new(),
        })
    }

    /// Runs `f` on the card of `kind` (in `reader`, or the only one of its kind) under its operation lock.
    fn on_card<T>(
        &self,
        reader: Option<&str>,
        kind: CardKind,
        f: impl FnOnce(&Broker, &Slot, &mut SlotCard, KnownCard) -> Result<T, AgentError>,
    ) -> Result<T, AgentError> {
        let slot = self.target(reader, kind)?;
        let mut guard = slot.op.lock().unwrap_or_else(PoisonError::into_inner);
        let card = self.identify_held(&slot, &mut guard)?.ok_or(AgentError::NoCard(kind))?;
        if card.info.kind != kind {
            return Err(wrong_card(kind, Held::Card(card.info.kind), &slot.name));
        }
        f(self, &slot, &mut guard, card)
    }

    /// Whether the reader holding the card of `kind` (in `reader`, when given) has a PIN pad for secure PIN entry
    /// (PC/SC Part 10 `FEATURE_VERIFY_PIN_DIRECT`), as its driver answers the feature request.
    pub fn has_pin_pad(&self, reader: Option<&str>, kind: CardKind) -> Result<bool, AgentError> {
        self.on_card(reader, kind, |_, _, held, _| {
            let conn = held.conn.as_mut().ok_or(AgentError::NoCard(kind))?;
            let features = conn.features().map_err(|e| AgentError::CardUnreachable(e.to_string()))?;
            Ok(features.verify_pin_direct().is_some())
        })
    }

    /// A PIN's retry counter, spending no try.
    pub fn pin_status(&self, reader: Option<&str>, kind: CardKind, role: KeyRole) -> Result<PinStatus, AgentError> {
        self.on_card(reader, kind, |broker, slot, held, card| {
            broker.run(slot, held, &mut OpStats::default(), |s| card.driver.pin_status(s, role))
        })
    }

    /// The basic four items (氏名・住所・生年月日・性別) from a My Number card's 券面事項入力補助 AP, after
    /// its PIN. `ask` gets the tries left; with one left it is not asked unless `allow_last_try`.
    pub fn basic_attributes(
        &self,
        reader: Option<&str>,
        allow_last_try: bool,
        ask: &dyn Fn(Option<u8>) -> Result<Pin, AgentError>,
    ) -> Result<BasicAttributes, AgentError> {
        let kind = registry::basic_attributes_kind()
            .ok_or(AgentError::Card("no card kind holds the basic four items".into()))?;
        self.on_card(reader, kind, |broker, slot, held, card| {
            let mut stats = OpStats::default();
            let status = broker.run(slot, held, &mut stats, |s| card.driver.text_pin_status(s))?;
            let tries_left = guard_tries(status, allow_last_try)?;
            let pin = ask(tries_left)?;
            let pin = TextPin::new(&pin).map_err(|e| AgentError::BadPinFormat(e.to_string()))?;
            broker.run(slot, held, &mut stats, |s| card.driver.read_basic_attributes(s, &pin))
        })
    }

    /// Runs one driver sequence in one transaction. Another program's reset or exclusive hold is answered as
    /// [`retry`] says (reconnect and run the sequence again from its application SELECT, or wait); a removed card
    /// clears the slot and is reported as removed.
    fn run<T>(
        &self,
        slot: &Slot,
        card: &mut SlotCard,
        stats: &mut OpStats,
        mut f: impl FnMut(&mut Session<'_>) -> Result<T, DriverError>,
    ) -> Result<T, AgentError> {
        let mut others = retry::OtherPrograms::default();
        loop {
            let mut one = OpStats::default();
            let result = with_session_counted(card, &mut one, |_, s| f(s));
            self.account(&one);
            stats.apdus = stats.apdus.saturating_add(one.apdus);
            stats.in_card += one.in_card;
            match result {
                Err(DriverError::Transport(e @ (TransportError::Reset | TransportError::Sharing))) => {
                    match others.after(&e) {
                        retry::Next::Reconnect => {
                            tracing::info!(reader = %slot.name, "another program reset the card: reconnecting");
                            if let Some(conn) = card.conn.as_mut() {
                                conn.reconnect().map_err(transport_error)?;
                            }
                        }
                        retry::Next::Wait(pause) => {
                            tracing::info!(reader = %slot.name, ?pause, "another program holds the card: waiting");
                            std::thread::sleep(pause);
                        }
                        retry::Next::GiveUp => return Err(transport_error(others.exhausted(e))),
                    }
                }
                Err(DriverError::Transport(TransportError::Removed | TransportError::NoCard)) => {
                    *card = SlotCard::default();
                    let previous = {
                        let mut info = lock(&slot.info);
                        info.unknown_card = false;
                        info.card.take().map(|c| c.card_id)
                    };
                    if let Some(card_id) = previous {
                        self.emit(CardEvent::Removed { reader: slot.name.clone(), card_id: Some(card_id) });
                    }
                    return Err(AgentError::CardRemoved);
                }
                other => return other.map_err(driver_error),
            }
        }
    }

    /// Connects to the card in `reader`, waiting out another program's exclusive hold as [`retry`] says (on Windows,
    /// a card just inserted is often held for a moment by Windows' own components or the vendor's middleware).
    fn connect(&self, reader: &str) -> Result<Box<dyn Connection>, TransportError> {
        let mut others = retry::OtherPrograms::default();
        loop {
            match self.backend.connect(reader) {
                Err(e @ TransportError::Sharing) => match others.after(&e) {
                    retry::Next::Wait(pause) => std::thread::sleep(pause),
                    _ => return Err(others.exhausted(e)),
                },
                other => return other,
            }
        }
    }
}

impl CardService for Broker {
    fn readers(&self) -> Result<Vec<ReaderInfo>, AgentError> {
        let slots = self.refresh(false)?;
        Ok(slots
            .iter()
            .map(|slot| {
                let info = lock(&slot.info).clone();
                ReaderInfo { name: slot.name.clone(), card: info.card, unknown_card: info.unknown_card }
            })
            .collect())
    }

    fn sign(&self, request: &SignRequest, prompt: &dyn PinPrompt) -> Result<Signed, AgentError> {
        self.on_card(request.reader.as_deref(), request.kind, |broker, slot, held, card| {
            broker.sign_held(slot, held, card, ToSign::Login(&request.message), request.allow_last_try, prompt)
        })
    }

    fn sign_document(
        &self,
        request: &DocumentSignRequest,
        prompt: &dyn PinPrompt,
        derive: &mut DeriveToBeSigned<'_>,
    ) -> Result<Signed, AgentError> {
        self.on_card(request.reader.as_deref(), request.kind, |broker, slot, held, card| {
            broker.sign_held(slot, held, card, ToSign::Document(derive), request.allow_last_try, prompt)
        })
    }

    fn subscribe(&self) -> broadcast::Receiver<CardEvent> {
        self.events.subscribe()
    }
}

/// What a signature is over, which alone decides the key: a login message for the authentication key, or a
/// document's to-be-signed bytes, derived from the signature key's chain, for the signature key.
enum ToSign<'a, 'b> {
    Login(&'a [u8]),
    Document(&'a mut DeriveToBeSigned<'b>),
}

impl ToSign<'_, '_> {
    fn role(&self) -> KeyRole {
        match self {
            ToSign::Login(_) => KeyRole::Auth,
            ToSign::Document(_) => KeyRole::Sign,
        }
    }
}

/// A card [`recognise`] identified.
struct Recognised {
    driver: Driver,
    info: CardInfo,
    atr: Vec<u8>,
    /// Confirmed as a cached card, its certificates not read again.
    from_cache: bool,
}

/// Identifies the card on `s` (ATR `atr`): the driver by probing AIDs, then a cached card confirmed with three APDUs,
/// else its certificates read.
fn recognise(s: &mut Session<'_>, atr: &[u8], candidates: &[CachedCard]) -> Result<Option<Recognised>, DriverError> {
    let Some(driver) = registry::probe(s)? else { return Ok(None) };
    for cached in candidates.iter().filter(|c| c.driver == driver && c.atr == atr).take(RECOGNISE_TRIES) {
        let Some(cert) = driver.identity_certificate(&cached.info.certificates) else { continue };
        if driver.confirm_identity(s, cert)? {
            return Ok(Some(Recognised { driver, info: cached.info.clone(), atr: atr.to_vec(), from_cache: true }));
        }
    }
    let certificates = driver.read_certificates(s)?;
    let Some(cert) = driver.identity_certificate(&certificates) else {
        return Err(DriverError::Malformed { step: "identify", reason: "the card holds no certificate".into() });
    };
    let info = CardInfo { kind: driver.kind(), card_id: driver::card_id(cert), certificates };
    Ok(Some(Recognised { driver, info, atr: atr.to_vec(), from_cache: false }))
}

/// What a reader holds, as the listing snapshot knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Held {
    Nothing,
    Card(CardKind),
    /// A card no driver serves.
    Unknown,
}

fn held(slot: &Slot) -> Held {
    let info = lock(&slot.info);
    match (&info.card, info.unknown_card) {
        (Some(card), _) => Held::Card(card.kind),
        (None, true) => Held::Unknown,
        (None, false) => Held::Nothing,
    }
}

fn wrong_card(wanted: CardKind, found: Held, reader: &str) -> AgentError {
    let found = match found {
        Held::Card(k) => Some(k),
        Held::Nothing | Held::Unknown => None,
    };
    AgentError::WrongCard { wanted, found, reader: reader.to_owned() }
}

/// The tries left to tell the prompt, or why no PIN may be asked for: blocked, or only the last try
/// left without the caller's confirmation.
fn guard_tries(status: PinStatus, allow_last_try: bool) -> Result<Option<u8>, AgentError> {
    match status {
        PinStatus::Blocked => Err(AgentError::PinBlocked),
        PinStatus::TriesLeft(1) if !allow_last_try => Err(AgentError::LastTryNotConfirmed),
        PinStatus::TriesLeft(n) => Ok(Some(n)),
        PinStatus::Unknown => Ok(None),
    }
}

/// What operations cost at the card.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpStats {
    pub apdus: u32,
    /// Time spent waiting for the reader and the card.
    pub in_card: Duration,
}

/// One transaction on the slot's connection, its cost added to `stats`.
fn with_session_counted<T>(
    card: &mut SlotCard,
    stats: &mut OpStats,
    f: impl FnOnce(&[u8], &mut Session<'_>) -> Result<T, DriverError>,
) -> Result<T, DriverError> {
    let conn = card.conn.as_mut().ok_or(DriverError::Transport(TransportError::Removed))?;
    let atr = conn.atr().to_vec();
    let mut tx = conn.begin()?;
    let mut session = Session::new(&mut *tx);
    let result = f(&atr, &mut session);
    stats.apdus = stats.apdus.saturating_add(session.apdus());
    stats.in_card += session.in_card();
    result
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere must not take the agent down with it; the data is still consistent because
    // every critical section here only assigns whole values.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The lock if it is free (a poisoned lock counts as free), None while an operation holds it.
fn try_lock<T>(m: &Mutex<T>) -> Option<MutexGuard<'_, T>> {
    match m.try_lock() {
        Ok(guard) => Some(guard),
        Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
        Err(std::sync::TryLockError::WouldBlock) => None,
    }
}

fn transport_error(e: TransportError) -> AgentError {
    match e {
        e @ (TransportError::NoService(_) | TransportError::ResourceManager(_)) => AgentError::NoService(e.to_string()),
        TransportError::Removed | TransportError::NoCard => AgentError::CardRemoved,
        TransportError::UnknownReader(name) => AgentError::NoSuchReader(name),
        other => AgentError::CardUnreachable(other.to_string()),
    }
}

fn driver_error(e: DriverError) -> AgentError {
    match e {
        DriverError::Transport(t) => transport_error(t),
        DriverError::WrongPin { tries_left } => AgentError::WrongPin { tries_left },
        DriverError::PinBlocked => AgentError::PinBlocked,
        // The agent's page already said where to type; the pad's ends read as the page's own.
        DriverError::PadTimedOut(secs) => AgentError::PinTimedOut(secs.into()),
        DriverError::PadCancelled => AgentError::Cancelled,
        e @ DriverError::PadWrongLength => AgentError::BadPinFormat(e.to_string()),
        e @ DriverError::PadRefused(_) => AgentError::CardUnreachable(e.to_string()),
        DriverError::PinFormat(f) => AgentError::BadPinFormat(f.to_string()),
        DriverError::NoKey(role) => AgentError::NoKey(role),
        DriverError::Refused(reason) => AgentError::Document(reason),
        other => AgentError::Card(other.to_string()),
    }
}

mod retry;
#[cfg(test)]
mod tests;

/// The algorithm of the key whose chain is `chain` (end entity first), from its certificate (D153). A chain not at
/// hand yet means a card whose certificate is read with the PIN (none today for the authentication key): RSA, as
/// every such card is.
fn key_algorithm(chain: Option<&[Vec<u8>]>) -> Result<hcpki_agent_protocol::CardKeyAlgorithm, AgentError> {
    use der::Decode as _;
    let Some(der) = chain.and_then(<[Vec<u8>]>::first) else {
        return Ok(hcpki_agent_protocol::CardKeyAlgorithm::RsaPkcs1Sha256);
    };
    let certificate = x509_cert::Certificate::from_der(der)
        .map_err(|e| AgentError::Card(format!("the card's certificate cannot be read ({e}): re-insert the card")))?;
    hcpki_agent_protocol::CardKeyAlgorithm::of_certificate(&certificate)
        .map_err(|e| AgentError::Card(format!("{e}: this card cannot sign through the agent")))
}
