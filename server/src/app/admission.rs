//! Admission control in front of the expensive work of `hcpki serve` (issue #46 item 4, D138): the middleware
//! over the gate ([`gate`], HTTP-free), the refusal in each protocol's form ([`answer`]) and the counters
//! `/metrics` reports ([`counters`]). `crate::http::routes` says which routes are which kind of work.
//!
//! It sits inside the per-address rate limits (`super::rate_limit`): a request they refuse never reaches the
//! gate, so a rate-limited client cannot fill the lines. Health, metrics, OCSP and CRLs are not behind it.

pub mod answer;
pub mod counters;
pub mod gate;

pub use answer::Answer;
pub use gate::{Bounds, Work};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use gate::{Arrival, Gate, Refusal, Slot, Ticket, Wake};
use hcpki_pkix::time::Clock;
use std::sync::Arc;
use tokio::sync::oneshot;

/// The gate of one server, shared by every listener, with what the middleware needs around it.
#[derive(Debug)]
pub struct Admission {
    /// `None`: the gate is off (`[admission] enabled = false`, for the benchmark's reference run).
    gate: Option<Gate<Waker>>,
    clock: Arc<dyn Clock>,
    counters: Arc<counters::Counters>,
    /// How long an admitted request may run before it is abandoned with a 503 (D142).
    deadline: std::time::Duration,
    /// Test builds only: how long an admitted request holds its slot before its handler runs (within its
    /// deadline), so the tests can fill the gate with real requests (`HCPKI_TEST_ADMISSION_HOLD_MS`).
    #[cfg(feature = "test-hooks")]
    hold: Option<std::time::Duration>,
}

impl Admission {
    /// A gate with `bounds` (`None`: off) on `clock`, counting into `counters`, abandoning an admitted request
    /// still running after `deadline`.
    pub fn new(
        bounds: Option<Bounds>,
        deadline: std::time::Duration,
        clock: Arc<dyn Clock>,
        counters: Arc<counters::Counters>,
    ) -> Self {
        if let Some(bounds) = bounds {
            counters.set_bounds(bounds);
        }
        Self {
            gate: bounds.map(Gate::new),
            clock,
            counters,
            deadline,
            #[cfg(feature = "test-hooks")]
            hold: std::env::var("HCPKI_TEST_ADMISSION_HOLD_MS")
                .ok()
                .and_then(|ms| ms.parse().ok())
                .map(std::time::Duration::from_millis),
        }
    }

    /// The gate `[admission]` asks for on a machine of `cores` CPU cores (off when `enabled = false`), with the
    /// bounds said once in the log.
    pub fn from_config(
        config: &crate::config::AdmissionConfig,
        cores: usize,
        clock: Arc<dyn Clock>,
        counters: Arc<counters::Counters>,
    ) -> Self {
        let bounds = config.enabled.then(|| bounds(config, cores));
        match bounds {
            Some(b) => tracing::info!(
                running = b.running,
                waiting = b.waiting,
                max_wait_ms = b.max_wait_ms,
                cores,
                "admission gate in front of logins, enrollments and signatures"
            ),
            None => tracing::warn!("[admission] enabled = false: no bound on expensive requests (measuring only)"),
        }
        let deadline = std::time::Duration::from_secs(u64::from(config.request_deadline_secs));
        Self::new(bounds, deadline, clock, counters)
    }

    /// The middleware's state for routes of `work` that refuse in the form of `answer`.
    pub fn door(self: &Arc<Self>, work: Work, answer: Answer) -> Door {
        Door { admission: self.clone(), work, answer }
    }

    fn refused(&self, work: Work, refusal: Refusal, gate: &Gate<Waker>) {
        self.counters.refused(work, refusal.why);
        self.counters.set_load(gate.load());
        if refusal.episode_starts {
            let load = gate.load();
            tracing::warn!(
                work = work.as_str(),
                why = ?refusal.why,
                running = load.running,
                waiting = ?load.waiting,
                retry_after = refusal.retry_after,
                "overload: refusing expensive requests with 503 and Retry-After (counted in \
                 hcpki_admission_refused_total; [admission] in hcpki.toml sets the bounds)"
            );
        }
    }
}

/// The bounds of `config`, its unset keys following `cores` ([`Bounds::for_cores`]).
pub fn bounds(config: &crate::config::AdmissionConfig, cores: usize) -> Bounds {
    let default = Bounds::for_cores(cores);
    let or = |n: Option<u32>, d: usize| n.map_or(d, |n| usize::try_from(n).unwrap_or(usize::MAX));
    Bounds {
        running: or(config.running, default.running),
        waiting: or(config.waiting, default.waiting),
        max_wait_ms: i64::from(config.max_wait_ms),
    }
}

/// What one group of routes passes through: the gate, its kind of work, its refusal's form.
#[derive(Clone, Debug)]
pub struct Door {
    admission: Arc<Admission>,
    work: Work,
    answer: Answer,
}

/// Middleware: run the request in a slot of the gate, after waiting in its line if need be, or refuse it at
/// once with 503 and `Retry-After`; abandon it with a 503 when it is still running at the deadline.
pub async fn admit(State(door): State<Door>, request: Request, next: Next) -> Response {
    let admission = &door.admission;
    let Some(gate) = &admission.gate else { return within_deadline(&door, request, next).await };
    let (wake, woken) = oneshot::channel();
    let (slot, queued) = match gate.arrive(door.work, admission.clock.now_unix_ms(), Waker(wake)) {
        Arrival::Run(slot) => (slot, false),
        Arrival::Wait(ticket) => {
            admission.counters.set_load(gate.load());
            let line = InLine { admission, gate, ticket, woken: Some(woken) };
            match line.wait().await {
                Ok(slot) => (slot, true),
                Err(refusal) => return refuse(&door, gate, refusal, request).await,
            }
        }
        Arrival::Refuse(refusal) => return refuse(&door, gate, refusal, request).await,
    };
    admission.counters.admitted(slot.work(), queued);
    admission.counters.set_load(gate.load());
    let _running = Running { admission, gate, slot: Some(slot) };
    within_deadline(&door, request, next).await
}

/// How soon a client whose request ran out of time should come back: long enough for a database fail-over or
/// a reconnect to finish (docs/deployment.md's recovery table), short enough not to lose the client.
const OVERDUE_RETRY_AFTER_SECS: u64 = 5;

/// The request run to its end, or dropped at the deadline (D142): dropping its future rolls back its open
/// transaction and hands its connection back to the pool's release check, so the client's 503 is the truth —
/// nothing was recorded — whatever the database or signing device is doing.
async fn within_deadline(door: &Door, request: Request, next: Next) -> Response {
    let deadline = door.admission.deadline;
    let (headers, query) = (request.headers().clone(), request.uri().query().map(str::to_owned));
    let run = async {
        // The test builds' hold stands for a slow handler: it counts against the deadline.
        #[cfg(feature = "test-hooks")]
        if let Some(hold) = door.admission.hold {
            tokio::time::sleep(hold).await;
        }
        next.run(request).await
    };
    match tokio::time::timeout(deadline, run).await {
        Ok(response) => response,
        Err(_) => {
            door.admission.counters.overdue(door.work);
            tracing::warn!(
                work = door.work.as_str(),
                deadline_secs = deadline.as_secs(),
                "a request ran past the per-request deadline and was abandoned with 503 (the database or the \
                 signing device is not answering; [admission] request_deadline_secs sets the deadline)"
            );
            door.answer.overdue(deadline.as_secs(), OVERDUE_RETRY_AFTER_SECS, &headers, query.as_deref())
        }
    }
}

async fn refuse(door: &Door, gate: &Gate<Waker>, refusal: Refusal, request: Request) -> Response {
    door.admission.refused(door.work, refusal, gate);
    let (parts, body) = request.into_parts();
    // Read off what the client sent (bounded), so a keep-alive connection stays usable for its retry.
    crate::web::body::discard(body).await;
    door.answer.refusal(refusal.retry_after, &parts.headers, parts.uri.query())
}

/// The slot's way to a waiting request.
#[derive(Debug)]
struct Waker(oneshot::Sender<Slot>);

impl Wake for Waker {
    fn wake(self, slot: Slot) -> Result<(), Slot> {
        self.0.send(slot)
    }
}

/// A request in its line. Dropped before its slot came (its client hung up), it leaves the line; if the slot
/// came meanwhile, it gives the slot back.
struct InLine<'a> {
    admission: &'a Admission,
    gate: &'a Gate<Waker>,
    ticket: Ticket,
    woken: Option<oneshot::Receiver<Slot>>,
}

impl InLine<'_> {
    /// The slot, or the refusal after `max_wait_ms` without one.
    async fn wait(mut self) -> Result<Slot, Refusal> {
        let max_wait = std::time::Duration::from_millis(self.gate.bounds().max_wait_ms.unsigned_abs());
        if let Some(woken) = self.woken.as_mut()
            && let Ok(Ok(slot)) = tokio::time::timeout(max_wait, woken).await
        {
            self.woken = None;
            return Ok(slot);
        }
        // The wait ran out (the gate never drops a waiter without handing it a slot): leave the line, unless
        // the slot came in the meantime.
        let now = self.admission.clock.now_unix_ms();
        let refusal = self.gate.withdraw(&self.ticket, now);
        let slot = self.woken.take().and_then(|mut w| w.try_recv().ok());
        match (refusal, slot) {
            (_, Some(slot)) => Ok(slot),
            (Some(refusal), None) => Err(refusal),
            (None, None) => Err(Refusal { retry_after: 1, why: gate::Why::Waited, episode_starts: false }),
        }
    }
}

impl Drop for InLine<'_> {
    /// The client hung up while waiting: leave the line; a slot handed over meanwhile goes back at once.
    fn drop(&mut self) {
        if let Some(mut woken) = self.woken.take() {
            let now = self.admission.clock.now_unix_ms();
            if self.gate.withdraw(&self.ticket, now).is_none()
                && let Ok(slot) = woken.try_recv()
            {
                self.gate.finish(slot, now);
            }
            self.admission.counters.set_load(self.gate.load());
        }
    }
}

/// A running request's slot, given back when the request is answered, fails or is dropped.
struct Running<'a> {
    admission: &'a Admission,
    gate: &'a Gate<Waker>,
    slot: Option<Slot>,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            self.gate.finish(slot, self.admission.clock.now_unix_ms());
            self.admission.counters.set_load(self.gate.load());
        }
    }
}
